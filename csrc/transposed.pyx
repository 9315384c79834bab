# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython kernels of ``fastdeconv.nn``: phase correlation and polyphase packing.

Mirrors ``fastdeconv/kernels/numba/transposed.py`` line by line: ``_acc2``, ``_acc1``,
``_work_item``, ``_pack_plane``, ``phase_correlate(_parallel)`` and ``phase_pack(_parallel)``
have the same names, the same loops and (for the public four) the same arguments;
change both files together.  The contract (what each kernel computes, the ``dims``
vectors) is stated in the Numba module's docstring.

Contract in short: every array C-contiguous and native byte order; ``x``, ``weights``,
``bias``, ``out`` float32 or float64 (one dtype), index arrays int64; outputs
preallocated; nothing is checked here.  The parallel kernels use OpenMP with the
module's ``set_num_threads`` value (the caller sets it from
:func:`fastdeconv.get_num_threads` on every call).  Cython's ``cdivision`` truncates
towards zero, so every division here has a non-negative numerator (as in the Numba
code, which floors).
"""
from cython cimport floating
from cython.parallel cimport prange
from libc.stdlib cimport free, malloc
cimport openmp

__all__ = ["phase_correlate", "phase_correlate_parallel", "phase_pack",
           "phase_pack_parallel", "set_num_threads", "get_num_threads"]

# Read by every parallel region; a C int, so the threads never touch a Python object.
cdef int _num_threads = max(openmp.omp_get_max_threads(), 1)


def set_num_threads(int n):
    """Set the OpenMP thread count of the ``*_parallel`` kernels (clipped to >= 1)."""
    global _num_threads
    _num_threads = n if n > 0 else 1


def get_num_threads():
    """The OpenMP thread count the ``*_parallel`` kernels use."""
    return _num_threads


cdef inline void _acc2(const floating* x, Py_ssize_t xb, const long long* offsets,
                       Py_ssize_t t0, Py_ssize_t t1, const floating* weights,
                       Py_ssize_t wa, Py_ssize_t wb, floating* acc, Py_ssize_t aa,
                       Py_ssize_t ab, Py_ssize_t n) noexcept nogil:
    # acc[aa + j] += sum_t weights[wa + t] * x[xb + offsets[t] + j] for j < n, and the
    # same for (wb, ab): the two output channels share every input load.  The sums are
    # left-to-right chains, which -ffp-contract=fast turns into one FMA per term.
    cdef floating* pa = acc + aa
    cdef floating* pb = acc + ab
    cdef const floating* ua = weights + wa
    cdef const floating* vb = weights + wb
    cdef const floating* x0
    cdef const floating* x1
    cdef const floating* x2
    cdef const floating* x3
    cdef floating u0, u1, u2, u3, v0, v1, v2, v3, y0, y1, y2, y3
    cdef Py_ssize_t j
    cdef Py_ssize_t t = t0
    while t + 4 <= t1:
        x0 = x + xb + offsets[t]
        x1 = x + xb + offsets[t + 1]
        x2 = x + xb + offsets[t + 2]
        x3 = x + xb + offsets[t + 3]
        u0 = ua[t]
        u1 = ua[t + 1]
        u2 = ua[t + 2]
        u3 = ua[t + 3]
        v0 = vb[t]
        v1 = vb[t + 1]
        v2 = vb[t + 2]
        v3 = vb[t + 3]
        for j in range(n):
            y0 = x0[j]
            y1 = x1[j]
            y2 = x2[j]
            y3 = x3[j]
            pa[j] = pa[j] + u0 * y0 + u1 * y1 + u2 * y2 + u3 * y3
            pb[j] = pb[j] + v0 * y0 + v1 * y1 + v2 * y2 + v3 * y3
        t += 4
    while t < t1:
        x0 = x + xb + offsets[t]
        u0 = ua[t]
        v0 = vb[t]
        for j in range(n):
            y0 = x0[j]
            pa[j] = pa[j] + u0 * y0
            pb[j] = pb[j] + v0 * y0
        t += 1


cdef inline void _acc1(const floating* x, Py_ssize_t xb, const long long* offsets,
                       Py_ssize_t t0, Py_ssize_t t1, const floating* weights,
                       Py_ssize_t wa, floating* acc, Py_ssize_t aa,
                       Py_ssize_t n) noexcept nogil:
    # _acc2 for a single output channel (the odd one of a group).
    cdef floating* pa = acc + aa
    cdef const floating* ua = weights + wa
    cdef const floating* x0
    cdef const floating* x1
    cdef const floating* x2
    cdef const floating* x3
    cdef floating u0, u1, u2, u3
    cdef Py_ssize_t j
    cdef Py_ssize_t t = t0
    while t + 4 <= t1:
        x0 = x + xb + offsets[t]
        x1 = x + xb + offsets[t + 1]
        x2 = x + xb + offsets[t + 2]
        x3 = x + xb + offsets[t + 3]
        u0 = ua[t]
        u1 = ua[t + 1]
        u2 = ua[t + 2]
        u3 = ua[t + 3]
        for j in range(n):
            pa[j] = pa[j] + u0 * x0[j] + u1 * x1[j] + u2 * x2[j] + u3 * x3[j]
        t += 4
    while t < t1:
        x0 = x + xb + offsets[t]
        u0 = ua[t]
        for j in range(n):
            pa[j] = pa[j] + u0 * x0[j]
        t += 1


cdef inline void _work_item(Py_ssize_t item, const floating* x, Py_ssize_t xsize,
                            const long long* offsets, const long long* term_ptr,
                            Py_ssize_t nphase, const floating* weights,
                            const floating* bias, const long long* geom,
                            const long long* chunk_ptr, const long long* dims,
                            floating* out, floating* acc,
                            Py_ssize_t half) noexcept nogil:
    cdef Py_ssize_t ng = dims[1]
    cdef Py_ssize_t nco = dims[2]
    cdef Py_ssize_t do_ = dims[3]
    cdef Py_ssize_t ho = dims[4]
    cdef Py_ssize_t wo = dims[5]
    cdef Py_ssize_t sd = dims[6]
    cdef Py_ssize_t sh = dims[7]
    cdef Py_ssize_t sw = dims[8]
    cdef Py_ssize_t hq = dims[9]
    cdef Py_ssize_t wq = dims[10]
    cdef Py_ssize_t xg = dims[11]
    cdef Py_ssize_t rows = dims[12]
    cdef Py_ssize_t nchunks = chunk_ptr[nphase]
    cdef Py_ssize_t npairs = (nco + 1) // 2
    cdef Py_ssize_t c, rest, pair, g, n, f, nd, nh, nw, od0, oh0, ow0, r0, r1
    cdef Py_ssize_t t0, t1, xb, length, far, t, nterms, co, ca, cb, j, r, ud, uh, a
    cdef Py_ssize_t ob, oa, uw, plane
    cdef bint two
    cdef floating ba, bb
    # item -> (n, g, channel pair, chunk); the chunk index runs fastest so that
    # neighbouring items (one thread's under a static schedule) share weights.
    c = item % nchunks
    rest = item // nchunks
    pair = rest % npairs
    rest = rest // npairs
    g = rest % ng
    n = rest // ng
    f = 0
    while chunk_ptr[f + 1] <= c:
        f += 1
    nd = geom[6 * f]
    nh = geom[6 * f + 1]
    nw = geom[6 * f + 2]
    od0 = geom[6 * f + 3]
    oh0 = geom[6 * f + 4]
    ow0 = geom[6 * f + 5]
    r0 = (c - chunk_ptr[f]) * rows
    r1 = min(r0 + rows, (nd - 1) * hq + nh)
    t0 = term_ptr[f]
    t1 = term_ptr[f + 1]
    xb = (n * ng + g) * xg + r0 * wq
    # Columns computed: the block, rounded up to whole vectors (no scalar remainder
    # loop per term) where x has that many samples after the furthest term's read.
    length = (r1 - r0 - 1) * wq + nw
    far = 0
    for t in range(t0, t1):
        far = max(far, <Py_ssize_t>offsets[t])
    length = max(length, min((length + 7) // 8 * 8, xsize - xb - far))
    nterms = term_ptr[nphase]
    co = 2 * pair
    two = co + 1 < nco
    ca = g * nco + co
    cb = ca + 1 if two else ca
    ba = bias[ca]
    bb = bias[cb]
    for j in range(length):
        acc[j] = ba
        acc[half + j] = bb
    if two:
        _acc2(x, xb, offsets, t0, t1, weights, ca * nterms, cb * nterms, acc, 0, half,
              length)
    else:
        _acc1(x, xb, offsets, t0, t1, weights, ca * nterms, acc, 0, length)
    plane = do_ * ho * wo
    for r in range(r0, r1):
        ud = r // hq
        uh = r - ud * hq
        if uh >= nh:
            continue  # a row between two depth slices of the plane
        a = (r - r0) * wq
        ob = (od0 + sd * ud) * ho * wo + (oh0 + sh * uh) * wo + ow0
        oa = (n * ng * nco + ca) * plane + ob
        for uw in range(nw):
            out[oa + sw * uw] = acc[a + uw]
        if two:
            oa = oa + plane
            for uw in range(nw):
                out[oa + sw * uw] = acc[half + a + uw]


def phase_correlate(const floating[::1] x, const long long[::1] offsets,
                    const long long[::1] term_ptr, const floating[::1] weights,
                    const floating[::1] bias, const long long[::1] geom,
                    const long long[::1] chunk_ptr, const long long[::1] dims,
                    floating[::1] out):
    cdef Py_ssize_t nphase = term_ptr.shape[0] - 1
    cdef Py_ssize_t nitems = dims[0] * dims[1] * ((dims[2] + 1) // 2) * chunk_ptr[nphase]
    cdef Py_ssize_t half = dims[12] * dims[10] + 8
    cdef floating* acc = <floating*>malloc(2 * half * sizeof(floating))
    cdef Py_ssize_t item
    if acc == NULL:
        raise MemoryError()
    with nogil:
        for item in range(nitems):
            _work_item(item, &x[0], x.shape[0], &offsets[0], &term_ptr[0], nphase,
                       &weights[0], &bias[0], &geom[0], &chunk_ptr[0], &dims[0], &out[0],
                       acc, half)
    free(acc)


def phase_correlate_parallel(const floating[::1] x, const long long[::1] offsets,
                             const long long[::1] term_ptr, const floating[::1] weights,
                             const floating[::1] bias, const long long[::1] geom,
                             const long long[::1] chunk_ptr, const long long[::1] dims,
                             floating[::1] out):
    cdef Py_ssize_t nphase = term_ptr.shape[0] - 1
    cdef Py_ssize_t nitems = dims[0] * dims[1] * ((dims[2] + 1) // 2) * chunk_ptr[nphase]
    cdef Py_ssize_t half = dims[12] * dims[10] + 8
    cdef Py_ssize_t nth = max(1, min(<Py_ssize_t>dims[13], nitems))
    cdef floating* scratch = <floating*>malloc(nth * 2 * half * sizeof(floating))
    cdef const floating* xp = &x[0]
    cdef Py_ssize_t xsize = x.shape[0]
    cdef const long long* op = &offsets[0]
    cdef const long long* tp = &term_ptr[0]
    cdef const floating* wp = &weights[0]
    cdef const floating* bp = &bias[0]
    cdef const long long* gp = &geom[0]
    cdef const long long* cp = &chunk_ptr[0]
    cdef const long long* dp = &dims[0]
    cdef floating* outp = &out[0]
    cdef Py_ssize_t tid, item, lo, hi
    if scratch == NULL:
        raise MemoryError()
    # SPLIT contiguous runs of items (one per thread), each with its own accumulators.
    for tid in prange(nth, nogil=True, schedule='static', num_threads=_num_threads):
        lo = tid * nitems // nth
        hi = (tid + 1) * nitems // nth
        for item in range(lo, hi):
            _work_item(item, xp, xsize, op, tp, nphase, wp, bp, gp, cp, dp, outp,
                       scratch + tid * 2 * half, half)
    free(scratch)


cdef inline void _pack_plane(const floating* x, const long long* dims, floating* out,
                             Py_ssize_t plane) noexcept nogil:
    # One (channel, residue) plane of the output: the index is decoded once (divisions
    # by run-time values cost tens of cycles), then its rows are filled in order.
    cdef Py_ssize_t d = dims[1]
    cdef Py_ssize_t h = dims[2]
    cdef Py_ssize_t w = dims[3]
    cdef Py_ssize_t sd = dims[4]
    cdef Py_ssize_t sh = dims[5]
    cdef Py_ssize_t sw = dims[6]
    cdef Py_ssize_t dq = dims[7]
    cdef Py_ssize_t hq = dims[8]
    cdef Py_ssize_t wq = dims[9]
    cdef Py_ssize_t rw, rest, rh, rd, c, lead, e0, last, e1, o, a, i, b, k, e, src
    rw = plane % sw
    rest = plane // sw
    rh = rest % sh
    rest = rest // sh
    rd = rest % sd
    c = rest // sd
    # Columns e with 0 <= e*sw + rw - LW < w are copied, the others are padding.
    lead = dims[12] - rw
    e0 = (lead + sw - 1) // sw if lead > 0 else 0
    last = w - 1 + lead
    e1 = min(wq, last // sw + 1) if last >= 0 else 0
    e0 = min(e0, wq)
    e1 = max(e1, e0)
    o = plane * dq * hq * wq
    for a in range(dq):
        i = a * sd + rd - dims[10]
        for b in range(hq):
            k = b * sh + rh - dims[11]
            if i < 0 or i >= d or k < 0 or k >= h:
                for e in range(wq):
                    out[o + e] = 0
            else:
                for e in range(e0):
                    out[o + e] = 0
                src = ((c * d + i) * h + k) * w - lead
                if sw == 1:  # plain padding (transposed convolutions): a vector copy
                    for e in range(e0, e1):
                        out[o + e] = x[src + e]
                else:
                    for e in range(e0, e1):
                        out[o + e] = x[src + e * sw]
                for e in range(e1, wq):
                    out[o + e] = 0
            o += wq


def phase_pack(const floating[::1] x, const long long[::1] dims, floating[::1] out):
    cdef Py_ssize_t nplanes = dims[0] * dims[4] * dims[5] * dims[6]
    cdef Py_ssize_t plane
    with nogil:
        for plane in range(nplanes):
            _pack_plane(&x[0], &dims[0], &out[0], plane)


def phase_pack_parallel(const floating[::1] x, const long long[::1] dims,
                        floating[::1] out):
    cdef Py_ssize_t nplanes = dims[0] * dims[4] * dims[5] * dims[6]
    cdef const floating* xp = &x[0]
    cdef const long long* dp = &dims[0]
    cdef floating* outp = &out[0]
    cdef Py_ssize_t plane
    for plane in prange(nplanes, nogil=True, schedule='static', num_threads=_num_threads):
        _pack_plane(xp, dp, outp, plane)
