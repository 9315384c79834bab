"""The FFT paths give the same results with either FFT library (scipy.fft, ducc0)."""
import numpy as np
import pytest
import scipy.signal

import fastdeconv
from fastdeconv import _fft

from .conftest import assert_close

ENGINES = ["scipy"] + (["ducc0"] if pytest.importorskip("importlib").util.find_spec(
    "ducc0") else [])

CASES = [((37,), (9,)), ((4,), (11,)), ((20, 17), (5, 8)), ((1, 9), (5, 5)),
         ((9, 8, 7), (3, 4, 5)), ((6, 40), (6, 7))]


@pytest.fixture(params=ENGINES)
def engine(request):
    previous = _fft.fft_engine()
    _fft.set_fft_engine(request.param)
    yield request.param
    _fft.set_fft_engine(previous)


@pytest.mark.parametrize("s1,s2", CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
def test_engines_match_scipy(engine, s1, s2, dtype, mode, rng):
    a = rng.standard_normal(s1).astype(dtype)
    b = rng.standard_normal(s2).astype(dtype)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(s1).astype(dtype)
        b = b + 1j * rng.standard_normal(s2).astype(dtype)
    try:
        expected = scipy.signal.fftconvolve(a, b, mode)
    except ValueError:
        return
    assert_close(fastdeconv.fftconvolve(a, b, mode), expected)
    assert_close(fastdeconv.oaconvolve(a, b, mode), expected)
    if mode == "valid" and not (all(m >= n for m, n in zip(s1, s2))
                                or all(m <= n for m, n in zip(s1, s2))):
        return  # convolve (unlike fftconvolve) refuses these shapes, as scipy does
    for boundary in ("wrap", "symm"):
        direct = fastdeconv.convolve(a, b, mode, "direct", boundary=boundary)
        assert_close(fastdeconv.convolve(a, b, mode, "fft", boundary=boundary), direct)


def test_batched_axes(engine, rng):
    a = rng.standard_normal((4, 50)).astype(np.float32)
    b = rng.standard_normal((4, 7)).astype(np.float32)
    assert_close(fastdeconv.fftconvolve(a, b, "same", axes=1),
                 scipy.signal.fftconvolve(a, b, "same", axes=1))


def test_engine_selection_errors():
    with pytest.raises(ValueError, match="name"):
        _fft.set_fft_engine("fftw")
