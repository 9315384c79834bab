"""Reference fused elementwise kernels: plain loops, one sample at a time.

Same names, arguments and contract as ``kernels/numba/elementwise.py`` (read its
docstring for each kernel's definition); written independently of it and slow by
design, for tests.
"""
import math


def rl_ratio(image, conv, weights, out, eps, threshold, want_kl):
    kl = 0.0
    for i in range(len(image)):
        c = conv[i] + eps
        r = 0 if c < threshold else image[i] / c
        w = weights[i] if len(weights) else 1
        out[i] = r * w
        if want_kl:
            y = float(image[i])
            term = float(c) - y + (y * math.log(y / float(c)) if y > 0 else 0.0)
            kl += term * float(w)
    return kl


def rl_update(x, corr, norm, denom, want_change):
    change2 = norm2 = 0.0
    for i in range(len(x)):
        factor = corr[i]
        if len(norm):
            factor = factor / norm[i] if norm[i] != 0 else 1
        if len(denom):
            factor = factor / denom[i]
        old = x[i]
        x[i] = old * factor
        if want_change:
            change2 += (float(x[i]) - float(old)) ** 2
            norm2 += float(x[i]) ** 2
    return change2, norm2


def _coords(i, strides, sizes):
    return [(i // s) % n for s, n in zip(strides, sizes)]


def tv_gradient(x, sizes, strides, eps, grad):
    n = len(x)
    for i in range(n):
        c = _coords(i, strides, sizes)
        g = [x[i + s] - x[i] if c[a] + 1 < sizes[a] else 0
             for a, s in enumerate(strides)]
        mag = math.sqrt(sum(float(v) ** 2 for v in g) + float(eps) ** 2)
        for a in range(len(sizes)):
            grad[a * n + i] = g[a] / mag


def tv_denominator(grad, sizes, strides, lam, out):
    n = len(out)
    for i in range(n):
        c = _coords(i, strides, sizes)
        div = 0.0
        for a, s in enumerate(strides):
            div += grad[a * n + i] - (grad[a * n + i - s] if c[a] > 0 else 0)
        out[i] = max(1 - lam * div, 1e-4)


def biggs_extrapolate(x, x_prev, alpha, y):
    for i in range(len(x)):
        y[i] = max(x[i] + alpha * (x[i] - x_prev[i]), 0)


def biggs_dots(x_new, y, g, g_prev):
    dot = norm = 0.0
    for i in range(len(x_new)):
        g[i] = x_new[i] - y[i]
        dot += float(g[i]) * float(g_prev[i])
        norm += float(g_prev[i]) ** 2
    return dot, norm


def spectrum_multiply(spec, kspec):
    n = len(kspec)
    for i in range(len(spec)):
        spec[i] = spec[i] * kspec[i % n]
