"""Projected Landweber iteration (gradient descent on the least-squares misfit)."""
import math

import numpy as np
from .._lazy import sfft

from .. import _fft
from .. import _validation as v
from .._backends import resolve_backend
from .._progress import Progress
from ._model import BOUNDARIES, Blur, check_psf_nonzero, real_array

__all__ = ["landweber"]


def _spectral_norm(psf):
    # ||H|| <= sup |H(w)| over the continuous spectrum; sampling it on a grid 4x finer
    # than the PSF finds the maximum (exactly sum(psf) for a non-negative PSF).
    # Length-1 axes are dropped first: the spectrum is constant along them, and padding
    # each to 4 samples multiplied the grid by 4 per axis (10 such axes on an 8x8 PSF
    # took seconds and gigabytes) without changing the maximum.
    core = psf.reshape([n for n in psf.shape if n > 1] or [1])
    fshape = [sfft.next_fast_len(4 * n, True) for n in core.shape]
    return float(np.abs(_fft.rfftn(core.astype(np.float64), fshape)).max())


def landweber(image, psf, num_iter=50, *, step=None, nonneg=True, boundary="fill",
              x0=None, callback=None, progress=False, method="auto", backend=None):
    """Projected Landweber deconvolution.

    Iterates ``x <- P(x + step * H^T (image - H x))`` where ``H`` is the blur (the
    same model as :func:`richardson_lucy`, ``boundary`` included) and ``P`` clips
    negative values when ``nonneg``.

    Parameters
    ----------
    image : ndarray
        Blurred image, any dimension, real; float32 stays float32.
    psf : ndarray
        Point-spread function with the image's number of dimensions.
    num_iter : int, optional
        Number of iterations.
    step : float, optional
        Step size; default ``1 / ||H||^2`` from the PSF's spectral norm (the iteration
        converges for ``0 < step < 2 / ||H||^2``).
    nonneg : bool, optional
        Project onto non-negative values after each step.
    boundary : str, optional
        As :func:`richardson_lucy` ('fill', 'periodic', 'symm', 'reflect', 'nearest',
        'noncirculant').
    x0 : ndarray, optional
        Initial estimate (default: the image itself).
    callback : callable, optional
        ``callback(i, estimate)``; returning True stops.
    progress : bool, optional
        Show a progress bar.
    method : {'auto', 'direct', 'fft'}, optional
    backend : {'numba', 'cython', 'python'}, optional

    Returns
    -------
    ndarray
        Restored image, the image's shape and float dtype.

    Raises
    ------
    ValueError
        Empty inputs, rank mismatch, NaN/Inf, an all-zero PSF, negative ``num_iter``,
        a non-positive ``step``, unknown ``boundary`` or ``method``, a badly shaped
        ``x0``.
    TypeError
        Non-numeric inputs; complex ``image``, ``psf`` or ``x0``.

    See Also
    --------
    richardson_lucy, tikhonov

    Notes
    -----
    Landweber converges to the least-squares solution; stopping early regularises.

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import landweber, convolve
    >>> from fastdeconv.psf import gaussian
    >>> truth = np.zeros((32, 32)); truth[16, 16] = 1
    >>> blurred = convolve(truth, gaussian((7, 7), 1.0), mode='same')
    >>> restored = landweber(blurred, gaussian((7, 7), 1.0), num_iter=100)
    >>> bool(restored[16, 16] > blurred[16, 16])
    True
    """
    image, psf, dtype = v.check_image_psf(image, psf)
    check_psf_nonzero(psf)
    num_iter = v.check_int(num_iter, "num_iter", minimum=0)
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"method must be 'auto', 'direct' or 'fft', got {method!r}")
    backend = resolve_backend(backend)
    if step is None:
        norm = _spectral_norm(psf)
        if not 0 < norm ** 2 < math.inf:
            raise ValueError(f"psf's spectral norm ({norm:g}) squared is out of the float"
                             " range, so no default step exists; scale psf (e.g. to sum"
                             " 1) or pass step")
        step = 1.0 / norm ** 2
    elif not (isinstance(step, (int, float, np.floating)) and math.isfinite(step)
              and step > 0):
        raise ValueError(f"step must be a finite number > 0, got {step!r}")
    blur = Blur(psf, image.shape, boundary, backend, method)
    if x0 is None:
        x = np.array(image, dtype=dtype, copy=True)
        if blur.crop is not None:
            x = np.pad(x, [(c.start, e - c.stop) for c, e in zip(blur.crop, blur.est_shape)],
                       mode="edge")
    else:
        x0 = real_array(x0, "x0", dtype)
        if x0.shape != blur.est_shape:
            raise ValueError(f"x0 must have shape {blur.est_shape}, got {x0.shape}")
        v.check_finite(x0, "x0")
        x = x0.copy()
    resid = np.empty(image.shape, dtype)
    tau = dtype.type(step)
    bar = Progress(num_iter, "landweber") if progress else None
    for i in range(num_iter):
        np.subtract(image, blur.forward(x), out=resid)
        grad = blur.adjoint(resid)
        x += tau * grad
        if nonneg:
            np.maximum(x, 0, out=x)
        if bar is not None:
            bar.update(i + 1)
        if callback is not None and callback(i, x):
            break
    if bar is not None:
        bar.close()
    out = x[blur.crop] if blur.crop is not None else x
    return np.ascontiguousarray(out)
