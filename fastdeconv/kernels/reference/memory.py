"""Reference memory passes: naive loops from the definitions in
``kernels/numba/memory.py`` (serial only), for tests."""
import math


def all_finite(a):
    return all(math.isfinite(float(v)) for v in a)


def fill(out, value):
    for i in range(len(out)):
        out[i] = value


def clip(a, lo, hi):
    for i in range(len(a)):
        v = a[i]
        if v < lo:
            v = lo
        if v > hi:
            v = hi
        a[i] = v


def copy_pad_rows(src, s_off, s_stride, rows, cols, dst, d_off, d_stride, drows, dcols):
    for r in range(drows):
        for j in range(dcols):
            dst[d_off + r * d_stride + j] = (src[s_off + r * s_stride + j]
                                             if r < rows and j < cols else 0)
