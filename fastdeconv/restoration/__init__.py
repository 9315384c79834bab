"""Deconvolution and restoration (API.md §2)."""
from ._blind import blind_richardson_lucy
from ._fourier import inverse_filter, tikhonov, unsupervised_wiener, wiener
from ._landweber import landweber
from ._polynomial import deconvolve
from ._richardson_lucy import richardson_lucy

__all__ = ["deconvolve", "inverse_filter", "wiener", "unsupervised_wiener", "tikhonov",
           "richardson_lucy", "landweber", "blind_richardson_lucy"]
