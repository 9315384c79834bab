"""Cython backend: extension modules compiled from ``csrc/`` when the package is installed.

Same names and arguments as ``fastdeconv.kernels.numba``; the kernels (``csrc/*.pyx``)
check nothing and allocate nothing but the per-block sums of a parallel reduction
(contracts in ``kernels/numba/direct.py`` and ``kernels/numba/elementwise.py``).
"""
from ..._backends import get_num_threads
from ... import kernels as _pkg
from . import direct
from . import elementwise as _ew

__all__ = ["correlate_terms", "correlate_terms_parallel", "correlate2d_mapped",
           "correlate2d_mapped_parallel", "correlate2d_sweep", "correlate2d_sweep_parallel", "rl_ratio", "rl_update",
           "tv_gradient", "tv_denominator", "biggs_extrapolate", "biggs_dots",
           "spectrum_multiply"]

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


def _parallel(n, light=False):
    """Whether an elementwise pass over ``n`` elements runs in parallel (threads set):
    from ``PARALLEL_MIN_ELEMENTS`` elements (``_LIGHT`` for the cheap passes) and with
    more than one thread allowed."""
    if n < (_pkg.PARALLEL_MIN_ELEMENTS_LIGHT if light else _pkg.PARALLEL_MIN_ELEMENTS):
        return False
    threads = get_num_threads()
    if threads < 2:
        return False
    _ew.set_num_threads(threads)
    return True


# Elementwise kernels (contract in kernels/numba/elementwise.py): the serial variant below
# the thresholds (fastdeconv/kernels/__init__.py) or with one thread, else the
# parallel one (same result).

def rl_ratio(image, conv, weights, out, eps, threshold, want_kl):
    if _parallel(image.shape[0], not want_kl):
        return _ew.rl_ratio_parallel(image, conv, weights, out, eps, threshold, want_kl)
    return _ew.rl_ratio(image, conv, weights, out, eps, threshold, want_kl)


def rl_update(x, corr, norm, denom, want_change):
    if _parallel(x.shape[0], not want_change):
        return _ew.rl_update_parallel(x, corr, norm, denom, want_change)
    return _ew.rl_update(x, corr, norm, denom, want_change)


def tv_gradient(x, sizes, strides, eps, grad):
    if _parallel(x.shape[0]):
        return _ew.tv_gradient_parallel(x, sizes, strides, eps, grad)
    return _ew.tv_gradient(x, sizes, strides, eps, grad)


def tv_denominator(grad, sizes, strides, lam, out):
    if _parallel(out.shape[0]):
        return _ew.tv_denominator_parallel(grad, sizes, strides, lam, out)
    return _ew.tv_denominator(grad, sizes, strides, lam, out)


def biggs_extrapolate(x, x_prev, alpha, y):
    if _parallel(x.shape[0], True):
        return _ew.biggs_extrapolate_parallel(x, x_prev, alpha, y)
    return _ew.biggs_extrapolate(x, x_prev, alpha, y)


def biggs_dots(x_new, y, g, g_prev):
    if _parallel(x_new.shape[0]):
        return _ew.biggs_dots_parallel(x_new, y, g, g_prev)
    return _ew.biggs_dots(x_new, y, g, g_prev)


def spectrum_multiply(spec, kspec):
    if _parallel(spec.shape[0], True):
        return _ew.spectrum_multiply_parallel(spec, kspec)
    return _ew.spectrum_multiply(spec, kspec)
