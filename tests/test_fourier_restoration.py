"""Fourier-domain restoration and polynomial division (API.md §2).

Ladder: (b) equality with skimage.restoration.wiener / unsupervised_wiener and
scipy.signal.deconvolve; exact recovery of noise-free periodic blurs; cross-checks
between our own filters (Tikhonov vs Wiener vs inverse filter); (c) a hypothesis
invariant (delta PSF is the identity); (d) inputs left untouched, read-only and
non-contiguous inputs accepted; (e) invalid arguments.
"""
import warnings

import numpy as np
import pytest
import scipy.signal
from hypothesis import given, strategies as st
from scipy import ndimage

from fastdeconv.restoration._fourier import (inverse_filter, tikhonov,
                                              unsupervised_wiener, wiener)
from fastdeconv.restoration._polynomial import deconvolve

from .conftest import assert_close, tolerances

skr = pytest.importorskip("skimage.restoration")
from skimage.restoration import uft  # noqa: E402

FLOATS = (np.float32, np.float64)


# --------------------------------------------------------------------------- helpers

def gaussian_psf(shape, sigma):
    grids = np.meshgrid(*[np.arange(n) - n // 2 for n in shape], indexing="ij")
    psf = np.exp(-sum(g.astype(float) ** 2 for g in grids) / (2 * sigma ** 2))
    return psf / psf.sum()


def centred_otf(psf, shape):
    """psf2otf by the book: pad, roll the centre to the origin, fftn."""
    padded = np.zeros(shape)
    padded[tuple(slice(0, s) for s in psf.shape)] = psf
    padded = np.roll(padded, [-(s // 2) for s in psf.shape], axis=range(psf.ndim))
    return np.fft.fftn(padded)


def periodic_blur(x, psf):
    return np.fft.ifftn(np.fft.fftn(x) * centred_otf(psf, x.shape)).real


def sk_real(out):
    """skimage returns the complex inverse FFT for is_real=False: compare its real part."""
    out = np.asarray(out)
    return out.real.copy() if out.dtype.kind == "c" else out


def frozen(*arrays):
    """Read-only copies, so that any write into an input raises."""
    out = []
    for a in arrays:
        a = np.array(a)
        a.setflags(write=False)
        out.append(a)
    return out


# --------------------------------------------------------------------------- deconvolve

DECONV_CASES = [
    ([0, 2, 1, 0, 2, 3, 1, 0, 0], [2, 1]),
    ([1.0, 2.0, 3.0, 4.0], [1.0, 2.0]),
    (np.float32([1, 2, 3, 4, 5]), np.float32([1, -0.5])),
    ([1 + 1j, 2, 3], [1, 1]),
    ([True, False, True], [True, True]),
    (np.int8([1, 2, 3]), np.int8([1, 1])),
    (5.0, 2.0),
    ([1, 2], [1, 2, 3]),                     # divisor longer: ([], signal)
    (np.float32([1, 2]), [1, 2, 3]),
    ([1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0]),  # D > N with a[0] == 0: scipy returns
]


@pytest.mark.parametrize("signal,divisor", DECONV_CASES)
def test_deconvolve_matches_scipy(signal, divisor):
    q, r = deconvolve(signal, divisor)
    q_ref, r_ref = scipy.signal.deconvolve(signal, divisor)
    assert type(q) is type(q_ref)
    if isinstance(q_ref, list):
        assert q == q_ref
    else:
        assert_close(q, q_ref)
    assert_close(r, r_ref)


def test_deconvolve_inverts_convolve_and_copies():
    rng = np.random.default_rng(1)
    quotient, divisor = rng.standard_normal(40), np.array([1.0, 0.5, -0.25])
    signal = np.convolve(divisor, quotient) + np.r_[np.zeros(40), [0.1, -0.2]]
    sig_in, div_in = frozen(signal, divisor)
    q, r = deconvolve(sig_in, div_in)
    assert_close(q, quotient, rtol=1e-12)
    assert_close(np.convolve(divisor, q) + r, signal, rtol=1e-12)
    assert_close(r[:40], np.zeros(40), rtol=1e-12)
    short = np.array([1.0, 2.0])
    _, rem = deconvolve(short, [1.0, 2.0, 3.0])
    assert not np.shares_memory(rem, short)  # scipy aliases here; we copy


@pytest.mark.parametrize("signal,divisor,exc", [
    ([], [1.0], ValueError),
    ([1.0, 2.0], [], ValueError),
    ([[1.0, 2.0]], [1.0], ValueError),
    ([1.0, 2.0, 3.0], [[1.0]], ValueError),
    ([1.0, 2.0, 3.0], [0.0, 1.0], ValueError),
])
def test_deconvolve_errors_like_scipy(signal, divisor, exc):
    with pytest.raises(exc) as ours:
        deconvolve(signal, divisor)
    with pytest.raises(exc) as theirs:
        scipy.signal.deconvolve(signal, divisor)
    assert str(ours.value) == str(theirs.value)


def test_deconvolve_error_names_argument_and_refuses_text():
    with pytest.raises(ValueError, match="Parameter divisor must be non-empty 1d"):
        deconvolve([1.0, 2.0], np.ones((2, 2)))
    with pytest.raises(TypeError, match="signal"):
        deconvolve(["a", "b"], [1.0])


# --------------------------------------------------------------------------- wiener vs skimage

WIENER_SHAPES = [  # (image shape, psf shape): skimage works for every one of these
    ((32, 40), (5, 5)),
    ((33, 27), (4, 6)),
    ((64,), (7,)),
    ((8, 12, 10), (3, 4, 3)),
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,pshape", WIENER_SHAPES)
@pytest.mark.parametrize("is_real", [True, False])
@pytest.mark.parametrize("clip", [True, False])
def test_wiener_matches_skimage(shape, pshape, dtype, is_real, clip):
    rng = np.random.default_rng(sum(shape))
    image = rng.random(shape).astype(dtype)
    psf = rng.random(pshape).astype(dtype)  # not separable: the dense OTF path
    psf /= psf.sum()
    image_in, psf_in = frozen(image, psf)
    out = wiener(image_in, psf_in, 0.05, is_real=is_real, clip=clip)
    ref = skr.wiener(image, psf, 0.05, is_real=is_real, clip=clip)
    assert_close(out, sk_real(ref))
    np.testing.assert_array_equal(image_in, image)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(48, 50), (9, 16, 15)])
def test_wiener_separable_psf_matches_skimage(shape, dtype):
    # a Gaussian is an outer product: the OTF is built from 1-D transforms only
    rng = np.random.default_rng(0)
    image = rng.random(shape).astype(dtype)
    psf = gaussian_psf((7,) * len(shape), 1.3).astype(dtype)
    for balance in (1e-3, 0.3):
        assert_close(wiener(image, psf, balance, clip=False),
                     skr.wiener(image, psf, balance, clip=False))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("is_real", [True, False])
def test_wiener_custom_reg_matches_skimage(dtype, is_real):
    rng = np.random.default_rng(3)
    image = rng.random((24, 30)).astype(dtype)
    psf = gaussian_psf((5, 5), 1.0).astype(dtype)
    for reg in (np.array([[0.0, -1, 0], [-1, 4, -1], [0, -1, 0]]),  # symmetric
                np.array([[1.0, -1.0]]),                                # asymmetric: Re(R)
                rng.random((3, 2))):
        assert_close(wiener(image, psf, 0.1, reg=reg, is_real=is_real, clip=False),
                     sk_real(skr.wiener(image, psf, 0.1, reg=reg, is_real=is_real,
                                        clip=False)))


@pytest.mark.parametrize("is_real", [True, False])
def test_wiener_transfer_functions_like_skimage(is_real):
    rng = np.random.default_rng(4)
    image = rng.random((20, 26))
    psf = rng.random((4, 5))  # even size: its transfer function has an imaginary part
    tf = uft.ir2tf(psf, image.shape, is_real=is_real)
    reg_tf = uft.ir2tf(np.array([[1.0, -2.0, 1.0]]), image.shape, is_real=is_real)
    # complex psf = transfer function (skimage keeps its real part, and so do we)
    assert_close(wiener(image, tf, 0.2, is_real=is_real, clip=False),
                 sk_real(skr.wiener(image, tf, 0.2, is_real=is_real, clip=False)))
    assert_close(wiener(image, psf, 0.2, reg=reg_tf, is_real=is_real, clip=False),
                 sk_real(skr.wiener(image, psf, 0.2, reg=reg_tf, is_real=is_real,
                                    clip=False)))
    # a real psf with the spectrum's shape is a transfer function too
    real_tf = np.abs(tf)
    assert_close(wiener(image, real_tf, 0.2, is_real=is_real, clip=False),
                 sk_real(skr.wiener(image, real_tf, 0.2, is_real=is_real, clip=False)))


def test_wiener_dtypes():
    rng = np.random.default_rng(5)
    image = rng.random((16, 18))
    psf = gaussian_psf((3, 3), 0.8)
    # float32 image: float32 result whatever the psf's dtype or balance's type
    # (skimage upcasts to float64 when balance is np.float64: same values, our float32)
    out = wiener(image.astype(np.float32), psf, np.float64(0.1))
    ref = skr.wiener(image.astype(np.float32), psf, np.float64(0.1))
    assert out.dtype == np.float32 and ref.dtype == np.float64
    assert_close(out, ref.astype(np.float32))
    assert wiener(image.astype(np.float16), psf, 0.1).dtype == np.float32
    int_image = (image * 100).astype(np.int16)
    assert_close(wiener(int_image, psf, 0.1, clip=False),
                 skr.wiener(int_image, psf, 0.1, clip=False))


def test_wiener_small_axes_where_skimage_fails():
    # skimage's Laplacian (3 samples per axis) cannot be built on axes shorter than 3;
    # the closed form works: (2, n) equals the periodic Tikhonov with the same weight
    rng = np.random.default_rng(6)
    image = rng.random((2, 16))
    psf = np.array([[0.25, 0.5, 0.25]])
    out = wiener(image, psf, 0.1, clip=False)
    assert_close(out, tikhonov(image, psf, 0.1))


# --------------------------------------------------------------------------- recovery

@pytest.mark.parametrize("shape", [(96,), (40, 36), (12, 14, 10)])
def test_inverse_filter_and_wiener_recover_periodic_blur(shape):
    rng = np.random.default_rng(7)
    x = rng.random(shape)
    psf = gaussian_psf((7,) * len(shape), 1.0)
    y = periodic_blur(x, psf)
    # the OTF's smallest value is ~exp(-2 pi^2 sigma^2 f^2 ndim) at f = 1/2: ~1e-2 .. 4e-7
    assert_close(inverse_filter(y, psf, eps=1e-9), x, rtol=1e-8)
    assert_close(wiener(y, psf, None, nsr=1e-20, clip=False), x, rtol=1e-6)
    assert_close(tikhonov(y, psf, 0.0), x, rtol=1e-8)
    # float32: rounding of y (1e-7) is amplified by up to 1 / min|H|
    y32 = y.astype(np.float32)
    out32 = inverse_filter(y32, psf.astype(np.float32), eps=0)
    assert out32.dtype == np.float32
    assert_close(out32, x.astype(np.float32), rtol=2e-2)


def test_inverse_filter_threshold():
    rng = np.random.default_rng(8)
    x = rng.random(64)
    psf = np.ones(4) / 4  # the OTF has exact zeros and small values
    y = periodic_blur(x, psf)
    otf = centred_otf(psf, x.shape)
    for eps in (0.0, 0.2, 0.7):
        keep = (np.abs(otf) >= eps * np.abs(otf).max()) & (np.abs(otf) > 1e-12)
        spectrum = np.where(keep, np.fft.fft(y) / np.where(keep, otf, 1), 0)
        assert_close(inverse_filter(y, psf, eps), np.fft.ifft(spectrum).real)
    # eps above 1 zeroes every frequency
    assert_close(inverse_filter(y, psf, 1.5), np.zeros(64))


def test_tikhonov_limits_and_smoothing():
    rng = np.random.default_rng(9)
    x = rng.random((48, 48))
    psf = gaussian_psf((9, 9), 1.0)  # min |H|^2 ~ 3e-9
    y = periodic_blur(x, psf) + 1e-3 * rng.standard_normal(x.shape)
    # tiny lam approaches the unthresholded inverse filter (relative change <= lam/|H|^2)
    for reg in ("identity", "laplacian"):
        assert_close(tikhonov(y, psf, 1e-18, reg=reg), inverse_filter(y, psf, 0.0),
                     rtol=1e-6)
    # identity regulariser = Wiener with a constant NSR; Laplacian = skimage's Wiener
    assert_close(tikhonov(y, psf, 1e-2, reg="identity"),
                 wiener(y, psf, None, nsr=1e-2, clip=False))
    assert_close(tikhonov(y, psf, 1e-2), skr.wiener(y, psf, 1e-2, clip=False))
    # a user impulse response equal to the Laplacian gives the same result
    lap = np.array([[0.0, -1, 0], [-1, 4, -1], [0, -1, 0]])
    assert_close(tikhonov(y, psf, 1e-2, reg=lap), tikhonov(y, psf, 1e-2))
    # larger lam: smoother (less high-frequency energy), closer to the blurred data
    roughness = [np.abs(np.diff(tikhonov(y, psf, lam), axis=1)).mean()
                 for lam in (1e-4, 1e-2, 1.0)]
    assert roughness[0] > roughness[1] > roughness[2]


def test_mirror_boundary_reduces_edge_ringing():
    rng = np.random.default_rng(10)
    yy, xx = np.mgrid[0:64, 0:64] / 64.0
    x = 2 * xx + yy + 0.1 * rng.random((64, 64))  # a ramp: far from periodic
    psf = gaussian_psf((7, 7), 1.2)
    y = ndimage.convolve(x, psf, mode="reflect")  # ndimage 'reflect' = our 'symm'
    err = {b: np.abs(tikhonov(y, psf, 1e-4, boundary=b) - x).max()
           for b in ("periodic", "symm", "reflect", "nearest")}
    assert err["symm"] < err["periodic"] / 10
    assert err["reflect"] < err["periodic"] / 3
    assert err["nearest"] < err["periodic"] / 3
    err_inv = {b: np.abs(inverse_filter(y, psf, 1e-2, boundary=b) - x).max()
               for b in ("wrap", "symmetric")}
    assert err_inv["symmetric"] < err_inv["wrap"] / 3


def test_axes_batching():
    rng = np.random.default_rng(11)
    stack = rng.random((3, 20, 5, 22))
    psf = gaussian_psf((5, 5), 1.0)[None, :, None, :]
    out = inverse_filter(stack, psf, 1e-3, axes=(1, -1))
    out_t = tikhonov(stack, psf, 1e-3, axes=(3, 1), boundary="symm")
    for i in range(3):
        for j in range(5):
            assert_close(out[i, :, j, :], inverse_filter(stack[i, :, j, :], psf[0, :, 0, :]))
            assert_close(out_t[i, :, j, :],
                         tikhonov(stack[i, :, j, :], psf[0, :, 0, :], 1e-3, boundary="symm"))
    # one PSF per batch slice
    psfs = np.stack([gaussian_psf((5, 5), s) for s in (0.7, 1.0, 1.4)])
    images = rng.random((3, 16, 16))
    out = tikhonov(images, psfs, 1e-2, axes=(1, 2))
    for i in range(3):
        assert_close(out[i], tikhonov(images[i], psfs[i], 1e-2))


@given(ndim=st.integers(1, 3), data=st.data())
def test_delta_psf_is_identity(ndim, data):
    shape = tuple(data.draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    pshape = tuple(data.draw(st.integers(1, n)) for n in shape)
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape)
    psf = np.zeros(pshape)
    psf[tuple(s // 2 for s in pshape)] = 1.0
    assert_close(inverse_filter(x, psf), x)
    assert_close(tikhonov(x, psf, 0.0, boundary="symm"), x)
    if pshape != shape[:-1] + (shape[-1] // 2 + 1,):  # else skimage's rule: psf is a TF
        assert_close(wiener(x, psf, None, nsr=0.0, clip=False), x)
        assert_close(wiener(x, psf, 0.0, clip=False), x)


# --------------------------------------------------------------------------- unsupervised

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,pshape,is_real", [
    ((32, 40), (5, 5), True),
    ((33, 27), (4, 6), True),
    ((32, 32), (3, 3), False),  # skimage's Hermitian test is right for square images
])
def test_unsupervised_wiener_matches_skimage(shape, pshape, is_real, dtype):
    rng = np.random.default_rng(12)
    psf = rng.random(pshape)
    psf /= psf.sum()
    image = (scipy.signal.fftconvolve(rng.random(shape), psf, "same")
             + 0.05 * rng.standard_normal(shape)).astype(dtype)
    psf = psf.astype(dtype)
    image_in, psf_in = frozen(image, psf)
    out, chains = unsupervised_wiener(image_in, psf_in, is_real=is_real, rng=3)
    ref, ref_chains = skr.unsupervised_wiener(image, psf, is_real=is_real, rng=3)
    assert_close(out, sk_real(ref))
    assert len(chains["noise"]) == len(ref_chains["noise"])
    # chains are Python floats, like skimage's, and agree to rounding
    assert all(type(c) in (int, float) for c in chains["noise"] + chains["prior"])
    np.testing.assert_allclose(chains["noise"], ref_chains["noise"], rtol=1e-4)
    np.testing.assert_allclose(chains["prior"], ref_chains["prior"], rtol=1e-4)


def test_unsupervised_wiener_options_match_skimage():
    rng = np.random.default_rng(13)
    image = rng.random((24, 30))
    psf = gaussian_psf((5, 5), 1.0)
    reg = np.array([[0.0, -1, 0], [-1, 4, -1], [0, -1, 0]]) * 0.5
    params = {"threshold": 1e-3, "burnin": 5, "min_num_iter": 10, "max_num_iter": 40}
    seen, seen_ref = [], []
    out, _ = unsupervised_wiener(image, psf, reg=reg, clip=False,
                                 user_params=dict(params, callback=seen.append),
                                 rng=np.random.default_rng(5))
    ref, _ = skr.unsupervised_wiener(image, psf, reg=reg, clip=False,
                                     user_params=dict(params, callback=seen_ref.append),
                                     rng=np.random.default_rng(5))
    assert_close(out, ref)
    assert len(seen) == len(seen_ref)
    assert_close(seen[-1], seen_ref[-1])
    assert not np.shares_memory(seen[0], seen[1])


def test_unsupervised_wiener_nd():
    rng = np.random.default_rng(14)
    # N-D consistency: a singleton leading axis changes nothing (same draws, same
    # transfer functions), and the 2-D result is skimage's
    image = rng.random((20, 22))
    psf = gaussian_psf((3, 3), 0.8)
    two, _ = unsupervised_wiener(image, psf, rng=0)
    three, _ = unsupervised_wiener(image[None], psf[None], rng=0)
    assert_close(three[0], two)
    assert_close(two, skr.unsupervised_wiener(image, psf, rng=0)[0])
    signal = rng.random(50)
    one, _ = unsupervised_wiener(signal, np.ones(3) / 3, rng=0)
    one_2d, _ = unsupervised_wiener(signal[None], np.ones((1, 3)) / 3, rng=0)
    assert one.shape == (50,)
    assert_close(one, one_2d[0])
    # 3-D: the noise precision chain finds the true noise level (sigma = 0.05)
    sigma = 0.05
    x = ndimage.gaussian_filter(rng.random((16, 20, 18)), 2.0, mode="wrap")
    psf3 = gaussian_psf((5, 5, 5), 1.0)
    y = periodic_blur(x, psf3) + sigma * rng.standard_normal(x.shape)
    for dtype in FLOATS:
        out, chains = unsupervised_wiener(y.astype(dtype), psf3.astype(dtype), rng=1)
        assert out.dtype == dtype and out.shape == y.shape
        noise = np.mean(chains["noise"][16:])
        assert 0.8 < noise * sigma ** 2 < 1.25
        assert np.abs(out - x).mean() < np.abs(y - x).mean()


# --------------------------------------------------------------------------- contract

CALLS = {
    "inverse_filter": lambda im, p: inverse_filter(im, p, 1e-3),
    "inverse_filter_symm": lambda im, p: inverse_filter(im, p, 1e-3, boundary="symm"),
    "wiener": lambda im, p: wiener(im, p, 0.1),
    "wiener_nsr": lambda im, p: wiener(im, p, None, nsr=0.01),
    "tikhonov": lambda im, p: tikhonov(im, p, 0.01, boundary="reflect"),
    "unsupervised_wiener": lambda im, p: unsupervised_wiener(
        im, p, user_params={"max_num_iter": 20, "min_num_iter": 5, "burnin": 5},
        rng=0)[0],
}


@pytest.mark.parametrize("name", CALLS)
@pytest.mark.parametrize("shape", [(31,), (12, 14), (6, 8, 7)])
def test_dtypes_and_inputs_untouched(name, shape):
    fn = CALLS[name]
    rng = np.random.default_rng(15)
    pshape = (3,) * len(shape)
    for img_dt, psf_dt, out_dt in [(np.float32, np.float32, np.float32),
                                   (np.float32, np.float64, np.float32),
                                   (np.float64, np.float32, np.float64),
                                   (np.int32, np.float64, np.float64),
                                   (np.float16, np.float16, np.float32)]:
        image = (rng.random(shape) * 10).astype(img_dt)
        psf = rng.random(pshape).astype(psf_dt)
        image_in, psf_in = frozen(image, psf)
        out = fn(image_in, psf_in)
        assert out.dtype == out_dt and out.shape == shape and out.flags.c_contiguous
        assert np.isfinite(out).all()
        np.testing.assert_array_equal(image_in, image)
        np.testing.assert_array_equal(psf_in, psf)
    # non-contiguous and big-endian inputs give the same result
    image = rng.random(tuple(2 * n for n in shape))[tuple(slice(None, None, 2)
                                                          for _ in shape)]
    psf = rng.random(pshape)
    ref = fn(np.ascontiguousarray(image), psf)
    assert_close(fn(image, psf), ref)
    assert_close(fn(image.astype(">f8"), psf.astype(">f8")), ref)


BAD = [
    # (call, exception, message fragment)
    (lambda: wiener(np.full((8, 8), np.nan), np.ones((3, 3)), 0.1), ValueError, "NaN"),
    (lambda: wiener(np.ones((8, 8)), np.array([[1, np.inf]]), 0.1), ValueError, "psf"),
    (lambda: inverse_filter(np.ones((8, 8)), np.ones(3)), ValueError, "dimensions"),
    (lambda: tikhonov(np.ones((0, 8)), np.ones((1, 1)), 0.1), ValueError, "empty"),
    (lambda: tikhonov(np.ones((8, 8)), np.ones((0, 1)), 0.1), ValueError, "empty"),
    (lambda: unsupervised_wiener(np.ones(5), np.ones((1, 1))), ValueError, "dimensions"),
    (lambda: inverse_filter(np.ones((8, 8)), np.ones((9, 3))), ValueError, "larger"),
    (lambda: inverse_filter(np.ones(8), np.ones(3), -1e-3), ValueError, "eps"),
    (lambda: inverse_filter(np.ones(8), np.ones(3), np.nan), ValueError, "eps"),
    (lambda: inverse_filter(np.ones(8), np.ones(3), [1e-3]), TypeError, "eps"),
    (lambda: inverse_filter(np.ones(8), np.ones(3), boundary="fill"), ValueError,
     "boundary"),
    (lambda: tikhonov(np.ones(8), np.ones(3), 0.1, boundary="bogus"), ValueError,
     "boundary"),
    (lambda: inverse_filter(np.ones((4, 8)), np.ones((1, 3)), axes=2), ValueError, "axes"),
    (lambda: tikhonov(np.ones(8), np.ones(3), -0.1), ValueError, "lam"),
    (lambda: tikhonov(np.ones(8), np.ones(3), 0.1, reg="laplace"), ValueError, "reg"),
    (lambda: wiener(np.ones(8), np.ones(3), -0.1), ValueError, "balance"),
    (lambda: wiener(np.ones(8), np.ones(3), None), ValueError, "balance"),
    (lambda: wiener(np.ones(8), np.ones(3), 0.1, nsr=0.1), ValueError, "nsr"),
    (lambda: wiener(np.ones(8), np.ones(3), None, nsr=-1.0), ValueError, "nsr"),
    (lambda: wiener(np.ones(8), np.ones(3), None, nsr=np.ones(4)), ValueError, "nsr"),
    (lambda: wiener(np.ones(8), np.ones(3), 0.1, reg=np.ones(4, complex)), ValueError,
     "reg"),
    (lambda: wiener(np.ones(8, complex), np.ones(3), 0.1), TypeError, "image"),
    (lambda: wiener(np.array(["a"] * 8), np.ones(3), 0.1), TypeError, "image"),
    (lambda: wiener(np.ones(8), np.ones(3), "0.1"), TypeError, "balance"),
    (lambda: unsupervised_wiener(np.ones(8), np.ones(3), user_params={"max_iter": 5}),
     ValueError, "max_iter"),
    (lambda: unsupervised_wiener(np.ones(8), np.ones(3),
                                 user_params={"burnin": 39, "max_num_iter": 40}),
     ValueError, "burnin"),
    (lambda: unsupervised_wiener(np.ones(8), np.ones(3), user_params=[1]), TypeError,
     "user_params"),
]


@pytest.mark.parametrize("call,exc,match", BAD)
def test_bad_inputs(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_no_warnings_on_singular_filters():
    # exact zeros of H (even box PSF) are zeroed by inverse_filter and tikhonov(lam=0)
    y = np.random.default_rng(16).random(32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(inverse_filter(y, np.ones(4) / 4, 0.0)).all()
        assert np.isfinite(tikhonov(y, np.ones(4) / 4, 0.0, reg="identity")).all()


def test_float32_stays_single_precision_end_to_end():
    # results match a float64 computation only to float32 accuracy: evidence that the
    # float32 path did not silently compute in float64 and round at the end
    rng = np.random.default_rng(17)
    image = rng.random((64, 64))
    psf = rng.random((5, 5))
    psf /= psf.sum()
    out32 = wiener(image.astype(np.float32), psf.astype(np.float32), 1e-3, clip=False)
    out64 = wiener(image.astype(np.float32).astype(np.float64),
                   psf.astype(np.float32).astype(np.float64), 1e-3, clip=False)
    err = np.abs(out32 - out64).max() / np.abs(out64).max()
    assert tolerances(np.float64) < err < tolerances(np.float32)


# --------------------------------------------------------------------------- issue 12

ZERO_PSF_CALLS = {
    # before: wiener and unsupervised_wiener returned all NaN, tikhonov and
    # inverse_filter all zeros, while richardson_lucy raised
    "wiener": lambda img, psf: wiener(img, psf, 0.1),
    "wiener_nsr": lambda img, psf: wiener(img, psf, None, nsr=0.1),
    "unsupervised_wiener": lambda img, psf: unsupervised_wiener(img, psf, rng=0),
    "tikhonov": lambda img, psf: tikhonov(img, psf, 0.1),
    "tikhonov_symm": lambda img, psf: tikhonov(img, psf, 0.1, boundary="symm"),
    "inverse_filter": lambda img, psf: inverse_filter(img, psf),
}


@pytest.mark.parametrize("name", sorted(ZERO_PSF_CALLS))
@pytest.mark.parametrize("dtype", FLOATS)
def test_all_zero_psf_is_refused_like_richardson_lucy(name, dtype):
    from fastdeconv.restoration import richardson_lucy
    img = np.random.default_rng(18).random((8, 8)).astype(dtype)
    zero = np.zeros((3, 3), dtype)
    with pytest.raises(ValueError) as rl_err:
        richardson_lucy(img, zero, 2)
    with pytest.raises(ValueError) as err:
        ZERO_PSF_CALLS[name](img, zero)
    assert str(err.value) == str(rl_err.value)
    assert "psf must have a non-zero element" in str(err.value)


def test_wiener_psf_with_zero_real_part_is_refused():
    # only the real part of a complex psf is used (skimage's rule): an imaginary psf is
    # an all-zero blur
    with pytest.raises(ValueError, match="psf must have a non-zero element"):
        wiener(np.ones((8, 8)), np.ones((3, 3)) * 1j, 0.1)


def test_nonzero_psf_with_zero_sum_still_accepted():
    # a zero-sum (derivative) PSF is a valid Fourier model: only all zeros is refused
    y = np.random.default_rng(19).random(16)
    psf = np.array([1.0, 0.0, -1.0])
    assert np.isfinite(tikhonov(y, psf, 0.1)).all()
    assert np.isfinite(wiener(y, psf, None, nsr=0.1)).all()
