"""Numba backend: kernels compile lazily on first call (and are cached on disk)."""
import numba

from ..._backends import get_num_threads
from . import direct
from .elementwise import (biggs_dots, biggs_extrapolate, rl_ratio, rl_update,
                          tv_denominator, tv_gradient)

__all__ = ["correlate_terms", "correlate_terms_parallel", "correlate2d_mapped",
           "correlate2d_mapped_parallel", "correlate2d_sweep", "correlate2d_sweep_parallel", "rl_ratio", "rl_update",
           "tv_gradient", "tv_denominator", "biggs_extrapolate", "biggs_dots"]

correlate_terms = direct.correlate_terms
correlate2d_mapped = direct.correlate2d_mapped
correlate2d_sweep = direct.correlate2d_sweep


def _set_threads():
    # numba.set_num_threads is per calling thread, so it is set on every parallel call.
    numba.set_num_threads(min(get_num_threads(), numba.config.NUMBA_NUM_THREADS))


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
