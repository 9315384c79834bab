"""Reference backend: naive Python loops, independent of the fast kernels."""
from .direct import correlate_terms, correlate_terms_parallel

__all__ = ["correlate_terms", "correlate_terms_parallel"]
