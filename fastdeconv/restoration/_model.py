"""The blur model shared by the iterative methods (RL, Landweber, blind RL)."""
import numpy as np

from .. import _validation as v
from .._operators import PeriodicPlan, plan_convolution
from ..convolution import _windows

BOUNDARIES = ("fill", "wrap", "periodic", "circular", "symm", "symmetric", "reflect",
              "mirror", "nearest", "edge", "noncirculant")


class Blur:
    """Forward ``H`` and adjoint ``H^T`` of the RL model for one boundary mode.

    ``H`` maps the estimate domain (``est_shape``) to the image domain; for
    'noncirculant' the estimate domain is the image extended by the PSF (Bertero &
    Boccacci 2005) and ``crop`` recovers the image-sized part.
    """

    def __init__(self, psf, shape, boundary, backend, method="auto"):
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
            self.adjoint = plan_convolution(flipped, shape,
                                            _windows(shape, kshape, axes, "full"),
                                            "constant", backend, method, pool)
            self.crop = tuple(slice(kk - 1 - (kk - 1) // 2, kk - 1 - (kk - 1) // 2 + n)
                              for n, kk in zip(shape, kshape))
            return
        self.est_shape = tuple(shape)
        pad_mode = v.check_boundary(boundary)
        if pad_mode == "wrap" and method != "direct":
            self.forward = PeriodicPlan(psf, shape, [(kk - 1) // 2 for kk in kshape])
            self.adjoint = PeriodicPlan(flipped, shape, [(kk - 1) // 2 for kk in kshape])
            return
        wins = _windows(shape, kshape, axes, "same")
        self.forward = plan_convolution(psf, shape, wins, pad_mode, backend, method, pool)
        self.adjoint = plan_convolution(flipped, shape, wins, pad_mode, backend, method, pool)


