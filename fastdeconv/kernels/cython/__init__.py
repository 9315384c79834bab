"""Cython backend: extension modules compiled from ``csrc/`` when the package is installed.

Same names and arguments as ``fastdeconv.kernels.numba``; the kernels (``csrc/*.pyx``)
check nothing and allocate nothing but the per-block sums of a parallel reduction and
the per-work-item scratch of the 2-D direct kernels (sizes in ``kernels/numba/direct.py``)
(contracts in ``kernels/numba/direct.py`` and ``kernels/numba/elementwise.py``).
"""
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


def correlate_terms_parallel(x, offsets, weights, in_off, w_off, out, o_off, ncols, chunk):
    # The OpenMP thread count is a C global of the extension: set it on every call so a
    # later fastdeconv.set_num_threads() takes effect, as the Numba wrapper does.
    direct.set_num_threads(get_num_threads())
    direct.correlate_terms_parallel(x, offsets, weights, in_off, w_off, out, o_off, ncols,
                                     chunk)


def correlate2d_mapped_parallel(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out,
                                OH, OW, lo, hi, edges, band, chunk):
    direct.set_num_threads(get_num_threads())
    direct.correlate2d_mapped_parallel(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill,
                                       out, OH, OW, lo, hi, edges, band, chunk)


def correlate2d_sweep_parallel(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH, OW, clo,
                               chi, band, strip):
    direct.set_num_threads(get_num_threads())
    direct.correlate2d_sweep_parallel(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH,
                                      OW, clo, chi, band, strip)


# Elementwise kernels: the serial variant below the thresholds or with one thread,
# else the threaded one (same result); see kernels/_dispatch.py.
_d = elementwise_dispatchers(_ew, get_num_threads, _ew.set_num_threads)
rl_ratio = _d.rl_ratio
rl_update = _d.rl_update
tv_gradient = _d.tv_gradient
tv_denominator = _d.tv_denominator
biggs_extrapolate = _d.biggs_extrapolate
biggs_dots = _d.biggs_dots
spectrum_multiply = _d.spectrum_multiply

# Memory passes (fills, clips, checks, padded copies), dispatched the same way.
_m = memory_dispatchers(_mem, get_num_threads, _mem.set_num_threads)
all_finite = _m.all_finite
fill = _m.fill
clip = _m.clip
copy_pad_rows = _m.copy_pad_rows
