"""Serial-or-threaded dispatch of the elementwise kernels, shared by the compiled backends.

Each backend's elementwise module has a serial ``NAME`` and a threaded ``NAME_parallel``
of every kernel (same result, contract in ``kernels/numba/elementwise.py``).
:func:`elementwise_dispatchers` builds the public ``NAME`` functions of a backend
package: the threaded variant from ``PARALLEL_MIN_ELEMENTS`` elements
(``PARALLEL_MIN_ELEMENTS_LIGHT`` for the cheap passes, both in
``fastdeconv/kernels/__init__.py``, read at call time) when more than one thread is
allowed, the serial one otherwise.
"""
import types

from .. import kernels as _pkg


def elementwise_dispatchers(ew, allowed_threads, set_threads):
    """The dispatching elementwise kernels of one backend.

    Parameters
    ----------
    ew : module
        The backend's elementwise module (serial and ``_parallel`` variants).
    allowed_threads : callable
        ``allowed_threads() -> int``: threads a call may use now.
    set_threads : callable
        ``set_threads(n)``: give the backend's thread team ``n`` threads.
    """

    def parallel(n, light=False):
        if n < (_pkg.PARALLEL_MIN_ELEMENTS_LIGHT if light else _pkg.PARALLEL_MIN_ELEMENTS):
            return False
        threads = allowed_threads()
        if threads < 2:
            return False
        set_threads(threads)
        return True

    def rl_ratio(image, conv, weights, out, eps, threshold, want_kl):
        if parallel(image.shape[0], not want_kl):
            return ew.rl_ratio_parallel(image, conv, weights, out, eps, threshold, want_kl)
        return ew.rl_ratio(image, conv, weights, out, eps, threshold, want_kl)

    def rl_update(x, corr, norm, denom, want_change):
        if parallel(x.shape[0], not want_change):
            return ew.rl_update_parallel(x, corr, norm, denom, want_change)
        return ew.rl_update(x, corr, norm, denom, want_change)

    def tv_gradient(x, sizes, strides, eps, grad):
        if parallel(x.shape[0]):
            return ew.tv_gradient_parallel(x, sizes, strides, eps, grad)
        return ew.tv_gradient(x, sizes, strides, eps, grad)

    def tv_denominator(grad, sizes, strides, lam, out):
        if parallel(out.shape[0]):
            return ew.tv_denominator_parallel(grad, sizes, strides, lam, out)
        return ew.tv_denominator(grad, sizes, strides, lam, out)

    def biggs_extrapolate(x, x_prev, alpha, y):
        if parallel(x.shape[0], True):
            return ew.biggs_extrapolate_parallel(x, x_prev, alpha, y)
        return ew.biggs_extrapolate(x, x_prev, alpha, y)

    def biggs_dots(x_new, y, g, g_prev):
        if parallel(x_new.shape[0]):
            return ew.biggs_dots_parallel(x_new, y, g, g_prev)
        return ew.biggs_dots(x_new, y, g, g_prev)

    def spectrum_multiply(spec, kspec):
        if parallel(spec.shape[0], True):
            return ew.spectrum_multiply_parallel(spec, kspec)
        return ew.spectrum_multiply(spec, kspec)

    return types.SimpleNamespace(
        rl_ratio=rl_ratio, rl_update=rl_update, tv_gradient=tv_gradient,
        tv_denominator=tv_denominator, biggs_extrapolate=biggs_extrapolate,
        biggs_dots=biggs_dots, spectrum_multiply=spectrum_multiply, parallel=parallel)


def memory_dispatchers(mem, allowed_threads, set_threads):
    """The dispatching memory passes of one backend (``mem``: its memory module, serial
    and ``_parallel`` variants; other arguments as :func:`elementwise_dispatchers`).
    All are light passes: threaded from ``PARALLEL_MIN_ELEMENTS_LIGHT`` elements."""

    def parallel(n):
        if n < _pkg.PARALLEL_MIN_ELEMENTS_LIGHT:
            return False
        threads = allowed_threads()
        if threads < 2:
            return False
        set_threads(threads)
        return True

    def all_finite(a):
        if parallel(a.shape[0]):
            return mem.all_finite_parallel(a)
        return mem.all_finite(a)

    def fill(out, value):
        if parallel(out.shape[0]):
            return mem.fill_parallel(out, value)
        return mem.fill(out, value)

    def clip(a, lo, hi):
        if parallel(a.shape[0]):
            return mem.clip_parallel(a, lo, hi)
        return mem.clip(a, lo, hi)

    def copy_pad_rows(src, s_off, s_stride, rows, cols, dst, d_off, d_stride, drows, dcols):
        # counted in bytes: 4 per element of the thresholds' float32
        if parallel(drows * dcols // 4):
            return mem.copy_pad_rows_parallel(src, s_off, s_stride, rows, cols, dst, d_off,
                                              d_stride, drows, dcols)
        return mem.copy_pad_rows(src, s_off, s_stride, rows, cols, dst, d_off, d_stride,
                                 drows, dcols)

    return types.SimpleNamespace(all_finite=all_finite, fill=fill, clip=clip,
                                 copy_pad_rows=copy_pad_rows)
