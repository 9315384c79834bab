"""FFT and block-FFT (overlap) convolution over ``scipy.fft``.

Same canonical layout and windows as ``_direct.py``: batch axes first, convolution axes
last, a window ``(start, length)`` per convolution axis in full-convolution coordinates.
Real inputs use real transforms; float32 stays float32 (scipy.fft keeps single
precision); every transform gets ``workers=get_num_threads()``.

Why the transforms are written axis by axis: the kernel is small and zero-padded, so
transforming the last axis first touches only its own rows, and the inverse transform
of the last axis only runs over the rows the window keeps.
"""
import importlib.util
import math
import os

import numpy as np
from ._lazy import sfft

from . import kernels as _kernel_pkg  # the thresholds only; imports no backend
from . import _memory
from ._backends import get_num_threads, kernels, resolve_backend
from ._direct import pad_for_window


def _workers():
    return get_num_threads()


_ENGINES = ("ducc0", "scipy")
_engine = None


def fft_engine():
    """The FFT library in use: ``'ducc0'`` when installed (it measured ~1.5x faster than
    scipy.fft here, its inverse real transform most), else ``'scipy'``.

    ``FASTDECONV_FFT=scipy`` in the environment, or :func:`set_fft_engine`, chooses.
    """
    global _engine
    if _engine is None:
        wanted = os.environ.get("FASTDECONV_FFT", "").strip().lower()
        if wanted and wanted not in _ENGINES:
            raise ValueError(f"FASTDECONV_FFT must be one of {_ENGINES}, got {wanted!r}")
        if wanted != "scipy" and importlib.util.find_spec("ducc0") is not None:
            _engine = "ducc0"
        else:
            _engine = "scipy"
    return _engine


def set_fft_engine(name):
    """Use ``'scipy'`` or ``'ducc0'`` (must be installed) for every FFT from now on."""
    global _engine
    if name not in _ENGINES:
        raise ValueError(f"name must be one of {_ENGINES}, got {name!r}")
    if name == "ducc0" and importlib.util.find_spec("ducc0") is None:
        raise ValueError("the 'ducc0' FFT engine is not installed (pip install ducc0)")
    _engine = name


def _pad_axis(a, n, axis):
    """``a`` zero-padded (or cut, like scipy.fft's ``n=``) to length ``n`` along ``axis``.

    Cutting is exact here: taps at index >= n only reach full-convolution indices
    >= n, which lie beyond every window (fft_lengths makes n >= start + length).
    """
    m = a.shape[axis]
    if m == n:
        return a
    if m > n:
        index = [slice(None)] * a.ndim
        index[axis] = slice(0, n)
        return a[tuple(index)]
    shape = list(a.shape)
    shape[axis] = n
    out = np.zeros(shape, dtype=a.dtype)
    out[tuple(slice(0, m) for m in a.shape)] = a
    return out


def forward(a, fshape, axes, real):
    """N-D forward transform of ``a`` zero-padded to ``fshape`` over ``axes`` (last first)."""
    w = _workers()
    if fft_engine() == "ducc0":
        import ducc0
        if real and _trailing(a, axes) and a.dtype in _REAL_DTYPES:
            return _forward_real_trailing(a, fshape, axes, w)
        a = _pad_axis(a, fshape[-1], axes[-1])
        if real:
            out = ducc0.fft.r2c(a, axes=[axes[-1]], nthreads=w)
        else:
            out = ducc0.fft.c2c(a.astype(np.result_type(a.dtype, np.complex64), copy=False),
                                axes=[axes[-1]], nthreads=w)
        rest = list(axes[:-1])
        if rest:
            for ax, f in zip(rest, fshape[:-1]):
                out = _pad_axis(out, f, ax)
            out = ducc0.fft.c2c(out, axes=rest, nthreads=w, out=out)
        return out
    if real:
        out = sfft.rfft(a, n=fshape[-1], axis=axes[-1], workers=w)
    else:
        out = sfft.fft(a, n=fshape[-1], axis=axes[-1], workers=w)
    for ax, f in zip(axes[-2::-1], fshape[-2::-1]):
        out = sfft.fft(out, n=f, axis=ax, workers=w, overwrite_x=True)
    return out


_REAL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _trailing(a, axes):
    """Whether ``axes`` are ``a``'s last axes in order and ``a`` is C-contiguous."""
    nd = a.ndim
    return (type(a) is np.ndarray and a.flags.c_contiguous and a.dtype.isnative
            and list(axes) == list(range(nd - len(axes), nd)))


def _as_rows(a):
    """``a`` as a 2-D ``(rows, last axis)`` view, or None if that needs a copy."""
    if a.ndim == 0:
        return None
    view = a.view()
    try:
        view.shape = (-1, a.shape[-1]) if a.shape[-1] else (0, 0)
    except AttributeError:  # not expressible as a view
        return None
    return view


def _zero(a):
    rows = _as_rows(a)
    if rows is None:
        a[...] = 0
    else:
        _memory.copy_pad(None, rows)


def _forward_real_trailing(a, fshape, axes, w):
    """ducc0 real forward transform over ``a``'s trailing ``axes`` with the padding done
    by the threaded copy kernels instead of numpy's one-core ``np.zeros`` + copy per
    axis: the rows are padded into a real buffer, ``r2c`` writes straight into the
    data corner of the full-size spectrum, only the rest of the spectrum is zeroed, and
    the other axes are transformed in place."""
    import ducc0
    n_last, f_last = a.shape[-1], fshape[-1]
    lead = a.shape[:-1]
    if n_last == f_last:
        rows = a
    elif n_last > f_last:  # cut (see _pad_axis)
        rows = a[..., :f_last]
    else:
        rows = np.empty(lead + (f_last,), a.dtype)
        _memory.copy_pad(a.reshape(-1, n_last), rows.reshape(-1, f_last))
    nb = a.ndim - len(axes)
    shape = list(lead) + [f_last // 2 + 1]
    for ax, f in zip(axes[:-1], fshape[:-1]):
        shape[ax] = f
    spec = np.empty(shape, np.result_type(a.dtype, np.complex64))
    keep = [min(n, f) for n, f in zip(lead[nb:], fshape[:-1])]
    corner = spec[(Ellipsis,) + tuple(slice(0, k) for k in keep) + (slice(None),)]
    if rows.shape[nb:-1] != tuple(keep):  # cut along a leading axis
        rows = rows[(Ellipsis,) + tuple(slice(0, k) for k in keep) + (slice(None),)]
    ducc0.fft.r2c(rows, axes=[a.ndim - 1], out=corner, nthreads=w)
    # zero what lies beyond the data along each transformed leading axis, axis by axis
    for i, ax in enumerate(axes[:-1]):
        if keep[i] < fshape[i]:
            _zero(spec[(slice(None),) * nb + tuple(slice(0, k) for k in keep[:i])
                       + (slice(keep[i], None),)])
    if len(axes) > 1:
        spec = ducc0.fft.c2c(spec, axes=list(axes[:-1]), nthreads=w, out=spec)
    return spec


def inverse_window(spec, fshape, axes, windows, real):
    """Inverse transform of ``spec`` keeping only ``windows`` (start, length) per axis."""
    w = _workers()
    if fft_engine() == "ducc0":
        import ducc0
        if len(axes) > 1:
            # normalised over these axes here, over the last axis below
            spec = ducc0.fft.c2c(spec, axes=list(axes[:-1]), forward=False, inorm=2,
                                 nthreads=w, out=spec if spec.flags.writeable else None)
            index = [slice(None)] * spec.ndim
            for ax, (s, length) in zip(axes[:-1], windows[:-1]):
                index[ax] = slice(s, s + length)
            spec = spec[tuple(index)]
        if real:
            y = ducc0.fft.c2r(spec, axes=[axes[-1]], lastsize=fshape[-1], forward=False,
                              inorm=2, nthreads=w, allow_overwriting_input=True)
        else:
            y = ducc0.fft.c2c(spec, axes=[axes[-1]], forward=False, inorm=2, nthreads=w)
    else:
        for ax, f, (s, length) in zip(axes[:-1], fshape[:-1], windows[:-1]):
            spec = sfft.ifft(spec, n=f, axis=ax, workers=w, overwrite_x=True)
            if (s, length) != (0, f):
                index = [slice(None)] * spec.ndim
                index[ax] = slice(s, s + length)
                spec = spec[tuple(index)]
        if real:
            y = sfft.irfft(spec, n=fshape[-1], axis=axes[-1], workers=w)
        else:
            y = sfft.ifft(spec, n=fshape[-1], axis=axes[-1], workers=w)
    s, length = windows[-1]
    if (s, length) != (0, fshape[-1]):
        rows = _as_rows(y) if axes[-1] == y.ndim - 1 else None
        if rows is not None:
            # the crop as one threaded copy (numpy's runs on one core)
            out = np.empty(y.shape[:-1] + (length,), y.dtype)
            _memory.copy_pad(rows[:, s:s + length], out.reshape(-1, length))
            return out
        index = [slice(None)] * y.ndim
        index[axes[-1]] = slice(s, s + length)
        y = y[tuple(index)]
    return np.ascontiguousarray(y)


_SPECTRUM_DTYPES = (np.dtype(np.complex64), np.dtype(np.complex128))


def multiply_spectra(spec, kspec):
    """``spec *= kspec`` in place; returns ``spec``.

    By the backend's parallel kernel ``spectrum_multiply`` where that beats numpy's
    ``*=`` (one thread, as fast as the serial kernels or faster): from
    ``fastdeconv.kernels.PARALLEL_MIN_ELEMENTS_LIGHT`` elements, with more than one
    thread, and when the layout allows it: ``spec`` a writeable C-contiguous
    complex64/complex128 array, ``kspec`` C-contiguous of the same dtype, not
    overlapping it, whose shape after dropping its leading 1-axes ends ``spec``'s shape
    (it broadcasts over ``spec``'s leading axes only).  Otherwise (small spectra, one
    thread, the ``'python'`` backend, other memory orders, which ducc0 and scipy may
    return, or other broadcasts), numpy's ``*=``.
    """
    if (type(spec) is np.ndarray and type(kspec) is np.ndarray
            and spec.size >= _kernel_pkg.PARALLEL_MIN_ELEMENTS_LIGHT
            and get_num_threads() > 1
            and spec.dtype in _SPECTRUM_DTYPES and kspec.dtype == spec.dtype
            and spec.dtype.isnative and spec.flags.c_contiguous and spec.flags.writeable
            and kspec.flags.c_contiguous and 0 < kspec.ndim <= spec.ndim):
        kshape = kspec.shape
        lead = 0
        while lead < len(kshape) - 1 and kshape[lead] == 1:
            lead += 1
        kshape = kshape[lead:]
        if (spec.shape[spec.ndim - len(kshape):] == kshape
                and not np.may_share_memory(spec, kspec)):
            backend = resolve_backend(None)
            if backend != "python":  # the reference loop would be slow
                kernels(backend).spectrum_multiply(spec.reshape(-1), kspec.reshape(-1))
                return spec
    np.multiply(spec, kspec, out=spec)
    return spec


def broadcast_shape(*shapes):
    """``np.broadcast_shapes(*shapes)`` for any number of dimensions (numpy's stops at
    32 although arrays go to 64)."""
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(ndim):
        sizes = {s[i - ndim + len(s)] for s in shapes if i - ndim + len(s) >= 0} - {1}
        if len(sizes) > 1:
            raise ValueError(f"shapes {shapes} do not broadcast")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def fft_lengths(xshape, kshape, windows, real):
    """Smallest fast FFT sizes whose circular result equals the linear one on the window."""
    return [sfft.next_fast_len(max(n + kk - 1 - s, s + length), real)
            for n, kk, (s, length) in zip(xshape, kshape, windows)]


def _linear_window(x, k, windows, nb):
    nc = len(windows)
    axes = list(range(nb, nb + nc))
    real = x.dtype.kind != "c" and k.dtype.kind != "c"
    fshape = fft_lengths(x.shape[nb:], k.shape[nb:], windows, real)
    spec = forward(x, fshape, axes, real)
    kspec = forward(k, fshape, axes, real)
    if spec.shape == broadcast_shape(spec.shape, kspec.shape):
        multiply_spectra(spec, kspec)
    else:
        spec = spec * kspec
    return inverse_window(spec, fshape, axes, windows, real)


def _is_zero_fill(pad_mode, fillvalue):
    return pad_mode == "constant" and fillvalue == 0


def fft_convolve(x, k, windows, pad_mode, fillvalue, nb):
    """FFT convolution restricted to ``windows``; boundary modes by padding ``x``."""
    if _is_zero_fill(pad_mode, fillvalue):
        return _linear_window(x, k, windows, nb)
    xp = pad_for_window(x, k.shape, windows, pad_mode, fillvalue, nb)
    valid = [(kk - 1, length) for kk, (_, length) in zip(k.shape[nb:], windows)]
    return _linear_window(xp, k, valid, nb)


def _block_length(length, kk, real):
    """Segment FFT length for overlap-save along one axis (None: one segment is best)."""
    whole = sfft.next_fast_len(length + kk - 1, real)
    best, best_cost = None, whole * math.log2(max(whole, 2))
    for factor in (2, 3, 4, 6, 8, 12, 16, 32):
        seg = sfft.next_fast_len(max(factor * kk, 16), real)
        step = seg - kk + 1
        if seg >= whole or step < 1:
            continue
        cost = math.ceil(length / step) * seg * math.log2(seg) * 1.1  # 10% block overhead
        if cost < best_cost:
            best, best_cost = seg, cost
    return best


def oa_convolve(x, k, windows, pad_mode, fillvalue, nb):
    """Block (overlap-save) FFT convolution restricted to ``windows``.

    The input is cut into overlapping segments along every axis where that is cheaper
    than one whole transform; all segments are transformed in one batched call.
    """
    nc = len(windows)
    kshape = k.shape[nb:]
    real = x.dtype.kind != "c" and k.dtype.kind != "c"
    segs = [_block_length(length, kk, real) for kk, (_, length) in zip(kshape, windows)]
    if all(s is None for s in segs):
        return fft_convolve(x, k, windows, pad_mode, fillvalue, nb)
    xp = pad_for_window(x, k.shape, windows, pad_mode, fillvalue, nb)
    lengths = [length for _, length in windows]
    seg, step, nblk = [], [], []
    for kk, length, s in zip(kshape, lengths, segs):
        s = s if s is not None else sfft.next_fast_len(length + kk - 1, real)
        seg.append(s)
        step.append(s - kk + 1)
        nblk.append(math.ceil(length / (s - kk + 1)))
    ext = [n * b + kk - 1 for n, b, kk in zip(nblk, step, kshape)]
    grow = [(0, 0)] * nb + [(0, e - p) for e, p in zip(ext, xp.shape[nb:])]
    if any(g != (0, 0) for g in grow):
        xp = np.pad(xp, grow)
    bshape = xp.shape[:nb]
    st = xp.strides
    shape = list(bshape) + nblk + seg
    strides = list(st[:nb]) + [b * s for b, s in zip(step, st[nb:])] + list(st[nb:])
    segments = np.lib.stride_tricks.as_strided(xp, shape=shape, strides=strides,
                                               writeable=False)
    axes = list(range(nb + nc, nb + 2 * nc))
    spec = forward(segments, seg, axes, real)
    kspec = forward(k, seg, list(range(nb, nb + nc)), real)
    kspec = kspec.reshape(kspec.shape[:nb] + (1,) * nc + kspec.shape[nb:])
    if spec.shape == broadcast_shape(spec.shape, kspec.shape):
        multiply_spectra(spec, kspec)
    else:
        spec = spec * kspec
    keep = [(kk - 1, b) for kk, b in zip(kshape, step)]
    y = inverse_window(spec, seg, axes, keep, real)
    # (batch, n0, n1, ..., b0, b1, ...) -> (batch, n0, b0, n1, b1, ...) -> crop
    order = list(range(nb)) + [v for i in range(nc) for v in (nb + i, nb + nc + i)]
    y = y.transpose(order).reshape(tuple(y.shape[:nb]) +
                                   tuple(n * b for n, b in zip(nblk, step)))
    y = y[(Ellipsis,) + tuple(slice(0, length) for length in lengths)]
    return np.ascontiguousarray(y)


# --------------------------------------------------------------------------- N-D API
# scipy.fft's rfftn/irfftn/fftn/ifftn and rfft/irfft/fft/ifft (same arguments, same
# results up to round-off, same dtypes: float32/complex64 stay single precision), run
# by the engine in use.  ``workers`` defaults to get_num_threads().  With ducc0, inputs
# are cut or zero-padded to ``s``/``n`` first, as scipy.fft does; the rare cases (0-d or
# empty arrays, no axes, long double, invalid arguments) are left to scipy.fft, which
# gives its own results and errors for them.

_NORM_INORM = {None: (0, 2), "backward": (0, 2), "ortho": (1, 1), "forward": (2, 0)}


def _scipy_workers(workers):
    return get_num_threads() if workers is None else workers


def _int_list(value):
    import operator
    try:
        return [operator.index(value)]
    except TypeError:
        return [operator.index(v) for v in value]


def _ducc0_args(a, s, axes, norm, workers, kind, one_d):
    """``(x, dtype, s, axes, inorm, nthreads)`` for ducc0, or None: scipy.fft's turn.

    ``kind``: 'rfft', 'irfft', 'fft' or 'ifft'; ``dtype`` is the one the input is
    converted to; for 'irfft' the last entry of ``s`` is the output length.
    """
    if not (norm is None or isinstance(norm, str)) or norm not in _NORM_INORM:
        return None
    if workers is None:
        nthreads = get_num_threads()
    else:
        try:
            nthreads = _int_list(workers)
        except (TypeError, ValueError):
            return None
        if len(nthreads) != 1:
            return None
        nthreads = nthreads[0]
        if nthreads < 0:  # scipy.fft: -1 is every CPU, -2 all but one...
            nthreads += (os.cpu_count() or 1) + 1
        if nthreads <= 0:
            return None
    x = np.asarray(a)
    dt = x.dtype
    if dt.kind in "biu":
        real, single = True, False
    elif dt.kind == "f" and dt.itemsize <= 8:
        real, single = True, dt.itemsize <= 4
    elif dt.kind == "c" and dt.itemsize <= 16:
        real, single = False, dt.itemsize <= 8
    else:
        return None
    if (kind == "rfft" and not real) or x.ndim == 0 or x.size == 0:
        return None
    nd = x.ndim
    try:
        s = None if s is None else _int_list(s)
        if axes is None:
            axes = list(range(nd)) if s is None else list(range(nd - len(s), nd))
        else:
            axes = _int_list(axes)
    except (TypeError, ValueError):
        return None
    if not axes or any(not -nd <= ax < nd for ax in axes):
        return None
    axes = [ax % nd for ax in axes]
    if len(set(axes)) != len(axes):
        return None
    if s is None:
        s = [x.shape[ax] for ax in axes]
        if kind == "irfft":
            s[-1] = 2 * (s[-1] - 1)
    else:
        if len(s) != len(axes):
            return None
        if not one_d:  # fftn & co.: -1 is the input's size
            s = [x.shape[ax] if n == -1 else n for n, ax in zip(s, axes)]
    if any(n < 1 for n in s):
        return None
    if kind == "rfft" or (kind in ("fft", "ifft") and real):
        dtype = np.dtype(np.float32 if single else np.float64)
    else:
        dtype = np.dtype(np.complex64 if single else np.complex128)
    inorm = _NORM_INORM[norm][0 if kind in ("rfft", "fft") else 1]
    return x, dtype, s, axes, inorm, nthreads


def _resized(x, shape, dtype):
    """``x`` cut and zero-padded at the end of each axis (as scipy.fft does for
    ``s``/``n``) to ``shape``, as ``dtype``; ``x`` itself or a view when it can."""
    shape = tuple(shape)
    if x.shape != shape:
        x = x[tuple(slice(0, n) for n in shape)]
    if x.shape == shape:
        return x.astype(dtype, copy=False)
    out = np.zeros(shape, dtype)
    out[tuple(slice(0, n) for n in x.shape)] = x
    return out


def _ducc0_transform(kind, a, s, axes, norm, overwrite_x, workers, one_d=False):
    args = _ducc0_args(a, s, axes, norm, workers, kind, one_d)
    if args is None:
        return None
    import ducc0
    x, dtype, s, axes, inorm, nthreads = args
    full = list(x.shape)
    for ax, n in zip(axes, s):
        full[ax] = n
    if kind == "irfft":
        full[axes[-1]] = s[-1] // 2 + 1
        y = _resized(x, full, dtype)
        scratch = y.flags.writeable and (overwrite_x or not np.may_share_memory(y, x))
        return ducc0.fft.c2r(y, axes=axes, lastsize=s[-1], forward=False, inorm=inorm,
                             nthreads=nthreads, allow_overwriting_input=scratch)
    forward_sign = kind in ("rfft", "fft")
    # Cut every axis, but pad only the last one before transforming it: the other axes
    # are padded afterwards, so the all-zero rows they add are never transformed.
    part = list(full)
    for ax in axes[:-1]:
        part[ax] = min(part[ax], x.shape[ax])
    y = _resized(x, part, dtype)
    one_call = part == full
    first_axes = axes if one_call else axes[-1:]
    if kind == "rfft":
        y = ducc0.fft.r2c(y, axes=first_axes, inorm=inorm, nthreads=nthreads)
    else:
        in_place = (y.dtype.kind == "c" and y.flags.writeable
                    and (overwrite_x or not np.may_share_memory(y, x)))
        y = ducc0.fft.c2c(y, axes=first_axes, forward=forward_sign, inorm=inorm,
                          out=y if in_place else None, nthreads=nthreads)
    if one_call:
        return y
    full[axes[-1]] = y.shape[axes[-1]]
    y = _resized(y, full, y.dtype)
    return ducc0.fft.c2c(y, axes=axes[:-1], forward=forward_sign, inorm=inorm, out=y,
                         nthreads=nthreads)


def rfftn(a, s=None, axes=None, norm=None, overwrite_x=False, *, workers=None):
    """``scipy.fft.rfftn`` by the FFT engine in use (``workers``: get_num_threads())."""
    if fft_engine() == "ducc0":
        out = _ducc0_transform("rfft", a, s, axes, norm, overwrite_x, workers)
        if out is not None:
            return out
    return sfft.rfftn(a, s=s, axes=axes, norm=norm, overwrite_x=overwrite_x,
                      workers=_scipy_workers(workers))


def irfftn(a, s=None, axes=None, norm=None, overwrite_x=False, *, workers=None):
    """``scipy.fft.irfftn`` by the FFT engine in use (``workers``: get_num_threads())."""
    if fft_engine() == "ducc0":
        out = _ducc0_transform("irfft", a, s, axes, norm, overwrite_x, workers)
        if out is not None:
            return out
    return sfft.irfftn(a, s=s, axes=axes, norm=norm, overwrite_x=overwrite_x,
                       workers=_scipy_workers(workers))


def fftn(a, s=None, axes=None, norm=None, overwrite_x=False, *, workers=None):
    """``scipy.fft.fftn`` by the FFT engine in use (``workers``: get_num_threads())."""
    if fft_engine() == "ducc0":
        out = _ducc0_transform("fft", a, s, axes, norm, overwrite_x, workers)
        if out is not None:
            return out
    return sfft.fftn(a, s=s, axes=axes, norm=norm, overwrite_x=overwrite_x,
                     workers=_scipy_workers(workers))


def ifftn(a, s=None, axes=None, norm=None, overwrite_x=False, *, workers=None):
    """``scipy.fft.ifftn`` by the FFT engine in use (``workers``: get_num_threads())."""
    if fft_engine() == "ducc0":
        out = _ducc0_transform("ifft", a, s, axes, norm, overwrite_x, workers)
        if out is not None:
            return out
    return sfft.ifftn(a, s=s, axes=axes, norm=norm, overwrite_x=overwrite_x,
                      workers=_scipy_workers(workers))


def _one_d(n, axis):
    return (None if n is None else (n,)), (axis,)


def rfft(a, n=None, axis=-1, norm=None, overwrite_x=False, *, workers=None):
    """``scipy.fft.rfft`` by the FFT engine in use (``workers``: get_num_threads())."""
    if fft_engine() == "ducc0":
        out = _ducc0_transform("rfft", a, *_one_d(n, axis), norm, overwrite_x, workers,
                               one_d=True)
        if out is not None:
            return out
    return sfft.rfft(a, n=n, axis=axis, norm=norm, overwrite_x=overwrite_x,
                     workers=_scipy_workers(workers))


def irfft(a, n=None, axis=-1, norm=None, overwrite_x=False, *, workers=None):
    """``scipy.fft.irfft`` by the FFT engine in use (``workers``: get_num_threads())."""
    if fft_engine() == "ducc0":
        out = _ducc0_transform("irfft", a, *_one_d(n, axis), norm, overwrite_x, workers,
                               one_d=True)
        if out is not None:
            return out
    return sfft.irfft(a, n=n, axis=axis, norm=norm, overwrite_x=overwrite_x,
                      workers=_scipy_workers(workers))


def fft(a, n=None, axis=-1, norm=None, overwrite_x=False, *, workers=None):
    """``scipy.fft.fft`` by the FFT engine in use (``workers``: get_num_threads())."""
    if fft_engine() == "ducc0":
        out = _ducc0_transform("fft", a, *_one_d(n, axis), norm, overwrite_x, workers,
                               one_d=True)
        if out is not None:
            return out
    return sfft.fft(a, n=n, axis=axis, norm=norm, overwrite_x=overwrite_x,
                    workers=_scipy_workers(workers))


def ifft(a, n=None, axis=-1, norm=None, overwrite_x=False, *, workers=None):
    """``scipy.fft.ifft`` by the FFT engine in use (``workers``: get_num_threads())."""
    if fft_engine() == "ducc0":
        out = _ducc0_transform("ifft", a, *_one_d(n, axis), norm, overwrite_x, workers,
                               one_d=True)
        if out is not None:
            return out
    return sfft.ifft(a, n=n, axis=axis, norm=norm, overwrite_x=overwrite_x,
                     workers=_scipy_workers(workers))
