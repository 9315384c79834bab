"""Numba direct-correlation kernels.

Kernel contract (shared by ``kernels/cython/direct`` and ``kernels/reference/direct``):
all arrays C-contiguous, native byte order, ``x``/``weights``/``out`` of one dtype,
index arrays ``int64``, ``out`` preallocated; nothing is checked here.

Allocation: ``correlate_terms`` and ``correlate_terms_parallel`` allocate nothing.  The
2-D kernels allocate a small scratch per work item (freed when the item ends; in the
parallel versions each thread holds at most one at a time), ``v`` bytes per value of
the dtype:

- ``correlate2d_mapped``/``_parallel``, per band of ``band`` output rows of one plane:
  the band's term list, ``nterms`` int64 offsets and ``nterms`` weights, one value and
  one flag byte per row, i.e. ``8 nterms + v (nterms + 1) + band`` bytes (the Cython
  twin: ``(8 + v) (nterms + 1) + band + 1`` bytes);
- ``correlate2d_sweep``/``_parallel``, per tile of ``band`` rows by ``strip`` columns
  of one plane: the boundary-extended input rows, ``(band + kh + 2) SW`` values with
  ``SW = 8 ceil((strip + kw - 1) / 8) + 8``, and the output tile, ``4 x 256`` values,
  i.e. ``v ((band + kh + 2) SW + 1024)`` bytes (the same in the Cython twin).

Where that allocation fails the Cython twin raises ``MemoryError`` after its loop (no
exception can be raised without the GIL), and Numba's ``np.empty`` raises its own.

``correlate_terms(x, offsets, weights, in_off, w_off, out, o_off, ncols, chunk)``
computes, for every output row ``r`` and column ``j < ncols``::

    out[o_off[r] + j] = sum_p weights[w_off[r] + p] * x[in_off[r] + offsets[p] + j]

with ``p`` over ``len(offsets)`` terms (``x`` and ``out`` are flat buffers; rows may be
parts of longer lines, so a border-free interior can be written straight into a larger
output and read straight from the unpadded input).  A valid N-D correlation is this sum once the
kernel is flattened into (offset, weight) terms: the offsets are the flat positions of
the kernel taps inside the (padded) input and the rows are the output's lines along its
last axis.  ``chunk`` is the column block each work item covers (keeps the output block
and the input streams it reads in L1).
"""
import numpy as np
from numba import prange

from ._config import kernel_jit
from ._sweep_passes import MAX_GROUP, ROWS, T, sweep_pass


@kernel_jit(inline="always")
def _row_block(x, offsets, weights, base, wb, out, ob, n):
    # Why this shape: the innermost loop runs over contiguous output columns with up to
    # twelve (offset, weight) terms fused per pass, so LLVM emits one FMA vector per term
    # and the output block is loaded/stored once per pass instead of once per tap.  Twelve
    # weights, the sum and a temporary are all the 16 AVX2 registers hold (measured: a
    # 7x7 kernel 5-10 % faster than with eight-term passes).
    base = np.uint64(base)
    ob = np.uint64(ob)
    n = np.uint64(n)
    nterms = offsets.shape[0]
    # The first pass stores (no zeroing pass) and takes the nterms % 4 odd terms
    # (thirteen when nterms % 12 == 1, else nine when nterms % 8 == 1), so the remaining
    # terms run in full passes of twelve, eight or four.
    first = nterms % 4
    if first == 0:
        first = min(nterms, 4)
    # Real dtypes take wider passes (complex ones would spill): each pass over the output
    # block loads and stores it once, so fewer, wider passes move less data.
    real = not np.iscomplexobj(weights)
    if real and nterms % 12 == 1 and nterms > 1:
        # Odd square kernels not a multiple of 3 wide (5x5, 7x7, 11x11, 13x13) have
        # nterms % 12 == 1: a thirteen-term first pass leaves whole twelve-term passes.
        b0 = base + np.uint64(offsets[0])
        b1 = base + np.uint64(offsets[1])
        b2 = base + np.uint64(offsets[2])
        b3 = base + np.uint64(offsets[3])
        b4 = base + np.uint64(offsets[4])
        b5 = base + np.uint64(offsets[5])
        b6 = base + np.uint64(offsets[6])
        b7 = base + np.uint64(offsets[7])
        b8 = base + np.uint64(offsets[8])
        b9 = base + np.uint64(offsets[9])
        b10 = base + np.uint64(offsets[10])
        b11 = base + np.uint64(offsets[11])
        b12 = base + np.uint64(offsets[12])
        w0 = weights[wb]
        w1 = weights[wb + 1]
        w2 = weights[wb + 2]
        w3 = weights[wb + 3]
        w4 = weights[wb + 4]
        w5 = weights[wb + 5]
        w6 = weights[wb + 6]
        w7 = weights[wb + 7]
        w8 = weights[wb + 8]
        w9 = weights[wb + 9]
        w10 = weights[wb + 10]
        w11 = weights[wb + 11]
        w12 = weights[wb + 12]
        for j in range(n):
            out[ob + j] = ((((w0 * x[b0 + j] + w1 * x[b1 + j])
                             + (w2 * x[b2 + j] + w3 * x[b3 + j]))
                            + ((w4 * x[b4 + j] + w5 * x[b5 + j])
                               + (w6 * x[b6 + j] + w7 * x[b7 + j])))
                           + ((w8 * x[b8 + j] + w9 * x[b9 + j])
                              + (w10 * x[b10 + j] + w11 * x[b11 + j]))) + w12 * x[b12 + j]
        first = 13
    elif real and nterms % 8 == 1 and nterms > 1:
        # Every odd square kernel (3x3, 5x5, ...) has nterms % 8 == 1: a nine-term first
        # pass leaves a multiple of four terms, and a 3x3 kernel runs in one pass.
        b0 = base + np.uint64(offsets[0])
        b1 = base + np.uint64(offsets[1])
        b2 = base + np.uint64(offsets[2])
        b3 = base + np.uint64(offsets[3])
        b4 = base + np.uint64(offsets[4])
        b5 = base + np.uint64(offsets[5])
        b6 = base + np.uint64(offsets[6])
        b7 = base + np.uint64(offsets[7])
        b8 = base + np.uint64(offsets[8])
        w0 = weights[wb]
        w1 = weights[wb + 1]
        w2 = weights[wb + 2]
        w3 = weights[wb + 3]
        w4 = weights[wb + 4]
        w5 = weights[wb + 5]
        w6 = weights[wb + 6]
        w7 = weights[wb + 7]
        w8 = weights[wb + 8]
        for j in range(n):
            out[ob + j] = (((w0 * x[b0 + j] + w1 * x[b1 + j])
                            + (w2 * x[b2 + j] + w3 * x[b3 + j]))
                           + ((w4 * x[b4 + j] + w5 * x[b5 + j])
                              + (w6 * x[b6 + j] + w7 * x[b7 + j]))) + w8 * x[b8 + j]
        first = 9
    elif first == 0:
        for j in range(n):
            out[ob + j] = 0
    elif first == 1:
        b0 = base + np.uint64(offsets[0])
        w0 = weights[wb]
        for j in range(n):
            out[ob + j] = w0 * x[b0 + j]
    elif first == 2:
        b0 = base + np.uint64(offsets[0])
        b1 = base + np.uint64(offsets[1])
        w0 = weights[wb]
        w1 = weights[wb + 1]
        for j in range(n):
            out[ob + j] = w0 * x[b0 + j] + w1 * x[b1 + j]
    elif first == 3:
        b0 = base + np.uint64(offsets[0])
        b1 = base + np.uint64(offsets[1])
        b2 = base + np.uint64(offsets[2])
        w0 = weights[wb]
        w1 = weights[wb + 1]
        w2 = weights[wb + 2]
        for j in range(n):
            out[ob + j] = (w0 * x[b0 + j] + w1 * x[b1 + j]) + w2 * x[b2 + j]
    else:
        b0 = base + np.uint64(offsets[0])
        b1 = base + np.uint64(offsets[1])
        b2 = base + np.uint64(offsets[2])
        b3 = base + np.uint64(offsets[3])
        w0 = weights[wb]
        w1 = weights[wb + 1]
        w2 = weights[wb + 2]
        w3 = weights[wb + 3]
        for j in range(n):
            out[ob + j] = (w0 * x[b0 + j] + w1 * x[b1 + j]) \
                + (w2 * x[b2 + j] + w3 * x[b3 + j])
    p = first
    while real and p + 12 <= nterms:
        b0 = base + np.uint64(offsets[p])
        b1 = base + np.uint64(offsets[p + 1])
        b2 = base + np.uint64(offsets[p + 2])
        b3 = base + np.uint64(offsets[p + 3])
        b4 = base + np.uint64(offsets[p + 4])
        b5 = base + np.uint64(offsets[p + 5])
        b6 = base + np.uint64(offsets[p + 6])
        b7 = base + np.uint64(offsets[p + 7])
        b8 = base + np.uint64(offsets[p + 8])
        b9 = base + np.uint64(offsets[p + 9])
        b10 = base + np.uint64(offsets[p + 10])
        b11 = base + np.uint64(offsets[p + 11])
        w0 = weights[wb + p]
        w1 = weights[wb + p + 1]
        w2 = weights[wb + p + 2]
        w3 = weights[wb + p + 3]
        w4 = weights[wb + p + 4]
        w5 = weights[wb + p + 5]
        w6 = weights[wb + p + 6]
        w7 = weights[wb + p + 7]
        w8 = weights[wb + p + 8]
        w9 = weights[wb + p + 9]
        w10 = weights[wb + p + 10]
        w11 = weights[wb + p + 11]
        for j in range(n):
            out[ob + j] += (((w0 * x[b0 + j] + w1 * x[b1 + j])
                             + (w2 * x[b2 + j] + w3 * x[b3 + j]))
                            + ((w4 * x[b4 + j] + w5 * x[b5 + j])
                               + (w6 * x[b6 + j] + w7 * x[b7 + j]))) \
                + ((w8 * x[b8 + j] + w9 * x[b9 + j]) + (w10 * x[b10 + j] + w11 * x[b11 + j]))
        p += 12
    while p + 8 <= nterms:
        b0 = base + np.uint64(offsets[p])
        b1 = base + np.uint64(offsets[p + 1])
        b2 = base + np.uint64(offsets[p + 2])
        b3 = base + np.uint64(offsets[p + 3])
        b4 = base + np.uint64(offsets[p + 4])
        b5 = base + np.uint64(offsets[p + 5])
        b6 = base + np.uint64(offsets[p + 6])
        b7 = base + np.uint64(offsets[p + 7])
        w0 = weights[wb + p]
        w1 = weights[wb + p + 1]
        w2 = weights[wb + p + 2]
        w3 = weights[wb + p + 3]
        w4 = weights[wb + p + 4]
        w5 = weights[wb + p + 5]
        w6 = weights[wb + p + 6]
        w7 = weights[wb + p + 7]
        for j in range(n):
            out[ob + j] += ((w0 * x[b0 + j] + w1 * x[b1 + j])
                            + (w2 * x[b2 + j] + w3 * x[b3 + j])) \
                + ((w4 * x[b4 + j] + w5 * x[b5 + j])
                   + (w6 * x[b6 + j] + w7 * x[b7 + j]))
        p += 8
    while p + 4 <= nterms:
        b0 = base + np.uint64(offsets[p])
        b1 = base + np.uint64(offsets[p + 1])
        b2 = base + np.uint64(offsets[p + 2])
        b3 = base + np.uint64(offsets[p + 3])
        w0 = weights[wb + p]
        w1 = weights[wb + p + 1]
        w2 = weights[wb + p + 2]
        w3 = weights[wb + p + 3]
        for j in range(n):
            out[ob + j] += (w0 * x[b0 + j] + w1 * x[b1 + j]) \
                + (w2 * x[b2 + j] + w3 * x[b3 + j])
        p += 4


@kernel_jit
def _row_block_call(x, offsets, weights, base, wb, out, ob, n):
    # One compiled copy of _row_block shared by every kernel below: inlined at each call
    # site it was compiled once per site (a 2-D call's first-run compile took 38 s
    # instead of 18 s) for no measurable speed.
    _row_block(x, offsets, weights, base, wb, out, ob, n)


@kernel_jit
def correlate_terms(x, offsets, weights, in_off, w_off, out, o_off, ncols, chunk):
    nrows = in_off.shape[0]
    nchunks = (ncols + chunk - 1) // chunk
    for item in range(nrows * nchunks):
        r = item // nchunks
        j0 = (item - r * nchunks) * chunk
        n = min(chunk, ncols - j0)
        _row_block_call(x, offsets, weights, in_off[r] + j0, w_off[r], out, o_off[r] + j0, n)


@kernel_jit(parallel=True)
def correlate_terms_parallel(x, offsets, weights, in_off, w_off, out, o_off, ncols, chunk):
    nrows = in_off.shape[0]
    nchunks = (ncols + chunk - 1) // chunk
    for item in prange(nrows * nchunks):
        r = item // nchunks
        j0 = (item - r * nchunks) * chunk
        n = min(chunk, ncols - j0)
        _row_block_call(x, offsets, weights, in_off[r] + j0, w_off[r], out, o_off[r] + j0, n)





# ---------------------------------------------------------------------------- 2-D, mapped
#
# ``correlate2d_mapped(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out, OH, OW,
# lo, hi, edges, band, chunk)`` computes a 2-D window, boundary included, in one call.
# ``x`` holds P planes of H x W and ``out`` P planes of OH x OW (flat, C order); for every
# plane, output row ``o`` and column ``j``::
#
#     out[o, j] = sum_p weights[p] * X(rowmap[o + tap_r[p]], colmap[j + tap_c[p]])
#
# with ``X(i, m) = x[i, m]``, or ``fill[0]`` where ``i`` or ``m`` is -1.  The maps encode
# the window and any boundary extension.  Columns ``lo <= j < hi`` must read consecutive
# source columns (``colmap[j + c] == colmap[lo] + j - lo + c >= 0``): there each row runs
# the vectorised ``_row_block`` straight over ``x``, its terms rebuilt per output row from
# the row map (rows of fill drop out and add a constant); the few columns outside run a
# scalar loop through both maps, or are left untouched when ``edges`` is false (the
# caller computes them).  Work items are ``band`` output rows of one plane.


@kernel_jit(inline="always")
def _mapped_column(x, W, rowmap, colmap, tap_r, tap_c, weights, fv, plane, o, j, zero):
    acc = zero
    for k in range(tap_r.shape[0]):
        src = rowmap[o + tap_r[k]]
        col = colmap[j + tap_c[k]]
        v = x[plane + src * W + col] if src >= 0 and col >= 0 else fv
        acc += weights[k] * v
    return acc


@kernel_jit
def _mapped_band(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out, OH, OW,
                 lo, hi, edges, chunk, p, o_lo, o_hi):
    nterms = tap_r.shape[0]
    offs = np.empty(nterms, np.int64)
    ws = np.empty(nterms, weights.dtype)
    zero = np.zeros(1, weights.dtype)[0]
    fv = fill[0]
    plane = p * H * W
    inner = hi > lo
    # Rows whose kernel rows read consecutive input rows (all but those near a boundary)
    # share one term list relative to their first input row, built once per band; only
    # the rows near a row boundary rebuild theirs (taps on fill rows drop out and add a
    # constant).
    kh = 0
    for k in range(nterms):
        kh = max(kh, tap_r[k] + 1)
    uniform = np.empty(o_hi - o_lo, np.bool_)
    for o in range(o_lo, o_hi):
        ok = rowmap[o] >= 0
        for t in range(1, kh):
            if rowmap[o + t] != rowmap[o] + t:
                ok = False
        uniform[o - o_lo] = ok
    for k in range(nterms):
        offs[k] = tap_r[k] * W + tap_c[k]
    if inner:
        base0 = plane + colmap[lo] - lo
        for j0 in range(lo, hi, chunk):
            n = min(chunk, hi - j0)
            for o in range(o_lo, o_hi):
                if uniform[o - o_lo]:
                    _row_block_call(x, offs[:nterms], weights, base0 + rowmap[o] * W + j0,
                                    0, out, (p * OH + o) * OW + j0, n)
    for o in range(o_lo, o_hi):
        orow = (p * OH + o) * OW
        if inner and not uniform[o - o_lo]:
            m = 0
            const = zero
            for k in range(nterms):
                src = rowmap[o + tap_r[k]]
                if src >= 0:
                    offs[m] = src * W + tap_c[k]
                    ws[m] = weights[k]
                    m += 1
                else:
                    const += weights[k] * fv
            base0 = plane + colmap[lo] - lo
            for j0 in range(lo, hi, chunk):
                n = min(chunk, hi - j0)
                _row_block_call(x, offs[:m], ws, base0 + j0, 0, out, orow + j0, n)
                if const != 0:
                    for j in range(j0, j0 + n):
                        out[orow + j] += const
        if not edges:
            continue
        for j in range(lo if inner else OW):
            out[orow + j] = _mapped_column(x, W, rowmap, colmap, tap_r, tap_c, weights, fv,
                                           plane, o, j, zero)
        if inner:
            for j in range(hi, OW):
                out[orow + j] = _mapped_column(x, W, rowmap, colmap, tap_r, tap_c, weights,
                                               fv, plane, o, j, zero)


@kernel_jit
def correlate2d_mapped(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out, OH, OW,
                       lo, hi, edges, band, chunk):
    planes = out.shape[0] // (OH * OW)
    nbands = (OH + band - 1) // band
    for item in range(planes * nbands):
        p = item // nbands
        b = item - p * nbands
        _mapped_band(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out, OH, OW,
                     lo, hi, edges, chunk, p, b * band, min(OH, (b + 1) * band))


@kernel_jit(parallel=True)
def correlate2d_mapped_parallel(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out,
                                OH, OW, lo, hi, edges, band, chunk):
    planes = out.shape[0] // (OH * OW)
    nbands = (OH + band - 1) // band
    for item in prange(planes * nbands):
        p = item // nbands
        b = item - p * nbands
        _mapped_band(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out, OH, OW,
                     lo, hi, edges, chunk, p, b * band, min(OH, (b + 1) * band))


__all__ = ["correlate_terms", "correlate_terms_parallel", "correlate2d_mapped",
           "correlate2d_mapped_parallel"]


# ----------------------------------------------------------------------------- 2-D, sweep
#
# ``correlate2d_sweep(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH, OW, clo, chi,
# band, strip)`` computes the same window as ``correlate2d_mapped`` for a dense kh x kw
# kernel of a real float dtype, ``wt`` holding its weights transposed
# (``wt[n * kh + m]`` is the weight of row m, column n), with ``X`` as there::
#
#     out[p, o, j] = sum_n sum_m wt[n * kh + m] * X(p, rowmap[o + m], colmap[j + n])
#
# Extended columns ``clo <= c < chi`` must read consecutive sources
# (``colmap[c] == colmap[clo] + c - clo >= 0``; ``clo == chi`` when there are none).
# A work item is ``band`` output rows by ``strip`` output columns of one plane: its input
# rows are copied, boundary applied, into a scratch with a stride that is not a power of
# two, four rows ahead of the output rows being computed; each block of four output rows
# then runs the generated passes (``_sweep_passes``; one per group of at most nine kernel
# rows) over column tiles of ``T`` outputs, which sum into the small tile ``O`` that is
# finally copied to ``out``.  Each output is summed from zero group by group, shift by
# shift, then kernel row by kernel row (``a = a + w * x``).
#
# Why: a pass loads each input vector once for up to four FMAs (the row kernels load one
# per FMA and are bound by loads at ~45 % of the FMA peak); the scratch copy keeps the
# g + 3 rows a pass reads from mapping to one L1 set, which power-of-two widths (2048
# floats: rows 8 KiB apart) otherwise do.


@kernel_jit
def _sweep_item(x, H, W, rowmap, colmap, wt, kh, kw, fv, out, OH, OW, clo, chi,
                p, i0, i1, e0, e1, S, SW, O):
    th = i1 - i0
    cols = e1 - e0 + kw - 1          # extended columns of the strip's outputs
    rows = th + kh - 1
    plane = p * H * W
    a = min(max(clo - e0, 0), cols)  # [a, b): the strip's consecutive-source columns
    b = max(min(chi - e0, cols), a)
    ngroups = (kh + MAX_GROUP - 1) // MAX_GROUP
    for r in range(rows, rows + ROWS - 1):
        # rows read by the last block's missing outputs: never stored, zero for calm
        d = np.uint64(r * SW)
        for c in range(np.uint64(cols)):
            S[d + c] = 0
    done = 0
    for i in range(0, th, ROWS):
        # Copy the input rows this block needs (each row once): the copy of the next
        # rows then streams from memory between blocks of computation.
        need = min(rows, i + ROWS + kh - 1)
        for r in range(done, need):
            src = rowmap[i0 + r]
            d = np.uint64(r * SW)
            if src < 0:
                for c in range(np.uint64(cols)):
                    S[d + c] = fv
                continue
            s = plane + src * W
            for c in range(a):
                col = colmap[e0 + c]
                S[d + c] = x[s + col] if col >= 0 else fv
            if b > a:
                s2 = np.uint64(s + colmap[e0 + a])
                d2 = d + np.uint64(a)
                for c in range(np.uint64(b - a)):
                    S[d2 + c] = x[s2 + c]
            for c in range(b, cols):
                col = colmap[e0 + c]
                S[d + c] = x[s + col] if col >= 0 else fv
        done = need
        for j0 in range(0, e1 - e0, T):
            tw = min(T, e1 - e0 - j0)
            for c in range(ROWS * T):
                O[c] = 0
            m0 = 0
            for gi in range(ngroups):
                g = (kh - m0) // (ngroups - gi)
                sweep_pass(g, S, (i + m0) * SW + j0, SW, wt, kh, m0, kw, O, tw)
                m0 += g
            for q in range(min(ROWS, th - i)):
                d = np.uint64((p * OH + i0 + i + q) * OW + e0 + j0)
                so = np.uint64(q * T)
                for j in range(np.uint64(tw)):
                    out[d + j] = O[so + j]


@kernel_jit(inline="always")
def _sweep_stride(strip, kw):
    # a multiple of eight floats plus eight: never a power of two for the widths used
    return ((strip + kw - 1 + 7) // 8) * 8 + 8


@kernel_jit
def _sweep_run(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH, OW, clo, chi, band,
               strip, item):
    nb = (OH + band - 1) // band
    ns = (OW + strip - 1) // strip
    p = item // (nb * ns)
    rest = item - p * nb * ns
    bi = rest // ns
    si = rest - bi * ns
    SW = _sweep_stride(strip, kw)
    S = np.empty((band + kh - 1 + ROWS - 1) * SW, out.dtype)
    O = np.empty(ROWS * T, out.dtype)
    _sweep_item(x, H, W, rowmap, colmap, wt, kh, kw, fill[0], out, OH, OW, clo, chi,
                p, bi * band, min(OH, (bi + 1) * band), si * strip, min(OW, (si + 1) * strip),
                S, SW, O)


@kernel_jit
def correlate2d_sweep(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH, OW, clo, chi,
                      band, strip):
    items = (out.shape[0] // (OH * OW)) * ((OH + band - 1) // band) * ((OW + strip - 1) // strip)
    for item in range(items):
        _sweep_run(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH, OW, clo, chi, band,
                   strip, item)


@kernel_jit(parallel=True)
def correlate2d_sweep_parallel(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH, OW,
                               clo, chi, band, strip):
    items = (out.shape[0] // (OH * OW)) * ((OH + band - 1) // band) * ((OW + strip - 1) // strip)
    for item in prange(items):
        _sweep_run(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH, OW, clo, chi, band,
                   strip, item)


__all__ += ["correlate2d_sweep", "correlate2d_sweep_parallel"]
