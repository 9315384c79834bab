"""Direct (spatial) convolution engine over the backends' direct kernels.

Layout every engine here and in ``_fft.py`` works in ("canonical layout"): the ``nb``
batch axes come first, the convolution axes last; ``x`` and ``k`` have the same ndim;
batch sizes are equal or 1 (broadcast).  A *window* per convolution axis is
``(start, length)`` in the coordinates of the full linear convolution, so 'full',
'same' (either centring convention) and 'valid' are all windows.

Two paths:

- 2-D with one kernel (images, stacks of images): one kernel call computes the whole
  window; a row and a column index map say which input sample (or the fill value) each
  extended coordinate reads, so every boundary mode costs no padded copy.  Dense float
  kernels of ``SWEEP_MIN_TAPS`` taps or more (and tall separable factors) run
  ``correlate2d_sweep`` (:class:`Window2D`); others ``correlate2d_mapped``, whose few
  columns next to the left/right edges run one sample at a time, or for wide kernels as
  one transposed ``correlate_terms`` job (:func:`_edge_columns`).
- everything else (1-D, N-D, one kernel per batch line): ``correlate_terms`` on the
  interior read in place, plus border slabs computed from small padded copies
  (:func:`_windowed`).
"""
import numpy as np

from ._backends import get_num_threads, kernels

# Output work (outputs x terms) above which the threaded kernel variant pays off:
# measured on this machine, waking the threads costs ~20-50 us, the kernel runs at
# ~20 GFMA/s per thread, so below ~1M terms one thread finishes first.
PARALLEL_MIN_WORK = 1_000_000
# Column block per work item.  Each block pays a pass set-up per group of terms
# (pointers, weight broadcasts, overlap checks); measured on 2048-wide images, 8 KiB
# beat 1, 2 and 4 KiB by 5-30 % although the streams then spill from L1 to L2.
BLOCK_BYTES = 8192
# Border slabs narrower than this along the last axis run transposed (see _windowed).
NARROW_SLAB = 64
# The 2-D sweep kernel (``correlate2d_sweep``) runs float kernels of at least this many
# taps and three rows.  Measured on 2048^2 float32, 2 threads, against the row kernel:
# 1.1-1.25x for 6x6, 7x7, 5x7, 4x8, 3x15 and up; 0.8-0.9x for 3x5, 4x4 and 5x5 (there the
# copies into and out of the scratch cost more than the loads the passes save); even
# with two rows (2x15, 2x31: a pass shares too little).
SWEEP_MIN_TAPS = 30
# Single-column kernels (the vertical pass of a separable 2-D filter) from this height:
# 13x1 / 15x1 / 21x1 1.3-1.4x faster than the row kernel, 9x1 / 11x1 0.8x.
SWEEP_MIN_COLUMN = 13
# Scratch of one sweep work item (input rows of a band): kept within half of L2.
SWEEP_SCRATCH_BYTES = 512 * 1024


def boundary_index(coords, n, pad_mode):
    """Indices into an axis of length ``n`` for (possibly outside) ``coords``,
    following numpy.pad's ``wrap``/``symmetric``/``reflect``/``edge`` extension."""
    if pad_mode == "wrap":
        return coords % n
    if pad_mode == "symmetric":
        m = coords % (2 * n)
        return np.where(m < n, m, 2 * n - 1 - m)
    if pad_mode == "reflect":
        if n == 1:
            return np.zeros_like(coords)
        m = coords % (2 * n - 2)
        return np.where(m < n, m, 2 * n - 2 - m)
    return np.clip(coords, 0, n - 1)  # edge


def pad_for_window(x, kshape, windows, pad_mode, fillvalue, nb):
    """Extend ``x`` over its convolution axes by what ``windows`` read; contiguous result.

    Returns the padded array ``xp`` whose valid correlation with a kernel of shape
    ``kshape`` is the requested window.
    """
    pads = [(0, 0)] * nb
    slices = [slice(None)] * nb
    partial = False
    for n, kk, (s, length) in zip(x.shape[nb:], kshape[nb:], windows):
        lo = s - (kk - 1)
        hi = s + length
        pad = (max(0, -lo), max(0, hi - n))
        pads.append(pad)
        slices.append(slice(max(lo, 0), min(hi, n)))
        partial |= pad != (0, 0) and (lo > 0 or hi < n)
    if not any(p != (0, 0) for p in pads):
        return np.ascontiguousarray(x[tuple(slices)])
    if pad_mode == "constant":
        return _pad_constant(x[tuple(slices)], pads, fillvalue)
    if not partial:
        return np.pad(x[tuple(slices)], pads, mode=pad_mode)
    # A window that pads one side of a partial slice: the extension must come from the
    # whole axis (wrap reads the far edge), so gather through index maps.
    index = [np.arange(n) for n in x.shape[:nb]]
    for n, kk, (s, length) in zip(x.shape[nb:], kshape[nb:], windows):
        index.append(boundary_index(np.arange(s - (kk - 1), s + length), n, pad_mode))
    return np.ascontiguousarray(x[np.ix_(*index)])


def _pad_constant(inner, pads, fillvalue):
    """``numpy.pad(inner, pads, constant_values=fillvalue)`` writing each element once
    (numpy.pad's general machinery costs ~50 us per call on small border slabs)."""
    shape = tuple(n + lo + hi for n, (lo, hi) in zip(inner.shape, pads))
    xp = np.empty(shape, dtype=inner.dtype)
    xp[tuple(slice(lo, lo + n) for n, (lo, _) in zip(inner.shape, pads))] = inner
    for a, (lo, hi) in enumerate(pads):
        head = (slice(None),) * a
        if lo:
            xp[head + (slice(0, lo),)] = fillvalue
        if hi:
            xp[head + (slice(shape[a] - hi, shape[a]),)] = fillvalue
    return xp


def _flat_offsets(shape, strides):
    """Flat offsets (in elements) of every index of ``shape`` for the given strides."""
    off = np.zeros((), dtype=np.int64)
    for n, st in zip(shape, strides):
        off = np.add.outer(off, np.arange(n, dtype=np.int64) * st)
    return off.reshape(-1)


def _element_offset(view, base):
    """Position of ``view``'s first element inside the contiguous array ``base``."""
    delta = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    return delta // base.itemsize


class _Stencil:
    """A kernel flattened into (offset, weight) terms for one input layout."""

    def __init__(self, kf, nb, drop_zeros):
        self.kshape = kf.shape[nb:]
        self.batched = any(b != 1 for b in kf.shape[:nb])
        self.weights = np.ascontiguousarray(kf).reshape(-1)
        self.keep = None
        if drop_zeros and not self.batched:
            keep = self.weights != 0
            if not keep.all():
                self.keep = keep
                self.weights = np.ascontiguousarray(self.weights[keep])
        self.nterms = int(np.prod(self.kshape, dtype=np.int64))

    def offsets(self, estrides):
        off = _flat_offsets(self.kshape, estrides)
        return off[self.keep] if self.keep is not None else off


def row_plan(xbase, xview, stencil, outbase, outview, nb):
    """Kernel arguments for a valid correlation of ``xview`` (a view of contiguous
    ``xbase``) by ``stencil`` into ``outview`` (a view of contiguous ``outbase``).

    Views may be strided on every axis but the last, which must have unit stride.
    ``outview``'s shape is ``B + (P - K + 1)`` for ``xview`` of shape ``B + P``.
    Returns a dict of the ``correlate_terms`` arguments (without the buffers).
    """
    item = xbase.itemsize
    xstr = [s // item for s in xview.strides]
    ostr = [s // item for s in outview.strides]
    bshape = outview.shape[:nb]
    offsets = stencil.offsets(xstr[nb:])
    # Rows are lines along the last axis.  Where the stencil is one tap wide along that
    # axis and both views are contiguous across the last two axes, those axes form one
    # longer line (the offsets already hold the taps' flat positions): a pass along an
    # outer axis of a volume then runs over whole planes instead of 128-sample rows.
    ks = list(stencil.kshape)
    xshape = list(xview.shape[nb:])
    oshape = list(outview.shape[nb:])
    xs, os_ = xstr[nb:], ostr[nb:]
    while (len(ks) > 1 and ks[-1] == 1 and xshape[-1] == oshape[-1]
           and xs[-2] == xshape[-1] * xs[-1] and os_[-2] == oshape[-1] * os_[-1]):
        n = oshape[-1]
        ks = ks[:-2] + [ks[-2]]
        xshape = xshape[:-2] + [xshape[-2] * n]
        oshape = oshape[:-2] + [oshape[-2] * n]
        xs = xs[:-2] + [xs[-1]]
        os_ = os_[:-2] + [os_[-1]]
    xstr = xstr[:nb] + xs
    ostr = ostr[:nb] + os_
    oshape = tuple(oshape)
    in_off = _flat_offsets(bshape + oshape[:-1], xstr[:-1]) + _element_offset(xview, xbase)
    o_off = _flat_offsets(bshape + oshape[:-1], ostr[:-1]) + _element_offset(outview, outbase)
    if stencil.batched:
        per_batch = int(np.prod(oshape[:-1], dtype=np.int64))
        w_off = np.repeat(np.arange(int(np.prod(bshape, dtype=np.int64)), dtype=np.int64)
                          * stencil.nterms, per_batch)
    else:
        w_off = np.zeros(in_off.size, dtype=np.int64)
    work = outview.size * max(1, offsets.size)
    return dict(offsets=offsets, weights=stencil.weights, in_off=in_off, w_off=w_off,
                o_off=o_off, ncols=oshape[-1], chunk=max(16, BLOCK_BYTES // item),
                parallel=work >= PARALLEL_MIN_WORK)


def run_plan(mod, xflat, outflat, plan):
    """Run one :func:`row_plan` with backend module ``mod``."""
    run = (mod.correlate_terms_parallel if plan["parallel"] and get_num_threads() > 1
           else mod.correlate_terms)
    run(xflat, plan["offsets"], plan["weights"], plan["in_off"], plan["w_off"], outflat,
        plan["o_off"], plan["ncols"], plan["chunk"])


def correlate_into(xbase, xview, stencil, outbase, outview, nb, backend):
    """Valid correlation of ``xview`` (a view of contiguous ``xbase``) by ``stencil``,
    written into ``outview`` (a view of contiguous ``outbase``); see :func:`row_plan`."""
    if outview.size == 0:
        return
    plan = row_plan(xbase, xview, stencil, outbase, outview, nb)
    run_plan(kernels(backend), xbase.reshape(-1), outbase.reshape(-1), plan)


def valid_correlate(xp, kf, nb, backend, drop_zeros=False):
    """Valid correlation of contiguous ``xp`` with ``kf`` over the last axes.

    ``xp``: shape ``B + P``; ``kf``: shape ``Bk + K`` with ``Bk`` all ones (one kernel)
    or equal to ``B`` (one kernel per batch line).  Returns shape ``B + (P - K + 1)``.
    """
    oshape = tuple(p - kk + 1 for p, kk in zip(xp.shape[nb:], kf.shape[nb:]))
    out = np.empty(xp.shape[:nb] + oshape, dtype=xp.dtype)
    correlate_into(xp, xp, _Stencil(kf, nb, drop_zeros), out, out, nb, backend)
    return out


def separable_factors(k, nb, dtype):
    """1-D factors ``[v_0, ..., v_{d-1}]`` with ``k == outer(v_0, ..., v_{d-1})``, or None.

    Checks the rank-1 structure to a few ulps of ``dtype`` relative to ``max|k|``, so
    running the factors one axis at a time changes results only at rounding level.
    """
    if any(b != 1 for b in k.shape[:nb]) or np.dtype(dtype).kind not in "fc":
        return None
    kc = k.reshape(k.shape[nb:]).astype(np.result_type(dtype, np.float64), copy=False)
    d = kc.ndim
    if d < 2 or sum(n > 1 for n in kc.shape) < 2:
        return None
    peak = np.unravel_index(np.argmax(np.abs(kc)), kc.shape)
    pivot = kc[peak]
    if pivot == 0:
        return None
    factors = []
    for a in range(d):
        index = list(peak)
        index[a] = slice(None)
        v = kc[tuple(index)]
        factors.append(v if a == 0 else v / pivot)
    approx = factors[0]
    for v in factors[1:]:
        approx = np.multiply.outer(approx, v)
    tol = 16 * np.finfo(dtype).eps * abs(pivot) * np.sqrt(kc.size)
    if np.max(np.abs(approx - kc)) > tol:
        return None
    return factors


def separable_pays(kshape):
    """Whether one pass per axis beats the full stencil (measured crossover)."""
    taps = int(np.prod(kshape))
    passes = sum(n for n in kshape if n > 1)
    # each separate pass re-reads and re-writes the whole array: ~4 taps' worth of work
    return taps > passes + 4 * (sum(n > 1 for n in kshape) - 1) + 4


def _interior(xshape, kshape, windows):
    """Per axis, the output range ``[lo, hi)`` whose reads stay inside the input."""
    box = []
    for n, kk, (s, length) in zip(xshape, kshape, windows):
        lo, hi = max(0, kk - 1 - s), min(length, n - s)
        box.append((lo, max(lo, hi)))
    return box


def _border_slabs(box, windows):
    """Boxes covering the output minus the interior: per axis, the parts before and
    after the interior, restricted to the interior on the earlier axes."""
    slabs = []
    for a, (lo, hi) in enumerate(box):
        for start, stop in ((0, lo), (hi, windows[a][1])):
            if stop > start:
                slab = box[:a] + [(start, stop)] + [(0, w[1]) for w in windows[a + 1:]]
                if all(e > b for b, e in slab):
                    slabs.append(slab)
    return slabs


def direct_convolve(x, k, windows, pad_mode, fillvalue, nb, backend, allow_separable=True):
    """Convolution of ``x`` by ``k`` over the last axes, restricted to ``windows``.

    ``x`` and ``k`` are contiguous, in the compute dtype; the result is contiguous, of
    shape ``broadcast(B) + lengths``.  The interior of the output is read straight from
    ``x``; only the border slabs are computed from small padded copies.
    """
    nc = len(windows)
    bshape = np.broadcast_shapes(x.shape[:nb], k.shape[:nb])
    if x.shape[:nb] != bshape:
        x = np.ascontiguousarray(np.broadcast_to(x, bshape + x.shape[nb:]))
    if k.shape[:nb] != bshape and any(b != 1 for b in k.shape[:nb]):
        # one kernel per batch line: the weights are indexed by the full batch index
        k = np.ascontiguousarray(np.broadcast_to(k, bshape + k.shape[nb:]))
    kf = np.flip(k, axis=tuple(range(nb, nb + nc)))
    if allow_separable and separable_pays(k.shape[nb:]):
        factors = separable_factors(kf, nb, x.dtype)
        if factors is not None:
            return _separable(x, factors, windows, pad_mode, fillvalue, nb, backend)
    # Zero taps may be skipped only when no NaN/Inf could meet them (0 * inf is NaN).
    drop = (not np.all(kf)) and (x.dtype.kind not in "fc" or (
        bool(np.isfinite(x).all()) and bool(np.isfinite(fillvalue))))
    if nc == 2 and kf.shape[:nb] == (1,) * nb:
        nterms = int(np.count_nonzero(kf)) if drop else kf.size
        sweep = _sweep_pays(x.dtype, kf.shape[nb:], nterms)
        cols = _mapped_columns(x, kf, windows, nb)
        if cols is not None or sweep:
            return _mapped_2d(x, kf, windows, pad_mode, fillvalue, nb, backend,
                              cols or (0, 0), drop, sweep)
    return _windowed(x, kf, windows, pad_mode, fillvalue, nb, backend, drop)


def _axis_map(start, count, n, pad_mode):
    """Source indices of the ``count`` extended coordinates from ``start`` along an axis
    of length ``n``; -1 where a constant boundary supplies the fill value."""
    coords = np.arange(start, start + count, dtype=np.int64)
    if pad_mode == "constant":
        return np.where((coords >= 0) & (coords < n), coords, -1)
    return boundary_index(coords, n, pad_mode).astype(np.int64, copy=False)


def _mapped_columns(x, kf, windows, nb):
    """Output columns ``[lo, hi)`` of a 2-D window that read only inside ``x``, or None
    when there are none and the window is wide: every column would then run one sample
    at a time (:func:`_edge_columns` needs an interior to split around)."""
    return _mapped_columns_shape(kf.shape[-1], x.shape[-1], windows)


def _mapped_columns_shape(kw, W, windows):
    s1, ow = windows[1]
    lo = min(max(0, kw - 1 - s1), ow)
    hi = max(lo, min(ow, W - s1))
    return (lo, hi) if hi > lo or ow <= 16 else None


def _mapped_2d(x, kf, windows, pad_mode, fillvalue, nb, backend, cols, drop, sweep):
    """A 2-D window of the correlation of ``x`` by the one kernel ``kf``, boundary
    included, in a single kernel call: see :class:`Window2D`."""
    plan = Window2D(x.shape[nb:], kf.reshape(kf.shape[nb:]), windows, pad_mode, fillvalue,
                    backend, x.dtype, cols, drop, sweep)
    out = np.empty(x.shape[:nb] + plan.out_shape, dtype=x.dtype)
    if out.size:
        plan(x, out)
    return out


class Window2D:
    """Plan of a 2-D window of the correlation of planes of shape ``xshape`` by the one
    (flipped) kernel ``kf``, boundary included, in a single kernel call
    (``correlate2d_sweep`` when ``sweep``, see :func:`_sweep_pays`, else
    ``correlate2d_mapped``): no padded copies and no border slabs.

    Everything that depends only on shapes, kernel and boundary (index maps, tap lists,
    the kernel choice) is computed here; a call runs the kernel on contiguous ``x``
    (planes of ``xshape``) into contiguous ``out`` (planes of ``out_shape``).  ``drop``
    skips zero taps: only for inputs without NaN/Inf (0 * inf is NaN).
    """

    def __init__(self, xshape, kf, windows, pad_mode, fillvalue, backend, dtype,
                 cols=None, drop=False, sweep=None):
        dtype = np.dtype(dtype)
        kh, kw = kf.shape
        H, W = xshape
        (s0, oh), (s1, ow) = windows
        if sweep is None:
            nterms = int(np.count_nonzero(kf)) if drop else kf.size
            sweep = _sweep_pays(dtype, kf.shape, nterms)
        if cols is None:
            cols = _mapped_columns_shape(kw, W, windows) or (0, 0)
        self.xshape, self.out_shape = (H, W), (oh, ow)
        self.kf, self.backend = kf, backend
        self.fillvalue, self.drop, self.sweep = fillvalue, drop, sweep
        self.rowmap = _axis_map(s0 - (kh - 1), oh + kh - 1, H, pad_mode)
        self.colmap = _axis_map(s1 - (kw - 1), ow + kw - 1, W, pad_mode)
        self.lo, self.hi = cols
        self.fill = np.full(1, fillvalue, dtype=dtype)
        if sweep:
            self.wt = np.ascontiguousarray(np.swapaxes(kf, 0, 1)).reshape(-1)
            # extended columns [clo, chi) read consecutive input columns
            self.clo, self.chi = (self.lo, self.hi + kw - 1) if self.hi > self.lo else (0, 0)
            return
        weights = np.ascontiguousarray(kf).reshape(-1)
        tap_r, tap_c = (a.reshape(-1) for a in np.indices((kh, kw), dtype=np.int64))
        if drop:
            keep = weights != 0
            weights, tap_r, tap_c = (np.ascontiguousarray(a[keep])
                                     for a in (weights, tap_r, tap_c))
        self.weights, self.tap_r, self.tap_c = weights, tap_r, tap_c
        edge = ow - (self.hi - self.lo)
        # Edge columns one sample at a time cost ~2 cycles per tap; past ~150 taps per
        # row one vectorised job over all of them (transposed: few long rows) is cheaper.
        # (complex edges too: the scalar loop would round them unlike the Cython twin)
        self.scalar_edges = self.hi <= self.lo or (edge * weights.size <= 150
                                                   and dtype.kind != "c")
        self.edge_job = not self.scalar_edges and edge > 0

    def __call__(self, x, out):
        """``out`` (contiguous, planes of ``out_shape``) = the window of contiguous ``x``."""
        if self.sweep:
            return self._sweep(x, out)
        nb = x.ndim - 2
        (H, W), (oh, ow) = self.xshape, self.out_shape
        planes = out.size // (oh * ow)
        threads = get_num_threads()
        parallel = threads > 1 and out.size * max(1, self.weights.size) >= PARALLEL_MIN_WORK
        # a few bands per thread and plane keep the threads balanced; bands own their rows
        band = max(1, -(-oh * planes // (8 * threads))) if parallel else oh
        band = min(band, oh)
        mod = kernels(self.backend)
        run = mod.correlate2d_mapped_parallel if parallel else mod.correlate2d_mapped
        run(x.reshape(-1), H, W, self.rowmap, self.colmap, self.tap_r, self.tap_c,
            self.weights, self.fill, out.reshape(-1), oh, ow, self.lo, self.hi,
            self.scalar_edges, band, max(16, BLOCK_BYTES // x.itemsize))
        if self.edge_job:
            kf = self.kf.reshape((1,) * nb + self.kf.shape)
            _edge_columns(x, kf, nb, self.backend, self.drop, self.rowmap, self.colmap,
                          self.fillvalue, self.lo, self.hi, out)
        return out

    def _sweep(self, x, out):
        """``correlate2d_sweep`` over every plane (contract in ``kernels/numba/direct.py``)."""
        kh, kw = self.kf.shape
        (H, W), (oh, ow) = self.xshape, self.out_shape
        planes = out.size // (oh * ow)
        threads = get_num_threads()
        parallel = threads > 1 and out.size * kh * kw >= PARALLEL_MIN_WORK
        rows = 4  # output rows per pass (ROWS of the kernels): bands are multiples of it
        band = 64 if not parallel else min(64, max(16, -(-oh * planes // (8 * threads))))
        band = min(-(-band // rows) * rows, -(-oh // rows) * rows)
        # column strips keep an item's scratch (band + kh + 2 rows) within SWEEP_SCRATCH_BYTES
        per_row = SWEEP_SCRATCH_BYTES // (x.itemsize * (band + kh + 2))
        strip = min(ow, max(256, (per_row - kw - 16) // 256 * 256))
        mod = kernels(self.backend)
        run = mod.correlate2d_sweep_parallel if parallel else mod.correlate2d_sweep
        run(x.reshape(-1), H, W, self.rowmap, self.colmap, self.wt, kh, kw, self.fill,
            out.reshape(-1), oh, ow, self.clo, self.chi, band, strip)
        return out


def _sweep_pays(dtype, kshape, nterms):
    """Whether the sweep kernel (:class:`Window2D`) beats the row kernel: float dtypes,
    three kernel rows or more, at least ``SWEEP_MIN_TAPS`` taps (or one column of ``SWEEP_MIN_COLUMN``),
    and not mostly zero taps (the sweep runs every tap; the row kernel skips the zeros
    it may skip)."""
    kh, kw = kshape
    big = kh * kw >= SWEEP_MIN_TAPS or (kw == 1 and kh >= SWEEP_MIN_COLUMN)
    return dtype.kind == "f" and kh >= 3 and big and 2 * nterms >= kh * kw


def _edge_columns(x, kf, nb, backend, drop, rowmap, colmap, fillvalue, lo, hi, out):
    """Output columns ``[0, lo)`` and ``[hi, ow)`` of a 2-D window in one kernel call.

    Their input columns (boundary included) are gathered side by side and transposed, so
    the kernel runs over a few long rows instead of thousands of rows a few samples wide;
    the ``kw - 1`` outputs straddling the seam between the two groups are dropped.
    """
    kw = kf.shape[-1]
    ow = out.shape[-1]
    cols = np.concatenate([colmap[:lo + kw - 1], colmap[hi:]])
    g = np.empty(x.shape[:-1] + (cols.size,), dtype=x.dtype)
    for a, b, src in _runs(cols):
        g[..., a:b] = fillvalue if src < 0 else x[..., src:src + b - a]
    g = g[..., np.maximum(rowmap, 0), :]  # rows after columns: the gathered array is narrow
    if (rowmap < 0).any():
        g[..., rowmap < 0, :] = fillvalue
    gt = np.ascontiguousarray(np.swapaxes(g, -1, -2))
    st = _Stencil(np.ascontiguousarray(np.swapaxes(kf, -1, -2)), nb, drop)
    res = np.empty(gt.shape[:-2] + (cols.size - kw + 1, out.shape[-2]), dtype=x.dtype)
    correlate_into(gt, gt, st, res, res, nb, backend)
    res = np.swapaxes(res, -1, -2)
    out[..., :lo] = res[..., :lo]
    out[..., hi:] = res[..., lo + kw - 1:lo + kw - 1 + ow - hi]


def _runs(index):
    """``(start, stop, source)`` runs of ``index``: ``index[start:stop]`` is
    ``range(source, source + stop - start)``, or all -1 when ``source`` is -1."""
    if index.size == 0:
        return []
    neg = index < 0
    cut = np.flatnonzero(((np.diff(index) != 1) & ~neg[1:]) | (neg[1:] != neg[:-1])) + 1
    bounds = np.concatenate(([0], cut, [index.size]))
    return [(int(a), int(b), int(index[a])) for a, b in zip(bounds[:-1], bounds[1:])]


def _windowed(x, kf, windows, pad_mode, fillvalue, nb, backend, drop=False):
    """Correlation of ``x`` by the (already flipped) ``kf`` over ``windows``."""
    kshape = kf.shape[nb:]
    stencil = _Stencil(kf, nb, drop)
    out = np.empty(x.shape[:nb] + tuple(length for _, length in windows), dtype=x.dtype)
    box = _interior(x.shape[nb:], kshape, windows)
    if all(hi > lo for lo, hi in box):
        xs = tuple(slice(lo + s - kk + 1, hi + s)
                   for (lo, hi), kk, (s, _) in zip(box, kshape, windows))
        os_ = tuple(slice(lo, hi) for lo, hi in box)
        idx = (slice(None),) * nb
        correlate_into(x, x[idx + xs], stencil, out, out[idx + os_], nb, backend)
    swapped = {}
    for slab in _border_slabs(box, windows):
        sub = [(s + b, e - b) for (b, e), (s, _) in zip(slab, windows)]
        xp = pad_for_window(x, kf.shape, sub, pad_mode, fillvalue, nb)
        view = out[(slice(None),) * nb + tuple(slice(b, e) for b, e in slab)]
        lengths = [e - b for b, e in slab]
        a = int(np.argmax(lengths))
        if lengths[-1] < NARROW_SLAB and lengths[a] >= 4 * lengths[-1]:
            # A slab a few samples wide along the last axis would run as many rows of a
            # few outputs each, where the per-row pass overhead dominates: swap its
            # longest axis to the end so the kernel sees a few long rows instead.
            if a not in swapped:
                swapped[a] = _Stencil(np.ascontiguousarray(np.swapaxes(kf, nb + a, -1)),
                                      nb, drop)
            xt = np.ascontiguousarray(np.swapaxes(xp, nb + a, -1))
            ot = np.empty(np.swapaxes(view, nb + a, -1).shape, dtype=out.dtype)
            correlate_into(xt, xt, swapped[a], ot, ot, nb, backend)
            view[...] = np.swapaxes(ot, nb + a, -1)
        else:
            correlate_into(xp, xp, stencil, out, view, nb, backend)
    return out


def _separable(x, factors, windows, pad_mode, fillvalue, nb, backend):
    """One pass per axis with the 1-D ``factors`` of the flipped kernel.

    The last axis goes first, straight from ``x`` (interior read in place, borders from
    small padded slabs) over every row the later passes read, including the rows the
    boundary adds; each later pass is a valid correlation along its axis.
    """
    dtype = x.dtype
    d = len(factors)
    kshape = [len(v) for v in factors]
    first = max(a for a in range(d) if kshape[a] > 1)
    wins = [(s - (kk - 1), length + kk - 1) if a != first else (s, length)
            for a, ((s, length), kk) in enumerate(zip(windows, kshape))]
    shape = [1] * (nb + d)
    shape[nb + first] = kshape[first]
    cur = _windowed(x, np.asarray(factors[first], dtype=dtype).reshape(shape), wins,
                    pad_mode, fillvalue, nb, backend)
    scale = 1
    for a in range(d):
        v = factors[a]
        if a == first:
            continue
        if len(v) == 1:
            scale *= v[0]
            continue
        shape = [1] * (nb + d)
        shape[nb + a] = len(v)
        col = np.asarray(v, dtype=dtype).reshape(shape)
        if d == 2 and _sweep_pays(dtype, col.shape[nb:], len(v)):
            # a tall column filter of an image: the sweep kernel (through the 2-D path)
            h, w = cur.shape[nb:]
            valid = [(len(v) - 1, h - len(v) + 1), (0, w)]
            cur = direct_convolve(cur, np.flip(col, axis=nb), valid, "constant", 0, nb,
                                  backend, allow_separable=False)
        else:
            cur = valid_correlate(cur, col, nb, backend)
    if scale != 1:
        cur *= dtype.type(scale)
    return cur
