"""Shared fixtures and helpers for the test ladder (see ARCHITECTURE.md, "Tests").

- ``backend``: every available backend, by name (the ``'python'`` reference is a naive
  loop: tests give it small inputs only).
- ``tolerances(dtype)``: the one tolerance table (API.md: rtol 1e-5 for single precision,
  1e-10 for double, relative to the output's max magnitude; integers and bool exact).
- ``assert_close(actual, expected)``: shape, dtype and values under that table.
- ``assert_kernel_contract(*arrays)``: the backend-kernel contract (C-contiguous, native
  byte order).
"""
import os

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import HealthCheck, settings

import fastdeconv

settings.register_profile(
    "fastdeconv",
    max_examples=30,
    deadline=None,  # the first example of a run may include a Numba compile
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", parent=settings.get_profile("fastdeconv"), derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fastdeconv"))


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than about 5 s (still runs by default)")
    # ARCHITECTURE.md: every warning is an error in the test suite.
    config.addinivalue_line("filterwarnings", "error")


BACKENDS = tuple(fastdeconv.backends())


@pytest.fixture(params=BACKENDS, ids=list(BACKENDS), scope="session")
def backend(request):
    """Name of each available backend (session-scoped so hypothesis tests may use it)."""
    return request.param


# --------------------------------------------------------------------------- tolerances

_RTOL = {
    "f": {4: 1e-5, 8: 1e-10},   # float32, float64
    "c": {8: 1e-5, 16: 1e-10},  # complex64, complex128
}


def tolerances(dtype):
    """``rtol`` for results of ``dtype``, relative to the output's max magnitude.

    0 (exact) for integer and bool results.
    """
    dtype = np.dtype(dtype)
    if dtype.kind in "biu":
        return 0.0
    try:
        return _RTOL[dtype.kind][dtype.itemsize]
    except KeyError:
        raise AssertionError(f"no tolerance defined for dtype {dtype}") from None


def assert_close(actual, expected, rtol=None, *, check_dtype=True, equal_nan=True,
                 err_msg=""):
    """Assert ``actual`` equals ``expected`` in shape, dtype and values.

    Values are compared with ``tolerances(expected.dtype)`` relative to
    ``max(abs(expected))`` (1 when that is 0); integer/bool results must be exact.
    NaNs must sit at the same places.  ``rtol`` overrides the table: callers that loosen
    it must say why at the call site.
    """
    expected = np.asarray(expected)
    assert isinstance(actual, (np.ndarray, np.generic)), (
        f"{err_msg} result is {type(actual).__name__}, not a numpy array")
    actual = np.asarray(actual)
    assert actual.shape == expected.shape, (
        f"{err_msg} shape {actual.shape} != expected {expected.shape}")
    if check_dtype:
        assert actual.dtype == expected.dtype, (
            f"{err_msg} dtype {actual.dtype} != expected {expected.dtype}")
    if rtol is None:
        rtol = tolerances(expected.dtype)
    if expected.size == 0:
        return
    if expected.dtype.kind in "biuO" and rtol == 0:
        mismatch = actual != expected
        assert not np.any(mismatch), (
            f"{err_msg} {int(np.sum(mismatch))} of {expected.size} values differ; "
            f"first at {np.argwhere(mismatch)[0].tolist()}: "
            f"{actual[mismatch].ravel()[0]!r} != {expected[mismatch].ravel()[0]!r}")
        return
    a = actual.astype(np.result_type(actual.dtype, np.float64), copy=False)
    e = expected.astype(np.result_type(expected.dtype, np.float64), copy=False)
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    if equal_nan:
        assert np.array_equal(nan_a, nan_e), (
            f"{err_msg} NaN positions differ: {int(nan_a.sum())} NaN in actual, "
            f"{int(nan_e.sum())} in expected")
        finite = ~nan_e
    else:
        assert not nan_a.any() and not nan_e.any(), f"{err_msg} unexpected NaN"
        finite = np.ones(e.shape, bool)
    if not finite.any():
        return
    inf_e = np.isinf(e) & finite
    assert np.array_equal(a[inf_e], e[inf_e]), f"{err_msg} infinite values differ"
    finite &= ~inf_e
    if not finite.any():
        return
    scale = float(np.max(np.abs(e[finite])))
    if scale == 0.0:
        scale = 1.0
    err = float(np.max(np.abs(a[finite] - e[finite])))
    assert err <= rtol * scale, (
        f"{err_msg} max abs error {err:.3g} > rtol {rtol:g} x max|expected| {scale:.3g} "
        f"(relative {err / scale:.3g}); dtype {expected.dtype}")


def assert_kernel_contract(*arrays):
    """Assert the backend-kernel contract: ndarrays, C-contiguous, native byte order."""
    for i, arr in enumerate(arrays):
        assert isinstance(arr, np.ndarray), f"argument {i} is {type(arr).__name__}"
        assert arr.flags.c_contiguous, f"argument {i} is not C-contiguous"
        assert arr.dtype.isnative, f"argument {i} has non-native byte order {arr.dtype.str}"


# --------------------------------------------------------------------------- data

def random_array(rng, shape, dtype, low=-5, high=6):
    """Random test data of ``dtype``: normal floats, complex with both parts, small ints."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) < 0.4
    if dtype.kind == "u":
        return rng.integers(0, high, size=shape).astype(dtype)
    if dtype.kind == "i":
        return rng.integers(low, high, size=shape).astype(dtype)
    if dtype.kind == "c":
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


# --------------------------------------------------------------------------- oracles

# boundary name -> numpy.pad mode (API.md section 1)
PAD_MODE = {"fill": "constant", "wrap": "wrap", "symm": "symmetric", "reflect": "reflect",
            "nearest": "edge"}


def wide_dtype(dtype):
    kind = np.dtype(dtype).kind
    return {"b": np.int64, "u": np.int64, "i": np.int64, "f": np.float64,
            "c": np.complex128}[kind]


def scipy_reference(func, in1, in2, mode, **kw):
    """scipy's answer, computed exactly (ints) or in double precision, in scipy's dtype.

    For bool data the value is the logical one (any product true): scipy's own 'fft' path
    for bool is wrong (it casts FFT round-off to True) and its N-D direct path refuses
    bool, so the contract here is the exact result.
    """
    rt = np.result_type(in1, in2)
    wide = np.result_type(wide_dtype(in1.dtype), wide_dtype(in2.dtype))
    out = getattr(ss, func)(in1.astype(wide), in2.astype(wide), mode, method="direct", **kw)
    if rt.kind == "b":
        return out != 0
    return out.astype(rt)


def padded_reference(func, a, k, mode, boundary, fillvalue=0):
    """Oracle: extend in1 with numpy.pad by K-1 on each side, take scipy's 'valid'
    result (that is the 'full' output with the boundary applied), crop 'same' centred as
    scipy does; 'valid' ignores the boundary."""
    if mode == "valid":
        return scipy_reference(func, a, k, "valid")
    kw = {"constant_values": fillvalue} if boundary == "fill" else {}
    ap = np.pad(a, [(n - 1, n - 1) for n in k.shape], mode=PAD_MODE[boundary], **kw)
    full = scipy_reference(func, ap, k, "valid")
    if mode == "full":
        return full
    start = [(n - 1) // 2 for n in k.shape]
    return full[tuple(slice(s, s + n) for s, n in zip(start, a.shape))]


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


# --------------------------------------------------------------------------- kernel spy

@pytest.fixture
def kernel_calls(monkeypatch):
    """Wrap every backend's kernels: each call asserts the kernel contract on its
    arguments and is recorded as ``(backend, function name, dtype, thread id)``."""
    import threading

    from fastdeconv import _backends

    calls = []

    def spy(fn, backend, name):
        def wrapper(x, offsets, weights, in_off, w_off, out, o_off, ncols, chunk):
            assert_kernel_contract(x, offsets, weights, in_off, w_off, out, o_off)
            for arr in (x, offsets, weights, in_off, w_off, out, o_off):
                assert arr.ndim == 1, "kernels take flat buffers"
            assert x.dtype == weights.dtype == out.dtype, (x.dtype, weights.dtype, out.dtype)
            for idx in (offsets, in_off, w_off, o_off):
                assert idx.dtype == np.int64, idx.dtype
            calls.append((backend, name, x.dtype, threading.get_ident()))
            return fn(x, offsets, weights, in_off, w_off, out, o_off, ncols, chunk)
        return wrapper

    def spy_mapped(fn, backend, name):
        def wrapper(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out, *rest):
            arrays = (x, rowmap, colmap, tap_r, tap_c, weights, fill, out)
            assert_kernel_contract(*arrays)
            for arr in arrays:
                assert arr.ndim == 1, "kernels take flat buffers"
            assert x.dtype == weights.dtype == fill.dtype == out.dtype
            for idx in (rowmap, colmap, tap_r, tap_c):
                assert idx.dtype == np.int64, idx.dtype
            calls.append((backend, name, x.dtype, threading.get_ident()))
            return fn(x, H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out, *rest)
        return wrapper

    def spy_sweep(fn, backend, name):
        def wrapper(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, *rest):
            arrays = (x, rowmap, colmap, wt, fill, out)
            assert_kernel_contract(*arrays)
            for arr in arrays:
                assert arr.ndim == 1, "kernels take flat buffers"
            assert x.dtype == wt.dtype == fill.dtype == out.dtype
            assert x.dtype.kind == "f", "the sweep kernel takes float32/float64"
            for idx in (rowmap, colmap):
                assert idx.dtype == np.int64, idx.dtype
            calls.append((backend, name, x.dtype, threading.get_ident()))
            return fn(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, *rest)
        return wrapper

    for backend in fastdeconv.backends():
        mod = _backends.kernels(backend)
        for name in ("correlate_terms", "correlate_terms_parallel"):
            monkeypatch.setattr(mod, name, spy(getattr(mod, name), backend, name))
        for name in ("correlate2d_mapped", "correlate2d_mapped_parallel"):
            monkeypatch.setattr(mod, name, spy_mapped(getattr(mod, name), backend, name))
        for name in ("correlate2d_sweep", "correlate2d_sweep_parallel"):
            monkeypatch.setattr(mod, name, spy_sweep(getattr(mod, name), backend, name))
    return calls
