"""Fourier-domain restoration: inverse filter, Wiener–Hunt, unsupervised Wiener, Tikhonov.

Each method is a pointwise filter in the Fourier domain of a circulant blur model: one
forward real FFT of the image, one transfer function (OTF) of the PSF, one filter, one
inverse FFT.  How the work is kept small (float32 data stays float32/complex64):

- real-to-complex transforms by the FFT engine of ``_fft`` (ducc0 or scipy.fft) with
  ``workers=get_num_threads()``; the inverse is done axis by axis in place (faster
  than scipy's ``irfftn``, which copies);
- the OTF is built on the PSF's support: the PSF is embedded (centred at the origin)
  and transformed one axis at a time, each axis widened only just before its own
  transform; a PSF that is an outer product of 1-D profiles (Gaussian, box...: checked
  to rounding accuracy) needs only 1-D transforms and is never materialised;
- the Laplacian regulariser has the closed-form transfer function
  ``sum_d 2 - 2 cos(2 pi k_d / n_d)``, built from 1-D tables;
- the filter ``conj(H) / (|H|^2 + penalty)`` is formed and applied block by block
  along the first axis (blocks of ~64k values stay in cache), in place in the
  spectrum: no spectrum-sized temporaries besides the spectrum itself and the OTF.
"""
import math
import numbers

import numpy as np
from .._lazy import sfft

from .. import _fft
from .. import _validation as v
from .._backends import get_num_threads
from ._model import check_psf_nonzero

__all__ = ["inverse_filter", "wiener", "unsupervised_wiener", "tikhonov"]

_BLOCK = 1 << 16  # spectrum values per block of the elementwise filter stage


# --------------------------------------------------------------------------- validation

def _image_float_type(dtype):
    """skimage's ``_supported_float_type``: float16/float32 -> float32, else float64."""
    return np.dtype(np.float32) if dtype.kind == "f" and dtype.itemsize <= 4 \
        else np.dtype(np.float64)


def _check_image_psf(image, psf, psf_name="psf"):
    """``(image, psf, dtype)``, both C-contiguous in the *image's* float type.

    skimage's rule: a float32 image with a float64 PSF computes in float32 (the PSF is
    rounded to float32); integer images compute in float64.
    """
    image = v.as_numeric(image, "image")
    if image.dtype.kind == "c":
        raise TypeError(f"image must be real (bool, integer or floating), got dtype"
                        f" {image.dtype}")
    psf = v.as_numeric(psf, psf_name)
    dtype = _image_float_type(image.dtype)
    if dtype == np.float32 and psf.dtype.kind in "biuf" and psf.dtype != np.float32:
        if psf.dtype.kind == "f":
            v.check_finite(psf, psf_name)  # before rounding: overflow is not "Inf in psf"
        psf = psf.astype(np.float32)
    image, psf, dtype = v.check_image_psf(image, psf, psf_name=psf_name)
    # an all-zero PSF gave all-NaN (wiener) or all-zero (tikhonov) results; refused
    # with the words of every other restoration method
    check_psf_nonzero(psf, psf_name)
    return image, psf, dtype


def _nonneg(value, name, *, shape=None):
    """A finite, non-negative real scalar (Python float) or, when ``shape`` is given,
    also an array broadcastable to ``shape`` (float64 array)."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number, got bool")
    try:
        arr = np.asarray(value)
    except Exception:  # ragged sequences and the like
        arr = np.asarray(None)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number"
                        f"{' or array' if shape is not None else ''}, got {value!r}")
    if arr.ndim and shape is None:
        raise TypeError(f"{name} must be a scalar, got an array of shape {arr.shape}")
    shown = repr(value) if arr.ndim == 0 else "an array with "
    if not np.isfinite(arr).all():
        raise ValueError(f"{name} must be finite, got {shown}"
                         f"{'NaN or Inf' if arr.ndim else ''}")
    if (arr < 0).any():
        raise ValueError(f"{name} must be non-negative, got {shown}"
                         f"{'negative values' if arr.ndim else ''}")
    if arr.ndim == 0:
        return float(arr)
    try:
        ok = np.broadcast_shapes(arr.shape, shape) == tuple(shape)
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{name} must be a scalar or an array broadcastable to the"
                         f" spectrum shape {tuple(shape)}, got shape {arr.shape}")
    return arr.astype(np.float64, copy=False)


_PAD_MODES = {"wrap": None, "symmetric": "symmetric", "reflect": "reflect", "edge": "edge"}


def _check_fourier_boundary(boundary):
    """numpy.pad mode to extend the image with, or None for 'periodic'."""
    try:
        mode = v.check_boundary(boundary)
    except ValueError:
        mode = None
    if mode not in _PAD_MODES:
        raise ValueError("boundary must be 'periodic' (aliases 'wrap', 'circular'), 'symm'"
                         " ('symmetric'), 'reflect' ('mirror') or 'nearest' ('edge'),"
                         f" got {boundary!r}")
    return _PAD_MODES[mode]


def _check_fits(psf, shape, axes, psf_name="psf"):
    for a in range(len(shape)):
        if a in axes:
            if psf.shape[a] > shape[a]:
                raise ValueError(f"{psf_name} is larger than image along axis {a}"
                                 f" ({psf.shape[a]} > {shape[a]})")
        elif psf.shape[a] not in (1, shape[a]):
            raise ValueError(f"{psf_name} must have size 1 or {shape[a]} along batch axis"
                             f" {a} (an axis not in axes), got {psf.shape[a]}")


def _check_reg_ir(reg, ndim, dtype):
    reg = v.as_numeric(reg, "reg")
    if reg.dtype.kind == "c":
        raise TypeError("reg must be real here (an impulse response), got complex")
    if reg.ndim != ndim:
        raise ValueError(f"reg must have the same number of dimensions as image ({ndim}),"
                         f" got {reg.ndim}")
    if reg.size == 0:
        raise ValueError("reg must not be empty")
    reg = v.kernel_array(reg, dtype)
    v.check_finite(reg, "reg")
    return reg


# --------------------------------------------------------------------------- transforms

def _spectrum_shape(shape, axes, real):
    out = list(shape)
    if real:
        out[axes[-1]] = shape[axes[-1]] // 2 + 1
    return tuple(out)


def _forward(x, axes, real, workers, norm=None):
    if real:
        return _fft.rfftn(x, axes=axes, workers=workers, norm=norm)
    return _fft.fftn(x, axes=axes, workers=workers, norm=norm)


def _inverse(spec, shape, axes, real, workers, norm=None):
    """Inverse transform over ``axes``, consuming ``spec``; real result.

    Done in place axis by axis (complex inverses first, the complex-to-real one last):
    ``irfftn`` copies the spectrum and is markedly slower on large arrays.
    """
    if real:
        if len(axes) > 1:
            spec = _fft.ifftn(spec, axes=axes[:-1], workers=workers, overwrite_x=True,
                              norm=norm)
        return _fft.irfft(spec, n=shape[axes[-1]], axis=axes[-1], workers=workers,
                          overwrite_x=True, norm=norm)
    out = _fft.ifftn(spec, axes=axes, workers=workers, overwrite_x=True, norm=norm)
    return np.ascontiguousarray(out.real)


def _embed_centred(x, axis, n):
    """``x`` zero-padded to length ``n`` along ``axis`` and rolled so that index
    ``x.shape[axis] // 2`` lands at 0 (two block copies instead of ``np.roll``)."""
    m = x.shape[axis]
    c = m // 2
    shape = list(x.shape)
    shape[axis] = n
    out = np.zeros(shape, dtype=x.dtype)
    dst = [slice(None)] * x.ndim
    src = [slice(None)] * x.ndim
    dst[axis], src[axis] = slice(0, m - c), slice(c, m)
    out[tuple(dst)] = x[tuple(src)]
    if c:
        dst[axis], src[axis] = slice(n - c, n), slice(0, c)
        out[tuple(dst)] = x[tuple(src)]
    return out


def _otf(psf, shape, axes, real, workers):
    """Transfer function of a centred ``psf`` on the grid ``shape``, over ``axes``.

    Equals ``rfftn`` (``fftn`` if not ``real``) of ``psf`` zero-padded to ``shape`` and
    circularly shifted so that index ``psf.shape // 2`` is at the origin: the psf2otf
    convention, and skimage's ``uft.ir2tf``.  Batch axes keep the PSF's size.  The last
    of ``axes`` is transformed first while the array is PSF-sized along the others.
    """
    out = psf
    for i, a in enumerate(reversed(axes)):
        out = _embed_centred(out, a, shape[a])
        if i == 0 and real:
            out = _fft.rfft(out, axis=a, workers=workers)
        else:
            out = _fft.fft(out, axis=a, workers=workers, overwrite_x=True)
    return out


def _rank1_profiles(psf):
    """1-D profiles whose outer product is ``psf`` to rounding accuracy, else None.

    For a rank-1 array the fibres through its largest element are its factors (up to
    scale), so the test costs two passes over the PSF.  Accepted when the L1 residual
    is at most ``16 eps ||psf||_1``, which bounds the change of every OTF value by
    16 eps times ``max |H|`` for a non-negative PSF.
    """
    p = psf.astype(np.float64)
    if p.ndim < 2 or p.size < 4:
        return None
    peak = np.unravel_index(np.argmax(np.abs(p)), p.shape)
    scale = p[peak]
    if scale == 0:
        return None
    profiles = []
    for a in range(p.ndim):
        idx = list(peak)
        idx[a] = slice(None)
        profiles.append(p[tuple(idx)].copy())
    profiles[0] = profiles[0] / scale ** (p.ndim - 1)
    approx = profiles[0]
    for f in profiles[1:]:
        approx = np.multiply.outer(approx, f)
    l1 = np.abs(p).sum()
    if np.abs(p - approx).sum() > 16 * np.finfo(psf.dtype).eps * l1:
        return None
    return [f.astype(psf.dtype) for f in profiles]


class _Separable:
    """An OTF ``H = prod_a f_a`` given by per-axis 1-D transfer functions ``f_a``,
    each shaped to broadcast along its axis."""

    def __init__(self, factors):
        self.factors = factors

    def dense(self):
        out = self.factors[0]
        for f in self.factors[1:]:
            out = out * f
        return out


def _psf_transfer(psf, shape, axes, real, workers):
    """The OTF, as a dense array or, for a rank-1 PSF over all axes, a ``_Separable``."""
    profiles = _rank1_profiles(psf) if len(axes) == psf.ndim else None
    if profiles is None:
        return _otf(psf, shape, axes, real, workers)
    nd = psf.ndim
    factors = []
    for a, prof in enumerate(profiles):
        f = _otf(prof, (shape[a],), (0,), real and a == nd - 1, workers)
        bshape = [1] * nd
        bshape[a] = f.size
        factors.append(f.reshape(bshape))
    return _Separable(factors)


def _laplacian_tables(shape, axes, real, dtype, weight=1.0):
    """1-D tables ``sqrt(weight) * (2 - 2 cos(2 pi k / n))`` shaped to broadcast: their
    sum is ``sqrt(weight)`` times the transfer function of the discrete Laplacian
    (``2 ndim`` at the centre, ``-1`` at the ``2 ndim`` nearest neighbours), which is
    skimage's ``uft.laplacian``; squared, ``weight * |R|^2``."""
    tables = []
    nd = len(shape)
    root = math.sqrt(weight)
    for a in axes:
        n = shape[a]
        k = np.arange(n // 2 + 1 if (real and a == axes[-1]) else n)
        t = (root * (2.0 - 2.0 * np.cos(2.0 * np.pi * k / n))).astype(dtype)
        bshape = [1] * nd
        bshape[a] = t.size
        tables.append(t.reshape(bshape))
    return tables


class _LaplacianPenalty:
    """``(sum of tables)^2``, evaluated block by block."""

    def __init__(self, tables):
        self.tables = tables

    def dense(self, shape, dtype):
        out = np.zeros(shape, dtype)
        for t in self.tables:
            out += t
        return np.square(out, out=out)


def _reg_penalty(reg, shape, axes, real, dtype, workers, weight, *, real_part):
    """``weight * |R|^2`` for the regulariser ``reg`` (None: the Laplacian), as a
    ``_LaplacianPenalty`` or a dense array.

    A complex ``reg`` is a transfer function and must have the spectrum shape.
    ``real_part``: square ``Re(R)`` instead of ``|R|``, as skimage's ``wiener`` and
    ``unsupervised_wiener`` do.
    """
    if reg is None:
        return _LaplacianPenalty(_laplacian_tables(shape, axes, real, dtype, weight))
    spec = _spectrum_shape(shape, axes, real)
    if np.iscomplexobj(reg):
        reg = np.asarray(reg)
        if reg.shape != spec:
            raise ValueError("a complex reg is a transfer function and must have the"
                             f" spectrum shape {spec} (is_real={real}), got {reg.shape}")
        v.check_finite(reg, "reg")
        tf = reg.real if real_part else reg
    else:
        reg = _check_reg_ir(reg, len(shape), dtype)
        _check_fits(reg, shape, axes, "reg")
        tf = _otf(reg, shape, axes, real, workers)
        if real_part:
            tf = tf.real
    if tf.dtype.kind == "c":
        out = np.abs(tf).astype(dtype, copy=False)
        np.square(out, out=out)
    else:
        out = np.square(tf, dtype=dtype)
    if weight != 1:
        out *= dtype.type(weight)
    return out


# --------------------------------------------------------------------------- filter

def _rows(a, sl):
    """Block ``sl`` of ``a`` along axis 0 when ``a`` varies along it, else ``a``."""
    if isinstance(a, np.ndarray) and a.ndim and a.shape[0] > 1:
        return a[sl]
    return a


def _apply_filter(y, h, penalty=None, *, threshold=None, pinv=False):
    """``y *= conj(H) / (|H|^2 + penalty)`` in place, block by block along axis 0.

    ``h``: dense OTF (complex or real) or ``_Separable``, broadcastable to ``y``;
    ``penalty``: None, a scalar, an array broadcastable to ``y`` or a
    ``_LaplacianPenalty``; ``threshold``: frequencies with ``|H|^2 < threshold`` give
    0 (scalar or broadcastable array); ``pinv``: a zero denominator gives 0 rather than
    Inf/NaN.  Returns ``y``.
    """
    fdt = y.real.dtype
    rows = y.shape[0]
    inner = math.prod(y.shape[1:])
    step = max(1, _BLOCK // max(inner, 1))
    bshape = (min(step, rows),) + y.shape[1:]
    d_buf = np.empty(bshape, fdt)
    t_buf = np.empty(bshape, fdt) if isinstance(penalty, _LaplacianPenalty) else None
    sep = isinstance(h, _Separable)
    if sep:
        conj_f = [np.conjugate(f) for f in h.factors]
        abs2_f = [np.square(np.abs(f)) for f in h.factors]
    real_h = not sep and h.dtype.kind != "c"
    g_buf = None if real_h else np.empty(bshape, y.dtype)
    for r0 in range(0, rows, step):
        sl = slice(r0, min(r0 + step, rows))
        yb = y[sl]
        n = yb.shape[0]
        d = d_buf[:n]
        # d = |H|^2 and g = conj(H)
        if sep:
            g = g_buf[:n]
            np.multiply(_rows(conj_f[0], sl), conj_f[1], out=g)
            np.multiply(_rows(abs2_f[0], sl), abs2_f[1], out=d)
            for cf, af in zip(conj_f[2:], abs2_f[2:]):
                g *= cf
                d *= af
        else:
            hb = _rows(h, sl)
            if real_h:
                g = hb
                np.square(hb, out=d)
            else:
                g = g_buf[:n]
                np.conjugate(hb, out=g)
                np.abs(hb, out=d)
                np.square(d, out=d)
        if threshold is not None:
            d[d < _rows(threshold, sl)] = 0
        # d += penalty
        if isinstance(penalty, _LaplacianPenalty):
            t = t_buf[:n]
            tabs = penalty.tables
            if len(tabs) == 1:
                np.copyto(t, _rows(tabs[0], sl))
            else:
                np.add(_rows(tabs[0], sl), _rows(tabs[1], sl), out=t)
                for tab in tabs[2:]:
                    t += _rows(tab, sl)
            np.square(t, out=t)
            d += t
        elif penalty is not None:
            d += _rows(penalty, sl)
        # d = 1 / d
        if pinv or threshold is not None:
            np.reciprocal(d, out=d, where=d != 0)
        else:
            np.reciprocal(d, out=d)
        if real_h:
            d *= g
            yb *= d
        else:
            g *= d
            yb *= g
    return y


# --------------------------------------------------------------------------- padding

def _pad(image, psf_shape, axes, mode):
    """Extend ``image`` by at least the PSF size on each side of each of ``axes``
    (``mode`` is numpy.pad's), to a fast FFT length; returns ``(padded, crop)``."""
    pads = [(0, 0)] * image.ndim
    crop = [slice(None)] * image.ndim
    for a in axes:
        n, p = image.shape[a], psf_shape[a]
        extra = sfft.next_fast_len(n + 2 * p, real=True) - n
        left = extra // 2
        pads[a] = (left, extra - left)
        crop[a] = slice(left, left + n)
    return np.pad(image, pads, mode=mode), tuple(crop)


def _circulant_solve(image, psf, axes, mode, penalty_fn, *, threshold_eps=None,
                     pad_shape=None):
    """Shared body of ``inverse_filter`` and ``tikhonov``: pad (if ``mode``), FFT,
    filter with ``penalty_fn(shape)``, inverse FFT, crop."""
    crop = None
    if mode is not None:
        image, crop = _pad(image, pad_shape or psf.shape, axes, mode)
    _check_fits(psf, image.shape, axes)
    workers = get_num_threads()
    shape = image.shape
    y = _fft.rfftn(image, axes=axes, workers=workers)
    h = _psf_transfer(psf, shape, axes, True, workers)
    threshold = None
    if threshold_eps is not None:
        if isinstance(h, _Separable):
            peak = math.prod(float(np.abs(f).max()) for f in h.factors)
            threshold = (threshold_eps * peak) ** 2
        else:
            peak = np.abs(h).max(axis=axes, keepdims=True)
            threshold = np.square(peak * y.real.dtype.type(threshold_eps))
    _apply_filter(y, h, penalty_fn(shape), threshold=threshold, pinv=True)
    out = _inverse(y, shape, axes, True, workers)
    if crop is not None:
        out = np.ascontiguousarray(out[crop])
    return out


# --------------------------------------------------------------------------- public

def inverse_filter(image, psf, eps=1e-3, *, boundary="periodic", axes=None):
    r"""Deconvolve by naive Fourier division, zeroing ill-conditioned frequencies.

    Parameters
    ----------
    image : ndarray
        Blurred data, any number of dimensions (1-D signals, 2-D images, 3-D volumes).
    psf : ndarray
        Point-spread function, same number of dimensions as ``image``, centred at index
        ``psf.shape // 2`` (an odd-sized PSF with its peak in the middle). Along
        ``axes`` it must not be larger than ``image``; along the other (batch) axes its
        size is 1 (one PSF for all) or ``image``'s (one PSF per slice).
    eps : float, optional
        Relative threshold, ``>= 0``: frequencies with ``abs(H) < eps * max(abs(H))``
        are set to zero in the result (``H`` is the OTF, ``max`` is per batch slice).
        Exact zeros of ``H`` always give 0.
    boundary : {'periodic', 'symm', 'reflect', 'nearest'}, optional
        What the image continues with beyond its edges. 'periodic' (aliases 'wrap',
        'circular') is the circulant model of the discrete Fourier transform.
        'symm' ('symmetric'), 'reflect' ('mirror') and 'nearest' ('edge') extend the
        image by at least the PSF size on each side with numpy.pad's mode of that name
        (up to a fast FFT length), deconvolve periodically and crop: this removes most
        of the ringing caused by the wrap-around jump of a non-periodic image.
    axes : int or sequence of int, optional
        Axes to deconvolve along (default: all); the others are batch axes.

    Returns
    -------
    ndarray
        The deconvolved data, ``image``'s shape: float32 for float16/float32 images,
        float64 otherwise (the image's float type, whatever the PSF's).

    Raises
    ------
    ValueError
        Empty inputs, rank mismatch, NaN or Inf, an all-zero PSF, a PSF larger than
        the image, negative or non-finite ``eps``, unknown ``boundary``, bad ``axes``.
    TypeError
        Non-numeric or complex inputs, non-scalar ``eps``.

    See Also
    --------
    wiener, tikhonov : regularised versions, far less sensitive to noise.
    skimage.restoration.wiener : with ``balance=0`` its filter is the unthresholded
        division.

    Notes
    -----
    With :math:`Y = \mathcal{F}(y)` and :math:`H = \mathcal{F}(h)`, the PSF zero-padded
    and circularly shifted so that its centre is at the origin,

    .. math::
       \hat x = \mathcal{F}^{-1}\left(
       \begin{cases} Y / H & |H| \ge \varepsilon \max |H| \text{ and } H \ne 0 \\
                     0 & \text{otherwise.} \end{cases}\right)

    This inverts a noise-free circular blur exactly when the OTF has no small values;
    noise at frequencies where :math:`|H|` is small is amplified by :math:`1/|H|`,
    hence the threshold.

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv.restoration._fourier import inverse_filter
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((64, 64))
    >>> psf = np.outer([1, 4, 1], [1, 4, 1]) / 36.0
    >>> otf = np.fft.rfft2(np.roll(np.pad(psf, ((0, 61), (0, 61))), (-1, -1), (0, 1)))
    >>> y = np.fft.irfft2(np.fft.rfft2(x) * otf, s=x.shape)   # periodic blur
    >>> x_hat = inverse_filter(y, psf, eps=1e-6)
    >>> bool(np.allclose(x_hat, x))
    True
    """
    image, psf, dtype = _check_image_psf(image, psf)
    axes = tuple(sorted(v.check_axes(axes, image.ndim)))
    eps = _nonneg(eps, "eps")
    mode = _check_fourier_boundary(boundary)
    return _circulant_solve(image, psf, axes, mode, lambda shape: None,
                            threshold_eps=eps)


def tikhonov(image, psf, lam, *, reg="laplacian", boundary="periodic", axes=None):
    r"""Constrained least-squares (Tikhonov-regularised) deconvolution.

    MATLAB ``deconvreg``'s filter for a given Lagrange multiplier ``lam``.

    Parameters
    ----------
    image : ndarray
        Blurred, noisy data, any number of dimensions.
    psf : ndarray
        Point-spread function, same number of dimensions as ``image``, centred at
        ``psf.shape // 2``; not larger than ``image`` along ``axes``; size 1 or
        ``image``'s along batch axes.
    lam : float
        Regularisation weight, ``>= 0``: 0 is the unregularised pseudo-inverse, larger
        values give smoother results.
    reg : {'laplacian', 'identity'} or ndarray, optional
        Regularisation operator ``R``: the discrete Laplacian over ``axes`` (``2 ndim``
        at the centre, ``-1`` at each nearest neighbour), which penalises roughness;
        the identity, which penalises energy (ridge regression); or a real impulse
        response, centred like ``psf``.
    boundary : {'periodic', 'symm', 'reflect', 'nearest'}, optional
        As in :func:`inverse_filter`: the periodic model, or extend the image by the
        PSF size with that numpy.pad mode, deconvolve and crop (less edge ringing).
    axes : int or sequence of int, optional
        Axes to deconvolve along (default: all); the others are batch axes.

    Returns
    -------
    ndarray
        ``image``'s shape: float32 for float16/float32 images, float64 otherwise.

    Raises
    ------
    ValueError
        Empty inputs, rank mismatch, NaN or Inf, an all-zero PSF, a PSF larger than
        the image, negative ``lam``, unknown ``reg`` or ``boundary``.
    TypeError
        Non-numeric or complex inputs.

    See Also
    --------
    wiener : the same filter with scikit-image's conventions (``balance``, ``clip``).
    inverse_filter : the thresholded ``lam = 0`` limit.

    Notes
    -----
    .. math::
       \hat x = \mathcal{F}^{-1}\left(
       \frac{\overline{H}\, Y}{|H|^2 + \lambda |R|^2}\right)

    minimises :math:`\|h \circledast x - y\|^2 + \lambda \|r \circledast x\|^2` over
    :math:`x` for circular convolution :math:`\circledast`. Frequencies where the
    denominator is exactly 0 (only possible when ``lam = 0`` or ``R`` vanishes where
    ``H`` does, e.g. at 0 frequency for a zero-sum PSF) give 0, the pseudo-inverse's
    choice. The Laplacian's transfer function is
    :math:`\sum_d 2 - 2\cos(2\pi k_d / N_d)`.

    References
    ----------
    .. [1] R. C. Gonzalez and R. E. Woods, "Digital Image Processing", 3rd ed.,
           Prentice Hall, 2008, section 5.9 (constrained least squares filtering).

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv.restoration._fourier import tikhonov
    >>> rng = np.random.default_rng(0)
    >>> psf = np.outer([1, 4, 6, 4, 1], [1, 4, 6, 4, 1]) / 256.0
    >>> y = rng.random((32, 32)).astype(np.float32)
    >>> x = tikhonov(y, psf, 1e-2, boundary='symm')
    >>> x.shape, x.dtype
    ((32, 32), dtype('float32'))
    """
    image, psf, dtype = _check_image_psf(image, psf)
    axes = tuple(sorted(v.check_axes(axes, image.ndim)))
    lam = _nonneg(lam, "lam")
    mode = _check_fourier_boundary(boundary)
    pad_shape = None
    if isinstance(reg, str):
        if reg not in ("laplacian", "identity"):
            raise ValueError(f"reg must be 'laplacian', 'identity' or an array, got {reg!r}")
    else:
        if reg is None:
            raise TypeError("reg must be 'laplacian', 'identity' or an array, got None")
        reg = _check_reg_ir(reg, image.ndim, dtype)
        pad_shape = tuple(max(p, q) for p, q in zip(psf.shape, reg.shape))

    def penalty(shape):
        if isinstance(reg, str) and reg == "identity":
            return dtype.type(lam)
        if isinstance(reg, str):
            return _LaplacianPenalty(_laplacian_tables(shape, axes, True, dtype, lam))
        return _reg_penalty(reg, shape, axes, True, dtype, get_num_threads(), lam,
                            real_part=False)

    return _circulant_solve(image, psf, axes, mode, penalty, pad_shape=pad_shape)


def _skimage_transfer_functions(image, psf, reg, is_real):
    """Validate ``wiener``/``unsupervised_wiener`` inputs the way skimage reads them.

    Returns ``(image, psf, psf_is_tf, reg, reg_is_tf, dtype)``: ``psf`` is the real part
    of the given PSF (skimage discards imaginary parts, scikit-image issue #7363) in the
    image's float type; it is a transfer function exactly when its shape is the
    spectrum shape for ``is_real`` (skimage compares it with the regulariser's transfer
    function, which has that shape), an impulse response otherwise.
    """
    psf = v.as_numeric(psf, "psf")
    image, psf, dtype = _check_image_psf(image, psf.real)
    axes = tuple(range(image.ndim))
    spec = _spectrum_shape(image.shape, axes, is_real)
    reg_is_tf = False
    if reg is not None:
        reg = v.as_numeric(reg, "reg")
        reg_is_tf = reg.dtype.kind == "c"
    psf_is_tf = psf.shape == spec
    if not psf_is_tf:
        _check_fits(psf, image.shape, axes)
    return image, psf, psf_is_tf, reg, reg_is_tf, dtype


def wiener(image, psf, balance, reg=None, is_real=True, clip=True, *, nsr=None):
    r"""Restore data with the Wiener–Hunt deconvolution (scikit-image semantics).

    A drop-in for :func:`skimage.restoration.wiener` (same arguments, same result,
    float32 stays float32), several times faster; ``nsr`` offers the classic
    noise-to-signal form of the Wiener filter.

    Parameters
    ----------
    image : (N1, N2, ..., ND) ndarray
        Degraded data, any number of dimensions.
    psf : ndarray
        Point-spread function: an impulse response (same number of dimensions as
        ``image``, not larger than it, centred at ``psf.shape // 2``) or, exactly when
        its shape is the spectrum shape — ``(N1, ..., ND // 2 + 1)`` if ``is_real``,
        ``(N1, ..., ND)`` otherwise — a transfer function (the unnormalised
        ``rfftn``/``fftn`` of the centred PSF). As in skimage, only the real part of a
        complex ``psf`` is used.
    balance : float
        Regularisation weight :math:`\lambda \ge 0`; larger values favour the prior
        (smoother result). None when ``nsr`` is given.
    reg : ndarray, optional
        Regularisation operator, the Laplacian by default: a real impulse response
        (centred like ``psf``) or, if complex, a transfer function of the spectrum
        shape. As in skimage, only the real part of its transfer function is used.
    is_real : bool, optional
        Whether transfer functions given as ``psf``/``reg`` (and an array ``nsr``)
        cover half the spectrum (``rfftn``'s shape, the default) or all of it.
    clip : bool, optional
        If True (default), clip the result to [-1, 1], as skimage does.
    nsr : float or ndarray, optional
        Noise-to-signal power ratio, ``>= 0``: a scalar or an array broadcastable to
        the spectrum shape. If given, the filter is the classic
        :math:`\overline{H} / (|H|^2 + \mathrm{NSR})`; ``balance`` and ``reg`` must
        then be None.

    Returns
    -------
    ndarray
        The deconvolved data, ``image``'s shape: float32 for float16/float32 images,
        float64 otherwise, always real.

    Raises
    ------
    ValueError
        Empty inputs, rank mismatch, NaN or Inf, an all-zero PSF (real part), a PSF
        larger than the image, negative ``balance`` or ``nsr``, both or neither of
        ``balance`` and ``nsr``, a complex ``reg`` of the wrong shape.
    TypeError
        Non-numeric inputs, a complex image.

    See Also
    --------
    skimage.restoration.wiener : the reference implementation.
    unsupervised_wiener : estimates the regularisation from the data.
    tikhonov : the same filter with MATLAB ``deconvreg``'s conventions and boundary
        handling.

    Notes
    -----
    For the data model :math:`y = h * x + n`,

    .. math::
       \hat x = \mathcal{F}^{-1}\left(
       \frac{\overline{\Lambda_H}}{|\Lambda_H|^2 + \lambda |\Lambda_D|^2}\,
       \mathcal{F}(y)\right)

    where :math:`\Lambda_H` is the transfer function of the PSF and :math:`\Lambda_D`
    that of the regulariser (the Laplacian's is
    :math:`\sum_d 2 - 2\cos(2\pi k_d / N_d)`). With ``nsr`` the denominator is
    :math:`|\Lambda_H|^2 + \mathrm{NSR}`. The blur is circulant (periodic): pad
    non-periodic data, or use :func:`tikhonov` with ``boundary='symm'``, to reduce
    edge ringing.

    Deliberate differences from skimage: float32 images always give float32 (skimage
    upcasts when ``balance`` is a NumPy float64 scalar) and the computation stays in
    float32; the result is always real (with ``is_real=False`` skimage returns the
    complex inverse FFT, here its real part); axes shorter than 3 samples work
    (skimage's Laplacian construction fails there); a ``psf`` or ``reg`` with fewer
    dimensions than ``image`` and a negative ``balance`` are refused.

    References
    ----------
    .. [1] F. Orieux, J.-F. Giovannelli and T. Rodet, "Bayesian estimation of
           regularization and point spread function parameters for Wiener-Hunt
           deconvolution", J. Opt. Soc. Am. A 27, 1593-1607 (2010).
    .. [2] B. R. Hunt, "A matrix theory proof of the discrete convolution theorem",
           IEEE Trans. Audio Electroacoust. 19, 285-288 (1971).

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv.restoration._fourier import wiener
    >>> rng = np.random.default_rng(0)
    >>> img = rng.random((64, 64)).astype(np.float32)
    >>> psf = np.ones((5, 5), np.float32) / 25
    >>> restored = wiener(img, psf, 0.1)
    >>> restored.shape, restored.dtype
    ((64, 64), dtype('float32'))
    >>> sharper = wiener(img, psf, None, nsr=1e-2, clip=False)
    """
    if nsr is not None:
        if balance is not None:
            raise ValueError("give either balance or nsr, not both (balance must be None"
                             " when nsr is given)")
        if reg is not None:
            raise ValueError("reg is not used with nsr; leave it None")
    elif balance is None:
        raise ValueError("balance must be a non-negative number (or give nsr=)")
    image, psf, psf_is_tf, reg, reg_is_tf, dtype = _skimage_transfer_functions(
        image, psf, reg, is_real)
    shape = image.shape
    axes = tuple(range(image.ndim))
    spec_user = _spectrum_shape(shape, axes, is_real)
    if nsr is not None:
        nsr = _nonneg(nsr, "nsr", shape=spec_user)
    else:
        balance = _nonneg(balance, "balance")
    # With impulse responses only, the full-spectrum filter is Hermitian: the
    # half-spectrum path gives the same real result at half the cost.
    real = is_real or not (psf_is_tf or reg_is_tf
                           or (isinstance(nsr, np.ndarray) and nsr.ndim > 0))
    workers = get_num_threads()

    y = _forward(image, axes, real, workers)
    if psf_is_tf:
        h = psf  # the user's real transfer function (read only)
    else:
        h = _psf_transfer(psf, shape, axes, real, workers)
    if isinstance(nsr, float):
        penalty = dtype.type(nsr)
    elif nsr is not None:
        # leading 1s so that blocks along axis 0 slice the right axis
        penalty = nsr.astype(dtype).reshape((1,) * (image.ndim - nsr.ndim) + nsr.shape)
    else:
        penalty = _reg_penalty(reg, shape, axes, real, dtype, workers, balance,
                               real_part=True)
    _apply_filter(y, h, penalty)
    out = _inverse(y, shape, axes, real, workers)
    if clip:
        np.clip(out, -1, 1, out=out)
    return out


_UW_DEFAULTS = {"threshold": 1e-4, "max_num_iter": 200, "min_num_iter": 30, "burnin": 15,
                "callback": None}


def _check_user_params(user_params):
    params = dict(_UW_DEFAULTS)
    if user_params is None:
        return params
    if not isinstance(user_params, dict):
        raise TypeError(f"user_params must be a dict or None, got {type(user_params).__name__}")
    unknown = sorted(set(user_params) - set(_UW_DEFAULTS), key=str)
    if unknown:
        raise ValueError(f"user_params has unknown key(s) {unknown}; accepted keys are"
                         f" {sorted(_UW_DEFAULTS)}")
    params.update(user_params)
    for key in ("max_num_iter", "min_num_iter", "burnin"):
        params[key] = v.check_int(params[key], f"user_params['{key}']",
                                  minimum=1 if key == "max_num_iter" else 0)
    t = params["threshold"]
    if isinstance(t, bool) or not isinstance(t, numbers.Real) or not t >= 0:
        raise ValueError(f"user_params['threshold'] must be a non-negative number, got {t!r}")
    if params["callback"] is not None and not callable(params["callback"]):
        raise TypeError("user_params['callback'] must be callable or None")
    if params["burnin"] >= params["max_num_iter"] - 1:
        raise ValueError(f"user_params['burnin'] ({params['burnin']}) must be less than"
                         f" max_num_iter - 1 ({params['max_num_iter'] - 1}): otherwise no"
                         " sample is averaged")
    return params


def unsupervised_wiener(image, psf, reg=None, user_params=None, is_real=True, clip=True,
                        *, rng=None):
    r"""Unsupervised Wiener–Hunt deconvolution (scikit-image semantics), in N-D.

    The regularisation and noise levels are estimated from the data by a Gibbs sampler
    that draws images and hyperparameters from their posterior; the result is the
    empirical posterior mean. Same algorithm and random-draw order as
    :func:`skimage.restoration.unsupervised_wiener`, so with the same seed the
    results agree; unlike skimage it also works on 1-D and 3-D (N-D) data.

    Parameters
    ----------
    image : ndarray
        Degraded data, any number of dimensions.
    psf : ndarray
        Impulse response or transfer function, exactly as for :func:`wiener`.
    reg : ndarray, optional
        Regularisation operator (Laplacian by default), as for :func:`wiener`.
    user_params : dict, optional
        Gibbs sampler settings; accepted keys (others raise ValueError):

        threshold : float
            Stop when the relative change of the posterior mean falls below it
            (1e-4).
        burnin : int
            Number of initial samples left out of the mean (15). Must be below
            ``max_num_iter - 1``.
        min_num_iter : int
            Minimum number of iterations (30).
        max_num_iter : int
            Maximum number of iterations (200).
        callback : callable
            Called with each image sample (in the Fourier domain, a copy) for
            inspection.
    is_real : bool, optional
        True (default): work on the half spectrum (``rfftn``); False: full spectrum.
        Also says which shape a transfer function ``psf``/``reg`` has.
    clip : bool, optional
        If True (default), clip the result to [-1, 1], as skimage does.
    rng : {numpy.random.Generator, int}, optional
        Pseudo-random number generator or seed, as :func:`numpy.random.default_rng`
        takes.

    Returns
    -------
    x_postmean : ndarray
        The deconvolved data (posterior mean), ``image``'s shape and float type.
    chains : dict
        ``{'noise': [...], 'prior': [...]}``: the sampled noise and prior precisions,
        each starting with 1.

    Raises
    ------
    ValueError
        As for :func:`wiener`, plus unknown or inconsistent ``user_params``.
    TypeError
        Non-numeric inputs, a complex image, ``user_params`` not a dict.

    See Also
    --------
    skimage.restoration.unsupervised_wiener : the reference implementation (2-D).
    wiener : with a known regularisation weight.

    Notes
    -----
    With the unitary transforms :math:`Y`, :math:`\Lambda_H`, :math:`\Lambda_D`, each
    iteration draws (Orieux et al. 2010, eqs. 27-31)

    .. math::
       X &\sim \mathcal{CN}\left(\frac{\gamma_n \overline{\Lambda_H} Y}{\gamma_n
       |\Lambda_H|^2 + \gamma_x |\Lambda_D|^2},\;
       \frac{1}{\gamma_n |\Lambda_H|^2 + \gamma_x |\Lambda_D|^2}\right), \\
       \gamma_n &\sim \Gamma\left(\tfrac{N}{2},\; 2 / \|Y - \Lambda_H X\|^2\right),
       \qquad
       \gamma_x \sim \Gamma\left(\tfrac{N - 1}{2},\; 2 / \|\Lambda_D X\|^2\right),

    :math:`N` the number of samples of ``image``; the result is the mean of the
    :math:`X` after the burn-in.

    Why skimage fails in 3-D: it transforms the data with ``urfft2`` (only the last
    two axes) while the transfer functions cover all axes, and its quadratic norm
    sums the last two axes only (yielding one value per leading index, which then
    cannot be broadcast); in 1-D ``urfft2`` itself fails. Here every transform covers
    all axes and the norms are full sums.

    Parseval on a half spectrum: the norms count every frequency of the last axis
    twice except the first column, as skimage does (the Nyquist column of even-length
    axes is thus counted twice — kept for identical results). skimage decides whether
    the spectrum is a half spectrum from its shape (last two sizes unequal), which is
    wrong for ``is_real=False`` with a non-square image and for ``is_real=True`` when
    the half spectrum is square; here ``is_real`` decides. With ``is_real=False``
    skimage returns a complex array; here its real part is returned.

    References
    ----------
    .. [1] F. Orieux, J.-F. Giovannelli and T. Rodet, "Bayesian estimation of
           regularization and point spread function parameters for Wiener-Hunt
           deconvolution", J. Opt. Soc. Am. A 27, 1593-1607 (2010).

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv.restoration._fourier import unsupervised_wiener
    >>> rng = np.random.default_rng(0)
    >>> volume = rng.random((8, 16, 16))
    >>> psf = np.ones((3, 3, 3)) / 27
    >>> restored, chains = unsupervised_wiener(volume, psf, rng=1)
    >>> restored.shape, sorted(chains)
    ((8, 16, 16), ['noise', 'prior'])
    """
    params = _check_user_params(user_params)
    image, psf, psf_is_tf, reg, reg_is_tf, dtype = _skimage_transfer_functions(
        image, psf, reg, is_real)
    shape = image.shape
    axes = tuple(range(image.ndim))
    spec = _spectrum_shape(shape, axes, is_real)
    workers = get_num_threads()

    if psf_is_tf:
        h = psf
        atf2 = np.square(h)
    else:
        h = _otf(psf, shape, axes, is_real, workers)
        atf2 = np.abs(h)
        np.square(atf2, out=atf2)
    penalty = _reg_penalty(reg, shape, axes, is_real, dtype, workers, 1.0, real_part=True)
    areg2 = penalty.dense(spec, dtype) if isinstance(penalty, _LaplacianPenalty) else penalty
    areg2 = np.ascontiguousarray(np.broadcast_to(areg2, spec))

    data = _forward(image, axes, is_real, workers, norm="ortho")
    hy = np.conjugate(h) * data  # constant part of the posterior mean

    def quad_norm(a2):
        """``sum |X|^2`` over the full spectrum from ``a2 = |X|^2`` on ours."""
        total = a2.sum(dtype=dtype)
        if is_real:
            total = 2 * total - a2[..., 0].sum(dtype=dtype)
        return total

    rng = np.random.default_rng(rng)
    gn_chain, gx_chain = [1], [1]
    size = image.size
    burnin, threshold = params["burnin"], params["threshold"]
    callback = params["callback"]
    precision = np.empty(spec, dtype)
    sigma = np.empty(spec, dtype)
    work = np.empty(spec, dtype)
    r1 = np.empty(spec, dtype)
    r2 = np.empty(spec, dtype)
    draw64 = np.empty(spec, np.float64) if dtype != np.float64 else None
    x = np.empty(spec, data.dtype)
    cwork = np.empty(spec, data.dtype)
    acc = np.zeros(spec, data.dtype)
    delta = np.nan

    for iteration in range(params["max_num_iter"]):
        gn, gx = gn_chain[-1], gx_chain[-1]
        # precision of the conditional law of X (Eq. 29)
        np.multiply(atf2, gn, out=precision)
        np.multiply(areg2, gx, out=work)
        precision += work
        # two standard normal fields, drawn in float64 as skimage does
        for r in (r1, r2):
            if draw64 is None:
                rng.standard_normal(out=r)
            else:
                rng.standard_normal(out=draw64)
                np.copyto(r, draw64, casting="same_kind")
        # X = gn conj(H) Y / precision + sqrt(0.5 / precision) (r1 + i r2)  (Eq. 30)
        np.divide(0.5, precision, out=sigma)
        np.sqrt(sigma, out=sigma)
        np.reciprocal(precision, out=work)
        work *= gn
        np.multiply(hy, work, out=x)
        r1 *= sigma
        r2 *= sigma
        x.real += r1
        x.imag += r2
        if callback:
            callback(x.copy())
        # noise precision | X (Eq. 31)
        np.multiply(x, h, out=cwork)
        np.subtract(data, cwork, out=cwork)
        np.abs(cwork, out=work)
        np.square(work, out=work)
        gn_chain.append(rng.gamma(size / 2, 2 / quad_norm(work)))
        # prior precision | X (Eq. 31)
        np.abs(x, out=work)
        np.square(work, out=work)
        work *= areg2
        gx_chain.append(rng.gamma((size - 1) / 2, 2 / quad_norm(work)))
        # running mean and its relative change
        if iteration > burnin:
            k = iteration - burnin
            if k > 1:
                # current - previous = x / k - acc_before / (k (k - 1))
                np.multiply(acc, -1.0 / (k * (k - 1)), out=cwork)
                cwork += x / k
                np.abs(cwork, out=work)
                change = work.sum(dtype=dtype)
            acc += x
            if k > 1:
                np.abs(acc, out=work)
                delta = change / work.sum(dtype=dtype) / k
        if iteration > params["min_num_iter"] and delta < threshold:
            break

    acc /= iteration - burnin
    out = _inverse(acc, shape, axes, is_real, workers, norm="ortho")
    if clip:
        np.clip(out, -1, 1, out=out)
    return out, {"noise": gn_chain, "prior": gx_chain}
