"""Reference backend: naive Python loops, independent of the fast kernels."""
from .direct import (correlate2d_mapped, correlate2d_mapped_parallel, correlate2d_sweep,
                     correlate2d_sweep_parallel, correlate_terms, correlate_terms_parallel)
from .memory import all_finite, clip, copy_pad_rows, fill
from .elementwise import (biggs_dots, biggs_extrapolate, rl_ratio, rl_update,
                          spectrum_multiply, tv_denominator, tv_gradient)

__all__ = ["correlate_terms", "correlate_terms_parallel", "correlate2d_mapped",
           "correlate2d_mapped_parallel", "correlate2d_sweep", "correlate2d_sweep_parallel",
           "rl_ratio", "rl_update",
           "tv_gradient", "tv_denominator", "biggs_extrapolate", "biggs_dots",
           "spectrum_multiply", "all_finite", "fill", "clip", "copy_pad_rows"]
