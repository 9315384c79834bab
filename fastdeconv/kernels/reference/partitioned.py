"""Reference partitioned (streaming) convolution: the definitions, one sample at a time.

Same name, arguments and state layout as ``kernels/numba/partitioned.py`` (read its
docstring for the contract); written independently of it and slow by design, for tests.
Where the fast kernels spread each partition's FFT work over several calls, this one does
a frame's whole work the moment its input is complete, and it computes the transforms
with a textbook recursive FFT instead of the precomputed passes; the outputs are the same.
Unlike the compiled kernels it allocates on every call: a list of the segment offsets,
and for each frame and channel Python lists of complex values (the ``2P`` input samples,
the recursive FFT's halves and outputs, about ``2P log2(2P)`` values in all, and a
``2P``-value spectrum accumulator); it is not for real-time use.

This module also defines the layout of the two state buffers (``fbuf``, floats, and
``ibuf``, int64) that every backend shares: the ``HDR_*`` header slots of ``ibuf``, the
``SEG_*`` fields of a segment record and the ``OP_*`` fields and codes of a work op.
"""
import cmath

# --------------------------------------------------------------------------- layout

LAYOUT_VERSION = 1

# ibuf header slots
HDR_VERSION = 0
HDR_NCH = 1        # channels
HDR_B = 2          # block size
HDR_T = 3          # samples processed so far (state)
HDR_PENDING = 4    # 1: the inactive bank holds a new filter to cross-fade to (state)
HDR_BANK = 5       # active filter bank, 0 or 1 (state)
HDR_NSEG = 6       # number of FFT segments
HDR_D = 7          # taps of the direct-form head
HDR_NH = 8         # distinct filters: 1 (shared by all channels) or the channel count
HDR_RIN = 9        # input ring length per channel (power of two)
HDR_IN = 10        # fbuf offset of the input rings
HDR_ROUT = 11      # output ring length per channel (power of two)
HDR_OUT = 12       # fbuf offset of the output rings
HDR_HIST = 13      # fbuf offset of the head's input history (D - 1 + B per channel)
HDR_HLEN = 14      # history length per channel
HDR_HEAD0 = 15     # fbuf offset of bank 0's head taps (NH x D)
HDR_HEAD1 = 16     # fbuf offset of bank 1's head taps
HDR_XFADE = 17     # fbuf offset of the cross-fade ramp (B values rising from 0 to 1)
HDR_SCRATCH = 18   # fbuf offset of a B-sample scratch line
HDR_TWTAB = 19     # ibuf offset of the radix-4 twiddle table offsets, indexed by log2(q)
HDR_SEGS = 20      # ibuf offset of the first segment record
HDR_SIZE = 24

# segment record fields (SEG_SIZE int64 each, consecutive from HDR_SEGS)
SEG_P = 0          # partition size (power of two, >= 16): real FFT size 2P
SEG_LOG2P = 1
SEG_N = 2          # partitions in the segment
SEG_E = 3          # extra frame delay read from the delay line
SEG_DELTA = 4      # a frame ending at t adds its output to [t - P + DELTA, t + DELTA)
SEG_W = 5          # samples over which a frame's work is spread (0: at once)
SEG_S = 6          # frequency-domain delay line slots
SEG_J = 7          # frame being computed (state); frame j ends at sample j * P
SEG_OP = 8         # next op of that frame (state)
SEG_NOPS = 9
SEG_INV0 = 10      # first op of the inverse half (MAC onwards)
SEG_OPS = 11       # ibuf offset of the ops
SEG_TOTAL = 12     # total cost of a frame's ops
SEG_WORK = 13      # fbuf offset of the work lines (2 * BINS per channel: re, im)
SEG_BINS = 14      # stride of one spectrum's re (or im) line, >= P + 1
SEG_FDL = 15       # fbuf offset of the delay line (channels x S spectra)
SEG_H0 = 16        # fbuf offset of bank 0's spectra (NH x N spectra)
SEG_H1 = 17        # fbuf offset of bank 1's spectra
SEG_WS = 18        # fbuf offset of the split twiddles W^rev(r) (re line, im line)
SEG_OFFSET = 20    # first tap of the segment (informational)
SEG_SIZE = 24

# op record fields and codes
OP_CODE = 0
OP_A = 1
OP_B = 2
OP_C = 3
OP_D = 4
OP_E = 5
OP_CUM = 6         # cost of the frame's ops before this one
OP_SIZE = 7

OP_GATHER = 1      # (n0, n1): z[n] = x[t-2P+2n] + i x[t-2P+2n+1]
OP_DIF4 = 2        # (q, g0, g1, j0, j1): radix-4 decimation-in-frequency pass
OP_R2 = 3          # (m0, m1): radix-2 butterflies on pairs (2m, 2m+1)
OP_SPLIT = 4       # (r0, r1): real-FFT split, spectrum bins r into the delay line
OP_MAC = 5         # (r0, r1): sum over partitions of filter x delayed spectra
OP_ISPLIT = 6      # (r0, r1): inverse split (in place, each bin with its mirror P - f)
OP_DIT4 = 7        # (q, g0, g1, j0, j1): inverse radix-4 decimation-in-time pass
OP_OUT = 8         # (n0, n1): overlap-save output, samples 2(n - P/2) and +1

__all__ = ["process_block"]


# --------------------------------------------------------------------------- reference


def _fft(a, sign):
    """Recursive radix-2 DFT ``sum_n a[n] exp(sign * 2j*pi*k*n/len(a))`` (unnormalised)."""
    n = len(a)
    if n == 1:
        return list(a)
    even = _fft(a[0::2], sign)
    odd = _fft(a[1::2], sign)
    out = [0j] * n
    for k in range(n // 2):
        t = cmath.exp(sign * 2j * cmath.pi * k / n) * odd[k]
        out[k] = even[k] + t
        out[k + n // 2] = even[k] - t
    return out


def _bitrev(i, bits):
    return int(format(i, f"0{bits}b")[::-1], 2) if bits else 0


def _forward(fbuf, ibuf, sg, j):
    """2 x the DFT of the 2P input samples ending at frame ``j``'s end, into the delay
    line, bit-reversed (bins 0..P-1) with the Nyquist bin at P, as the filter spectra are."""
    nch, rin = ibuf[HDR_NCH], ibuf[HDR_RIN]
    p, s = ibuf[sg + SEG_P], ibuf[sg + SEG_S]
    bins, bits = ibuf[sg + SEG_BINS], ibuf[sg + SEG_LOG2P]
    t = j * p
    for c in range(nch):
        ring = ibuf[HDR_IN] + c * rin
        spec = _fft([fbuf[ring + (t - 2 * p + n) % rin] for n in range(2 * p)], -1)
        fdl = ibuf[sg + SEG_FDL] + (c * s + j % s) * 2 * bins
        for r in range(p + 1):
            f = _bitrev(r, bits) if r < p else p
            fbuf[fdl + r] = 2 * spec[f].real
            fbuf[fdl + bins + r] = 2 * spec[f].imag


def _inverse(fbuf, ibuf, sg, j, bank, clip):
    """Frame ``j``'s output: filter spectra times delayed input spectra, summed over the
    partitions, inverse DFT, last P samples added to the output ring from ``clip`` on."""
    nch, nh, rout = ibuf[HDR_NCH], ibuf[HDR_NH], ibuf[HDR_ROUT]
    p, n_part = ibuf[sg + SEG_P], ibuf[sg + SEG_N]
    e, delta = ibuf[sg + SEG_E], ibuf[sg + SEG_DELTA]
    s, bins, bits = ibuf[sg + SEG_S], ibuf[sg + SEG_BINS], ibuf[sg + SEG_LOG2P]
    h_off = ibuf[sg + SEG_H0 + bank]
    t = j * p
    for c in range(nch):
        hc = c if nh > 1 else 0
        acc = [0j] * (2 * p)
        for r in range(p + 1):
            f = _bitrev(r, bits) if r < p else p
            total = 0j
            for i in range(n_part):
                slot = ibuf[sg + SEG_FDL] + (c * s + (j - e - i) % s) * 2 * bins
                h = h_off + (hc * n_part + i) * 2 * bins
                total += (complex(fbuf[h + r], fbuf[h + bins + r])
                          * complex(fbuf[slot + r], fbuf[slot + bins + r]))
            acc[f] = total
        for f in range(1, p):  # Hermitian symmetry of a real signal's spectrum
            acc[2 * p - f] = acc[f].conjugate()
        # The filter spectra carry 1 / (4P) and the stored spectrum 2x: the plain
        # inverse DFT of size 2P gives the circular convolution; its last P samples
        # are the linear one (overlap-save).
        y = _fft(acc, +1)
        out = ibuf[HDR_OUT] + c * rout
        for n in range(p, 2 * p):
            pos = t - 2 * p + n + delta
            if pos >= clip:
                fbuf[out + pos % rout] += y[n].real


def _head(fbuf, ibuf, bank, c, n):
    d = ibuf[HDR_D]
    if d == 0:
        return 0.0
    hc = c if ibuf[HDR_NH] > 1 else 0
    taps = ibuf[HDR_HEAD0 + bank] + hc * d
    hist = ibuf[HDR_HIST] + c * ibuf[HDR_HLEN]
    total = 0.0
    for m in range(d):
        total += fbuf[taps + m] * fbuf[hist + d - 1 + n - m]
    return total


def process_block(x, y, fbuf, ibuf):
    nch, b, t0 = ibuf[HDR_NCH], ibuf[HDR_B], ibuf[HDR_T]
    d, rin, rout = ibuf[HDR_D], ibuf[HDR_RIN], ibuf[HDR_ROUT]
    bank = ibuf[HDR_BANK]
    xf = x.reshape(-1)
    yf = y.reshape(-1)
    t1 = t0 + b
    for c in range(nch):
        ring = ibuf[HDR_IN] + c * rin
        hist = ibuf[HDR_HIST] + c * ibuf[HDR_HLEN]
        for k in range(d - 1):
            fbuf[hist + k] = fbuf[hist + b + k]
        for n in range(b):
            fbuf[ring + (t0 + n) % rin] = xf[c * b + n]
            fbuf[hist + d - 1 + n] = xf[c * b + n]
    segs = [ibuf[HDR_SEGS] + k * SEG_SIZE for k in range(ibuf[HDR_NSEG])]
    for sg in segs:
        p = ibuf[sg + SEG_P]
        while ibuf[sg + SEG_J] * p <= t1:
            _forward(fbuf, ibuf, sg, ibuf[sg + SEG_J])
            _inverse(fbuf, ibuf, sg, ibuf[sg + SEG_J], bank, t0)
            ibuf[sg + SEG_J] += 1
    for c in range(nch):
        out = ibuf[HDR_OUT] + c * rout
        for n in range(b):
            pos = out + (t0 + n) % rout
            yf[c * b + n] = _head(fbuf, ibuf, bank, c, n) + fbuf[pos]
            fbuf[pos] = 0
    if ibuf[HDR_PENDING]:
        # Cross-fade block: the new filter's output, as if it had always been running,
        # is the head with the new taps plus every completed frame redone with the new
        # spectra (their outputs from t0 on).
        new = 1 - bank
        for c in range(nch):
            out = ibuf[HDR_OUT] + c * rout
            for k in range(rout):
                fbuf[out + k] = 0
        for sg in segs:
            p, delta = ibuf[sg + SEG_P], ibuf[sg + SEG_DELTA]
            for j in range(max(1, (t0 - delta) // p + 1), ibuf[sg + SEG_J]):
                _inverse(fbuf, ibuf, sg, j, new, t0)
        ramp = ibuf[HDR_XFADE]
        for c in range(nch):
            out = ibuf[HDR_OUT] + c * rout
            for n in range(b):
                pos = out + (t0 + n) % rout
                y_new = _head(fbuf, ibuf, new, c, n) + fbuf[pos]
                fbuf[pos] = 0
                w = fbuf[ramp + n]
                yf[c * b + n] = (1 - w) * yf[c * b + n] + w * y_new
        ibuf[HDR_BANK] = new
        ibuf[HDR_PENDING] = 0
    ibuf[HDR_T] = t1
