"""Whole-array memory passes on every thread: fills, clips, finiteness checks and padded
copies.

numpy runs these on one core; on a 16-core machine a 4096^2 Richardson-Lucy call spent
a third of its time in them (the input check, the start estimate, the final clip) and
an FFT convolution half of its time in zero-padding and cropping copies.  Each function
here runs the backend's parallel kernel (``kernels/numba/memory.py``) for large arrays
and falls back to numpy for small ones, one thread, the ``'python'`` backend or layouts
the kernels do not take; the result is the same either way.
"""
import numpy as np

from . import kernels as _kernel_pkg
from ._backends import get_num_threads, kernels, resolve_backend

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def _compiled(n):
    """The default backend's kernels when a threaded pass over ``n`` elements pays."""
    if n < _kernel_pkg.PARALLEL_MIN_ELEMENTS_LIGHT or get_num_threads() < 2:
        return None
    backend = resolve_backend(None)
    return None if backend == "python" else kernels(backend)


def _flat_float(a):
    """``a`` as a flat view if it is a C-contiguous native float32/float64 array."""
    if (type(a) is np.ndarray and a.dtype in _FLOATS and a.dtype.isnative
            and a.flags.c_contiguous):
        return a.reshape(-1)
    return None


def all_finite(a):
    """Whether ``a`` holds no NaN and no infinity."""
    flat = _flat_float(a)
    mod = _compiled(a.size) if flat is not None else None
    if mod is None:
        return bool(np.isfinite(a).all())
    return bool(mod.all_finite(flat))


def fill(out, value):
    """``out[...] = value`` in place; returns ``out``."""
    flat = _flat_float(out) if out.flags.writeable else None
    mod = _compiled(out.size) if flat is not None else None
    if mod is None:
        out[...] = value
    else:
        mod.fill(flat, out.dtype.type(value))
    return out


def full(shape, value, dtype):
    """``np.full(shape, value, dtype)``, written by every thread for large arrays (which
    also spreads the first touch of the pages)."""
    return fill(np.empty(shape, dtype), value)


def clip(a, lo, hi):
    """``np.clip(a, lo, hi, out=a)``; returns ``a``."""
    flat = _flat_float(a) if a.flags.writeable else None
    mod = _compiled(a.size) if flat is not None else None
    if mod is None:
        np.clip(a, lo, hi, out=a)
    else:
        mod.clip(flat, a.dtype.type(lo), a.dtype.type(hi))
    return a


def _byte_span(a):
    """A flat uint8 view from ``a``'s first byte through its last (2-D, unit inner
    stride, non-negative row stride), for the kernels' offset arithmetic."""
    if a.size == 0:
        return np.zeros(1, np.uint8)
    span = (a.shape[0] - 1) * a.strides[0] + a.shape[1] * a.itemsize
    rows = a.view(np.uint8)
    return np.lib.stride_tricks.as_strided(rows, shape=(span,), strides=(1,),
                                           writeable=a.flags.writeable)


def _copyable(a):
    return (type(a) is np.ndarray and a.ndim == 2 and a.dtype.isnative
            and a.strides[1] == a.itemsize and a.strides[0] >= a.shape[1] * a.itemsize)


def copy_pad(src, dst):
    """``dst[:R, :C] = src`` and zeros in the rest of ``dst`` (2-D, ``src`` of shape
    ``(R, C)`` no larger than ``dst`` on either axis, same dtype, not overlapping);
    returns ``dst``.  ``src=None`` zeroes ``dst``."""
    if src is None:
        src = dst[:0, :0]
    R, C = src.shape
    R2, C2 = dst.shape
    mod = None
    if (src.dtype == dst.dtype and _copyable(src) and _copyable(dst)
            and dst.flags.writeable and R <= R2 and C <= C2):
        mod = _compiled(dst.size * dst.itemsize // 4)
    if mod is None:
        dst[:R, :C] = src
        dst[:R, C:] = 0
        dst[R:, :] = 0
        return dst
    size = dst.itemsize
    mod.copy_pad_rows(_byte_span(src), 0, src.strides[0], R, C * size, _byte_span(dst), 0,
                      dst.strides[0], R2, C2 * size)
    return dst


def copy(src, dst):
    """``dst[...] = src`` for two arrays of one shape and dtype; returns ``dst``."""
    if (src.shape == dst.shape and src.dtype == dst.dtype and type(src) is np.ndarray
            and type(dst) is np.ndarray and src.flags.c_contiguous
            and dst.flags.c_contiguous and src.size):
        copy_pad(src.reshape(1, -1), dst.reshape(1, -1))
        return dst
    dst[...] = src
    return dst


def contiguous(a):
    """``np.ascontiguousarray(a)``, copied by every thread when ``a`` is a large 2-D
    view with contiguous rows (a crop)."""
    if a.flags.c_contiguous:
        return a
    if type(a) is np.ndarray and a.ndim == 2 and a.strides[1] == a.itemsize:
        return copy_pad(a, np.empty(a.shape, a.dtype))
    return np.ascontiguousarray(a)
