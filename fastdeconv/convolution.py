"""Convolution and correlation with scipy.signal semantics, plus boundary modes.

Public functions: :func:`convolve`, :func:`correlate`, :func:`convolve2d`,
:func:`correlate2d`, :func:`fftconvolve`, :func:`oaconvolve`,
:func:`choose_conv_method`.  They validate (``_validation``), pick a method and backend,
and hand a canonical problem (batch axes first, a window of the full convolution per
axis, a numpy.pad boundary) to one of three engines: direct (``_direct``), FFT and
block FFT (``_fft``).
"""
import math
import time
import warnings

import numpy as np

from . import _direct, _fft, _memory
from . import _validation as v
from ._backends import resolve_backend

__all__ = ["convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve",
           "oaconvolve", "choose_conv_method"]


# --------------------------------------------------------------------------- windows
def _windows(shape1, shape2, axes, mode, same_start=None):
    """(start, length) per convolution axis, in full-convolution coordinates."""
    wins = []
    for a in axes:
        n, kk = shape1[a], shape2[a]
        if mode == "full":
            wins.append((0, n + kk - 1))
        elif mode == "same":
            wins.append(((kk - 1) // 2 if same_start is None else same_start(kk), n))
        else:  # valid, inputs already ordered so that n >= kk
            wins.append((kk - 1, n - kk + 1))
    return wins


# -------------------------------------------------------------------- cost model
# Calibrated on the 2-core AMD EPYC (Zen 4) development machine with bench/calibrate.py
# semantics: seconds per (output sample x kernel tap) of the direct kernel with all
# threads, and seconds per (n log2 n) of a scipy.fft real transform with all workers.
_DIRECT_S_PER_TAP = {4: 1 / 40e9, 8: 1 / 20e9}
_FFT_S_PER_NLOGN = {4: 1.5e-10, 8: 2.2e-10}
_CALL_OVERHEAD = {"direct": 15e-6, "fft": 60e-6, "oa": 120e-6}


def _direct_cost(xshape, kshape, oshape, itemsize, is_complex):
    out = math.prod(oshape)
    taps = math.prod(kshape)
    per = _DIRECT_S_PER_TAP.get(itemsize, _DIRECT_S_PER_TAP[8])
    if is_complex:
        per *= 4
    return out * taps * per + _CALL_OVERHEAD["direct"]


def _fft_cost(xshape, kshape, windows, itemsize, is_complex):
    real = not is_complex
    f = _fft.fft_lengths(xshape, kshape, windows, real)
    total = math.prod(f)
    per = _FFT_S_PER_NLOGN.get(itemsize, _FFT_S_PER_NLOGN[8]) * (2 if is_complex else 1)
    # three transforms: input, (pruned) kernel counted as half, inverse
    return 2.5 * total * math.log2(max(total, 2)) * per + _CALL_OVERHEAD["fft"]


def _oa_cost(xshape, kshape, windows, itemsize, is_complex):
    real = not is_complex
    points = 1.0
    seg_points = 1.0
    for n, kk, (_, length) in zip(xshape, kshape, windows):
        seg = _fft._block_length(length, kk, real)
        if seg is None:
            seg = _fft.sfft.next_fast_len(length + kk - 1, real)
            points *= seg
        else:
            points *= math.ceil(length / (seg - kk + 1)) * seg
        seg_points *= seg
    per = _FFT_S_PER_NLOGN.get(itemsize, _FFT_S_PER_NLOGN[8]) * (2 if is_complex else 1)
    # every block is a transform of seg_points samples: n log n of the block, not the whole
    return 2.2 * points * math.log2(max(seg_points, 2)) * per * 1.15 + _CALL_OVERHEAD["oa"]


def _estimate(x, k, windows, nb, cdtype):
    """Estimated seconds per method for a canonical problem."""
    batch = math.prod(_fft.broadcast_shape(x.shape[:nb], k.shape[:nb]))
    separable = (_direct.separable_pays(k.shape[nb:])
                 and _direct.separable_factors(k, nb, cdtype) is not None)
    return estimate_costs(x.shape[nb:], k.shape[nb:], windows, cdtype, separable, batch)


def estimate_costs(xshape, kshape, windows, cdtype, separable, batch=1):
    """Estimated seconds of ``window(x * k)`` per method ('direct', 'fft', 'oa').

    The one cost model of the package: :func:`choose_conv_method` and the restoration
    plans (``_operators.plan_convolution``) both decide with it.  ``separable``: the
    direct path runs one pass per axis.
    """
    oshape = [length for _, length in windows]
    itemsize = np.dtype(cdtype).itemsize
    if np.dtype(cdtype).kind == "c":
        itemsize //= 2
    is_complex = np.dtype(cdtype).kind == "c"
    taps_shape = kshape
    if separable:
        # one pass per axis: cost like a 1-D kernel of sum(K) taps, plus a pass each
        taps_shape = (sum(kshape) + 4 * (sum(n > 1 for n in kshape) - 1),)
    return {
        "direct": batch * _direct_cost(xshape, taps_shape, oshape, itemsize, is_complex),
        "fft": batch * _fft_cost(xshape, kshape, windows, itemsize, is_complex),
        "oa": batch * _oa_cost(xshape, kshape, windows, itemsize, is_complex),
    }


# ------------------------------------------------------------------- the core
# scipy's warning (word for word) when an FFT result holds NaN or Inf
FFT_NONFINITE_WARNING = ("Use of fft convolution on input with NAN or inf results in NAN"
                         " or inf output. Consider using method='direct' instead.")


class _Problem:
    """A validated convolution problem in canonical layout.

    ``api``: 'nd' for convolve/correlate/fftconvolve/oaconvolve, '2d' for
    convolve2d/correlate2d; with ``mode`` it decides which operand scipy's direct method
    pads, which matters only for NaN and Inf (see :func:`_direct_operands`).
    """

    __slots__ = ("x", "k", "nb", "windows", "pad_mode", "fillvalue", "perm",
                 "result_type", "cdtype", "backend", "conv_axes", "api", "mode",
                 "batch_shape")


# numpy's broadcasting helpers (np.broadcast, np.broadcast_shapes, nditer with many
# operands) stop at 32 dimensions although arrays go to 64
_MAX_BATCH_AXES = 32


def _merge_batch_axes(x, k, nb):
    """``x`` and ``k`` (C-contiguous, canonical) with neighbouring batch axes merged
    where they broadcast alike (equal lengths, or one input 1 long on all of them), and
    batch axes of length 1 in both dropped; returns ``(x, k, nb)``.

    Fewer batch axes cost nothing and keep every engine below numpy's 32-axis limit of
    its broadcasting helpers: scipy's fftconvolve takes arrays of up to 64 dimensions.
    """
    groups = []  # [kind, x length, k length]
    for xs, ks in zip(x.shape[:nb], k.shape[:nb]):
        if xs == ks == 1:
            continue
        kind = "same" if xs == ks else ("x1" if xs == 1 else "k1")
        if groups and groups[-1][0] == kind:
            groups[-1][1] *= xs
            groups[-1][2] *= ks
        else:
            groups.append([kind, xs, ks])
    if len(groups) > _MAX_BATCH_AXES:
        raise ValueError(f"in1 and in2 have {len(groups)} groups of batch axes that"
                         f" broadcast differently; at most {_MAX_BATCH_AXES} are"
                         " supported")
    xb = tuple(g[1] for g in groups)
    kb = tuple(g[2] for g in groups)
    return x.reshape(xb + x.shape[nb:]), k.reshape(kb + k.shape[nb:]), len(groups)


def _prepare(in1, in2, mode, axes, boundary, fillvalue, backend, same_start=None,
             ndim_message="in1 and in2 should have the same dimensionality", api="nd",
             mode_wording="auto"):
    """Validate everything and build a canonical problem (or return a scalar/empty)."""
    mode = v.check_mode(mode, mode_wording)
    pad_mode = v.check_boundary(boundary)
    backend = resolve_backend(backend)
    v.check_same_ndim(in1, in2, ndim_message)
    ndim = in1.ndim
    conv_axes = v.check_axes(axes, ndim)
    v.check_broadcast(in1.shape, in2.shape, conv_axes)
    if mode == "valid" and v.check_valid_shapes(in1.shape, in2.shape, conv_axes):
        in1, in2 = in2, in1
    rt = np.result_type(in1, in2)
    # scipy converts (and checks) the fill value only for boundary='fill'
    fv = v.check_fillvalue(fillvalue, rt) if pad_mode == "constant" else rt.type(0)
    batch_axes = tuple(a for a in range(ndim) if a not in conv_axes)
    if mode == "same":
        # scipy centres 'same' on in1's shape along batch axes too: where in1 has one
        # line and in2 several, only in2's middle line survives, so only it is computed
        index = tuple(slice((in2.shape[a] - 1) // 2, (in2.shape[a] - 1) // 2 + 1)
                      if a in batch_axes and in1.shape[a] == 1 else slice(None)
                      for a in range(ndim))
        in2 = in2[index]
    perm = batch_axes + tuple(sorted(conv_axes))
    p = _Problem()
    p.nb = len(batch_axes)
    p.perm = perm if perm != tuple(range(ndim)) else None
    x = in1.transpose(perm) if p.perm else in1
    k = in2.transpose(perm) if p.perm else in2
    p.result_type = rt
    p.cdtype = v.compute_dtype(rt)
    p.batch_shape = _fft.broadcast_shape(x.shape[:p.nb], k.shape[:p.nb])
    p.x, p.k, p.nb = _merge_batch_axes(v.kernel_array(x, p.cdtype),
                                       v.kernel_array(k, p.cdtype), p.nb)
    p.windows = _windows(p.x.shape[p.nb:], p.k.shape[p.nb:], range(len(conv_axes)),
                         mode, same_start)
    p.pad_mode = pad_mode
    p.fillvalue = fv
    p.backend = backend
    p.conv_axes = conv_axes
    p.api = api
    p.mode = mode
    return p


def _zero_fill(p):
    return p.pad_mode == "constant" and p.fillvalue == 0


def _finite(a):
    """Whether ``a`` (compute dtype) holds no NaN/Inf; integers always do."""
    return a.dtype.kind not in "fc" or _memory.all_finite(a)


def _direct_operands(p):
    """``(padded operand, stencil)`` for the direct method.

    With finite data and a zero fill, convolution is commutative on every window, so
    the larger operand is padded and the smaller one is the stencil (fewer terms).
    With NaN or Inf the choice shows: every stencil tap multiplies the padded zeros too,
    and ``0 * inf`` is NaN.  scipy's direct method pads ``in1`` and runs every tap of
    ``in2``, except that ``convolve``/``correlate`` in 'full' mode swap them when
    ``in2`` is larger; so when the inputs are not finite, the roles are scipy's.
    """
    x, k = p.x, p.k
    if not (_zero_fill(p) and p.nb == 0 and k.size > x.size):
        return x, k
    if (p.api == "nd" and p.mode == "full") or (_finite(x) and _finite(k)):
        return k, x
    return x, k


def _numpy_1d_semantics(p):
    """Whether scipy's direct method runs numpy.convolve/correlate here: 1-D inputs,
    zero fill, 'full' or 'same' with ``in1`` at least as long as ``in2`` ('valid' reads
    no padding, so the kernels agree with numpy there anyway)."""
    return (p.api == "nd" and p.batch_shape == () and len(p.windows) == 1
            and _zero_fill(p) and (p.mode == "full" or (p.mode == "same" and p.x.size >= p.k.size)))


def _overlap_1d(x, k, window):
    """The window of the 1-D convolution summed over the overlap only, as numpy does
    (no product with padded zeros): where a stencil value is NaN/Inf, the padded
    kernels would give NaN at the edges where numpy (and scipy) give Inf or a number."""
    s, length = window
    return np.ascontiguousarray(np.convolve(x, k)[s:s + length])


def _direct_numpy(x, k, windows, pad_mode, fillvalue, nb):
    """Direct convolution in numpy, one shifted multiply-add per kernel tap: for long
    double, which the compiled kernels do not take.  Every tap multiplies every padded
    sample, as in the kernels."""
    nc = len(windows)
    xp = _direct.pad_for_window(x, k.shape, windows, pad_mode, fillvalue, nb)
    kf = np.flip(k, axis=tuple(range(nb, nb + nc)))
    lengths = [length for _, length in windows]
    bshape = _fft.broadcast_shape(x.shape[:nb], k.shape[:nb])
    out = np.zeros(tuple(bshape) + tuple(lengths), dtype=x.dtype)
    for idx in np.ndindex(*kf.shape[nb:]):
        w = kf[(Ellipsis,) + idx].reshape(kf.shape[:nb] + (1,) * nc)
        out += w * xp[(Ellipsis,) + tuple(slice(i, i + n) for i, n in zip(idx, lengths))]
    return out


def _run_direct(p):
    x, k = _direct_operands(p)
    # NaN/Inf in the stencil: scipy's 1-D path sums over the overlap only; and the
    # rank-1 factorisation of a stencil with NaN/Inf would spread them everywhere
    stencil_finite = _finite(k)
    if not stencil_finite and _numpy_1d_semantics(p):
        return _overlap_1d(x, k, p.windows[0])
    if v.is_extended(p.cdtype):
        return _direct_numpy(x, k, p.windows, p.pad_mode, p.fillvalue, p.nb)
    separable = stencil_finite
    if separable and x.dtype.kind == "c" and _direct.separable_pays(k.shape[p.nb:]):
        # complex Inf times the factors one after the other is not Inf times their
        # product (inf * (1+0j) gives a NaN imaginary part): whole stencil then
        separable = _finite(x)
    return _direct.direct_convolve(x, k, p.windows, p.pad_mode, p.fillvalue, p.nb,
                                   p.backend, allow_separable=separable)


def _elementwise(p):
    """Whether no convolution axis needs a transform: on every one ``k`` is one sample
    (no padding read), or ``x`` is and the fill is zero.  scipy's fftconvolve then
    multiplies (in the inputs' dtypes: exact for integers) instead of transforming."""
    zero = _zero_fill(p)
    return all(kk == 1 or (n == 1 and zero)
               for n, kk in zip(p.x.shape[p.nb:], p.k.shape[p.nb:]))


def _elementwise_product(p):
    prod = p.x * p.k  # broadcast: per convolution axis one of the two is 1 long
    index = (slice(None),) * p.nb + tuple(slice(s, s + length) for s, length in p.windows)
    return np.ascontiguousarray(prod[index])


def _run(p, method):
    """Execute a canonical problem with ``method``; returns the canonical result."""
    if method == "direct":
        return _run_direct(p)
    if _elementwise(p):
        return _elementwise_product(p)
    x, k = p.x, p.k
    fv = p.fillvalue
    if p.cdtype.kind not in "fc":  # integers and bools go through float64
        x = x.astype(np.float64)
        k = k.astype(np.float64)
        fv = np.float64(fv)
    if method == "fft":
        return _fft.fft_convolve(x, k, p.windows, p.pad_mode, fv, p.nb)
    return _fft.oa_convolve(x, k, p.windows, p.pad_mode, fv, p.nb)


def _finish(p, out):
    """Back to the caller's axis order and result dtype."""
    rt = p.result_type
    if rt.kind == "b":
        out = np.round(out) != 0 if out.dtype.kind == "f" else out != 0
    elif rt.kind in "iu":
        if out.dtype.kind == "f":
            out = np.round(out)
            out = out.astype(np.int64)
        out = out.astype(rt) if rt != np.int64 else out
    elif out.dtype != rt:
        out = out.astype(rt)
    if out.shape[:p.nb] != p.batch_shape:  # batch axes merged by _merge_batch_axes
        out = out.reshape(p.batch_shape + out.shape[p.nb:])
    if p.perm:
        out = np.ascontiguousarray(out.transpose(np.argsort(p.perm)))
    return out


def _warn_nonfinite(out, method, stacklevel):
    """scipy's RuntimeWarning when an FFT result holds NaN/Inf.  scipy looks at the first
    sample (one NaN or Inf in an input spoils every sample of an FFT); the block
    transforms of 'oa' spoil only the blocks that read it, so 'oa' looks at all."""
    if out.dtype.kind not in "fc" or out.size == 0:
        return
    # (reshape, not .flat: numpy's flat iterator stops at 32 dimensions)
    bad = (not np.isfinite(out.reshape(-1)[0])) if method == "fft" else not _finite(out)
    if bad:
        warnings.warn(FFT_NONFINITE_WARNING, RuntimeWarning, stacklevel=stacklevel + 1)


def _max_abs(a):
    # max and min rather than abs: no temporary the size of the input
    return max(int(a.max()), -int(a.min()))


def _int_precision_needs_direct(p):
    # float64 FFTs are exact for integers only below 2**52 (scipy's rule)
    if p.result_type.kind not in "iub":
        return False
    if p.result_type.kind == "b":
        return True
    big_x = _max_abs(p.x)
    if p.pad_mode == "constant":  # the fill value is summed like a sample of x
        big_x = max(big_x, abs(int(p.fillvalue)))
    mx = big_x * _max_abs(p.k)
    return mx * min(p.x.size, p.k.size) > 2 ** 52 - 1


def _choose(p):
    # (long double is ranked by the double-precision model: both its numpy direct loop
    # and its transforms are several times slower than double's)
    if p.result_type.kind == "b":
        return "direct"
    costs = _estimate(p.x, p.k, p.windows, p.nb, p.cdtype)
    best = min(costs, key=costs.get)
    # the integer range check reads both inputs: only when it could change the choice
    if best != "direct" and _int_precision_needs_direct(p):
        return "direct"
    return best


def _mode_wording(method, conj_reverse, api):
    """Which of scipy's mode messages the scipy function would raise (see _validation)."""
    if conj_reverse or api == "2d":
        return "scipy"
    return {"auto": "auto", "direct": "scipy"}.get(method, "fft")


def _convolve_impl(in1, in2, mode, method, axes, boundary, fillvalue, backend,
                   conj_reverse, same_start=None, swap_conj=False, ndim_message=None,
                   api="nd"):
    in1 = v.as_numeric(in1, "in1")
    in2 = v.as_numeric(in2, "in2")
    method = v.check_method(method)
    wording = _mode_wording(method, conj_reverse, api)
    if in1.ndim == 0 and in2.ndim == 0:
        v.check_mode(mode, wording)
        # conj only for complex: np.conj turns a bool into int8 (scipy keeps bool)
        return in1 * (np.conj(in2) if conj_reverse and in2.dtype.kind == "c" else in2)
    for name, arr in (("in1", in1), ("in2", in2)):
        if arr.size == 0 and in1.ndim == in2.ndim:
            raise ValueError(f"{name} cannot be empty")
    swapped = False
    if conj_reverse:
        # correlate(a, b) is convolve(a, reversed conj(b)) over the convolution axes
        v.check_same_ndim(in1, in2, ndim_message or "in1 and in2 should have the same"
                                                    " dimensionality")
        caxes = v.check_axes(axes, in1.ndim)
        if swap_conj and mode == "valid" and v.check_valid_shapes(in1.shape, in2.shape,
                                                                  caxes):
            # correlate2d's rule: swap, correlate, then reverse the output (no conj)
            in1, in2 = in2, in1
            swapped = True
        in2 = np.flip(in2, axis=caxes)
        if in2.dtype.kind == "c":
            in2 = np.conj(in2)
    p = _prepare(in1, in2, mode, axes, boundary, fillvalue, backend, same_start,
                 ndim_message or ("volume and kernel should have the same dimensionality"
                                  if not conj_reverse else
                                  "in1 and in2 should have the same dimensionality"),
                 api=api, mode_wording=wording)
    if method == "auto":
        method = _choose(p)
    out = _finish(p, _run(p, method))
    if swapped:
        out = np.ascontiguousarray(np.flip(out, axis=p.conv_axes))
    if method in ("fft", "oa"):
        # convolve -> _convolve_impl -> here: the warning points at the caller
        _warn_nonfinite(out, method, stacklevel=3)
    return out


# ------------------------------------------------------------------ public API
def convolve(in1, in2, mode="full", method="auto", *, axes=None, boundary="fill",
             fillvalue=0, backend=None):
    """Convolve two N-dimensional arrays (``scipy.signal.convolve`` semantics).

    Parameters
    ----------
    in1 : array_like
        First input (the signal; ``boundary`` applies to its edges).
    in2 : array_like
        Second input, same number of dimensions as ``in1``.
    mode : {'full', 'valid', 'same'}, optional
        Output size, exactly as scipy: 'full' is the whole linear convolution, 'same'
        is its centre with ``in1``'s shape, 'valid' the part that does not depend on
        the boundary (inputs are swapped if ``in2`` is the larger one).
    method : {'auto', 'direct', 'fft', 'oa'}, optional
        'direct' sums in the spatial domain with the compiled kernels (exact for
        integers); 'fft' multiplies spectra; 'oa' transforms overlapping blocks (best
        for a long signal and a shorter kernel); 'auto' picks the fastest by a cost
        model calibrated on this library's own kernels.
    axes : int or sequence of int, optional
        Axes to convolve over; the other axes are batch axes and must broadcast.
    boundary : {'fill', 'wrap', 'symm', 'reflect', 'nearest'}, optional
        What lies beyond ``in1``'s edges (numpy.pad's constant, wrap, symmetric,
        reflect, edge; aliases 'periodic', 'circular', 'symmetric', 'mirror',
        'edge').  Used by every method and dimension; ignored by 'valid'.
    fillvalue : scalar, optional
        Value beyond the edges for ``boundary='fill'``, converted to the result dtype
        as scipy.signal.convolve2d converts it (1.5 is 1 for integers; values the
        dtype cannot hold raise ValueError), for every method.
    backend : {'numba', 'cython', 'python'}, optional
        Compiled backend for the direct method (default: :func:`get_backend`).

    Returns
    -------
    ndarray
        ``np.result_type(in1, in2)`` (float32 stays float32, integers stay integers,
        long double is computed in long double).

    Raises
    ------
    ValueError
        Unknown mode/method/boundary/backend (the mode message is scipy's, word for
        word), different ndim, empty input, 'valid' shapes where neither input
        contains the other, incompatible batch axes, a fill value the result dtype
        cannot hold.
    TypeError
        Non-numeric input.

    Warns
    -----
    RuntimeWarning
        scipy's "Use of fft convolution on input with NAN or inf ..." when 'fft' or
        'oa' (chosen or picked by 'auto') returns NaN or Inf: one NaN or Inf input
        sample spoils the whole transform.  Use ``method='direct'`` for such data.

    See Also
    --------
    scipy.signal.convolve, correlate, fftconvolve, oaconvolve

    Notes
    -----
    ``(in1 * in2)[n] = sum_m in1[m] in2[n - m]``.  Kernels that are outer products of
    1-D vectors (every Gaussian) run as one 1-D pass per axis in the direct method.

    NaN and Inf: the direct method places them as scipy's direct method does.  For
    1-D inputs each output sums over the overlap of the two inputs only (numpy's
    convolve); otherwise every sample of ``in2`` also multiplies the zeros beyond
    ``in1``'s edges (``0 * inf`` is NaN), except that in 'full' mode the smaller input
    is the one that runs over the other's padding.

    Inputs may have up to numpy's 64 dimensions.

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import convolve
    >>> convolve([1.0, 2.0, 3.0], [0.0, 1.0, 0.5])
    array([0. , 1. , 2.5, 4. , 1.5])
    >>> convolve(np.eye(3), np.ones((2, 2)), mode='same', boundary='wrap')
    array([[2., 1., 1.],
           [1., 2., 1.],
           [1., 1., 2.]])
    """
    return _convolve_impl(in1, in2, mode, method, axes, boundary, fillvalue, backend,
                          conj_reverse=False)


def correlate(in1, in2, mode="full", method="auto", *, axes=None, boundary="fill",
              fillvalue=0, backend=None):
    """Cross-correlate two N-dimensional arrays (``scipy.signal.correlate`` semantics).

    ``z[k] = sum_l in1[l + k - K + 1] * conj(in2[l])`` for 'full' — the
    "deconvolution sum" ``(I ⊛ K)[i, j] = Σ I[i+m, j+n] K[m, n]`` in 'valid' mode.
    Parameters, returns, errors, warnings and NaN/Inf placement as :func:`convolve`
    (``boundary`` applies to ``in1``); complex ``in2`` is conjugated.

    Parameters
    ----------
    in1, in2 : array_like
        Inputs with the same number of dimensions.
    mode : {'full', 'valid', 'same'}, optional
    method : {'auto', 'direct', 'fft', 'oa'}, optional
    axes : int or sequence of int, optional
    boundary : {'fill', 'wrap', 'symm', 'reflect', 'nearest'}, optional
    fillvalue : scalar, optional
    backend : {'numba', 'cython', 'python'}, optional

    Returns
    -------
    ndarray

    See Also
    --------
    scipy.signal.correlate, convolve

    Examples
    --------
    >>> from fastdeconv import correlate
    >>> correlate([1.0, 2.0, 3.0], [0.0, 1.0, 0.5], mode='valid')
    array([3.5])
    """
    return _convolve_impl(in1, in2, mode, method, axes, boundary, fillvalue, backend,
                          conj_reverse=True)


def _check_2d(in1, in2, name):
    in1 = v.as_numeric(in1, "in1")
    in2 = v.as_numeric(in2, "in2")
    if not in1.ndim == in2.ndim == 2:
        raise ValueError(f"{name} inputs must both be 2-D arrays")
    return in1, in2


def convolve2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, method="auto",
               backend=None):
    """Convolve two 2-D arrays (``scipy.signal.convolve2d`` semantics).

    Like scipy, with more boundaries ('reflect', 'nearest' besides 'fill', 'wrap',
    'symm') and integer/bool/float16 inputs; the method is chosen automatically
    (scipy's is always direct) unless ``method`` says otherwise.  ``fillvalue`` is
    converted to the result dtype as scipy does (1.5 is 1 for integers) by every
    method; the direct method places NaN and Inf as scipy (``in1`` is padded, every
    sample of ``in2`` runs over it).  Warnings as :func:`convolve`.

    Parameters
    ----------
    in1, in2 : array_like
        2-D inputs.
    mode : {'full', 'valid', 'same'}, optional
    boundary : {'fill', 'wrap', 'symm', 'reflect', 'nearest'}, optional
    fillvalue : scalar, optional
    method : {'auto', 'direct', 'fft', 'oa'}, optional
    backend : {'numba', 'cython', 'python'}, optional

    Returns
    -------
    ndarray

    See Also
    --------
    scipy.signal.convolve2d, convolve

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import convolve2d
    >>> convolve2d(np.ones((2, 2)), np.ones((2, 2)))
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    in1, in2 = _check_2d(in1, in2, "convolve2d")
    return _convolve_impl(in1, in2, mode, method, None, boundary, fillvalue, backend,
                          conj_reverse=False, api="2d")


def correlate2d(in1, in2, mode="full", boundary="fill", fillvalue=0, *, method="auto",
                backend=None):
    """Cross-correlate two 2-D arrays (``scipy.signal.correlate2d`` semantics).

    Keeps scipy's own conventions where they differ from :func:`correlate`: 'same'
    centres an even-sized kernel one sample the other way, and a 'valid' call whose
    inputs must be swapped returns the reversed (not conjugated) result.

    Parameters
    ----------
    in1, in2 : array_like
        2-D inputs.
    mode : {'full', 'valid', 'same'}, optional
    boundary : {'fill', 'wrap', 'symm', 'reflect', 'nearest'}, optional
    fillvalue : scalar, optional
    method : {'auto', 'direct', 'fft', 'oa'}, optional
    backend : {'numba', 'cython', 'python'}, optional

    Returns
    -------
    ndarray

    See Also
    --------
    scipy.signal.correlate2d, correlate

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import correlate2d
    >>> correlate2d(np.arange(9.0).reshape(3, 3), np.ones((2, 2)), mode='valid')
    array([[ 8., 12.],
           [20., 24.]])
    """
    in1, in2 = _check_2d(in1, in2, "correlate2d")
    return _convolve_impl(in1, in2, mode, method, None, boundary, fillvalue, backend,
                          conj_reverse=True, same_start=lambda kk: kk // 2,
                          swap_conj=True, api="2d")


def _fft_dtype(dtype):
    """The dtype scipy's fftconvolve transforms an input in: integers and bools go
    through float64, float16 through float32 (scipy.fft's rule), the rest as is."""
    if dtype.kind in "biu":
        return np.dtype(np.float64)
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype


def _fft_result_dtype(in1, in2):
    # each input is transformed in its own dtype and the spectra multiplied: float32
    # with int8 is float64, float32 with float16 float32, float32 with complex64 complex64
    return np.result_type(_fft_dtype(in1.dtype), _fft_dtype(in2.dtype))


def _centred(arr, shape):
    """The centre ``shape`` part of ``arr`` (scipy's ``_centered``), as a new array."""
    start = [(n - m) // 2 for n, m in zip(arr.shape, shape)]
    return np.ascontiguousarray(arr[tuple(slice(s, s + m) for s, m in zip(start, shape))])


def _fft_family(in1, in2, mode, axes, method):
    """fftconvolve/oaconvolve: scipy's order of checks, axes rule and result dtypes."""
    in1 = v.as_numeric(in1, "in1")
    in2 = v.as_numeric(in2, "in2")
    if in1.ndim == 0 and in2.ndim == 0:
        return in1 * in2
    v.check_same_ndim(in1, in2)
    if in1.size == 0 or in2.size == 0:
        return np.array([])
    axes = v.check_axes(axes, in1.ndim)
    # scipy: axes where either input has length 1 are broadcast, not transformed
    axes = tuple(a for a in axes if in1.shape[a] != 1 and in2.shape[a] != 1)
    v.check_broadcast(in1.shape, in2.shape, axes)
    if mode == "valid" and axes:
        v.check_valid_shapes(in1.shape, in2.shape, axes)  # raises where scipy does
    v.check_mode(mode, "fft")
    if not axes:
        # nothing to transform: scipy multiplies, in the inputs' own dtypes (integers
        # stay integers), and still applies the mode: 'same' is centred on in1
        out = in1 * in2
        return _centred(out, in1.shape) if mode == "same" else out
    rt = _fft_result_dtype(in1, in2)
    in1, in2 = in1.astype(rt, copy=False), in2.astype(rt, copy=False)
    p = _prepare(in1, in2, mode, axes, "fill", 0, None, mode_wording="fft")
    # no NaN warning here: scipy's fftconvolve/oaconvolve give none (convolve does)
    return _finish(p, _run(p, method))


def fftconvolve(in1, in2, mode="full", axes=None):
    """Convolve two N-dimensional arrays with FFTs (``scipy.signal.fftconvolve``).

    Uses real transforms for real data, keeps float32 in float32, pads to fast
    lengths and runs ``scipy.fft`` with :func:`get_num_threads` workers.  As in scipy,
    axes on which either input is one sample long are not transformed but broadcast
    (the mode still applies, 'same' centred on ``in1``); with no axis left the result
    is ``in1 * in2`` in the inputs' own dtype.  No warning for NaN/Inf (scipy gives
    none here; :func:`convolve` does).

    Parameters
    ----------
    in1, in2 : array_like
        Inputs with the same number of dimensions.
    mode : {'full', 'valid', 'same'}, optional
    axes : int or sequence of int, optional
        Axes to convolve over; the others must broadcast.

    Returns
    -------
    ndarray
        scipy's dtype: each input is transformed in its own precision (integers and
        bools as float64, float16 as float32, long double as long double) and the
        result has the wider of the two, e.g. float32 with int8 gives float64, float32
        with float32 float32.

    See Also
    --------
    scipy.signal.fftconvolve, convolve, oaconvolve

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import fftconvolve
    >>> np.round(fftconvolve([1.0, 2.0, 3.0], [1.0, 1.0]), 12)
    array([1., 3., 5., 3.])
    """
    return _fft_family(in1, in2, mode, axes, "fft")


def oaconvolve(in1, in2, mode="full", axes=None):
    """Convolve with block FFTs (``scipy.signal.oaconvolve`` semantics).

    The signal is cut into overlapping segments (overlap-save form) transformed in one
    batched call; best when one input is much longer than the other.  Axes, dtypes
    and modes as :func:`fftconvolve`.

    Parameters
    ----------
    in1, in2 : array_like
        Inputs with the same number of dimensions.
    mode : {'full', 'valid', 'same'}, optional
    axes : int or sequence of int, optional

    Returns
    -------
    ndarray

    See Also
    --------
    scipy.signal.oaconvolve, fftconvolve

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import oaconvolve
    >>> x = np.ones(1000)
    >>> float(np.round(oaconvolve(x, np.ones(5), mode='valid')[0], 9))
    5.0
    """
    return _fft_family(in1, in2, mode, axes, "oa")


def choose_conv_method(in1, in2, mode="full", measure=False):
    """Pick the fastest method for :func:`convolve` with these inputs.

    Parameters
    ----------
    in1, in2 : array_like
        The inputs that would be passed to :func:`convolve`.
    mode : {'full', 'valid', 'same'}, optional
    measure : bool, optional
        If True, time 'direct' and 'fft' on these inputs and return the faster together
        with the times, as scipy does (scipy's choice is between these two, and code
        written for scipy may rely on it).

    Returns
    -------
    method : {'direct', 'fft', 'oa'}
        From this library's cost model (calibrated on its own kernels); with
        ``measure=True``, 'direct' or 'fft'.
    times : dict
        Only with ``measure=True``: median seconds of 'direct' and 'fft'.

    Raises
    ------
    ValueError
        Unknown ``mode`` (scipy's message), different ndim.
    TypeError
        Non-numeric input.

    See Also
    --------
    scipy.signal.choose_conv_method

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import choose_conv_method
    >>> choose_conv_method(np.ones(100), np.ones(3))
    'direct'
    """
    in1 = v.as_numeric(in1, "in1")
    in2 = v.as_numeric(in2, "in2")
    if measure:
        times = {}
        for method in ("fft", "direct"):  # scipy's order (a bad mode: its message)
            runs = []
            for _ in range(3):
                t0 = time.perf_counter()
                convolve(in1, in2, mode, method)
                runs.append(time.perf_counter() - t0)
            times[method] = float(np.median(runs))
        # a tie goes to 'direct', as in scipy
        return ("fft" if times["fft"] < times["direct"] else "direct"), times
    if in1.ndim == 0 and in2.ndim == 0:
        return "direct"
    v.check_same_ndim(in1, in2, "volume and kernel should have the same dimensionality")
    if in1.size == 0 or in2.size == 0:
        return "direct"
    p = _prepare(in1, in2, mode, None, "fill", 0, None,
                 ndim_message="volume and kernel should have the same dimensionality")
    return _choose(p)
