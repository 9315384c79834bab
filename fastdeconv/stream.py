"""Streaming convolution and inverse filtering for real-time audio and signal loops.

:class:`StreamingConvolver` convolves a stream, block by block, with a long impulse
response using partitioned overlap-save convolution (uniform, or non-uniform: small
partitions for the start of the response, growing ones for its tail, after Gardner 1995,
García 2002 and Wefers 2015).  :class:`StreamingDeconvolver` does the same with a
regularised inverse of a response designed by :func:`inverse_filter_design`.

Real-time rules, kept by every class here: compilation and allocation happen in the
constructor; ``process(block, out=buf)`` allocates nothing, takes no lock and spends its
time in one compiled call that releases the GIL; the work of the large partitions is
spread evenly over the blocks, so the slowest call stays close to the mean one.
"""
import math
import numbers

import numpy as np

from . import _backends
from ._validation import as_numeric, check_int
from .kernels.reference import partitioned as _L

__all__ = ["StreamingConvolver", "StreamingDeconvolver", "inverse_filter_design"]

PARTITIONS = ("auto", "uniform", "nonuniform")
_MIN_P = 16          # smallest FFT partition
_MAX_P = 16384       # largest FFT partition (real FFT size 32768)
_ALIGN = 16          # fbuf regions start on multiples of 16 values (64 bytes in float32)

# Cost model: nanoseconds on the development machine (x86-64, AVX2, float32), fitted to
# the kernels' measured frame times (min of repeats) and to whole streams (a large
# transform whose work is spread over many blocks loses its cache between blocks);
# only the ratios matter for the choice.
_C_TAP = 0.12        # direct-form head, per tap and sample (vectorised over the block)
_C_TAP_SCALAR = 0.7  # ... when the block is shorter than a vector
_C_POINT = 5.5       # forward (or inverse) real transform of 2P samples, per point of P
_C_POINT_SMALL = {16: 10.0, 32: 8.5, 64: 7.5, 128: 7.5}
_C_POINT_L2 = 6.5    # ... P = 2048 or 4096 (passes over more than 1024 points leave L1)
_C_POINT_BIG = 10.0  # ... P >= 8192 spread over more than 8 blocks (cache lost between)
_C_MAC = 0.35        # one complex multiply-add of a spectrum bin (per partition)
_C_BFLY = 4.0        # op costs (scheduling units): one radix-4 butterfly
_C_R2 = 3.0          # one radix-2 butterfly
_C_LIN = 1.0         # one point of the gather or output pass
_C_SPLIT = 2.0       # one bin of a split step


# --------------------------------------------------------------------------- planning

def _pow2_at_least(n):
    return 1 << max(0, int(n - 1).bit_length())


def _delta_min(p, w, b):
    """Smallest output delay of a partition of ``p`` whose frames are computed within
    ``w`` samples after they end, whatever the phase of the frames against the blocks."""
    return p + w - math.gcd(p, b)


def _spread(p, b):
    # Partitions larger than the block are computed over the p samples (p / b blocks)
    # after their frame ends; smaller ones in the block where the frame ends.
    return p if p > b else 0


def _point_cost(p, b):
    if p >= 8192:
        return _C_POINT_BIG if p > 8 * b else _C_POINT_L2
    if p >= 2048:
        return _C_POINT_L2
    return _C_POINT_SMALL.get(p, _C_POINT)


def _frame_cost(p, n_part, b):
    """Estimated cost of one frame of a segment: forward and inverse transforms (with
    gather, split steps and output) and ``n_part`` spectrum multiply-adds."""
    return 2 * _point_cost(p, b) * p + _C_MAC * n_part * (p + 1)


def _cost(plan_d, segs, b):
    """Estimated nanoseconds per sample of a plan (head taps ``plan_d``, segments
    ``[(p, n, d), ...]``)."""
    total = plan_d * (_C_TAP if b >= 8 else _C_TAP_SCALAR)
    for p, n, _ in segs:
        total += _frame_cost(p, n, b) / p
    return total


def _segments_for(sizes, length, b):
    """Head length and segments ``[(p, n, d)]`` for partition sizes ``sizes`` (increasing
    powers of two), or None when a size is not needed to reach ``length`` taps."""
    p0 = sizes[0]
    d = _delta_min(p0, _spread(p0, b), b)
    if d >= length:
        return None
    head = d
    segs = []
    for k, p in enumerate(sizes):
        if k + 1 < len(sizes):
            nxt = sizes[k + 1]
            need = _delta_min(nxt, _spread(nxt, b), b)
            n = max(1, -(-(need - d) // p))
            if d + n * p >= length:
                return None
        else:
            n = -(-(length - d) // p)
        segs.append((p, n, d))
        d += n * p
    return head, segs


def _candidate_sizes(length, b):
    cap = min(_MAX_P, max(_MIN_P, _pow2_at_least(length) // 2))
    sizes = []
    p = _MIN_P
    while p <= cap:
        sizes.append(p)
        p *= 2
    return sizes


def _plan(length, b, partition, sizes=None):
    """``(head taps, [(p, n, d), ...])`` covering ``length`` taps for blocks of ``b``."""
    if sizes is not None:
        sizes = sorted(set(int(s) for s in sizes))
        if _delta_min(sizes[0], _spread(sizes[0], b), b) >= length:
            return length, []          # the direct-form head alone covers the response
        res = _segments_for(sizes, length, b)
        if res is None:
            raise ValueError(f"partition_sizes {tuple(sizes)} do not fit an impulse response"
                             f" of {length} taps with blocks of {b}: the last sizes are"
                             " never reached; drop them")
        return res
    head_only = (length, [])
    if partition == "uniform":
        p = max(_MIN_P, _pow2_at_least(b))
        res = _segments_for([p], length, b)
        return res if res is not None else head_only
    candidates = []
    if partition == "auto":
        candidates.append(head_only)
        p = max(_MIN_P, _pow2_at_least(b))
        res = _segments_for([p], length, b)
        if res is not None:
            candidates.append(res)
    pool = _candidate_sizes(length, b)
    firsts = [p for p in pool if p <= max(_MIN_P, 2 * _pow2_at_least(b))]
    for p0 in firsts:
        rest = [p for p in pool if p > p0]
        # subsets of the larger sizes, at most 5 of them (more never pays)
        stack = [([p0], 0)]
        while stack:
            chosen, start = stack.pop()
            res = _segments_for(chosen, length, b)
            if res is not None:
                candidates.append(res)
            if len(chosen) < 6:
                for i in range(start, len(rest)):
                    stack.append((chosen + [rest[i]], i + 1))
    if not candidates:
        return head_only
    return min(candidates, key=lambda c: (_cost(c[0], c[1], b), len(c[1])))


# --------------------------------------------------------------------------- tables

def _bitrev_table(bits):
    n = 1 << bits
    rev = np.zeros(n, np.int64)
    for k in range(bits):
        rev |= ((np.arange(n) >> k) & 1) << (bits - 1 - k)
    return rev


def _align(n):
    return -(-n // _ALIGN) * _ALIGN


class _Layout:
    """Offsets of every region of ``fbuf`` and ``ibuf`` for one plan."""

    def __init__(self, head, segs, b, nch, nh, dtype):
        self.head, self.segs, self.b, self.nch, self.nh = head, segs, b, nch, nh
        self.dtype = dtype
        pmax = max([p for p, _, _ in segs], default=0)
        f = 0

        def take(n):
            nonlocal f
            start = f
            f += _align(max(n, 1))
            return start

        # tables (read only)
        self.tw = {}
        q = 1
        while 4 * q <= pmax:
            self.tw[q] = take(6 * q)
            q *= 2
        self.head_taps = [take(nh * head), take(nh * head)]
        self.xfade = take(b)
        self.seg = []
        for p, n, d in segs:
            w = _spread(p, b)
            dmin = _delta_min(p, w, b)
            e = (d - dmin) // p
            delta = d - e * p
            # delay-line slots: the filter's N partitions, the E extra frames of delay,
            # and the frames a filter switch recomputes (outputs still in the ring).
            extra = -(-(delta + w + b) // p) + 2
            s = n + e + extra
            bins = _align(p + 1)
            info = dict(p=p, n=n, d=d, w=w, e=e, delta=delta, s=s, bins=bins)
            info["ws"] = take(2 * bins)
            info["h"] = [take(nh * n * 2 * bins), take(nh * n * 2 * bins)]
            self.seg.append(info)
        self.state_start = f
        # state (cleared by reset)
        self.hlen = head - 1 + b if head else 0
        self.hist = take(nch * self.hlen)
        self.scratch = take(b)
        rin_need = max([2 * s["p"] + s["w"] for s in self.seg], default=0) + b
        self.rin = _pow2_at_least(max(rin_need, 2))
        self.in_off = take(nch * self.rin)
        rout_need = max([s["delta"] for s in self.seg], default=0) + b + 1
        self.rout = _pow2_at_least(max(rout_need, 2))
        self.out_off = take(nch * self.rout)
        for s in self.seg:
            s["work"] = take(nch * 2 * s["bins"])
            s["fdl"] = take(nch * s["s"] * 2 * s["bins"])
        self.fsize = f
        self.state_stop = f


def _ops_for(info, nch, b):
    """The op program of one frame of a segment: ``(rows, inv0, total)``.

    Granularity: when the work is spread over ``w / b`` blocks, an op is at most half a
    block's share of the frame's cost, so every block does about the same work; not
    smaller than ~400 units (dispatch would dominate) nor larger than 6000.
    """
    w = info["w"]
    rows, inv0, total = _program(info["p"], info["n"], nch, 1e18)
    if w == 0:
        return rows, inv0, total
    budget = min(6000.0, max(400.0, total * b / w / 2)) / nch
    return _program(info["p"], info["n"], nch, budget)


def _program(p, n_part, nch, budget):
    log2p = p.bit_length() - 1
    rows = []
    cum = 0.0

    def emit(code, cost, a=0, bb=0, c=0, d=0, e=0):
        nonlocal cum
        rows.append([code, a, bb, c, d, e, int(cum)])
        cum += cost * nch

    def ranges(lo, hi, unit_cost, most=1 << 62):
        step = max(1, min(most, int(budget // unit_cost)))
        for s in range(lo, hi, step):
            yield s, min(hi, s + step)

    # radix-4 passes: q values of the DIF order (largest first)
    qs = []
    q = p // 4
    while q >= 1:
        qs.append(q)
        q //= 4
    odd = log2p % 2 == 1   # then qs ends at 2 and a radix-2 stage with half size 1 follows
    # cache blocking: passes whose butterfly span 4q fits a block of 1024/2048 points run
    # block by block (depth first) while the block sits in L1
    blk = 2048 if odd else 1024
    blk = min(blk, p)
    big = [q for q in qs if 4 * q > blk]
    small = [q for q in qs if 4 * q <= blk]
    bcost = _C_BFLY

    def pass_ops(code, q):
        groups = p // (4 * q)
        if q * bcost >= budget:
            step = max(1, int(budget // bcost))
            for g in range(groups):
                for j0 in range(0, q, step):
                    j1 = min(q, j0 + step)
                    emit(code, (j1 - j0) * bcost, q.bit_length() - 1, g, g + 1, j0, j1)
        else:
            gstep = max(1, int(budget // (q * bcost)))
            for g0 in range(0, groups, gstep):
                g1 = min(groups, g0 + gstep)
                emit(code, (g1 - g0) * q * bcost, q.bit_length() - 1, g0, g1, 0, q)

    def block_ops(code, q, blk_index):
        g_per = blk // (4 * q)
        g0 = blk_index * g_per
        emit(code, (blk // 4) * bcost, q.bit_length() - 1, g0, g0 + g_per, 0, q)

    # forward: gather, big DIF passes, blocked small passes (+ radix-2), split
    for lo, hi in ranges(0, p, _C_LIN):
        emit(_L.OP_GATHER, (hi - lo) * _C_LIN, lo, hi)
    for q in big:
        pass_ops(_L.OP_DIF4, q)
    for bi in range(p // blk):
        for q in small:
            block_ops(_L.OP_DIF4, q, bi)
        if odd:
            emit(_L.OP_R2, (blk // 2) * _C_R2, bi * blk // 2, (bi + 1) * blk // 2)
    for lo, hi in ranges(0, p + 1, _C_SPLIT):
        emit(_L.OP_SPLIT, (hi - lo) * _C_SPLIT, lo, hi)
    inv0 = len(rows)
    # inverse: multiply-add, inverse split, blocked small DIT passes, big passes, output
    mac_unit = _C_MAC * n_part
    for lo, hi in ranges(0, p + 1, mac_unit, 512):   # 512 bins: the sums stay in L1
        emit(_L.OP_MAC, (hi - lo) * mac_unit, lo, hi)
    for lo, hi in ranges(0, p, _C_SPLIT):
        emit(_L.OP_ISPLIT, (hi - lo) * _C_SPLIT, lo, hi)
    for bi in range(p // blk):
        if odd:
            emit(_L.OP_R2, (blk // 2) * _C_R2, bi * blk // 2, (bi + 1) * blk // 2)
        for q in reversed(small):
            block_ops(_L.OP_DIT4, q, bi)
    for q in reversed(big):
        pass_ops(_L.OP_DIT4, q)
    for lo, hi in ranges(p // 2, p, _C_LIN):
        emit(_L.OP_OUT, (hi - lo) * _C_LIN, lo, hi)
    return rows, inv0, int(cum)


def _build(lay):
    """``fbuf`` and ``ibuf`` for a layout: tables filled, filters empty, state zero."""
    dt = lay.dtype
    fbuf = np.zeros(lay.fsize, dt)
    progs = [_ops_for(s, lay.nch, lay.b) for s in lay.seg]
    nseg = len(lay.seg)
    twtab = _L.HDR_SIZE
    segs0 = twtab + 32
    isize = segs0 + nseg * _L.SEG_SIZE
    ops_at = []
    for rows, _, _ in progs:
        ops_at.append(isize)
        isize += len(rows) * _L.OP_SIZE
    ibuf = np.zeros(isize, np.int64)
    h = ibuf
    h[_L.HDR_VERSION] = _L.LAYOUT_VERSION
    h[_L.HDR_NCH] = lay.nch
    h[_L.HDR_B] = lay.b
    h[_L.HDR_NSEG] = nseg
    h[_L.HDR_D] = lay.head
    h[_L.HDR_NH] = lay.nh
    h[_L.HDR_RIN] = lay.rin
    h[_L.HDR_IN] = lay.in_off
    h[_L.HDR_ROUT] = lay.rout
    h[_L.HDR_OUT] = lay.out_off
    h[_L.HDR_HIST] = lay.hist
    h[_L.HDR_HLEN] = lay.hlen
    h[_L.HDR_HEAD0] = lay.head_taps[0]
    h[_L.HDR_HEAD1] = lay.head_taps[1]
    h[_L.HDR_XFADE] = lay.xfade
    h[_L.HDR_SCRATCH] = lay.scratch
    h[_L.HDR_TWTAB] = twtab
    h[_L.HDR_SEGS] = segs0
    for q, off in lay.tw.items():
        j = np.arange(q)
        w = np.exp(-2j * np.pi * j / (4 * q))
        lines = [w, w ** 2, w ** 3]
        vals = np.concatenate([np.concatenate([l.real, l.imag]) for l in lines])
        fbuf[off:off + 6 * q] = vals
        h[twtab + q.bit_length() - 1] = off
    n = np.arange(lay.b)
    fbuf[lay.xfade:lay.xfade + lay.b] = 0.5 - 0.5 * np.cos(np.pi * (n + 0.5) / lay.b)
    for k, (s, (rows, inv0, total)) in enumerate(zip(lay.seg, progs)):
        p, bins = s["p"], s["bins"]
        bits = p.bit_length() - 1
        rev = _bitrev_table(bits)
        ws = np.exp(-1j * np.pi * rev / p)
        fbuf[s["ws"]:s["ws"] + p] = ws.real
        fbuf[s["ws"] + p] = -1.0
        fbuf[s["ws"] + bins:s["ws"] + bins + p] = ws.imag
        fbuf[s["ws"] + bins + p] = 0.0
        o = ops_at[k]
        if rows:
            ibuf[o:o + len(rows) * _L.OP_SIZE] = np.asarray(rows, np.int64).ravel()
        g = segs0 + k * _L.SEG_SIZE
        vals = {_L.SEG_P: p, _L.SEG_LOG2P: bits, _L.SEG_N: s["n"], _L.SEG_E: s["e"],
                _L.SEG_DELTA: s["delta"], _L.SEG_W: s["w"], _L.SEG_S: s["s"], _L.SEG_J: 1,
                _L.SEG_OP: 0, _L.SEG_NOPS: len(rows), _L.SEG_INV0: inv0, _L.SEG_OPS: o,
                _L.SEG_TOTAL: total, _L.SEG_WORK: s["work"], _L.SEG_BINS: bins,
                _L.SEG_FDL: s["fdl"], _L.SEG_H0: s["h"][0], _L.SEG_H1: s["h"][1],
                _L.SEG_WS: s["ws"], _L.SEG_OFFSET: s["d"]}
        for field, v in vals.items():
            ibuf[g + field] = v
    return fbuf, ibuf


def _load_filter(fbuf, lay, taps, bank):
    """Write filter ``taps`` (``(nh, length)`` float64, length <= capacity) into ``bank``:
    head taps as they are, each partition's spectrum ``rfft(part, 2P) / 4P`` bit-reversed."""
    nh = lay.nh
    length = taps.shape[1]
    if lay.head:
        d = lay.head
        head = np.zeros((nh, d))
        head[:, :min(d, length)] = taps[:, :d]
        o = lay.head_taps[bank]
        fbuf[o:o + nh * d] = head.ravel()
    for s in lay.seg:
        p, n, d0, bins = s["p"], s["n"], s["d"], s["bins"]
        part = np.zeros((nh, n * p))
        seg_taps = taps[:, d0:d0 + n * p]
        part[:, :seg_taps.shape[1]] = seg_taps
        spec = np.fft.rfft(part.reshape(nh, n, p), 2 * p, axis=-1) / (4 * p)
        rev = _bitrev_table(p.bit_length() - 1)
        perm = np.concatenate([rev, [p]])
        spec = spec[..., perm]
        block = np.zeros((nh, n, 2, bins))
        block[:, :, 0, :p + 1] = spec.real
        block[:, :, 1, :p + 1] = spec.imag
        o = s["h"][bank]
        fbuf[o:o + block.size] = block.ravel()


# --------------------------------------------------------------------------- validation

def _check_ir(ir, channels, name="ir"):
    """``(nh, length)`` float64 copy of an impulse response, validated."""
    arr = as_numeric(ir, name)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}")
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name} must have shape (n,) or (channels, n), got {arr.shape}")
    if arr.size == 0 or arr.shape[-1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {arr.shape}")
    if arr.ndim == 2 and arr.shape[0] != channels:
        raise ValueError(f"{name} of shape {arr.shape} has {arr.shape[0]} rows, expected one"
                         f" per channel (channels={channels}) or a 1-D response")
    out = np.array(arr, dtype=np.float64, ndmin=2, copy=True)
    if not np.isfinite(out).all():
        raise ValueError(f"{name} contains NaN or Inf; remove or replace them first")
    return out


def _check_range(taps, dtype, name="ir", advice=None):
    """Refuse taps that ``dtype`` cannot hold: a float64 value beyond float32's range
    became Inf in the float32 filter bank and every output NaN."""
    if dtype.itemsize >= 8 or not taps.size:
        return
    peak = float(np.abs(taps).max())
    top = float(np.finfo(dtype).max)
    if peak > top:
        raise ValueError(f"{name} has values up to {peak:.3g}, beyond the range of {dtype}"
                         f" (largest {top:.3g}); "
                         + (advice or "scale it down or use dtype='float64'"))


def _check_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dtype!r}") from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be 'float32' or 'float64', got {dt}")
    return dt


# --------------------------------------------------------------------------- convolver

class StreamingConvolver:
    """Convolve a stream block by block with a long impulse response, in real time.

    Uniformly or non-uniformly partitioned overlap-save convolution with a direct-form
    head: every :meth:`process` call takes one block and returns the matching block of
    ``convolve(signal, ir)`` (exact gain, no normalisation), ``latency`` samples late
    (0 with the partitionings built here).

    Parameters
    ----------
    ir : array_like, shape (n,) or (channels, n)
        Impulse response, shared by all channels (1-D) or one row per channel.  Real,
        finite, not empty.
    block_size : int
        Samples per channel in each block, at least 1 (any value, not only powers of two).
    channels : int, optional
        Number of channels, default 1.
    dtype : {'float32', 'float64'}, optional
        Sample type of the blocks and of all internal computation (default float32).
    partition : {'auto', 'uniform', 'nonuniform'}, optional
        ``'uniform'``: one partition size, the block size rounded up to a power of two
        (at least 16), with a frequency-domain delay line.  ``'nonuniform'``: small
        partitions for the start of the response and partitions growing (by powers of
        two, up to 16384) for its tail, chosen by a cost model.  ``'auto'`` (default)
        takes the cheapest of both and of a purely direct filter for short responses.
    backend : {'numba', 'cython', 'python'}, optional
        Kernel backend; default as :func:`fastdeconv.get_backend`.
    max_ir_length : int, optional
        Longest response :meth:`set_ir` will accept (default ``n``); the partitioning is
        planned for it.
    partition_sizes : sequence of int, optional
        Explicit partition sizes (powers of two from 16 to 16384, increasing) instead of
        the cost model's choice.

    Attributes
    ----------
    latency : int
        Delay of the output, in samples (0).
    block_size, channels, dtype, backend : as given (``dtype`` a numpy dtype).
    partition : str
        ``'uniform'``, ``'nonuniform'`` or ``'direct'`` (the plan actually built).
    partitions : list of tuple
        ``(size, count, first_tap)`` of each FFT segment.
    head_length : int
        Taps computed in direct form (the first ones).

    Raises
    ------
    ValueError
        Empty, non-finite or wrongly shaped ``ir``, or (float32) ``ir`` values beyond
        float32's range; ``block_size``, ``channels`` below 1; unknown ``partition`` or
        ``backend``.
    TypeError
        Complex or non-numeric ``ir``; ``dtype`` other than float32/float64.

    See Also
    --------
    fastdeconv.convolve : the offline convolution this equals.
    StreamingDeconvolver : streams a regularised inverse filter.

    Notes
    -----
    A segment of ``N`` partitions of ``P`` taps takes, every ``P`` input samples, the
    FFT of the last ``2P`` samples into a frequency-domain delay line ``X`` and computes
    ``y = IFFT(sum_i H_i X_(j-i))``, whose last ``P`` samples are the segment's
    contribution (overlap-save).  Partitions larger than the block are computed over the
    ``P`` samples after their frame ends, a share per block (the transforms are split
    into passes and the passes into chunks), which is why they must start at least
    ``2P`` taps into the response; the taps before the first partition's start form the
    direct-form head, so the latency stays 0 for any block size.  The FFTs are
    radix-2^2 passes written for this purpose, callable without the GIL.

    References
    ----------
    W. G. Gardner, "Efficient convolution without input-output delay", JAES 43(3), 1995.
    G. García, "Optimal filter partition for efficient convolution with short
    input/output delay", AES 113th Convention, 2002.
    F. Wefers, "Partitioned convolution algorithms for real-time auralization", 2015.

    Examples
    --------
    A simulated real-time loop (what an audio callback would do, without a device):

    >>> import numpy as np
    >>> from fastdeconv.stream import StreamingConvolver
    >>> rng = np.random.default_rng(0)
    >>> ir = rng.standard_normal(4800).astype(np.float32) * np.exp(-np.arange(4800) / 800)
    >>> conv = StreamingConvolver(ir, 128)
    >>> signal = rng.standard_normal(128 * 50).astype(np.float32)
    >>> out = np.empty(128, np.float32)          # allocated once, reused by every call
    >>> pieces = []
    >>> for block in signal.reshape(-1, 128):
    ...     _ = conv.process(block, out=out)    # no allocation, GIL released inside
    ...     pieces.append(out.copy())           # (a real callback writes to the device)
    >>> streamed = np.concatenate(pieces)
    >>> offline = np.convolve(signal.astype(np.float64), ir)[:len(signal)]
    >>> bool(np.max(np.abs(streamed - offline)) < 1e-5 * np.max(np.abs(offline)))
    True
    >>> conv.latency
    0
    """

    def __init__(self, ir, block_size, *, channels=1, dtype="float32", partition="auto",
                 backend=None, max_ir_length=None, partition_sizes=None):
        self.block_size = check_int(block_size, "block_size", 1)
        self.channels = check_int(channels, "channels", 1)
        self.dtype = _check_dtype(dtype)
        if not isinstance(partition, str) or partition not in PARTITIONS:
            raise ValueError(f"partition must be one of {PARTITIONS}, got {partition!r}")
        self.backend = _backends.resolve_backend(backend)
        taps = _check_ir(ir, self.channels)
        _check_range(taps, self.dtype)
        length = taps.shape[1]
        if max_ir_length is not None:
            length = max(length, check_int(max_ir_length, "max_ir_length", 1))
        self.max_ir_length = length
        if partition_sizes is not None:
            sizes = [check_int(s, "partition_sizes", _MIN_P) for s in partition_sizes]
            if not sizes or any(s & (s - 1) or s > _MAX_P for s in sizes):
                raise ValueError(f"partition_sizes must be powers of two from {_MIN_P} to"
                                 f" {_MAX_P}, got {tuple(partition_sizes)}")
        else:
            sizes = None
        head, segs = _plan(length, self.block_size, partition, sizes)
        self._nh = taps.shape[0] if taps.shape[0] > 1 else 1
        self._layout = _Layout(head, segs, self.block_size, self.channels, self._nh,
                               self.dtype)
        self._fbuf, self._ibuf = _build(self._layout)
        _load_filter(self._fbuf, self._layout, taps, 0)
        self.latency = 0
        self.head_length = head
        self.partitions = [(p, n, d) for p, n, d in segs]
        if not segs:
            self.partition = "direct"
        elif len({p for p, _, _ in segs}) == 1:
            self.partition = "uniform"
        else:
            self.partition = "nonuniform"
        b, c = self.block_size, self.channels
        self._shapes = {(b,): (self.dtype.itemsize,)} if c == 1 else {}
        self._shapes[(c, b)] = (b * self.dtype.itemsize, self.dtype.itemsize)
        try:
            module = _backends.kernel_module(self.backend, "partitioned")
        except ImportError as exc:
            raise ValueError(f"backend {self.backend!r} has no streaming kernel on this"
                             f" installation ({exc}); rebuild the extensions or pass"
                             " backend='numba'") from None
        self._kernel = module.process_block
        self._warm_up()

    # ------------------------------------------------------------------ internals

    def _warm_up(self):
        """Compile (or load from the cache) the kernel for this instance's block shapes,
        run it once on silence, then clear the state."""
        if self.backend == "numba":
            from .kernels.numba import partitioned as nk
            nk.prepare(self.dtype, [len(s) for s in self._shapes])
        for shape in self._shapes:
            blk = np.zeros(shape, self.dtype)
            self._kernel(blk, np.empty_like(blk), self._fbuf, self._ibuf)
        self.reset()

    def _slow_block(self, block):
        """Validated, converted block (for anything but the allocation-free fast path)."""
        arr = as_numeric(block, "block")
        if arr.dtype.kind == "c":
            raise TypeError(f"block must be real, got dtype {arr.dtype}")
        if arr.shape not in self._shapes:
            raise ValueError(f"block must have shape {self._expected()}, got {arr.shape}")
        return np.ascontiguousarray(arr, dtype=self.dtype)

    def _expected(self):
        return " or ".join(str(s) for s in self._shapes)

    def _check_out(self, out, shape):
        if not isinstance(out, np.ndarray):
            raise TypeError(f"out must be a numpy array, got {type(out).__name__}")
        if out.dtype != self.dtype:
            raise TypeError(f"out must have dtype {self.dtype}, got {out.dtype}")
        if out.shape != shape:
            raise ValueError(f"out must have shape {shape} (the block's), got {out.shape}")
        if not out.flags.c_contiguous:
            raise ValueError("out must be C-contiguous")
        if not out.flags.writeable:
            raise ValueError("out must be writeable")

    # ------------------------------------------------------------------ public

    def process(self, block, out=None):
        """Convolve the next block.

        Parameters
        ----------
        block : ndarray, shape (block_size,) or (channels, block_size)
            The next samples (``(block_size,)`` only when ``channels == 1``).  A
            C-contiguous array of ``dtype`` is used as it is; anything else is converted
            (which allocates).
        out : ndarray, optional
            Where to write the result: same shape as ``block``, ``dtype``, C-contiguous.
            With ``out`` the call allocates nothing.

        Returns
        -------
        ndarray
            ``out``, or a new array: the next ``block_size`` output samples per channel.

        Raises
        ------
        ValueError
            Wrong block shape, or ``out`` of the wrong shape or not writeable.
        TypeError
            Non-numeric or complex block, ``out`` of the wrong dtype.

        Notes
        -----
        Input samples are not checked for NaN or Inf (that would cost a pass over the
        block): such a sample makes every later output NaN until :meth:`reset`.
        """
        shape = getattr(block, "shape", None)
        strides = self._shapes.get(shape)
        if (strides is None or type(block) is not np.ndarray or block.dtype is not self.dtype
                or block.strides != strides):
            block = self._slow_block(block)
            shape = block.shape
            strides = self._shapes[shape]
        if out is None:
            out = np.empty(shape, self.dtype)
        elif (type(out) is not np.ndarray or out.dtype is not self.dtype
              or out.shape != shape or out.strides != strides
              or not out.flags.writeable):
            # Writeability is checked on every call, not once per array: a caller may
            # lock a buffer it reuses (flags.writeable = False) between calls, and the
            # Numba kernel then failed with a dispatch error instead of this message.
            self._check_out(out, shape)
        self._kernel(block, out, self._fbuf, self._ibuf)
        return out

    def reset(self):
        """Forget the past input: the next block starts from silence (and a pending
        :meth:`set_ir` takes effect at once)."""
        lay = self._layout
        self._fbuf[lay.state_start:lay.state_stop] = 0
        ib = self._ibuf
        ib[_L.HDR_T] = 0
        if ib[_L.HDR_PENDING]:
            ib[_L.HDR_BANK] = 1 - ib[_L.HDR_BANK]
            ib[_L.HDR_PENDING] = 0
        for k in range(ib[_L.HDR_NSEG]):
            g = ib[_L.HDR_SEGS] + k * _L.SEG_SIZE
            ib[g + _L.SEG_J] = 1
            ib[g + _L.SEG_OP] = 0

    def set_ir(self, ir):
        """Switch to a new impulse response without a click.

        The next :meth:`process` call outputs ``(1 - w) * old + w * new`` with ``w``
        rising from 0 to 1 over the block (raised cosine, ``w[n] = sin^2(pi (n + 1/2) /
        (2 B))``), where ``old`` and ``new`` are the outputs of the old and the new
        filter on the whole past input; later calls output the new filter's.

        Parameters
        ----------
        ir : array_like, shape (n,) or (channels, n)
            The new response, ``n <= max_ir_length``; per-channel rows only if the
            convolver was built with per-channel responses.

        Raises
        ------
        ValueError
            As the constructor for ``ir`` (values beyond float32's range included), or
            more than ``max_ir_length`` taps.
        TypeError
            Complex or non-numeric ``ir``.

        Notes
        -----
        The spectra are computed here, in the calling thread (this allocates
        temporaries); the switch happens inside the next :meth:`process` call, which
        then also recomputes the filter outputs still in flight (a one-off cost of a few
        frames per partition size).  Call it from the thread that calls :meth:`process`,
        or make sure no :meth:`process` call runs at the same time.
        """
        taps = _check_ir(ir, self.channels)
        _check_range(taps, self.dtype)
        if taps.shape[1] > self.max_ir_length:
            raise ValueError(f"ir has {taps.shape[1]} taps, more than max_ir_length="
                             f"{self.max_ir_length}; pass max_ir_length to the constructor")
        if taps.shape[0] > 1 and self._nh == 1:
            raise ValueError("ir has one row per channel but the convolver was built with a"
                             " shared response; build it with a (channels, n) response")
        if taps.shape[0] == 1 and self._nh > 1:
            taps = np.repeat(taps, self._nh, axis=0)
        ib = self._ibuf
        inactive = 1 - int(ib[_L.HDR_BANK])
        _load_filter(self._fbuf, self._layout, taps, inactive)
        ib[_L.HDR_PENDING] = 1

    def __repr__(self):
        return (f"StreamingConvolver(block_size={self.block_size}, channels={self.channels},"
                f" dtype={self.dtype.name}, partition={self.partition!r},"
                f" head_length={self.head_length}, partitions={self.partitions},"
                f" backend={self.backend!r})")


# --------------------------------------------------------------------------- inverse filters

def _check_reg(reg):
    if isinstance(reg, bool) or not isinstance(reg, numbers.Real) or not math.isfinite(reg) \
            or reg < 0:
        raise ValueError(f"reg must be a finite number >= 0, got {reg!r}")
    return float(reg)


def _check_band(band, fs):
    if band is None:
        return None
    if fs is None:
        raise ValueError("band needs fs, the sample rate in Hz")
    if isinstance(fs, bool) or not isinstance(fs, numbers.Real) or not fs > 0 \
            or not math.isfinite(fs):
        raise ValueError(f"fs must be a positive number of Hz, got {fs!r}")
    try:
        lo, hi = (float(v) for v in band)
    except (TypeError, ValueError):
        raise ValueError(f"band must be a pair (f_lo, f_hi) in Hz, got {band!r}") from None
    if not 0 <= lo < hi <= fs / 2:
        raise ValueError(f"band must satisfy 0 <= f_lo < f_hi <= fs/2 = {fs / 2:g},"
                         f" got {band!r}")
    return lo, hi


def _regularisation(freqs, reg, band, outside=1e3, octaves=1 / 3):
    """``beta(f)``: ``reg`` inside the band, ``reg * outside`` beyond it, with raised-cosine
    transitions (on a log-frequency axis, ``octaves`` wide) just outside the band edges."""
    beta = np.full(freqs.shape, reg)
    if band is None:
        return beta
    lo, hi = band
    logr = np.log10(outside)
    with np.errstate(divide="ignore"):
        lf = np.log2(np.maximum(freqs, 1e-300))
    expo = np.zeros(freqs.shape)
    if lo > 0:
        u = np.clip((np.log2(lo) - lf) / octaves, 0, 1)      # 0 at f_lo, 1 an octave-third below
        expo = np.maximum(expo, 0.5 - 0.5 * np.cos(np.pi * u))
    if hi < freqs[-1] or hi < np.inf:
        u = np.clip((lf - np.log2(hi)) / octaves, 0, 1)
        if hi < freqs[-1]:
            expo = np.maximum(expo, 0.5 - 0.5 * np.cos(np.pi * u))
    return reg * 10 ** (logr * expo)


def inverse_filter_design(ir, n_taps, reg=1e-3, *, band=None, fs=None):
    """Design a causal FIR inverse of an impulse response (Kirkeby–Nelson).

    Parameters
    ----------
    ir : array_like, shape (n,)
        The response to invert: real, finite, not empty.
    n_taps : int
        Length of the inverse filter, at least 1.
    reg : float, optional
        Regularisation ``beta`` (default 1e-3), in the units of ``|H|^2``: frequencies
        where ``|H|^2`` is well above it are inverted, those below it are left alone.
    band : (f_lo, f_hi), optional
        Band to invert, in Hz (needs ``fs``): ``beta = reg`` inside, ``1000 * reg``
        outside, with raised-cosine transitions a third of an octave wide (on a log
        frequency axis) just outside the edges.
    fs : float, optional
        Sample rate in Hz, for ``band``.

    Returns
    -------
    ndarray of float64, shape (n_taps,)
        The inverse filter, delayed by ``n_taps // 2`` samples (the modelling delay that
        makes the inverse of a non-minimum-phase response causal):
        ``convolve(ir, taps)`` approximates a unit impulse at ``n_taps // 2``.

    Raises
    ------
    ValueError
        Empty, non-finite or non-1-D ``ir``; ``n_taps < 1``; negative or non-finite
        ``reg``; a ``band`` without ``fs`` or outside ``[0, fs/2]``; ``reg = 0`` and a
        response with spectral zeros.
    TypeError
        Non-numeric or complex ``ir``, non-integer ``n_taps``.

    See Also
    --------
    StreamingDeconvolver : streams the designed filter.
    fastdeconv.inverse_filter, fastdeconv.wiener : offline deconvolution.

    Notes
    -----
    On an FFT grid of ``N >= n_taps + len(ir)`` points (a power of two),
    ``H_inv(f) = conj(H(f)) / (|H(f)|^2 + beta(f)) * exp(-2 pi i f D / N)`` with
    ``D = n_taps // 2``; the inverse FFT's first ``n_taps`` samples are tapered at both
    ends (Tukey window, 10 % cosine ramps) to soften the truncation.

    References
    ----------
    O. Kirkeby, P. A. Nelson, H. Hamada, F. Orduna-Bustamante, "Fast deconvolution of
    multichannel systems using regularization", IEEE Trans. Speech Audio Process. 6(2),
    1998.

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv.stream import inverse_filter_design
    >>> ir = np.array([1.0, 0.6, 0.2])
    >>> taps = inverse_filter_design(ir, 64)
    >>> y = np.convolve(ir, taps)
    >>> int(np.argmax(np.abs(y))), bool(abs(y[32] - 1) < 1e-2)
    (32, True)
    """
    h = _check_ir(ir, 1)
    if h.shape[0] != 1:
        raise ValueError(f"ir must be 1-D, got shape {np.shape(ir)}")
    h = h[0]
    n_taps = check_int(n_taps, "n_taps", 1)
    reg = _check_reg(reg)
    band = _check_band(band, fs)
    nfft = _pow2_at_least(max(n_taps + h.size, 2))
    spec = np.fft.rfft(h, nfft)
    freqs = np.fft.rfftfreq(nfft, 1.0 / fs) if fs is not None else np.fft.rfftfreq(nfft)
    beta = _regularisation(freqs, reg, band)
    denom = np.abs(spec) ** 2 + beta
    if not np.all(denom > 0):
        raise ValueError("ir has spectral zeros: with reg=0 they cannot be inverted; use"
                         " reg > 0")
    delay = n_taps // 2
    inv = np.conj(spec) / denom * np.exp(-2j * np.pi * np.arange(spec.size) * delay / nfft)
    taps = np.fft.irfft(inv, nfft)[:n_taps]
    ramp = max(1, int(0.1 * n_taps))
    if n_taps >= 4:
        edge = 0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp)
        taps[:ramp] *= edge
        taps[-ramp:] *= edge[::-1]
    return taps


# name and advice of _check_range for a designed inverse filter
_INVERSE_RANGE = ("the inverse filter designed from ir",
                  "raise reg (it bounds the inverse's gain) or use dtype='float64'")


class StreamingDeconvolver:
    """Undo a known impulse response on a stream, block by block, in real time.

    Designs a regularised inverse of ``ir`` with :func:`inverse_filter_design` and
    streams it with a :class:`StreamingConvolver`: same interface, same real-time rules.

    Parameters
    ----------
    ir : array_like, shape (n,) or (channels, n)
        Response to undo, shared by all channels or one row per channel.
    block_size : int
        Samples per channel in each block.
    reg : float, optional
        Regularisation of the inverse (default 1e-3, see :func:`inverse_filter_design`).
    n_taps : int, optional
        Length of the inverse filter; default ``4 n`` rounded up to a power of two, at
        least 64.
    channels : int, optional
        Number of channels (default 1).
    dtype : {'float32', 'float64'}, optional
        Sample type (default float32).
    band : (f_lo, f_hi), optional
        Band to invert, in Hz (needs ``fs``).
    fs : float, optional
        Sample rate in Hz.
    partition, backend, max_ir_length, partition_sizes
        As for :class:`StreamingConvolver` (``max_ir_length`` bounds ``n_taps`` of later
        :meth:`set_ir` designs).

    Attributes
    ----------
    latency : int
        ``n_taps // 2``: the output is the input of the response, that many samples late.
    taps : ndarray, shape (n_taps,) or (channels, n_taps)
        The inverse filter(s) being streamed.

    See Also
    --------
    StreamingConvolver, inverse_filter_design

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv.stream import StreamingDeconvolver
    >>> rng = np.random.default_rng(0)
    >>> ir = np.array([1.0, 0.6, 0.2])
    >>> x = rng.standard_normal(64 * 40)
    >>> y = np.convolve(x, ir)[:x.size].astype(np.float32)   # the observed stream
    >>> dec = StreamingDeconvolver(ir, 64, n_taps=256)
    >>> out = np.concatenate([dec.process(b).copy() for b in y.reshape(-1, 64)])
    >>> d = dec.latency
    >>> err = out[d + 256:] - x[256:x.size - d]
    >>> bool(10 * np.log10(np.sum(err ** 2) / np.sum(x[256:x.size - d] ** 2)) < -26)
    True
    """

    def __init__(self, ir, block_size, *, reg=1e-3, n_taps=None, channels=1, dtype="float32",
                 band=None, fs=None, partition="auto", backend=None, max_ir_length=None,
                 partition_sizes=None):
        channels = check_int(channels, "channels", 1)
        self.reg = _check_reg(reg)
        self.band = _check_band(band, fs)
        self.fs = fs
        h = _check_ir(ir, channels)
        if n_taps is None:
            n_taps = max(64, _pow2_at_least(4 * h.shape[1]))
        self.n_taps = check_int(n_taps, "n_taps", 1)
        taps = self._design(h)
        # the designed inverse, not ir, is what the float32 convolver holds
        _check_range(taps, _check_dtype(dtype), *_INVERSE_RANGE)
        self.taps = taps if np.ndim(ir) == 2 else taps[0]
        self._conv = StreamingConvolver(self.taps, block_size, channels=channels, dtype=dtype,
                                        partition=partition, backend=backend,
                                        max_ir_length=max_ir_length,
                                        partition_sizes=partition_sizes)
        self.latency = self.n_taps // 2 + self._conv.latency

    def _design(self, h):
        return np.stack([inverse_filter_design(row, self.n_taps, self.reg, band=self.band,
                                               fs=self.fs) for row in h])

    block_size = property(lambda self: self._conv.block_size)
    channels = property(lambda self: self._conv.channels)
    dtype = property(lambda self: self._conv.dtype)
    backend = property(lambda self: self._conv.backend)
    partition = property(lambda self: self._conv.partition)
    partitions = property(lambda self: self._conv.partitions)

    def process(self, block, out=None):
        """Deconvolve the next block (see :meth:`StreamingConvolver.process`)."""
        return self._conv.process(block, out)

    def reset(self):
        """Forget the past input (see :meth:`StreamingConvolver.reset`)."""
        self._conv.reset()

    def set_ir(self, ir):
        """Design the inverse of a new response and cross-fade to it over the next block
        (see :meth:`StreamingConvolver.set_ir`); ``n_taps`` and the latency stay."""
        h = _check_ir(ir, self.channels)
        taps = self._design(h)
        _check_range(taps, self.dtype, *_INVERSE_RANGE)
        taps = taps if np.ndim(ir) == 2 else taps[0]
        self._conv.set_ir(taps)
        self.taps = taps

    def __repr__(self):
        return (f"StreamingDeconvolver(n_taps={self.n_taps}, reg={self.reg:g},"
                f" latency={self.latency}, {self._conv!r})")
