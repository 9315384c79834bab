"""Richardson–Lucy, Landweber and blind RL: skimage equality, kernels vs reference,
quality on synthetic data with ground truth, options and errors."""
import re

import numpy as np
import pytest
from skimage.restoration import richardson_lucy as sk_richardson_lucy

import fastdeconv
from fastdeconv import convolve
from fastdeconv._backends import kernels
from fastdeconv.restoration import blind_richardson_lucy, landweber, richardson_lucy

from .conftest import assert_close, tolerances

# skimage's float32 RL accumulates the rounding of its own float32 FFT convolutions;
# ours stays ~10x closer to the float64 result (checked below), so float32 equality
# with skimage is asserted at 10x the table's tolerance per 10 iterations.
SK_F32_RTOL_PER_10_IT = 1e-4


def gaussian_psf(shape, sigma):
    psf = np.ones(())
    for n in shape:
        g = np.exp(-((np.arange(n) - (n - 1) / 2) ** 2) / (2 * sigma ** 2))
        psf = np.multiply.outer(psf, g)
    return psf / psf.sum()


def psnr(x, truth):
    return 10 * np.log10(np.ptp(truth) ** 2 / np.mean((x - truth) ** 2))


CASES = [  # shape, psf shape, separable
    ((48, 47), (9, 9), True),
    ((48, 47), (6, 4), False),
    ((41,), (7,), True),
    ((14, 15, 13), (5, 5, 3), True),
]


@pytest.mark.parametrize("shape,kshape,separable", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", ["direct", "fft"])
def test_equals_skimage(shape, kshape, separable, dtype, method, rng):
    truth = rng.random(shape)
    psf = gaussian_psf(kshape, 1.5) if separable else rng.random(kshape)
    psf = (psf / psf.sum()).astype(dtype)
    image = convolve(truth, psf.astype(np.float64), "same").astype(dtype)
    for clip, fe in ((True, None), (False, None), (True, 1e-3)):
        expected = sk_richardson_lucy(image, psf, 10, clip=clip, filter_epsilon=fe)
        got = richardson_lucy(image, psf, 10, clip, fe, method=method)
        rtol = SK_F32_RTOL_PER_10_IT if dtype == np.float32 else None
        assert_close(got, expected, rtol)


def test_float32_closer_to_float64_than_skimage(rng):
    truth = rng.random((30, 31))
    psf = rng.random((6, 4))
    psf /= psf.sum()
    image = convolve(truth, psf, "same")
    ref64 = sk_richardson_lucy(image, psf, 30)
    sk32 = sk_richardson_lucy(image.astype(np.float32), psf.astype(np.float32), 30)
    ours32 = richardson_lucy(image.astype(np.float32), psf.astype(np.float32), 30)
    assert ours32.dtype == np.float32
    assert np.abs(ours32 - ref64).max() <= np.abs(sk32 - ref64).max()


def test_backends_agree(backend, rng):
    image = rng.random((12, 13)).astype(np.float32)
    psf = rng.random((3, 4)).astype(np.float32)
    expected = sk_richardson_lucy(image, psf, 3)
    for method in ("direct", "fft"):
        got = richardson_lucy(image, psf, 3, method=method, backend=backend)
        assert_close(got, expected, SK_F32_RTOL_PER_10_IT)


# ------------------------------------------------------------ fused kernels vs reference
ELEMENTWISE_DTYPES = [np.float32, np.float64]


@pytest.mark.parametrize("dtype", ELEMENTWISE_DTYPES)
def test_elementwise_kernels_equal_reference(backend, dtype, rng):
    fast, ref = kernels(backend), kernels("python")
    t = np.dtype(dtype).type
    n = 37
    image = rng.random(n).astype(dtype) * 3
    image[3] = 0
    conv = rng.random(n).astype(dtype)
    conv[5] = 0
    weights = (rng.random(n) > 0.2).astype(dtype)
    for w in (np.empty(0, dtype), weights):
        for threshold in (t(-np.inf), t(0.3)):
            outs, kls = [], []
            for mod in (fast, ref):
                out = np.empty(n, dtype)
                kls.append(mod.rl_ratio(image, conv, w, out, t(1e-12), threshold, True))
                outs.append(out)
            assert_close(outs[0], outs[1])
            assert kls[0] == pytest.approx(kls[1], rel=1e-6)
    corr = rng.random(n).astype(dtype) + 0.5
    norm = rng.random(n).astype(dtype)
    norm[2] = 0
    denom = rng.random(n).astype(dtype) + 0.5
    for nrm in (np.empty(0, dtype), norm):
        for den in (np.empty(0, dtype), denom):
            xs, sums = [], []
            for mod in (fast, ref):
                x = conv.copy() + 1
                sums.append(mod.rl_update(x, corr, nrm, den, True))
                xs.append(x)
            assert_close(xs[0], xs[1])
            np.testing.assert_allclose(sums[0], sums[1], rtol=1e-6)
    shape = (4, 5, 3)
    x = rng.random(shape).astype(dtype)
    sizes = np.array(shape, np.int64)
    strides = np.array([15, 3, 1], np.int64)
    grads, dens = [], []
    for mod in (fast, ref):
        grad = np.empty(3 * x.size, dtype)
        mod.tv_gradient(x.reshape(-1), sizes, strides, t(1e-3), grad)
        den = np.empty(x.size, dtype)
        mod.tv_denominator(grad, sizes, strides, t(0.05), den)
        grads.append(grad)
        dens.append(den)
    assert_close(grads[0], grads[1])
    assert_close(dens[0], dens[1])
    x_prev = rng.random(n).astype(dtype)
    ys, dots = [], []
    for mod in (fast, ref):
        y = np.empty(n, dtype)
        mod.biggs_extrapolate(conv, x_prev, t(0.7), y)
        g = np.empty(n, dtype)
        dots.append(mod.biggs_dots(corr, y, g, denom))
        ys.append((y, g))
    assert_close(ys[0][0], ys[1][0])
    assert_close(ys[0][1], ys[1][1])
    np.testing.assert_allclose(dots[0], dots[1], rtol=1e-6)


# ------------------------------------------------------------------ quality
@pytest.fixture(scope="module")
def scene():
    """A smooth object crossing the border, observed through a Gaussian blur of the
    larger scene (no artificial zero border), plus Poisson counts of it."""
    rng = np.random.default_rng(3)
    truth = convolve(rng.random((72, 72)), np.ones((5, 5)) / 25, "same", boundary="symm")
    truth = (truth - truth.min()) / np.ptp(truth) * 0.8 + 0.1
    psf = gaussian_psf((13, 13), 2.0)
    observed = convolve(np.pad(truth, 6, mode="reflect"), psf, "valid")
    counts = rng.poisson(observed * 200).astype(np.float64)
    return truth, psf, observed, counts


def edges(a, width=8):
    return np.concatenate([a[:width].ravel(), a[-width:].ravel(),
                           a[:, :width].ravel(), a[:, -width:].ravel()])


def test_boundary_aware_modes_beat_zero_fill_at_edges(scene):
    truth, psf, observed, _ = scene
    fill = richardson_lucy(observed, psf, 40, clip=False)
    for boundary in ("noncirculant", "symm", "reflect", "periodic", "nearest"):
        x = richardson_lucy(observed, psf, 40, clip=False, boundary=boundary)
        assert psnr(edges(x), edges(truth)) > psnr(edges(fill), edges(truth)) + 5, boundary


def test_biggs_reaches_plain_quality_in_fewer_iterations(scene):
    truth, psf, observed, _ = scene
    plain = psnr(richardson_lucy(observed, psf, 50, clip=False, boundary="symm"), truth)
    fast = psnr(richardson_lucy(observed, psf, 20, clip=False, boundary="symm",
                                acceleration="biggs"), truth)
    assert fast >= plain - 0.1


def test_tv_suppresses_noise(scene):
    truth, psf, _, counts = scene
    plain = richardson_lucy(counts, psf, 80, clip=False, boundary="symm") / 200
    tv = richardson_lucy(counts, psf, 80, clip=False, boundary="symm", tv=0.01) / 200
    assert psnr(tv, truth) > psnr(plain, truth) + 1


def test_discrepancy_stop_near_best_iteration(scene):
    truth, psf, _, counts = scene
    history = []
    richardson_lucy(counts, psf, 60, clip=False, boundary="symm",
                    callback=lambda i, x: history.append(psnr(x / 200, truth)))
    stopped = richardson_lucy(counts, psf, 60, clip=False, boundary="symm",
                              stop="discrepancy")
    assert psnr(stopped / 200, truth) > max(history) - 1.0


def test_weights_mask_bad_pixels(scene):
    truth, psf, _, counts = scene
    rng = np.random.default_rng(0)
    bad = counts.copy()
    mask = np.ones_like(bad)
    rows, cols = rng.integers(0, bad.shape[0], (2, 100))
    bad[rows, cols] = 5000
    mask[rows, cols] = 0
    masked = richardson_lucy(bad, psf, 30, clip=False, boundary="symm", weights=mask)
    unmasked = richardson_lucy(bad, psf, 30, clip=False, boundary="symm")
    assert psnr(masked / 200, truth) > psnr(unmasked / 200, truth) + 10


def test_stop_tol_callback_and_progress(scene, capsys):
    _, psf, observed, _ = scene
    seen = []
    richardson_lucy(observed, psf, 500, stop_tol=1e-2, callback=lambda i, x: seen.append(i))
    assert 0 < len(seen) < 500
    seen.clear()
    richardson_lucy(observed, psf, 50, callback=lambda i, x: seen.append(i) or i == 4)
    assert seen == [0, 1, 2, 3, 4]
    richardson_lucy(observed, psf, 3, progress=True)
    assert "3/3" in capsys.readouterr().err


def test_periodic_rl_conserves_flux_and_positivity(rng):
    image = rng.random((24, 25)) + 0.1
    psf = gaussian_psf((5, 5), 1.0)
    x = richardson_lucy(image, psf, 15, clip=False, boundary="periodic")
    assert (x >= 0).all()
    assert x.sum() == pytest.approx(image.sum(), rel=1e-9)


def test_noncirculant_shapes_and_x0(rng):
    image = rng.random((20, 22)).astype(np.float32)
    psf = gaussian_psf((5, 7), 1.0).astype(np.float32)
    x = richardson_lucy(image, psf, 5, boundary="noncirculant", x0=image)
    assert x.shape == image.shape and x.dtype == np.float32
    ext = np.full((24, 28), 0.5, np.float32)
    y = richardson_lucy(image, psf, 5, boundary="noncirculant", x0=ext)
    assert y.shape == image.shape


def test_zero_iterations_and_inputs_untouched(rng):
    image = rng.random((10, 10))
    psf = gaussian_psf((3, 3), 1.0)
    keep_i, keep_p = image.copy(), psf.copy()
    image.flags.writeable = False
    x = richardson_lucy(image, psf, 0)
    assert_close(x, np.full((10, 10), 0.5))
    richardson_lucy(image, psf, 3, acceleration="biggs", tv=0.01, boundary="noncirculant")
    np.testing.assert_array_equal(image, keep_i)
    np.testing.assert_array_equal(psf, keep_p)


# ------------------------------------------------------------------ landweber, blind
def test_landweber_improves_and_stays_nonnegative(scene):
    truth, psf, observed, _ = scene
    x = landweber(observed, psf, 60, boundary="symm")
    assert (x >= 0).all()
    assert psnr(x, truth) > psnr(observed, truth) + 1
    x32 = landweber(observed.astype(np.float32), psf.astype(np.float32), 5)
    assert x32.dtype == np.float32


def test_landweber_is_gradient_descent(rng):
    # one step from x0 equals x0 + step * H^T (y - H x0) with skimage-style same convs
    y = rng.random((15, 16))
    psf = rng.random((3, 5))
    x0 = rng.random((15, 16))
    step = 0.1
    expected = x0 + step * convolve(y - convolve(x0, psf, "same"), np.flip(psf), "same")
    got = landweber(y, psf, 1, step=step, nonneg=False, x0=x0)
    assert_close(got, expected)


def test_blind_rl_moves_psf_toward_truth():
    rng = np.random.default_rng(0)
    truth = np.zeros((64, 64))
    truth[rng.integers(5, 59, 40), rng.integers(5, 59, 40)] = 1
    truth = convolve(truth, np.ones((3, 3)), "same") + 0.05
    psf = gaussian_psf((9, 9), 1.5)
    image = convolve(truth, psf, "same")
    guess = np.full((9, 9), 1 / 81)
    est, got = blind_richardson_lucy(image, guess, num_iter=10)
    assert got.shape == (9, 9) and (got >= 0).all()
    assert got.sum() == pytest.approx(1.0)
    assert np.abs(got - psf).sum() < 0.6 * np.abs(guess - psf).sum()
    assert est.shape == image.shape


# ------------------------------------------------------------------ errors
BAD = [
    (dict(psf=-np.ones((3, 3))), ValueError, "psf"),
    (dict(psf=np.zeros((3, 3))), ValueError, "psf"),
    (dict(psf=np.ones(3)), ValueError, "psf"),
    (dict(psf=np.full((3, 3), np.nan)), ValueError, "psf"),
    (dict(image=np.full((8, 8), np.inf)), ValueError, "image"),
    (dict(image=np.ones((0, 8))), ValueError, "image"),
    (dict(num_iter=-1), ValueError, "num_iter"),
    (dict(num_iter=2.5), TypeError, "num_iter"),
    (dict(boundary="bogus"), ValueError, "boundary"),
    (dict(acceleration="nesterov"), ValueError, "acceleration"),
    (dict(tv=-1.0), ValueError, "tv"),
    (dict(stop="never"), ValueError, "stop"),
    (dict(weights=np.ones((3, 3))), ValueError, "weights"),
    (dict(weights=-np.ones((8, 8))), ValueError, "weights"),
    (dict(x0=np.ones((3, 3))), ValueError, "x0"),
    (dict(image=np.ones((8, 8), complex)), TypeError, "complex"),
    (dict(backend="fortran"), ValueError, "backend"),
]


@pytest.mark.parametrize("kwargs,exc,word", BAD, ids=[b[2] + str(i) for i, b in
                                                       enumerate(BAD)])
def test_bad_input(kwargs, exc, word):
    args = dict(image=np.ones((8, 8)), psf=np.ones((3, 3)) / 9)
    args.update(kwargs)
    with pytest.raises(exc, match=word):
        richardson_lucy(**args)


def test_float32_end_to_end_and_dtype_tolerance():
    assert tolerances(np.float32) == 1e-5
    image = np.random.default_rng(1).random((16, 16)).astype(np.float32)
    psf = gaussian_psf((5, 5), 1.0).astype(np.float32)
    for kw in ({}, dict(acceleration="biggs"), dict(tv=0.01), dict(boundary="periodic"),
               dict(boundary="noncirculant")):
        assert richardson_lucy(image, psf, 3, **kw).dtype == np.float32
    assert fastdeconv.landweber(image, psf, 2).dtype == np.float32


# ------------------------------------------------------------------ issue 12: bad input
@pytest.mark.parametrize("stop", [None, "discrepancy"])
def test_all_zero_weights_refused(stop):
    # with stop='discrepancy' this was a ZeroDivisionError (no observed pixel to count)
    image = np.random.default_rng(2).random((8, 8))
    with pytest.raises(ValueError, match="weights must have at least one positive value"):
        richardson_lucy(image, np.ones((3, 3)) / 9, 3, weights=np.zeros((8, 8)), stop=stop)


def test_complex_arrays_refused_not_cast():
    # casting dropped the imaginary part with only a ComplexWarning
    image = np.random.default_rng(3).random((8, 8))
    psf = np.ones((3, 3)) / 9
    c = np.ones((8, 8)) + 1j
    calls = [
        (lambda: richardson_lucy(image, psf, 2, weights=c), "weights must be real"),
        (lambda: richardson_lucy(image, psf, 2, x0=c), "x0 must be real"),
        (lambda: richardson_lucy(image, psf + 0j, 2), "psf must be real"),
        (lambda: landweber(image, psf, 2, x0=c), "x0 must be real"),
        (lambda: landweber(image, psf + 0j, 2), "psf must be real"),
        (lambda: landweber(c, psf, 2), "complex"),
        (lambda: blind_richardson_lucy(image, psf + 1j, 2),
         "psf_shape_or_init must be real"),
        (lambda: blind_richardson_lucy(c, (3, 3), 2), "complex"),
    ]
    for call, msg in calls:
        with pytest.raises(TypeError, match=msg):
            call()


ZERO_MESSAGE = "psf must have a non-zero element, got all zeros"


def test_all_zero_psf_same_error_everywhere():
    image = np.random.default_rng(4).random((8, 8))
    zero = np.zeros((3, 3))
    for call in (lambda: richardson_lucy(image, zero, 2),
                 lambda: landweber(image, zero, 2),
                 lambda: landweber(image, zero, 2, step=0.5)):   # was accepted
        with pytest.raises(ValueError, match=ZERO_MESSAGE):
            call()
    with pytest.raises(ValueError, match="psf_shape_or_init must have a non-zero element"):
        blind_richardson_lucy(image, zero, 2)


@pytest.mark.parametrize("shape,init", [((16, 16), (16, 40)), ((16, 16), (17, 3)),
                                        ((5,), (9,)), ((16, 16), "array")])
def test_blind_psf_larger_than_image_refused(shape, init):
    # was a numpy broadcast error for some shapes, silently accepted for others
    image = np.random.default_rng(5).random(shape)
    if init == "array":
        init = np.ones((40, 3))
        psf_shape = init.shape
    else:
        psf_shape = init
    with pytest.raises(ValueError, match=r"psf_shape_or_init gives a PSF of shape "
                       + re.escape(str(psf_shape)) + r", larger than image "
                       + re.escape(str(shape))):
        blind_richardson_lucy(image, init, 2)


def test_blind_psf_as_large_as_image_and_zero_image():
    image = np.random.default_rng(6).random((9, 9))
    est, psf = blind_richardson_lucy(image, (9, 9), 2)
    assert psf.shape == (9, 9) and np.isfinite(est).all()
    # no signal: the PSF step has nothing to go on and keeps the start, where it made
    # the PSF all zeros and the image step then refused it
    est, psf = blind_richardson_lucy(np.zeros((9, 9)), (3, 3), 2)
    assert_close(psf, np.full((3, 3), 1 / 9))
    assert not est.any()


def test_landweber_default_step_ignores_singleton_axes():
    # the spectral norm was sampled on a grid 4x finer along every axis, length-1 ones
    # included: 4^10 times the work and memory for 10 leading singleton axes
    from fastdeconv.restoration._landweber import _spectral_norm
    rng = np.random.default_rng(7)
    image = rng.random((8, 8))
    psf = rng.random((3, 3))
    lead = (1,) * 10
    assert _spectral_norm(psf.reshape(lead + psf.shape)) == _spectral_norm(psf)
    assert _spectral_norm(psf.reshape(3, 1, 3, 1)) == _spectral_norm(psf)
    assert _spectral_norm(np.full((1, 1), 2.0)) == 2.0
    got = landweber(image.reshape(lead + image.shape), psf.reshape(lead + psf.shape), 5,
                    method="fft")
    assert got.shape == lead + image.shape
    assert_close(got.reshape(image.shape), landweber(image, psf, 5, method="fft"))
