# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython fused elementwise kernels of the iterative restoration methods.

Mirrors ``fastdeconv/kernels/numba/elementwise.py`` line by line (same names, same
arguments, same loops; its docstring defines each kernel); change both files together.
Contract: flat C-contiguous float32/float64 arrays of one dtype, scalars of that dtype,
outputs preallocated, an absent optional array passed with length 0; nothing is checked
or allocated here.  Each kernel is one pass over memory, without the GIL; reductions
accumulate in double.
"""
from cython cimport floating
from libc.math cimport log, sqrt

__all__ = ["rl_ratio", "rl_update", "tv_gradient", "tv_denominator", "biggs_extrapolate",
           "biggs_dots"]


def rl_ratio(const floating[::1] image, const floating[::1] conv,
             const floating[::1] weights, floating[::1] out, floating eps,
             floating threshold, bint want_kl):
    cdef Py_ssize_t n = image.shape[0]
    cdef bint weighted = weights.shape[0] > 0
    cdef double kl = 0.0
    cdef double term
    cdef floating c, y, r
    cdef Py_ssize_t i
    with nogil:
        for i in range(n):
            c = conv[i] + eps
            y = image[i]
            r = y / c
            if c < threshold:
                r = 0
            if weighted:
                r = r * weights[i]
            out[i] = r
            if want_kl:
                term = <double>c - <double>y
                if y > 0:
                    term = term + <double>y * log(<double>y / <double>c)
                if weighted:
                    term = term * <double>weights[i]
                kl += term
    return kl


def rl_update(floating[::1] x, const floating[::1] corr, const floating[::1] norm,
              const floating[::1] denom, bint want_change):
    cdef Py_ssize_t n = x.shape[0]
    cdef bint use_norm = norm.shape[0] > 0
    cdef bint use_denom = denom.shape[0] > 0
    cdef double change2 = 0.0
    cdef double norm2 = 0.0
    cdef double diff
    cdef floating old, f, d, new
    cdef Py_ssize_t i
    with nogil:
        if not want_change:
            for i in range(n):
                f = corr[i]
                if use_norm:
                    d = norm[i]
                    f = f / d if d != 0 else 1
                if use_denom:
                    f = f / denom[i]
                x[i] = x[i] * f
        else:
            for i in range(n):
                old = x[i]
                f = corr[i]
                if use_norm:
                    d = norm[i]
                    f = f / d if d != 0 else 1
                if use_denom:
                    f = f / denom[i]
                new = old * f
                x[i] = new
                diff = <double>new - <double>old
                change2 += diff * diff
                norm2 += <double>new * <double>new
    return change2, norm2


def tv_gradient(const floating[::1] x, const long long[::1] sizes,
                const long long[::1] strides, floating eps, floating[::1] grad):
    cdef Py_ssize_t n = x.shape[0]
    cdef Py_ssize_t ndim = sizes.shape[0]
    cdef floating eps2 = eps * eps
    cdef floating total, g, inv
    cdef Py_ssize_t i, a, coord
    with nogil:
        for i in range(n):
            total = eps2
            for a in range(ndim):
                coord = (i // strides[a]) % sizes[a]
                g = x[i + strides[a]] - x[i] if coord + 1 < sizes[a] else 0
                grad[a * n + i] = g
                total = total + g * g
            inv = 1 / sqrt(total)
            for a in range(ndim):
                grad[a * n + i] = grad[a * n + i] * inv


def tv_denominator(const floating[::1] grad, const long long[::1] sizes,
                   const long long[::1] strides, floating lam, floating[::1] out):
    cdef Py_ssize_t n = out.shape[0]
    cdef Py_ssize_t ndim = sizes.shape[0]
    cdef floating div, d
    cdef Py_ssize_t i, a, coord
    with nogil:
        for i in range(n):
            div = 0
            for a in range(ndim):
                coord = (i // strides[a]) % sizes[a]
                div = div + grad[a * n + i]
                if coord > 0:
                    div = div - grad[a * n + i - strides[a]]
            d = 1 - lam * div
            out[i] = d if d > 1e-4 else <floating>1e-4


def biggs_extrapolate(const floating[::1] x, const floating[::1] x_prev, floating alpha,
                      floating[::1] y):
    cdef floating v
    cdef Py_ssize_t i
    with nogil:
        for i in range(x.shape[0]):
            v = x[i] + alpha * (x[i] - x_prev[i])
            y[i] = v if v > 0 else 0


def biggs_dots(const floating[::1] x_new, const floating[::1] y, floating[::1] g,
               const floating[::1] g_prev):
    cdef double dot = 0.0
    cdef double norm = 0.0
    cdef floating gi
    cdef Py_ssize_t i
    with nogil:
        for i in range(x_new.shape[0]):
            gi = x_new[i] - y[i]
            g[i] = gi
            dot += <double>gi * <double>g_prev[i]
            norm += <double>g_prev[i] * <double>g_prev[i]
    return dot, norm
