"""Numba fused elementwise kernels of the iterative restoration methods.

Kernel contract (shared with ``kernels/cython/elementwise`` and
``kernels/reference/elementwise``): flat C-contiguous arrays of one float dtype
(float32 or float64), scalars of that dtype, outputs preallocated; an optional array
is passed with length 0 to mean "absent".  Nothing is checked here, and nothing is
allocated but the per-block sums of a parallel reduction (below).  Each kernel is one
pass over memory; reductions accumulate in float64.

- ``rl_ratio(image, conv, weights, out, eps, threshold, want_kl) -> kl``:
  ``c = conv + eps``; ``out = image / c`` (0 where ``c < threshold``), times
  ``weights`` if given; returns ``sum(w * (y log(y / c) - y + c))`` when ``want_kl``
  (Poisson deviance / 2, ``0 log 0 = 0``), else 0.
- ``rl_update(x, corr, norm, denom, want_change) -> (change2, norm2)``:
  ``x *= corr / norm / denom`` (each divisor only if given; where ``norm`` is 0, x is
  left unchanged); returns ``sum((x_new - x_old)^2)`` and ``sum(x_new^2)`` when
  ``want_change``, else (0, 0) from a loop without reductions (which vectorises: the
  float64 sums, kept in order, would not).
- ``tv_gradient(x, sizes, strides, eps, grad)``: forward differences along every axis
  (0 on the last plane), normalised by ``sqrt(sum_a g_a^2 + eps^2)``; ``grad`` holds
  ``ndim`` planes of ``x.size`` values.
- ``tv_denominator(grad, sizes, strides, lam, out)``: ``out = 1 - lam * div(grad)``
  with backward differences (Neumann boundary), clamped below at 1e-4 so the
  multiplicative update stays positive (Dey et al. 2006).
- ``biggs_extrapolate(x, x_prev, alpha, y)``: ``y = max(x + alpha (x - x_prev), 0)``.
- ``biggs_dots(x_new, y, g, g_prev) -> (dot, norm)``: ``g = x_new - y``; returns
  ``sum(g * g_prev)`` and ``sum(g_prev^2)``.
- ``spectrum_multiply(spec, kspec)``: ``spec[r * n + j] *= kspec[j]`` for complex64 or
  complex128 ``spec`` of length ``m * n`` and ``kspec`` of length ``n`` (``m`` rows
  times one spectrum; ``m = 1`` is the plain product), each product rounded as
  ``re = fma(a, c, -b d)``, ``im = fma(b, c, a d)`` for ``(a + ib)(c + id)`` (how
  Numba's contracted complex product rounds; csrc writes it out).

Parallel variants: every kernel ``NAME`` has a twin ``NAME_parallel`` (same arguments,
``parallel=True``) that runs the same loops over the same blocks of
``BLOCK`` elements (``spectrum_multiply``: of one row) with ``prange`` over
the blocks; the package's ``NAME`` (``kernels/numba/__init__.py``) picks it from
``PARALLEL_MIN_ELEMENTS`` elements (``PARALLEL_MIN_ELEMENTS_LIGHT`` for the passes
without a reduction; both in ``fastdeconv/kernels/__init__.py``) when more than one
thread is allowed.  Both
variants sum a reduction in float64 within each block, in index order, then over the
blocks in block order (the serial variant too), so the results are the same bit for bit
whatever the thread count; the parallel variant keeps the per-block sums in an array of
``nblocks`` float64 (64 for a 1024 x 1024 image), its only allocation.  Every element
has one writer (the TV kernels read the neighbours of ``x``/``grad`` only), so the
elementwise outputs do not depend on the blocks either.
"""
import math

import numpy as np
from numba import prange

from ._config import kernel_jit

# Every variant splits the flat range into blocks of BLOCK elements: the serial loop sums
# its reductions block by block in the order the parallel one does, so a sum does not
# depend on the thread count (nor on the backend: csrc/elementwise.pyx has the same
# value, checked by tests/test_elementwise.py).  16 Ki elements (64-128 KiB) keep each
# block's inner loop long enough to vectorise and the per-block sums few (64 for a
# 1024 x 1024 image).  A literal, not imported: Numba's disk cache freezes a global's
# value and would not see an edit made in another module.
BLOCK = 1 << 14


@kernel_jit
def _nblocks(n):
    return (n + BLOCK - 1) // BLOCK


# Block helpers index with uint64 (``_u``): with signed indices Numba must allow for
# negative ones (wraparound), which kept the loops from vectorising (rl_ratio on 1 Mi
# float32: 1.2 ms instead of 0.18 ms).  The loop bodies are the pre-blocking ones
# unchanged (so are the dtypes Numba infers for them).

@kernel_jit(inline="always")
def _u(i):
    return np.uint64(i)


# ------------------------------------------------------------------------ rl_ratio

@kernel_jit
def _rl_ratio_block(image, conv, weights, out, eps, threshold, want_kl, start, stop):
    weighted = weights.shape[0] > 0
    kl = 0.0
    for i in range(_u(start), _u(stop)):
        c = conv[i] + eps
        y = image[i]
        r = y / c
        if c < threshold:
            r = 0
        if weighted:
            r *= weights[i]
        out[i] = r
        if want_kl:
            term = np.float64(c) - np.float64(y)
            if y > 0:
                term += np.float64(y) * math.log(np.float64(y) / np.float64(c))
            if weighted:
                term *= np.float64(weights[i])
            kl += term
    return kl


@kernel_jit
def rl_ratio(image, conv, weights, out, eps, threshold, want_kl):
    n = image.shape[0]
    kl = 0.0
    for b in range(_nblocks(n)):
        kl += _rl_ratio_block(image, conv, weights, out, eps, threshold, want_kl,
                              b * BLOCK, min(n, (b + 1) * BLOCK))
    return kl


@kernel_jit(parallel=True)
def rl_ratio_parallel(image, conv, weights, out, eps, threshold, want_kl):
    n = image.shape[0]
    nb = _nblocks(n)
    part = np.empty(nb, np.float64)
    for b in prange(nb):
        part[b] = _rl_ratio_block(image, conv, weights, out, eps, threshold, want_kl,
                                  b * BLOCK, min(n, (b + 1) * BLOCK))
    kl = 0.0
    for b in range(nb):
        kl += part[b]
    return kl


# ------------------------------------------------------------------------ rl_update

@kernel_jit
def _rl_update_block(x, corr, norm, denom, start, stop):
    # the want_change=False loop: no reduction, so it vectorises
    use_norm = norm.shape[0] > 0
    use_denom = denom.shape[0] > 0
    for i in range(_u(start), _u(stop)):
        f = corr[i]
        if use_norm:
            d = norm[i]
            f = f / d if d != 0 else 1
        if use_denom:
            f = f / denom[i]
        x[i] = x[i] * f


@kernel_jit
def _rl_update_change_block(x, corr, norm, denom, start, stop):
    use_norm = norm.shape[0] > 0
    use_denom = denom.shape[0] > 0
    change2 = 0.0
    norm2 = 0.0
    for i in range(_u(start), _u(stop)):
        old = x[i]
        f = corr[i]
        if use_norm:
            d = norm[i]
            f = f / d if d != 0 else 1
        if use_denom:
            f = f / denom[i]
        new = old * f
        x[i] = new
        diff = np.float64(new) - np.float64(old)
        change2 += diff * diff
        norm2 += np.float64(new) * np.float64(new)
    return change2, norm2


@kernel_jit
def rl_update(x, corr, norm, denom, want_change):
    n = x.shape[0]
    change2 = 0.0
    norm2 = 0.0
    if not want_change:
        for b in range(_nblocks(n)):
            _rl_update_block(x, corr, norm, denom, b * BLOCK, min(n, (b + 1) * BLOCK))
        return change2, norm2
    for b in range(_nblocks(n)):
        c2, n2 = _rl_update_change_block(x, corr, norm, denom, b * BLOCK,
                                         min(n, (b + 1) * BLOCK))
        change2 += c2
        norm2 += n2
    return change2, norm2


@kernel_jit(parallel=True)
def rl_update_parallel(x, corr, norm, denom, want_change):
    n = x.shape[0]
    nb = _nblocks(n)
    change2 = 0.0
    norm2 = 0.0
    if not want_change:
        for b in prange(nb):
            _rl_update_block(x, corr, norm, denom, b * BLOCK, min(n, (b + 1) * BLOCK))
        return change2, norm2
    part = np.empty((nb, 2), np.float64)
    for b in prange(nb):
        c2, n2 = _rl_update_change_block(x, corr, norm, denom, b * BLOCK,
                                         min(n, (b + 1) * BLOCK))
        part[b, 0] = c2
        part[b, 1] = n2
    for b in range(nb):
        change2 += part[b, 0]
        norm2 += part[b, 1]
    return change2, norm2


# ------------------------------------------------------------------------ TV

@kernel_jit
def _tv_gradient_block(x, sizes, strides, eps, grad, start, stop):
    n = _u(x.shape[0])
    ndim = sizes.shape[0]
    eps2 = eps * eps
    for i in range(_u(start), _u(stop)):
        total = eps2
        for a in range(ndim):
            s = _u(strides[a])
            coord = (i // s) % _u(sizes[a])
            g = x[i + s] - x[i] if coord + _u(1) < _u(sizes[a]) else 0
            grad[_u(a) * n + i] = g
            total += g * g
        inv = 1 / math.sqrt(total)
        for a in range(ndim):
            grad[_u(a) * n + i] *= inv


@kernel_jit
def tv_gradient(x, sizes, strides, eps, grad):
    n = x.shape[0]
    for b in range(_nblocks(n)):
        _tv_gradient_block(x, sizes, strides, eps, grad, b * BLOCK, min(n, (b + 1) * BLOCK))


@kernel_jit(parallel=True)
def tv_gradient_parallel(x, sizes, strides, eps, grad):
    n = x.shape[0]
    for b in prange(_nblocks(n)):
        _tv_gradient_block(x, sizes, strides, eps, grad, b * BLOCK, min(n, (b + 1) * BLOCK))


@kernel_jit
def _tv_denominator_block(grad, sizes, strides, lam, out, start, stop):
    n = _u(out.shape[0])
    ndim = sizes.shape[0]
    for i in range(_u(start), _u(stop)):
        div = 0
        for a in range(ndim):
            s = _u(strides[a])
            coord = (i // s) % _u(sizes[a])
            div += grad[_u(a) * n + i]
            if coord > _u(0):
                div -= grad[_u(a) * n + i - s]
        d = 1 - lam * div
        out[i] = d if d > 1e-4 else 1e-4


@kernel_jit
def tv_denominator(grad, sizes, strides, lam, out):
    n = out.shape[0]
    for b in range(_nblocks(n)):
        _tv_denominator_block(grad, sizes, strides, lam, out, b * BLOCK,
                              min(n, (b + 1) * BLOCK))


@kernel_jit(parallel=True)
def tv_denominator_parallel(grad, sizes, strides, lam, out):
    n = out.shape[0]
    for b in prange(_nblocks(n)):
        _tv_denominator_block(grad, sizes, strides, lam, out, b * BLOCK,
                              min(n, (b + 1) * BLOCK))


# ------------------------------------------------------------------------ Biggs

@kernel_jit
def _biggs_extrapolate_block(x, x_prev, alpha, y, start, stop):
    for i in range(_u(start), _u(stop)):
        v = x[i] + alpha * (x[i] - x_prev[i])
        y[i] = v if v > 0 else 0


@kernel_jit
def biggs_extrapolate(x, x_prev, alpha, y):
    n = x.shape[0]
    for b in range(_nblocks(n)):
        _biggs_extrapolate_block(x, x_prev, alpha, y, b * BLOCK, min(n, (b + 1) * BLOCK))


@kernel_jit(parallel=True)
def biggs_extrapolate_parallel(x, x_prev, alpha, y):
    n = x.shape[0]
    for b in prange(_nblocks(n)):
        _biggs_extrapolate_block(x, x_prev, alpha, y, b * BLOCK, min(n, (b + 1) * BLOCK))


@kernel_jit
def _biggs_dots_block(x_new, y, g, g_prev, start, stop):
    dot = 0.0
    norm = 0.0
    for i in range(_u(start), _u(stop)):
        gi = x_new[i] - y[i]
        g[i] = gi
        dot += np.float64(gi) * np.float64(g_prev[i])
        norm += np.float64(g_prev[i]) * np.float64(g_prev[i])
    return dot, norm


@kernel_jit
def biggs_dots(x_new, y, g, g_prev):
    n = x_new.shape[0]
    dot = 0.0
    norm = 0.0
    for b in range(_nblocks(n)):
        d, s = _biggs_dots_block(x_new, y, g, g_prev, b * BLOCK, min(n, (b + 1) * BLOCK))
        dot += d
        norm += s
    return dot, norm


@kernel_jit(parallel=True)
def biggs_dots_parallel(x_new, y, g, g_prev):
    n = x_new.shape[0]
    nb = _nblocks(n)
    part = np.empty((nb, 2), np.float64)
    for b in prange(nb):
        d, s = _biggs_dots_block(x_new, y, g, g_prev, b * BLOCK, min(n, (b + 1) * BLOCK))
        part[b, 0] = d
        part[b, 1] = s
    dot = 0.0
    norm = 0.0
    for b in range(nb):
        dot += part[b, 0]
        norm += part[b, 1]
    return dot, norm


# ------------------------------------------------------------------------ spectra

@kernel_jit
def _spectrum_block(spec, kspec, base, start, stop):
    base = _u(base)
    for j in range(_u(start), _u(stop)):
        spec[base + j] = spec[base + j] * kspec[j]


@kernel_jit
def spectrum_multiply(spec, kspec):
    n = kspec.shape[0]
    rows = spec.shape[0] // n if n > 0 else 0
    for r in range(rows):
        _spectrum_block(spec, kspec, r * n, 0, n)


@kernel_jit(parallel=True)
def spectrum_multiply_parallel(spec, kspec):
    # work items: (row, block of the row); a row shorter than a block is one item
    n = kspec.shape[0]
    rows = spec.shape[0] // n if n > 0 else 0
    nb = _nblocks(n)
    for item in prange(rows * nb):
        r = item // nb
        b = item - r * nb
        _spectrum_block(spec, kspec, r * n, b * BLOCK, min(n, (b + 1) * BLOCK))


__all__ = ["rl_ratio", "rl_update", "tv_gradient", "tv_denominator", "biggs_extrapolate",
           "biggs_dots", "spectrum_multiply", "rl_ratio_parallel", "rl_update_parallel",
           "tv_gradient_parallel", "tv_denominator_parallel", "biggs_extrapolate_parallel",
           "biggs_dots_parallel", "spectrum_multiply_parallel", "BLOCK"]
