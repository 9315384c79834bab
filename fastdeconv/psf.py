"""Point-spread functions: generators, PSF <-> OTF conversion and edge tapering.

Generators (:func:`gaussian`, :func:`disk`, :func:`motion`, :func:`airy`) return
non-negative arrays that sum to 1, float64 unless ``dtype=numpy.float32`` is asked for.
They are centred at the array centre ``(n - 1) / 2`` on every axis, so a PSF of even
size is symmetric too (its centre then falls between two pixels).

:func:`psf2otf` and :func:`otf2psf` follow MATLAB's functions of the same name: the PSF
centre is the pixel ``psf.shape[i] // 2`` on each axis, and it is moved to the origin
before the transform (for an even-sized PSF, that pixel is the one just after the
geometric centre).  :func:`edgetaper` is MATLAB's ``edgetaper``.

Nothing here modifies an input array.
"""
import functools
import math
import numbers

import numpy as np

from . import _fft
from . import _validation as v
from ._backends import get_num_threads

__all__ = ["gaussian", "disk", "motion", "airy", "psf2otf", "otf2psf", "edgetaper"]

# First zero of the Bessel function J1 (scipy.special.jn_zeros(1, 1)[0]).
_J1_ZERO = 3.8317059702075125

# Sub-samples per axis and pixel for the anti-aliased edge of `disk`.
_SUPERSAMPLE = 8


# --------------------------------------------------------------------------- helpers

def _out_dtype(dtype):
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be numpy.float32 or numpy.float64, got {dtype!r}") \
            from None
    if dt not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be numpy.float32 or numpy.float64, got {dt}")
    return dt


def _real(value, name, *, minimum=None, strict=False):
    """A finite real scalar as a Python float; ``minimum`` bounds it (``strict``: >)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if minimum is not None:
        if strict and not value > minimum:
            raise ValueError(f"{name} must be greater than {minimum:g}, got {value:g}")
        if not strict and not value >= minimum:
            raise ValueError(f"{name} must be at least {minimum:g}, got {value:g}")
    return value


def _shape(shape, name, ndim=None, minimum=1, int_ndim=None):
    """A tuple of ints ``>= minimum`` from a sequence (of ``ndim`` entries if given) or an
    int, repeated ``ndim`` times (``int_ndim`` times when ``ndim`` is None)."""
    if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, bool):
        n = ndim if ndim is not None else int_ndim
        if n is None:
            raise ValueError(f"{name} must be a tuple of ints here, got the int {shape}")
        return (v.check_int(shape, name, minimum),) * n
    if isinstance(shape, (str, bytes)) or not hasattr(shape, "__len__"):
        raise TypeError(f"{name} must be an int or a tuple of ints, got"
                        f" {type(shape).__name__}")
    if isinstance(shape, np.ndarray) and shape.ndim != 1:
        raise TypeError(f"{name} must be an int or a tuple of ints, got an array of"
                        f" shape {shape.shape}")
    out = tuple(v.check_int(s, f"{name}[{i}]", minimum) for i, s in enumerate(shape))
    if not out:
        raise ValueError(f"{name} must have at least one entry")
    if ndim is not None and len(out) != ndim:
        raise ValueError(f"{name} must have {ndim} entries, got {len(out)}")
    return out


def _per_axis(value, name, ndim, **bounds):
    """A real scalar or a sequence of ``ndim`` reals, as a tuple of floats."""
    if isinstance(value, numbers.Real) or (isinstance(value, np.ndarray) and value.ndim == 0):
        value = value.item() if isinstance(value, np.ndarray) else value
        return (_real(value, name, **bounds),) * ndim
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        raise TypeError(f"{name} must be a real number or a sequence of them, got"
                        f" {type(value).__name__}")
    seq = list(np.asarray(value).tolist()) if isinstance(value, np.ndarray) else list(value)
    if len(seq) != ndim:
        raise ValueError(f"{name} must be a scalar or have one value per axis ({ndim}),"
                         f" got {len(seq)} values")
    return tuple(_real(s, f"{name}[{i}]", **bounds) for i, s in enumerate(seq))


def _centred_grid(shape):
    """Per axis, the sample offsets from the array centre ``(n - 1) / 2``, broadcastable."""
    nd = len(shape)
    return [(np.arange(n, dtype=np.float64) - (n - 1) / 2).reshape(
        (1,) * i + (n,) + (1,) * (nd - i - 1)) for i, n in enumerate(shape)]


def _radius2(shape):
    """Squared distance of every pixel centre from the array centre."""
    return functools.reduce(np.add, [x * x for x in _centred_grid(shape)])


def _finish(h, dtype):
    """Normalise a float64 non-negative PSF to sum 1 and cast it."""
    h = h / h.sum()
    return np.ascontiguousarray(h, dtype=dtype)


def _workers():
    return get_num_threads()


def _spectral_dtype(a, name, *, allow_complex):
    """The dtype transforms of ``a`` run in: float32/complex64 when single, else double."""
    kind = a.dtype.kind
    if kind == "c":
        if not allow_complex:
            raise TypeError(f"{name} must be real when real=True, got dtype {a.dtype}")
        return np.dtype(np.complex64) if a.dtype.itemsize <= 8 else np.dtype(np.complex128)
    return np.dtype(np.float32) if kind == "f" and a.dtype.itemsize <= 4 \
        else np.dtype(np.float64)


def _check_array(a, name):
    a = v.as_numeric(a, name)
    if a.ndim == 0:
        raise ValueError(f"{name} must be an array with at least 1 dimension, got a scalar")
    if a.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {a.shape}")
    v.check_finite(a, name)
    return a


# --------------------------------------------------------------------------- generators

def gaussian(shape, sigma, *, ndim=None, dtype=np.float64):
    """Sampled, normalised Gaussian PSF (N-D, exactly separable).

    Parameters
    ----------
    shape : int or tuple of int
        Size of the PSF along each axis (each >= 1).  An int is used for every axis.
    sigma : float or sequence of float
        Standard deviation in pixels, one for all axes or one per axis (each >= 0).
        ``sigma=0`` on an axis gives the limit: a delta on the centre pixel (odd size)
        or two equal centre pixels (even size).
    ndim : int, optional, keyword-only
        Number of dimensions when ``shape`` is an int: defaults to ``len(sigma)`` when
        ``sigma`` is a sequence, else 2 (MATLAB's ``fspecial('gaussian', n, sigma)``).
    dtype : {numpy.float64, numpy.float32}, keyword-only
        Output dtype.

    Returns
    -------
    psf : ndarray of shape ``shape`` and dtype ``dtype``
        Non-negative, sums to 1, symmetric about the array centre.

    Raises
    ------
    TypeError
        ``shape`` or ``sigma`` of the wrong type; ``dtype`` not a dtype.
    ValueError
        A size below 1, a negative or non-finite sigma, a per-axis ``sigma`` or an
        ``ndim`` that disagrees with ``shape``, ``dtype`` other than float32/float64.

    See Also
    --------
    skimage.filters.gaussian, scipy.ndimage.gaussian_filter

    Notes
    -----
    With ``c_i = (shape[i] - 1) / 2``, the PSF is the outer product over axes of the
    1-D vectors ``g_i[k] = exp(-(k - c_i)^2 / (2 sigma_i^2))``, each normalised to sum 1,
    so it is exactly rank one (the separable fast path of :func:`fastdeconv.convolve`
    detects it) and its sum is 1 to rounding.  The samples are point values, not pixel
    integrals, as in MATLAB's ``fspecial``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import psf
    >>> h = psf.gaussian(5, 1.0)
    >>> h.shape, bool(np.isclose(h.sum(), 1.0))
    ((5, 5), True)
    >>> bool(np.allclose(h, np.outer(h.sum(axis=1), h.sum(axis=0))))
    True
    """
    dtype = _out_dtype(dtype)
    if ndim is not None:
        ndim = v.check_int(ndim, "ndim", 1)
    scalar_sigma = isinstance(sigma, numbers.Real) or not hasattr(sigma, "__len__") or (
        isinstance(sigma, np.ndarray) and sigma.ndim == 0)
    shape = _shape(shape, "shape", ndim, int_ndim=2 if scalar_sigma else len(sigma))
    sigma = _per_axis(sigma, "sigma", len(shape), minimum=0.0)
    vectors = []
    for n, s in zip(shape, sigma):
        x = np.arange(n, dtype=np.float64) - (n - 1) / 2
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            t = (x / s) ** 2 if s > 0 else np.full(n, np.inf)
            g = np.exp(-0.5 * (t - t.min()))  # the centre pixel(s) are 1: no underflow
        if not (np.isfinite(g).all() and g.sum() > 0):
            # sigma == 0, or so small that (x / sigma)^2 overflows: the limit, exactly
            g = (np.abs(x) == np.abs(x).min()).astype(np.float64)
        vectors.append(g / g.sum())
    h = functools.reduce(np.multiply.outer, vectors)
    return np.ascontiguousarray(h, dtype=dtype)


def disk(radius, *, shape=None, ndim=None, antialias=True, dtype=np.float64):
    """Uniform disk (2-D), ball (3-D) or N-D ball PSF, e.g. an out-of-focus blur.

    Parameters
    ----------
    radius : float
        Radius in pixels, > 0.
    shape : int or tuple of int, optional, keyword-only
        Size of the PSF per axis; at least ``2 * radius`` on every axis so the ball fits.
        Default ``2 * ceil(radius) + 1`` on every axis.
    ndim : int, optional, keyword-only
        Number of dimensions: ``len(shape)`` when ``shape`` is a tuple, else 2.
    antialias : bool, keyword-only
        True (default): each pixel is weighted by the fraction of its area (volume)
        inside the ball, estimated on an 8-per-axis sub-pixel grid for the pixels the
        edge crosses.  False: 1 for the pixels whose centre is within ``radius``.
    dtype : {numpy.float64, numpy.float32}, keyword-only
        Output dtype.

    Returns
    -------
    psf : ndarray of dtype ``dtype``
        Non-negative, sums to 1, centred at ``(n - 1) / 2`` on every axis.

    Raises
    ------
    TypeError
        ``radius`` not a real number, ``shape`` or ``ndim`` not ints.
    ValueError
        ``radius <= 0`` or not finite, ``shape`` too small or of the wrong length.

    See Also
    --------
    skimage.morphology.disk, skimage.morphology.ball : binary footprints.

    Notes
    -----
    Before normalisation the anti-aliased weights sum to the ball's measure
    (``pi r^2`` in 2-D, ``4/3 pi r^3`` in 3-D) to within the sub-sampling error.
    MATLAB's ``fspecial('disk', r)`` computes the 2-D pixel coverage exactly; the two
    agree to about 1e-2 of the edge pixels' weights.

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import psf
    >>> h = psf.disk(3)
    >>> h.shape, bool(np.isclose(h.sum(), 1.0))
    ((7, 7), True)
    >>> bool(np.isclose(1 / h.max(), np.pi * 3 ** 2, rtol=0.01))  # area before normalising
    True
    """
    dtype = _out_dtype(dtype)
    radius = _real(radius, "radius", minimum=0.0, strict=True)
    if not isinstance(antialias, (bool, np.bool_)):
        raise TypeError(f"antialias must be a bool, got {type(antialias).__name__}")
    if ndim is not None:
        ndim = v.check_int(ndim, "ndim", 1)
    if shape is None:
        shape = (2 * math.ceil(radius) + 1,) * (2 if ndim is None else ndim)
    else:
        shape = _shape(shape, "shape", ndim, int_ndim=2)
        if any(n < 2 * radius for n in shape):
            raise ValueError(f"shape must be at least 2 * radius = {2 * radius:g} on every"
                             f" axis to hold the disk, got {shape}")
    nd = len(shape)
    r2 = _radius2(shape)
    if not antialias:
        return _finish((r2 <= radius * radius).astype(np.float64), dtype)
    d = np.sqrt(r2)
    half_diag = math.sqrt(nd) / 2  # farthest point of a pixel from its centre
    h = (d + half_diag <= radius).astype(np.float64)
    edge = np.nonzero((d + half_diag > radius) & (d - half_diag <= radius))
    if edge[0].size:
        centres = np.stack([(idx - (n - 1) / 2) for idx, n in zip(edge, shape)], axis=1)
        k = _SUPERSAMPLE
        sub = (np.arange(k) + 0.5) / k - 0.5
        offsets = np.stack(np.meshgrid(*([sub] * nd), indexing="ij"), axis=-1).reshape(-1, nd)
        inside = np.zeros(len(centres))
        for start in range(0, len(centres), 4096):  # bounded memory in high dimensions
            pts = centres[start:start + 4096, None, :] + offsets[None, :, :]
            inside[start:start + 4096] = np.mean(
                np.einsum("ijk,ijk->ij", pts, pts) <= radius * radius, axis=1)
        h[edge] = inside
    return _finish(h, dtype)


def motion(length, angle, *, shape=None, dtype=np.float64):
    """Linear motion blur PSF, MATLAB's ``fspecial('motion', length, angle)``.

    Parameters
    ----------
    length : float
        Length of the motion in pixels, >= 1 (``length=1`` is a delta).
    angle : float
        Direction in degrees, counter-clockwise from the column (x) axis with rows
        pointing down as an image is displayed: 0 is horizontal, 90 vertical, 45 rises
        to the right.  Taken modulo 180 (a line has no direction).
    shape : int or tuple of int, optional, keyword-only
        Odd size per axis, at least the natural size; the line is zero-padded and stays
        centred.  Default: the smallest odd box holding the line (MATLAB's size, e.g.
        ``(1, length)`` for a horizontal line of odd length).
    dtype : {numpy.float64, numpy.float32}, keyword-only
        Output dtype.

    Returns
    -------
    psf : ndarray, 2-D, odd-sized
        Non-negative, sums to 1, point-symmetric about its centre pixel.

    Raises
    ------
    TypeError
        ``length`` or ``angle`` not real numbers; ``shape`` not ints.
    ValueError
        ``length < 1`` or not finite, ``angle`` not finite, ``shape`` even, smaller than
        the line or not 2 entries.

    See Also
    --------
    disk, gaussian

    Notes
    -----
    MATLAB's algorithm: each pixel of the half plane is weighted by
    ``max(0, 1 - dist)``, with ``dist`` the pixel centre's distance to the segment of
    length ``length - 1`` centred at the origin (measured perpendicular to the segment
    beside it and to the end point beyond it); the other half is the point reflection.
    It matches MATLAB's output to rounding (MATLAB adds ``eps`` to every weight and to
    the normaliser, which this leaves out so that the PSF sums to 1 and is exactly 0
    off the line).

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import psf
    >>> psf.motion(5, 0)
    array([[0.2, 0.2, 0.2, 0.2, 0.2]])
    >>> h = psf.motion(9, 30)
    >>> h.shape, bool(np.isclose(h.sum(), 1.0))
    ((5, 9), True)
    """
    dtype = _out_dtype(dtype)
    length = _real(length, "length", minimum=1.0)
    angle = _real(angle, "angle")
    eps = np.finfo(np.float64).eps
    half = (length - 1) / 2
    phi = math.radians(angle % 180.0)
    cosphi, sinphi = math.cos(phi), math.sin(phi)
    xsign = 1 if cosphi >= 0 else -1
    linewdt = 1.0
    # Half-matrix size; the eps term gives the right size at 0 and 90 degrees.
    sx = math.trunc(half * cosphi + linewdt * xsign - length * eps)
    sy = math.trunc(half * sinphi + linewdt - length * eps)
    x, y = np.meshgrid(np.arange(0, sx + xsign, xsign, dtype=np.float64),
                       np.arange(0, sy + 1, dtype=np.float64))
    dist = y * cosphi - x * sinphi  # distance perpendicular to the line
    rad = np.hypot(x, y)
    last = (rad >= half) & (np.abs(dist) <= linewdt)  # beyond the end point, on the line
    if cosphi != 0.0:  # cos(phi) is never exactly 0 for phi in [0, pi) in floating point
        x2last = half - np.abs((x[last] + dist[last] * sinphi) / cosphi)
        dist[last] = np.hypot(dist[last], x2last)
    w = np.maximum(linewdt - np.abs(dist), 0.0)
    rows, cols = w.shape
    h = np.zeros((2 * rows - 1, 2 * cols - 1))
    h[:rows, :cols] = w[::-1, ::-1]
    h[rows - 1:, cols - 1:] = w
    if cosphi > 0:
        h = h[::-1]
    if shape is not None:
        shape = _shape(shape, "shape", 2)
        if any(n % 2 == 0 for n in shape):
            raise ValueError(f"shape must be odd on both axes (the line is centred on a"
                             f" pixel), got {shape}")
        if any(n < m for n, m in zip(shape, h.shape)):
            raise ValueError(f"shape must be at least the line's size {h.shape},"
                             f" got {shape}")
        pad = [((n - m) // 2,) * 2 for n, m in zip(shape, h.shape)]
        h = np.pad(h, pad)
    return _finish(h, dtype)


def airy(shape, radius, *, dtype=np.float64):
    """Airy pattern PSF ``(2 J1(v) / v)^2``, the diffraction image of a circular pupil.

    Parameters
    ----------
    shape : int or tuple of int
        Size per axis (each >= 1); an int gives a square 2-D PSF.  Any number of axes:
        in N-D the same radial profile is used (a radially symmetric model, not the 3-D
        PSF of a microscope).
    radius : float
        Radius of the first dark ring in pixels (``1.22 lambda N`` in the image plane),
        > 0.
    dtype : {numpy.float64, numpy.float32}, keyword-only
        Output dtype.

    Returns
    -------
    psf : ndarray of shape ``shape``
        Non-negative, sums to 1 over the window, centred at ``(n - 1) / 2``.

    Raises
    ------
    TypeError
        ``shape`` not ints, ``radius`` not a real number.
    ValueError
        A size below 1, ``radius <= 0`` or not finite.

    See Also
    --------
    scipy.special.j1

    Notes
    -----
    ``v = z1 r / radius`` with ``r`` the distance from the centre and
    ``z1 = 3.8317...`` the first zero of ``J1``, so the first zero is at ``r = radius``.
    The pattern's tails decay like ``r^-3`` and are cut by the window: the PSF is
    normalised over the window, so choose ``shape`` several rings wide.
    Values are point samples (no pixel integration).

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import psf
    >>> h = psf.airy(15, 4.0)
    >>> h.shape, bool(np.isclose(h.sum(), 1.0))
    ((15, 15), True)
    >>> bool(h[7, 7 + 4] < 1e-12 * h.max())  # first dark ring at 4 pixels
    True
    """
    from scipy.special import j1  # import on use: keeps `import fastdeconv` light

    dtype = _out_dtype(dtype)
    shape = _shape(shape, "shape", int_ndim=2)
    radius = _real(radius, "radius", minimum=0.0, strict=True)
    vv = np.sqrt(_radius2(shape)) * (_J1_ZERO / radius)
    safe = np.where(vv == 0, 1.0, vv)
    h = np.where(vv == 0, 1.0, (2 * j1(safe) / safe) ** 2)
    return _finish(h, dtype)


# --------------------------------------------------------------------------- OTF

def psf2otf(psf, shape=None, *, real=False):
    """Optical transfer function of a PSF on a grid of ``shape``, as MATLAB's psf2otf.

    Parameters
    ----------
    psf : array_like
        The PSF, N-D, finite.  Complex PSFs are accepted when ``real=False``.
    shape : tuple of int, optional
        Size of the OTF, one entry per axis of ``psf``, each ``>= psf.shape[i]``.
        Default ``psf.shape``.
    real : bool, keyword-only
        False (default): the full spectrum ``numpy.fft.fftn``.  True: the half spectrum
        ``scipy.fft.rfftn`` (last axis ``shape[-1] // 2 + 1``), for real PSFs, the form
        the FFT paths of this library multiply with.

    Returns
    -------
    otf : ndarray, complex
        complex64 for float32 (or narrower) and complex64 PSFs, else complex128.

    Raises
    ------
    TypeError
        Non-numeric ``psf``; complex ``psf`` with ``real=True``; ``shape`` not ints.
    ValueError
        Empty or 0-d ``psf``, NaN/Inf, ``shape`` with the wrong number of entries or
        smaller than ``psf`` on an axis.

    See Also
    --------
    otf2psf : the inverse.
    numpy.fft.fftn, scipy.fft.rfftn

    Notes
    -----
    ``psf`` is zero-padded at the end of each axis to ``shape``, then circularly shifted
    by ``-(psf.shape // 2)`` so that its centre pixel ``psf.shape // 2`` lands on index
    0, then transformed.  Multiplying an image's spectrum by the OTF is then the
    circular convolution with the PSF centred on each pixel, with no shift.  Unlike
    MATLAB, tiny imaginary parts are not zeroed: the output is the transform as is.

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import psf
    >>> delta = np.zeros((3, 3)); delta[1, 1] = 1
    >>> bool(np.allclose(psf.psf2otf(delta, (8, 8)), 1))
    True
    >>> psf.psf2otf(psf.gaussian(5, 1.0), (16, 16), real=True).shape
    (16, 9)
    """
    psf = _check_array(psf, "psf")
    if not isinstance(real, (bool, np.bool_)):
        raise TypeError(f"real must be a bool, got {type(real).__name__}")
    cdtype = _spectral_dtype(psf, "psf", allow_complex=not real)
    shape = psf.shape if shape is None else _shape(shape, "shape", psf.ndim)
    if any(s < p for s, p in zip(shape, psf.shape)):
        raise ValueError(f"shape must be at least psf.shape {psf.shape} on every axis,"
                         f" got {tuple(shape)}")
    padded = np.zeros(shape, dtype=cdtype)
    padded[tuple(slice(0, p) for p in psf.shape)] = psf
    padded = np.roll(padded, tuple(-(p // 2) for p in psf.shape), axis=tuple(range(psf.ndim)))
    if real:
        return _fft.rfftn(padded, workers=_workers(), overwrite_x=True)
    return _fft.fftn(padded, workers=_workers(), overwrite_x=True)


def otf2psf(otf, shape=None, *, real=False, full_shape=None):
    """PSF of ``shape`` from an OTF, the inverse of :func:`psf2otf` (MATLAB's otf2psf).

    Parameters
    ----------
    otf : array_like
        The full spectrum (``real=False``) or the half spectrum of ``scipy.fft.rfftn``
        (``real=True``), finite.
    shape : tuple of int, optional
        Size of the PSF, one entry per axis, each at most the full OTF size.  Default:
        the full OTF size.
    real : bool, keyword-only
        True when ``otf`` is a half spectrum (``psf2otf(..., real=True)``).
    full_shape : tuple of int, keyword-only
        The full grid size the half spectrum was computed on; required when
        ``real=True`` (the parity of the last axis cannot be recovered from the half
        spectrum), must equal ``otf.shape`` (or be omitted) when ``real=False``.

    Returns
    -------
    psf : ndarray
        With ``real=True``: float64 (float32 for complex64 or float32 input).
        With ``real=False``: the real part, float64 (float32), when the inverse
        transform's imaginary part is negligible -- ``max|imag| <= nops * eps *
        max|psf|`` over the whole inverse transform, where ``nops = sum_k N log2(n_k)``
        (``N`` the OTF's size, ``n_k`` its axes) and ``eps`` the precision's machine
        epsilon: MATLAB's rule -- else complex128 (complex64).  An all-zero OTF gives a
        real zero PSF.

    Raises
    ------
    TypeError
        Non-numeric ``otf``, ``shape`` or ``full_shape`` not ints.
    ValueError
        Empty or 0-d ``otf``, NaN/Inf, ``shape`` larger than the OTF or with the wrong
        number of entries, ``full_shape`` missing (``real=True``) or inconsistent with
        ``otf.shape``.

    See Also
    --------
    psf2otf
    numpy.fft.ifftn, scipy.fft.irfftn

    Notes
    -----
    ``ifftn`` (``irfftn`` on ``full_shape``), then a circular shift by ``shape // 2``
    (which brings the PSF centre from index 0 back to ``shape // 2``), then the crop
    ``[:shape[0], :shape[1], ...]``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import psf
    >>> h = psf.gaussian((5, 4), 1.0)
    >>> back = psf.otf2psf(psf.psf2otf(h, (16, 16)), h.shape)
    >>> back.dtype, bool(np.allclose(back, h))
    (dtype('float64'), True)
    >>> H = psf.psf2otf(h, (16, 15), real=True)
    >>> bool(np.allclose(psf.otf2psf(H, h.shape, real=True, full_shape=(16, 15)), h))
    True
    """
    otf = _check_array(otf, "otf")
    if not isinstance(real, (bool, np.bool_)):
        raise TypeError(f"real must be a bool, got {type(real).__name__}")
    kind = otf.dtype.kind
    single = (kind == "c" and otf.dtype.itemsize <= 8) or (kind == "f" and
                                                           otf.dtype.itemsize <= 4)
    cdtype = np.dtype(np.complex64) if single else np.dtype(np.complex128)
    rdtype = np.dtype(np.float32) if single else np.dtype(np.float64)
    nd = otf.ndim
    if real:
        if full_shape is None:
            raise ValueError("full_shape is required when real=True: the half spectrum"
                             " does not say whether the last axis was even or odd")
        full_shape = _shape(full_shape, "full_shape", nd)
        expected = full_shape[:-1] + (full_shape[-1] // 2 + 1,)
        if otf.shape != expected:
            raise ValueError(f"otf has shape {otf.shape}, but a half spectrum of"
                             f" full_shape={full_shape} has shape {expected}")
    else:
        if full_shape is not None and _shape(full_shape, "full_shape", nd) != otf.shape:
            raise ValueError(f"full_shape must equal otf.shape {otf.shape} when"
                             f" real=False, got {tuple(full_shape)}")
        full_shape = otf.shape
    shape = full_shape if shape is None else _shape(shape, "shape", nd)
    if any(s > f for s, f in zip(shape, full_shape)):
        raise ValueError(f"shape must be at most the OTF's size {tuple(full_shape)} on"
                         f" every axis, got {tuple(shape)}")
    spec = otf.astype(cdtype, copy=False)
    if real:
        psf = _fft.irfftn(spec, s=full_shape, workers=_workers())
    else:
        psf = _fft.ifftn(spec, workers=_workers())
        peak = np.max(np.abs(psf))
        nelem = math.prod(full_shape)
        nops = sum(nelem * math.log2(n) for n in full_shape)
        if peak == 0 or np.max(np.abs(psf.imag)) <= nops * np.finfo(rdtype).eps * peak:
            psf = psf.real
    psf = np.roll(psf, tuple(s // 2 for s in shape), axis=tuple(range(nd)))
    return np.ascontiguousarray(psf[tuple(slice(0, s) for s in shape)])


# --------------------------------------------------------------------------- edgetaper

def edgetaper(image, psf):
    """Taper an image's edges with a PSF-shaped blur (MATLAB's ``edgetaper``).

    Blends the image with its circular blur by ``psf``: the result equals the image in
    its interior and its blurred, periodic-friendly version at the edges, which reduces
    the ringing of FFT-based deconvolution (``wiener``, ``inverse_filter``,
    ``richardson_lucy`` with periodic boundaries).

    Parameters
    ----------
    image : array_like
        N-D real image, finite.
    psf : array_like
        Real PSF, finite, not all zero, with ``psf.ndim == image.ndim`` (for an
        ``(H, W, 3)`` colour image pass ``psf[..., None]``).  On every axis where the PSF
        is longer than 1, ``image.shape[i] > 2 * psf.shape[i]``.  A non-negative PSF is
        normalised to sum 1 (as MATLAB does); one with negative values is used as is.

    Returns
    -------
    tapered : ndarray, same shape as ``image``
        float32 for float32 (or float16) images, else float64 (integers and bools
        give float64); the PSF's dtype does not change it.  Values are clipped to
        ``[image.min(), image.max()]``.

    Raises
    ------
    TypeError
        Non-numeric or complex inputs.
    ValueError
        Empty or 0-d inputs, NaN/Inf, rank mismatch, an all-zero PSF, a PSF longer than
        half the image on some axis.

    See Also
    --------
    psf2otf
    skimage.restoration.wiener

    Notes
    -----
    With ``B`` the circular convolution of the image by the PSF (centre
    ``psf.shape // 2``), the result is ``J = alpha * I + (1 - alpha) * B``.  ``alpha`` is
    the product over the PSF's non-singleton axes of ``1 - z_i``, where ``z_i`` is the
    circular autocorrelation, on ``image.shape[i] - 1`` points, of the PSF's projection
    on axis ``i`` (the sum over the other axes), normalised to maximum 1 and extended by
    repeating its first value: 1 at both edges, 0 in the interior, rolling off over
    the PSF's width.

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import psf
    >>> image = np.add.outer(np.arange(32.0), np.arange(32.0))  # ramp: edges differ
    >>> tapered = psf.edgetaper(image, psf.gaussian(7, 1.5))
    >>> tapered.shape, tapered.dtype
    ((32, 32), dtype('float64'))
    >>> bool(np.allclose(tapered[12:20, 12:20], image[12:20, 12:20]))
    True
    >>> bool(abs(tapered[0] - tapered[-1]).max() < abs(image[0] - image[-1]).max())
    True
    """
    image = _check_array(image, "image")
    psf = _check_array(psf, "psf")
    if image.dtype.kind == "c":
        raise TypeError(f"image must be real, got dtype {image.dtype}")
    if psf.dtype.kind == "c":
        raise TypeError(f"psf must be real, got dtype {psf.dtype}")
    if psf.ndim != image.ndim:
        raise ValueError(f"psf must have the same number of dimensions as image"
                         f" ({image.ndim}), got {psf.ndim}")
    dtype = _spectral_dtype(image, "image", allow_complex=False)
    p = psf.astype(np.float64)
    if not p.any():
        raise ValueError("psf must have a non-zero element, got all zeros")
    if (p >= 0).all():
        p = p / p.sum()
    axes = [i for i, n in enumerate(psf.shape) if n > 1]
    bad = [i for i in axes if image.shape[i] <= 2 * psf.shape[i]]
    if bad:
        raise ValueError(f"psf must be shorter than half of image on every axis where it"
                         f" is longer than 1 (image.shape[i] > 2 * psf.shape[i]); image"
                         f" {image.shape}, psf {psf.shape} fail on axes {bad}")
    x = np.ascontiguousarray(image, dtype=dtype)
    if not axes:  # a one-pixel PSF: no axis to taper, alpha is 1 everywhere
        return x.copy()
    otf = psf2otf(p.astype(dtype), image.shape, real=True)
    blurred = _fft.irfftn(_fft.rfftn(x, workers=_workers()) * otf, s=image.shape,
                          workers=_workers(), overwrite_x=True)
    alpha = None
    for i in axes:
        proj = p.sum(axis=tuple(j for j in range(p.ndim) if j != i))
        z = np.real(_fft.ifft(np.abs(_fft.fft(proj, image.shape[i] - 1)) ** 2))
        if not z.max() > 0:
            raise ValueError(f"psf's projection on axis {i} (its sum over the other axes)"
                             f" is zero: no taper width can be derived from it")
        z = np.append(z, z[0]) / z.max()  # symmetric: 1 at both edges
        w = (1 - z).astype(dtype).reshape([-1 if j == i else 1 for j in range(image.ndim)])
        alpha = w if alpha is None else alpha * w
    out = blurred + alpha * (x - blurred)  # alpha * I + (1 - alpha) * blurred
    np.clip(out, x.min(), x.max(), out=out)
    return np.ascontiguousarray(out, dtype=dtype)
