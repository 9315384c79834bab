"""Direct (spatial) convolution engine over the backends' ``correlate_terms`` kernel.

Layout every engine here and in ``_fft.py`` works in ("canonical layout"): the ``nb``
batch axes come first, the convolution axes last; ``x`` and ``k`` have the same ndim;
batch sizes are equal or 1 (broadcast).  A *window* per convolution axis is
``(start, length)`` in the coordinates of the full linear convolution, so 'full',
'same' (either centring convention) and 'valid' are all windows.  Boundary handling
is padding: the input is extended with ``numpy.pad`` by exactly what the window reads.
"""
import numpy as np

from ._backends import get_num_threads, kernels

# Output work (outputs x terms) above which the threaded kernel variant pays off:
# measured on this machine, thread start-up is ~10-20 us, the kernel ~20 GFMA/s.
PARALLEL_MIN_WORK = 200_000
# Column block per work item: 8 KiB of output keeps it and the input streams in L1.
BLOCK_BYTES = 8192


def pad_for_window(x, kshape, windows, pad_mode, fillvalue, nb):
    """Extend ``x`` over its convolution axes by what ``windows`` read; contiguous result.

    Returns the padded array ``xp`` whose valid correlation with a kernel of shape
    ``kshape`` is the requested window.
    """
    pads = [(0, 0)] * nb
    slices = [slice(None)] * nb
    for n, kk, (s, length) in zip(x.shape[nb:], kshape[nb:], windows):
        lo = s - (kk - 1)
        hi = s + length
        pads.append((max(0, -lo), max(0, hi - n)))
        slices.append(slice(max(lo, 0), min(hi, n)))
    xs = x[tuple(slices)]
    if any(p != (0, 0) for p in pads):
        if pad_mode == "constant":
            return np.pad(xs, pads, mode="constant", constant_values=fillvalue)
        return np.pad(xs, pads, mode=pad_mode)
    return np.ascontiguousarray(xs)


def _flat_offsets(shape, strides):
    """Flat offsets (in elements) of every index of ``shape`` for the given strides."""
    off = np.zeros((), dtype=np.int64)
    for n, st in zip(shape, strides):
        off = np.add.outer(off, np.arange(n, dtype=np.int64) * st)
    return off.reshape(-1)


def valid_correlate(xp, kf, nb, backend, drop_zeros=False):
    """Valid correlation of ``xp`` with ``kf`` over the last axes (batch axes first).

    ``xp``: contiguous, shape ``B + P``; ``kf``: shape ``Bk + K`` with ``Bk`` all ones
    (one kernel) or equal to ``B`` (one kernel per batch line).  Returns shape
    ``B + (P - K + 1)`` in ``xp``'s dtype.
    """
    dtype = xp.dtype
    bshape = xp.shape[:nb]
    kshape = kf.shape[nb:]
    oshape = tuple(p - kk + 1 for p, kk in zip(xp.shape[nb:], kshape))
    out = np.empty(bshape + oshape, dtype=dtype)
    if out.size == 0:
        return out
    estrides = [s // dtype.itemsize for s in xp.strides]
    offsets = _flat_offsets(kshape, estrides[nb:])
    batched = any(b != 1 for b in kf.shape[:nb])
    if batched:
        weights = np.ascontiguousarray(kf).reshape(-1)
        nterms = offsets.size
    else:
        weights = np.ascontiguousarray(kf).reshape(-1)
        if drop_zeros:
            keep = weights != 0
            if not keep.all():
                offsets, weights = offsets[keep], np.ascontiguousarray(weights[keep])
        nterms = 0
    # one output row per line along the last axis
    in_off = _flat_offsets(bshape + oshape[:-1], estrides[:-1])
    if batched:
        per_batch = int(np.prod(oshape[:-1], dtype=np.int64))
        w_off = np.repeat(np.arange(int(np.prod(bshape, dtype=np.int64)), dtype=np.int64)
                          * nterms, per_batch)
    else:
        w_off = np.zeros(in_off.size, dtype=np.int64)
    ncols = oshape[-1]
    chunk = max(16, BLOCK_BYTES // dtype.itemsize)
    mod = kernels(backend)
    work = out.size * max(1, offsets.size)
    flat_x = xp.reshape(-1)
    flat_out = out.reshape(-1)
    if work >= PARALLEL_MIN_WORK and get_num_threads() > 1:
        mod.correlate_terms_parallel(flat_x, offsets, weights, in_off, w_off, flat_out,
                                     ncols, chunk)
    else:
        mod.correlate_terms(flat_x, offsets, weights, in_off, w_off, flat_out, ncols, chunk)
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


def direct_convolve(x, k, windows, pad_mode, fillvalue, nb, backend, allow_separable=True):
    """Convolution of ``x`` by ``k`` over the last axes, restricted to ``windows``.

    ``x`` and ``k`` are in the compute dtype; the result is contiguous, shape
    ``broadcast(B) + lengths``.
    """
    nc = len(windows)
    bshape = np.broadcast_shapes(x.shape[:nb], k.shape[:nb])
    if x.shape[:nb] != bshape:
        x = np.broadcast_to(x, bshape + x.shape[nb:])
    conv_axes = tuple(range(nb, nb + nc))
    kf = np.flip(k, axis=conv_axes) if nc else k
    xp = pad_for_window(x, k.shape, windows, pad_mode, fillvalue, nb)
    if allow_separable and separable_pays(k.shape[nb:]):
        factors = separable_factors(kf, nb, x.dtype)
        if factors is not None:
            return _separable(xp, factors, nb, backend)
    drop = not np.all(kf) and (x.dtype.kind not in "fc" or bool(np.isfinite(xp).all()))
    return valid_correlate(xp, kf, nb, backend, drop_zeros=drop)


def _separable(xp, factors, nb, backend):
    # One valid pass per axis, the axis with the longest factor first (it shrinks the
    # array most for the following passes).
    dtype = xp.dtype
    order = sorted(range(len(factors)), key=lambda a: -len(factors[a]))
    cur = xp
    for a in order:
        v = factors[a]
        if len(v) == 1:
            cur = cur * dtype.type(v[0]) if v[0] != 1 else cur
            continue
        shape = [1] * cur.ndim
        shape[nb + a] = len(v)
        kf = np.asarray(v, dtype=dtype).reshape(shape)
        cur = valid_correlate(np.ascontiguousarray(cur), kf, nb, backend)
    return np.ascontiguousarray(cur)
