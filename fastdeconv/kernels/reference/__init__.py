"""Reference backend: naive Python loops, independent of the fast kernels."""
from .direct import correlate_terms, correlate_terms_parallel
from .elementwise import (biggs_dots, biggs_extrapolate, rl_ratio, rl_update,
                          tv_denominator, tv_gradient)

__all__ = ["correlate_terms", "correlate_terms_parallel", "rl_ratio", "rl_update",
           "tv_gradient", "tv_denominator", "biggs_extrapolate", "biggs_dots"]
