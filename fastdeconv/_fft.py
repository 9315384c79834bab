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

from ._backends import get_num_threads
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
        index = [slice(None)] * y.ndim
        index[axes[-1]] = slice(s, s + length)
        y = y[tuple(index)]
    return np.ascontiguousarray(y)


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
    if spec.shape == np.broadcast_shapes(spec.shape, kspec.shape):
        spec *= kspec
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
    if spec.shape == np.broadcast_shapes(spec.shape, kspec.shape):
        spec *= kspec
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
