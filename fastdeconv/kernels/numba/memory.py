"""Numba memory passes: the fills, clips, finiteness checks and padded copies that
numpy runs on one core, around the FFTs and the iterative methods.

Kernel contract (shared with ``kernels/cython/memory`` and ``kernels/reference/memory``);
nothing is checked here and nothing is allocated but the per-block flags of a parallel
check:

- ``all_finite(a) -> bool``: ``a`` flat C-contiguous float32/float64; False when any
  element is NaN or +-inf.
- ``fill(out, value)``: ``out[:] = value`` (flat C-contiguous float32/float64, ``value``
  of that dtype).
- ``clip(a, lo, hi)``: ``a = min(max(a, lo), hi)`` in place, NaN kept (as ``np.clip``).
- ``copy_pad_rows(src, s_off, s_stride, rows, cols, dst, d_off, d_stride, drows, dcols)``:
  ``src``/``dst`` flat uint8 views (any dtype, counted in bytes); row ``r < rows`` of
  the destination (``dcols`` bytes from ``d_off + r * d_stride``) gets the ``cols``
  bytes from ``s_off + r * s_stride`` followed by zeros, rows ``rows <= r < drows`` get
  zeros (``rows <= drows``, ``cols <= dcols``).  Source and destination must not overlap.

Every kernel ``NAME`` has a twin ``NAME_parallel`` (``prange`` over the same blocks:
``BLOCK`` elements, or ``CHUNK`` bytes of one row), picked by the package's ``NAME``
from ``PARALLEL_MIN_ELEMENTS_LIGHT`` elements when more than one thread is allowed
(``kernels/_dispatch.py``).  The results do not depend on the blocks.
"""
import numpy as np
from numba import prange

from ._config import kernel_jit

# Same value as elementwise.BLOCK (reasons there); a literal for Numba's disk cache.
BLOCK = 1 << 14
# Bytes of one row per work item of copy_pad_rows: rows longer than this (a 1-D signal
# is one row) are still shared among threads.
CHUNK = 1 << 16


@kernel_jit
def _nblocks(n, size):
    return (n + size - 1) // size


@kernel_jit(inline="always")
def _u(i):
    return np.uint64(i)


@kernel_jit
def _finite_block(a, start, stop):
    bad = 0
    for i in range(_u(start), _u(stop)):
        # false for NaN and for +-inf; an integer count (a select) vectorises
        if not (abs(a[i]) < np.inf):
            bad += 1
    return bad


@kernel_jit
def all_finite(a):
    n = a.shape[0]
    for b in range(_nblocks(n, BLOCK)):
        if _finite_block(a, b * BLOCK, min(n, (b + 1) * BLOCK)) > 0:
            return False
    return True


@kernel_jit(parallel=True)
def all_finite_parallel(a):
    n = a.shape[0]
    nb = _nblocks(n, BLOCK)
    bad = np.empty(nb, np.int64)
    for b in prange(nb):
        bad[b] = _finite_block(a, b * BLOCK, min(n, (b + 1) * BLOCK))
    for b in range(nb):
        if bad[b] > 0:
            return False
    return True


@kernel_jit
def _fill_block(out, value, start, stop):
    for i in range(_u(start), _u(stop)):
        out[i] = value


@kernel_jit
def fill(out, value):
    n = out.shape[0]
    for b in range(_nblocks(n, BLOCK)):
        _fill_block(out, value, b * BLOCK, min(n, (b + 1) * BLOCK))


@kernel_jit(parallel=True)
def fill_parallel(out, value):
    n = out.shape[0]
    for b in prange(_nblocks(n, BLOCK)):
        _fill_block(out, value, b * BLOCK, min(n, (b + 1) * BLOCK))


@kernel_jit
def _clip_block(a, lo, hi, start, stop):
    for i in range(_u(start), _u(stop)):
        v = a[i]
        if v < lo:
            v = lo
        if v > hi:
            v = hi
        a[i] = v


@kernel_jit
def clip(a, lo, hi):
    n = a.shape[0]
    for b in range(_nblocks(n, BLOCK)):
        _clip_block(a, lo, hi, b * BLOCK, min(n, (b + 1) * BLOCK))


@kernel_jit(parallel=True)
def clip_parallel(a, lo, hi):
    n = a.shape[0]
    for b in prange(_nblocks(n, BLOCK)):
        _clip_block(a, lo, hi, b * BLOCK, min(n, (b + 1) * BLOCK))


@kernel_jit
def _copy_pad_item(src, s_off, s_stride, rows, cols, dst, d_off, d_stride, r, c0, c1):
    d = _u(d_off + r * d_stride)
    if r < rows:
        s = _u(s_off + r * s_stride)
        hi = min(c1, cols)
        for j in range(_u(c0), _u(hi)):
            dst[d + j] = src[s + j]
        c0 = max(c0, cols)
    for j in range(_u(c0), _u(c1)):
        dst[d + j] = 0


@kernel_jit
def copy_pad_rows(src, s_off, s_stride, rows, cols, dst, d_off, d_stride, drows, dcols):
    for r in range(drows):
        _copy_pad_item(src, s_off, s_stride, rows, cols, dst, d_off, d_stride, r, 0, dcols)


@kernel_jit(parallel=True)
def copy_pad_rows_parallel(src, s_off, s_stride, rows, cols, dst, d_off, d_stride, drows,
                           dcols):
    nc = max(_nblocks(dcols, CHUNK), 1)
    for item in prange(drows * nc):
        r = item // nc
        c = item - r * nc
        _copy_pad_item(src, s_off, s_stride, rows, cols, dst, d_off, d_stride, r,
                       c * CHUNK, min(dcols, (c + 1) * CHUNK))


__all__ = ["all_finite", "all_finite_parallel", "fill", "fill_parallel", "clip",
           "clip_parallel", "copy_pad_rows", "copy_pad_rows_parallel", "BLOCK", "CHUNK"]
