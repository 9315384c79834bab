"""The validation boundary: every public function converts and checks its inputs here.

After these helpers, arrays satisfy the kernel contract (C-contiguous, native byte
order, one compute dtype) and option strings are canonical.  Nothing here modifies a
caller's array: conversions copy when they must and never write into the input.
"""
import operator

import numpy as np

from . import _memory

MODES = ("full", "valid", "same")
METHODS = ("auto", "direct", "fft", "oa")

# boundary name -> canonical name; canonical names are numpy.pad's modes
_BOUNDARY_ALIASES = {
    "fill": "constant", "constant": "constant",
    "wrap": "wrap", "periodic": "wrap", "circular": "wrap",
    "symm": "symmetric", "symmetric": "symmetric",
    "reflect": "reflect", "mirror": "reflect",
    "nearest": "edge", "edge": "edge",
}
BOUNDARIES = ("fill", "wrap", "symm", "reflect", "nearest")


def as_numeric(a, name):
    """``np.asarray(a)``, refusing non-numeric dtypes (object, str, datetime...)."""
    arr = np.asarray(a)
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must hold numbers (bool, integer, floating or complex),"
                        f" got dtype {arr.dtype}")
    return arr


# scipy words the mode error three ways; each public function uses the one scipy's
# function (and method) raises, so messages match scipy's word for word.
_MODE_MESSAGES = {
    # correlate, convolve(method='direct'), convolve2d, correlate2d
    "scipy": "Acceptable mode flags are 'valid', 'same', or 'full'.",
    # fftconvolve, oaconvolve, convolve(method='fft')
    "fft": "acceptable mode flags are 'valid', 'same', or 'full'",
    # convolve(method='auto'), choose_conv_method
    "auto": "Acceptable mode flags are 'valid', 'same', or 'full', not mode={mode}",
}


def check_mode(mode, wording="auto"):
    """``mode`` if it is 'full', 'valid' or 'same', else ValueError with scipy's message.

    ``wording``: which of scipy's messages (``'scipy'``, ``'fft'`` or ``'auto'``, see
    ``_MODE_MESSAGES``) the calling function raises in scipy.
    """
    if not isinstance(mode, str) or mode not in MODES:
        raise ValueError(_MODE_MESSAGES[wording].format(mode=mode))
    return mode


def check_method(method):
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError("Acceptable method flags are 'auto', 'direct', 'fft', or 'oa'"
                         f" (method={method!r})")
    return method


def check_boundary(boundary):
    """Canonical numpy.pad mode for a boundary name (``'constant'`` for fill)."""
    try:
        return _BOUNDARY_ALIASES[boundary]
    except (KeyError, TypeError):
        raise ValueError(f"boundary must be one of {BOUNDARIES} (or the aliases 'periodic',"
                         f" 'circular', 'symmetric', 'mirror', 'edge'), got {boundary!r}")\
            from None


def _from_object(obj, dtype):
    """``obj`` as an array of ``dtype`` as numpy's C ``PyArray_FromObject`` converts it
    (what scipy's convolve2d does): values (Python or numpy scalars, nested sequences)
    are converted element by element, numpy arrays only by a safe cast."""
    if isinstance(obj, np.ndarray):
        if not np.can_cast(obj.dtype, dtype, "safe"):
            raise TypeError(f"Cannot cast array data from {obj.dtype!r} to {dtype!r}"
                            " according to the rule 'safe'")
        return obj.astype(dtype)
    return np.asarray(obj, dtype=dtype)


def check_fillvalue(fillvalue, dtype):
    """The fill value as a scalar of ``dtype``, converted as scipy.signal.convolve2d does.

    scipy converts the fill value to the output dtype before padding: 1.5 becomes 1 for
    integer outputs, a Python int out of the dtype's range (300 for uint8, -1 for
    unsigned), NaN or Inf for integers, a complex for real outputs and a numpy array
    that does not cast safely all raise ValueError ("could not cast `fillvalue`
    directly to the output type ..."), after a second attempt through complex; numpy
    scalars wrap like numpy's own casts.  Every method uses the converted value, so
    'direct', 'fft', 'oa' and 'auto' agree.
    """
    dtype = np.dtype(dtype)
    try:
        fv = _from_object(fillvalue, dtype)
    except (TypeError, ValueError, OverflowError):
        # scipy's second attempt: through complex128; only its failure is reported as is
        try:
            _from_object(fillvalue, np.dtype(np.complex128))
        except (TypeError, ValueError, OverflowError) as exc:
            kind = TypeError if isinstance(exc, TypeError) else ValueError
            raise kind(f"fillvalue must be a number, got {fillvalue!r} ({exc})") from None
        raise ValueError("could not cast `fillvalue` directly to the output type (it was"
                         " first converted to complex).") from None
    if fv.size == 0:
        raise ValueError("`fillvalue` cannot be an empty array.")
    if fv.size != 1:
        raise ValueError("`fillvalue` must be scalar or an array with one element.")
    return fv.reshape(())[()]


def check_axes(axes, ndim):
    """Normalised, validated tuple of axes (scipy.fft's rules and messages)."""
    if axes is None:
        return tuple(range(ndim))
    if np.isscalar(axes) or isinstance(axes, np.ndarray) and axes.ndim == 0:
        axes = (axes,)
    try:
        axes = tuple(operator.index(a) for a in axes)
    except TypeError:
        raise ValueError("axes must be a scalar or iterable of integers") from None
    if not axes:
        raise ValueError("when provided, axes cannot be empty")
    if any(a >= ndim or a < -ndim for a in axes):
        raise ValueError("axes exceeds dimensionality of input")
    axes = tuple(a % ndim for a in axes)
    if len(set(axes)) != len(axes):
        raise ValueError("all axes must be unique")
    return axes


def check_same_ndim(in1, in2, message="in1 and in2 should have the same dimensionality"):
    if in1.ndim != in2.ndim:
        raise ValueError(message)


def check_valid_shapes(shape1, shape2, axes):
    """scipy's rule for 'valid': True when the inputs must be swapped."""
    ok1 = all(shape1[i] >= shape2[i] for i in axes)
    ok2 = all(shape2[i] >= shape1[i] for i in axes)
    if not (ok1 or ok2):
        raise ValueError("For 'valid' mode, one must be at least "
                         "as large as the other in every dimension")
    return not ok1


def check_broadcast(shape1, shape2, axes):
    if not all(shape1[a] == shape2[a] or shape1[a] == 1 or shape2[a] == 1
               for a in range(len(shape1)) if a not in axes):
        raise ValueError(f"incompatible shapes for in1 and in2: {tuple(shape1)} and"
                         f" {tuple(shape2)}")


def compute_dtype(result_type):
    """dtype the kernels run in for a given result dtype.

    Floating results run in float32 when they fit (float16 too) else float64; complex
    likewise; integers and bools run in int64, whose wrap-around arithmetic equals that
    of every narrower integer type after the final cast (and of uint64, bit for bit).
    Extended precision (long double, complex long double) stays extended: the caller
    computes it with numpy and the FFT engines, never with the compiled kernels.
    """
    rt = np.dtype(result_type)
    if rt.kind == "f":
        if rt.itemsize > 8:
            return rt
        return np.dtype(np.float32) if rt.itemsize <= 4 else np.dtype(np.float64)
    if rt.kind == "c":
        if rt.itemsize > 16:
            return rt
        return np.dtype(np.complex64) if rt.itemsize <= 8 else np.dtype(np.complex128)
    return np.dtype(np.int64)


def is_extended(dtype):
    """Whether ``dtype`` is long double or complex long double wider than double."""
    dtype = np.dtype(dtype)
    return (dtype.kind == "f" and dtype.itemsize > 8) or (dtype.kind == "c"
                                                          and dtype.itemsize > 16)


def kernel_array(a, dtype):
    """C-contiguous, native-order copy-if-needed of ``a`` in ``dtype``."""
    dtype = np.dtype(dtype)
    if a.dtype.kind == "u" and dtype == np.int64 and a.dtype.itemsize == 8:
        return np.ascontiguousarray(a).astype(np.uint64, copy=False).view(np.int64)
    return np.ascontiguousarray(a, dtype=dtype.newbyteorder("="))


def check_finite(a, name):
    # threaded for large float arrays (numpy's isfinite pass runs on one core)
    if not _memory.all_finite(a):
        raise ValueError(f"{name} contains NaN or Inf; remove or replace them first")


def check_int(value, name, minimum=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
    return value


def float_dtype(*arrays):
    """float32 if every input is float32 (or narrower), else float64 — restoration's rule."""
    rt = np.result_type(*[a.dtype for a in arrays])
    if rt.kind == "c":
        raise TypeError("restoration functions take real images and PSFs, got complex")
    return np.dtype(np.float32) if rt.kind == "f" and rt.itemsize <= 4 else np.dtype(np.float64)


def check_image_psf(image, psf, *, psf_name="psf", positive_psf=False, same_ndim=True):
    """Validate a restoration problem and return ``(image, psf, dtype)``.

    ``image`` and ``psf`` come back as C-contiguous, native-order arrays of the image's
    float dtype (float32 for float32/float16 images, else float64; integers give
    float64), copied only when needed; the caller must not write into them.
    Raises ValueError for empty arrays, rank mismatch, rank above 3... (any N-D is
    accepted), NaN/Inf, and (``positive_psf``) a PSF with negative values or zero sum.
    """
    image = as_numeric(image, "image")
    psf = as_numeric(psf, psf_name)
    if image.ndim == 0:
        raise ValueError("image must be an array with at least 1 dimension, got a scalar")
    if image.size == 0:
        raise ValueError("image must not be empty")
    if psf.size == 0:
        raise ValueError(f"{psf_name} must not be empty")
    if same_ndim and psf.ndim != image.ndim:
        raise ValueError(f"{psf_name} must have the same number of dimensions as image"
                         f" ({image.ndim}), got {psf.ndim}")
    if psf.dtype.kind == "c":
        raise TypeError(f"{psf_name} must be real, got complex")
    dtype = float_dtype(image)  # the image's float type decides, as in skimage
    image = kernel_array(image, dtype)
    psf = kernel_array(psf, dtype)
    check_finite(image, "image")
    check_finite(psf, psf_name)
    if positive_psf:
        if (psf < 0).any():
            raise ValueError(f"{psf_name} must be non-negative")
        if not psf.sum() > 0:
            raise ValueError(f"{psf_name} must have a positive sum, got {psf.sum()}")
    return image, psf, dtype
