"""Ladders (b) and (d) for ``fastdeconv.convolution``.

(b) the public functions against scipy.signal / scipy.ndimage / a numpy.pad oracle on
medium random data, for every mode x method x dtype x ndim x backend;
(d) read-only, big-endian and non-contiguous inputs are accepted, give the contiguous
result and are left untouched.

Expected values are scipy's, computed in float64/complex128 (or int64 for integer and
bool data) with ``method='direct'`` and cast to ``np.result_type(in1, in2)`` — the dtype
scipy returns — so the comparison measures this library's error only.  The 'python'
backend is a naive loop: it gets the small variant of every case.
"""
import numpy as np
import pytest
import scipy.ndimage as ndi
import scipy.signal as ss

import fastdeconv as fd
from .conftest import (PAD_MODE, wide_dtype, assert_close, padded_reference, random_array,
                       scipy_reference)

METHODS = ["direct", "fft", "oa", "auto"]
MODES = ["full", "same", "valid"]
FUNCS = ["convolve", "correlate"]

# name -> ((in1 shape, in2 shape) medium, (in1 shape, in2 shape) small for 'python')
CASES = {
    "1d-odd": (((101,), (9,)), ((13,), (5,))),
    "1d-even": (((100,), (8,)), ((12,), (4,))),
    "1d-size1-in1": (((1,), (5,)), ((1,), (5,))),
    "1d-size1-in2": (((37,), (1,)), ((7,), (1,))),
    "1d-in2-larger": (((7,), (23,)), ((4,), (9,))),
    "1d-equal": (((64,), (64,)), ((6,), (6,))),
    "1d-long": (((2000,), (31,)), ((40,), (7,))),
    "2d-odd": (((23, 31), (5, 3)), ((7, 9), (3, 3))),
    "2d-even": (((24, 30), (4, 6)), ((6, 8), (2, 4))),
    "2d-mixed": (((23, 30), (4, 5)), ((7, 8), (2, 3))),
    "2d-size1-rows": (((1, 37), (1, 5)), ((1, 9), (1, 3))),
    "2d-size1-cols": (((20, 1), (3, 1)), ((6, 1), (3, 1))),
    "2d-in2-larger": (((6, 5), (9, 11)), ((3, 2), (5, 4))),
    "2d-long": (((300, 40), (9, 7)), ((12, 10), (3, 3))),
    "3d-odd": (((9, 11, 13), (3, 5, 3)), ((4, 5, 5), (3, 3, 1))),
    "3d-even": (((8, 10, 12), (2, 4, 2)), ((4, 4, 6), (2, 2, 2))),
    "3d-size1": (((4, 1, 6), (2, 1, 3)), ((4, 1, 6), (2, 1, 3))),
    "3d-in2-larger": (((3, 4, 2), (5, 6, 3)), ((2, 2, 1), (3, 4, 2))),
}

# (in1 dtype, in2 dtype); scipy's result dtype is np.result_type of the two
DTYPE_PAIRS = [
    ("float32", "float32"), ("float64", "float64"), ("complex64", "complex64"),
    ("complex128", "complex128"), ("int32", "int32"), ("int64", "int64"),
    ("bool", "bool"), ("uint8", "float32"), ("uint8", "float64"), ("float32", "float64"),
    ("float32", "complex64"), ("int32", "float32"),
]
DTYPE_IDS = [a if a == b else f"{a}+{b}" for a, b in DTYPE_PAIRS]
DTYPE_CASES = ["1d-odd", "2d-mixed", "3d-even"]


def shapes_for(case, backend):
    medium, small = CASES[case]
    return small if backend == "python" else medium


def call(func, in1, in2, mode, method, backend, **kw):
    return getattr(fd, func)(in1, in2, mode, method, backend=backend, **kw)


# ----------------------------------------------------------------- (b) vs scipy


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", list(CASES))
def test_shapes_match_scipy(backend, case, mode, method, func):
    rng = np.random.default_rng(sum(map(ord, case)))
    s1, s2 = shapes_for(case, backend)
    a = rng.standard_normal(s1)
    b = rng.standard_normal(s2)
    got = call(func, a, b, mode, method, backend)
    assert_close(got, scipy_reference(func, a, b, mode), err_msg=f"{case} {s1} {s2}:")


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("dtypes", DTYPE_PAIRS, ids=DTYPE_IDS)
@pytest.mark.parametrize("case", DTYPE_CASES)
def test_dtypes_match_scipy(backend, case, dtypes, mode, method, func):
    rng = np.random.default_rng(sum(map(ord, case)) + len(dtypes[0]))
    s1, s2 = shapes_for(case, backend)
    a = random_array(rng, s1, dtypes[0])
    b = random_array(rng, s2, dtypes[1])
    got = call(func, a, b, mode, method, backend)
    assert_close(got, scipy_reference(func, a, b, mode), err_msg=f"{case} {dtypes}:")


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("int32", "int32"),
                                    ("complex128", "complex128"), ("bool", "bool")],
                         ids=["float32", "int32", "complex128", "bool"])
def test_result_dtype_is_scipys(dtypes):
    """The dtype scipy itself returns for these inputs (not just np.result_type)."""
    rng = np.random.default_rng(0)
    a = random_array(rng, (30,), dtypes[0])
    b = random_array(rng, (5,), dtypes[1])
    for func in FUNCS:
        for method in METHODS:
            sp_method = "fft" if method == "oa" else method
            expected = getattr(ss, func)(a, b, "full", sp_method)
            assert getattr(fd, func)(a, b, "full", method).dtype == expected.dtype


def test_array_likes_and_scalars():
    assert_close(fd.convolve([1, 2, 3], [0, 1, 0.5]), ss.convolve([1, 2, 3], [0, 1, 0.5]))
    assert_close(fd.correlate([1, 2, 3], [1, 1]), ss.correlate([1, 2, 3], [1, 1]))
    for f in ("convolve", "correlate", "fftconvolve", "oaconvolve"):
        got = getattr(fd, f)(2.0, 3.0)
        assert got == getattr(ss, f)(2.0, 3.0)
    z1, z2 = np.complex128(1 + 2j), np.complex128(3 - 1j)
    assert fd.correlate(z1, z2) == ss.correlate(z1, z2)
    assert fd.convolve(z1, z2) == ss.convolve(z1, z2)


@pytest.mark.parametrize("method", METHODS)
def test_complex_in2_is_conjugated_by_correlate(backend, method):
    a = np.array([1.0 + 1j, 2.0, 3.0 - 1j, 0.5j])
    b = np.array([1j, 2.0 - 1j])
    assert_close(fd.correlate(a, b, "full", method, backend=backend),
                 ss.correlate(a, b, "full", "direct"))
    # real in1, complex in2
    assert_close(fd.correlate(a.real.copy(), b, "same", method, backend=backend),
                 ss.correlate(a.real, b, "same", "direct"))


def test_nan_propagates_locally_in_direct(backend):
    """The direct method keeps NaN where the kernel reads it (scipy direct's result)."""
    a = np.arange(20.0)
    a[7] = np.nan
    k = np.array([1.0, 0.0, -2.0])
    for func in FUNCS:
        for mode in MODES:
            got = getattr(fd, func)(a, k, mode, "direct", backend=backend)
            assert_close(got, getattr(ss, func)(a, k, mode, "direct"),
                         err_msg=f"{func} {mode}:")


def test_large_integers_stay_exact_with_auto(backend):
    """Integers beyond float64's 2**52 must not go through an FFT (scipy's rule)."""
    a = np.array([2**40 + 1, 3, -(2**41) + 7, 5, 11] * 4, dtype=np.int64)
    k = np.array([2**20 + 3, -1, 7], dtype=np.int64)
    for func in FUNCS:
        for mode in MODES:
            expected = getattr(ss, func)(a, k, mode, "direct")  # exact int64 sums
            got = getattr(fd, func)(a, k, mode, "auto", backend=backend)
            assert_close(got, expected, err_msg=f"{func} {mode}:")
    assert fd.choose_conv_method(a, k) == "direct"


# ---------------------------------------------------- convolve2d / correlate2d


CASES_2D = ["2d-odd", "2d-even", "2d-mixed", "2d-size1-rows", "2d-in2-larger"]


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("func", ["convolve2d", "correlate2d"])
@pytest.mark.parametrize("case", CASES_2D)
def test_2d_functions_match_scipy(backend, case, func, mode, boundary):
    rng = np.random.default_rng(len(case))
    s1, s2 = shapes_for(case, backend)
    a = rng.standard_normal(s1)
    b = rng.standard_normal(s2)
    for fillvalue in ([0, 1.5, -2] if boundary == "fill" else [0, 3.0]):
        got = getattr(fd, func)(a, b, mode, boundary, fillvalue, backend=backend)
        expected = getattr(ss, func)(a, b, mode, boundary, fillvalue)
        assert_close(got, expected, err_msg=f"{case} fillvalue {fillvalue}:")
    # positional defaults
    assert_close(getattr(fd, func)(a, b), getattr(ss, func)(a, b))


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("complex64", "complex64"),
                                    ("complex128", "complex128"), ("int32", "int32"),
                                    ("uint8", "float32"), ("float64", "complex128")],
                         ids=["float32", "complex64", "complex128", "int32",
                              "uint8+float32", "float64+complex128"])
@pytest.mark.parametrize("func", ["convolve2d", "correlate2d"])
def test_2d_functions_dtypes(backend, func, dtypes):
    rng = np.random.default_rng(3)
    s1, s2 = shapes_for("2d-mixed", backend)
    a = random_array(rng, s1, dtypes[0])
    b = random_array(rng, s2, dtypes[1])
    for mode in MODES:
        for boundary, fillvalue in [("fill", 0), ("fill", 2), ("wrap", 0), ("symm", 0)]:
            got = getattr(fd, func)(a, b, mode, boundary, fillvalue, backend=backend)
            expected = getattr(ss, func)(a, b, mode, boundary, fillvalue)
            assert_close(got, expected, err_msg=f"{mode} {boundary} {fillvalue}:")


def test_2d_scipy_boundary_aliases():
    rng = np.random.default_rng(4)
    a = rng.standard_normal((9, 8))
    b = rng.standard_normal((3, 4))
    for name in ["circular", "symmetric"]:
        for func in ["convolve2d", "correlate2d"]:
            assert_close(getattr(fd, func)(a, b, "same", name),
                         getattr(ss, func)(a, b, "same", name))


# ----------------------------------------------------- fftconvolve / oaconvolve / axes

# (in1 shape, in2 shape, axes)
AXES_CASES = [
    ((4, 50), (1, 7), 1),
    ((4, 50), (4, 7), 1),
    ((4, 50), (4, 7), -1),
    ((4, 50), (4, 7), [1]),
    ((1, 50), (4, 7), 1),
    ((50, 4), (7, 1), 0),
    ((4, 50), (4, 60), 1),
    ((3, 20, 30), (1, 5, 4), [1, 2]),
    ((20, 3, 30), (5, 3, 4), (0, 2)),
    ((20, 3, 30), (5, 3, 4), (2, 0)),
    ((4, 1, 30), (1, 3, 5), 2),
    ((4, 3, 30), (1, 3, 5), 2),
    ((4, 3, 30), (4, 1, 5), -1),
    ((30, 40), (5, 6), None),
    ((1000,), (31,), None),
    ((9, 10, 11), (3, 2, 4), None),
    ((6, 700), (6, 25), 1),
]
AXES_IDS = [f"{s1}-{s2}-axes{ax}".replace(" ", "") for s1, s2, ax in AXES_CASES]


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128", "int64"])
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("func", ["fftconvolve", "oaconvolve"])
@pytest.mark.parametrize("s1,s2,axes", AXES_CASES, ids=AXES_IDS)
def test_fft_functions_match_scipy(s1, s2, axes, func, mode, dtype):
    rng = np.random.default_rng(len(s1) + len(s2))
    a = random_array(rng, s1, dtype)
    b = random_array(rng, s2, dtype)
    expected = getattr(ss, func)(a, b, mode, axes=axes)
    got = getattr(fd, func)(a, b, mode, axes=axes)
    assert got.dtype == expected.dtype
    # scipy's own result carries the FFT round-off of its dtype: compare both against
    # the double-precision truth, at the tolerance of the result dtype.
    wide = np.complex128 if np.dtype(dtype).kind == "c" else np.float64
    truth = getattr(ss, func)(a.astype(wide), b.astype(wide), mode, axes=axes)
    assert_close(got, truth.astype(expected.dtype))
    if func == "fftconvolve":  # positional axes
        assert_close(fd.fftconvolve(a, b, mode, axes), got)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("s1,s2,axes", AXES_CASES[:13], ids=AXES_IDS[:13])
def test_convolve_axes_batches(backend, s1, s2, axes, func, method):
    """``axes=`` in convolve/correlate: the other axes are batch axes (broadcast)."""
    rng = np.random.default_rng(len(s1) * 7 + len(s2))
    if backend == "python":  # keep the naive loop small: shorter signals, same layout
        s1 = tuple(min(n, 12) for n in s1)
        s2 = tuple(min(n, 5) for n in s2)
    a = rng.standard_normal(s1)
    b = rng.standard_normal(s2)
    for mode in MODES:
        if func == "convolve":
            expected = ss.fftconvolve(a, b, mode, axes=axes)
        else:
            conv_axes = range(a.ndim) if axes is None else np.atleast_1d(axes)
            expected = ss.fftconvolve(a, np.flip(b, tuple(int(x) for x in conv_axes)), mode,
                                      axes=axes)
        got = getattr(fd, func)(a, b, mode, method, axes=axes, backend=backend)
        assert_close(got, expected, err_msg=f"{mode}:")


@pytest.mark.parametrize("dtype", ["float64", "int32", "complex64"])
def test_convolve_axes_integer_and_complex(backend, dtype):
    rng = np.random.default_rng(9)
    a = random_array(rng, (3, 11), dtype)
    b = random_array(rng, (3, 4), dtype)
    for method in METHODS:
        for mode in MODES:
            got = fd.convolve(a, b, mode, method, axes=1, backend=backend)
            expected = np.stack([scipy_reference("convolve", a[i], b[i], mode)
                                 for i in range(3)])
            assert_close(got, expected, err_msg=f"{method} {mode}:")


# ---------------------------------------------------------------- boundaries

ALIASES = {"periodic": "wrap", "symmetric": "symm", "mirror": "reflect", "edge": "nearest"}
NDIMAGE_MODE = {"fill": "constant", "wrap": "wrap", "symm": "reflect", "reflect": "mirror",
                "nearest": "nearest"}


BOUNDARY_CASES = ["1d-odd", "1d-even", "1d-in2-larger", "2d-mixed", "2d-in2-larger",
                  "3d-odd", "3d-even"]


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("boundary", list(PAD_MODE))
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("case", BOUNDARY_CASES)
def test_boundaries_match_numpy_pad(backend, case, method, boundary, func):
    rng = np.random.default_rng(len(case) + len(boundary))
    s1, s2 = CASES[case][1] if backend == "python" or case.startswith("3d") else \
        CASES[case][0]
    a = rng.standard_normal(s1)
    k = rng.standard_normal(s2)
    fillvalue = 1.5 if boundary == "fill" else 0
    for mode in MODES:
        got = getattr(fd, func)(a, k, mode, method, boundary=boundary, fillvalue=fillvalue,
                                backend=backend)
        assert_close(got, padded_reference(func, a, k, mode, boundary, fillvalue),
                     err_msg=f"{s1} {s2} {mode}:")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("alias", list(ALIASES))
def test_boundary_aliases(backend, alias, method):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((7, 9))
    k = rng.standard_normal((3, 4))
    for func in FUNCS:
        for mode in ("full", "same"):
            got = getattr(fd, func)(a, k, mode, method, boundary=alias, backend=backend)
            assert_close(got, padded_reference(func, a, k, mode, ALIASES[alias]),
                         err_msg=f"{func} {mode}:")


@pytest.mark.parametrize("dtypes", [("float32", "float32"), ("complex128", "complex128"),
                                    ("int32", "int32")], ids=["float32", "complex128",
                                                              "int32"])
@pytest.mark.parametrize("boundary", list(PAD_MODE))
def test_boundaries_dtypes(backend, boundary, dtypes):
    rng = np.random.default_rng(6)
    a = random_array(rng, (8, 7), dtypes[0])
    k = random_array(rng, (3, 2), dtypes[1])
    fillvalue = 2 if boundary == "fill" else 0
    for method in METHODS:
        for mode in MODES:
            got = fd.convolve(a, k, mode, method, boundary=boundary, fillvalue=fillvalue,
                              backend=backend)
            assert_close(got, padded_reference("convolve", a, k, mode, boundary, fillvalue),
                         err_msg=f"{method} {mode}:")


# odd kernels: ndimage's centre is ours
NDIMAGE_CASES = [((31,), (5,)), ((6,), (9,)), ((17, 20), (3, 5)), ((5, 4), (7, 5)),
                 ((7, 8, 9), (3, 1, 5))]


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("boundary", list(NDIMAGE_MODE))
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("s1,s2", NDIMAGE_CASES, ids=[f"{a}-{b}".replace(" ", "")
                                                      for a, b in NDIMAGE_CASES])
def test_boundaries_match_ndimage(backend, s1, s2, method, boundary, func):
    rng = np.random.default_rng(len(s1) * 3 + s2[0])
    a = rng.standard_normal(s1)
    k = rng.standard_normal(s2)
    got = getattr(fd, func)(a, k, "same", method, boundary=boundary, fillvalue=-0.5,
                            backend=backend)
    expected = getattr(ndi, func)(a, k, mode=NDIMAGE_MODE[boundary], cval=-0.5)
    assert_close(got, expected)


# --------------------------------------------------------------- dtype preservation


@pytest.mark.parametrize("dtype", ["float32", "complex64"])
@pytest.mark.parametrize("method", METHODS)
def test_single_precision_preserved(backend, method, dtype):
    rng = np.random.default_rng(8)
    a = random_array(rng, (20, 17), dtype)
    k = random_array(rng, (3, 4), dtype)
    for func in FUNCS:
        for mode in MODES:
            for boundary in PAD_MODE:
                out = getattr(fd, func)(a, k, mode, method, boundary=boundary,
                                        backend=backend)
                assert out.dtype == np.dtype(dtype), (func, mode, boundary, out.dtype)
            out = getattr(fd, func)(a, k[:1], mode, method, axes=1, backend=backend)
            assert out.dtype == np.dtype(dtype)
    for func in ("fftconvolve", "oaconvolve"):
        assert getattr(fd, func)(a, k).dtype == np.dtype(dtype)
        assert getattr(fd, func)(a, k[:, :1], axes=0).dtype == np.dtype(dtype)
    for func in ("convolve2d", "correlate2d"):
        for boundary in ("fill", "wrap", "symm"):
            assert getattr(fd, func)(a, k, "same", boundary,
                                     backend=backend).dtype == np.dtype(dtype)


# ------------------------------------------------------- (d) unusual memory layouts


def _variants(a):
    """(name, array) views and copies of ``a`` with unusual flags, all equal to ``a``."""
    out = []
    ro = a.copy()
    ro.flags.writeable = False
    out.append(("readonly", ro))
    out.append(("bigendian", a.astype(a.dtype.newbyteorder(">"))))
    big = np.zeros(tuple(2 * n for n in a.shape), a.dtype)
    big[tuple(slice(None, None, 2) for _ in a.shape)] = a
    out.append(("strided", big[tuple(slice(None, None, 2) for _ in a.shape)]))
    flip = tuple(slice(None, None, -1) for _ in a.shape)
    out.append(("negative-strides", np.ascontiguousarray(a[flip])[flip]))
    if a.ndim >= 2:
        out.append(("transposed", np.ascontiguousarray(a.T).T))
        out.append(("fortran", np.asfortranarray(a)))
    ro_be = a.astype(">" + a.dtype.str[1:] if a.dtype.itemsize > 1 else a.dtype)
    ro_be.flags.writeable = False
    out.append(("readonly-bigendian", ro_be))
    return out


LAYOUT_CALLS = [
    ("convolve", {}), ("correlate", {}), ("convolve", {"boundary": "symm"}),
    ("correlate", {"boundary": "wrap"}), ("fftconvolve", {}), ("oaconvolve", {}),
    ("convolve2d", {"boundary": "symm"}), ("correlate2d", {}),
]


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128", "int32"])
@pytest.mark.parametrize("method", METHODS)
def test_unusual_layouts_accepted_and_untouched(backend, method, dtype):
    rng = np.random.default_rng(10)
    a = random_array(rng, (13, 12), dtype)
    k = random_array(rng, (3, 4), dtype)
    for func, kw in LAYOUT_CALLS:
        kwargs = dict(kw)
        if func in ("convolve", "correlate"):
            kwargs.update(method=method, backend=backend)
        elif func in ("convolve2d", "correlate2d"):
            kwargs.update(backend=backend)
        reference = getattr(fd, func)(a, k, "same", **kwargs)
        assert reference.dtype.isnative
        for (name1, a1), (name2, k1) in zip(_variants(a), _variants(k)[::-1]):
            a_before, k_before = a1.copy(), k1.copy()
            got = getattr(fd, func)(a1, k1, "same", **kwargs)
            np.testing.assert_array_equal(a1, a_before, err_msg=f"{func} modified in1")
            np.testing.assert_array_equal(k1, k_before, err_msg=f"{func} modified in2")
            assert got.dtype.isnative, f"{func} {name1}/{name2}: {got.dtype.str}"
            assert_close(got, reference, err_msg=f"{func} in1 {name1}, in2 {name2}:")


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex64", "int32", "bool"])
def test_direct_method_honours_kernel_contract(backend, dtype, kernel_calls):
    """Whatever the caller passes (big-endian, strided, read-only, Fortran), the arrays
    handed to the kernels are C-contiguous, native and of one dtype."""
    rng = np.random.default_rng(12)
    n = 12 if backend == "python" else 40
    a = random_array(rng, (n, n + 3), dtype)
    k = random_array(rng, (3, 5), dtype)
    for (_, a1), (_, k1) in zip(_variants(a), _variants(k)):
        for boundary in ("fill", "reflect"):
            fd.convolve(a1, k1, "same", "direct", boundary=boundary, backend=backend)
            fd.correlate(a1, k1, "full", "direct", boundary=boundary, backend=backend)
    assert kernel_calls, "the direct method never called the backend kernels"
    assert {c[0] for c in kernel_calls} == {backend}


# ------------------------------------------------------------------ empty, choose


@pytest.mark.parametrize("func", ["fftconvolve", "oaconvolve"])
def test_fft_functions_return_empty_for_empty_input(func):
    for s1, s2 in [((0,), (5,)), ((5,), (0,)), ((0, 3), (2, 2)), ((3, 3), (3, 0))]:
        for mode in MODES:
            expected = getattr(ss, func)(np.ones(s1), np.ones(s2), mode)
            got = getattr(fd, func)(np.ones(s1), np.ones(s2), mode)
            assert got.shape == expected.shape and got.dtype == expected.dtype


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("method", METHODS)
def test_convolve_raises_for_empty_input(func, method):
    for s1, s2, bad in [((0,), (5,), "in1"), ((5,), (0,), "in2"), ((0, 3), (2, 2), "in1"),
                        ((3, 3), (3, 0), "in2")]:
        for mode in MODES:
            with pytest.raises(ValueError, match=bad):
                getattr(fd, func)(np.ones(s1), np.ones(s2), mode, method)


def test_choose_conv_method():
    rng = np.random.default_rng(13)
    for s1, s2 in [((100,), (3,)), ((100_000,), (501,)), ((64, 64), (3, 3)),
                   ((256, 256), (31, 31)), ((10, 12, 14), (3, 3, 3))]:
        a = rng.standard_normal(s1)
        k = rng.standard_normal(s2)
        for mode in MODES:
            assert fd.choose_conv_method(a, k, mode) in ("direct", "fft", "oa")
    a = rng.standard_normal(200)
    k = rng.standard_normal(9)
    result = fd.choose_conv_method(a, k, "same", measure=True)
    assert isinstance(result, tuple) and len(result) == 2
    method, times = result
    assert method in ("direct", "fft", "oa")
    assert isinstance(times, dict) and method in times
    # the choice is usable and equal to the others
    assert_close(fd.convolve(a, k, "same", method), scipy_reference("convolve", a, k, "same"))
    # bools must not go through an FFT (scipy returns 'direct' for them too)
    assert fd.choose_conv_method(np.ones(5000, bool), np.ones(300, bool)) == "direct"
