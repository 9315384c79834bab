# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython direct-correlation kernels.

Mirrors ``fastdeconv/kernels/numba/direct.py`` line by line: ``_row_block``,
``correlate_terms`` and ``correlate_terms_parallel`` have the same names, the same loops
and (for the public two) the same arguments; change both files together.

Kernel contract (shared with ``kernels/numba/direct`` and ``kernels/reference/direct``):
all arrays C-contiguous, native byte order, ``x``/``weights``/``out`` of one dtype
(float32, float64, complex64, complex128 or int64), index arrays ``int64``, ``out``
preallocated; nothing is checked or allocated here.  ``correlate_terms(x, offsets,
weights, in_off, w_off, out, ncols, chunk)`` computes, for every output row ``r`` and
column ``j < ncols``::

    out[r*ncols + j] = sum_p weights[w_off[r] + p] * x[in_off[r] + offsets[p] + j]

``correlate_terms_parallel`` splits the same work items over OpenMP threads; the thread
count is the module's ``set_num_threads`` value (the package wrapper sets it from
:func:`fastdeconv.get_num_threads` on every call).
"""
from cython.parallel cimport prange
cimport openmp

from _types cimport scalar_t

__all__ = ["correlate_terms", "correlate_terms_parallel", "set_num_threads", "get_num_threads"]

# Read by every prange; a C int, so the threads never touch a Python object.
cdef int _num_threads = max(openmp.omp_get_max_threads(), 1)


def set_num_threads(int n):
    """Set the OpenMP thread count of ``correlate_terms_parallel`` (clipped to >= 1)."""
    global _num_threads
    _num_threads = n if n > 0 else 1


def get_num_threads():
    """The OpenMP thread count ``correlate_terms_parallel`` uses."""
    return _num_threads


cdef inline void _row_block(const scalar_t* x, const long long* offsets,
                            const scalar_t* weights, Py_ssize_t base, Py_ssize_t wb,
                            scalar_t* out, Py_ssize_t ob, Py_ssize_t n,
                            Py_ssize_t nterms) noexcept nogil:
    # Why this shape: the innermost loop runs over contiguous output columns with up to
    # eight (offset, weight) terms fused per pass, so gcc emits one FMA vector per term
    # and the output block is loaded/stored once per eight terms instead of once per tap.
    # Plain pointers (the Numba code's uint64 indices) leave gcc simple unit-stride loops;
    # it versions them on a run-time overlap check between ``o`` and the x streams.
    # ``nterms`` is the length the pointer ``offsets`` no longer carries.
    cdef scalar_t* o = out + ob
    cdef const scalar_t* xb = x + base
    cdef const scalar_t* w = weights + wb
    cdef const scalar_t* x0
    cdef const scalar_t* x1
    cdef const scalar_t* x2
    cdef const scalar_t* x3
    cdef const scalar_t* x4
    cdef const scalar_t* x5
    cdef const scalar_t* x6
    cdef const scalar_t* x7
    cdef scalar_t w0, w1, w2, w3, w4, w5, w6, w7
    cdef Py_ssize_t j
    cdef Py_ssize_t p = 0
    for j in range(n):
        o[j] = 0
    while p + 8 <= nterms:
        x0 = xb + offsets[p]
        x1 = xb + offsets[p + 1]
        x2 = xb + offsets[p + 2]
        x3 = xb + offsets[p + 3]
        x4 = xb + offsets[p + 4]
        x5 = xb + offsets[p + 5]
        x6 = xb + offsets[p + 6]
        x7 = xb + offsets[p + 7]
        w0 = w[p]
        w1 = w[p + 1]
        w2 = w[p + 2]
        w3 = w[p + 3]
        w4 = w[p + 4]
        w5 = w[p + 5]
        w6 = w[p + 6]
        w7 = w[p + 7]
        for j in range(n):
            o[j] += (((w0 * x0[j] + w1 * x1[j])
                      + (w2 * x2[j] + w3 * x3[j]))
                     + ((w4 * x4[j] + w5 * x5[j])
                        + (w6 * x6[j] + w7 * x7[j])))
        p += 8
    while p + 4 <= nterms:
        x0 = xb + offsets[p]
        x1 = xb + offsets[p + 1]
        x2 = xb + offsets[p + 2]
        x3 = xb + offsets[p + 3]
        w0 = w[p]
        w1 = w[p + 1]
        w2 = w[p + 2]
        w3 = w[p + 3]
        for j in range(n):
            o[j] += ((w0 * x0[j] + w1 * x1[j])
                     + (w2 * x2[j] + w3 * x3[j]))
        p += 4
    while p < nterms:
        x0 = xb + offsets[p]
        w0 = w[p]
        for j in range(n):
            o[j] += w0 * x0[j]
        p += 1


def correlate_terms(const scalar_t[::1] x, const long long[::1] offsets,
                    const scalar_t[::1] weights, const long long[::1] in_off,
                    const long long[::1] w_off, scalar_t[::1] out,
                    Py_ssize_t ncols, Py_ssize_t chunk):
    cdef Py_ssize_t nrows = in_off.shape[0]
    cdef Py_ssize_t nchunks = (ncols + chunk - 1) // chunk
    cdef Py_ssize_t nterms = offsets.shape[0]
    cdef const scalar_t* xp = &x[0]
    cdef const long long* op = &offsets[0]
    cdef const scalar_t* wp = &weights[0]
    cdef const long long* ip = &in_off[0]
    cdef const long long* wo = &w_off[0]
    cdef scalar_t* outp = &out[0]
    cdef Py_ssize_t item, r, j0, n
    with nogil:
        for item in range(nrows * nchunks):
            r = item // nchunks
            j0 = (item - r * nchunks) * chunk
            n = min(chunk, ncols - j0)
            _row_block(xp, op, wp, ip[r] + j0, wo[r], outp, r * ncols + j0, n, nterms)


def correlate_terms_parallel(const scalar_t[::1] x, const long long[::1] offsets,
                             const scalar_t[::1] weights, const long long[::1] in_off,
                             const long long[::1] w_off, scalar_t[::1] out,
                             Py_ssize_t ncols, Py_ssize_t chunk):
    cdef Py_ssize_t nrows = in_off.shape[0]
    cdef Py_ssize_t nchunks = (ncols + chunk - 1) // chunk
    cdef Py_ssize_t nterms = offsets.shape[0]
    cdef const scalar_t* xp = &x[0]
    cdef const long long* op = &offsets[0]
    cdef const scalar_t* wp = &weights[0]
    cdef const long long* ip = &in_off[0]
    cdef const long long* wo = &w_off[0]
    cdef scalar_t* outp = &out[0]
    cdef Py_ssize_t item, r, j0, n
    # Static schedule: the work items are equal-sized column blocks (one writer per
    # output element), so an even split needs no run-time balancing.
    for item in prange(nrows * nchunks, nogil=True, schedule='static',
                       num_threads=_num_threads):
        r = item // nchunks
        j0 = (item - r * nchunks) * chunk
        n = min(chunk, ncols - j0)
        _row_block(xp, op, wp, ip[r] + j0, wo[r], outp, r * ncols + j0, n, nterms)
