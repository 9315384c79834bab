"""Differential fuzzing: random problems against scipy.signal and torch (hypothesis).

Bounded for the default run (the ``fastdeconv``/``ci`` hypothesis profiles: 30 examples
per test, derandomised in CI); ``HYPOTHESIS_PROFILE=fuzz pytest -m fuzz`` runs the same
properties with many more examples (the ``fuzz`` profile below), outside CI.

What must agree, for every backend, on odd sizes, size-1 axes and kernels larger than
the signal:

- scipy: ``convolve``/``correlate`` for each method, ``fftconvolve``, ``oaconvolve``,
  ``convolve2d``/``correlate2d`` for each boundary — the result's shape and dtype
  exactly, its values under the tolerance table (``conftest.tolerances``), and for the
  direct method with NaN or Inf in an input, where the non-finite values land.
- torch: ``conv1d/2d/3d`` and ``conv_transpose1d/2d/3d`` with random stride, padding,
  dilation, groups and output padding (float32 and float64).
"""
import warnings

import numpy as np
import pytest
import scipy.signal as ss
from hypothesis import given, settings
from hypothesis import strategies as st

import fastdeconv as fd
from fastdeconv import nn

from .conftest import assert_close, tolerances

settings.register_profile("fuzz", parent=settings.get_profile("fastdeconv"),
                          max_examples=2000)

torch = pytest.importorskip("torch")  # a test dependency: installed with .[test]

MODES = ["full", "same", "valid"]


def _array(seed, shape, dtype, nonfinite=False):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind in "iu":
        a = rng.integers(-20 if dtype.kind == "i" else 0, 20, size=shape).astype(dtype)
    else:
        a = rng.uniform(-2, 2, size=shape)
        if dtype.kind == "c":
            a = a + 1j * rng.uniform(-2, 2, size=shape)
        a = a.astype(dtype)
        if nonfinite and a.size:
            flat = a.reshape(-1)
            flat[rng.integers(0, a.size)] = rng.choice([np.nan, np.inf, -np.inf])
    return a


@st.composite
def scipy_problems(draw, ndim=None):
    nd = ndim or draw(st.integers(1, 3))
    side = 9 if nd == 1 else 6 if nd == 2 else 4
    s1 = tuple(draw(st.lists(st.integers(1, side), min_size=nd, max_size=nd)))
    s2 = tuple(draw(st.lists(st.integers(1, side), min_size=nd, max_size=nd)))
    d1 = draw(st.sampled_from(["float64", "float32", "complex128", "int32"]))
    d2 = draw(st.sampled_from([d1, d1, "float64", "float32"]))
    seed = draw(st.integers(0, 2**32 - 1))
    return _array(seed, s1, d1), _array(seed + 1, s2, d2)


def _scipy(func, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's own cast/NaN warnings are not the point
        return func(*args, **kw)


def _compare(got, expected, *inputs):
    """Shape and dtype exactly; values under the tolerance of the least precise of the
    result and the inputs (scipy transforms a float32 input in single precision even
    when the result is float64)."""
    assert got.shape == expected.shape, (got.shape, expected.shape)
    assert got.dtype == expected.dtype, (got.dtype, expected.dtype)
    rtols = [tolerances(np.asarray(v).dtype) for v in (expected,) + inputs
             if np.asarray(v).dtype.kind in "fc"]
    assert_close(got, expected, max(rtols) if rtols else None)


def _valid_ok(a, k):
    return all(n >= m for n, m in zip(a.shape, k.shape)) or all(
        n <= m for n, m in zip(a.shape, k.shape))


@given(problem=scipy_problems(), mode=st.sampled_from(MODES),
       method=st.sampled_from(["direct", "fft", "auto"]),
       func=st.sampled_from(["convolve", "correlate"]))
def test_convolve_correlate_vs_scipy(backend, problem, mode, method, func):
    a, k = problem
    if mode == "valid" and not _valid_ok(a, k):
        with pytest.raises(ValueError):
            getattr(fd, func)(a, k, mode, method=method, backend=backend)
        return
    if method == "fft" and (a.dtype.kind in "iu" and k.dtype.kind in "iu"):
        method = "direct"  # scipy's fft on ints warns and rounds; covered in test_convolution
    expected = _scipy(getattr(ss, func), a, k, mode, method=method)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = getattr(fd, func)(a, k, mode, method=method, backend=backend)
    _compare(got, expected, a, k)


@given(problem=scipy_problems(), mode=st.sampled_from(MODES),
       func=st.sampled_from(["fftconvolve", "oaconvolve"]))
def test_fft_family_vs_scipy(problem, mode, func):
    a, k = problem
    try:  # scipy decides whether 'valid' is allowed here (its axes rules), and so must we
        expected = _scipy(getattr(ss, func), a, k, mode)
    except ValueError:
        with pytest.raises(ValueError):
            getattr(fd, func)(a, k, mode)
        return
    got = getattr(fd, func)(a, k, mode)
    _compare(got, expected, a, k)


@given(problem=scipy_problems(ndim=2), mode=st.sampled_from(MODES),
       boundary=st.sampled_from(["fill", "wrap", "symm"]),
       func=st.sampled_from(["convolve2d", "correlate2d"]),
       fillvalue=st.sampled_from([0, 0, 1.0, -2.0]))
def test_2d_boundaries_vs_scipy(backend, problem, mode, boundary, func, fillvalue):
    a, k = problem
    if a.dtype != k.dtype:
        k = k.astype(a.dtype)  # scipy's 2-D functions require one dtype
    if mode == "valid" and not _valid_ok(a, k):
        with pytest.raises(ValueError):
            getattr(fd, func)(a, k, mode, boundary, fillvalue, backend=backend)
        return
    expected = _scipy(getattr(ss, func), a, k, mode, boundary, fillvalue)
    got = getattr(fd, func)(a, k, mode, boundary, fillvalue, backend=backend)
    _compare(got, expected, a, k)


@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 12), m=st.integers(1, 12),
       mode=st.sampled_from(MODES), func=st.sampled_from(["convolve", "correlate"]),
       which=st.sampled_from([0, 1, 2]))
def test_direct_nonfinite_placement_vs_scipy(backend, seed, n, m, mode, func, which):
    a = _array(seed, (n,), "float64", nonfinite=which in (0, 2))
    k = _array(seed + 1, (m,), "float64", nonfinite=which in (1, 2))
    if mode == "valid" and not _valid_ok(a, k):
        return
    expected = _scipy(getattr(ss, func), a, k, mode, method="direct")
    got = getattr(fd, func)(a, k, mode, method="direct", backend=backend)
    assert got.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(got), np.isnan(expected))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-10, atol=1e-10)


# --------------------------------------------------------------------------- torch

@st.composite
def torch_problems(draw, transpose):
    nd = draw(st.integers(1, 3))
    groups = draw(st.sampled_from([1, 1, 2]))
    cin = groups * draw(st.integers(1, 2))
    cout = groups * draw(st.integers(1, 2))
    k = tuple(draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    stride = tuple(draw(st.lists(st.integers(1, 3), min_size=nd, max_size=nd)))
    dilation = tuple(draw(st.lists(st.integers(1, 2), min_size=nd, max_size=nd)))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(nd))
    side = 7 if nd < 3 else 4
    size = tuple(draw(st.lists(st.integers(1, side), min_size=nd, max_size=nd)))
    batch = draw(st.integers(1, 2))
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    seed = draw(st.integers(0, 2**32 - 1))
    x = _array(seed, (batch, cin) + size, dtype)
    if transpose:
        w = _array(seed + 1, (cin, cout // groups) + k, dtype)
        # output_padding must be smaller than stride or dilation (torch's rule)
        out_pad = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
        return x, w, dict(stride=stride, padding=padding, output_padding=out_pad,
                          groups=groups, dilation=dilation)
    w = _array(seed + 1, (cout, cin // groups) + k, dtype)
    return x, w, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


def _torch_call(fname, x, w, kw):
    """torch's result in float64, cast to the inputs' dtype: torch's float32 paths differ
    from its float64 ones at the edges (an empty output instead of an error, depthwise
    kernels skipping the padding), and fastdeconv follows float64."""
    f = getattr(torch.nn.functional, fname)
    with torch.no_grad():
        out = f(torch.from_numpy(x.astype(np.float64)),
                torch.from_numpy(w.astype(np.float64)), None, **kw).numpy()
    return out.astype(x.dtype)


@given(problem=torch_problems(transpose=False))
def test_conv_vs_torch(backend, problem):
    x, w, kw = problem
    nd = w.ndim - 2
    try:
        expected = _torch_call(f"conv{nd}d", x, w, kw)
    except RuntimeError:  # e.g. the dilated kernel is larger than the padded input
        with pytest.raises(ValueError):
            nn.conv(x, w, None, backend=backend, **kw)
        return
    got = nn.conv(x, w, None, backend=backend, **kw)
    _compare(got, expected)


@given(problem=torch_problems(transpose=True))
def test_conv_transpose_vs_torch(backend, problem):
    x, w, kw = problem
    nd = w.ndim - 2
    try:
        expected = _torch_call(f"conv_transpose{nd}d", x, w, kw)
    except RuntimeError:  # e.g. a negative output size
        with pytest.raises(ValueError):
            nn.conv_transpose(x, w, None, backend=backend, **kw)
        return
    got = nn.conv_transpose(x, w, None, backend=backend, **kw)
    _compare(got, expected)


@pytest.mark.fuzz
@settings(max_examples=5000)
@given(problem=scipy_problems(), mode=st.sampled_from(MODES),
       func=st.sampled_from(["convolve", "correlate"]))
def test_heavy_auto_vs_scipy(problem, mode, func):
    """Outside CI (``-m fuzz``): many more 'auto' problems on the default backend."""
    a, k = problem
    if mode == "valid" and not _valid_ok(a, k):
        return
    expected = _scipy(getattr(ss, func), a, k, mode)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = getattr(fd, func)(a, k, mode)
    _compare(got, expected, a, k)
