"""Cython backend: extension modules compiled from ``csrc/`` when the package is installed.

Same names and arguments as ``fastdeconv.kernels.numba``; the kernels (``csrc/*.pyx``)
check nothing and allocate nothing (contracts in ``kernels/numba/direct.py`` and
``kernels/numba/elementwise.py``).
"""
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
