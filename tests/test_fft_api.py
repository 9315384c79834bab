"""The N-D FFT API of ``fastdeconv._fft`` (rfftn, irfftn, fftn, ifftn, rfft, irfft, fft,
ifft) equals scipy.fft under either engine, and the restoration and PSF functions built
on it give the same results with either engine."""
import importlib.util

import numpy as np
import pytest
import scipy.fft

import fastdeconv
from fastdeconv import _fft, psf as fpsf

from .conftest import assert_close

HAVE_DUCC0 = importlib.util.find_spec("ducc0") is not None
ENGINES = ["scipy"] + (["ducc0"] if HAVE_DUCC0 else [])
needs_ducc0 = pytest.mark.skipif(not HAVE_DUCC0, reason="ducc0 is not installed")

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]
NORMS = [None, "backward", "ortho", "forward"]
ND = ["rfftn", "irfftn", "fftn", "ifftn"]
ONE_D = ["rfft", "irfft", "fft", "ifft"]

# (input shape, s, axes): odd and even sizes, s larger and smaller than the input,
# axes subsets in either order (the last of axes is the real one for rfftn/irfftn).
ND_CASES = [
    ((16,), None, None), ((15,), (20,), None), ((15,), (9,), None), ((1,), (4,), None),
    ((6, 9), None, None), ((6, 9), (8, 5), None), ((7, 10), (4, 13), None),
    ((5, 6), (7,), None), ((5, 6), None, (0,)), ((5, 6), (9,), (0,)),
    ((5, 6), (3, 11), (1, 0)), ((5, 6), None, (-1, -2)), ((3, 4, 5), None, (0, 2)),
    ((3, 4, 5), (6, 3), (2, 0)), ((3, 4, 5), (2, 7, 6), None), ((4, 5, 6), (-1, 8), (0, 1)),
    ((2, 3, 8, 7), (9, 4), (1, 3)),
]
# (input shape, n, axis)
ONE_D_CASES = [((16,), None, -1), ((15,), 20, -1), ((15,), 8, 0), ((2,), 1, 0),
               ((5, 6), 9, 0), ((5, 6), 4, 1), ((5, 6), None, -2), ((3, 4, 5), 7, 1)]


@pytest.fixture(params=ENGINES)
def engine(request):
    previous = _fft.fft_engine()
    _fft.set_fft_engine(request.param)
    yield request.param
    _fft.set_fft_engine(previous)


@pytest.fixture
def restore_engine():
    previous = _fft.fft_engine()
    yield
    _fft.set_fft_engine(previous)


def _data(rng, shape, dtype):
    x = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        x = x + 1j * rng.standard_normal(shape)
    return x.astype(dtype)


def _check(name, x, args, kwargs):
    try:
        expected = getattr(scipy.fft, name)(x, *args, **kwargs)
    except (TypeError, ValueError) as error:
        with pytest.raises(type(error)):
            getattr(_fft, name)(x, *args, **kwargs)
        return
    before = x.copy()
    actual = getattr(_fft, name)(x, *args, **kwargs)
    assert_close(actual, expected, err_msg=f"{name}{args}{kwargs}")
    np.testing.assert_array_equal(x, before)  # overwrite_x=False: input untouched


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,s,axes", ND_CASES)
@pytest.mark.parametrize("name", ND)
def test_nd_matches_scipy(engine, name, shape, s, axes, dtype, norm, rng):
    x = _data(rng, shape, dtype)
    if name == "rfftn" and x.dtype.kind == "c":
        with pytest.raises(TypeError):
            _fft.rfftn(x, s, axes, norm)
        return
    _check(name, x, (s, axes, norm), {})


@pytest.mark.parametrize("norm", NORMS)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,n,axis", ONE_D_CASES)
@pytest.mark.parametrize("name", ONE_D)
def test_1d_matches_scipy(engine, name, shape, n, axis, dtype, norm, rng):
    x = _data(rng, shape, dtype)
    if name == "rfft" and x.dtype.kind == "c":
        with pytest.raises(TypeError):
            _fft.rfft(x, n, axis, norm)
        return
    _check(name, x, (n, axis, norm), {})


@pytest.mark.parametrize("name", ND)
def test_layouts_and_overwrite(engine, name, rng):
    dtype = np.float64 if name == "rfftn" else np.complex128
    base = _data(rng, (12, 18, 4), dtype)
    views = [base, base[::2, 1::3], base.transpose(2, 0, 1), base[..., 1],
             np.asfortranarray(base), base[::-1]]
    for x in views:
        for s in (None, (5, 7)):
            expected = getattr(scipy.fft, name)(x, s, axes=(0, 1))
            assert_close(getattr(_fft, name)(x.copy(), s, (0, 1), overwrite_x=True),
                         expected)
            before = x.copy()
            assert_close(getattr(_fft, name)(x, s, (0, 1)), expected)
            np.testing.assert_array_equal(x, before)
            if engine == "scipy":
                continue  # scipy.fft refuses read-only arrays with overwrite_x=True
            frozen = x.copy()
            frozen.flags.writeable = False
            assert_close(getattr(_fft, name)(frozen, s, (0, 1), overwrite_x=True), expected)
            np.testing.assert_array_equal(frozen, before)


@pytest.mark.parametrize("dtype", [np.float16, np.int32, np.bool_, ">f4", ">c16"])
@pytest.mark.parametrize("name", ND + ONE_D)
def test_other_dtypes(engine, name, dtype, rng):
    x = (rng.standard_normal((6, 5)) * 3).astype(dtype)
    if np.dtype(dtype).kind == "c":
        if name in ("rfftn", "rfft"):
            return
        x = x + 1j
    _check(name, x, (), {})


@pytest.mark.parametrize("call", [
    lambda f: f.rfftn(np.ones((4, 6)), axes=()),
    lambda f: f.fftn(np.ones((4, 6)), axes=()),
    lambda f: f.rfftn(np.ones((4, 6)), axes=(0, 0)),
    lambda f: f.fftn(np.ones((4, 6)), s=(0, 3)),
    lambda f: f.irfft(np.ones(1)),
    lambda f: f.rfft(np.ones(5), n=-1),
    lambda f: f.fftn(np.ones((4, 6)), axes=(2,)),
    lambda f: f.fftn(np.ones((4, 6)), s=(1, 2, 3)),
    lambda f: f.fftn(np.ones((4, 6)), norm="bad"),
    lambda f: f.fftn(np.ones((4, 6)), s=(3,), axes=(0, 1)),
    lambda f: f.fftn(np.ones((0, 4)), axes=(1,)),
    lambda f: f.fftn(np.float32(3.0)),
    lambda f: f.ifftn(np.ones((3, 4)), workers=0),
    lambda f: f.rfftn([[1.0, 2.0], [3.0, 4.0]]),
    lambda f: f.fft(np.ones((3, 4), np.longdouble)),
    lambda f: f.fft(np.ones(4), n=2.0),
    lambda f: f.fftn(np.ones((3, 4)), axes=1),
    lambda f: f.irfftn(np.ones((3, 4)), workers=-1),
    lambda f: f.fft(np.arange(5.0), workers=1),
])
def test_edge_cases_as_scipy(engine, call):
    try:
        expected = call(scipy.fft)
    except (TypeError, ValueError) as error:
        with pytest.raises(type(error)):
            call(_fft)
        return
    actual = call(_fft)
    assert actual.shape == expected.shape and actual.dtype == expected.dtype
    np.testing.assert_allclose(actual, expected, rtol=1e-6, atol=1e-6)


TRANSFORMS = ["fft", "ifft", "rfft", "irfft", "fft2", "ifft2", "rfft2", "irfft2", "fftn",
              "ifftn", "rfftn", "irfftn", "hfft", "ihfft"]


@needs_ducc0
def test_ducc0_is_used(restore_engine, monkeypatch):
    """With the ducc0 engine no transform of the package goes through scipy.fft or
    numpy.fft."""
    _fft.set_fft_engine("ducc0")

    def refuse(name):
        def call(*args, **kwargs):
            raise AssertionError(f"{name} called with the ducc0 engine")
        return call

    for name in TRANSFORMS:
        monkeypatch.setattr(scipy.fft, name, refuse(f"scipy.fft.{name}"))
        monkeypatch.setattr(np.fft, name, refuse(f"numpy.fft.{name}"))
    x = np.ones((8, 6), np.float32)
    for name in ND + ONE_D:
        expected = np.float32 if name.startswith("irfft") else np.complex64
        assert getattr(_fft, name)(x).dtype == expected
    rng = np.random.default_rng(0)
    image = rng.random((32, 30)).astype(np.float32)
    h = fpsf.gaussian(5, 1.0)
    dense = rng.random((4, 3))
    for kernel in (h, dense):
        fastdeconv.wiener(image, kernel, 0.1)
        fastdeconv.wiener(image, kernel, 0.1, is_real=False)
        fastdeconv.tikhonov(image, kernel, 0.1, boundary="reflect")
        fastdeconv.inverse_filter(image, kernel)
        fastdeconv.unsupervised_wiener(image, kernel, rng=0)
        fastdeconv.landweber(image, kernel, 3)
        fpsf.edgetaper(image, kernel)
        fpsf.otf2psf(fpsf.psf2otf(kernel, (16, 16)), kernel.shape)
        fpsf.otf2psf(fpsf.psf2otf(kernel, (16, 15), real=True), kernel.shape, real=True,
                     full_shape=(16, 15))


# --------------------------------------------------------------------------- callers

def _both(fn):
    """``fn()`` under the scipy engine, then under ducc0: both results."""
    _fft.set_fft_engine("scipy")
    a = fn()
    _fft.set_fft_engine("ducc0")
    b = fn()
    return a, b


def _same(fn):
    a, b = _both(fn)
    if isinstance(a, tuple):
        a, b = a[0], b[0]
    assert_close(b, a)
    return a


FLOATS = [np.float32, np.float64]
IMAGE_SHAPES = [(40, 33), (32, 48)]


@needs_ducc0
@pytest.mark.parametrize("shape", IMAGE_SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_wiener_engines(restore_engine, shape, dtype, rng):
    image = rng.random(shape).astype(dtype)
    h = fpsf.gaussian((7, 6), 1.3, dtype=dtype)
    _same(lambda: fastdeconv.wiener(image, h, 0.05))
    _same(lambda: fastdeconv.wiener(image, h, 0.05, is_real=False))
    laplacian = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0.0]])
    _same(lambda: fastdeconv.wiener(image, h, 0.05, reg=laplacian, clip=False))
    rank2 = rng.random((5, 5)).astype(dtype)  # not separable: the dense OTF path
    _same(lambda: fastdeconv.wiener(image, rank2, 0.05))


@needs_ducc0
@pytest.mark.parametrize("dtype", FLOATS)
def test_wiener_nd_engines(restore_engine, dtype, rng):
    signal = rng.random(51).astype(dtype)
    h1 = fpsf.gaussian(5, 1.0, ndim=1, dtype=dtype)
    _same(lambda: fastdeconv.wiener(signal, h1, 0.1))
    volume = rng.random((9, 12, 11)).astype(dtype)
    h3 = fpsf.gaussian((3, 4, 5), 1.0, dtype=dtype)
    _same(lambda: fastdeconv.wiener(volume, h3, 0.1))
    _same(lambda: fastdeconv.unsupervised_wiener(volume, h3, rng=1))


@needs_ducc0
@pytest.mark.parametrize("shape", IMAGE_SHAPES)
@pytest.mark.parametrize("dtype", FLOATS)
def test_tikhonov_inverse_filter_engines(restore_engine, shape, dtype, rng):
    image = rng.random(shape).astype(dtype)
    h = fpsf.gaussian((5, 7), 1.0, dtype=dtype)
    for boundary in ("periodic", "reflect"):
        _same(lambda: fastdeconv.tikhonov(image, h, 0.01, boundary=boundary))
        _same(lambda: fastdeconv.inverse_filter(image, h, 1e-2, boundary=boundary))
    laplacian = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0.0]])
    _same(lambda: fastdeconv.tikhonov(image, h, 0.01, reg=laplacian))
    stack = rng.random((3,) + shape).astype(dtype)
    _same(lambda: fastdeconv.tikhonov(stack, h[None], 0.01, axes=(1, 2)))


@needs_ducc0
@pytest.mark.parametrize("is_real", [True, False])
@pytest.mark.parametrize("dtype", FLOATS)
def test_unsupervised_wiener_engines(restore_engine, dtype, is_real, rng):
    image = rng.random((32, 27)).astype(dtype)
    h = fpsf.gaussian(5, 1.0, dtype=dtype)
    _same(lambda: fastdeconv.unsupervised_wiener(image, h, is_real=is_real, rng=3))


@needs_ducc0
@pytest.mark.parametrize("shape", [(16, 16), (15, 20), (9, 8, 7)])
@pytest.mark.parametrize("dtype", FLOATS + [np.complex64, np.complex128])
def test_psf2otf_otf2psf_engines(restore_engine, shape, dtype, rng):
    h = rng.random(tuple(max(1, n // 3) for n in shape)).astype(dtype)
    if np.dtype(dtype).kind == "c":
        h = h + 1j * rng.random(h.shape).astype(dtype)
    otf = _same(lambda: fpsf.psf2otf(h, shape))
    _same(lambda: fpsf.otf2psf(otf, h.shape))
    if np.dtype(dtype).kind == "f":
        half = _same(lambda: fpsf.psf2otf(h, shape, real=True))
        _same(lambda: fpsf.otf2psf(half, h.shape, real=True, full_shape=shape))


@needs_ducc0
@pytest.mark.parametrize("shape", [(40, 33), (32, 48), (30, 1), (20, 21, 22)])
@pytest.mark.parametrize("dtype", FLOATS)
def test_edgetaper_engines(restore_engine, shape, dtype, rng):
    image = rng.random(shape).astype(dtype)
    h = fpsf.gaussian(tuple(min(5, n) for n in shape), 1.2)
    _same(lambda: fpsf.edgetaper(image, h))


@needs_ducc0
@pytest.mark.parametrize("dtype", FLOATS)
def test_landweber_engines(restore_engine, dtype, rng):
    image = rng.random((40, 35)).astype(dtype)
    h = fpsf.gaussian((7, 5), 1.3, dtype=dtype)
    _same(lambda: fastdeconv.landweber(image, h, 20, method="fft"))
    _same(lambda: fastdeconv.landweber(image, h, 20, boundary="periodic"))
