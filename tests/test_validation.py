"""Ladder (e): invalid arguments -> exception type and message.

Two kinds of rows:

- ``SCIPY_ROWS``: scipy raises a deliberate error for these arguments, so this library
  must raise the same exception type with the same message (scipy is called in the
  test).  That holds for the ``mode`` message too, although scipy's own functions word
  it three ways ("Acceptable mode flags are 'valid', 'same', or 'full'." in
  ``correlate``, "acceptable ... 'full'" in ``fftconvolve``, "..., not mode=bad" in
  ``convolve`` with method 'auto'): each function (and method) uses scipy's.
- ``OWN_ROWS``: arguments scipy accepts differently or rejects only by accident of its
  implementation (``IndexError`` on empty input, ``'complex() arg is a malformed
  string'``...), and this library's extensions.  API.md "Errors": ``ValueError`` or
  ``TypeError`` whose message names the argument.
"""
import re
import warnings

import numpy as np
import pytest
import scipy.signal as ss

import fastdeconv as fd

x1 = np.arange(10.0)
k1 = np.array([1.0, 2.0, 3.0])
x2 = np.ones((6, 7))
k2 = np.ones((3, 2))
x3 = np.ones((4, 5, 6))
k3 = np.ones((2, 2, 2))

ALL_FUNCS = ["convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d",
             "correlate2d"]
ND_FUNCS = ["convolve", "correlate", "fftconvolve", "oaconvolve"]


def _row(func, args, kwargs=None, id=None):
    return pytest.param(func, args, kwargs or {}, id=id or f"{func}-{len(args)}args")


# ----------------------------------------------------------- same as scipy

SCIPY_ROWS = []
for f in ["convolve", "correlate", "fftconvolve", "oaconvolve"]:
    SCIPY_ROWS += [
        _row(f, (x2, k1), id=f"{f}-ndim-2vs1"),
        _row(f, (x1, k2), id=f"{f}-ndim-1vs2"),
        _row(f, (x3, k2), id=f"{f}-ndim-3vs2"),
        _row(f, (np.ones((3, 5)), np.ones((5, 3)), "valid"), id=f"{f}-valid-no-overlap"),
        _row(f, (np.ones((3, 5, 4)), np.ones((4, 2, 2)), "valid"), id=f"{f}-valid-3d"),
    ]
for f in ["convolve2d", "correlate2d"]:
    SCIPY_ROWS += [
        _row(f, (x2, k1), id=f"{f}-not-2d"),
        _row(f, (x1, k1), id=f"{f}-1d"),
        _row(f, (x3, k3), id=f"{f}-3d"),
        _row(f, (np.ones((3, 5)), np.ones((5, 3)), "valid"), id=f"{f}-valid-no-overlap"),
        _row(f, (x2, k2), {"fillvalue": [1, 2]}, id=f"{f}-fillvalue-list"),
        _row(f, (x2, k2), {"fillvalue": np.ones((2, 2))}, id=f"{f}-fillvalue-array"),
        _row(f, (x2, k2), {"fillvalue": []}, id=f"{f}-fillvalue-empty"),
        _row(f, (x2, k2), {"fillvalue": 1 + 2j}, id=f"{f}-fillvalue-complex-for-real"),
    ]
for f in ["fftconvolve", "oaconvolve"]:
    SCIPY_ROWS += [
        _row(f, (x2, x2), {"axes": 2}, id=f"{f}-axes-too-big"),
        _row(f, (x2, x2), {"axes": -3}, id=f"{f}-axes-too-negative"),
        _row(f, (x2, x2), {"axes": [0, 0]}, id=f"{f}-axes-duplicated"),
        _row(f, (x2, x2), {"axes": [1, -1]}, id=f"{f}-axes-duplicated-negative"),
        _row(f, (x2, x2), {"axes": []}, id=f"{f}-axes-empty"),
        _row(f, (x2, x2), {"axes": 1.5}, id=f"{f}-axes-float"),
        _row(f, (x2, x2), {"axes": [0.5]}, id=f"{f}-axes-float-list"),
        _row(f, (x2, x2), {"axes": "a"}, id=f"{f}-axes-str"),
        _row(f, (np.ones((3, 40)), np.ones((2, 4))), {"axes": 1}, id=f"{f}-batch-mismatch"),
        _row(f, (np.ones((3, 5)), np.ones((5, 3)), "valid"), {"axes": [0, 1]},
             id=f"{f}-valid-no-overlap-axes"),
    ]

MODE_ROWS = []
for f in ALL_FUNCS:
    x, k = (x2, k2) if f.endswith("2d") else (x1, k1)
    for bad in ["bad", "FULL", "Same", None, 1, 0]:
        MODE_ROWS.append(_row(f, (x, k, bad), id=f"{f}-mode-{bad!r}"))


@pytest.mark.parametrize("func,args,kwargs", SCIPY_ROWS)
def test_errors_equal_scipys(func, args, kwargs):
    with pytest.raises(Exception) as expected, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns (ComplexWarning) before raising
        getattr(ss, func)(*args, **kwargs)
    with pytest.raises(Exception) as got:
        getattr(fd, func)(*args, **kwargs)
    assert got.type is expected.type, (
        f"{got.type.__name__}({got.value}) != scipy's {expected.type.__name__}"
        f"({expected.value})")
    assert str(got.value) == str(expected.value)


def _mode_wording(message):
    return message.lower().rstrip(".")


@pytest.mark.parametrize("func,args,kwargs", MODE_ROWS)
def test_mode_errors_use_scipys_wording(func, args, kwargs):
    for method in (["direct", "fft", "oa", "auto"] if func in ("convolve", "correlate")
                   else [None]):
        with pytest.raises(Exception) as expected:
            sp_kw = {} if method is None else {"method": "fft" if method == "oa" else method}
            getattr(ss, func)(*args, **kwargs, **sp_kw)
        with pytest.raises(Exception) as got:
            fd_kw = {} if method is None else {"method": method}
            getattr(fd, func)(*args, **kwargs, **fd_kw)
        assert got.type is expected.type is ValueError
        assert str(got.value) == str(expected.value)
        assert _mode_wording(str(got.value)).startswith("acceptable mode flags")


# --------------------------------------------------- this library's own rules

OWN_ROWS = []
for f in ALL_FUNCS:
    x, k = (x2, k2) if f.endswith("2d") else (x1, k1)
    OWN_ROWS += [
        # non-numeric dtypes, named by argument
        _row(f, (x.astype(object), k), id=f"{f}-object-in1"),
        _row(f, (x, k.astype(object)), id=f"{f}-object-in2"),
        _row(f, (x.astype(str), k), id=f"{f}-str-in1"),
        _row(f, (x, k.astype(str)), id=f"{f}-str-in2"),
        _row(f, (x.astype(np.int64).astype("datetime64[s]"), k), id=f"{f}-datetime-in1"),
        _row(f, (None, k), id=f"{f}-None-in1"),
        _row(f, (x, "abc"), id=f"{f}-string-in2"),
    ]
OWN_EXPECT = {}  # id -> (exception types, regex)
for p in OWN_ROWS:
    name = "in1" if p.id.endswith("in1") else "in2"
    OWN_EXPECT[p.id] = ((TypeError, ValueError), name)

for f in ["convolve", "correlate"]:
    for method in ["direct", "fft", "oa", "auto"]:
        for s1, s2, name in [((0,), (3,), "in1"), ((5,), (0,), "in2"),
                             ((0, 4), (2, 2), "in1"), ((4, 4), (2, 0), "in2")]:
            rid = f"{f}-{method}-empty-{name}-{len(s1)}d"
            OWN_ROWS.append(_row(f, (np.ones(s1), np.ones(s2)), {"method": method}, id=rid))
            OWN_EXPECT[rid] = (ValueError, name)
    own = [
        ("method-bad", (x1, k1), {"method": "bad"}, ValueError, "method"),
        ("method-upper", (x1, k1), {"method": "FFT"}, ValueError, "method"),
        ("method-None", (x1, k1), {"method": None}, (TypeError, ValueError), "method"),
        ("method-int", (x1, k1), {"method": 1}, (TypeError, ValueError), "method"),
        ("boundary-bad", (x1, k1), {"boundary": "bad"}, ValueError, "boundary"),
        ("boundary-None", (x1, k1), {"boundary": None}, (TypeError, ValueError),
         "boundary"),
        ("boundary-int", (x1, k1), {"boundary": 0}, (TypeError, ValueError), "boundary"),
        ("boundary-upper", (x1, k1), {"boundary": "WRAP"}, ValueError, "boundary"),
        ("backend-bad", (x1, k1), {"backend": "bad"}, ValueError, "backend"),
        ("backend-int", (x1, k1), {"backend": 1}, (TypeError, ValueError), "backend"),
        ("fillvalue-list", (x1, k1), {"fillvalue": [1, 2]}, ValueError, "fillvalue"),
        ("fillvalue-array", (x1, k1), {"fillvalue": np.ones(3)}, ValueError, "fillvalue"),
        ("fillvalue-empty", (x1, k1), {"fillvalue": []}, ValueError, "fillvalue"),
        ("fillvalue-str", (x1, k1), {"fillvalue": "a"}, (TypeError, ValueError),
         "fillvalue"),
        # None is NaN for floating outputs (numpy's conversion, as in scipy's
        # convolve2d), an error for integers
        ("fillvalue-None", (x1.astype(int), k1.astype(int)), {"fillvalue": None},
         (TypeError, ValueError), "fillvalue"),
        ("fillvalue-complex-for-real", (x1, k1), {"fillvalue": 1 + 2j},
         (TypeError, ValueError), "fillvalue"),
        ("axes-too-big", (x2, x2), {"axes": 2}, ValueError, "axes"),
        ("axes-too-negative", (x2, x2), {"axes": -3}, ValueError, "axes"),
        ("axes-duplicated", (x2, x2), {"axes": [0, 0]}, ValueError, "axes"),
        ("axes-duplicated-negative", (x2, x2), {"axes": (1, -1)}, ValueError, "axes"),
        ("axes-empty", (x2, x2), {"axes": []}, ValueError, "axes"),
        ("axes-float", (x2, x2), {"axes": 1.5}, (TypeError, ValueError), "axes"),
        ("axes-str", (x2, x2), {"axes": "a"}, (TypeError, ValueError), "axes"),
        ("axes-nested", (x2, x2), {"axes": [[0]]}, (TypeError, ValueError), "axes"),
        ("axes-batch-mismatch", (np.ones((3, 40)), np.ones((2, 4))), {"axes": 1},
         ValueError, "in1 and in2|shape"),
        ("ndim", (x2, k1), {}, ValueError, "dimensionality|ndim|in1|in2"),
        ("valid-no-overlap", (np.ones((3, 5)), np.ones((5, 3)), "valid"), {}, ValueError,
         "one must be at least as large as the other in every dimension"),
    ]
    for rid, args, kwargs, exc, rx in own:
        rid = f"{f}-{rid}"
        OWN_ROWS.append(_row(f, args, kwargs, id=rid))
        OWN_EXPECT[rid] = (exc, rx)

for f in ["convolve2d", "correlate2d"]:
    for rid, kwargs, exc, rx in [
        ("boundary-bad", {"boundary": "bad"}, ValueError, "boundary"),
        ("boundary-None", {"boundary": None}, (TypeError, ValueError), "boundary"),
        ("backend-bad", {"backend": "bad"}, ValueError, "backend"),
        ("fillvalue-str", {"fillvalue": "a"}, (TypeError, ValueError), "fillvalue"),
    ]:
        rid = f"{f}-{rid}"
        OWN_ROWS.append(_row(f, (x2, k2), kwargs, id=rid))
        OWN_EXPECT[rid] = (exc, rx)


@pytest.mark.parametrize("func,args,kwargs", OWN_ROWS)
def test_invalid_arguments(request, func, args, kwargs):
    rid = request.node.callspec.id
    exc, rx = OWN_EXPECT[rid]
    with pytest.raises(exc, match=rx):
        getattr(fd, func)(*args, **kwargs)


# ------------------------------------------------------------------ others


def test_choose_conv_method_rejects_bad_mode():
    with pytest.raises(ValueError, match="mode"):
        fd.choose_conv_method(x1, k1, "bad")
    with pytest.raises((TypeError, ValueError), match="in1"):
        fd.choose_conv_method(x1.astype(object), k1)


def test_set_backend_and_threads_reject_bad_values():
    with pytest.raises(ValueError, match="backend|name"):
        fd.set_backend("bogus")
    with pytest.raises((TypeError, ValueError)):
        fd.set_backend(None)
    with pytest.raises(ValueError):
        fd.set_num_threads(0)
    with pytest.raises(TypeError):
        fd.set_num_threads(2.0)


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_errors_leave_inputs_untouched(func):
    """A raising call must not have modified its inputs either."""
    a = np.ones((3, 5))
    k = np.ones((5, 3))
    a0, k0 = a.copy(), k.copy()
    with pytest.raises(ValueError):
        getattr(fd, func)(a, k, "valid")
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(k, k0)


def test_error_messages_name_the_argument_value():
    """Unknown option strings are echoed so the user sees what was passed."""
    for kwargs, word in [({"method": "fast"}, "fast"), ({"boundary": "zero"}, "zero"),
                         ({"backend": "gpu"}, "gpu")]:
        with pytest.raises(ValueError) as info:
            fd.convolve(x1, k1, **kwargs)
        assert re.search(word, str(info.value)), str(info.value)
