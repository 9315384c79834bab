"""Deconvolution and restoration (API.md §2)."""
from ._blind import blind_richardson_lucy
from ._landweber import landweber
from ._richardson_lucy import richardson_lucy

__all__ = ["richardson_lucy", "landweber", "blind_richardson_lucy"]
