"""Project issue 12: fastdeconv equals scipy.signal at the edges.

Each test compares with scipy 1.17 itself (the oracle is called in the test):

1. fftconvolve/oaconvolve where every transformed axis of one input is one sample long
   (scipy multiplies instead of transforming, and still applies the mode);
2. fractional and out-of-range fill values with integer inputs (scipy converts the fill
   value to the output dtype first; every method must agree);
3. NaN/Inf placement of the direct method (which operand scipy pads), and scipy's
   RuntimeWarning for FFT results holding NaN/Inf;
4. result dtypes of fftconvolve/oaconvolve, integer inputs through method='fft', mode
   error messages word for word, 0-d bool correlate, long double computed in long
   double, and arrays of more than 32 dimensions.
"""
import itertools
import warnings

import numpy as np
import pytest
import scipy.signal as ss

import fastdeconv as fd
from .conftest import assert_close

METHODS = ["direct", "fft", "oa", "auto"]
MODES = ["full", "same", "valid"]
LONG = np.dtype(np.longdouble)
HAS_EXTENDED = LONG.itemsize > 8


def _quiet(func, *args, **kwargs):
    """``func(...)`` with warnings silenced (the oracle may warn where it is right to)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


# ------------------------------------------------ 1. length-1 axes in the FFT functions

ONE_SAMPLE_CASES = [
    # (in1 shape, in2 shape, axes): every transformed axis of one input is 1 long
    ((1,), (6,), None),
    ((6,), (1,), None),
    ((1,), (1,), None),
    ((1, 1), (4, 5), None),
    ((4, 5), (1, 1), None),
    ((3, 1), (3, 5), 1),
    ((3, 5), (3, 1), 1),
    ((1, 5), (4, 1), None),   # in1 one row, in2 one column: nothing to transform
    ((2, 1, 4), (2, 3, 1), [1, 2]),
    ((1, 7), (3, 7), 0),      # the transformed axis of in1 is 1 long, in2 has 3 lines
    ((5, 1), (1, 1), [0, 1]),
]


@pytest.mark.parametrize("func", ["fftconvolve", "oaconvolve"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("s1,s2,axes", ONE_SAMPLE_CASES,
                         ids=[f"{a}-{b}-axes{c}".replace(" ", "")
                              for a, b, c in ONE_SAMPLE_CASES])
@pytest.mark.parametrize("dtype", ["float64", "int64", "float32", "complex128", "int8"])
def test_fft_functions_one_sample_axes_match_scipy(s1, s2, axes, mode, func, dtype):
    rng = np.random.default_rng(len(s1) * 10 + len(s2))
    a = (rng.standard_normal(s1) * 5).astype(dtype)
    b = (rng.standard_normal(s2) * 5).astype(dtype)
    expected = getattr(ss, func)(a, b, mode, axes=axes)
    got = getattr(fd, func)(a, b, mode, axes=axes)
    assert_close(got, expected, err_msg=f"{func} {s1} {s2} {mode}:")


def test_fft_functions_issue_example():
    got = fd.fftconvolve([2.0], np.arange(1.0, 7.0), "same")
    assert_close(got, ss.fftconvolve([2.0], np.arange(1.0, 7.0), "same"))
    assert got.shape == (1,)
    # integers stay integers when nothing is transformed (scipy's test_single_element)
    for func in ("fftconvolve", "oaconvolve"):
        got = getattr(fd, func)(np.array([4967]), np.array([3920]))
        assert_close(got, np.array([4967 * 3920]))


# ------------------------------------------------------- 2. fill values, integer inputs

FILLS = [1.5, -1.5, 2.7, -1, 0, 300, -2.5, np.float64(2.7), np.int64(300), True, "3",
         1e300, np.nan, np.inf, 1j, 1 + 0j, None, np.array(300.0), np.array([2.5]),
         [2.5], [1, 2], []]
FILL_DTYPES = ["int8", "uint8", "int16", "int64", "uint64", "float32", "complex64"]


def _fill_id(fv):
    return repr(fv).replace(" ", "")


@pytest.mark.parametrize("func", ["convolve2d", "correlate2d"])
@pytest.mark.parametrize("dtype", FILL_DTYPES)
@pytest.mark.parametrize("fillvalue", FILLS, ids=[_fill_id(f) for f in FILLS])
def test_fillvalue_converted_as_scipy(func, dtype, fillvalue):
    """Every method uses scipy's converted fill value, or raises scipy's exception."""
    a = np.arange(12).reshape(3, 4).astype(dtype)
    k = np.array([[1, 2], [3, 1]]).astype(dtype)
    try:
        expected = _quiet(getattr(ss, func), a, k, "full", "fill", fillvalue)
    except Exception as exc:  # noqa: BLE001 - the oracle's exception is the expectation
        for method in METHODS:
            with pytest.raises(type(exc)) as info, warnings.catch_warnings():
                warnings.simplefilter("ignore")  # numpy's ComplexWarning, as in scipy
                getattr(fd, func)(a, k, "full", "fill", fillvalue, method=method)
            if "fillvalue" in str(exc):  # scipy's own messages, word for word
                assert str(info.value) == str(exc)
        return
    finite_fill = bool(np.all(np.isfinite(np.asarray(_quiet(np.asarray, fillvalue,
                                                            dtype=expected.dtype)))))
    for method in METHODS:
        if not finite_fill and method in ("fft", "oa"):
            # a NaN/Inf fill spoils a whole FFT: scipy's warning, as for NaN input
            with warnings.catch_warnings(record=True) as rec:
                warnings.simplefilter("always")  # (and numpy's overflow, as in scipy)
                getattr(fd, func)(a, k, "full", "fill", fillvalue, method=method)
            assert any("Use of fft convolution" in str(w.message) for w in rec)
            continue
        got = _quiet(getattr(fd, func), a, k, "full", "fill", fillvalue, method=method)
        assert_close(got, expected, err_msg=f"method={method}:")


@pytest.mark.parametrize("fillvalue", [1.5, -2.5, 2.7, True])
@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8", "bool"])
def test_fractional_fill_same_for_every_method(dtype, fillvalue):
    """Also where scipy has no 2-D function (bool) and for the N-D functions."""
    rng = np.random.default_rng(1)
    a = rng.integers(0, 3, (9, 11)).astype(dtype)
    k = rng.integers(0, 3, (3, 4)).astype(dtype)
    if dtype == "uint8" and fillvalue < 0:  # out of range: scipy's ValueError
        for method in METHODS:
            with pytest.raises(ValueError, match="could not cast `fillvalue`"):
                fd.convolve(a, k, "same", method, fillvalue=fillvalue)
        return
    for func in ("convolve", "correlate", "convolve2d", "correlate2d"):
        results = [getattr(fd, func)(a, k, "same", method=m, boundary="fill",
                                     fillvalue=fillvalue) for m in METHODS]
        for method, got in zip(METHODS[1:], results[1:]):
            assert_close(got, results[0], err_msg=f"{func} {method}:")
    if dtype != "bool":  # (scipy's convolve2d takes no bool)
        # the value used is the fill converted to the dtype: 1.5 -> 1 for integers
        expected = ss.convolve2d(a, k, "same", "fill", fillvalue)
        assert_close(fd.convolve(a, k, "same", "fft", fillvalue=fillvalue), expected)
        assert_close(fd.convolve(a, k, "same", "oa", fillvalue=fillvalue), expected)


def test_fillvalue_ignored_for_other_boundaries_as_scipy():
    a = np.arange(12).reshape(3, 4)
    k = np.ones((2, 2), int)
    for boundary in ("wrap", "symm"):
        assert_close(fd.convolve2d(a, k, "full", boundary, [1, 2]),
                     ss.convolve2d(a, k, "full", boundary, [1, 2]))


# ----------------------------------------------------- 3. NaN/Inf placement, direct

def _poison(a, which, rng):
    """A copy of ``a`` with one NaN/Inf (or a few) at random places."""
    a = a.copy()
    flat = a.reshape(-1)
    values = {"nan": [np.nan], "inf": [np.inf], "mixed": [np.inf, -np.inf, np.nan]}[which]
    for val in values:
        flat[rng.integers(flat.size)] = val
    return a


NAN_SHAPES = [
    ((8,), (3,)), ((3,), (8,)), ((5,), (5,)), ((1,), (4,)), ((4,), (1,)), ((12,), (6,)),
    ((6, 7), (3, 3)), ((3, 3), (6, 7)), ((2, 9), (4, 3)), ((4, 4), (4, 4)),
    ((14, 13), (6, 6)),       # >= 30 taps, 3+ rows: the 2-D sweep kernel
    ((13, 12), (5, 5)),       # separable stencils below (outer products)
    ((4, 5, 3), (2, 3, 2)), ((2, 3, 2), (4, 5, 3)),
]


@pytest.mark.parametrize("func", ["convolve", "correlate"])
@pytest.mark.parametrize("which", ["nan", "inf", "mixed"])
@pytest.mark.parametrize("poisoned", ["in1", "in2", "both"])
@pytest.mark.parametrize("shapes", NAN_SHAPES, ids=[f"{a}-{b}".replace(" ", "")
                                                    for a, b in NAN_SHAPES])
def test_direct_places_nan_inf_as_scipy(backend, shapes, poisoned, which, func):
    rng = np.random.default_rng(hash((shapes, poisoned, which)) % 2**32)
    s1, s2 = shapes
    a = rng.standard_normal(s1)
    b = rng.standard_normal(s2)
    if len(s2) == 2 and s2[0] == s2[1] == 5:
        b = np.outer(rng.standard_normal(5), rng.standard_normal(5))  # separable
    if poisoned in ("in1", "both"):
        a = _poison(a, which, rng)
    if poisoned in ("in2", "both"):
        b = _poison(b, which, rng)
    for mode in MODES:
        if mode == "valid" and not (all(m >= n for m, n in zip(s1, s2))
                                    or all(m <= n for m, n in zip(s1, s2))):
            continue
        expected = _quiet(getattr(ss, func), a, b, mode, "direct")
        got = _quiet(getattr(fd, func), a, b, mode, "direct", backend=backend)
        assert_close(got, expected, err_msg=f"{func} {mode}:")
        if len(s1) == 2:
            expected = _quiet(getattr(ss, func + "2d"), a, b, mode)
            got = _quiet(getattr(fd, func + "2d"), a, b, mode, method="direct",
                         backend=backend)
            assert_close(got, expected, err_msg=f"{func}2d {mode}:")


@pytest.mark.parametrize("boundary,fillvalue", [("fill", 0), ("fill", 2.5),
                                                ("fill", np.nan), ("wrap", 0),
                                                ("symm", 0)])
@pytest.mark.parametrize("func", ["convolve2d", "correlate2d"])
def test_2d_functions_nan_inf_with_boundaries(backend, func, boundary, fillvalue):
    rng = np.random.default_rng(7)
    for s1, s2 in [((7, 9), (3, 4)), ((3, 4), (7, 9)), ((12, 12), (6, 5))]:
        a = _poison(rng.standard_normal(s1), "mixed", rng)
        b = _poison(rng.standard_normal(s2), "inf", rng)
        for x, k in [(a, b), (rng.standard_normal(s1), b), (a, rng.standard_normal(s2))]:
            for mode in MODES:
                expected = _quiet(getattr(ss, func), x, k, mode, boundary, fillvalue)
                got = _quiet(getattr(fd, func), x, k, mode, boundary, fillvalue,
                             method="direct", backend=backend)
                assert_close(got, expected, err_msg=f"{s1} {s2} {mode}:")


def test_issue_examples_nan_inf():
    a = np.ones(8)
    k = np.array([1.0, np.inf, 1.0])
    got = fd.convolve(a, k, "full", method="direct")
    assert_close(got, ss.convolve(a, k, "full", method="direct"))
    assert got[0] == 1.0 and np.isinf(got[1:-1]).all()  # no NaN: numpy's overlap sums
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 8))
    x[2, 3] = np.nan
    kk = rng.standard_normal((3, 3))
    kk[1, 1] = np.inf
    got = fd.correlate2d(kk, x, method="direct")
    expected = ss.correlate2d(kk, x)
    assert np.isnan(expected).all()
    assert_close(got, expected)


def test_complex_nan_placement_as_scipy(backend):
    rng = np.random.default_rng(3)
    for s1, s2 in [((9,), (4,)), ((4,), (9,)), ((6, 7), (3, 3)), ((3, 3), (6, 7))]:
        a = rng.standard_normal(s1) + 1j * rng.standard_normal(s1)
        b = rng.standard_normal(s2) - 1j * rng.standard_normal(s2)
        a.reshape(-1)[1] = np.nan
        for func in ("convolve", "correlate"):
            for mode in MODES:
                expected = _quiet(getattr(ss, func), a, b, mode, "direct")
                got = _quiet(getattr(fd, func), a, b, mode, "direct", backend=backend)
                assert_close(got, expected, err_msg=f"{func} {s1} {s2} {mode}:")


def test_nan_inputs_are_not_modified():
    a = np.r_[1.0, np.nan, 2.0, np.inf]
    k = np.r_[np.inf, 1.0, 0.0, -1.0, 2.0]
    a0, k0 = a.copy(), k.copy()
    for mode in MODES:
        _quiet(fd.convolve, a, k, mode, "direct")
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(k, k0)


# ----------------------------------------------------------- 3. the FFT NaN warning

def _signal_with(val):
    rng = np.random.default_rng(43876432987)
    sig = rng.standard_normal(1000)
    sig[100] = val
    return sig, ss.firwin(200, 0.2)


@pytest.mark.parametrize("val", [np.nan, np.inf])
@pytest.mark.parametrize("method", ["fft", "oa"])
def test_fft_methods_warn_on_nan_like_scipy(val, method):
    sig, coeffs = _signal_with(val)
    calls = [lambda: fd.convolve(sig, coeffs, mode="same", method=method),
             lambda: fd.correlate(sig, coeffs, mode="full", method=method),
             lambda: fd.convolve2d(sig[None], coeffs[None], method=method)]
    for call in calls:
        with warnings.catch_warnings(record=True) as rec:
            # numpy's "invalid value encountered in multiply" may come first, as in
            # scipy (Inf times the spectrum's zeros)
            warnings.simplefilter("always")
            call()
        ours = [w for w in rec if "Use of fft convolution on input with NAN"
                in str(w.message)]
        assert len(ours) == 1 and ours[0].category is RuntimeWarning
        assert ours[0].filename == __file__  # points at the caller


def test_fft_warning_message_is_scipys():
    sig, coeffs = _signal_with(np.nan)
    with pytest.warns(RuntimeWarning) as ours:
        fd.convolve(sig, coeffs, method="fft")
    with pytest.warns(RuntimeWarning) as theirs:
        ss.convolve(sig, coeffs, method="fft")
    assert str(ours[0].message) == str(theirs[-1].message)


def test_no_warning_where_scipy_gives_none():
    sig, coeffs = _signal_with(np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # fftconvolve/oaconvolve do not warn in scipy; neither does choose_conv_method
        # nor the direct method; finite input never warns
        fd.fftconvolve(sig, coeffs)
        fd.oaconvolve(sig, coeffs)
        fd.choose_conv_method(sig, coeffs)
        fd.convolve(sig, coeffs, method="direct")
        fd.convolve(np.nan_to_num(sig), coeffs, method="fft")
        fd.convolve(np.nan_to_num(sig), coeffs, method="oa")


def test_auto_warns_when_it_picks_an_fft():
    sig = np.ones(200_000)
    sig[5] = np.nan
    k = np.ones(2001)
    assert fd.choose_conv_method(sig, k) != "direct"
    with pytest.warns(RuntimeWarning, match="Use of fft convolution"):
        fd.convolve(sig, k, "same")


# ------------------------------------------------- 4. dtypes, integers, messages, ...

ALL_DTYPES = ["bool", "int8", "uint8", "int16", "int32", "uint32", "int64", "uint64",
              "float16", "float32", "float64", "complex64", "complex128"]
if HAS_EXTENDED:
    ALL_DTYPES += ["longdouble", "clongdouble"]


@pytest.mark.parametrize("func", ["fftconvolve", "oaconvolve"])
@pytest.mark.parametrize("t1", ALL_DTYPES)
def test_fft_function_result_dtypes_are_scipys(func, t1):
    for t2 in ALL_DTYPES:
        a = np.ones(40, t1)
        b = np.ones(3, t2)
        expected = _quiet(getattr(ss, func), a, b)
        got = getattr(fd, func)(a, b)
        assert got.dtype == expected.dtype, (t1, t2)
        if np.dtype(t1) != bool or np.dtype(t2) != bool:
            assert_close(got, expected.astype(got.dtype), rtol=1e-3)


@pytest.mark.parametrize("n", [10, 20, 50, 51, 52, 53, 54, 60, 62])
def test_large_integers_through_fft_as_scipy(n):
    z = np.array([2**n], dtype=np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # scipy multiplies here: no cast warning
        got = fd.convolve(z, z, method="fft")
        expected = ss.convolve(z, z, method="fft")
    assert_close(got, expected)


def test_integers_through_fft_round_like_scipy():
    rng = np.random.default_rng(5)
    for dt in ["int8", "int16", "int32", "int64", "uint8", "uint64"]:
        a = rng.integers(0, 100, 50).astype(dt)
        b = rng.integers(0, 100, 7).astype(dt)
        for method in ("fft", "oa"):
            got = fd.convolve(a, b, "same", method)
            assert_close(got, ss.convolve(a, b, "same", "fft"), err_msg=f"{dt} {method}")


MODE_CALLS = [
    ("convolve", {"method": "auto"}), ("convolve", {"method": "direct"}),
    ("convolve", {"method": "fft"}), ("correlate", {"method": "auto"}),
    ("correlate", {"method": "direct"}), ("correlate", {"method": "fft"}),
    ("fftconvolve", {}), ("oaconvolve", {}), ("convolve2d", {}), ("correlate2d", {}),
    ("choose_conv_method", {}),
]


@pytest.mark.parametrize("func,kwargs", MODE_CALLS,
                         ids=[f"{f}-{k.get('method', '')}" for f, k in MODE_CALLS])
@pytest.mark.parametrize("mode", ["chips", "FULL", None, 1])
def test_mode_errors_are_scipys_word_for_word(func, kwargs, mode):
    a, b = ((np.ones((1, 5)), np.ones((1, 2))) if func.endswith("2d")
            else ([1, 2, 3], [1, 1]))
    with pytest.raises(ValueError) as expected:
        getattr(ss, func)(a, b, mode, **kwargs)
    with pytest.raises(ValueError) as got:
        getattr(fd, func)(a, b, mode, **kwargs)
    assert str(got.value) == str(expected.value)
    if func == "convolve" and kwargs["method"] == "fft":
        with pytest.raises(ValueError, match=str(expected.value)):
            fd.convolve(a, b, mode, method="oa")  # 'oa' words it as 'fft' does


def test_scipy_test_invalid_flags():
    # scipy's TestAllFreqConvolves::test_invalid_flags for the mode
    for func in (fd.fftconvolve, fd.oaconvolve):
        with pytest.raises(ValueError, match="acceptable mode flags are 'valid',"
                                             " 'same', or 'full'"):
            func([1], [2], mode="chips")


def test_zero_dim_results_keep_scipys_dtype():
    for t in ["bool", "int8", "float32", "complex64"]:
        a, b = np.ones((), t), np.ones((), t)
        for func in ("convolve", "correlate", "fftconvolve", "oaconvolve"):
            got = getattr(fd, func)(a, b)
            expected = getattr(ss, func)(a, b)
            assert np.asarray(got).dtype == np.asarray(expected).dtype, (func, t)
            assert got == expected


@pytest.mark.skipif(not HAS_EXTENDED, reason="long double is double on this platform")
@pytest.mark.parametrize("dtype", ["longdouble", "clongdouble"])
def test_long_double_is_computed_in_long_double(backend, dtype):
    """Extended precision stays extended: errors far below double's round-off."""
    rng = np.random.default_rng(11)
    x = rng.random((27, 27)).astype(dtype)
    y = rng.random((4, 4)).astype(dtype)
    if np.dtype(dtype).kind == "c":
        x += 0.1j
        y -= 0.1j
    exact = ss.convolve(x, y, method="direct")  # scipy's direct sums in long double
    tol = 1e3 * np.finfo(np.longdouble).eps * float(np.max(np.abs(exact)))
    assert tol < 1e-13 * float(np.max(np.abs(exact)))  # tighter than double could be
    results = {m: fd.convolve(x, y, method=m, backend=backend) for m in METHODS}
    results["fftconvolve"] = fd.fftconvolve(x, y)
    results["oaconvolve"] = fd.oaconvolve(x, y)
    results["convolve2d"] = fd.convolve2d(x, y, method="direct", backend=backend)
    for name, got in results.items():
        assert got.dtype == np.dtype(dtype), name
        assert float(np.max(np.abs(got - exact))) <= tol, name
    # boundaries and batch axes of the direct method in long double too
    got = fd.correlate2d(x, y, "same", "symm", method="direct", backend=backend)
    double = np.complex128 if dtype[0] == "c" else np.float64
    assert_close(got.astype(double), ss.correlate2d(x, y, "same", "symm").astype(double))
    got = fd.convolve(x, y[:1], axes=1, method="direct", backend=backend)
    exact = np.stack([np.convolve(row, y[0]) for row in x])
    assert float(np.max(np.abs(got - exact))) <= tol


@pytest.mark.parametrize("ndim", [33, 40, 64])
def test_more_than_32_dimensions(ndim):
    """numpy's broadcasting helpers stop at 32 dimensions; the functions do not."""
    rng = np.random.default_rng(ndim)
    s1 = (3, 5) + (1,) * (ndim - 4) + (2, 4)
    s2 = (3, 2) + (1,) * (ndim - 4) + (1, 3)
    a = rng.standard_normal(s1)
    b = rng.standard_normal(s2)
    for mode in MODES:
        for func in ("fftconvolve", "oaconvolve"):
            # (scipy's oaconvolve adds an axis per transformed axis: 64 + 2 > numpy's 64)
            assert_close(getattr(fd, func)(a, b, mode), ss.fftconvolve(a, b, mode),
                         err_msg=f"{func} {mode}")
        expected = ss.fftconvolve(a, b, mode)
        for method in METHODS:
            assert_close(fd.convolve(a, b, mode, method), expected,
                         err_msg=f"convolve {mode} {method}")
        axes = [1, ndim - 1]
        expected = ss.fftconvolve(a, b, mode, axes=axes)
        for method in METHODS:
            assert_close(fd.convolve(a, b, mode, method, axes=axes), expected,
                         err_msg=f"convolve axes {mode} {method}")
    assert fd.choose_conv_method(a, b) in ("direct", "fft", "oa")


def test_too_many_differently_broadcast_batch_axes_raise_valueerror():
    # 33 batch axes alternating which input is 1 long: no merging can bring them
    # under numpy's 32-axis limit
    s1 = tuple(2 if i % 2 else 1 for i in range(33)) + (4,)
    s2 = tuple(1 if i % 2 else 2 for i in range(33)) + (3,)
    a, b = np.ones(s1), np.ones(s2)
    for method in ("direct", "fft"):
        with pytest.raises(ValueError, match="batch axes"):
            fd.convolve(a, b, method=method, axes=-1)


def test_choose_conv_method_measure_picks_like_scipy():
    rng = np.random.default_rng(2)
    x, h = rng.standard_normal(64), rng.standard_normal(6)
    method, times = fd.choose_conv_method(x, h, measure=True)
    assert method in ("direct", "fft") and set(times) == {"direct", "fft"}
    assert method == ("fft" if times["fft"] < times["direct"] else "direct")
    with pytest.raises(ValueError) as expected:
        ss.choose_conv_method(x, h, "chips", measure=True)
    with pytest.raises(ValueError) as got:
        fd.choose_conv_method(x, h, "chips", measure=True)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("shapes", list(itertools.product([(1,), (3,), (9,)], repeat=2)))
def test_single_sample_inputs_every_method(shapes):
    """One-sample inputs through every method and mode (scipy multiplies for 'fft')."""
    rng = np.random.default_rng(4)
    a = rng.integers(-9, 9, shapes[0])
    b = rng.integers(-9, 9, shapes[1])
    for mode in MODES:
        expected = ss.convolve(a, b, mode, "direct")
        for method in METHODS:
            assert_close(fd.convolve(a, b, mode, method), expected)


def test_auto_keeps_huge_integer_fill_exact():
    """A fill value beyond float64's integers keeps 'auto' on the exact direct method."""
    rng = np.random.default_rng(9)
    a = rng.integers(0, 4, (200, 200))
    k = rng.integers(0, 4, (31, 31))
    assert fd.choose_conv_method(a, k, "same") != "direct"  # an FFT without the fill
    fill = 2**45 + 1
    assert_close(fd.convolve2d(a, k, "same", "fill", fill),
                 ss.convolve2d(a, k, "same", "fill", fill))
