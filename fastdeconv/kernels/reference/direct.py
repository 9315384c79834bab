"""Reference direct correlation: the defining sum, one output sample at a time.

Same contract and arguments as ``kernels/numba/direct.py``; written from the definition
``out[o_off[r] + j] = sum_p weights[w_off[r] + p] * x[in_off[r] + offsets[p] + j]`` (for a valid
correlation the terms are the kernel taps, ``(I ⊛ K)[i, j] = Σ I[i+m, j+n] K[m, n]``),
sharing no code with the compiled kernels.  Slow by design; used by the tests.
"""
import numpy as np


def correlate_terms(x, offsets, weights, in_off, w_off, out, o_off, ncols, chunk):
    # IEEE results without numpy's warnings (0 * inf is NaN here as in compiled code)
    with np.errstate(all="ignore"):
        _correlate_terms(x, offsets, weights, in_off, w_off, out, o_off, ncols)


def _correlate_terms(x, offsets, weights, in_off, w_off, out, o_off, ncols):
    nterms = len(offsets)
    for r in range(len(in_off)):
        for j in range(ncols):
            total = 0
            for p in range(nterms):
                total = total + weights[w_off[r] + p] * x[in_off[r] + offsets[p] + j]
            out[o_off[r] + j] = total


# The reference has no threads: the parallel entry point is the same loop.
correlate_terms_parallel = correlate_terms
