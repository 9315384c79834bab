"""Numba kernel of partitioned (streaming) convolution: one block in, one block out.

Kernel contract (shared by ``kernels/cython/partitioned`` and ``kernels/reference/partitioned``):
``process_block(x, y, fbuf, ibuf)`` with ``x`` and ``y`` C-contiguous blocks of
``channels x B`` samples (1-D or 2-D), ``fbuf`` a flat float array of the same dtype
holding every table and all the state, ``ibuf`` a flat int64 array holding the plan (the
layout is defined in ``kernels/reference/partitioned.py``: ``HDR_*``, ``SEG_*``, ``OP_*``)
and the counters.  ``fastdeconv.stream`` builds both buffers and checks ``y`` (shape,
dtype, contiguity, writeability) before each call; nothing is checked here.  Nothing
is allocated either: every scratch line (FFT work lines, the cross-fade's saved block)
is a region of ``fbuf``, and the flat ``reshape`` of ``x`` and ``y`` is a view; the
call runs without the GIL.

What a call computes (``T0`` = samples seen before it, ``T = T0 + B``)::

    y[c, n] = sum_k h[k] x[c, T0 + n - k]          (h of channel c, zero state before t=0)

as the sum of a direct-form head (taps ``[0, D)``) and FFT segments: segment ``s`` holds
``N`` partitions of ``P`` taps starting at tap ``d``; every ``P`` input samples it takes
the real FFT (size ``2P``, via a complex FFT of size ``P`` and a split step) of the last
``2P`` samples into a frequency-domain delay line, multiplies the delay line with the
partitions' spectra, and adds the last ``P`` samples of the inverse FFT to an output ring
``DELTA`` samples later than their input (overlap-save; the rest of ``d`` is read as an
older slot of the delay line).  A frame's work is a list of *ops* (``OP_*``) with costs;
with ``W > 0`` a call runs the ops of a frame that ended at ``t`` up to the fraction
``(T - t) / W`` of its total cost, so a large partition's transforms are spread evenly
over the blocks before its output is due instead of landing on one block.

FFTs: forward decimation in frequency (natural order in, bit-reversed out) and inverse
decimation in time (bit-reversed in, natural out) as radix-2^2 passes, so no bit-reversal
permutation is ever done; the spectra are stored bit-reversed, and the split steps find the
mirror bin ``P - f`` of position ``r >= 2`` at ``3 * 2^k - 1 - r`` (``2^k <= r < 2^(k+1)``:
a mirror inside each octave, so those loops vectorise).  Data are split re/im lines and the
loops run over unsigned indices so LLVM vectorises them.

Filter switch: when ``HDR_PENDING`` is set, the call first computes the block with the
active bank, then rebuilds the output ring as if the other bank had always been in use
(completed frames' outputs from ``T0`` on, redone with the new spectra from the delay
line; then the ops already done of the frame in progress, from its start, since that
reused its work lines), computes the block again and cross-fades the two with the ramp
at ``HDR_XFADE``.
"""
import threading

import numpy as np

from ..reference.partitioned import (HDR_B, HDR_BANK, HDR_D, HDR_HEAD0, HDR_HIST, HDR_HLEN,
                                     HDR_IN, HDR_NCH, HDR_NH, HDR_NSEG, HDR_OUT,
                                     HDR_PENDING, HDR_RIN, HDR_ROUT, HDR_SCRATCH, HDR_SEGS,
                                     HDR_T, HDR_TWTAB, HDR_XFADE, OP_A, OP_B, OP_C, OP_CODE,
                                     OP_CUM, OP_D, OP_DIF4, OP_DIT4, OP_E, OP_GATHER, OP_MAC,
                                     OP_ISPLIT, OP_OUT, OP_R2, OP_SIZE, OP_SPLIT, SEG_BINS,
                                     SEG_DELTA, SEG_E, SEG_FDL, SEG_H0, SEG_INV0, SEG_J,
                                     SEG_N, SEG_NOPS, SEG_OP, SEG_OPS, SEG_P,
                                     SEG_S, SEG_SIZE, SEG_TOTAL, SEG_W, SEG_WORK, SEG_WS)
from ._config import kernel_jit

__all__ = ["process_block", "prepare"]

U = np.uint64


@kernel_jit
def _gather(fbuf, nch, ring0, rin, work0, bins, start, n0, n1):
    # z[n] = x[start + 2n] + i x[start + 2n + 1]; start is even and the ring length a
    # power of two, so a pair never straddles the wrap.
    mask = rin - 1
    for c in range(nch):
        ring = U(ring0 + c * rin)
        zr = U(work0 + 2 * c * bins)
        zi = zr + U(bins)
        for n in range(U(n0), U(n1)):
            p = U((start + 2 * np.int64(n)) & mask)
            fbuf[zr + n] = fbuf[ring + p]
            fbuf[zi + n] = fbuf[ring + p + U(1)]


@kernel_jit
def _dif4_run(fbuf, zr, zi, tw, q, b, j0, j1):
    # Butterflies j0 <= j < j1 of the block of 4q points at b: two radix-2 DIF stages
    # fused (half sizes 2q then q), w = exp(-2 pi i / 4q):
    #   y0 = (x0 + x2) + (x1 + x3)            y1 = ((x0 + x2) - (x1 + x3)) w^2j
    #   y2 = ((x0 - x2) - i(x1 - x3)) w^j     y3 = ((x0 - x2) + i(x1 - x3)) w^3j
    # The twiddle lines are [w^j, w^2j, w^3j] (re, im), q values each.
    for j in range(j0, j1):
        i0 = b + j
        i1 = i0 + q
        i2 = i1 + q
        i3 = i2 + q
        w1r = fbuf[tw + j]
        w1i = fbuf[tw + q + j]
        w2r = fbuf[tw + U(2) * q + j]
        w2i = fbuf[tw + U(3) * q + j]
        w3r = fbuf[tw + U(4) * q + j]
        w3i = fbuf[tw + U(5) * q + j]
        x0r = fbuf[zr + i0]
        x0i = fbuf[zi + i0]
        x1r = fbuf[zr + i1]
        x1i = fbuf[zi + i1]
        x2r = fbuf[zr + i2]
        x2i = fbuf[zi + i2]
        x3r = fbuf[zr + i3]
        x3i = fbuf[zi + i3]
        ar = x0r + x2r
        ai = x0i + x2i
        br = x0r - x2r
        bi = x0i - x2i
        cr = x1r + x3r
        ci = x1i + x3i
        dr = x1r - x3r
        di = x1i - x3i
        fbuf[zr + i0] = ar + cr
        fbuf[zi + i0] = ai + ci
        sr = ar - cr
        si = ai - ci
        fbuf[zr + i1] = sr * w2r - si * w2i
        fbuf[zi + i1] = sr * w2i + si * w2r
        ur = br + di
        ui = bi - dr
        fbuf[zr + i2] = ur * w1r - ui * w1i
        fbuf[zi + i2] = ur * w1i + ui * w1r
        vr = br - di
        vi = bi + dr
        fbuf[zr + i3] = vr * w3r - vi * w3i
        fbuf[zi + i3] = vr * w3i + vi * w3r


@kernel_jit
def _dif4_cols(fbuf, zr, zi, tw, q, g0, g1, j0, j1):
    # The same butterflies, j outer and blocks inner (stride 4q), for small q.
    for j in range(j0, j1):
        w1r = fbuf[tw + j]
        w1i = fbuf[tw + q + j]
        w2r = fbuf[tw + U(2) * q + j]
        w2i = fbuf[tw + U(3) * q + j]
        w3r = fbuf[tw + U(4) * q + j]
        w3i = fbuf[tw + U(5) * q + j]
        for g in range(g0, g1):
            i0 = g * U(4) * q + j
            i1 = i0 + q
            i2 = i1 + q
            i3 = i2 + q
            x0r = fbuf[zr + i0]
            x0i = fbuf[zi + i0]
            x1r = fbuf[zr + i1]
            x1i = fbuf[zi + i1]
            x2r = fbuf[zr + i2]
            x2i = fbuf[zi + i2]
            x3r = fbuf[zr + i3]
            x3i = fbuf[zi + i3]
            ar = x0r + x2r
            ai = x0i + x2i
            br = x0r - x2r
            bi = x0i - x2i
            cr = x1r + x3r
            ci = x1i + x3i
            dr = x1r - x3r
            di = x1i - x3i
            fbuf[zr + i0] = ar + cr
            fbuf[zi + i0] = ai + ci
            sr = ar - cr
            si = ai - ci
            fbuf[zr + i1] = sr * w2r - si * w2i
            fbuf[zi + i1] = sr * w2i + si * w2r
            ur = br + di
            ui = bi - dr
            fbuf[zr + i2] = ur * w1r - ui * w1i
            fbuf[zi + i2] = ur * w1i + ui * w1r
            vr = br - di
            vi = bi + dr
            fbuf[zr + i3] = vr * w3r - vi * w3i
            fbuf[zi + i3] = vr * w3i + vi * w3r


@kernel_jit
def _dif4(fbuf, nch, work0, bins, tw, q, g0, g1, j0, j1):
    # Why two loop orders: with q >= 64 the contiguous j loop, in its own function (LLVM
    # then checks aliasing once per block and runs it vectorised), is fastest; shorter j
    # loops run j outer with the blocks inside, which beats re-entering a short vector
    # loop for every block.
    q = U(q)
    tw = U(tw)
    for c in range(nch):
        zr = U(work0 + 2 * c * bins)
        zi = zr + U(bins)
        if q >= U(64):
            for g in range(U(g0), U(g1)):
                _dif4_run(fbuf, zr, zi, tw, q, g * U(4) * q, U(j0), U(j1))
        else:
            _dif4_cols(fbuf, zr, zi, tw, q, U(g0), U(g1), U(j0), U(j1))


@kernel_jit
def _dit4_run(fbuf, zr, zi, tw, q, b, j0, j1):
    # Inverse radix-4 DIT butterflies (conjugate twiddles), bit-reversed in, natural out:
    #   a = x0, b = x1 w^-2j, c = x2 w^-j, d = x3 w^-3j
    #   y0 = (a + b) + (c + d)    y2 = (a + b) - (c + d)
    #   y1 = (a - b) + i(c - d)   y3 = (a - b) - i(c - d)
    for j in range(j0, j1):
        i0 = b + j
        i1 = i0 + q
        i2 = i1 + q
        i3 = i2 + q
        w1r = fbuf[tw + j]
        w1i = fbuf[tw + q + j]
        w2r = fbuf[tw + U(2) * q + j]
        w2i = fbuf[tw + U(3) * q + j]
        w3r = fbuf[tw + U(4) * q + j]
        w3i = fbuf[tw + U(5) * q + j]
        ar = fbuf[zr + i0]
        ai = fbuf[zi + i0]
        x1r = fbuf[zr + i1]
        x1i = fbuf[zi + i1]
        x2r = fbuf[zr + i2]
        x2i = fbuf[zi + i2]
        x3r = fbuf[zr + i3]
        x3i = fbuf[zi + i3]
        br = x1r * w2r + x1i * w2i
        bi = x1i * w2r - x1r * w2i
        cr = x2r * w1r + x2i * w1i
        ci = x2i * w1r - x2r * w1i
        dr = x3r * w3r + x3i * w3i
        di = x3i * w3r - x3r * w3i
        s0r = ar + br
        s0i = ai + bi
        s1r = ar - br
        s1i = ai - bi
        t0r = cr + dr
        t0i = ci + di
        t1r = cr - dr
        t1i = ci - di
        fbuf[zr + i0] = s0r + t0r
        fbuf[zi + i0] = s0i + t0i
        fbuf[zr + i2] = s0r - t0r
        fbuf[zi + i2] = s0i - t0i
        fbuf[zr + i1] = s1r - t1i
        fbuf[zi + i1] = s1i + t1r
        fbuf[zr + i3] = s1r + t1i
        fbuf[zi + i3] = s1i - t1r


@kernel_jit
def _dit4_cols(fbuf, zr, zi, tw, q, g0, g1, j0, j1):
    for j in range(j0, j1):
        w1r = fbuf[tw + j]
        w1i = fbuf[tw + q + j]
        w2r = fbuf[tw + U(2) * q + j]
        w2i = fbuf[tw + U(3) * q + j]
        w3r = fbuf[tw + U(4) * q + j]
        w3i = fbuf[tw + U(5) * q + j]
        for g in range(g0, g1):
            i0 = g * U(4) * q + j
            i1 = i0 + q
            i2 = i1 + q
            i3 = i2 + q
            ar = fbuf[zr + i0]
            ai = fbuf[zi + i0]
            x1r = fbuf[zr + i1]
            x1i = fbuf[zi + i1]
            x2r = fbuf[zr + i2]
            x2i = fbuf[zi + i2]
            x3r = fbuf[zr + i3]
            x3i = fbuf[zi + i3]
            br = x1r * w2r + x1i * w2i
            bi = x1i * w2r - x1r * w2i
            cr = x2r * w1r + x2i * w1i
            ci = x2i * w1r - x2r * w1i
            dr = x3r * w3r + x3i * w3i
            di = x3i * w3r - x3r * w3i
            s0r = ar + br
            s0i = ai + bi
            s1r = ar - br
            s1i = ai - bi
            t0r = cr + dr
            t0i = ci + di
            t1r = cr - dr
            t1i = ci - di
            fbuf[zr + i0] = s0r + t0r
            fbuf[zi + i0] = s0i + t0i
            fbuf[zr + i2] = s0r - t0r
            fbuf[zi + i2] = s0i - t0i
            fbuf[zr + i1] = s1r - t1i
            fbuf[zi + i1] = s1i + t1r
            fbuf[zr + i3] = s1r + t1i
            fbuf[zi + i3] = s1i - t1r


@kernel_jit
def _dit4(fbuf, nch, work0, bins, tw, q, g0, g1, j0, j1):
    # loop orders as in _dif4
    q = U(q)
    tw = U(tw)
    for c in range(nch):
        zr = U(work0 + 2 * c * bins)
        zi = zr + U(bins)
        if q >= U(64):
            for g in range(U(g0), U(g1)):
                _dit4_run(fbuf, zr, zi, tw, q, g * U(4) * q, U(j0), U(j1))
        else:
            _dit4_cols(fbuf, zr, zi, tw, q, U(g0), U(g1), U(j0), U(j1))


@kernel_jit
def _r2(fbuf, nch, work0, bins, m0, m1):
    # The radix-2 stage with half size 1 (twiddle 1): the last DIF stage and the first
    # DIT stage of a transform whose size is an odd power of two.
    for c in range(nch):
        zr = U(work0 + 2 * c * bins)
        zi = zr + U(bins)
        for m in range(U(m0), U(m1)):
            i0 = U(2) * m
            i1 = i0 + U(1)
            ar = fbuf[zr + i0]
            ai = fbuf[zi + i0]
            br = fbuf[zr + i1]
            bi = fbuf[zi + i1]
            fbuf[zr + i0] = ar + br
            fbuf[zi + i0] = ai + bi
            fbuf[zr + i1] = ar - br
            fbuf[zi + i1] = ai - bi


@kernel_jit
def _split_run(fbuf, zr, zi, xr, xi, wsr, wsi, c0, r0, r1):
    # X2 at bit-reversed positions r0 <= r < r1 from Z at r and at its mirror c0 - r:
    #   X2[f] = (Z[f] + conj Z[P-f]) - i W^f (Z[f] - conj Z[P-f]),  W = exp(-i pi / P)
    # (c0 - r decreases with r, so the loop vectorises with reversed loads).
    for r in range(r0, r1):
        m = c0 - r
        fr = fbuf[zr + r]
        fi = fbuf[zi + r]
        gr = fbuf[zr + m]
        gi = -fbuf[zi + m]
        sr = fr + gr
        si = fi + gi
        dr = fr - gr
        di = fi - gi
        wr = fbuf[wsr + r]
        wi = fbuf[wsi + r]
        mr = wr * dr - wi * di
        mi = wr * di + wi * dr
        fbuf[xr + r] = sr + mi
        fbuf[xi + r] = si - mr


@kernel_jit
def _split(fbuf, nch, work0, bins, fdl0, s, slot, ws, p, r0, r1):
    # Spectrum of the real frame, times 2, from the complex FFT Z of its sample pairs
    # (bit-reversed), for positions r0 <= r < r1 of [0, P]: position r holds f = rev(r);
    # in bit-reversed order the mirror bin P - f of r >= 2 is 3 * 2^k - 1 - r, k the
    # octave of r (2^k <= r < 2^(k+1)); r = 0 and r = P (Nyquist) read Z[0], r = 1 is its
    # own mirror.
    wsr = U(ws)
    wsi = wsr + U(bins)
    for c in range(nch):
        zr = U(work0 + 2 * c * bins)
        zi = zr + U(bins)
        xr = U(fdl0 + (c * s + slot) * 2 * bins)
        xi = xr + U(bins)
        # r = 0 and 1: their own mirrors (c0 = 2r)
        for r in range(r0, min(r1, 2)):
            _split_run(fbuf, zr, zi, xr, xi, wsr, wsi, U(2 * r), U(r), U(r + 1))
        lo = 2
        while lo < p:
            a = max(r0, lo)
            b = min(r1, 2 * lo)
            if a < b:
                _split_run(fbuf, zr, zi, xr, xi, wsr, wsi, U(3 * lo - 1), U(a), U(b))
            lo *= 2
        if r1 > p:
            # Nyquist: X2[P] = (Z0 + conj Z0) + i (Z0 - conj Z0) (W^P = -1, table entry)
            fr = fbuf[zr]
            fi = fbuf[zi]
            wr = fbuf[wsr + U(p)]
            mr = wr * (fr - fr)
            mi = wr * (fi + fi)
            fbuf[xr + U(p)] = fr + fr + mi
            fbuf[xi + U(p)] = (fi - fi) - mr


@kernel_jit
def _mac(fbuf, nch, nh, work0, bins, fdl0, s, hoff, npart, frame, r0, r1):
    # acc[r] = sum_i H_i[r] X_(frame - i)[r]; the first partition writes, so the work
    # line needs no clearing.  Channels inside partitions: a shared filter's chunk is
    # read once from memory and reused from L1 for every channel.
    r0 = U(r0)
    r1 = U(r1)
    for i in range(npart):
        slot = (frame - i) % s
        for c in range(nch):
            hc = c if nh > 1 else 0
            hr = U(hoff + (hc * npart + i) * 2 * bins)
            hi = hr + U(bins)
            xr = U(fdl0 + (c * s + slot) * 2 * bins)
            xi = xr + U(bins)
            ar = U(work0 + 2 * c * bins)
            ai = ar + U(bins)
            if i == 0:
                for r in range(r0, r1):
                    a = fbuf[hr + r]
                    b = fbuf[hi + r]
                    u = fbuf[xr + r]
                    v = fbuf[xi + r]
                    fbuf[ar + r] = a * u - b * v
                    fbuf[ai + r] = a * v + b * u
            else:
                for r in range(r0, r1):
                    a = fbuf[hr + r]
                    b = fbuf[hi + r]
                    u = fbuf[xr + r]
                    v = fbuf[xi + r]
                    fbuf[ar + r] += a * u - b * v
                    fbuf[ai + r] += a * v + b * u


@kernel_jit
def _isplit_pair(fbuf, zr, zi, wsr, wsi, r, m, both):
    # Z[f] = (Y[f] + conj Y[P-f]) + i (Y[f] - conj Y[P-f]) conj(W^f) at r (f = rev(r)),
    # and the same at its mirror m when ``both`` (in place: both read before written).
    ar = fbuf[zr + r]
    ai = fbuf[zi + r]
    br = fbuf[zr + m]
    bi = fbuf[zi + m]
    sr = ar + br
    si = ai - bi
    dr = ar - br
    di = ai + bi
    wr = fbuf[wsr + r]
    wi = fbuf[wsi + r]
    orr = dr * wr + di * wi
    oi = di * wr - dr * wi
    fbuf[zr + r] = sr - oi
    fbuf[zi + r] = si + orr
    if both:
        sr = br + ar
        si = bi - ai
        dr = br - ar
        di = bi + ai
        wr = fbuf[wsr + m]
        wi = fbuf[wsi + m]
        orr = dr * wr + di * wi
        oi = di * wr - dr * wi
        fbuf[zr + m] = sr - oi
        fbuf[zi + m] = si + orr


@kernel_jit
def _isplit_run(fbuf, zr, zi, wsr, wsi, c0, r0, r1):
    # pairs (r, c0 - r) for r0 <= r < r1, all in the lower half of one octave
    for r in range(r0, r1):
        _isplit_pair(fbuf, zr, zi, wsr, wsi, r, c0 - r, True)


@kernel_jit
def _isplit(fbuf, nch, work0, bins, ws, p, r0, r1):
    # Inverse split, in place on the work line, for positions r0 <= r < r1 of [0, P):
    # each pair (r, mirror) is done once, by the lower r of the octave; r = 0 pairs with
    # the Nyquist bin at P (read only), r = 1 with itself.
    wsr = U(ws)
    wsi = wsr + U(bins)
    for c in range(nch):
        zr = U(work0 + 2 * c * bins)
        zi = zr + U(bins)
        if r0 <= 0 < r1:
            _isplit_pair(fbuf, zr, zi, wsr, wsi, U(0), U(p), False)
        if r0 <= 1 < r1:
            _isplit_pair(fbuf, zr, zi, wsr, wsi, U(1), U(1), False)
        lo = 2
        while lo < p:
            a = max(r0, lo)
            b = min(r1, lo + lo // 2)
            if a < b:
                _isplit_run(fbuf, zr, zi, wsr, wsi, U(3 * lo - 1), U(a), U(b))
            lo *= 2


@kernel_jit
def _out(fbuf, nch, work0, bins, ring0, rout, pos0, half, clip, n0, n1):
    # Overlap-save: samples P..2P-1 of the inverse transform are z[P/2..P) as pairs.
    mask = rout - 1
    for c in range(nch):
        zr = U(work0 + 2 * c * bins)
        zi = zr + U(bins)
        ring = U(ring0 + c * rout)
        for n in range(U(n0), U(n1)):
            t = pos0 + 2 * (np.int64(n) - half)
            if t >= clip:
                fbuf[ring + U(t & mask)] += fbuf[zr + n]
            if t + 1 >= clip:
                fbuf[ring + U((t + 1) & mask)] += fbuf[zi + n]


@kernel_jit
def _run_ops(fbuf, ibuf, sg, frame, op_lo, op_hi, bank, clip):
    nch = ibuf[HDR_NCH]
    p = ibuf[sg + SEG_P]
    bins = ibuf[sg + SEG_BINS]
    work0 = ibuf[sg + SEG_WORK]
    fdl0 = ibuf[sg + SEG_FDL]
    s = ibuf[sg + SEG_S]
    ws = ibuf[sg + SEG_WS]
    twtab = ibuf[HDR_TWTAB]
    t = frame * p
    for k in range(op_lo, op_hi):
        o = ibuf[sg + SEG_OPS] + k * OP_SIZE
        code = ibuf[o + OP_CODE]
        a = ibuf[o + OP_A]
        b = ibuf[o + OP_B]
        if code == OP_GATHER:
            _gather(fbuf, nch, ibuf[HDR_IN], ibuf[HDR_RIN], work0, bins, t - 2 * p, a, b)
        elif code == OP_DIF4 or code == OP_DIT4:
            tw = ibuf[twtab + ibuf[o + OP_A]]
            q = np.int64(1) << a
            if code == OP_DIF4:
                _dif4(fbuf, nch, work0, bins, tw, q, b, ibuf[o + OP_C], ibuf[o + OP_D],
                      ibuf[o + OP_E])
            else:
                _dit4(fbuf, nch, work0, bins, tw, q, b, ibuf[o + OP_C], ibuf[o + OP_D],
                      ibuf[o + OP_E])
        elif code == OP_R2:
            _r2(fbuf, nch, work0, bins, a, b)
        elif code == OP_SPLIT:
            _split(fbuf, nch, work0, bins, fdl0, s, frame % s, ws, p, a, b)
        elif code == OP_MAC:
            _mac(fbuf, nch, ibuf[HDR_NH], work0, bins, fdl0, s, ibuf[sg + SEG_H0 + bank],
                 ibuf[sg + SEG_N], frame - ibuf[sg + SEG_E], a, b)
        elif code == OP_ISPLIT:
            _isplit(fbuf, nch, work0, bins, ws, p, a, b)
        elif code == OP_OUT:
            _out(fbuf, nch, work0, bins, ibuf[HDR_OUT], ibuf[HDR_ROUT],
                 t - p + ibuf[sg + SEG_DELTA], p // 2, clip, a, b)


@kernel_jit
def _advance(fbuf, ibuf, sg, t_end, bank, clip):
    # Run every op that is due by the end of this call (t_end), frame after frame.
    p = ibuf[sg + SEG_P]
    w = ibuf[sg + SEG_W]
    nops = ibuf[sg + SEG_NOPS]
    total = ibuf[sg + SEG_TOTAL]
    ops = ibuf[sg + SEG_OPS]
    while True:
        frame = ibuf[sg + SEG_J]
        t = frame * p
        if t > t_end:
            return
        if w == 0 or t_end - t >= w:
            target = total
        else:
            target = total * (t_end - t) // w
        k0 = ibuf[sg + SEG_OP]
        k = k0
        while k < nops and ibuf[ops + k * OP_SIZE + OP_CUM] < target:
            k += 1
        _run_ops(fbuf, ibuf, sg, frame, k0, k, bank, clip)
        if k < nops:
            ibuf[sg + SEG_OP] = k
            return
        ibuf[sg + SEG_J] = frame + 1
        ibuf[sg + SEG_OP] = 0


@kernel_jit
def _head_into(fbuf, ibuf, yf, c, bank, add):
    # yf[c*B : c*B + B] (+)= head taps x history; taps outer, samples inner (vectorises
    # over the block without reassociating sums).
    b = ibuf[HDR_B]
    d = ibuf[HDR_D]
    y0 = U(c * b)
    if add == 0:
        for n in range(U(b)):
            yf[y0 + n] = 0
    if d == 0:
        return
    hc = c if ibuf[HDR_NH] > 1 else 0
    taps = ibuf[HDR_HEAD0 + bank] + hc * d
    hist = ibuf[HDR_HIST] + c * ibuf[HDR_HLEN]
    for m in range(d):
        h = fbuf[taps + m]
        base = U(hist + d - 1 - m)
        for n in range(U(b)):
            yf[y0 + n] += h * fbuf[base + n]


@kernel_jit
def process_block(x, y, fbuf, ibuf):
    nch = ibuf[HDR_NCH]
    b = ibuf[HDR_B]
    d = ibuf[HDR_D]
    t0 = ibuf[HDR_T]
    t1 = t0 + b
    rin = ibuf[HDR_RIN]
    rout = ibuf[HDR_ROUT]
    bank = ibuf[HDR_BANK]
    xf = x.reshape(x.size)
    yf = y.reshape(y.size)
    hlen = ibuf[HDR_HLEN]
    for c in range(nch):
        ring = U(ibuf[HDR_IN] + c * rin)
        for n in range(b):
            fbuf[ring + U((t0 + n) & (rin - 1))] = xf[c * b + n]
        if d > 0:
            hist = U(ibuf[HDR_HIST] + c * hlen)
            for k in range(U(d - 1)):
                fbuf[hist + k] = fbuf[hist + U(b) + k]
            for n in range(U(b)):
                fbuf[hist + U(d - 1) + n] = xf[U(c * b) + n]
    nseg = ibuf[HDR_NSEG]
    for k in range(nseg):
        _advance(fbuf, ibuf, ibuf[HDR_SEGS] + k * SEG_SIZE, t1, bank, t0)
    for c in range(nch):
        _head_into(fbuf, ibuf, yf, c, bank, 0)
        ring = U(ibuf[HDR_OUT] + c * rout)
        y0 = U(c * b)
        for n in range(U(b)):
            pos = ring + U((t0 + np.int64(n)) & (rout - 1))
            yf[y0 + n] += fbuf[pos]
            fbuf[pos] = 0
    if ibuf[HDR_PENDING] != 0:
        new = 1 - bank
        for c in range(nch):
            ring = U(ibuf[HDR_OUT] + c * rout)
            for n in range(U(rout)):
                fbuf[ring + n] = 0
        for k in range(nseg):
            sg = ibuf[HDR_SEGS] + k * SEG_SIZE
            p = ibuf[sg + SEG_P]
            frame = ibuf[sg + SEG_J]
            inv0 = ibuf[sg + SEG_INV0]
            nops = ibuf[sg + SEG_NOPS]
            first = max(1, (t0 - ibuf[sg + SEG_DELTA]) // p + 1)
            for j in range(first, frame):
                _run_ops(fbuf, ibuf, sg, j, inv0, nops, new, t0)
            # The frame in progress: its work lines were just reused, so redo its
            # ops from the start (the forward ones give the same values again).
            _run_ops(fbuf, ibuf, sg, frame, 0, ibuf[sg + SEG_OP], new, t0)
        scratch = U(ibuf[HDR_SCRATCH])
        ramp = U(ibuf[HDR_XFADE])
        for c in range(nch):
            y0 = U(c * b)
            ring = U(ibuf[HDR_OUT] + c * rout)
            # scratch holds the old output while the new one is formed in y
            for n in range(U(b)):
                fbuf[scratch + n] = yf[y0 + n]
            _head_into(fbuf, ibuf, yf, c, new, 0)
            for n in range(U(b)):
                pos = ring + U((t0 + np.int64(n)) & (rout - 1))
                w = fbuf[ramp + n]
                yf[y0 + n] = fbuf[scratch + n] + w * (yf[y0 + n] + fbuf[pos]
                                                      - fbuf[scratch + n])
                fbuf[pos] = 0
        ibuf[HDR_BANK] = new
        ibuf[HDR_PENDING] = 0
    ibuf[HDR_T] = t1


_prepared = set()
_prepare_lock = threading.Lock()   # constructors only; process_block takes no lock


def prepare(dtype, ndims):
    """Compile (or load from the on-disk cache) ``process_block`` for blocks of ``dtype``
    with each number of dimensions in ``ndims``, then forbid further compilation.

    The block ``x`` is typed read-only, so writable and read-only blocks share one
    machine-code version; with compilation disabled a call with other types raises
    ``TypeError`` at once instead of compiling inside a real-time loop.
    """
    import numba
    from numba import types

    ft = numba.from_dtype(np.dtype(dtype))
    with _prepare_lock:
        todo = [nd for nd in ndims if (np.dtype(dtype), nd) not in _prepared]
        if not todo:
            return
        process_block.disable_compile(False)
        try:
            for nd in todo:
                process_block.compile((types.Array(ft, nd, "C", readonly=True),
                                       types.Array(ft, nd, "C"), types.Array(ft, 1, "C"),
                                       types.Array(types.int64, 1, "C")))
                _prepared.add((np.dtype(dtype), nd))
        finally:
            process_block.disable_compile(True)
