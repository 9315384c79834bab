# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Cython partitioned (streaming) convolution kernel.

Mirrors ``fastdeconv/kernels/numba/partitioned.py`` function by function (same names,
same arguments, same loops; its docstring defines the kernel and the state layout, whose
constants live in ``kernels/reference/partitioned.py``); change the files together.
Contract: ``x``/``y`` C-contiguous blocks (1-D or 2-D), ``fbuf`` a flat float32/float64
array of their dtype, ``ibuf`` a flat int64 array; nothing is checked or allocated here
except that ``y`` is writeable.  The arrays are read through their data pointers (taking
a typed memoryview of each argument would create a Python object per call, and
``process_block`` must not allocate); the work runs without the GIL.
"""
cimport numpy as cnp
from cython cimport floating
from libc.stdint cimport int64_t, uint64_t

cnp.import_array()

__all__ = ["process_block", "layout"]

# the layout constants (must equal kernels/reference/partitioned.py; tests compare them)
cdef enum:
    HDR_NCH = 1
    HDR_B = 2
    HDR_T = 3
    HDR_PENDING = 4
    HDR_BANK = 5
    HDR_NSEG = 6
    HDR_D = 7
    HDR_NH = 8
    HDR_RIN = 9
    HDR_IN = 10
    HDR_ROUT = 11
    HDR_OUT = 12
    HDR_HIST = 13
    HDR_HLEN = 14
    HDR_HEAD0 = 15
    HDR_XFADE = 17
    HDR_SCRATCH = 18
    HDR_TWTAB = 19
    HDR_SEGS = 20
    SEG_P = 0
    SEG_N = 2
    SEG_E = 3
    SEG_DELTA = 4
    SEG_W = 5
    SEG_S = 6
    SEG_J = 7
    SEG_OP = 8
    SEG_NOPS = 9
    SEG_INV0 = 10
    SEG_OPS = 11
    SEG_TOTAL = 12
    SEG_WORK = 13
    SEG_BINS = 14
    SEG_FDL = 15
    SEG_H0 = 16
    SEG_WS = 18
    SEG_SIZE = 24
    OP_CODE = 0
    OP_A = 1
    OP_B = 2
    OP_C = 3
    OP_D = 4
    OP_E = 5
    OP_CUM = 6
    OP_SIZE = 7
    OP_GATHER = 1
    OP_DIF4 = 2
    OP_R2 = 3
    OP_SPLIT = 4
    OP_MAC = 5
    OP_ISPLIT = 6
    OP_DIT4 = 7
    OP_OUT = 8


def layout():
    """The layout constants compiled into this module (for the consistency test)."""
    return dict(HDR_NCH=HDR_NCH, HDR_B=HDR_B, HDR_T=HDR_T, HDR_PENDING=HDR_PENDING,
                HDR_BANK=HDR_BANK, HDR_NSEG=HDR_NSEG, HDR_D=HDR_D, HDR_NH=HDR_NH,
                HDR_RIN=HDR_RIN, HDR_IN=HDR_IN, HDR_ROUT=HDR_ROUT, HDR_OUT=HDR_OUT,
                HDR_HIST=HDR_HIST, HDR_HLEN=HDR_HLEN, HDR_HEAD0=HDR_HEAD0,
                HDR_XFADE=HDR_XFADE, HDR_SCRATCH=HDR_SCRATCH, HDR_TWTAB=HDR_TWTAB,
                HDR_SEGS=HDR_SEGS, SEG_P=SEG_P, SEG_N=SEG_N, SEG_E=SEG_E,
                SEG_DELTA=SEG_DELTA, SEG_W=SEG_W, SEG_S=SEG_S, SEG_J=SEG_J, SEG_OP=SEG_OP,
                SEG_NOPS=SEG_NOPS, SEG_INV0=SEG_INV0, SEG_OPS=SEG_OPS, SEG_TOTAL=SEG_TOTAL,
                SEG_WORK=SEG_WORK, SEG_BINS=SEG_BINS, SEG_FDL=SEG_FDL, SEG_H0=SEG_H0,
                SEG_WS=SEG_WS, SEG_SIZE=SEG_SIZE, OP_CODE=OP_CODE,
                OP_A=OP_A, OP_B=OP_B, OP_C=OP_C, OP_D=OP_D, OP_E=OP_E, OP_CUM=OP_CUM,
                OP_SIZE=OP_SIZE, OP_GATHER=OP_GATHER, OP_DIF4=OP_DIF4, OP_R2=OP_R2,
                OP_SPLIT=OP_SPLIT, OP_MAC=OP_MAC, OP_ISPLIT=OP_ISPLIT, OP_DIT4=OP_DIT4,
                OP_OUT=OP_OUT)


cdef inline int64_t _pymod(int64_t a, int64_t b) noexcept nogil:
    # Python's a % b (non-negative for b > 0), as Numba computes it
    cdef int64_t r = a % b
    return r + b if r < 0 else r


cdef inline int64_t _floordiv(int64_t a, int64_t b) noexcept nogil:
    # Python's a // b (rounds toward minus infinity)
    cdef int64_t q = a // b
    if (a % b != 0) and ((a < 0) != (b < 0)):
        q -= 1
    return q


cdef void _gather(floating* fbuf, int64_t nch, int64_t ring0, int64_t rin, int64_t work0,
                  int64_t bins, int64_t start, int64_t n0, int64_t n1) noexcept nogil:
    cdef int64_t mask = rin - 1
    cdef int64_t c
    cdef uint64_t n, p, ring, zr, zi
    for c in range(nch):
        ring = <uint64_t>(ring0 + c * rin)
        zr = <uint64_t>(work0 + 2 * c * bins)
        zi = zr + <uint64_t>bins
        for n in range(<uint64_t>n0, <uint64_t>n1):
            p = <uint64_t>((start + 2 * <int64_t>n) & mask)
            fbuf[zr + n] = fbuf[ring + p]
            fbuf[zi + n] = fbuf[ring + p + 1]


cdef void _dif4_run(floating* fbuf, uint64_t zr, uint64_t zi, uint64_t tw, uint64_t q,
                     uint64_t b, uint64_t j0, uint64_t j1) noexcept nogil:
    cdef uint64_t j
    cdef uint64_t i0, i1, i2, i3
    cdef floating x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i, ar, ai, br, bi, cr, ci, dr, di
    cdef floating w1r, w1i, w2r, w2i, w3r, w3i, sr, si, ur, ui, vr, vi
    for j in range(j0, j1):
        i0 = b + j
        i1 = i0 + q
        i2 = i1 + q
        i3 = i2 + q
        w1r = fbuf[tw + j]
        w1i = fbuf[tw + q + j]
        w2r = fbuf[tw + 2 * q + j]
        w2i = fbuf[tw + 3 * q + j]
        w3r = fbuf[tw + 4 * q + j]
        w3i = fbuf[tw + 5 * q + j]
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


cdef void _dif4_cols(floating* fbuf, uint64_t zr, uint64_t zi, uint64_t tw, uint64_t q,
                      uint64_t g0, uint64_t g1, uint64_t j0, uint64_t j1) noexcept nogil:
    cdef uint64_t j, g
    cdef uint64_t i0, i1, i2, i3
    cdef floating x0r, x0i, x1r, x1i, x2r, x2i, x3r, x3i, ar, ai, br, bi, cr, ci, dr, di
    cdef floating w1r, w1i, w2r, w2i, w3r, w3i, sr, si, ur, ui, vr, vi
    for j in range(j0, j1):
        w1r = fbuf[tw + j]
        w1i = fbuf[tw + q + j]
        w2r = fbuf[tw + 2 * q + j]
        w2i = fbuf[tw + 3 * q + j]
        w3r = fbuf[tw + 4 * q + j]
        w3i = fbuf[tw + 5 * q + j]
        for g in range(g0, g1):
            i0 = g * 4 * q + j
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


cdef void _dif4(floating* fbuf, int64_t nch, int64_t work0, int64_t bins, int64_t tw_,
                int64_t q_, int64_t g0, int64_t g1, int64_t j0, int64_t j1) noexcept nogil:
    cdef uint64_t q = <uint64_t>q_
    cdef uint64_t tw = <uint64_t>tw_
    cdef int64_t c
    cdef uint64_t zr, zi, g
    for c in range(nch):
        zr = <uint64_t>(work0 + 2 * c * bins)
        zi = zr + <uint64_t>bins
        if q >= 64:
            for g in range(<uint64_t>g0, <uint64_t>g1):
                _dif4_run(fbuf, zr, zi, tw, q, g * 4 * q, <uint64_t>j0, <uint64_t>j1)
        else:
            _dif4_cols(fbuf, zr, zi, tw, q, <uint64_t>g0, <uint64_t>g1, <uint64_t>j0,
                        <uint64_t>j1)


cdef void _dit4_run(floating* fbuf, uint64_t zr, uint64_t zi, uint64_t tw, uint64_t q,
                     uint64_t b, uint64_t j0, uint64_t j1) noexcept nogil:
    cdef uint64_t j
    cdef uint64_t i0, i1, i2, i3
    cdef floating ar, ai, x1r, x1i, x2r, x2i, x3r, x3i, br, bi, cr, ci, dr, di
    cdef floating w1r, w1i, w2r, w2i, w3r, w3i, s0r, s0i, s1r, s1i, t0r, t0i, t1r, t1i
    for j in range(j0, j1):
        i0 = b + j
        i1 = i0 + q
        i2 = i1 + q
        i3 = i2 + q
        w1r = fbuf[tw + j]
        w1i = fbuf[tw + q + j]
        w2r = fbuf[tw + 2 * q + j]
        w2i = fbuf[tw + 3 * q + j]
        w3r = fbuf[tw + 4 * q + j]
        w3i = fbuf[tw + 5 * q + j]
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


cdef void _dit4_cols(floating* fbuf, uint64_t zr, uint64_t zi, uint64_t tw, uint64_t q,
                      uint64_t g0, uint64_t g1, uint64_t j0, uint64_t j1) noexcept nogil:
    cdef uint64_t j, g
    cdef uint64_t i0, i1, i2, i3
    cdef floating ar, ai, x1r, x1i, x2r, x2i, x3r, x3i, br, bi, cr, ci, dr, di
    cdef floating w1r, w1i, w2r, w2i, w3r, w3i, s0r, s0i, s1r, s1i, t0r, t0i, t1r, t1i
    for j in range(j0, j1):
        w1r = fbuf[tw + j]
        w1i = fbuf[tw + q + j]
        w2r = fbuf[tw + 2 * q + j]
        w2i = fbuf[tw + 3 * q + j]
        w3r = fbuf[tw + 4 * q + j]
        w3i = fbuf[tw + 5 * q + j]
        for g in range(g0, g1):
            i0 = g * 4 * q + j
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


cdef void _dit4(floating* fbuf, int64_t nch, int64_t work0, int64_t bins, int64_t tw_,
                int64_t q_, int64_t g0, int64_t g1, int64_t j0, int64_t j1) noexcept nogil:
    cdef uint64_t q = <uint64_t>q_
    cdef uint64_t tw = <uint64_t>tw_
    cdef int64_t c
    cdef uint64_t zr, zi, g
    for c in range(nch):
        zr = <uint64_t>(work0 + 2 * c * bins)
        zi = zr + <uint64_t>bins
        if q >= 64:
            for g in range(<uint64_t>g0, <uint64_t>g1):
                _dit4_run(fbuf, zr, zi, tw, q, g * 4 * q, <uint64_t>j0, <uint64_t>j1)
        else:
            _dit4_cols(fbuf, zr, zi, tw, q, <uint64_t>g0, <uint64_t>g1, <uint64_t>j0,
                        <uint64_t>j1)


cdef void _r2(floating* fbuf, int64_t nch, int64_t work0, int64_t bins, int64_t m0,
              int64_t m1) noexcept nogil:
    cdef int64_t c
    cdef uint64_t zr, zi, m, i0, i1
    cdef floating ar, ai, br, bi
    for c in range(nch):
        zr = <uint64_t>(work0 + 2 * c * bins)
        zi = zr + <uint64_t>bins
        for m in range(<uint64_t>m0, <uint64_t>m1):
            i0 = 2 * m
            i1 = i0 + 1
            ar = fbuf[zr + i0]
            ai = fbuf[zi + i0]
            br = fbuf[zr + i1]
            bi = fbuf[zi + i1]
            fbuf[zr + i0] = ar + br
            fbuf[zi + i0] = ai + bi
            fbuf[zr + i1] = ar - br
            fbuf[zi + i1] = ai - bi


cdef void _split_run(floating* fbuf, uint64_t zr, uint64_t zi, uint64_t xr, uint64_t xi,
                     uint64_t wsr, uint64_t wsi, uint64_t c0, uint64_t r0,
                     uint64_t r1) noexcept nogil:
    cdef uint64_t r, m
    cdef floating fr, fi, gr, gi, sr, si, dr, di, wr, wi, mr, mi
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


cdef void _split(floating* fbuf, int64_t nch, int64_t work0, int64_t bins, int64_t fdl0,
                 int64_t s, int64_t slot, int64_t ws, int64_t p, int64_t r0,
                 int64_t r1) noexcept nogil:
    cdef uint64_t wsr = <uint64_t>ws
    cdef uint64_t wsi = wsr + <uint64_t>bins
    cdef int64_t c, r, lo, a, b
    cdef uint64_t zr, zi, xr, xi
    cdef floating fr, fi, wr, mr, mi
    for c in range(nch):
        zr = <uint64_t>(work0 + 2 * c * bins)
        zi = zr + <uint64_t>bins
        xr = <uint64_t>(fdl0 + (c * s + slot) * 2 * bins)
        xi = xr + <uint64_t>bins
        for r in range(r0, min(r1, 2)):
            _split_run(fbuf, zr, zi, xr, xi, wsr, wsi, <uint64_t>(2 * r), <uint64_t>r,
                       <uint64_t>(r + 1))
        lo = 2
        while lo < p:
            a = max(r0, lo)
            b = min(r1, 2 * lo)
            if a < b:
                _split_run(fbuf, zr, zi, xr, xi, wsr, wsi, <uint64_t>(3 * lo - 1),
                           <uint64_t>a, <uint64_t>b)
            lo *= 2
        if r1 > p:
            fr = fbuf[zr]
            fi = fbuf[zi]
            wr = fbuf[wsr + <uint64_t>p]
            mr = wr * (fr - fr)
            mi = wr * (fi + fi)
            fbuf[xr + <uint64_t>p] = fr + fr + mi
            fbuf[xi + <uint64_t>p] = (fi - fi) - mr


cdef void _mac(floating* fbuf, int64_t nch, int64_t nh, int64_t work0, int64_t bins,
               int64_t fdl0, int64_t s, int64_t hoff, int64_t npart, int64_t frame,
               int64_t r0_, int64_t r1_) noexcept nogil:
    cdef uint64_t r0 = <uint64_t>r0_
    cdef uint64_t r1 = <uint64_t>r1_
    cdef int64_t i, c, hc, slot
    cdef uint64_t hr, hi, xr, xi, ar, ai, r
    cdef floating a, b, u, v
    for i in range(npart):
        slot = _pymod(frame - i, s)
        for c in range(nch):
            hc = c if nh > 1 else 0
            hr = <uint64_t>(hoff + (hc * npart + i) * 2 * bins)
            hi = hr + <uint64_t>bins
            xr = <uint64_t>(fdl0 + (c * s + slot) * 2 * bins)
            xi = xr + <uint64_t>bins
            ar = <uint64_t>(work0 + 2 * c * bins)
            ai = ar + <uint64_t>bins
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


cdef inline void _isplit_pair(floating* fbuf, uint64_t zr, uint64_t zi, uint64_t wsr,
                             uint64_t wsi, uint64_t r, uint64_t m, bint both) noexcept nogil:
    cdef floating ar, ai, br, bi, sr, si, dr, di, wr, wi, orr, oi
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


cdef void _isplit_run(floating* fbuf, uint64_t zr, uint64_t zi, uint64_t wsr, uint64_t wsi,
                      uint64_t c0, uint64_t r0, uint64_t r1) noexcept nogil:
    cdef uint64_t r
    for r in range(r0, r1):
        _isplit_pair(fbuf, zr, zi, wsr, wsi, r, c0 - r, True)


cdef void _isplit(floating* fbuf, int64_t nch, int64_t work0, int64_t bins, int64_t ws,
                  int64_t p, int64_t r0, int64_t r1) noexcept nogil:
    cdef uint64_t wsr = <uint64_t>ws
    cdef uint64_t wsi = wsr + <uint64_t>bins
    cdef int64_t c, lo, a, b
    cdef uint64_t zr, zi
    for c in range(nch):
        zr = <uint64_t>(work0 + 2 * c * bins)
        zi = zr + <uint64_t>bins
        if r0 <= 0 < r1:
            _isplit_pair(fbuf, zr, zi, wsr, wsi, 0, <uint64_t>p, False)
        if r0 <= 1 < r1:
            _isplit_pair(fbuf, zr, zi, wsr, wsi, 1, 1, False)
        lo = 2
        while lo < p:
            a = max(r0, lo)
            b = min(r1, lo + lo // 2)
            if a < b:
                _isplit_run(fbuf, zr, zi, wsr, wsi, <uint64_t>(3 * lo - 1), <uint64_t>a,
                            <uint64_t>b)
            lo *= 2


cdef void _out(floating* fbuf, int64_t nch, int64_t work0, int64_t bins, int64_t ring0,
               int64_t rout, int64_t pos0, int64_t half, int64_t clip, int64_t n0,
               int64_t n1) noexcept nogil:
    cdef int64_t mask = rout - 1
    cdef int64_t c, t
    cdef uint64_t zr, zi, ring, n
    for c in range(nch):
        zr = <uint64_t>(work0 + 2 * c * bins)
        zi = zr + <uint64_t>bins
        ring = <uint64_t>(ring0 + c * rout)
        for n in range(<uint64_t>n0, <uint64_t>n1):
            t = pos0 + 2 * (<int64_t>n - half)
            if t >= clip:
                fbuf[ring + <uint64_t>(t & mask)] += fbuf[zr + n]
            if t + 1 >= clip:
                fbuf[ring + <uint64_t>((t + 1) & mask)] += fbuf[zi + n]


cdef void _run_ops(floating* fbuf, int64_t* ibuf, int64_t sg, int64_t frame, int64_t op_lo,
                   int64_t op_hi, int64_t bank, int64_t clip) noexcept nogil:
    cdef int64_t nch = ibuf[HDR_NCH]
    cdef int64_t p = ibuf[sg + SEG_P]
    cdef int64_t bins = ibuf[sg + SEG_BINS]
    cdef int64_t work0 = ibuf[sg + SEG_WORK]
    cdef int64_t fdl0 = ibuf[sg + SEG_FDL]
    cdef int64_t s = ibuf[sg + SEG_S]
    cdef int64_t ws = ibuf[sg + SEG_WS]
    cdef int64_t twtab = ibuf[HDR_TWTAB]
    cdef int64_t t = frame * p
    cdef int64_t k, o, code, a, b, tw, q
    for k in range(op_lo, op_hi):
        o = ibuf[sg + SEG_OPS] + k * OP_SIZE
        code = ibuf[o + OP_CODE]
        a = ibuf[o + OP_A]
        b = ibuf[o + OP_B]
        if code == OP_GATHER:
            _gather(fbuf, nch, ibuf[HDR_IN], ibuf[HDR_RIN], work0, bins, t - 2 * p, a, b)
        elif code == OP_DIF4 or code == OP_DIT4:
            tw = ibuf[twtab + ibuf[o + OP_A]]
            q = (<int64_t>1) << a
            if code == OP_DIF4:
                _dif4(fbuf, nch, work0, bins, tw, q, b, ibuf[o + OP_C], ibuf[o + OP_D],
                      ibuf[o + OP_E])
            else:
                _dit4(fbuf, nch, work0, bins, tw, q, b, ibuf[o + OP_C], ibuf[o + OP_D],
                      ibuf[o + OP_E])
        elif code == OP_R2:
            _r2(fbuf, nch, work0, bins, a, b)
        elif code == OP_SPLIT:
            _split(fbuf, nch, work0, bins, fdl0, s, _pymod(frame, s), ws, p, a, b)
        elif code == OP_MAC:
            _mac(fbuf, nch, ibuf[HDR_NH], work0, bins, fdl0, s, ibuf[sg + SEG_H0 + bank],
                 ibuf[sg + SEG_N], frame - ibuf[sg + SEG_E], a, b)
        elif code == OP_ISPLIT:
            _isplit(fbuf, nch, work0, bins, ws, p, a, b)
        elif code == OP_OUT:
            _out(fbuf, nch, work0, bins, ibuf[HDR_OUT], ibuf[HDR_ROUT],
                 t - p + ibuf[sg + SEG_DELTA], p // 2, clip, a, b)


cdef void _advance(floating* fbuf, int64_t* ibuf, int64_t sg, int64_t t_end, int64_t bank,
                   int64_t clip) noexcept nogil:
    cdef int64_t p = ibuf[sg + SEG_P]
    cdef int64_t w = ibuf[sg + SEG_W]
    cdef int64_t nops = ibuf[sg + SEG_NOPS]
    cdef int64_t total = ibuf[sg + SEG_TOTAL]
    cdef int64_t ops = ibuf[sg + SEG_OPS]
    cdef int64_t frame, t, target, k0, k
    while True:
        frame = ibuf[sg + SEG_J]
        t = frame * p
        if t > t_end:
            return
        if w == 0 or t_end - t >= w:
            target = total
        else:
            target = _floordiv(total * (t_end - t), w)
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


cdef void _head_into(floating* fbuf, int64_t* ibuf, floating* yf, int64_t c, int64_t bank,
                     int64_t add) noexcept nogil:
    cdef int64_t b = ibuf[HDR_B]
    cdef int64_t d = ibuf[HDR_D]
    cdef uint64_t y0 = <uint64_t>(c * b)
    cdef uint64_t n, base
    cdef int64_t hc, taps, hist, m
    cdef floating h
    if add == 0:
        for n in range(<uint64_t>b):
            yf[y0 + n] = 0
    if d == 0:
        return
    hc = c if ibuf[HDR_NH] > 1 else 0
    taps = ibuf[HDR_HEAD0 + bank] + hc * d
    hist = ibuf[HDR_HIST] + c * ibuf[HDR_HLEN]
    for m in range(d):
        h = fbuf[taps + m]
        base = <uint64_t>(hist + d - 1 - m)
        for n in range(<uint64_t>b):
            yf[y0 + n] += h * fbuf[base + n]


cdef void _process(floating* xf, floating* yf, floating* fbuf, int64_t* ibuf) noexcept nogil:
    cdef int64_t nch = ibuf[HDR_NCH]
    cdef int64_t b = ibuf[HDR_B]
    cdef int64_t d = ibuf[HDR_D]
    cdef int64_t t0 = ibuf[HDR_T]
    cdef int64_t t1 = t0 + b
    cdef int64_t rin = ibuf[HDR_RIN]
    cdef int64_t rout = ibuf[HDR_ROUT]
    cdef int64_t bank = ibuf[HDR_BANK]
    cdef int64_t hlen = ibuf[HDR_HLEN]
    cdef int64_t nseg = ibuf[HDR_NSEG]
    cdef int64_t c, n, k, sg, p, frame, inv0, nops, first, j, new
    cdef uint64_t ring, hist, uk, un, y0, pos, scratch, ramp
    cdef floating w
    for c in range(nch):
        ring = <uint64_t>(ibuf[HDR_IN] + c * rin)
        for n in range(b):
            fbuf[ring + <uint64_t>((t0 + n) & (rin - 1))] = xf[c * b + n]
        if d > 0:
            hist = <uint64_t>(ibuf[HDR_HIST] + c * hlen)
            for uk in range(<uint64_t>(d - 1)):
                fbuf[hist + uk] = fbuf[hist + <uint64_t>b + uk]
            for un in range(<uint64_t>b):
                fbuf[hist + <uint64_t>(d - 1) + un] = xf[<uint64_t>(c * b) + un]
    for k in range(nseg):
        _advance(fbuf, ibuf, ibuf[HDR_SEGS] + k * SEG_SIZE, t1, bank, t0)
    for c in range(nch):
        _head_into(fbuf, ibuf, yf, c, bank, 0)
        ring = <uint64_t>(ibuf[HDR_OUT] + c * rout)
        y0 = <uint64_t>(c * b)
        for un in range(<uint64_t>b):
            pos = ring + <uint64_t>((t0 + <int64_t>un) & (rout - 1))
            yf[y0 + un] += fbuf[pos]
            fbuf[pos] = 0
    if ibuf[HDR_PENDING] != 0:
        new = 1 - bank
        for c in range(nch):
            ring = <uint64_t>(ibuf[HDR_OUT] + c * rout)
            for un in range(<uint64_t>rout):
                fbuf[ring + un] = 0
        for k in range(nseg):
            sg = ibuf[HDR_SEGS] + k * SEG_SIZE
            p = ibuf[sg + SEG_P]
            frame = ibuf[sg + SEG_J]
            inv0 = ibuf[sg + SEG_INV0]
            nops = ibuf[sg + SEG_NOPS]
            first = _floordiv(t0 - ibuf[sg + SEG_DELTA], p) + 1
            if first < 1:
                first = 1
            for j in range(first, frame):
                _run_ops(fbuf, ibuf, sg, j, inv0, nops, new, t0)
            # The frame in progress: its work lines were just reused, so redo its
            # ops from the start (the forward ones give the same values again).
            _run_ops(fbuf, ibuf, sg, frame, 0, ibuf[sg + SEG_OP], new, t0)
        scratch = <uint64_t>ibuf[HDR_SCRATCH]
        ramp = <uint64_t>ibuf[HDR_XFADE]
        for c in range(nch):
            y0 = <uint64_t>(c * b)
            ring = <uint64_t>(ibuf[HDR_OUT] + c * rout)
            for un in range(<uint64_t>b):
                fbuf[scratch + un] = yf[y0 + un]
            _head_into(fbuf, ibuf, yf, c, new, 0)
            for un in range(<uint64_t>b):
                pos = ring + <uint64_t>((t0 + <int64_t>un) & (rout - 1))
                w = fbuf[ramp + un]
                yf[y0 + un] = fbuf[scratch + un] + w * (yf[y0 + un] + fbuf[pos]
                                                        - fbuf[scratch + un])
                fbuf[pos] = 0
        ibuf[HDR_BANK] = new
        ibuf[HDR_PENDING] = 0
    ibuf[HDR_T] = t1


def process_block(cnp.ndarray x, cnp.ndarray y, cnp.ndarray fbuf, cnp.ndarray ibuf):
    if not cnp.PyArray_ISWRITEABLE(y):
        raise ValueError("out must be writeable")
    cdef int64_t* ib = <int64_t*>cnp.PyArray_DATA(ibuf)
    if cnp.PyArray_TYPE(fbuf) == cnp.NPY_FLOAT32:
        with nogil:
            _process[float](<float*>cnp.PyArray_DATA(x), <float*>cnp.PyArray_DATA(y),
                            <float*>cnp.PyArray_DATA(fbuf), ib)
    else:
        with nogil:
            _process[double](<double*>cnp.PyArray_DATA(x), <double*>cnp.PyArray_DATA(y),
                             <double*>cnp.PyArray_DATA(fbuf), ib)
