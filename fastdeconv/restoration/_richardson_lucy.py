"""Richardson–Lucy deconvolution: skimage-exact by default, and much more.

The blur and its adjoint are planned once per call (``_operators``: separable direct
passes for Gaussian-like PSFs, real FFTs with the PSF's spectrum computed once
otherwise); the elementwise steps run as fused kernels of the chosen backend
(``kernels/*/elementwise``) over preallocated buffers.
"""
import math

import numpy as np

from .. import _memory, _validation as v
from .._backends import kernels, resolve_backend, thread_limit
from ._model import BOUNDARIES, Blur, check_psf_nonzero, real_array
from .._progress import Progress

__all__ = ["richardson_lucy"]

_EPS = 1e-12  # skimage's guard against division by zero

# Between two FFTs an elementwise pass runs on the calling thread alone below this size:
# a threaded pass leaves its OpenMP workers spinning (~1 ms, see fastdeconv.kernels) on
# the cores the FFT library's threads need next.  Measured on 2 cores, 512^2 random-PSF
# RL: 3.2-3.6 ms per iteration with 1 thread, 3.9-4.1 ms with 2 when the ratio and update
# ran threaded.  From 2 Mi elements a pass takes about as long as the spin.
_FFT_NEIGHBOUR_MIN = 1 << 21


class _OneThread:
    """A kernel namespace whose every call runs with one thread."""

    def __init__(self, mod):
        self._mod = mod

    def __getattr__(self, name):
        kernel = getattr(self._mod, name)

        def call(*args):
            with thread_limit(1):
                return kernel(*args)
        setattr(self, name, call)  # built once per kernel, not per iteration
        return call


def _check_options(num_iter, acceleration, tv, boundary, stop, stop_tol, filter_epsilon):
    num_iter = v.check_int(num_iter, "num_iter", minimum=0)
    if acceleration not in (None, "biggs"):
        raise ValueError(f"acceleration must be None or 'biggs', got {acceleration!r}")
    if not isinstance(tv, (int, float, np.floating, np.integer)) or isinstance(tv, bool):
        raise TypeError(f"tv must be a number, got {type(tv).__name__}")
    if not (tv >= 0 and math.isfinite(tv)):
        raise ValueError(f"tv must be a finite number >= 0, got {tv}")
    if boundary not in BOUNDARIES:
        raise ValueError(f"boundary must be one of {BOUNDARIES}, got {boundary!r}")
    if stop not in (None, "discrepancy"):
        raise ValueError(f"stop must be None or 'discrepancy', got {stop!r}")
    if stop_tol is not None and not (isinstance(stop_tol, (int, float, np.floating))
                                     and stop_tol >= 0):
        raise ValueError(f"stop_tol must be a number >= 0 or None, got {stop_tol!r}")
    if filter_epsilon is not None and not isinstance(filter_epsilon,
                                                     (int, float, np.floating)):
        raise TypeError(f"filter_epsilon must be a number or None, got"
                        f" {type(filter_epsilon).__name__}")
    return num_iter


def richardson_lucy(image, psf, num_iter=50, clip=True, filter_epsilon=None, *,
                    boundary="fill", acceleration=None, tv=0.0, weights=None, x0=None,
                    stop_tol=None, stop=None, callback=None, progress=False,
                    method="auto", backend=None):
    """Richardson–Lucy deconvolution (``skimage.restoration.richardson_lucy`` semantics).

    With the defaults the result equals skimage's: the estimate starts at 0.5, each
    iteration is ``x *= H^T(image / (H x + 1e-12))`` with ``H`` the zero-filled 'same'
    convolution by ``psf`` and ``H^T`` the one by the flipped ``psf``, and the result
    is clipped to [-1, 1].

    Parameters
    ----------
    image : ndarray
        Blurred image, 1-D, 2-D or 3-D (any N-D), real.  float32 stays float32.
    psf : ndarray
        Point-spread function, same number of dimensions, non-negative, positive sum
        (not normalised here, as in skimage).
    num_iter : int, optional
        Number of iterations (the maximum when a stopping rule is given).
    clip : bool, optional
        Clip the result to [-1, 1] (skimage's convention for images in [0, 1]); pass
        ``False`` for count data.
    filter_epsilon : float, optional
        Where ``H x + 1e-12`` is below this value the ratio is set to 0.
    boundary : str, optional
        'fill' (skimage), 'wrap'/'periodic' (circular, FFT on the image's own grid),
        'symm', 'reflect', 'nearest' (the image extended like numpy.pad), or
        'noncirculant': the estimate lives on the image extended by the PSF and only
        observed pixels enter the data term (Bertero & Boccacci 2005); no edge
        ringing, the best choice for objects that cross the border.
    acceleration : {None, 'biggs'}, optional
        Biggs & Andrews (1997) vector extrapolation: similar quality in far fewer
        iterations.
    tv : float, optional
        Total-variation regularisation weight (Dey et al. 2006), e.g. 0.002; 0 = off.
    weights : ndarray, optional
        Per-pixel weights of the data term, same shape as ``image`` (0 masks bad
        pixels); the update is then normalised by ``H^T weights``.
    x0 : ndarray, optional
        Initial estimate (image-shaped, or the extended shape for 'noncirculant');
        default 0.5 everywhere, as skimage.
    stop_tol : float, optional
        Stop when ``||x_k+1 - x_k|| / ||x_k+1|| < stop_tol``.
    stop : {None, 'discrepancy'}, optional
        For Poisson count data: stop when ``2/N * KL(image, H x)`` falls to 1, the
        discrepancy principle.
    callback : callable, optional
        ``callback(i, estimate)`` after each iteration ``i`` (0-based); returning True
        stops.  ``estimate`` is the live buffer: copy it to keep it.
    progress : bool, optional
        Draw a progress bar on stderr.
    method : {'auto', 'direct', 'fft'}, optional
        How the blur is computed; 'auto' uses the cost model (separable PSFs usually
        go direct).
    backend : {'numba', 'cython', 'python'}, optional
        Backend of the fused elementwise kernels and direct passes.

    Returns
    -------
    ndarray
        The restored image, shape and float dtype of ``image``.

    Raises
    ------
    ValueError
        NaN/Inf in image or PSF, negative PSF values or an all-zero PSF, rank mismatch,
        negative ``num_iter``, unknown options, badly shaped ``weights``/``x0``,
        negative or all-zero ``weights``.
    TypeError
        Non-numeric inputs; complex ``image``, ``psf``, ``weights`` or ``x0``.

    See Also
    --------
    skimage.restoration.richardson_lucy, landweber, blind_richardson_lucy

    Notes
    -----
    Memory: the estimate, the image and about six image-sized float buffers (plus
    ``ndim`` more with ``tv``, three more with ``acceleration``); the FFT path adds
    its padded spectra.

    References
    ----------
    .. [1] W. H. Richardson, J. Opt. Soc. Am. 62, 55 (1972); L. B. Lucy, Astron. J. 79,
       745 (1974).
    .. [2] D. S. C. Biggs and M. Andrews, Appl. Opt. 36, 1766 (1997).
    .. [3] N. Dey et al., Microsc. Res. Tech. 69, 260 (2006).
    .. [4] M. Bertero and P. Boccacci, Astron. Astrophys. 437, 369 (2005).

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv import richardson_lucy, convolve
    >>> from fastdeconv.psf import gaussian
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.random((64, 64))
    >>> psf = gaussian((9, 9), 1.5)
    >>> blurred = convolve(truth, psf, mode='same')
    >>> restored = richardson_lucy(blurred, psf, num_iter=30)
    >>> restored.shape, restored.dtype
    ((64, 64), dtype('float64'))
    """
    psf = v.as_numeric(psf, "psf")
    check_psf_nonzero(psf)  # before check_image_psf: every method words this one alike
    image, psf, dtype = v.check_image_psf(image, psf, positive_psf=True)
    num_iter = _check_options(num_iter, acceleration, tv, boundary, stop, stop_tol,
                              filter_epsilon)
    backend = resolve_backend(backend)
    if method not in ("auto", "direct", "fft"):
        raise ValueError(f"method must be 'auto', 'direct' or 'fft', got {method!r}")
    ew = kernels(backend)
    blur = Blur(psf, image.shape, boundary, backend, method)
    est_shape = blur.est_shape
    if "fft" in (blur.forward.kind, blur.adjoint.kind) and (
            math.prod(est_shape) < _FFT_NEIGHBOUR_MIN):
        ew = _OneThread(ew)
    t = dtype.type

    w = np.empty(0, dtype)
    norm = np.empty(0, dtype)
    if weights is not None:
        weights = real_array(weights, "weights", dtype)
        if weights.shape != image.shape:
            raise ValueError(f"weights must have the image's shape {image.shape},"
                             f" got {weights.shape}")
        v.check_finite(weights, "weights")
        if (weights < 0).any():
            raise ValueError("weights must be non-negative")
        # all zero: no pixel is observed, so there is nothing to fit (and the
        # discrepancy rule would divide by the count of observed pixels)
        if not weights.any():
            raise ValueError("weights must have at least one positive value (0 masks a"
                             " pixel; all of them are masked)")
        w = weights.reshape(-1)
    if weights is not None or boundary == "noncirculant":
        norm = blur.normaliser(weights, psf)

    if x0 is None:
        x = _memory.full(est_shape, 0.5, dtype)
    else:
        x0 = real_array(x0, "x0", dtype)
        v.check_finite(x0, "x0")
        if x0.shape == est_shape:
            x = x0.copy()
        elif x0.shape == image.shape and blur.crop is not None:
            x = np.pad(x0, [(c.start, e - c.stop) for c, e in zip(blur.crop, est_shape)],
                       mode="edge")
        else:
            raise ValueError(f"x0 must have shape {est_shape}, got {x0.shape}")
    xf = x.reshape(-1)
    yf = image.reshape(-1)
    ratio = np.empty(image.shape, dtype)
    rf = ratio.reshape(-1)
    eps = t(_EPS)
    threshold = t(filter_epsilon) if filter_epsilon else t(-np.inf)
    want_kl = stop == "discrepancy"
    n_obs = float(np.count_nonzero(w)) if w.size else float(image.size)

    use_tv = tv > 0
    if use_tv:
        sizes = np.array(est_shape, dtype=np.int64)
        strides = np.array([s // dtype.itemsize for s in x.strides], dtype=np.int64)
        grad = np.empty(len(est_shape) * x.size, dtype)
        denom = np.empty(x.size, dtype)
    else:
        denom = np.empty(0, dtype)
    if acceleration == "biggs":
        x_prev = xf.copy()
        y = np.empty_like(xf)
        g = np.zeros_like(xf)
        g_prev = np.zeros_like(xf)
    bar = Progress(num_iter, "richardson_lucy") if progress else None

    for i in range(num_iter):
        if acceleration == "biggs" and i >= 2:
            alpha = _biggs_alpha(dot_gg, norm_gg)
            ew.biggs_extrapolate(xf, x_prev, t(alpha), y)
            _memory.copy(xf, x_prev)
            _memory.copy(y, xf)
        elif acceleration == "biggs":
            _memory.copy(xf, x_prev)
        conv = blur.forward(x)
        kl = ew.rl_ratio(yf, conv.reshape(-1), w, rf, eps, threshold, want_kl)
        if want_kl and 2.0 * kl / n_obs <= 1.0:
            break
        corr = blur.adjoint(ratio)
        if use_tv:
            ew.tv_gradient(xf, sizes, strides, t(1e-3) if dtype == np.float32 else t(1e-8),
                           grad)
            ew.tv_denominator(grad, sizes, strides, t(tv), denom)
        if acceleration == "biggs":
            _memory.copy(xf, y)
        change2, norm2 = ew.rl_update(xf, corr.reshape(-1), norm, denom, stop_tol is not None)
        if acceleration == "biggs":
            g, g_prev = g_prev, g
            dot_gg, norm_gg = ew.biggs_dots(xf, y, g, g_prev)
        if bar is not None:
            bar.update(i + 1)
        if callback is not None and callback(i, x):
            break
        if stop_tol is not None and norm2 > 0 and math.sqrt(change2 / norm2) < stop_tol:
            break
    if bar is not None:
        bar.close()
    out = x[blur.crop] if blur.crop is not None else x
    out = _memory.contiguous(out)
    if clip:
        _memory.clip(out, -1, 1)
    return out


def _biggs_alpha(dot, norm):
    # Biggs & Andrews' acceleration parameter, clamped to [0, 1) for stability
    if norm <= 0:
        return 0.0
    return min(max(dot / norm, 0.0), 0.999)
