# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython memory passes: fills, clips, finiteness checks and padded copies.

Mirrors ``fastdeconv/kernels/numba/memory.py`` (same names, arguments and blocks; its
docstring defines each kernel); change both files together.  Nothing is checked here;
``NAME_parallel`` runs the blocks of ``NAME`` over OpenMP threads (the module's
``set_num_threads`` value, set by the package wrapper on every call).
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport isfinite
from libc.string cimport memcpy, memset
from libc.stdlib cimport free, malloc
cimport openmp

__all__ = ["all_finite", "all_finite_parallel", "fill", "fill_parallel", "clip",
           "clip_parallel", "copy_pad_rows", "copy_pad_rows_parallel", "set_num_threads",
           "get_num_threads", "BLOCK", "CHUNK"]

cdef enum:
    _BLOCK = 16384
    _CHUNK = 65536

BLOCK = _BLOCK
CHUNK = _CHUNK

cdef int _num_threads = max(openmp.omp_get_max_threads(), 1)


def set_num_threads(int n):
    """Set the OpenMP thread count of the ``*_parallel`` kernels (clipped to >= 1)."""
    global _num_threads
    _num_threads = n if n > 0 else 1


def get_num_threads():
    """The OpenMP thread count the ``*_parallel`` kernels use."""
    return _num_threads


cdef inline Py_ssize_t _nblocks(Py_ssize_t n, Py_ssize_t size) noexcept nogil:
    return (n + size - 1) // size


cdef Py_ssize_t _finite_block(const floating* a, Py_ssize_t start,
                              Py_ssize_t stop) noexcept nogil:
    cdef Py_ssize_t i, bad = 0
    for i in range(start, stop):
        if not isfinite(a[i]):
            bad += 1
    return bad


def all_finite(const floating[::1] a):
    cdef Py_ssize_t n = a.shape[0], b, bad = 0
    if n == 0:
        return True
    with nogil:
        for b in range(_nblocks(n, _BLOCK)):
            bad = _finite_block(&a[0], b * _BLOCK, min(n, (b + 1) * _BLOCK))
            if bad > 0:
                break
    return bad == 0


def all_finite_parallel(const floating[::1] a):
    cdef Py_ssize_t n = a.shape[0], b, bad = 0
    if n == 0:
        return True
    for b in prange(_nblocks(n, _BLOCK), nogil=True, schedule='static',
                    num_threads=_num_threads):
        bad += _finite_block(&a[0], b * _BLOCK, min(n, (b + 1) * _BLOCK))
    return bad == 0


cdef void _fill_block(floating* out, floating value, Py_ssize_t start,
                      Py_ssize_t stop) noexcept nogil:
    cdef Py_ssize_t i
    for i in range(start, stop):
        out[i] = value


def fill(floating[::1] out, floating value):
    cdef Py_ssize_t n = out.shape[0], b
    if n == 0:
        return
    with nogil:
        for b in range(_nblocks(n, _BLOCK)):
            _fill_block(&out[0], value, b * _BLOCK, min(n, (b + 1) * _BLOCK))


def fill_parallel(floating[::1] out, floating value):
    cdef Py_ssize_t n = out.shape[0], b
    if n == 0:
        return
    for b in prange(_nblocks(n, _BLOCK), nogil=True, schedule='static',
                    num_threads=_num_threads):
        _fill_block(&out[0], value, b * _BLOCK, min(n, (b + 1) * _BLOCK))


cdef void _clip_block(floating* a, floating lo, floating hi, Py_ssize_t start,
                      Py_ssize_t stop) noexcept nogil:
    cdef Py_ssize_t i
    cdef floating v
    for i in range(start, stop):
        v = a[i]
        if v < lo:
            v = lo
        if v > hi:
            v = hi
        a[i] = v


def clip(floating[::1] a, floating lo, floating hi):
    cdef Py_ssize_t n = a.shape[0], b
    if n == 0:
        return
    with nogil:
        for b in range(_nblocks(n, _BLOCK)):
            _clip_block(&a[0], lo, hi, b * _BLOCK, min(n, (b + 1) * _BLOCK))


def clip_parallel(floating[::1] a, floating lo, floating hi):
    cdef Py_ssize_t n = a.shape[0], b
    if n == 0:
        return
    for b in prange(_nblocks(n, _BLOCK), nogil=True, schedule='static',
                    num_threads=_num_threads):
        _clip_block(&a[0], lo, hi, b * _BLOCK, min(n, (b + 1) * _BLOCK))


cdef void _copy_pad_item(const unsigned char* src, Py_ssize_t s_off, Py_ssize_t s_stride,
                         Py_ssize_t rows, Py_ssize_t cols, unsigned char* dst,
                         Py_ssize_t d_off, Py_ssize_t d_stride, Py_ssize_t r,
                         Py_ssize_t c0, Py_ssize_t c1) noexcept nogil:
    cdef Py_ssize_t d = d_off + r * d_stride, hi
    if r < rows:
        hi = min(c1, cols)
        if hi > c0:
            memcpy(dst + d + c0, src + s_off + r * s_stride + c0, hi - c0)
        c0 = max(c0, cols)
    if c1 > c0:
        memset(dst + d + c0, 0, c1 - c0)


def copy_pad_rows(const unsigned char[::1] src, Py_ssize_t s_off, Py_ssize_t s_stride,
                  Py_ssize_t rows, Py_ssize_t cols, unsigned char[::1] dst,
                  Py_ssize_t d_off, Py_ssize_t d_stride, Py_ssize_t drows,
                  Py_ssize_t dcols):
    cdef Py_ssize_t r
    cdef const unsigned char* s = &src[0] if src.shape[0] > 0 else NULL
    if dst.shape[0] == 0:
        return
    with nogil:
        for r in range(drows):
            _copy_pad_item(s, s_off, s_stride, rows, cols, &dst[0], d_off, d_stride, r, 0,
                           dcols)


def copy_pad_rows_parallel(const unsigned char[::1] src, Py_ssize_t s_off,
                           Py_ssize_t s_stride, Py_ssize_t rows, Py_ssize_t cols,
                           unsigned char[::1] dst, Py_ssize_t d_off, Py_ssize_t d_stride,
                           Py_ssize_t drows, Py_ssize_t dcols):
    cdef Py_ssize_t nc = max(_nblocks(dcols, _CHUNK), 1)
    cdef Py_ssize_t item, r, c
    cdef const unsigned char* s = &src[0] if src.shape[0] > 0 else NULL
    if dst.shape[0] == 0:
        return
    for item in prange(drows * nc, nogil=True, schedule='static', num_threads=_num_threads):
        r = item // nc
        c = item - r * nc
        _copy_pad_item(s, s_off, s_stride, rows, cols, &dst[0], d_off, d_stride, r,
                       c * _CHUNK, min(dcols, (c + 1) * _CHUNK))
