"""Blind Richardson–Lucy deconvolution: alternate RL on the image and on the PSF."""
import numpy as np

from .. import _validation as v
from .._backends import resolve_backend
from .._progress import Progress
from ..convolution import correlate
from ._model import check_psf_nonzero, real_array
from ._richardson_lucy import richardson_lucy

__all__ = ["blind_richardson_lucy"]


def _check_fits(psf_shape, image_shape):
    # The PSF step reads the lags of a 'full' correlation that its taps see; a PSF
    # longer than the image along an axis has taps that see no pixel, and the lag
    # window then falls outside that correlation (numpy reported a broadcast error).
    for a, (k, n) in enumerate(zip(psf_shape, image_shape)):
        if k > n:
            raise ValueError(f"psf_shape_or_init gives a PSF of shape {tuple(psf_shape)},"
                             f" larger than image {tuple(image_shape)} along axis {a}"
                             f" ({k} > {n}); the PSF must fit inside the image")


def _initial_psf(psf_shape_or_init, image_shape, dtype):
    ndim = len(image_shape)
    arg = psf_shape_or_init
    if isinstance(arg, (int, np.integer)) and not isinstance(arg, bool):
        arg = (int(arg),) * ndim
    if isinstance(arg, tuple) and all(isinstance(n, (int, np.integer)) for n in arg):
        if len(arg) != ndim or any(n < 1 for n in arg):
            raise ValueError(f"psf_shape_or_init as a shape must have {ndim} positive"
                             f" sizes, got {arg}")
        _check_fits(arg, image_shape)
        psf = np.ones(arg, dtype=dtype)  # flat start: no prior on the PSF's form
    else:
        psf = real_array(arg, "psf_shape_or_init", dtype)
        if psf.ndim != ndim:
            raise ValueError(f"psf_shape_or_init must have {ndim} dimensions like image,"
                             f" got {psf.ndim}")
        if psf.size == 0:
            raise ValueError("psf_shape_or_init must not be empty")
        _check_fits(psf.shape, image_shape)
        v.check_finite(psf, "psf_shape_or_init")
        if (psf < 0).any():
            raise ValueError("psf_shape_or_init must be non-negative")
        check_psf_nonzero(psf, "psf_shape_or_init")
        psf = psf.copy()
    return psf / psf.sum()


def _taps_window(estimate, psf_shape):
    # lags of correlate(r, estimate, 'full') that the PSF's taps see in a 'same' blur
    return tuple(slice(n - 1 - (kk - 1) // 2, n - 1 - (kk - 1) // 2 + kk)
                 for n, kk in zip(estimate.shape, psf_shape))


def _psf_step(image, estimate, psf, eps, norm):
    """One RL step on the PSF with the estimate as the blur (support kept).

    ``norm`` is ``H_x^T 1`` at the PSF's taps (see :func:`_psf_norm`).
    """
    blurred = correlate(estimate, np.flip(psf), mode="same", method="fft")
    ratio = image / (blurred + eps)
    grad = correlate(ratio, estimate, mode="full", method="fft")[
        _taps_window(estimate, psf.shape)]
    new = psf * np.maximum(grad, 0) / np.where(norm > 0, norm, 1)
    total = new.sum()
    # No tap sees any signal (an all-zero image or estimate): the data say nothing
    # about the PSF, so it stays as it was (a zero PSF would stop the image step).
    return new / total if total > 0 else psf


def _psf_norm(estimate, psf_shape):
    ones = np.ones_like(estimate)
    return correlate(ones, estimate, mode="full", method="fft")[
        _taps_window(estimate, psf_shape)]


def blind_richardson_lucy(image, psf_shape_or_init, num_iter=30, *, psf_iter=5,
                          image_iter=1, clip=False, progress=False, backend=None):
    """Blind deconvolution by alternating Richardson–Lucy (Fish et al. 1995).

    Each of ``num_iter`` rounds runs ``psf_iter`` RL steps on the PSF (with the current
    estimate as the blur) and ``image_iter`` RL steps on the image (with the current
    PSF).  The PSF stays non-negative, sums to 1 and keeps its support.

    Parameters
    ----------
    image : ndarray
        Blurred, non-negative image (any dimension); float32 stays float32.
    psf_shape_or_init : int, tuple of int or ndarray
        The PSF's support shape (flat start) or an initial guess.
    num_iter : int, optional
        Number of alternation rounds.
    psf_iter : int, optional
        PSF updates per round.
    image_iter : int, optional
        Image updates per round.
    clip : bool, optional
        Clip the estimate to [-1, 1] at the end (skimage's convention).
    progress : bool, optional
        Show a progress bar.
    backend : {'numba', 'cython', 'python'}, optional

    Returns
    -------
    estimate : ndarray
        Restored image (shape and dtype of ``image``).
    psf : ndarray
        Estimated PSF, non-negative, summing to 1.

    Raises
    ------
    ValueError
        Empty, negative or non-finite image; an initial PSF that is negative,
        non-finite or all zeros, of the wrong rank, or larger than the image along an
        axis; bad iteration counts.
    TypeError
        Non-numeric inputs; a complex image or initial PSF.

    See Also
    --------
    richardson_lucy

    References
    ----------
    .. [1] D. A. Fish, A. M. Brinicombe, E. R. Pike and J. G. Walker, J. Opt. Soc. Am.
       A 12, 58 (1995).

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import blind_richardson_lucy
    >>> img = np.random.default_rng(0).random((32, 32))
    >>> est, psf = blind_richardson_lucy(img, (5, 5), num_iter=3)
    >>> psf.shape, round(float(psf.sum()), 6)
    ((5, 5), 1.0)
    """
    image = v.as_numeric(image, "image")
    if image.size == 0:
        raise ValueError("image must not be empty")
    dtype = v.float_dtype(image)
    image = v.kernel_array(image, dtype)
    v.check_finite(image, "image")
    if (image < 0).any():
        raise ValueError("image must be non-negative for blind Richardson-Lucy")
    num_iter = v.check_int(num_iter, "num_iter", minimum=0)
    psf_iter = v.check_int(psf_iter, "psf_iter", minimum=0)
    image_iter = v.check_int(image_iter, "image_iter", minimum=1)
    backend = resolve_backend(backend)
    psf = _initial_psf(psf_shape_or_init, image.shape, dtype)
    estimate = np.full(image.shape, max(float(image.mean()), 1e-6), dtype=dtype)
    eps = dtype.type(1e-12)
    bar = Progress(num_iter, "blind_richardson_lucy") if progress else None
    for i in range(num_iter):
        norm = _psf_norm(estimate, psf.shape) if psf_iter else None
        for _ in range(psf_iter):
            psf = _psf_step(image, estimate, psf, eps, norm).astype(dtype, copy=False)
        estimate = richardson_lucy(image, psf, image_iter, clip=False, x0=estimate,
                                   backend=backend)
        if bar is not None:
            bar.update(i + 1)
    if bar is not None:
        bar.close()
    if clip:
        np.clip(estimate, -1, 1, out=estimate)
    return estimate, np.ascontiguousarray(psf)
