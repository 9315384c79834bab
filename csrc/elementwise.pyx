# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython fused elementwise kernels of the iterative restoration methods.

Mirrors ``fastdeconv/kernels/numba/elementwise.py`` line by line (same names, same
arguments, same loops and blocks; its docstring defines each kernel); change both files
together.  Contract: flat C-contiguous float32/float64 arrays of one dtype (complex64/
complex128 for ``spectrum_multiply``), scalars of that dtype, outputs preallocated, an
absent optional array passed with length 0; nothing is checked here.  Each kernel is one
pass over memory, without the GIL; reductions accumulate in double, within each block
of ``BLOCK`` elements and then over the blocks in block order (the serial kernels too),
so sums do not depend on the thread count.  ``NAME_parallel`` runs the blocks of
``NAME`` over OpenMP threads (the module's ``set_num_threads`` value, which the package
wrapper sets from :func:`fastdeconv.get_num_threads` on every call); its only allocation
is the per-block partial sums of a reduction (``nblocks`` doubles).  Every product that
Numba's 'contract' fuses into a sum is an explicit fused multiply-add here (``_fma``),
so on a CPU with FMA the float64 results equal Numba's bit for bit (float32 ones may
differ in the last bit where Numba's typing takes a step in float64), and gcc's choice
cannot differ between the serial and the prange-outlined loops.
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport log, sqrt
from libc.stdlib cimport free, malloc
cimport openmp

__all__ = ["rl_ratio", "rl_update", "tv_gradient", "tv_denominator", "biggs_extrapolate",
           "biggs_dots", "spectrum_multiply", "rl_ratio_parallel", "rl_update_parallel",
           "tv_gradient_parallel", "tv_denominator_parallel", "biggs_extrapolate_parallel",
           "biggs_dots_parallel", "spectrum_multiply_parallel", "set_num_threads",
           "get_num_threads", "BLOCK"]

# Elements per block: the same value as BLOCK in kernels/numba/elementwise.py (reasons
# there), so both backends sum in the same order.
cdef enum:
    _BLOCK = 16384

BLOCK = _BLOCK

# Read by every prange; a C int, so the threads never touch a Python object.
cdef int _num_threads = max(openmp.omp_get_max_threads(), 1)


def set_num_threads(int n):
    """Set the OpenMP thread count of the ``*_parallel`` kernels (clipped to >= 1)."""
    global _num_threads
    _num_threads = n if n > 0 else 1


def get_num_threads():
    """The OpenMP thread count the ``*_parallel`` kernels use."""
    return _num_threads


cdef extern from *:
    """
    /* Explicit fused multiply-add where the CPU has one (as Numba's 'contract' uses it);
       elsewhere the plain expression, which the compiler then cannot contract either. */
    #if defined(__FMA__) || defined(__aarch64__) || defined(__ARM_FEATURE_FMA)
    #define FD_EW_FMA(a, b, c) __builtin_fma((a), (b), (c))
    #define FD_EW_FMAF(a, b, c) __builtin_fmaf((a), (b), (c))
    #else
    #define FD_EW_FMA(a, b, c) ((a) * (b) + (c))
    #define FD_EW_FMAF(a, b, c) ((a) * (b) + (c))
    #endif
    """
    double FD_EW_FMA(double, double, double) nogil
    float FD_EW_FMAF(float, float, float) nogil


cdef inline floating _fma(floating a, floating b, floating c) noexcept nogil:
    # c + a * b, fused where Numba's 'contract' fuses it.  Spelled out: gcc's own choice
    # differed between a serial loop and the same loop outlined by prange (its SLP pass
    # paired two accumulators and left their products unfused), so sums changed with
    # the thread count.
    if floating is float:
        return FD_EW_FMAF(a, b, c)
    else:
        return FD_EW_FMA(a, b, c)


cdef inline double _fmad(double a, double b, double c) noexcept nogil:
    # _fma for the double accumulators of the float32 kernels too
    return FD_EW_FMA(a, b, c)


cdef inline Py_ssize_t _nblocks(Py_ssize_t n) noexcept nogil:
    return (n + _BLOCK - 1) // _BLOCK


cdef double* _partials(Py_ssize_t count) except NULL:
    # per-block sums of a parallel reduction (at least one double: malloc(0) may be NULL)
    cdef double* part = <double*>malloc(max(count, 1) * sizeof(double))
    if part == NULL:
        raise MemoryError()
    return part


# ------------------------------------------------------------------------ rl_ratio

cdef inline double _rl_ratio_block(const floating* image, const floating* conv,
                                   const floating* weights, bint weighted, floating* out,
                                   floating eps, floating threshold, bint want_kl,
                                   Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef double kl = 0.0
    cdef double term
    cdef floating c, y, r
    cdef Py_ssize_t i
    for i in range(start, stop):
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
                term = _fmad(<double>y, log(<double>y / <double>c), term)
            if weighted:
                term = term * <double>weights[i]
            kl += term
    return kl


def rl_ratio(const floating[::1] image, const floating[::1] conv,
             const floating[::1] weights, floating[::1] out, floating eps,
             floating threshold, bint want_kl):
    cdef Py_ssize_t n = image.shape[0]
    cdef bint weighted = weights.shape[0] > 0
    cdef double kl = 0.0
    cdef Py_ssize_t b
    with nogil:
        for b in range(_nblocks(n)):
            kl += _rl_ratio_block(&image[0], &conv[0], &weights[0], weighted, &out[0], eps,
                                  threshold, want_kl, b * _BLOCK, min(n, (b + 1) * _BLOCK))
    return kl


def rl_ratio_parallel(const floating[::1] image, const floating[::1] conv,
                      const floating[::1] weights, floating[::1] out, floating eps,
                      floating threshold, bint want_kl):
    cdef Py_ssize_t n = image.shape[0]
    cdef bint weighted = weights.shape[0] > 0
    cdef Py_ssize_t nb = _nblocks(n)
    cdef double* part = _partials(nb)
    cdef double kl = 0.0
    cdef Py_ssize_t b
    for b in prange(nb, nogil=True, schedule='static', num_threads=_num_threads):
        part[b] = _rl_ratio_block(&image[0], &conv[0], &weights[0], weighted, &out[0],
                                  eps, threshold, want_kl, b * _BLOCK,
                                  min(n, (b + 1) * _BLOCK))
    for b in range(nb):
        kl += part[b]
    free(part)
    return kl


# ------------------------------------------------------------------------ rl_update

cdef inline void _rl_update_block(floating* x, const floating* corr, const floating* norm,
                                  bint use_norm, const floating* denom, bint use_denom,
                                  Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    # the want_change=False loop: no reduction, so it vectorises
    cdef floating f, d
    cdef Py_ssize_t i
    for i in range(start, stop):
        f = corr[i]
        if use_norm:
            d = norm[i]
            f = f / d if d != 0 else 1
        if use_denom:
            f = f / denom[i]
        x[i] = x[i] * f


cdef inline void _rl_update_change_block(floating* x, const floating* corr,
                                         const floating* norm, bint use_norm,
                                         const floating* denom, bint use_denom,
                                         Py_ssize_t start, Py_ssize_t stop,
                                         double* sums) noexcept nogil:
    # sums[0] = change2, sums[1] = norm2 of the block
    cdef double change2 = 0.0
    cdef double norm2 = 0.0
    cdef double diff
    cdef floating old, f, d, new
    cdef Py_ssize_t i
    for i in range(start, stop):
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
        change2 = _fmad(diff, diff, change2)
        norm2 = _fmad(<double>new, <double>new, norm2)
    sums[0] = change2
    sums[1] = norm2


def rl_update(floating[::1] x, const floating[::1] corr, const floating[::1] norm,
              const floating[::1] denom, bint want_change):
    cdef Py_ssize_t n = x.shape[0]
    cdef bint use_norm = norm.shape[0] > 0
    cdef bint use_denom = denom.shape[0] > 0
    cdef double change2 = 0.0
    cdef double norm2 = 0.0
    cdef double sums[2]
    cdef Py_ssize_t b
    with nogil:
        if not want_change:
            for b in range(_nblocks(n)):
                _rl_update_block(&x[0], &corr[0], &norm[0], use_norm, &denom[0], use_denom,
                                 b * _BLOCK, min(n, (b + 1) * _BLOCK))
        else:
            for b in range(_nblocks(n)):
                _rl_update_change_block(&x[0], &corr[0], &norm[0], use_norm, &denom[0],
                                        use_denom, b * _BLOCK, min(n, (b + 1) * _BLOCK),
                                        sums)
                change2 += sums[0]
                norm2 += sums[1]
    return change2, norm2


def rl_update_parallel(floating[::1] x, const floating[::1] corr,
                       const floating[::1] norm, const floating[::1] denom,
                       bint want_change):
    cdef Py_ssize_t n = x.shape[0]
    cdef bint use_norm = norm.shape[0] > 0
    cdef bint use_denom = denom.shape[0] > 0
    cdef Py_ssize_t nb = _nblocks(n)
    cdef double change2 = 0.0
    cdef double norm2 = 0.0
    cdef double* part
    cdef Py_ssize_t b
    if not want_change:
        for b in prange(nb, nogil=True, schedule='static', num_threads=_num_threads):
            _rl_update_block(&x[0], &corr[0], &norm[0], use_norm, &denom[0], use_denom,
                             b * _BLOCK, min(n, (b + 1) * _BLOCK))
        return change2, norm2
    part = _partials(2 * nb)
    for b in prange(nb, nogil=True, schedule='static', num_threads=_num_threads):
        _rl_update_change_block(&x[0], &corr[0], &norm[0], use_norm, &denom[0], use_denom,
                                b * _BLOCK, min(n, (b + 1) * _BLOCK), part + 2 * b)
    for b in range(nb):
        change2 += part[2 * b]
        norm2 += part[2 * b + 1]
    free(part)
    return change2, norm2


# ------------------------------------------------------------------------ TV

cdef inline void _tv_gradient_block(const floating* x, Py_ssize_t n, const long long* sizes,
                                    const long long* strides, Py_ssize_t ndim,
                                    floating eps, floating* grad, Py_ssize_t start,
                                    Py_ssize_t stop) noexcept nogil:
    cdef floating eps2 = eps * eps
    cdef floating total, g, inv
    cdef Py_ssize_t i, a, coord
    for i in range(start, stop):
        total = eps2
        for a in range(ndim):
            coord = (i // strides[a]) % sizes[a]
            g = x[i + strides[a]] - x[i] if coord + 1 < sizes[a] else 0
            grad[a * n + i] = g
            total = _fma(g, g, total)
        inv = 1 / sqrt(total)
        for a in range(ndim):
            grad[a * n + i] = grad[a * n + i] * inv


def tv_gradient(const floating[::1] x, const long long[::1] sizes,
                const long long[::1] strides, floating eps, floating[::1] grad):
    cdef Py_ssize_t n = x.shape[0]
    cdef Py_ssize_t b
    with nogil:
        for b in range(_nblocks(n)):
            _tv_gradient_block(&x[0], n, &sizes[0], &strides[0], sizes.shape[0], eps,
                               &grad[0], b * _BLOCK, min(n, (b + 1) * _BLOCK))


def tv_gradient_parallel(const floating[::1] x, const long long[::1] sizes,
                         const long long[::1] strides, floating eps, floating[::1] grad):
    cdef Py_ssize_t n = x.shape[0]
    cdef Py_ssize_t ndim = sizes.shape[0]
    cdef Py_ssize_t b
    for b in prange(_nblocks(n), nogil=True, schedule='static', num_threads=_num_threads):
        _tv_gradient_block(&x[0], n, &sizes[0], &strides[0], ndim, eps, &grad[0],
                           b * _BLOCK, min(n, (b + 1) * _BLOCK))


cdef inline void _tv_denominator_block(const floating* grad, Py_ssize_t n,
                                       const long long* sizes, const long long* strides,
                                       Py_ssize_t ndim, floating lam, floating* out,
                                       Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    cdef floating div, d
    cdef Py_ssize_t i, a, coord
    for i in range(start, stop):
        div = 0
        for a in range(ndim):
            coord = (i // strides[a]) % sizes[a]
            div = div + grad[a * n + i]
            if coord > 0:
                div = div - grad[a * n + i - strides[a]]
        d = _fma(-lam, div, <floating>1)
        out[i] = d if d > 1e-4 else <floating>1e-4


def tv_denominator(const floating[::1] grad, const long long[::1] sizes,
                   const long long[::1] strides, floating lam, floating[::1] out):
    cdef Py_ssize_t n = out.shape[0]
    cdef Py_ssize_t b
    with nogil:
        for b in range(_nblocks(n)):
            _tv_denominator_block(&grad[0], n, &sizes[0], &strides[0], sizes.shape[0], lam,
                                  &out[0], b * _BLOCK, min(n, (b + 1) * _BLOCK))


def tv_denominator_parallel(const floating[::1] grad, const long long[::1] sizes,
                            const long long[::1] strides, floating lam,
                            floating[::1] out):
    cdef Py_ssize_t n = out.shape[0]
    cdef Py_ssize_t ndim = sizes.shape[0]
    cdef Py_ssize_t b
    for b in prange(_nblocks(n), nogil=True, schedule='static', num_threads=_num_threads):
        _tv_denominator_block(&grad[0], n, &sizes[0], &strides[0], ndim, lam, &out[0],
                              b * _BLOCK, min(n, (b + 1) * _BLOCK))


# ------------------------------------------------------------------------ Biggs

cdef inline void _biggs_extrapolate_block(const floating* x, const floating* x_prev,
                                          floating alpha, floating* y, Py_ssize_t start,
                                          Py_ssize_t stop) noexcept nogil:
    cdef floating v
    cdef Py_ssize_t i
    for i in range(start, stop):
        v = _fma(alpha, x[i] - x_prev[i], x[i])
        y[i] = v if v > 0 else 0


def biggs_extrapolate(const floating[::1] x, const floating[::1] x_prev, floating alpha,
                      floating[::1] y):
    cdef Py_ssize_t n = x.shape[0]
    cdef Py_ssize_t b
    with nogil:
        for b in range(_nblocks(n)):
            _biggs_extrapolate_block(&x[0], &x_prev[0], alpha, &y[0], b * _BLOCK,
                                     min(n, (b + 1) * _BLOCK))


def biggs_extrapolate_parallel(const floating[::1] x, const floating[::1] x_prev,
                               floating alpha, floating[::1] y):
    cdef Py_ssize_t n = x.shape[0]
    cdef Py_ssize_t b
    for b in prange(_nblocks(n), nogil=True, schedule='static', num_threads=_num_threads):
        _biggs_extrapolate_block(&x[0], &x_prev[0], alpha, &y[0], b * _BLOCK,
                                 min(n, (b + 1) * _BLOCK))


cdef inline void _biggs_dots_block(const floating* x_new, const floating* y, floating* g,
                                   const floating* g_prev, Py_ssize_t start,
                                   Py_ssize_t stop, double* sums) noexcept nogil:
    # sums[0] = dot, sums[1] = norm of the block
    cdef double dot = 0.0
    cdef double norm = 0.0
    cdef floating gi
    cdef Py_ssize_t i
    for i in range(start, stop):
        gi = x_new[i] - y[i]
        g[i] = gi
        dot = _fmad(<double>gi, <double>g_prev[i], dot)
        norm = _fmad(<double>g_prev[i], <double>g_prev[i], norm)
    sums[0] = dot
    sums[1] = norm


def biggs_dots(const floating[::1] x_new, const floating[::1] y, floating[::1] g,
               const floating[::1] g_prev):
    cdef Py_ssize_t n = x_new.shape[0]
    cdef double dot = 0.0
    cdef double norm = 0.0
    cdef double sums[2]
    cdef Py_ssize_t b
    with nogil:
        for b in range(_nblocks(n)):
            _biggs_dots_block(&x_new[0], &y[0], &g[0], &g_prev[0], b * _BLOCK,
                              min(n, (b + 1) * _BLOCK), sums)
            dot += sums[0]
            norm += sums[1]
    return dot, norm


def biggs_dots_parallel(const floating[::1] x_new, const floating[::1] y,
                        floating[::1] g, const floating[::1] g_prev):
    cdef Py_ssize_t n = x_new.shape[0]
    cdef Py_ssize_t nb = _nblocks(n)
    cdef double* part = _partials(2 * nb)
    cdef double dot = 0.0
    cdef double norm = 0.0
    cdef Py_ssize_t b
    for b in prange(nb, nogil=True, schedule='static', num_threads=_num_threads):
        _biggs_dots_block(&x_new[0], &y[0], &g[0], &g_prev[0], b * _BLOCK,
                          min(n, (b + 1) * _BLOCK), part + 2 * b)
    for b in range(nb):
        dot += part[2 * b]
        norm += part[2 * b + 1]
    free(part)
    return dot, norm


# ------------------------------------------------------------------------ spectra

ctypedef float complex cfloat_t
ctypedef double complex cdouble_t

ctypedef fused complex_t:
    cfloat_t
    cdouble_t




cdef extern from *:
    """
    /* (a + ib)(c + id) on n interleaved (re, im) pairs, s *= k, rounded as Numba's
       contracted complex product rounds it: re = fma(a, c, (-b) d), im = fma(b, c, a d).
       With AVX2 and FMA, written with in-lane shuffles (as numpy's own loop is): gcc
       vectorises the scalar form by de-interleaving with lane-crossing permutes, which
       measured 2.3x slower than numpy's '*='.  The scalar loop finishes the tail (and
       is all there is elsewhere); both round alike. */
    #if defined(__AVX2__) && defined(__FMA__)
    #include <immintrin.h>
    #endif
    static inline void fd_cmul_f32(float* s, const float* k, Py_ssize_t n) {
        Py_ssize_t j = 0;
        float a, b, c, d;
    #if defined(__AVX2__) && defined(__FMA__)
        const __m256 neg_re = _mm256_castsi256_ps(_mm256_set1_epi64x(0x80000000LL));
        for (; j + 4 <= n; j += 4) {
            __m256 S = _mm256_loadu_ps(s + 2 * j);
            __m256 K = _mm256_loadu_ps(k + 2 * j);
            __m256 re = _mm256_moveldup_ps(K);                               /* c c */
            __m256 im = _mm256_movehdup_ps(K);                               /* d d */
            __m256 V = _mm256_xor_ps(_mm256_permute_ps(S, 0xB1), neg_re);    /* -b a */
            _mm256_storeu_ps(s + 2 * j, _mm256_fmadd_ps(S, re, _mm256_mul_ps(V, im)));
        }
    #endif
        for (; j < n; j++) {
            a = s[2 * j]; b = s[2 * j + 1]; c = k[2 * j]; d = k[2 * j + 1];
            s[2 * j] = FD_EW_FMAF(a, c, (-b) * d);
            s[2 * j + 1] = FD_EW_FMAF(b, c, a * d);
        }
    }
    static inline void fd_cmul_f64(double* s, const double* k, Py_ssize_t n) {
        Py_ssize_t j = 0;
        double a, b, c, d;
    #if defined(__AVX2__) && defined(__FMA__)
        const __m256d neg_re = _mm256_castsi256_pd(_mm256_setr_epi64x(
            (long long)0x8000000000000000ULL, 0, (long long)0x8000000000000000ULL, 0));
        for (; j + 2 <= n; j += 2) {
            __m256d S = _mm256_loadu_pd(s + 2 * j);
            __m256d K = _mm256_loadu_pd(k + 2 * j);
            __m256d re = _mm256_movedup_pd(K);                               /* c c */
            __m256d im = _mm256_permute_pd(K, 0xF);                          /* d d */
            __m256d V = _mm256_xor_pd(_mm256_permute_pd(S, 0x5), neg_re);   /* -b a */
            _mm256_storeu_pd(s + 2 * j, _mm256_fmadd_pd(S, re, _mm256_mul_pd(V, im)));
        }
    #endif
        for (; j < n; j++) {
            a = s[2 * j]; b = s[2 * j + 1]; c = k[2 * j]; d = k[2 * j + 1];
            s[2 * j] = FD_EW_FMA(a, c, (-b) * d);
            s[2 * j + 1] = FD_EW_FMA(b, c, a * d);
        }
    }
    """
    void fd_cmul_f32(float* s, const float* k, Py_ssize_t n) nogil
    void fd_cmul_f64(double* s, const double* k, Py_ssize_t n) nogil


cdef inline void _spectrum_block(complex_t* spec, const complex_t* kspec, Py_ssize_t base,
                                 Py_ssize_t start, Py_ssize_t stop) noexcept nogil:
    # spec[base + j] *= kspec[j] for start <= j < stop, on the (re, im) floats
    if complex_t is cfloat_t:
        fd_cmul_f32(<float*>(spec + base + start), <const float*>(kspec + start),
                    stop - start)
    else:
        fd_cmul_f64(<double*>(spec + base + start), <const double*>(kspec + start),
                    stop - start)


def spectrum_multiply(complex_t[::1] spec, const complex_t[::1] kspec):
    cdef Py_ssize_t n = kspec.shape[0]
    cdef Py_ssize_t rows = spec.shape[0] // n if n > 0 else 0
    cdef Py_ssize_t r
    with nogil:
        for r in range(rows):
            _spectrum_block(&spec[0], &kspec[0], r * n, 0, n)


def spectrum_multiply_parallel(complex_t[::1] spec, const complex_t[::1] kspec):
    # work items: (row, block of the row); a row shorter than a block is one item
    cdef Py_ssize_t n = kspec.shape[0]
    cdef Py_ssize_t rows = spec.shape[0] // n if n > 0 else 0
    cdef Py_ssize_t nb = _nblocks(n)
    cdef Py_ssize_t item, r, b
    for item in prange(rows * nb, nogil=True, schedule='static', num_threads=_num_threads):
        r = item // nb
        b = item - r * nb
        _spectrum_block(&spec[0], &kspec[0], r * n, b * _BLOCK,
                        min(n, (b + 1) * _BLOCK))
