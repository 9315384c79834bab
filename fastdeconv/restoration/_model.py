"""The blur model shared by the iterative methods (RL, Landweber, blind RL)."""
import numpy as np

from .. import _validation as v
from .._operators import PeriodicPlan, plan_convolution
from ..convolution import _windows

BOUNDARIES = ("fill", "wrap", "periodic", "circular", "symm", "symmetric", "reflect",
              "mirror", "nearest", "edge", "noncirculant")

# FFT round-off in a normaliser H^T w, relative to its largest value, below which a
# pixel counts as unobserved (see Blur.normaliser).  The error of a real FFT
# convolution is a few eps times the largest value (pocketfft/ducc: O(eps sqrt(log n)));
# 64 eps leaves a wide margin and is still far below any tap a real PSF keeps.
_FFT_NOISE_EPS = 64


def real_array(a, name, dtype):
    """``a`` as a C-contiguous array of the float ``dtype``, refusing complex input.

    The restoration methods model real intensities: casting a complex array to real
    would silently drop its imaginary part (numpy only warns), so it is an error.
    """
    arr = v.as_numeric(a, name)
    if arr.dtype.kind == "c":
        raise TypeError(f"{name} must be real, got dtype {arr.dtype}; pass {name}.real"
                        " if dropping the imaginary part is what you mean")
    return v.kernel_array(arr, dtype)


def check_psf_nonzero(psf, name="psf"):
    """Refuse an all-zero PSF with the same message in every restoration method.

    Such a blur maps every image to 0, so there is nothing to invert: the Fourier
    filters would divide 0 by 0 (NaN) or return 0, the iterative ones divide by a zero
    normaliser.  An empty ``psf`` passes here (the callers report it as empty).
    """
    if psf.size and not psf.any():
        raise ValueError(f"{name} must have a non-zero element, got all zeros")


class Blur:
    """Forward ``H`` and adjoint ``H^T`` of the RL model for one boundary mode.

    ``H`` maps the estimate domain (``est_shape``) to the image domain; for
    'noncirculant' the estimate domain is the image extended by the PSF (Bertero &
    Boccacci 2005) and ``crop`` recovers the image-sized part.
    """

    def __init__(self, psf, shape, boundary, backend, method="auto"):
        self.shape = tuple(shape)
        self._plan_adjoint = self._build(psf, shape, boundary, backend, method)

    def _build(self, psf, shape, boundary, backend, method):
        """Set ``forward``/``adjoint``; return a function making the adjoint of another
        kernel of the PSF's shape (same boundary and method)."""
        nd = len(shape)
        kshape = psf.shape
        flipped = np.ascontiguousarray(np.flip(psf))
        axes = range(nd)
        self.crop = None
        pool = {}  # H and H^T never run at once: their direct plans share buffers
        if boundary == "noncirculant":
            est = tuple(n + kk - 1 for n, kk in zip(shape, kshape))
            self.est_shape = est
            self.forward = plan_convolution(psf, est, _windows(est, kshape, axes, "valid"),
                                            "constant", backend, method, pool)
            full = _windows(shape, kshape, axes, "full")

            def adjoint(k, pool=None):
                return plan_convolution(k, shape, full, "constant", backend, method, pool)

            self.adjoint = adjoint(flipped, pool)
            self.crop = tuple(slice(kk - 1 - (kk - 1) // 2, kk - 1 - (kk - 1) // 2 + n)
                              for n, kk in zip(shape, kshape))
            return adjoint
        self.est_shape = tuple(shape)
        pad_mode = v.check_boundary(boundary)
        if pad_mode == "wrap" and method != "direct":
            starts = [(kk - 1) // 2 for kk in kshape]

            def adjoint(k, pool=None):
                return PeriodicPlan(k, shape, starts, pool)

            self.forward = PeriodicPlan(psf, shape, starts, pool)
            self.adjoint = adjoint(flipped, pool)
            return adjoint
        wins = _windows(shape, kshape, axes, "same")

        def adjoint(k, pool=None):
            return plan_convolution(k, shape, wins, pad_mode, backend, method, pool)

        self.forward = plan_convolution(psf, shape, wins, pad_mode, backend, method, pool)
        self.adjoint = adjoint(flipped, pool)
        return adjoint

    def normaliser(self, weights, psf):
        """``H^T w`` (``w`` = ``weights``, or ones) as a new flat array, exactly 0 where
        no observed pixel of positive weight reaches through a nonzero tap.

        The multiplicative update divides by it and leaves pixels where it is 0
        unchanged.  A direct adjoint gives those zeros exactly; an FFT one gives round-off
        (±1e-17 relative) instead, and dividing by it made such pixels grow ~10x per
        iteration (PSFs with zero taps, masked pixels).  For FFT plans the support is
        therefore recomputed from indicators (integer counts, exact after rounding), and
        on every path values below the FFT's noise level (``_FFT_NOISE_EPS`` eps of the
        peak) count as unobserved.
        """
        dtype = psf.dtype
        w = weights if weights is not None else np.ones(self.shape, dtype)
        norm = np.array(self.adjoint(w), dtype=dtype, copy=True).reshape(-1)
        peak = float(np.max(np.abs(norm))) if norm.size else 0.0
        # the same floor on every path, so that FFT and direct freeze the same pixels
        # (a tap of 1e-17, a PSF generator's round-off, would otherwise leave a pixel
        # live on one path only, free to grow under Biggs extrapolation)
        floor = _FFT_NOISE_EPS * np.finfo(dtype).eps * peak
        if self.adjoint.kind == "fft" and (weights is not None or not np.all(psf)):
            taps = np.flip(psf != 0).astype(np.float64)
            seen = (np.asarray(weights) > 0 if weights is not None
                    else np.ones(self.shape, bool)).astype(np.float64)
            support = np.asarray(self._plan_adjoint(np.ascontiguousarray(taps))(seen))
            norm[support.reshape(-1) < 0.5] = 0
        norm[norm < floor] = 0
        return norm
