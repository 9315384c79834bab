"""Ladder (c): invariants that hold by definition, on small random problems (hypothesis).

Each property runs on every backend (the fixture) with the method, mode, boundary and
shapes drawn by hypothesis; arrays are generated from a drawn seed so shrinking stays
cheap.  Sizes stay small: the 'python' backend is a naive loop.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastdeconv as fd

from .conftest import assert_close, tolerances

METHODS = ["direct", "fft", "oa", "auto"]
MODES = ["full", "same", "valid"]
BOUNDARIES = ["fill", "wrap", "symm", "reflect", "nearest"]
FUNCS = ["convolve", "correlate"]

methods = st.sampled_from(METHODS)
modes = st.sampled_from(MODES)
boundaries = st.sampled_from(BOUNDARIES)
dtypes = st.sampled_from([np.float64, np.complex128])


def _data(seed, shape, dtype):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-2, 2, size=shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.uniform(-2, 2, size=shape)
    return a.astype(dtype)


@st.composite
def problems(draw, max_side=7, max_k=4, kernel_not_larger=False):
    """(signal, kernel) of one ndim in 1..3; the kernel may be larger than the signal."""
    ndim = draw(st.integers(1, 3))
    side = max_side if ndim < 3 else 5
    s1 = tuple(draw(st.lists(st.integers(1, side), min_size=ndim, max_size=ndim)))
    if kernel_not_larger:
        s2 = tuple(draw(st.integers(1, min(n, max_k))) for n in s1)
    else:
        s2 = tuple(draw(st.lists(st.integers(1, max_k), min_size=ndim, max_size=ndim)))
    dtype = draw(dtypes)
    seed = draw(st.integers(0, 2**32 - 1))
    return _data(seed, s1, dtype), _data(seed + 1, s2, dtype)


def _valid_ok(a, k):
    s1, s2 = a.shape, k.shape
    return all(x >= y for x, y in zip(s1, s2)) or all(y >= x for x, y in zip(s1, s2))


def assert_near(lhs, rhs, scale, err_msg=""):
    """|lhs - rhs| within the double-precision tolerance of ``scale`` (the magnitude of
    the terms that were combined, which can exceed that of the result)."""
    rtol = tolerances(np.float64)
    err = float(np.max(np.abs(np.asarray(lhs) - np.asarray(rhs)), initial=0.0))
    assert err <= rtol * max(scale, 1e-300), f"{err_msg} error {err:.3g}, scale {scale:.3g}"


def _max(x):
    return float(np.max(np.abs(x), initial=0.0))


@given(problem=problems(), method=methods, boundary=boundaries, func=st.sampled_from(FUNCS),
       value=st.floats(-3, 3, allow_nan=False).filter(lambda v: abs(v) > 1e-3))
def test_delta_kernel_is_identity(backend, problem, method, boundary, func, value):
    a, k = problem
    # a centred delta (odd sizes) reproduces the signal in 'same' mode, any boundary
    odd = tuple(n | 1 for n in k.shape)
    delta = np.zeros(odd, a.dtype)
    delta[tuple(n // 2 for n in odd)] = value
    got = getattr(fd, func)(a, delta, "same", method, boundary=boundary, backend=backend)
    assert_close(got, value * a)
    # a one-sample kernel does so in every mode
    one = np.full((1,) * a.ndim, value, a.dtype)
    for mode in MODES:
        got = getattr(fd, func)(a, one, mode, method, boundary=boundary, backend=backend)
        assert_close(got, value * a)


@given(problem=problems(), method=methods, mode=modes, func=st.sampled_from(FUNCS),
       boundary=boundaries, alpha=st.floats(-3, 3), beta=st.floats(-3, 3),
       seed=st.integers(0, 2**32 - 1))
def test_linearity(backend, problem, method, mode, func, boundary, alpha, beta, seed):
    a, k = problem
    if mode == "valid" and not _valid_ok(a, k):
        return
    b = _data(seed, a.shape, a.dtype)
    f = getattr(fd, func)

    def run(x):
        return f(x, k, mode, method, boundary=boundary, backend=backend)

    ca, cb = run(a), run(b)
    lhs = run(alpha * a + beta * b)
    scale = abs(alpha) * _max(ca) + abs(beta) * _max(cb) + _max(lhs)
    assert_near(lhs, alpha * ca + beta * cb, scale)


@given(problem=problems(), method=methods, mode=modes, boundary=boundaries,
       fillvalue=st.sampled_from([0, 1.5]))
def test_convolve_is_correlate_with_flipped_conjugated_kernel(backend, problem, method, mode,
                                                              boundary, fillvalue):
    a, k = problem
    if mode == "valid" and not _valid_ok(a, k):
        return
    flipped = np.conj(k[(slice(None, None, -1),) * k.ndim])
    conv = fd.convolve(a, k, mode, method, boundary=boundary, fillvalue=fillvalue,
                       backend=backend)
    corr = fd.correlate(a, flipped, mode, method, boundary=boundary, fillvalue=fillvalue,
                        backend=backend)
    assert_close(conv, corr)


@given(problem=problems(), method=methods)
def test_full_convolution_commutes(backend, problem, method):
    a, k = problem
    assert_close(fd.convolve(a, k, "full", method, backend=backend),
                 fd.convolve(k, a, "full", method, backend=backend))


@given(problem=problems(), method=methods, seed=st.integers(0, 2**32 - 1))
def test_adjointness(backend, problem, method, seed):
    """<convolve(x, k, 'full'), y> == <x, correlate(y, k, 'valid')> with
    <u, v> = sum(u * conj(v)): scipy's correlate conjugates k, which is exactly the
    adjoint of convolution by k."""
    x, k = problem
    y = _data(seed, tuple(n + m - 1 for n, m in zip(x.shape, k.shape)), x.dtype)
    ax = fd.convolve(x, k, "full", method, backend=backend)
    aty = fd.correlate(y, k, "valid", method, backend=backend)
    assert ax.shape == y.shape and aty.shape == x.shape
    lhs = np.vdot(y, ax)      # sum(ax * conj(y))
    rhs = np.vdot(aty, x)     # sum(x * conj(aty))
    scale = float(np.linalg.norm(ax) * np.linalg.norm(y) + np.linalg.norm(x)
                  * np.linalg.norm(aty))
    assert_near(lhs, rhs, scale)


@given(problem=problems(), method=methods, func=st.sampled_from(FUNCS),
       shift=st.lists(st.integers(-9, 9), min_size=3, max_size=3))
def test_shift_equivariance_with_wrap(backend, problem, method, func, shift):
    """With the periodic boundary, 'same' is a circular convolution: it commutes with
    circular shifts of the signal."""
    a, k = problem
    shift = tuple(shift[:a.ndim])
    axes = tuple(range(a.ndim))
    f = getattr(fd, func)
    shifted_first = f(np.roll(a, shift, axes), k, "same", method, boundary="wrap",
                      backend=backend)
    shifted_after = np.roll(f(a, k, "same", method, boundary="wrap", backend=backend),
                            shift, axes)
    assert_close(shifted_first, shifted_after)


@given(problem=problems(), mode=modes, boundary=boundaries, func=st.sampled_from(FUNCS))
def test_all_methods_agree(backend, problem, mode, boundary, func):
    a, k = problem
    if mode == "valid" and not _valid_ok(a, k):
        return
    f = getattr(fd, func)
    ref = f(a, k, mode, "direct", boundary=boundary, fillvalue=0.5, backend=backend)
    for method in ("fft", "oa", "auto"):
        assert_close(f(a, k, mode, method, boundary=boundary, fillvalue=0.5,
                       backend=backend), ref, err_msg=f"{method}:")


@given(problem=problems(kernel_not_larger=True), method=methods, boundary=boundaries)
def test_boundary_ignored_in_valid_mode(backend, problem, method, boundary):
    a, k = problem
    assert_close(fd.convolve(a, k, "valid", method, boundary=boundary, fillvalue=7.0,
                             backend=backend),
                 fd.convolve(a, k, "valid", method, backend=backend))


@pytest.mark.parametrize("func", FUNCS)
@given(problem=problems(), method=methods, c=st.floats(-3, 3))
def test_constant_signal_with_nearest_boundary(backend, func, problem, method, c):
    """A constant signal extended by any non-fill boundary stays constant: 'same' gives
    c * sum(kernel) (sum(conj(kernel)) for correlate) everywhere."""
    a, k = problem
    const = np.full(a.shape, c, a.dtype)
    total = k.sum() if func == "convolve" else np.conj(k).sum()
    for boundary in ("wrap", "symm", "reflect", "nearest"):
        got = getattr(fd, func)(const, k, "same", method, boundary=boundary,
                                backend=backend)
        assert_near(got, np.full(a.shape, c * total), abs(c) * float(np.abs(k).sum()) + 1,
                    err_msg=boundary)
