"""Numba fused elementwise kernels of the iterative restoration methods.

Kernel contract (shared with ``kernels/cython/elementwise`` and
``kernels/reference/elementwise``): flat C-contiguous arrays of one float dtype
(float32 or float64), scalars of that dtype, outputs preallocated; an optional array
is passed with length 0 to mean "absent".  Nothing is checked or allocated here.  Each
kernel is one pass over memory; reductions accumulate in float64.

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
"""
import math

import numpy as np

from ._config import kernel_jit


@kernel_jit
def rl_ratio(image, conv, weights, out, eps, threshold, want_kl):
    n = image.shape[0]
    weighted = weights.shape[0] > 0
    kl = 0.0
    for i in range(n):
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
def rl_update(x, corr, norm, denom, want_change):
    n = x.shape[0]
    use_norm = norm.shape[0] > 0
    use_denom = denom.shape[0] > 0
    change2 = 0.0
    norm2 = 0.0
    if not want_change:
        for i in range(n):
            f = corr[i]
            if use_norm:
                d = norm[i]
                f = f / d if d != 0 else 1
            if use_denom:
                f = f / denom[i]
            x[i] = x[i] * f
        return change2, norm2
    for i in range(n):
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
def tv_gradient(x, sizes, strides, eps, grad):
    n = x.shape[0]
    ndim = sizes.shape[0]
    eps2 = eps * eps
    for i in range(n):
        total = eps2
        for a in range(ndim):
            coord = (i // strides[a]) % sizes[a]
            g = x[i + strides[a]] - x[i] if coord + 1 < sizes[a] else 0
            grad[a * n + i] = g
            total += g * g
        inv = 1 / math.sqrt(total)
        for a in range(ndim):
            grad[a * n + i] *= inv


@kernel_jit
def tv_denominator(grad, sizes, strides, lam, out):
    n = out.shape[0]
    ndim = sizes.shape[0]
    for i in range(n):
        div = 0
        for a in range(ndim):
            coord = (i // strides[a]) % sizes[a]
            div += grad[a * n + i]
            if coord > 0:
                div -= grad[a * n + i - strides[a]]
        d = 1 - lam * div
        out[i] = d if d > 1e-4 else 1e-4


@kernel_jit
def biggs_extrapolate(x, x_prev, alpha, y):
    for i in range(x.shape[0]):
        v = x[i] + alpha * (x[i] - x_prev[i])
        y[i] = v if v > 0 else 0


@kernel_jit
def biggs_dots(x_new, y, g, g_prev):
    dot = 0.0
    norm = 0.0
    for i in range(x_new.shape[0]):
        gi = x_new[i] - y[i]
        g[i] = gi
        dot += np.float64(gi) * np.float64(g_prev[i])
        norm += np.float64(g_prev[i]) * np.float64(g_prev[i])
    return dot, norm
