"""Richardson–Lucy computed by FFT and by direct convolution must agree.

Regression for the FFT path of ``boundary='noncirculant'`` (and of ``weights``): the
normaliser ``H^T w`` is exactly 0 on pixels no observed pixel reaches, FFT round-off
made it ±1e-17 there, and those pixels grew ~10x per iteration until the estimate
collapsed (2.7e-157) or turned NaN.  Every boundary × PSF kind × option × dimension runs
both paths; float64 results agree to ``RTOL`` relative to the result's peak.
"""
import numpy as np
import pytest

import fastdeconv as fd
from fastdeconv.restoration import richardson_lucy

RTOL = 1e-6  # float64, 20-60 iterations: round-off of the two paths, amplified by RL
RTOL_F32 = 2e-3  # float32: the same, at single precision

BOUNDARIES = ["fill", "wrap", "symm", "reflect", "nearest", "noncirculant"]


def _ball(r):
    g = np.indices((2 * r + 1,) * 3) - r
    b = ((g ** 2).sum(0) <= r * r).astype(float)
    return b / b.sum()


def _unit(psf):
    return psf / psf.sum()


def _psfs(ndim, rng):
    if ndim == 1:
        box = np.zeros(9)
        box[2:7] = 1
        return {"gaussian": fd.psf.gaussian((9,), 1.5), "sparse": box / box.sum(),
                "random": _unit(rng.random(6))}
    if ndim == 2:
        return {"gaussian": fd.psf.gaussian((11, 11), 2.0), "motion": fd.psf.motion(15, 30),
                "disk": fd.psf.disk(3.2), "random": _unit(rng.random((5, 6)))}
    return {"gaussian": fd.psf.gaussian((5, 5, 5), 1.0), "ball": _ball(2)}


def _scene(ndim, rng):
    shape = {1: (61,), 2: (40, 37), 3: (14, 13, 12)}[ndim]
    return rng.random(shape) + 0.1


def _agree(a, b, rtol):
    assert a.shape == b.shape
    assert np.all(np.isfinite(a)) and np.all(np.isfinite(b))
    peak = np.max(np.abs(b))
    assert peak > 0.05  # not collapsed
    assert np.max(np.abs(a - b)) <= rtol * peak


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_fft_and_direct_agree(ndim, boundary, rng):
    x = _scene(ndim, rng)
    for name, psf in _psfs(ndim, rng).items():
        y = fd.convolve(x, psf, mode="same")
        for opts in ({}, {"acceleration": "biggs"}, {"tv": 0.002},
                     {"weights": (rng.random(y.shape) > 0.2).astype(float)}):
            it = 12 if ndim == 3 else 40
            if "acceleration" in opts:
                # Biggs extrapolation can run away on the non-normalised 'fill' model with
                # an ill-conditioned PSF (both paths alike, then chaotically apart): compare
                # the first iterations, where the extrapolation already acts
                it = 8
            got = [richardson_lucy(y, psf, it, clip=False, boundary=boundary, method=m,
                                   **opts) for m in ("fft", "direct")]
            _agree(got[0], got[1], RTOL)


@pytest.mark.parametrize("boundary", BOUNDARIES)
def test_fft_and_direct_agree_float32(boundary, rng):
    x = _scene(2, rng)
    for psf in (fd.psf.motion(15, 30), fd.psf.gaussian((9, 9), 1.5)):
        y = fd.convolve(x, psf, mode="same").astype(np.float32)
        psf = psf.astype(np.float32)
        got = [richardson_lucy(y, psf, 30, clip=False, boundary=boundary, method=m)
               for m in ("fft", "direct")]
        assert got[0].dtype == np.float32
        _agree(got[0], got[1], RTOL_F32)


def test_noncirculant_motion_fft_regression(rng):
    # the case of the report: 60 iterations collapsed to max 2.7e-157 on the FFT path
    psf = fd.psf.motion(15, 30)
    x = rng.random((64, 64)) + 0.1
    y = fd.convolve(x, psf, mode="same")
    r = richardson_lucy(y, psf, 60, clip=False, boundary="noncirculant", method="fft")
    assert 0.9 < r.max() < 2
    d = richardson_lucy(y, psf, 60, clip=False, boundary="noncirculant", method="direct")
    _agree(r, d, RTOL)


def test_normaliser_is_exactly_zero_off_support(rng):
    from fastdeconv.restoration._model import Blur
    psf = fd.psf.disk(3.2)
    w = (rng.random((30, 31)) > 0.5).astype(float)
    w[:, :10] = 0  # a masked band wider than the PSF: unreachable pixels inside it
    norms = {m: Blur(psf, w.shape, "noncirculant", "numba", m).normaliser(w, psf)
             for m in ("fft", "direct")}
    assert np.array_equal(norms["fft"] == 0, norms["direct"] == 0)
    assert np.count_nonzero(norms["direct"] == 0) > 0
    np.testing.assert_allclose(norms["fft"], norms["direct"], atol=1e-12)


def test_dask_noncirculant_fft_agrees_with_in_memory_direct(rng):
    da = pytest.importorskip("dask.array")
    from fastdeconv.dask import richardson_lucy as dask_rl
    psf = fd.psf.motion(9, 60)
    x = rng.random((48, 40)) + 0.1
    y = fd.convolve(x, psf, mode="same")
    ref = richardson_lucy(y, psf, 30, clip=False, boundary="noncirculant", method="direct")
    got = dask_rl(da.from_array(y, chunks=y.shape), psf, 30, clip=False,
                  boundary="noncirculant", method="fft").compute()
    _agree(got, ref, RTOL)


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm", "reflect", "nearest"])
@pytest.mark.parametrize("shape,kshape", [((40, 37), (11, 11)), ((9, 64), (15, 7)),
                                          ((20, 6), (5, 9)), ((33, 3), (3, 5))])
@pytest.mark.parametrize("backend", [b for b in fd.backends() if b != "python"])
def test_direct_plans_equal_convolve(boundary, shape, kshape, backend, rng):
    # the restoration plans (separable without padded copies, non-separable through the
    # 2-D window kernels, or padded passes when the kernel is wider than the image)
    # against the public convolution, for every boundary; then 'valid' and 'full'
    # windows (noncirculant RL's forward and adjoint)
    from fastdeconv import _direct
    from fastdeconv._operators import DirectPlan
    from fastdeconv._validation import check_boundary
    from fastdeconv.convolution import _windows
    x = rng.random(shape)
    sep = fd.psf.gaussian(kshape, 1.7)
    for k in (sep, rng.random(kshape)):
        wins = _windows(shape, kshape, range(2), "same")
        factors = _direct.separable_factors(np.flip(k), 0, k.dtype)
        plan = DirectPlan(k, shape, wins, check_boundary(boundary), backend, factors)
        expected = fd.convolve2d(x, k, "same", boundary=boundary)
        np.testing.assert_allclose(plan(x), expected, rtol=0, atol=1e-12)
        for mode in ("valid", "full"):
            if mode == "valid" and any(n < kk for n, kk in zip(shape, kshape)):
                continue
            plan = DirectPlan(k, shape, _windows(shape, kshape, range(2), mode),
                              "constant", backend, factors)
            np.testing.assert_allclose(plan(x), fd.convolve2d(x, k, mode), rtol=0,
                                       atol=1e-12)


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm", "noncirculant"])
def test_fft_plans_equal_under_both_engines(boundary, rng):
    # the in-place ducc0 plans (preallocated spectra, 1/N folded into the kernel's
    # spectrum) against the scipy.fft path
    from fastdeconv import _fft
    pytest.importorskip("ducc0")  # a test dependency: always there in CI
    x = _scene(2, rng)
    psf = fd.psf.motion(9, 20)
    y = fd.convolve(x, psf, mode="same")
    previous = _fft.fft_engine()
    got = {}
    try:
        for engine in ("ducc0", "scipy"):
            _fft.set_fft_engine(engine)
            got[engine] = richardson_lucy(y, psf, 30, clip=False, boundary=boundary,
                                          method="fft", weights=np.ones(y.shape))
    finally:
        _fft.set_fft_engine(previous)
    _agree(got["ducc0"], got["scipy"], RTOL)
