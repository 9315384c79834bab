"""Convolution and transposed convolution with PyTorch semantics (API.md, section 4).

``conv`` is ``torch.nn.functional.conv{1,2,3}d`` and ``conv_transpose`` is
``torch.nn.functional.conv_transpose{1,2,3}d`` (the deep-learning "deconvolution", the
adjoint of ``conv``) for NumPy arrays: same argument names, weight layouts, output
shapes and values.  Beyond PyTorch: ``padding_mode`` (as ``torch.nn.Conv2d`` has it)
for ``conv``, integer/float16 inputs, and a ``backend=`` choice.

How it is computed: both operations are reduced to dense stride-1 correlations of
*phases* (one compiled kernel, ``kernels/*/transposed.phase_correlate``):

- ``conv`` with stride ``s`` splits the padded input into its ``s`` polyphase
  components per axis (samples ``r, r + s, r + 2s, ...``); tap ``k`` with
  ``k*dilation = q*s + r`` then reads component ``r`` shifted by ``q``, so the strided
  convolution is one stride-1 sum over (input channel, tap) terms, computing only the
  outputs that are kept.
- ``conv_transpose`` splits the *output* by residue modulo the stride; the outputs of
  residue ``r`` receive only the taps with ``k*dilation ≡ r + padding (mod s)``, so each
  residue is a stride-1 correlation of the zero-padded input with a sub-kernel, written
  to every ``s``-th output sample.  No zero-stuffed input, no scatter (each output
  sample has one writer, so threads need no reduction).  Only the residues that some
  tap reaches are phases (at most one per tap and axis, so a huge stride costs nothing
  to plan); the other outputs receive no product and are written with the bias in one
  pass.

PyTorch's NaN/Inf semantics: ``conv`` multiplies the zero padding by every tap (an
infinite weight that meets it gives NaN), ``conv_transpose`` forms only products of real
samples.  The phase kernel also multiplies the zero padding of ``conv_transpose``'s
input, which is exact for finite weights; the terms of NaN/Inf weights are therefore left
out of the kernel and added as a NumPy scatter of their real products.

Empty inputs follow PyTorch too: an empty batch gives an empty batch, ``conv`` of an
input without channels an output without channels; an empty spatial axis with a
non-empty batch and channels, and a ``conv_transpose`` weight without input or output
channels, raise ValueError.  Every output and padded-input buffer is sized (in exact
Python ints) before any work, and one larger than ``MAX_BYTES`` raises ValueError.
"""
import functools
import math
import numbers
import os

import numpy as np

from ._backends import get_num_threads, kernel_module, resolve_backend, sync_threads
from ._validation import as_numeric, kernel_array

__all__ = ["conv", "conv_transpose", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
           "conv_transpose2d", "conv_transpose3d"]

# padding_mode -> numpy.pad mode (None: zeros, folded into the polyphase copy).
PADDING_MODES = {"zeros": None, "reflect": "reflect", "replicate": "edge",
                 "circular": "wrap", "wrap": "wrap"}

# Multiply-adds above which the threaded kernel pays off: a core does ~25-30 GMAC/s in
# this kernel and waking the second thread costs ~10-30 us; measured on a busy 2-core
# machine, the crossover lies between 0.5 and 2 million.
PARALLEL_MIN_WORK = 500_000
# Elements above which the threaded packing kernel (a memory-bound copy) pays off.
PACK_PARALLEL_MIN = 262_144
# Zeros after the prepared input: lets the kernels round every block up to whole vectors.
SLACK = 8
# Bytes of one accumulator row block of a work item (two of them live in L1).
CHUNK_BYTES = 4096
# Work items wanted per thread, so uneven phases still balance.
ITEMS_PER_THREAD = 4

_INT64_MAX = 2**63 - 1


def _memory_bytes():
    """This machine's physical memory in bytes (int64's maximum where unknown)."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):  # no sysconf (Windows) or no such name
        return _INT64_MAX
    return min(total, _INT64_MAX) if total > 0 else _INT64_MAX


# Largest buffer (output, padded input copy) the functions try to allocate, in bytes:
# anything larger is refused up front with a ValueError naming the arguments.
MAX_BYTES = _memory_bytes()


# --------------------------------------------------------------------------- validation

def _int_tuple(value, nsp, name, minimum):
    """``value`` (int or sequence of 1 or ``nsp`` ints) as an ``nsp``-tuple of ints."""
    def bad_type():
        return TypeError(f"{name} must be an int or a tuple of {nsp} ints, got {value!r}")

    if type(value) is int:  # the common case, without the slow ABC checks below
        vals = (value,) * nsp
    elif isinstance(value, (bool, np.bool_)):
        raise bad_type()
    elif isinstance(value, numbers.Integral):
        vals = (int(value),) * nsp
    elif isinstance(value, (tuple, list)) or (isinstance(value, np.ndarray)
                                              and value.ndim == 1):
        vals = tuple(value)
        if any(isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral)
               for v in vals):
            raise bad_type()
        if len(vals) == 1:
            vals = vals * nsp
        if len(vals) != nsp:
            raise ValueError(f"{name} must be an int or a tuple of {nsp} ints (one per "
                             f"spatial axis), got {value!r}")
        vals = tuple(int(v) for v in vals)
    else:
        raise bad_type()
    if any(v < minimum for v in vals):
        what = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{name} must be {what}, got {value!r}")
    return vals


def _check_groups(groups):
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"groups must be an int, got {groups!r}")
    if groups < 1:
        raise ValueError(f"groups must be positive, got {groups}")
    return int(groups)


def _float_dtype(*arrays):
    """float32 when every operand fits it (float32, float16, small ints), else float64."""
    rt = np.result_type(*[a.dtype for a in arrays])
    if rt.kind == "c":
        raise TypeError("conv and conv_transpose take real arrays, got a complex dtype "
                        f"({rt}); convolve the real and imaginary parts separately")
    if rt.kind == "f" and rt.itemsize <= 4:
        return np.dtype(np.float32)
    return np.dtype(np.float64)


def _check_arrays(x, weight, bias, nsp, func, groups, transposed):
    """Validate the operands; return canonical 5-D arrays and the problem's facts.

    Returns ``(x5, w5, bias, nsp, unbatched, dtype)``: ``x5`` is ``(N, C, D, H, W)`` and
    ``w5`` the weight with size-1 axes inserted before its spatial axes (1-D and 2-D
    problems become 3-D ones), both C-contiguous and native in ``dtype``; ``bias`` is a
    ``(C_out,)`` array of ``dtype`` (zeros when None).
    """
    x = as_numeric(x, "x")
    weight = as_numeric(weight, "weight")
    if nsp is None:
        if weight.ndim not in (3, 4, 5):
            raise ValueError(f"weight must have 3, 4 or 5 dimensions (output/input "
                             f"channels, then 1 to 3 kernel axes), got shape {weight.shape}")
        nsp = weight.ndim - 2
    elif weight.ndim != nsp + 2:
        raise ValueError(f"weight of {func} must have {nsp + 2} dimensions, got shape "
                         f"{weight.shape}")
    if x.ndim not in (nsp + 1, nsp + 2):
        raise ValueError(f"x of {func} must be {nsp + 1}-D (unbatched: C, *spatial) or "
                         f"{nsp + 2}-D (batched: N, C, *spatial), got shape {x.shape}")
    unbatched = x.ndim == nsp + 1
    if unbatched:
        x = x[np.newaxis]
    if bias is not None:
        bias = as_numeric(bias, "bias")
    dtype = _float_dtype(x, weight, *(() if bias is None else (bias,)))
    kshape = weight.shape[2:]
    if min(kshape) < 1:
        raise ValueError(f"weight's kernel size must be positive, got shape {weight.shape}")
    cin = x.shape[1]
    if transposed:
        # PyTorch refuses these for every input (weight.shape[0] >= groups; no output
        # channel), even an empty one.
        if weight.shape[0] < 1:
            raise ValueError(f"weight must have at least one input channel (weight is "
                             f"(C_in, C_out/groups, *kernel) for a transposed "
                             f"convolution), got shape {weight.shape}")
        if weight.shape[1] < 1:
            raise ValueError(f"weight must have at least one output channel per group "
                             f"(weight is (C_in, C_out/groups, *kernel) for a transposed "
                             f"convolution), got shape {weight.shape}")
        if weight.shape[0] != cin:
            raise ValueError(f"weight of shape {weight.shape} expects x to have "
                             f"{weight.shape[0]} channels (weight is (C_in, C_out/groups, "
                             f"*kernel) for a transposed convolution), got x of shape "
                             f"{x.shape}")
        if cin % groups:
            raise ValueError(f"groups={groups} must divide weight.shape[0] (input "
                             f"channels), got weight of shape {weight.shape}")
        cout = weight.shape[1] * groups
    else:
        cout = weight.shape[0]
        if cout < 1:
            raise ValueError(f"weight must have at least one output channel, got shape "
                             f"{weight.shape}")
        if cout % groups:
            raise ValueError(f"groups={groups} must divide weight.shape[0] (output "
                             f"channels), got weight of shape {weight.shape}")
        if weight.shape[1] * groups != cin:
            raise ValueError(f"weight of shape {weight.shape} with groups={groups} "
                             f"expects x to have {weight.shape[1] * groups} channels, got "
                             f"x of shape {x.shape}")
    if bias is not None:
        if bias.shape != (cout,):
            raise ValueError(f"bias must be 1-D with {cout} elements (the output "
                             f"channels), got shape {bias.shape}")
        bias = kernel_array(bias, dtype)
    else:
        bias = np.zeros(cout, dtype)
    pad = (1,) * (3 - nsp)
    x5 = kernel_array(x, dtype).reshape(x.shape[:2] + pad + x.shape[2:])
    w5 = kernel_array(weight, dtype).reshape(weight.shape[:2] + pad + kshape)
    return x5, w5, bias, nsp, unbatched, dtype


def _conv_padding(padding, nsp, stride, dilation, kshape):
    """``(lo, hi)`` tuples of zero/extension widths per spatial axis."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * nsp, (0,) * nsp
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided "
                                 f"convolutions (stride={stride})")
            total = [d * (k - 1) for d, k in zip(dilation, kshape)]
            lo = tuple(t // 2 for t in total)
            return lo, tuple(t - a for t, a in zip(total, lo))
        raise ValueError(f"padding must be an int, a tuple of ints, 'same' or 'valid', "
                         f"got {padding!r}")
    pad = _int_tuple(padding, nsp, "padding", 0)
    return pad, pad


def _check_padding_mode(padding_mode):
    try:
        return PADDING_MODES[padding_mode]
    except (KeyError, TypeError):
        raise ValueError(f"padding_mode must be one of 'zeros', 'reflect', 'replicate', "
                         f"'circular' (alias 'wrap'), got {padding_mode!r}") from None


def _fmt(sizes):
    return " x ".join(map(str, sizes))


# --------------------------------------------------------------------------- planning

def _chunk_rows(wq, itemsize, work_rows, nthreads):
    """Rows per work item: a block of at most ``CHUNK_BYTES``, fewer when threads would
    idle, and balanced (31 + 1 rows become 16 + 16: short blocks pay the per-term
    overhead for little work).

    ``work_rows`` is a list of (rows of a phase, items that share it) pairs."""
    rows = max(1, CHUNK_BYTES // itemsize // wq)
    if nthreads > 1:
        while rows > 1 and sum(-(-r // rows) * m for r, m in work_rows) \
                < ITEMS_PER_THREAD * nthreads:
            rows = (rows + 1) // 2
    longest = max((r for r, _ in work_rows), default=1)
    return max(1, -(-longest // -(-longest // rows)))


def _finish_plan(geom, term_ptr, hq, wq, xg, n, groups, cog, oshape, ostride, itemsize,
                 nthreads):
    """Chunking and the ``dims`` vector of the kernel contract."""
    npairs = (cog + 1) // 2
    # Kernel layout invariant: each phase's rows/columns fit the padded plane (else the
    # row decoding and the accumulator block overrun ``out`` and the scratch buffer).
    assert all(nh <= hq and nw <= wq for _, nh, nw, *_ in geom), (geom, hq, wq)
    nrows = [(nd - 1) * hq + nh for nd, nh, *_ in geom]
    rows = _chunk_rows(wq, itemsize, [(r, n * groups * npairs) for r in nrows], nthreads)
    chunk_ptr = np.zeros(len(geom) + 1, np.int64)
    chunk_ptr[1:] = np.cumsum([-(-r // rows) for r in nrows])
    dims = np.array([n, groups, cog, *oshape, *ostride, hq, wq, xg, rows, nthreads],
                    np.int64)
    terms = np.diff(term_ptr)
    work = n * groups * cog * sum(int(t) * r * wq for t, r in zip(terms, nrows))
    return (np.asarray(term_ptr, np.int64), np.array(geom, np.int64).reshape(-1),
            chunk_ptr, dims, work)


@functools.lru_cache(maxsize=128)
def _conv_plan(xshape, wshape, groups, stride, lo, hi, dilation, itemsize, nthreads):
    """Polyphase layout, term offsets and kernel arguments of a strided convolution.

    ``xshape`` is the (unpadded) 5-D input shape, ``lo``/``hi`` the zero padding.
    """
    n, cin = xshape[:2]
    cout, cig = wshape[:2]
    kshape = wshape[2:]
    padded = [size + a + b for size, a, b in zip(xshape[2:], lo, hi)]
    oshape = tuple((p - d * (k - 1) - 1) // s + 1
                   for p, d, k, s in zip(padded, dilation, kshape, stride))
    qshape = tuple(-(-p // s) for p, s in zip(padded, stride))  # polyphase plane
    plane = int(np.prod(qshape))
    nphase = int(np.prod(stride))
    # Terms (input channel, tap) in weight order; tap k*d = q*s + r reads polyphase
    # plane r shifted by q.
    qr = [np.array([divmod(k * d, s) for k in range(kk)], np.int64).reshape(kk, 2)
          for kk, d, s in zip(kshape, dilation, stride)]
    (qd, rd), (qh, rh), (qw, rw) = [(a[:, 0], a[:, 1]) for a in qr]
    phase = (rd[:, None, None] * stride[1] + rh[None, :, None]) * stride[2] \
        + rw[None, None, :]
    shift = (qd[:, None, None] * qshape[1] + qh[None, :, None]) * qshape[2] \
        + qw[None, None, :]
    taps = (phase * plane + shift).reshape(-1)
    offsets = (np.arange(cig, dtype=np.int64)[:, None] * (nphase * plane)
               + taps[None, :]).reshape(-1)
    geom = [(oshape[0], oshape[1], oshape[2], 0, 0, 0)]
    term_ptr = [0, offsets.size]
    rest = _finish_plan(geom, term_ptr, qshape[1], qshape[2], cig * nphase * plane, n,
                        groups, cout // groups, oshape, (1, 1, 1), itemsize, nthreads)
    pack = np.array([n * cin, *xshape[2:], *stride, *qshape, *lo], np.int64)
    return oshape, pack, n * cin * nphase * plane, offsets, rest


def _transposed_axis(size, k, s, d, p, op):
    """Per-axis plan of a transposed convolution, in O(``k``) steps whatever the stride.

    Returns ``(out_size, lo, hi, phases, covered, ostride)``: the input is zero-padded by
    ``lo``/``hi``; ``phases`` lists ``(r, count, taps, shifts)``, in increasing ``r``, for
    each residue ``r`` of the output modulo ``s`` that some tap reaches with some real
    input sample: output ``s*u + r`` (``u < count``) is the sum over ``taps`` of
    ``x_padded[u + shift] * w[tap]``.  ``covered`` tells whether these phases hold every
    output sample; the others receive no product (the caller writes the bias there).
    ``ostride`` is the output step of a phase: ``s``, or ``out_size`` when ``s`` is
    larger (then every phase has one sample and the step is never used, so it stays a
    small int64).
    """
    out = (size - 1) * s - 2 * p + d * (k - 1) + op + 1
    found = {}
    for kk in range(k):
        # Input i lands on output i*s + kk*d - p: on the one residue (kk*d - p) mod s,
        # where output s*u + r reads input u + q.  Looping over the taps, not the
        # residues, keeps the plan O(taps) for huge strides (most residues get nothing).
        r = (kk * d - p) % s
        if r >= out:
            continue
        q = (r + p - kk * d) // s
        count = -(-(out - r) // s)
        if max(0, -q) < min(count, size - q):  # reads some real sample
            taps, shifts = found.setdefault(r, ([], []))
            taps.append(kk)
            shifts.append(q)
    raw = [(r, -(-(out - r) // s), *found[r]) for r in sorted(found)]
    lo = max([0] + [-q for *_, shifts in raw for q in shifts])
    # Every phase fits the padded plane (count <= size + lo + hi, the kernel's layout
    # invariant): its reads u + q + lo (u < count) lie in it, and q + lo >= 0.
    hi = max([0] + [c - 1 + q - (size - 1) for _, c, _, shifts in raw for q in shifts])
    phases = [(r, c, np.array(t, np.int64), np.array(q, np.int64) + lo)
              for r, c, t, q in raw]
    return out, lo, hi, phases, len(raw) == min(s, out), min(s, out)


@functools.lru_cache(maxsize=128)
def _transposed_plan(xshape, wshape, groups, stride, padding, output_padding, dilation,
                     itemsize, nthreads):
    """Phases, term offsets, weight gather and kernel arguments of a transposed
    convolution (``xshape``, ``wshape`` 5-D).

    Only the phases that some tap reaches are planned (at most one per tap and axis);
    ``covered`` (the sixth value returned) is False when the other output samples exist,
    which then hold the bias alone.
    """
    n, cin = xshape[:2]
    cog = wshape[1]
    cig = cin // groups
    axes = [_transposed_axis(*args) for args in zip(xshape[2:], wshape[2:], stride,
                                                    dilation, padding, output_padding)]
    oshape = tuple(a[0] for a in axes)
    lo = tuple(a[1] for a in axes)
    covered = all(a[4] for a in axes)
    ostride = tuple(a[5] for a in axes)
    pshape = tuple(size + a[1] + a[2] for size, a in zip(xshape[2:], axes))
    plane = math.prod(pshape)
    geom, term_ptr, offsets, gather = [], [0], [], []
    kd_n, kh_n, kw_n = wshape[2:]
    for rd, cd, td, qd in axes[0][3]:
        for rh, ch, th, qh in axes[1][3]:
            for rw, cw, tw, qw in axes[2][3]:
                geom.append((cd, ch, cw, rd, rh, rw))
                shift = ((qd[:, None, None] * pshape[1] + qh[None, :, None]) * pshape[2]
                         + qw[None, None, :]).reshape(-1)
                tap = ((td[:, None, None] * kh_n + th[None, :, None]) * kw_n
                       + tw[None, None, :]).reshape(-1)
                offsets.append((np.arange(cig, dtype=np.int64)[:, None] * plane
                                + shift[None, :]).reshape(-1))
                gather.append(tap)
                term_ptr.append(term_ptr[-1] + cig * tap.size)
    offsets = np.concatenate(offsets) if offsets else np.zeros(0, np.int64)
    rest = _finish_plan(geom, term_ptr, pshape[1], pshape[2], cig * plane, n, groups, cog,
                        oshape, ostride, itemsize, nthreads)
    pack = np.array([n * cin, *xshape[2:], 1, 1, 1, *pshape, *lo], np.int64)
    return oshape, pack, n * cin * plane, offsets, tuple(gather), covered, rest


def _transposed_weights(w5, groups, gather):
    """``(G*COG, terms)`` weight matrix: per phase, ``w[g*CIG + ci, co, tap]`` in
    (phase, ci, tap) order."""
    cin, cog = w5.shape[:2]
    wt = w5.reshape(groups, cin // groups, cog, -1).transpose(0, 2, 1, 3)
    parts = [wt[..., tap].reshape(groups * cog, -1) for tap in gather]
    if not parts:
        return np.zeros((groups * cog, 0), w5.dtype)
    return np.ascontiguousarray(np.concatenate(parts, axis=1))


def _drop_terms(keep, offsets, term_ptr, weights):
    """The kernel arguments without the terms where ``keep`` is False."""
    kept = np.concatenate(([0], np.cumsum(keep, dtype=np.int64)))
    return offsets[keep], kept[term_ptr], np.ascontiguousarray(weights[:, keep])


def _scatter_taps(x5, w5, groups, pairs, stride, padding, dilation, out):
    """Add the products of the (input channel in group, flat tap) ``pairs`` to ``out``.

    ``out[n, g*COG + co, i*stride + k*dilation - padding] += x[n, g*CIG + ci, i] *
    w[g*CIG + ci, co, k]`` for every input sample ``i`` whose product lands in ``out``:
    PyTorch's scatter definition, which multiplies no padding.  Used for the weights
    that are NaN or infinite, whose products with padding zeros would be NaN.
    """
    cin, cog = w5.shape[:2]
    cig = cin // groups
    for ci, tap in pairs:
        k = np.unravel_index(tap, w5.shape[2:])
        xsl, osl = [], []
        for size, o, kk, s, d, p in zip(x5.shape[2:], out.shape[2:], k, stride, dilation,
                                        padding):
            e = int(kk) * d - p  # where input sample 0 lands
            i0, i1 = max(0, -(e // s)), min(size - 1, (o - 1 - e) // s)
            if i1 < i0:
                break  # lands outside the output on this axis
            xsl.append(slice(i0, i1 + 1))
            osl.append(slice(i0 * s + e, i1 * s + e + 1, s))
        else:
            for g in range(groups):
                c = g * cig + ci
                wv = w5[(c, slice(None)) + tuple(int(v) for v in k)]
                out[(slice(None), slice(g * cog, (g + 1) * cog), *osl)] += \
                    x5[(slice(None), c, *xsl)][:, None] * wv[:, None, None, None]


# --------------------------------------------------------------------------- execution

def _kernels(backend, pack_size, work):
    """``(phase_pack, phase_correlate)`` of ``backend`` for a problem of this size:
    the threaded variants (thread count applied once) where they pay off."""
    mod = kernel_module(backend, "transposed")
    nthreads = get_num_threads()
    par_pack = pack_size >= PACK_PARALLEL_MIN and nthreads > 1
    par_corr = work >= PARALLEL_MIN_WORK and nthreads > 1
    if par_pack or par_corr:
        if backend == "numba":
            sync_threads(backend)
        else:
            mod.set_num_threads(nthreads)
    return (mod.phase_pack_parallel if par_pack else mod.phase_pack,
            mod.phase_correlate_parallel if par_corr else mod.phase_correlate)


def _run(backend, x5, pack, size, offsets, term_ptr, weights, bias, geom, chunk_ptr, dims,
         out, work):
    """Pack ``x5`` into its padded polyphase buffer (unless ``pack`` is None: then ``x5``
    is its own buffer) and run the phase correlation into ``out``."""
    phase_pack, phase_correlate = _kernels(backend, 0 if pack is None else size, work)
    if pack is None:
        xb = x5.reshape(-1)
    else:
        xb = np.empty(size + SLACK, x5.dtype)
        xb[size:] = 0
        phase_pack(x5.reshape(-1), pack, xb)
    phase_correlate(xb, offsets, term_ptr, weights.reshape(-1), bias, geom, chunk_ptr, dims,
                    out.reshape(-1))


def _check_alloc(what, shape, dtype, because):
    """Refuse, before any work, a buffer that cannot be allocated.

    ``because()`` names the arguments behind the size (called only to build the
    message).  ``shape`` holds Python ints (exact, however large); the limit is
    ``MAX_BYTES`` (this machine's memory, at most what an int64 can count): numpy would
    only say MemoryError or "array is too big", and a buffer near the limit may be
    granted by the OS and then kill the process when it is filled.
    """
    count = math.prod(shape)
    if count * dtype.itemsize <= MAX_BYTES and (count or max(shape) <= _INT64_MAX):
        return
    raise ValueError(f"{what} would have shape {shape}, {count} elements of {dtype} "
                     f"({count * dtype.itemsize} bytes), more than can be allocated "
                     f"({MAX_BYTES} bytes at most): {because()}")


def _empty_spatial(x5, nsp):
    return ValueError(f"x has an empty spatial axis (spatial size "
                      f"{_fmt(x5.shape[5 - nsp:])}) with a non-empty batch and channels: "
                      f"as in PyTorch, an empty input must have zero batch or zero "
                      f"channels")


def _conv5(x5, w5, bias, stride, lo, hi, dilation, groups, pad_mode, backend, nsp):
    """Convolution of canonical 5-D arrays; ``lo``/``hi`` are 3-tuples (``nsp`` only
    shapes the messages)."""
    n, cin = x5.shape[:2]
    cout = w5.shape[0]
    if n and cin and 0 in x5.shape[2:]:
        raise _empty_spatial(x5, nsp)
    # Per axis (one loop: this runs on every call): padded size, dilated kernel, output
    # size, and the compiled kernels' stride, paddings and polyphase extent.  An axis
    # with one output sample reads padded[:e] only (e: the dilated kernel): its stride
    # does not matter (stride 1 keeps the polyphase buffer from growing with it), what
    # lies beyond is never read (a negative upper padding crops the input), and a lower
    # padding past e reads zeros only (e of them are enough: no huge int64 offsets).
    padded, eff, oshape, kstride, klo, khi, extent = [], [], [], [], [], [], []
    for size, a, b, s, d, k in zip(x5.shape[2:], lo, hi, stride, dilation, w5.shape[2:]):
        p, e = size + a + b, d * (k - 1) + 1
        o = (p - e) // s + 1
        if o == 1:
            s, a = 1, min(a, e)
            b = e - size - a
        padded.append(p)
        eff.append(e)
        oshape.append(o)
        kstride.append(s)
        klo.append(a)
        khi.append(b)
        extent.append(-(-(size + a + b) // s) * s)  # at most one stride past the end
    if any(p < e for p, e in zip(padded, eff)):
        raise ValueError(f"the padded input size per channel ({_fmt(padded[3 - nsp:])}) "
                         f"is smaller than the dilated kernel ({_fmt(eff[3 - nsp:])}): "
                         f"the kernel must fit in the padded input")
    oshape = tuple(oshape)

    def because():
        return (f"check stride={stride[3 - nsp:]}, padding={lo[3 - nsp:]} (before) + "
                f"{hi[3 - nsp:]} (after), dilation={dilation[3 - nsp:]} and the input "
                f"size ({_fmt(x5.shape[5 - nsp:])})")

    # PyTorch's empty-input path: no batch or no channels computes nothing, and an
    # input without channels gives an output without channels (whatever C_out is).
    cout_n = cout if cin else 0
    _check_alloc("the output", (n, cout_n) + oshape[3 - nsp:], x5.dtype, because)
    if n == 0 or cin == 0:
        return np.zeros((n, cout_n) + oshape, x5.dtype)
    if pad_mode is not None and any(lo + hi):
        _check_alloc("the padded input", (n, cin, *padded[3 - nsp:]), x5.dtype, because)
        x5 = np.pad(x5, [(0, 0), (0, 0)] + list(zip(lo, hi)), mode=pad_mode)
        lo = klo = (0, 0, 0)
        khi = [e - p if o == 1 else 0 for o, e, p in zip(oshape, eff, padded)]
        extent = [e if o == 1 else -(-p // s) * s
                  for o, e, p, s in zip(oshape, eff, padded, kstride)]
    if backend == "python":
        out = np.empty((n, cout) + oshape, x5.dtype)
        with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 is NaN, silently
            kernel_module("python", "transposed").conv_direct(x5, w5, bias, stride, lo,
                                                              dilation, groups, out)
        return out
    _check_alloc("the padded input", (n, cin, *extent[3 - nsp:]), x5.dtype, because)
    kstride, klo, khi = tuple(kstride), tuple(klo), tuple(khi)
    oshape, pack, size, offsets, (term_ptr, geom, chunk_ptr, dims, work) = \
        _conv_plan(x5.shape, w5.shape, groups, kstride, klo, khi, dilation, x5.itemsize,
                   get_num_threads())
    out = np.empty((n, cout) + oshape, x5.dtype)
    if kstride == (1, 1, 1) and not any(klo + khi):
        pack = None  # the input is its own (only) phase plane
    _run(backend, x5, pack, size, offsets, term_ptr, w5, bias, geom, chunk_ptr, dims, out,
         work)
    return out


def _conv_transpose5(x5, w5, bias, stride, padding, output_padding, dilation, groups,
                     backend, nsp):
    """Transposed convolution of canonical 5-D arrays (``nsp`` only shapes the
    messages)."""
    insize = x5.shape[2:]
    n, cout = x5.shape[0], w5.shape[1] * groups
    if n and 0 in insize:
        raise _empty_spatial(x5, nsp)
    oshape = tuple((i - 1) * s - 2 * p + d * (k - 1) + op + 1 for i, s, p, d, k, op in
                   zip(insize, stride, padding, dilation, w5.shape[2:], output_padding))
    # PyTorch accepts an output size of 0 for an empty batch only (its empty-input
    # path; its float64 kernels refuse it otherwise, as do we).
    if min(oshape) < (0 if n == 0 else 1):
        raise ValueError(f"the output size per channel ({_fmt(oshape[3 - nsp:])}) "
                         f"computed from the input size ({_fmt(insize[3 - nsp:])}) and "
                         f"stride, padding, dilation, output_padding is too small: "
                         f"padding={padding[3 - nsp:]} crops "
                         f"{'more than' if min(oshape) < 0 else 'all of'} the full "
                         f"output")

    def because():
        return (f"the output size per axis, (input size - 1) * stride - 2 * padding + "
                f"dilation * (kernel size - 1) + output_padding + 1, comes from the "
                f"input size ({_fmt(insize[3 - nsp:])}), stride={stride[3 - nsp:]}, "
                f"padding={padding[3 - nsp:]}, dilation={dilation[3 - nsp:]} and "
                f"output_padding={output_padding[3 - nsp:]}")

    _check_alloc("the output", (n, cout) + oshape[3 - nsp:], x5.dtype, because)
    if n == 0:
        return np.zeros((n, cout) + oshape, x5.dtype)
    if backend == "python":
        out = np.empty((n, cout) + oshape, x5.dtype)
        with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 is NaN, silently
            kernel_module("python", "transposed").conv_transpose_scatter(
                x5, w5, bias, stride, padding, dilation, groups, out)
        return out
    plan = _transposed_plan(x5.shape, w5.shape, groups, stride, padding, output_padding,
                            dilation, x5.itemsize, get_num_threads())
    oshape, pack, size, offsets, gather, covered, rest = plan
    term_ptr, geom, chunk_ptr, dims, work = rest
    _check_alloc("the zero-padded input", (size,), x5.dtype, because)
    out = np.empty((n, cout) + oshape, x5.dtype)
    weights = _transposed_weights(w5, groups, gather)
    scatter = not np.isfinite(weights).all()
    if scatter:
        # The kernel multiplies the zero padding too, harmless for finite weights but
        # NaN for an infinite one, where PyTorch has no product at all: the terms of
        # NaN/Inf weights leave the kernel and are added as a scatter of real products.
        offsets, term_ptr, weights = _drop_terms(np.isfinite(weights).all(axis=0),
                                                 offsets, term_ptr, weights)
    nterms = int(term_ptr[-1])
    if not covered or not nterms:
        # Output samples that no term reaches (huge strides, output_padding) get the
        # bias alone, written in one pass; the kernel overwrites the others.
        out[...] = bias.reshape(-1, 1, 1, 1)
    if nterms:
        _run(backend, x5, None if size == x5.size else pack, size, offsets, term_ptr,
             weights, bias, geom, chunk_ptr, dims, out, work)
    if scatter:
        cin, cog = w5.shape[:2]
        bad = ~np.isfinite(w5.reshape(groups, cin // groups, cog, -1)).all(axis=(0, 2))
        with np.errstate(invalid="ignore", over="ignore"):  # inf * 0 is NaN, silently
            _scatter_taps(x5, w5, groups, zip(*np.nonzero(bad)), stride, padding,
                          dilation, out)
    return out


def _squeeze(out, nsp, unbatched):
    out = out.reshape(out.shape[:2] + out.shape[5 - nsp:])
    return out[0] if unbatched else out


# --------------------------------------------------------------------------- public API

def _conv(x, weight, bias, stride, padding, dilation, groups, padding_mode, backend, nsp,
          func):
    backend = resolve_backend(backend)
    groups = _check_groups(groups)
    pad_mode = _check_padding_mode(padding_mode)
    x5, w5, bias, nsp, unbatched, _ = _check_arrays(x, weight, bias, nsp, func, groups,
                                                    False)
    stride = _int_tuple(stride, nsp, "stride", 1)
    dilation = _int_tuple(dilation, nsp, "dilation", 1)
    lo, hi = _conv_padding(padding, nsp, stride, dilation, w5.shape[5 - nsp:])
    if pad_mode is not None and any(lo + hi) and 0 in x5.shape[2:]:
        # torch.nn.ConvNd refuses this too: there is no sample to extend.
        raise ValueError(f"padding_mode={padding_mode!r} cannot extend an empty spatial "
                         f"axis (x of shape {np.shape(x)}); use padding_mode='zeros'")
    one, zero = (1,) * (3 - nsp), (0,) * (3 - nsp)
    out = _conv5(x5, w5, bias, one + stride, zero + lo, zero + hi, one + dilation, groups,
                 pad_mode, backend, nsp)
    return _squeeze(out, nsp, unbatched)


def _conv_transpose(x, weight, bias, stride, padding, output_padding, groups, dilation,
                    backend, nsp, func):
    backend = resolve_backend(backend)
    groups = _check_groups(groups)
    if isinstance(padding, str):
        raise TypeError(f"padding of {func} must be an int or a tuple of ints (string "
                        f"paddings exist only for conv), got {padding!r}")
    x5, w5, bias, nsp, unbatched, _ = _check_arrays(x, weight, bias, nsp, func, groups,
                                                    True)
    stride = _int_tuple(stride, nsp, "stride", 1)
    padding = _int_tuple(padding, nsp, "padding", 0)
    output_padding = _int_tuple(output_padding, nsp, "output_padding", 0)
    dilation = _int_tuple(dilation, nsp, "dilation", 1)
    for op, s, d in zip(output_padding, stride, dilation):
        if op >= s and op >= d:
            raise ValueError(f"output_padding must be smaller than either stride or "
                             f"dilation, got output_padding={output_padding}, "
                             f"stride={stride}, dilation={dilation}")
    one, zero = (1,) * (3 - nsp), (0,) * (3 - nsp)
    out = _conv_transpose5(x5, w5, bias, one + stride, zero + padding,
                           zero + output_padding, one + dilation, groups, backend, nsp)
    return _squeeze(out, nsp, unbatched)


_CONV_DOC = """{summary}

    Parameters
    ----------
    x : array_like, shape ``(N, C_in, {sp})`` or ``(C_in, {sp})``
        Input batch (or one unbatched sample).  Real numbers of any dtype.
    weight : array_like, shape ``(C_out, C_in / groups, {kp})``
        Filters, laid out as ``{tconv}`` takes them.
    bias : array_like, shape ``(C_out,)``, optional
        Added to every output sample of each channel.
    stride : int or tuple of ints
        Step between output samples, per spatial axis (default 1).
    padding : int, tuple of ints, 'valid' or 'same'
        Implicit padding on both sides of each spatial axis (default 0).  ``'valid'`` is
        0; ``'same'`` (stride 1 only) gives an output of the input's size, padding
        ``dilation * (k - 1) // 2`` before and the rest after, as PyTorch does.
    dilation : int or tuple of ints
        Spacing between kernel taps (default 1).
    groups : int
        Channels are split into ``groups`` groups, each convolved with its own filters;
        must divide ``C_in`` and ``C_out`` (default 1).
    padding_mode : {{'zeros', 'reflect', 'replicate', 'circular'}}, keyword-only
        What the padding holds, with ``{tmod}``'s meaning: zeros, the mirror
        image without the edge sample, the edge sample, or the periodic continuation
        (alias ``'wrap'``).  Unlike PyTorch, ``'reflect'`` and ``'circular'`` also accept
        paddings larger than the input (numpy.pad's repeated extension).
    backend : {{'numba', 'cython', 'python'}}, optional, keyword-only
        Kernel backend; default: :func:`fastdeconv.get_backend`.

    Returns
    -------
    ndarray, shape ``(N, C_out, {op})`` (no ``N`` for unbatched input)
        ``O = (I + pad_before + pad_after - dilation * (k - 1) - 1) // stride + 1`` per
        axis.  float32 when ``x``, ``weight`` (and ``bias``) are float32 or narrower,
        else float64.  The inputs are never modified.  As in PyTorch, an empty batch
        gives an empty batch, and an input without channels an output without channels
        (``C_out`` is then 0).

    Raises
    ------
    ValueError
        Wrong ranks, channel counts or groups that do not divide them, a bias of the
        wrong size, non-positive stride/dilation/groups, negative padding, ``'same'``
        with a stride, an unknown ``padding_mode``, a kernel larger than the padded
        input, an empty spatial axis with a non-empty batch and channels (or with a
        ``padding_mode`` other than zeros), or an output or padded input larger than
        this machine's memory (``fastdeconv.nn.MAX_BYTES``).
    TypeError
        Non-numeric or complex arrays, non-integer stride/padding/dilation/groups.

    See Also
    --------
    torch.nn.functional.conv{see} : the PyTorch function with the same semantics.
    conv_transpose{n} : its adjoint.
    fastdeconv.correlate : N-D correlation with scipy semantics.

    Notes
    -----
    With ``g = c_out // (C_out / groups)`` and ``C = C_in / groups``, the output is the
    cross-correlation

    .. math:: y[n, c_{{out}}, o] = b[c_{{out}}] + \\sum_{{c < C}} \\sum_k
              w[c_{{out}}, c, k] \\, x_p[n, g C + c, o \\cdot s + k \\cdot d]

    over the padded input :math:`x_p`.  A strided convolution is computed on the
    polyphase components of :math:`x_p`, so only the kept outputs are computed.

    Examples
    --------
{example}
"""

_CONVT_DOC = """{summary}

    The adjoint (gradient with respect to the input) of :func:`conv{n}` with the same
    ``stride``, ``padding``, ``dilation`` and ``groups``, also called fractionally-strided
    convolution or (in deep learning) deconvolution.

    Parameters
    ----------
    x : array_like, shape ``(N, C_in, {sp})`` or ``(C_in, {sp})``
        Input batch (or one unbatched sample).  Real numbers of any dtype.
    weight : array_like, shape ``(C_in, C_out / groups, {kp})``
        Filters, laid out as ``{tconvt}`` takes them.
    bias : array_like, shape ``(C_out,)``, optional
        Added to every output sample of each channel.
    stride : int or tuple of ints
        Upsampling factor per spatial axis (default 1).
    padding : int or tuple of ints
        ``dilation * (k - 1) - padding`` zeros are implicitly added on both sides of the
        input, i.e. ``padding`` samples are cropped from both ends of the full output
        (default 0).
    output_padding : int or tuple of ints
        Extra samples added at the end of each axis of the output (default 0); each must
        be smaller than the stride or the dilation of its axis.
    groups : int
        Must divide ``C_in`` (default 1).
    dilation : int or tuple of ints
        Spacing between kernel taps (default 1).
    backend : {{'numba', 'cython', 'python'}}, optional, keyword-only
        Kernel backend; default: :func:`fastdeconv.get_backend`.

    Returns
    -------
    ndarray, shape ``(N, C_out, {op})`` (no ``N`` for unbatched input)
        ``O = (I - 1) * stride - 2 * padding + dilation * (k - 1) + output_padding + 1``
        per axis.  float32 when ``x``, ``weight`` (and ``bias``) are float32 or
        narrower, else float64.  The inputs are never modified.  An empty batch gives
        an empty batch (``O`` may then be 0, as in PyTorch).

    Raises
    ------
    ValueError
        Wrong ranks or channel counts, groups not dividing ``C_in``, a weight without
        input or output channels, a bias of the wrong size, non-positive
        stride/dilation/groups, negative padding or output_padding, an output_padding
        not smaller than stride or dilation, an output size below 1 (below 0 for an
        empty batch), an empty spatial
        axis with a non-empty batch, or an output larger than this machine's memory
        (``fastdeconv.nn.MAX_BYTES``).
    TypeError
        Non-numeric or complex arrays, non-integer arguments, a string ``padding``.

    See Also
    --------
    torch.nn.functional.conv_transpose{see} : the PyTorch function with the same
        semantics.
    conv{n} : the convolution this is the adjoint of.

    Notes
    -----
    Each input sample scatters a copy of the kernel into the output,

    .. math:: y[n, g C_o + c_o, i \\cdot s + k \\cdot d - p] \\mathrel{{+}}=
              x[n, c, i] \\, w[c, c_o, k], \\quad g = c // (C_{{in}} / groups),

    on top of the bias.  It is computed as a gather instead: the outputs of each residue
    modulo the stride are a stride-1 correlation of the input with the sub-kernel of the
    taps that reach them (no zero-stuffing, one writer per output sample; planning
    costs O(taps) whatever the stride).  Only products of real samples are formed: a
    NaN or infinite weight never meets the implicit padding.  With zero
    biases, ``<conv(x, w), y> == <x, conv_transpose(y, w)>`` when the shapes match.

    Examples
    --------
{example}
"""

_SPATIAL = {1: ("L", "kL", "L_out"), 2: ("H, W", "kH, kW", "H_out, W_out"),
            3: ("D, H, W", "kD, kH, kW", "D_out, H_out, W_out")}


def _doc(template, summary, n, example):
    sp, kp, op = _SPATIAL.get(n, ("*spatial", "*kernel", "*spatial_out"))
    rank = f"{n}d" if n else "{1,2,3}d"
    seealso = f"{n}d" if n else "2d"  # a name See Also can link to
    return template.format(summary=summary, n=f"{n}d" if n else "", sp=sp, kp=kp, op=op,
                           example=example, tconv=f"torch.nn.functional.conv{rank}",
                           tconvt=f"torch.nn.functional.conv_transpose{rank}",
                           tmod=f"torch.nn.Conv{rank}", see=seealso)


def conv(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
         padding_mode="zeros", backend=None):
    return _conv(x, weight, bias, stride, padding, dilation, groups, padding_mode, backend,
                 None, "conv")


def conv_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                   dilation=1, *, backend=None):
    return _conv_transpose(x, weight, bias, stride, padding, output_padding, groups,
                           dilation, backend, None, "conv_transpose")


conv.__doc__ = _doc(_CONV_DOC, "1-D, 2-D or 3-D convolution (cross-correlation) with "
                    "PyTorch semantics; the rank comes from ``weight``.", None, """\
    >>> import numpy as np
    >>> from fastdeconv.nn import conv
    >>> x = np.arange(8.0).reshape(1, 1, 8)
    >>> conv(x, np.array([[[1.0, 0.0, -1.0]]]), stride=2, padding=1)
    array([[[-1., -2., -2., -2.]]])
    >>> conv(np.ones((2, 5, 5)), np.ones((4, 2, 3, 3)), padding='same').shape
    (4, 5, 5)""")

conv_transpose.__doc__ = _doc(_CONVT_DOC, "1-D, 2-D or 3-D transposed convolution with "
                              "PyTorch semantics; the rank comes from ``weight``.", None, """\
    >>> import numpy as np
    >>> from fastdeconv.nn import conv_transpose
    >>> conv_transpose(np.array([[[1.0, 2.0]]]), np.array([[[1.0, 1.0, 1.0]]]), stride=2)
    array([[[1., 1., 3., 2., 2.]]])
    >>> conv_transpose(np.ones((1, 4, 8, 8), np.float32), np.ones((4, 2, 4, 4), np.float32),
    ...                stride=2, padding=1).shape
    (1, 2, 16, 16)""")


def _make_alias(nsp, transposed):
    if transposed:
        def func(x, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                 dilation=1, *, backend=None):
            return _conv_transpose(x, weight, bias, stride, padding, output_padding,
                                   groups, dilation, backend, nsp,
                                   f"conv_transpose{nsp}d")
        func.__name__ = func.__qualname__ = f"conv_transpose{nsp}d"
    else:
        def func(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *,
                 padding_mode="zeros", backend=None):
            return _conv(x, weight, bias, stride, padding, dilation, groups, padding_mode,
                         backend, nsp, f"conv{nsp}d")
        func.__name__ = func.__qualname__ = f"conv{nsp}d"
    func.__module__ = __name__
    return func


_EXAMPLES = {
    (1, False): """\
    >>> import numpy as np
    >>> from fastdeconv.nn import conv1d
    >>> conv1d(np.array([[[1.0, 2.0, 3.0, 4.0]]]), np.array([[[1.0, 1.0]]]))
    array([[[3., 5., 7.]]])""",
    (2, False): """\
    >>> import numpy as np
    >>> from fastdeconv.nn import conv2d
    >>> x = np.ones((1, 3, 8, 8), np.float32)
    >>> y = conv2d(x, np.ones((6, 3, 3, 3), np.float32), stride=2, padding=1)
    >>> y.shape, y.dtype, float(y[0, 0, 1, 1])
    ((1, 6, 4, 4), dtype('float32'), 27.0)""",
    (3, False): """\
    >>> import numpy as np
    >>> from fastdeconv.nn import conv3d
    >>> conv3d(np.ones((2, 6, 6, 6)), np.ones((4, 2, 3, 3, 3)), dilation=2).shape
    (4, 2, 2, 2)""",
    (1, True): """\
    >>> import numpy as np
    >>> from fastdeconv.nn import conv_transpose1d
    >>> conv_transpose1d(np.array([[[1.0, 2.0, 3.0]]]), np.array([[[1.0, 1.0]]]), stride=2)
    array([[[1., 1., 2., 2., 3., 3.]]])""",
    (2, True): """\
    >>> import numpy as np
    >>> from fastdeconv.nn import conv_transpose2d
    >>> x = np.ones((1, 4, 16, 16), np.float32)
    >>> w = np.ones((4, 8, 3, 3), np.float32)
    >>> conv_transpose2d(x, w, stride=2, padding=1, output_padding=1).shape
    (1, 8, 32, 32)""",
    (3, True): """\
    >>> import numpy as np
    >>> from fastdeconv.nn import conv_transpose3d
    >>> conv_transpose3d(np.ones((2, 3, 3, 3)), np.ones((2, 1, 2, 2, 2)), stride=2).shape
    (1, 6, 6, 6)""",
}

conv1d = _make_alias(1, False)
conv2d = _make_alias(2, False)
conv3d = _make_alias(3, False)
conv_transpose1d = _make_alias(1, True)
conv_transpose2d = _make_alias(2, True)
conv_transpose3d = _make_alias(3, True)
for _n, _f in ((1, conv1d), (2, conv2d), (3, conv3d)):
    _f.__doc__ = _doc(_CONV_DOC, f"{_n}-D convolution (cross-correlation) with PyTorch "
                      f"semantics (``torch.nn.functional.conv{_n}d``).", _n,
                      _EXAMPLES[_n, False])
for _n, _f in ((1, conv_transpose1d), (2, conv_transpose2d), (3, conv_transpose3d)):
    _f.__doc__ = _doc(_CONVT_DOC, f"{_n}-D transposed convolution with PyTorch semantics "
                      f"(``torch.nn.functional.conv_transpose{_n}d``).", _n,
                      _EXAMPLES[_n, True])
del _n, _f
