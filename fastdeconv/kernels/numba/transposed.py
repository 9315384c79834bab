"""Numba kernels of ``fastdeconv.nn``: multi-channel strided convolution and transposed
convolution, both as a sum of stride-1 *phase* correlations.

Kernel contract (shared by ``kernels/cython/transposed`` and
``kernels/reference/transposed``): every array C-contiguous and native byte order;
``x``, ``weights``, ``bias`` and ``out`` of one float dtype (float32 or float64), the
index arrays ``int64``; ``out`` preallocated; shapes consistent with ``dims`` (below).
Nothing is checked or allocated here except one scratch row block per thread.

``phase_correlate(x, offsets, term_ptr, weights, bias, geom, chunk_ptr, dims, out)``
with ``dims = (N, G, CO, DO, HO, WO, SD, SH, SW, HQ, WQ, XG, ROWS, SPLIT)`` computes, for
every batch ``n < N``, group ``g < G``, output channel ``co < CO`` of the group
(``c = g*CO + co``), phase ``f`` and phase position ``(ud, uh, uw)`` with
``(nd, nh, nw, od0, oh0, ow0) = geom[6*f : 6*f + 6]``, ``ud < nd``, ``uh < nh``,
``uw < nw``::

    out[n, c, od0 + SD*ud, oh0 + SH*uh, ow0 + SW*uw] =
        bias[c] + sum_t weights[c, t] * x[(n*G + g)*XG + offsets[t] + (ud*HQ + uh)*WQ + uw]

with ``t`` over ``term_ptr[f] <= t < term_ptr[f + 1]``; ``out`` is ``(N, G*CO, DO, HO,
WO)``, ``weights`` is ``(G*CO, term_ptr[-1])``, ``x`` a flat buffer of ``N*G`` blocks of
``XG`` elements (one group's input channels, each a ``(.., HQ, WQ)`` plane or a stack of
polyphase planes).  ``chunk_ptr[f]`` is the number of work items before phase ``f``:
phase ``f`` has ``ceil(((nd - 1)*HQ + nh) / ROWS)`` of them.  Every output element
belongs to at most one phase position (then each has one writer); elements of no phase
are not written (``fastdeconv.nn`` writes the bias there first: the output residues that
no tap reaches).
``phase_correlate_parallel`` runs the work items as ``SPLIT`` contiguous runs, one per
thread (``SPLIT`` is ignored by the serial kernel).

``phase_pack(x, dims, out)`` with ``dims = (NC, D, H, W, SD, SH, SW, DQ, HQ, WQ, LD,
LH, LW)`` writes the zero-padded polyphase components of the ``(NC, D, H, W)`` array
``x``: for every ``c < NC``, residues ``rd < SD``, ``rh < SH``, ``rw < SW`` and ``(a, b,
e) < (DQ, HQ, WQ)``::

    out[c, rd, rh, rw, a, b, e] = x[c, a*SD + rd - LD, b*SH + rh - LH, e*SW + rw - LW]

(0 where that index is outside ``x``), ``out`` being ``(NC, SD, SH, SW, DQ, HQ, WQ)``
(it may be longer; the rest is not touched).  With unit strides it is plain zero
padding.  ``phase_pack_parallel`` splits the ``(c, rd, rh, rw)`` planes over threads.

How the public functions use it (``fastdeconv/nn.py``): a convolution with stride ``s``
is one phase over the polyphase-decomposed, padded input (tap ``k*d = q*s + r`` reads
plane ``r`` at shift ``q``); a transposed convolution has one phase per output residue
modulo the stride that some tap lands on (at most ``SD*SH*SW``, at most one per tap and
axis), each the correlation of the zero-padded input with the sub-kernel of the taps
that land on that residue.  Both are then dense stride-1 sums over ``(input channel,
tap)`` terms.

Why the loops have this shape: a work item is (batch, group, pair of output channels,
phase, block of ``ROWS`` rows).  The rows of a block are treated as one long row of
``(ROWS - 1)*WQ + nw`` columns, so the inner loop runs over many contiguous columns even
when the image is narrow (the ``WQ - nw`` columns between rows are computed and
dropped); where ``x`` has samples after the last one read (``fastdeconv.nn`` leaves 8
zeros there), the block is rounded up to whole vectors, so no term ends in a scalar
remainder loop.  Each pass of the inner loop fuses four terms for two output channels:
four input vectors feed eight FMAs (two chains of four), and each accumulator row is
loaded and stored once per four terms; the caller sizes ``ROWS`` so that the two
accumulator rows stay in L1, and consecutive terms are the taps of one input channel,
which read overlapping parts of its plane from L1.  The finished block is then stored
(with the output stride of its phase).
"""
import numpy as np
from numba import prange

from ._config import kernel_jit

__all__ = ["phase_correlate", "phase_correlate_parallel", "phase_pack", "phase_pack_parallel"]


@kernel_jit
def _acc2(x, xb, offsets, t0, t1, weights, wa, wb, acc, aa, ab, n):
    # acc[aa + j] += sum_t weights[wa + t] * x[xb + offsets[t] + j] for j < n, and the
    # same for (wb, ab): the two output channels share every input load.
    n = np.uint64(n)
    xb = np.uint64(xb)
    aa = np.uint64(aa)
    ab = np.uint64(ab)
    t = t0
    while t + 4 <= t1:
        b0 = xb + np.uint64(offsets[t])
        b1 = xb + np.uint64(offsets[t + 1])
        b2 = xb + np.uint64(offsets[t + 2])
        b3 = xb + np.uint64(offsets[t + 3])
        u0 = weights[wa + t]
        u1 = weights[wa + t + 1]
        u2 = weights[wa + t + 2]
        u3 = weights[wa + t + 3]
        v0 = weights[wb + t]
        v1 = weights[wb + t + 1]
        v2 = weights[wb + t + 2]
        v3 = weights[wb + t + 3]
        for j in range(n):
            x0 = x[b0 + j]
            x1 = x[b1 + j]
            x2 = x[b2 + j]
            x3 = x[b3 + j]
            acc[aa + j] = acc[aa + j] + u0 * x0 + u1 * x1 + u2 * x2 + u3 * x3
            acc[ab + j] = acc[ab + j] + v0 * x0 + v1 * x1 + v2 * x2 + v3 * x3
        t += 4
    while t < t1:
        b0 = xb + np.uint64(offsets[t])
        u0 = weights[wa + t]
        v0 = weights[wb + t]
        for j in range(n):
            x0 = x[b0 + j]
            acc[aa + j] += u0 * x0
            acc[ab + j] += v0 * x0
        t += 1


@kernel_jit
def _acc1(x, xb, offsets, t0, t1, weights, wa, acc, aa, n):
    # _acc2 for a single output channel (the odd one of a group).
    n = np.uint64(n)
    xb = np.uint64(xb)
    aa = np.uint64(aa)
    t = t0
    while t + 4 <= t1:
        b0 = xb + np.uint64(offsets[t])
        b1 = xb + np.uint64(offsets[t + 1])
        b2 = xb + np.uint64(offsets[t + 2])
        b3 = xb + np.uint64(offsets[t + 3])
        u0 = weights[wa + t]
        u1 = weights[wa + t + 1]
        u2 = weights[wa + t + 2]
        u3 = weights[wa + t + 3]
        for j in range(n):
            acc[aa + j] = acc[aa + j] + u0 * x[b0 + j] + u1 * x[b1 + j] \
                + u2 * x[b2 + j] + u3 * x[b3 + j]
        t += 4
    while t < t1:
        b0 = xb + np.uint64(offsets[t])
        u0 = weights[wa + t]
        for j in range(n):
            acc[aa + j] += u0 * x[b0 + j]
        t += 1


@kernel_jit
def _work_item(item, x, offsets, term_ptr, weights, bias, geom, chunk_ptr, dims, out, acc):
    ng = dims[1]
    nco = dims[2]
    do_ = dims[3]
    ho = dims[4]
    wo = dims[5]
    sd = dims[6]
    sh = dims[7]
    sw = dims[8]
    hq = dims[9]
    wq = dims[10]
    xg = dims[11]
    rows = dims[12]
    nphase = term_ptr.shape[0] - 1
    nchunks = chunk_ptr[nphase]
    npairs = (nco + 1) // 2
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
        far = max(far, offsets[t])
    length = max(length, min((length + 7) // 8 * 8, x.shape[0] - xb - far))
    nterms = term_ptr[nphase]
    co = 2 * pair
    two = co + 1 < nco
    ca = g * nco + co
    cb = ca + 1 if two else ca
    half = acc.shape[0] // 2
    ba = bias[ca]
    bb = bias[cb]
    for j in range(np.uint64(length)):
        acc[j] = ba
        acc[np.uint64(half) + j] = bb
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
        a = np.uint64((r - r0) * wq)
        ob = (od0 + sd * ud) * ho * wo + (oh0 + sh * uh) * wo + ow0
        oa = np.uint64((n * ng * nco + ca) * plane + ob)
        usw = np.uint64(sw)
        for uw in range(np.uint64(nw)):
            out[oa + usw * uw] = acc[a + uw]
        if two:
            oa += np.uint64(plane)
            a += np.uint64(half)
            for uw in range(np.uint64(nw)):
                out[oa + usw * uw] = acc[a + uw]


@kernel_jit
def phase_correlate(x, offsets, term_ptr, weights, bias, geom, chunk_ptr, dims, out):
    nitems = dims[0] * dims[1] * ((dims[2] + 1) // 2) * chunk_ptr[chunk_ptr.shape[0] - 1]
    acc = np.empty(2 * (dims[12] * dims[10] + 8), dtype=out.dtype)
    for item in range(nitems):
        _work_item(item, x, offsets, term_ptr, weights, bias, geom, chunk_ptr, dims, out,
                   acc)


@kernel_jit(parallel=True)
def phase_correlate_parallel(x, offsets, term_ptr, weights, bias, geom, chunk_ptr, dims,
                             out):
    nitems = dims[0] * dims[1] * ((dims[2] + 1) // 2) * chunk_ptr[chunk_ptr.shape[0] - 1]
    # SPLIT contiguous runs of items (one per thread), each with its own accumulators
    # (allocated once per run, not per item).
    nth = max(1, min(dims[13], nitems))
    for tid in prange(nth):
        acc = np.empty(2 * (dims[12] * dims[10] + 8), dtype=out.dtype)
        lo = tid * nitems // nth
        hi = (tid + 1) * nitems // nth
        for item in range(lo, hi):
            _work_item(item, x, offsets, term_ptr, weights, bias, geom, chunk_ptr, dims,
                       out, acc)


@kernel_jit
def _pack_plane(x, dims, out, plane):
    # One (channel, residue) plane of the output: the index is decoded once (divisions
    # by run-time values cost tens of cycles), then its rows are filled in order.
    d = dims[1]
    h = dims[2]
    w = dims[3]
    sd = dims[4]
    sh = dims[5]
    sw = dims[6]
    dq = dims[7]
    hq = dims[8]
    wq = dims[9]
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
    # Unsigned indices: Numba then drops its negative-index wrap-around, which kept the
    # copy loop from vectorising (twice slower).
    o = np.uint64(plane * dq * hq * wq)
    uwq = np.uint64(wq)
    usw = np.uint64(sw)
    ue0 = np.uint64(e0)
    ue1 = np.uint64(e1)
    for a in range(dq):
        i = a * sd + rd - dims[10]
        for b in range(hq):
            k = b * sh + rh - dims[11]
            if i < 0 or i >= d or k < 0 or k >= h:
                for e in range(uwq):
                    out[o + e] = 0
            else:
                for e in range(ue0):
                    out[o + e] = 0
                src = np.uint64(((c * d + i) * h + k) * w - lead)
                if sw == 1:  # plain padding (transposed convolutions): a vector copy
                    for e in range(ue0, ue1):
                        out[o + e] = x[src + e]
                else:
                    for e in range(ue0, ue1):
                        out[o + e] = x[src + e * usw]
                for e in range(ue1, uwq):
                    out[o + e] = 0
            o += uwq


@kernel_jit
def phase_pack(x, dims, out):
    for plane in range(dims[0] * dims[4] * dims[5] * dims[6]):
        _pack_plane(x, dims, out, plane)


@kernel_jit(parallel=True)
def phase_pack_parallel(x, dims, out):
    for plane in prange(dims[0] * dims[4] * dims[5] * dims[6]):
        _pack_plane(x, dims, out, plane)
