# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython direct-correlation kernels.

Mirrors ``fastdeconv/kernels/numba/direct.py`` line by line; change both files together.
The 2-D sweep kernel's unrolled passes are generated C (``_sweep_passes.h``, written
with Numba's ``_sweep_passes.py`` by ``gen_sweep.py``).
``correlate_terms`` and ``correlate_terms_parallel`` have the same names, arguments and
loops; Numba's ``_row_block`` is ``_real_block`` here (float32, float64, int64), and
``_complex_block`` runs the same loops and summation tree on the interleaved (re, im)
floats of complex64/complex128, with each complex product written out so that it rounds
as Numba's does.  On a CPU with FMA the results equal Numba's bit for bit, for every
``chunk`` and thread count (without FMA, i.e. ``FASTDECONV_PORTABLE=1`` on x86-64, they
differ in the last bits but still do not depend on ``chunk`` or threads).

Kernel contract (shared with ``kernels/numba/direct`` and ``kernels/reference/direct``):
all arrays C-contiguous, native byte order, ``x``/``weights``/``out`` of one dtype
(float32, float64, complex64, complex128 or int64), index arrays ``int64``, ``out``
preallocated; nothing is checked here; the only allocations are the per-work-item
scratch buffers of the 2-D mapped and sweep kernels (sizes, and the MemoryError on
failure, in ``kernels/numba/direct.py``).  ``correlate_terms(x, offsets,
weights, in_off, w_off, out, o_off, ncols, chunk)`` computes, for every output row ``r``
and column ``j < ncols``::

    out[o_off[r] + j] = sum_p weights[w_off[r] + p] * x[in_off[r] + offsets[p] + j]

``correlate_terms_parallel`` splits the same work items over OpenMP threads; the thread
count is the module's ``set_num_threads`` value (the package wrapper sets it from
:func:`fastdeconv.get_num_threads` on every call).
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport free, malloc
cimport openmp

from _types cimport scalar_t

__all__ = ["correlate_terms", "correlate_terms_parallel", "correlate2d_mapped",
           "correlate2d_mapped_parallel", "correlate2d_sweep", "correlate2d_sweep_parallel", "set_num_threads", "get_num_threads"]

# Read by every prange; a C int, so the threads never touch a Python object.
cdef int _num_threads = max(openmp.omp_get_max_threads(), 1)


def set_num_threads(int n):
    """Set the OpenMP thread count of ``correlate_terms_parallel`` (clipped to >= 1)."""
    global _num_threads
    _num_threads = n if n > 0 else 1


def get_num_threads():
    """The OpenMP thread count ``correlate_terms_parallel`` uses."""
    return _num_threads


cdef extern from *:
    """
    /* Explicit fused multiply-add where the CPU has one (as Numba's 'contract' uses it);
       elsewhere the plain expression, which the compiler then cannot contract either. */
    #if defined(__FMA__) || defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
    #define FD_FMA(a, b, c) __builtin_fma((a), (b), (c))
    #define FD_FMAF(a, b, c) __builtin_fmaf((a), (b), (c))
    #else
    #define FD_FMA(a, b, c) ((a) * (b) + (c))
    #define FD_FMAF(a, b, c) ((a) * (b) + (c))
    #endif
    """
    double FD_FMA(double, double, double) nogil
    float FD_FMAF(float, float, float) nogil

ctypedef float complex cfloat_t
ctypedef double complex cdouble_t


cdef inline floating _fma(floating a, floating b, floating c) noexcept nogil:
    if floating is float:
        return FD_FMAF(a, b, c)
    else:
        return FD_FMA(a, b, c)


cdef inline floating _cmac(floating u, floating v, floating c, floating d) noexcept nogil:
    # One part of the complex product (a + ib)(c + id), rounded as Numba's contracted
    # code rounds it: real = fma(a, c, (-b)*d) with (u, v) = (a, -b), imaginary =
    # fma(b, c, a*d) with (u, v) = (b, a).  One operation for both parts lets gcc keep
    # (re, im) pairs in the lanes they are stored in, instead of de-interleaving.
    return _fma(u, c, v * d)


cdef inline void _row_block(const scalar_t* x, const long long* offsets,
                            const scalar_t* weights, Py_ssize_t base, Py_ssize_t wb,
                            scalar_t* out, Py_ssize_t ob, Py_ssize_t n,
                            Py_ssize_t nterms) noexcept nogil:
    # ``nterms`` is the length the pointer ``offsets`` no longer carries.  Complex
    # products go through _complex_block: left to gcc, which of a complex product's
    # multiplies gets fused into an FMA differs between its vector and scalar code, so
    # results changed with ``chunk`` and the thread count.
    if scalar_t is cfloat_t:
        _complex_block(<const float*>x, offsets, <const float*>weights, base, wb,
                       <float*>out, ob, n, nterms)
    elif scalar_t is cdouble_t:
        _complex_block(<const double*>x, offsets, <const double*>weights, base, wb,
                       <double*>out, ob, n, nterms)
    else:
        _real_block(x, offsets, weights, base, wb, out, ob, n, nterms)


cdef inline void _real_block(const scalar_t* x, const long long* offsets,
                             const scalar_t* weights, Py_ssize_t base, Py_ssize_t wb,
                             scalar_t* out, Py_ssize_t ob, Py_ssize_t n,
                             Py_ssize_t nterms) noexcept nogil:
    # _row_block for float, double and int64.
    # Why this shape: the innermost loop runs over contiguous output columns with up to
    # twelve (offset, weight) terms fused per pass, so gcc emits one FMA vector per term
    # and the output block is loaded/stored once per pass instead of once per tap.
    # Plain pointers (the Numba code's uint64 indices) leave gcc simple unit-stride loops;
    # it versions them on a run-time overlap check between ``o`` and the x streams.
    # The weights are read as ``w[p + k]`` inside the loops, not hoisted into locals: gcc
    # then keeps only their broadcast vectors live in the vector loop.  With locals, the
    # scalar copies kept for the overlap fallback took the other half of the 16 AVX2
    # registers and the 8-term loop spilled three weights (~10% slower than Numba).
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
    cdef const scalar_t* x8
    cdef const scalar_t* x9
    cdef const scalar_t* x10
    cdef const scalar_t* x11
    cdef const scalar_t* x12
    cdef Py_ssize_t j
    cdef Py_ssize_t p = 0
    # The first pass stores (no zeroing pass) and takes the nterms % 4 odd terms
    # (thirteen when nterms % 12 == 1, else nine when nterms % 8 == 1), so the remaining
    # terms run in full passes of twelve, eight or four (as the Numba kernel).
    cdef Py_ssize_t first = nterms % 4
    if first == 0:
        first = min(nterms, 4)
    if nterms % 12 == 1 and nterms > 1:
        x0 = xb + offsets[0]
        x1 = xb + offsets[1]
        x2 = xb + offsets[2]
        x3 = xb + offsets[3]
        x4 = xb + offsets[4]
        x5 = xb + offsets[5]
        x6 = xb + offsets[6]
        x7 = xb + offsets[7]
        x8 = xb + offsets[8]
        x9 = xb + offsets[9]
        x10 = xb + offsets[10]
        x11 = xb + offsets[11]
        x12 = xb + offsets[12]
        for j in range(n):
            o[j] = (((((w[0] * x0[j] + w[1] * x1[j]) + (w[2] * x2[j] + w[3] * x3[j]))
                      + ((w[4] * x4[j] + w[5] * x5[j]) + (w[6] * x6[j] + w[7] * x7[j])))
                     + ((w[8] * x8[j] + w[9] * x9[j]) + (w[10] * x10[j] + w[11] * x11[j])))
                    + w[12] * x12[j])
        first = 13
    elif nterms % 8 == 1 and nterms > 1:
        x0 = xb + offsets[0]
        x1 = xb + offsets[1]
        x2 = xb + offsets[2]
        x3 = xb + offsets[3]
        x4 = xb + offsets[4]
        x5 = xb + offsets[5]
        x6 = xb + offsets[6]
        x7 = xb + offsets[7]
        x8 = xb + offsets[8]
        for j in range(n):
            o[j] = ((((w[0] * x0[j] + w[1] * x1[j]) + (w[2] * x2[j] + w[3] * x3[j]))
                     + ((w[4] * x4[j] + w[5] * x5[j]) + (w[6] * x6[j] + w[7] * x7[j])))
                    + w[8] * x8[j])
        first = 9
    elif first == 0:
        for j in range(n):
            o[j] = 0
    elif first == 1:
        x0 = xb + offsets[0]
        for j in range(n):
            o[j] = w[0] * x0[j]
    elif first == 2:
        x0 = xb + offsets[0]
        x1 = xb + offsets[1]
        for j in range(n):
            o[j] = w[0] * x0[j] + w[1] * x1[j]
    elif first == 3:
        x0 = xb + offsets[0]
        x1 = xb + offsets[1]
        x2 = xb + offsets[2]
        for j in range(n):
            o[j] = (w[0] * x0[j] + w[1] * x1[j]) + w[2] * x2[j]
    else:
        x0 = xb + offsets[0]
        x1 = xb + offsets[1]
        x2 = xb + offsets[2]
        x3 = xb + offsets[3]
        for j in range(n):
            o[j] = (w[0] * x0[j] + w[1] * x1[j]) + (w[2] * x2[j] + w[3] * x3[j])
    p = first
    while p + 12 <= nterms:
        x0 = xb + offsets[p]
        x1 = xb + offsets[p + 1]
        x2 = xb + offsets[p + 2]
        x3 = xb + offsets[p + 3]
        x4 = xb + offsets[p + 4]
        x5 = xb + offsets[p + 5]
        x6 = xb + offsets[p + 6]
        x7 = xb + offsets[p + 7]
        x8 = xb + offsets[p + 8]
        x9 = xb + offsets[p + 9]
        x10 = xb + offsets[p + 10]
        x11 = xb + offsets[p + 11]
        for j in range(n):
            o[j] += ((((w[p] * x0[j] + w[p + 1] * x1[j])
                       + (w[p + 2] * x2[j] + w[p + 3] * x3[j]))
                      + ((w[p + 4] * x4[j] + w[p + 5] * x5[j])
                         + (w[p + 6] * x6[j] + w[p + 7] * x7[j])))
                     + ((w[p + 8] * x8[j] + w[p + 9] * x9[j])
                        + (w[p + 10] * x10[j] + w[p + 11] * x11[j])))
        p += 12
    while p + 8 <= nterms:
        x0 = xb + offsets[p]
        x1 = xb + offsets[p + 1]
        x2 = xb + offsets[p + 2]
        x3 = xb + offsets[p + 3]
        x4 = xb + offsets[p + 4]
        x5 = xb + offsets[p + 5]
        x6 = xb + offsets[p + 6]
        x7 = xb + offsets[p + 7]
        for j in range(n):
            o[j] += (((w[p] * x0[j] + w[p + 1] * x1[j])
                      + (w[p + 2] * x2[j] + w[p + 3] * x3[j]))
                     + ((w[p + 4] * x4[j] + w[p + 5] * x5[j])
                        + (w[p + 6] * x6[j] + w[p + 7] * x7[j])))
        p += 8
    while p + 4 <= nterms:
        x0 = xb + offsets[p]
        x1 = xb + offsets[p + 1]
        x2 = xb + offsets[p + 2]
        x3 = xb + offsets[p + 3]
        for j in range(n):
            o[j] += ((w[p] * x0[j] + w[p + 1] * x1[j])
                     + (w[p + 2] * x2[j] + w[p + 3] * x3[j]))
        p += 4


cdef inline void _complex_block(const floating* x, const long long* offsets,
                                const floating* weights, Py_ssize_t base, Py_ssize_t wb,
                                floating* out, Py_ssize_t ob, Py_ssize_t n,
                                Py_ssize_t nterms) noexcept nogil:
    # _row_block for complex64/complex128 on the interleaved (re, im) floats; indices
    # count complex samples.  Same loops and summation tree as _real_block, each product
    # spelled out with _cmac so every code path rounds it alike.  Both sums are formed
    # before either store: with a store between them, gcc must reload the x samples (the
    # store might alias them), cannot pair the two parts and falls back to permutes.
    # Unlike _real_block the weights are hoisted: packed as (a, b) and (-b, a) vectors
    # they are what the lanes need.
    cdef floating* o = out + 2 * ob
    cdef const floating* xb = x + 2 * base
    cdef const floating* w = weights + 2 * wb
    cdef const floating* x0
    cdef const floating* x1
    cdef const floating* x2
    cdef const floating* x3
    cdef const floating* x4
    cdef const floating* x5
    cdef const floating* x6
    cdef const floating* x7
    cdef floating a0, a1, a2, a3, a4, a5, a6, a7  # weight real parts
    cdef floating b0, b1, b2, b3, b4, b5, b6, b7  # weight imaginary parts
    cdef floating c0, c1, c2, c3, c4, c5, c6, c7  # minus the imaginary parts
    cdef floating re, im
    cdef Py_ssize_t j
    cdef Py_ssize_t p = 0
    cdef Py_ssize_t first = nterms % 4
    if first == 0:
        first = min(nterms, 4)
    if first == 0:
        for j in range(2 * n):
            o[j] = 0
    elif first == 1:
        x0 = xb + 2 * offsets[0]
        a0 = w[0]
        b0 = w[1]
        c0 = -b0
        for j in range(n):
            re = _cmac(a0, c0, x0[2 * j], x0[2 * j + 1])
            im = _cmac(b0, a0, x0[2 * j], x0[2 * j + 1])
            o[2 * j] = re
            o[2 * j + 1] = im
    elif first == 2:
        x0 = xb + 2 * offsets[0]
        x1 = xb + 2 * offsets[1]
        a0 = w[0]
        b0 = w[1]
        c0 = -b0
        a1 = w[2]
        b1 = w[3]
        c1 = -b1
        for j in range(n):
            re = (_cmac(a0, c0, x0[2 * j], x0[2 * j + 1])
                  + _cmac(a1, c1, x1[2 * j], x1[2 * j + 1]))
            im = (_cmac(b0, a0, x0[2 * j], x0[2 * j + 1])
                  + _cmac(b1, a1, x1[2 * j], x1[2 * j + 1]))
            o[2 * j] = re
            o[2 * j + 1] = im
    elif first == 3:
        x0 = xb + 2 * offsets[0]
        x1 = xb + 2 * offsets[1]
        x2 = xb + 2 * offsets[2]
        a0 = w[0]
        b0 = w[1]
        c0 = -b0
        a1 = w[2]
        b1 = w[3]
        c1 = -b1
        a2 = w[4]
        b2 = w[5]
        c2 = -b2
        for j in range(n):
            re = ((_cmac(a0, c0, x0[2 * j], x0[2 * j + 1])
                   + _cmac(a1, c1, x1[2 * j], x1[2 * j + 1]))
                  + _cmac(a2, c2, x2[2 * j], x2[2 * j + 1]))
            im = ((_cmac(b0, a0, x0[2 * j], x0[2 * j + 1])
                   + _cmac(b1, a1, x1[2 * j], x1[2 * j + 1]))
                  + _cmac(b2, a2, x2[2 * j], x2[2 * j + 1]))
            o[2 * j] = re
            o[2 * j + 1] = im
    else:
        x0 = xb + 2 * offsets[0]
        x1 = xb + 2 * offsets[1]
        x2 = xb + 2 * offsets[2]
        x3 = xb + 2 * offsets[3]
        a0 = w[0]
        b0 = w[1]
        c0 = -b0
        a1 = w[2]
        b1 = w[3]
        c1 = -b1
        a2 = w[4]
        b2 = w[5]
        c2 = -b2
        a3 = w[6]
        b3 = w[7]
        c3 = -b3
        for j in range(n):
            re = ((_cmac(a0, c0, x0[2 * j], x0[2 * j + 1])
                   + _cmac(a1, c1, x1[2 * j], x1[2 * j + 1]))
                  + (_cmac(a2, c2, x2[2 * j], x2[2 * j + 1])
                     + _cmac(a3, c3, x3[2 * j], x3[2 * j + 1])))
            im = ((_cmac(b0, a0, x0[2 * j], x0[2 * j + 1])
                   + _cmac(b1, a1, x1[2 * j], x1[2 * j + 1]))
                  + (_cmac(b2, a2, x2[2 * j], x2[2 * j + 1])
                     + _cmac(b3, a3, x3[2 * j], x3[2 * j + 1])))
            o[2 * j] = re
            o[2 * j + 1] = im
    p = first
    while p + 8 <= nterms:
        x0 = xb + 2 * offsets[p]
        x1 = xb + 2 * offsets[p + 1]
        x2 = xb + 2 * offsets[p + 2]
        x3 = xb + 2 * offsets[p + 3]
        x4 = xb + 2 * offsets[p + 4]
        x5 = xb + 2 * offsets[p + 5]
        x6 = xb + 2 * offsets[p + 6]
        x7 = xb + 2 * offsets[p + 7]
        a0 = w[2 * p]
        b0 = w[2 * p + 1]
        c0 = -b0
        a1 = w[2 * p + 2]
        b1 = w[2 * p + 3]
        c1 = -b1
        a2 = w[2 * p + 4]
        b2 = w[2 * p + 5]
        c2 = -b2
        a3 = w[2 * p + 6]
        b3 = w[2 * p + 7]
        c3 = -b3
        a4 = w[2 * p + 8]
        b4 = w[2 * p + 9]
        c4 = -b4
        a5 = w[2 * p + 10]
        b5 = w[2 * p + 11]
        c5 = -b5
        a6 = w[2 * p + 12]
        b6 = w[2 * p + 13]
        c6 = -b6
        a7 = w[2 * p + 14]
        b7 = w[2 * p + 15]
        c7 = -b7
        for j in range(n):
            re = (((_cmac(a0, c0, x0[2 * j], x0[2 * j + 1])
                     + _cmac(a1, c1, x1[2 * j], x1[2 * j + 1]))
                    + (_cmac(a2, c2, x2[2 * j], x2[2 * j + 1])
                       + _cmac(a3, c3, x3[2 * j], x3[2 * j + 1])))
                   + ((_cmac(a4, c4, x4[2 * j], x4[2 * j + 1])
                       + _cmac(a5, c5, x5[2 * j], x5[2 * j + 1]))
                      + (_cmac(a6, c6, x6[2 * j], x6[2 * j + 1])
                         + _cmac(a7, c7, x7[2 * j], x7[2 * j + 1]))))
            im = (((_cmac(b0, a0, x0[2 * j], x0[2 * j + 1])
                     + _cmac(b1, a1, x1[2 * j], x1[2 * j + 1]))
                    + (_cmac(b2, a2, x2[2 * j], x2[2 * j + 1])
                       + _cmac(b3, a3, x3[2 * j], x3[2 * j + 1])))
                   + ((_cmac(b4, a4, x4[2 * j], x4[2 * j + 1])
                       + _cmac(b5, a5, x5[2 * j], x5[2 * j + 1]))
                      + (_cmac(b6, a6, x6[2 * j], x6[2 * j + 1])
                         + _cmac(b7, a7, x7[2 * j], x7[2 * j + 1]))))
            o[2 * j] += re
            o[2 * j + 1] += im
        p += 8
    while p + 4 <= nterms:
        x0 = xb + 2 * offsets[p]
        x1 = xb + 2 * offsets[p + 1]
        x2 = xb + 2 * offsets[p + 2]
        x3 = xb + 2 * offsets[p + 3]
        a0 = w[2 * p]
        b0 = w[2 * p + 1]
        c0 = -b0
        a1 = w[2 * p + 2]
        b1 = w[2 * p + 3]
        c1 = -b1
        a2 = w[2 * p + 4]
        b2 = w[2 * p + 5]
        c2 = -b2
        a3 = w[2 * p + 6]
        b3 = w[2 * p + 7]
        c3 = -b3
        for j in range(n):
            re = ((_cmac(a0, c0, x0[2 * j], x0[2 * j + 1])
                    + _cmac(a1, c1, x1[2 * j], x1[2 * j + 1]))
                   + (_cmac(a2, c2, x2[2 * j], x2[2 * j + 1])
                      + _cmac(a3, c3, x3[2 * j], x3[2 * j + 1])))
            im = ((_cmac(b0, a0, x0[2 * j], x0[2 * j + 1])
                    + _cmac(b1, a1, x1[2 * j], x1[2 * j + 1]))
                   + (_cmac(b2, a2, x2[2 * j], x2[2 * j + 1])
                      + _cmac(b3, a3, x3[2 * j], x3[2 * j + 1])))
            o[2 * j] += re
            o[2 * j + 1] += im
        p += 4


def correlate_terms(const scalar_t[::1] x, const long long[::1] offsets,
                    const scalar_t[::1] weights, const long long[::1] in_off,
                    const long long[::1] w_off, scalar_t[::1] out,
                    const long long[::1] o_off, Py_ssize_t ncols, Py_ssize_t chunk):
    cdef Py_ssize_t nrows = in_off.shape[0]
    cdef Py_ssize_t nchunks = (ncols + chunk - 1) // chunk
    cdef Py_ssize_t nterms = offsets.shape[0]
    cdef const scalar_t* xp = &x[0]
    cdef const long long* op = &offsets[0]
    cdef const scalar_t* wp = &weights[0]
    cdef const long long* ip = &in_off[0]
    cdef const long long* wo = &w_off[0]
    cdef scalar_t* outp = &out[0]
    cdef const long long* oo = &o_off[0]
    cdef Py_ssize_t item, r, j0, n
    with nogil:
        for item in range(nrows * nchunks):
            r = item // nchunks
            j0 = (item - r * nchunks) * chunk
            n = min(chunk, ncols - j0)
            _row_block(xp, op, wp, ip[r] + j0, wo[r], outp, oo[r] + j0, n, nterms)


def correlate_terms_parallel(const scalar_t[::1] x, const long long[::1] offsets,
                             const scalar_t[::1] weights, const long long[::1] in_off,
                             const long long[::1] w_off, scalar_t[::1] out,
                             const long long[::1] o_off, Py_ssize_t ncols,
                             Py_ssize_t chunk):
    cdef Py_ssize_t nrows = in_off.shape[0]
    cdef Py_ssize_t nchunks = (ncols + chunk - 1) // chunk
    cdef Py_ssize_t nterms = offsets.shape[0]
    cdef const scalar_t* xp = &x[0]
    cdef const long long* op = &offsets[0]
    cdef const scalar_t* wp = &weights[0]
    cdef const long long* ip = &in_off[0]
    cdef const long long* wo = &w_off[0]
    cdef scalar_t* outp = &out[0]
    cdef const long long* oo = &o_off[0]
    cdef Py_ssize_t item, r, j0, n
    # Static schedule: the work items are equal-sized column blocks (one writer per
    # output element), so an even split needs no run-time balancing.
    for item in prange(nrows * nchunks, nogil=True, schedule='static',
                       num_threads=_num_threads):
        r = item // nchunks
        j0 = (item - r * nchunks) * chunk
        n = min(chunk, ncols - j0)
        _row_block(xp, op, wp, ip[r] + j0, wo[r], outp, oo[r] + j0, n, nterms)


# ---------------------------------------------------------------------------- 2-D, mapped
# ``correlate2d_mapped``: contract and loops as in kernels/numba/direct.py.

cdef inline scalar_t _mac(scalar_t a, scalar_t b, scalar_t c) noexcept nogil:
    # c + a * b, fused where Numba's 'contract' fuses it
    if scalar_t is float:
        return FD_FMAF(a, b, c)
    elif scalar_t is double:
        return FD_FMA(a, b, c)
    else:
        return c + a * b


cdef inline scalar_t _mapped_column(const scalar_t* x, Py_ssize_t W, const long long* rowmap,
                                    const long long* colmap, const long long* tap_r,
                                    const long long* tap_c, const scalar_t* weights,
                                    Py_ssize_t nterms, scalar_t fv, Py_ssize_t plane,
                                    Py_ssize_t o, Py_ssize_t j) noexcept nogil:
    cdef scalar_t acc = 0
    cdef Py_ssize_t k
    cdef long long src, col
    for k in range(nterms):
        src = rowmap[o + tap_r[k]]
        col = colmap[j + tap_c[k]]
        if src >= 0 and col >= 0:
            acc = _mac(weights[k], x[plane + src * W + col], acc)
        else:
            acc = _mac(weights[k], fv, acc)
    return acc


cdef int _mapped_band(const scalar_t* x, Py_ssize_t H, Py_ssize_t W, const long long* rowmap,
                      const long long* colmap, const long long* tap_r,
                      const long long* tap_c, const scalar_t* weights, Py_ssize_t nterms,
                      scalar_t fv, scalar_t* out, Py_ssize_t OH, Py_ssize_t OW,
                      Py_ssize_t lo, Py_ssize_t hi, bint edges, Py_ssize_t chunk,
                      Py_ssize_t p, Py_ssize_t o_lo, Py_ssize_t o_hi) noexcept nogil:
    # Returns -1 when the scratch cannot be allocated (nothing written), else 0: no
    # exception can be raised without the GIL, so the callers raise MemoryError.
    cdef long long* offs = <long long*>malloc((nterms + 1) * sizeof(long long))
    cdef scalar_t* ws = <scalar_t*>malloc((nterms + 1) * sizeof(scalar_t))
    cdef char* uniform = <char*>malloc(o_hi - o_lo + 1)
    if offs == NULL or ws == NULL or uniform == NULL:
        free(offs)
        free(ws)
        free(uniform)
        return -1
    cdef Py_ssize_t plane = p * H * W
    cdef bint inner = hi > lo
    cdef Py_ssize_t o, orow, m, k, j, j0, n, base0, t
    cdef long long src, kh = 0
    cdef scalar_t const
    # rows away from a row boundary share one term list (as the Numba kernel)
    for k in range(nterms):
        kh = max(kh, tap_r[k] + 1)
    for o in range(o_lo, o_hi):
        uniform[o - o_lo] = rowmap[o] >= 0
        for t in range(1, kh):
            if rowmap[o + t] != rowmap[o] + t:
                uniform[o - o_lo] = 0
    for k in range(nterms):
        offs[k] = tap_r[k] * W + tap_c[k]
    if inner:
        base0 = plane + colmap[lo] - lo
        j0 = lo
        while j0 < hi:
            n = min(chunk, hi - j0)
            for o in range(o_lo, o_hi):
                if uniform[o - o_lo]:
                    _row_block(x, offs, weights, base0 + rowmap[o] * W + j0, 0, out,
                               (p * OH + o) * OW + j0, n, nterms)
            j0 += chunk
    for o in range(o_lo, o_hi):
        orow = (p * OH + o) * OW
        if inner and not uniform[o - o_lo]:
            m = 0
            const = 0
            for k in range(nterms):
                src = rowmap[o + tap_r[k]]
                if src >= 0:
                    offs[m] = src * W + tap_c[k]
                    ws[m] = weights[k]
                    m += 1
                else:
                    const = _mac(weights[k], fv, const)
            base0 = plane + colmap[lo] - lo
            j0 = lo
            while j0 < hi:
                n = min(chunk, hi - j0)
                _row_block(x, offs, ws, base0 + j0, 0, out, orow + j0, n, m)
                if const != 0:
                    for j in range(j0, j0 + n):
                        out[orow + j] = out[orow + j] + const
                j0 += chunk
        if not edges:
            continue
        for j in range(lo if inner else OW):
            out[orow + j] = _mapped_column(x, W, rowmap, colmap, tap_r, tap_c, weights,
                                           nterms, fv, plane, o, j)
        if inner:
            for j in range(hi, OW):
                out[orow + j] = _mapped_column(x, W, rowmap, colmap, tap_r, tap_c, weights,
                                               nterms, fv, plane, o, j)
    free(offs)
    free(ws)
    free(uniform)
    return 0


def correlate2d_mapped(const scalar_t[::1] x, Py_ssize_t H, Py_ssize_t W,
                       const long long[::1] rowmap, const long long[::1] colmap,
                       const long long[::1] tap_r, const long long[::1] tap_c,
                       const scalar_t[::1] weights, const scalar_t[::1] fill,
                       scalar_t[::1] out, Py_ssize_t OH, Py_ssize_t OW, Py_ssize_t lo,
                       Py_ssize_t hi, bint edges, Py_ssize_t band, Py_ssize_t chunk):
    cdef Py_ssize_t planes = out.shape[0] // (OH * OW)
    cdef Py_ssize_t nbands = (OH + band - 1) // band
    cdef Py_ssize_t nterms = tap_r.shape[0]
    cdef Py_ssize_t item, p, b
    cdef int failed = 0
    with nogil:
        for item in range(planes * nbands):
            p = item // nbands
            b = item - p * nbands
            failed |= _mapped_band(&x[0], H, W, &rowmap[0], &colmap[0], &tap_r[0],
                                   &tap_c[0], &weights[0], nterms, fill[0], &out[0], OH,
                                   OW, lo, hi, edges, chunk, p, b * band,
                                   min(OH, (b + 1) * band))
    if failed:
        raise MemoryError("correlate2d_mapped: no memory for the scratch term lists")


def correlate2d_mapped_parallel(const scalar_t[::1] x, Py_ssize_t H, Py_ssize_t W,
                                const long long[::1] rowmap, const long long[::1] colmap,
                                const long long[::1] tap_r, const long long[::1] tap_c,
                                const scalar_t[::1] weights, const scalar_t[::1] fill,
                                scalar_t[::1] out, Py_ssize_t OH, Py_ssize_t OW,
                                Py_ssize_t lo, Py_ssize_t hi, bint edges, Py_ssize_t band,
                                Py_ssize_t chunk):
    cdef Py_ssize_t planes = out.shape[0] // (OH * OW)
    cdef Py_ssize_t nbands = (OH + band - 1) // band
    cdef Py_ssize_t nterms = tap_r.shape[0]
    cdef Py_ssize_t item, p, b
    cdef int failed = 0
    # failed is a reduction (|=) of the prange: each thread ORs its items' results and
    # the MemoryError is raised once the threads have joined, with the GIL held
    for item in prange(planes * nbands, nogil=True, schedule='static',
                       num_threads=_num_threads):
        p = item // nbands
        b = item - p * nbands
        failed |= _mapped_band(&x[0], H, W, &rowmap[0], &colmap[0], &tap_r[0], &tap_c[0],
                               &weights[0], nterms, fill[0], &out[0], OH, OW, lo, hi,
                               edges, chunk, p, b * band, min(OH, (b + 1) * band))
    if failed:
        raise MemoryError("correlate2d_mapped: no memory for the scratch term lists")


# ----------------------------------------------------------------------------- 2-D, sweep
# Twin of the Numba "2-D, sweep" section (contract there); the passes are C generated
# into _sweep_passes.h by gen_sweep.py, as Numba's are into _sweep_passes.py.

cdef extern from "_sweep_passes.h" nogil:
    enum:
        SWEEP_T "FD_SWEEP_T"
        SWEEP_ROWS "FD_SWEEP_ROWS"
        SWEEP_MAX_GROUP "FD_SWEEP_MAX_GROUP"
    void fd_sweep_pass_float(long g, const float* S, long s0, long SW, const float* wt,
                             long kh, long m0, long kw, float* O, long n)
    void fd_sweep_pass_double(long g, const double* S, long s0, long SW, const double* wt,
                              long kh, long m0, long kw, double* O, long n)


cdef inline void _sweep_pass(Py_ssize_t g, const floating* S, Py_ssize_t s0, Py_ssize_t SW,
                             const floating* wt, Py_ssize_t kh, Py_ssize_t m0, Py_ssize_t kw,
                             floating* O, Py_ssize_t n) noexcept nogil:
    if floating is float:
        fd_sweep_pass_float(g, S, s0, SW, wt, kh, m0, kw, O, n)
    else:
        fd_sweep_pass_double(g, S, s0, SW, wt, kh, m0, kw, O, n)


cdef void _sweep_item(const floating* x, Py_ssize_t H, Py_ssize_t W, const long long* rowmap,
                      const long long* colmap, const floating* wt, Py_ssize_t kh,
                      Py_ssize_t kw, floating fv, floating* out, Py_ssize_t OH,
                      Py_ssize_t OW, Py_ssize_t clo, Py_ssize_t chi, Py_ssize_t p,
                      Py_ssize_t i0, Py_ssize_t i1, Py_ssize_t e0, Py_ssize_t e1,
                      floating* S, Py_ssize_t SW, floating* O) noexcept nogil:
    cdef Py_ssize_t th = i1 - i0
    cdef Py_ssize_t cols = e1 - e0 + kw - 1
    cdef Py_ssize_t rows = th + kh - 1
    cdef Py_ssize_t plane = p * H * W
    cdef Py_ssize_t a = min(max(clo - e0, 0), cols)
    cdef Py_ssize_t b = max(min(chi - e0, cols), a)
    cdef Py_ssize_t ngroups = (kh + SWEEP_MAX_GROUP - 1) // SWEEP_MAX_GROUP
    cdef Py_ssize_t r, c, i, q, j, j0, tw, m0, gi, g, need, src, col
    cdef Py_ssize_t done = 0
    cdef floating* d
    cdef const floating* s
    for r in range(rows, rows + SWEEP_ROWS - 1):
        d = S + r * SW
        for c in range(cols):
            d[c] = 0
    # (while loops: Cython turns range() into a C loop only for a literal step)
    i = 0
    while i < th:
        need = min(rows, i + SWEEP_ROWS + kh - 1)
        for r in range(done, need):
            src = rowmap[i0 + r]
            d = S + r * SW
            if src < 0:
                for c in range(cols):
                    d[c] = fv
                continue
            s = x + plane + src * W
            for c in range(a):
                col = colmap[e0 + c]
                d[c] = s[col] if col >= 0 else fv
            if b > a:
                _copy(d + a, s + colmap[e0 + a], b - a)
            for c in range(b, cols):
                col = colmap[e0 + c]
                d[c] = s[col] if col >= 0 else fv
        done = need
        j0 = 0
        while j0 < e1 - e0:
            tw = min(SWEEP_T, e1 - e0 - j0)
            for c in range(SWEEP_ROWS * SWEEP_T):
                O[c] = 0
            m0 = 0
            for gi in range(ngroups):
                g = (kh - m0) // (ngroups - gi)
                _sweep_pass(g, S, (i + m0) * SW + j0, SW, wt, kh, m0, kw, O, tw)
                m0 += g
            for q in range(min(SWEEP_ROWS, th - i)):
                _copy(out + (p * OH + i0 + i + q) * OW + e0 + j0, O + q * SWEEP_T, tw)
            j0 += SWEEP_T
        i += SWEEP_ROWS


cdef inline void _copy(floating* d, const floating* s, Py_ssize_t n) noexcept nogil:
    cdef Py_ssize_t j
    for j in range(n):
        d[j] = s[j]


cdef inline Py_ssize_t _sweep_stride(Py_ssize_t strip, Py_ssize_t kw) noexcept nogil:
    return ((strip + kw - 1 + 7) // 8) * 8 + 8


cdef int _sweep_run(const floating* x, Py_ssize_t H, Py_ssize_t W, const long long* rowmap,
                    const long long* colmap, const floating* wt, Py_ssize_t kh,
                    Py_ssize_t kw, floating fv, floating* out, Py_ssize_t OH,
                    Py_ssize_t OW, Py_ssize_t clo, Py_ssize_t chi, Py_ssize_t band,
                    Py_ssize_t strip, Py_ssize_t item) noexcept nogil:
    cdef Py_ssize_t nb = (OH + band - 1) // band
    cdef Py_ssize_t ns = (OW + strip - 1) // strip
    cdef Py_ssize_t p = item // (nb * ns)
    cdef Py_ssize_t rest = item - p * nb * ns
    cdef Py_ssize_t bi = rest // ns
    cdef Py_ssize_t si = rest - bi * ns
    cdef Py_ssize_t SW = _sweep_stride(strip, kw)
    cdef floating* S = <floating*>malloc((band + kh - 1 + SWEEP_ROWS - 1) * SW * sizeof(floating))
    cdef floating* O = <floating*>malloc(SWEEP_ROWS * SWEEP_T * sizeof(floating))
    if S == NULL or O == NULL:
        free(S)
        free(O)
        return -1
    _sweep_item(x, H, W, rowmap, colmap, wt, kh, kw, fv, out, OH, OW, clo, chi, p,
                bi * band, min(OH, (bi + 1) * band), si * strip, min(OW, (si + 1) * strip),
                S, SW, O)
    free(S)
    free(O)
    return 0


def correlate2d_sweep(const floating[::1] x, Py_ssize_t H, Py_ssize_t W,
                      const long long[::1] rowmap, const long long[::1] colmap,
                      const floating[::1] wt, Py_ssize_t kh, Py_ssize_t kw,
                      const floating[::1] fill, floating[::1] out, Py_ssize_t OH,
                      Py_ssize_t OW, Py_ssize_t clo, Py_ssize_t chi, Py_ssize_t band,
                      Py_ssize_t strip):
    cdef Py_ssize_t items = ((out.shape[0] // (OH * OW)) * ((OH + band - 1) // band)
                             * ((OW + strip - 1) // strip))
    cdef Py_ssize_t item
    cdef int failed = 0
    with nogil:
        for item in range(items):
            failed |= _sweep_run(&x[0], H, W, &rowmap[0], &colmap[0], &wt[0], kh, kw,
                                 fill[0], &out[0], OH, OW, clo, chi, band, strip, item)
    if failed:
        raise MemoryError("correlate2d_sweep: no memory for the scratch rows")


def correlate2d_sweep_parallel(const floating[::1] x, Py_ssize_t H, Py_ssize_t W,
                               const long long[::1] rowmap, const long long[::1] colmap,
                               const floating[::1] wt, Py_ssize_t kh, Py_ssize_t kw,
                               const floating[::1] fill, floating[::1] out, Py_ssize_t OH,
                               Py_ssize_t OW, Py_ssize_t clo, Py_ssize_t chi,
                               Py_ssize_t band, Py_ssize_t strip):
    cdef Py_ssize_t items = ((out.shape[0] // (OH * OW)) * ((OH + band - 1) // band)
                             * ((OW + strip - 1) // strip))
    cdef Py_ssize_t item
    cdef int failed = 0
    for item in prange(items, nogil=True, schedule='static', num_threads=_num_threads):
        failed |= _sweep_run(&x[0], H, W, &rowmap[0], &colmap[0], &wt[0], kh, kw, fill[0],
                             &out[0], OH, OW, clo, chi, band, strip, item)
    if failed:
        raise MemoryError("correlate2d_sweep: no memory for the scratch rows")
