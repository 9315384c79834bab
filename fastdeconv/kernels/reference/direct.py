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


def correlate2d_mapped(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out, OH, OW,
                       lo, hi, edges, band, chunk):
    """``out[p, o, j] = sum_k weights[k] * X(p, rowmap[o + tap_r[k]], colmap[j + tap_c[k]])``
    with ``X = fill[0]`` where a map is -1; columns outside ``[lo, hi)`` only if ``edges``
    (contract in ``kernels/numba/direct.py``)."""
    planes = out.size // (OH * OW)
    with np.errstate(all="ignore"):
        for p in range(planes):
            for o in range(OH):
                for j in range(OW):
                    if not edges and not lo <= j < hi:
                        continue
                    total = 0
                    for k in range(len(weights)):
                        i, m = rowmap[o + tap_r[k]], colmap[j + tap_c[k]]
                        value = fill[0] if i < 0 or m < 0 else x[(p * H + i) * W + m]
                        total = total + weights[k] * value
                    out[(p * OH + o) * OW + j] = total


correlate2d_mapped_parallel = correlate2d_mapped


def correlate2d_sweep(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, OH, OW, clo, chi,
                      band, strip):
    """``out[p, o, j] = sum_n sum_m wt[n * kh + m] * X(p, rowmap[o + m], colmap[j + n])``
    with ``X = fill[0]`` where a map is -1 (contract in ``kernels/numba/direct.py``)."""
    planes = out.size // (OH * OW)
    with np.errstate(all="ignore"):
        for p in range(planes):
            for o in range(OH):
                for j in range(OW):
                    total = 0
                    for n in range(kw):
                        for m in range(kh):
                            i, c = rowmap[o + m], colmap[j + n]
                            value = fill[0] if i < 0 or c < 0 else x[(p * H + i) * W + c]
                            total = total + wt[n * kh + m] * value
                    out[(p * OH + o) * OW + j] = total


correlate2d_sweep_parallel = correlate2d_sweep
