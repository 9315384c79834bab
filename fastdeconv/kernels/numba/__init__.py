"""Numba backend: kernels compile lazily on first call (and are cached on disk)."""
import numba

from ..._backends import get_num_threads
from . import direct
from . import elementwise as _ew
from . import memory as _mem
from .._dispatch import elementwise_dispatchers, memory_dispatchers

__all__ = ["correlate_terms", "correlate_terms_parallel", "correlate2d_mapped",
           "correlate2d_mapped_parallel", "correlate2d_sweep", "correlate2d_sweep_parallel", "rl_ratio", "rl_update",
           "tv_gradient", "tv_denominator", "biggs_extrapolate", "biggs_dots",
           "spectrum_multiply", "all_finite", "fill", "clip", "copy_pad_rows"]

correlate_terms = direct.correlate_terms
correlate2d_mapped = direct.correlate2d_mapped
correlate2d_sweep = direct.correlate2d_sweep


def _set_threads():
    # numba.set_num_threads is per calling thread, so it is set on every parallel call.
    numba.set_num_threads(min(get_num_threads(), numba.config.NUMBA_NUM_THREADS))


# Elementwise kernels: the serial variant below the thresholds or with one thread,
# else the threaded one (same result); see kernels/_dispatch.py.
_d = elementwise_dispatchers(
    _ew, lambda: min(get_num_threads(), numba.config.NUMBA_NUM_THREADS), numba.set_num_threads)
rl_ratio = _d.rl_ratio
rl_update = _d.rl_update
tv_gradient = _d.tv_gradient
tv_denominator = _d.tv_denominator
biggs_extrapolate = _d.biggs_extrapolate
biggs_dots = _d.biggs_dots
spectrum_multiply = _d.spectrum_multiply

# Memory passes (fills, clips, checks, padded copies), dispatched the same way.
_m = memory_dispatchers(
    _mem, lambda: min(get_num_threads(), numba.config.NUMBA_NUM_THREADS), numba.set_num_threads)
all_finite = _m.all_finite
fill = _m.fill
clip = _m.clip
copy_pad_rows = _m.copy_pad_rows


def correlate_terms_parallel(x, offsets, weights, in_off, w_off, out, o_off, ncols, chunk):
    _set_threads()
    direct.correlate_terms_parallel(x, offsets, weights, in_off, w_off, out, o_off, ncols,
                                     chunk)


def correlate2d_mapped_parallel(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out,
                                OH, OW, lo, hi, edges, band, chunk):
    _set_threads()
    direct.correlate2d_mapped_parallel(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill,
                                       out, OH, OW, lo, hi, edges, band, chunk)


def correlate2d_sweep_parallel(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH, OW, clo,
                               chi, band, strip):
    _set_threads()
    direct.correlate2d_sweep_parallel(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH,
                                      OW, clo, chi, band, strip)
