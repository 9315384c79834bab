"""Tests for fastdeconv.psf: PSF generators, psf2otf/otf2psf, edgetaper."""
import math

import numpy as np
import pytest
import scipy.ndimage as ndi
from hypothesis import given
from hypothesis import strategies as st

from fastdeconv import psf

# --------------------------------------------------------------------------- generators

GENERATORS = {
    "gaussian-2d-odd": lambda **kw: psf.gaussian((9, 11), (1.5, 2.0), **kw),
    "gaussian-2d-even": lambda **kw: psf.gaussian((8, 6), 1.2, **kw),
    "gaussian-3d": lambda **kw: psf.gaussian((5, 6, 7), 1.0, **kw),
    "gaussian-1d": lambda **kw: psf.gaussian((9,), 2.0, **kw),
    "disk-2d": lambda **kw: psf.disk(3.3, **kw),
    "disk-2d-even": lambda **kw: psf.disk(3.0, shape=(8, 10), **kw),
    "disk-3d": lambda **kw: psf.disk(2.5, ndim=3, **kw),
    "disk-aliased": lambda **kw: psf.disk(4.0, antialias=False, **kw),
    "motion-0": lambda **kw: psf.motion(7, 0, **kw),
    "motion-37": lambda **kw: psf.motion(12.5, 37, **kw),
    "motion-120": lambda **kw: psf.motion(9, 120, shape=(11, 13), **kw),
    "airy-2d": lambda **kw: psf.airy((15, 16), 3.0, **kw),
    "airy-3d": lambda **kw: psf.airy((9, 9, 9), 2.5, **kw),
}


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_nonnegative_normalised_float64(name):
    h = GENERATORS[name]()
    assert h.dtype == np.float64
    assert h.flags.c_contiguous
    assert (h >= 0).all()
    assert h.sum() == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("name", GENERATORS)
def test_generator_dtype_keyword(name):
    h64 = GENERATORS[name](dtype=np.float64)
    h32 = GENERATORS[name](dtype=np.float32)
    assert h32.dtype == np.float32 and h32.shape == h64.shape
    assert (h32 >= 0).all()
    # float32 accumulation over at most a few hundred terms
    assert float(h32.sum(dtype=np.float64)) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_allclose(h32, h64, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("name", [n for n in GENERATORS if not n.startswith("motion")])
def test_radial_generators_are_mirror_symmetric(name):
    h = GENERATORS[name]()
    for axis in range(h.ndim):
        np.testing.assert_allclose(np.flip(h, axis), h, rtol=1e-13, atol=1e-17)


@pytest.mark.parametrize("name", [n for n in GENERATORS if n.startswith("motion")])
def test_motion_is_point_symmetric_and_odd(name):
    h = GENERATORS[name]()
    assert h.ndim == 2 and all(n % 2 == 1 for n in h.shape)
    np.testing.assert_allclose(h[::-1, ::-1], h, rtol=1e-13, atol=1e-17)


@pytest.mark.parametrize("dtype", ["int32", np.complex128, "float16", "nonsense"])
def test_generator_rejects_other_dtypes(dtype):
    with pytest.raises((TypeError, ValueError), match="dtype"):
        psf.gaussian(5, 1.0, dtype=dtype)


# --------------------------------------------------------------------------- gaussian

def _gauss_1d(n, s):
    x = np.arange(n) - (n - 1) / 2
    g = np.exp(-x ** 2 / (2 * s ** 2))
    return g / g.sum()


@pytest.mark.parametrize("shape, sigma", [((7, 7), 1.0), ((8, 5), (2.0, 0.7)),
                                          ((4, 6, 5), (1.0, 1.5, 0.8)), ((10,), 3.0)])
def test_gaussian_is_outer_product_and_hand_formula(shape, sigma):
    h = psf.gaussian(shape, sigma)
    sig = np.broadcast_to(sigma, (len(shape),))
    vectors = [_gauss_1d(n, s) for n, s in zip(shape, sig)]
    outer = vectors[0]
    for vec in vectors[1:]:
        outer = np.multiply.outer(outer, vec)
    np.testing.assert_allclose(h, outer, rtol=1e-14)
    # the N-D formula exp(-sum x_i^2 / (2 s_i^2)), normalised as a whole
    grids = np.meshgrid(*[np.arange(n) - (n - 1) / 2 for n in shape], indexing="ij")
    e = np.exp(-sum(g ** 2 / (2 * s ** 2) for g, s in zip(grids, sig)))
    np.testing.assert_allclose(h, e / e.sum(), rtol=1e-13)


def test_gaussian_matches_skimage_filter_of_a_delta():
    skf = pytest.importorskip("skimage.filters")
    delta = np.zeros((11, 15))
    delta[5, 7] = 1
    # truncate large enough that skimage's kernel covers the whole window
    ref = skf.gaussian(delta, sigma=(1.4, 2.3), mode="constant", truncate=8.0,
                       preserve_range=True)
    np.testing.assert_allclose(psf.gaussian((11, 15), (1.4, 2.3)), ref / ref.sum(),
                               rtol=1e-10, atol=1e-16)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_gaussian_is_detected_as_separable(dtype):
    # The separable fast path of the direct engine must recognise the PSF as rank one.
    from fastdeconv import _direct
    h = psf.gaussian((9, 7), (1.7, 1.1), dtype=dtype)
    assert _direct.separable_factors(h[::-1, ::-1], 0, dtype) is not None
    h3 = psf.gaussian((5, 7, 9), (1.0, 1.3, 2.0), dtype=dtype)
    assert _direct.separable_factors(h3, 0, dtype) is not None


def test_gaussian_shape_and_sigma_forms():
    assert psf.gaussian(5, 1.0).shape == (5, 5)  # int shape + scalar sigma: 2-D
    assert psf.gaussian(5, (1.0, 2.0, 3.0)).shape == (5, 5, 5)
    assert psf.gaussian(5, 1.0, ndim=1).shape == (5,)
    assert psf.gaussian(np.int64(4), np.float32(1.0)).shape == (4, 4)
    np.testing.assert_array_equal(psf.gaussian([5, 4], np.array([1.0, 2.0])),
                                  psf.gaussian((5, 4), (1.0, 2.0)))


def test_gaussian_zero_sigma_is_the_limit():
    h = psf.gaussian((5, 4), (0.0, 0.0))
    expected = np.zeros((5, 4))
    expected[2, 1:3] = 0.5  # even axis: the two centre pixels
    np.testing.assert_array_equal(h, expected)


# --------------------------------------------------------------------------- disk

@pytest.mark.parametrize("radius", [2.0, 3.5, 7.0, 10.3])
def test_disk_coverage_is_the_area(radius):
    h = psf.disk(radius)
    n = 2 * math.ceil(radius) + 1
    assert h.shape == (n, n)
    # interior pixels have coverage 1, so 1 / max is the total coverage before
    # normalisation: the disk's area (to the 8x8 sub-sampling error on the rim)
    assert 1 / h.max() == pytest.approx(math.pi * radius ** 2, rel=1e-2)
    assert h[n // 2, n // 2] == h.max()
    assert h[0, 0] == 0  # corners are outside


def test_disk_ball_volume_3d():
    h = psf.disk(4.0, ndim=3)
    assert h.shape == (9, 9, 9)
    assert 1 / h.max() == pytest.approx(4 / 3 * math.pi * 4.0 ** 3, rel=1e-2)


@pytest.mark.parametrize("radius", [3.0, 5.5, 10.0])
def test_disk_without_antialias_counts_lattice_points(radius):
    h = psf.disk(radius, antialias=False)
    c = (h.shape[0] - 1) // 2
    ii, jj = np.mgrid[-c:c + 1, -c:c + 1]
    inside = ii ** 2 + jj ** 2 <= radius ** 2
    np.testing.assert_array_equal(h > 0, inside)
    assert np.unique(h[h > 0]).size == 1
    assert inside.sum() == pytest.approx(math.pi * radius ** 2, rel=0.1)


def test_disk_shape_keyword_and_ndim():
    assert psf.disk(2.0, shape=(7, 9)).shape == (7, 9)
    assert psf.disk(2.0, shape=6).shape == (6, 6)
    assert psf.disk(2.0, shape=(5, 5, 5)).shape == (5, 5, 5)
    assert psf.disk(1.5, ndim=1).shape == (5,)
    # a larger window only adds zeros around the same disk
    small, big = psf.disk(2.0), psf.disk(2.0, shape=(9, 9))
    np.testing.assert_allclose(big[2:7, 2:7], small, rtol=1e-14)
    assert big.sum() == pytest.approx(1.0, rel=1e-12)


# --------------------------------------------------------------------------- motion

@pytest.mark.parametrize("length", [1, 2, 5, 9])
def test_motion_angle_zero_is_a_horizontal_line(length):
    h = psf.motion(length, 0)
    if length % 2:
        np.testing.assert_allclose(h, np.full((1, length), 1 / length), rtol=1e-14)
    else:  # MATLAB: the half pixels beyond both ends share the weight
        expected = np.ones((1, length + 1))
        expected[0, [0, -1]] = 0.5
        np.testing.assert_allclose(h, expected / length, rtol=1e-14)


def test_motion_vertical_and_periodic_in_angle():
    np.testing.assert_allclose(psf.motion(9, 90), psf.motion(9, 0).T, rtol=1e-12)
    np.testing.assert_allclose(psf.motion(8, 180), psf.motion(8, 0), rtol=1e-12)
    np.testing.assert_allclose(psf.motion(11, 30 + 180), psf.motion(11, 30), rtol=1e-12)
    np.testing.assert_allclose(psf.motion(11, -30), psf.motion(11, 150), rtol=1e-12)
    # mirror image across the vertical axis
    np.testing.assert_allclose(psf.motion(7, 135), psf.motion(7, 45)[:, ::-1], rtol=1e-12)


def test_motion_matches_matlab_fspecial():
    # fspecial('motion', 3, 45), 4 decimals as MATLAB prints it
    expected = np.array([[0, 0.0754, 0.1883], [0.0754, 0.3215, 0.0754], [0.1883, 0.0754, 0]])
    np.testing.assert_allclose(psf.motion(3, 45), expected, atol=5e-5)


@pytest.mark.parametrize("angle", [10, 30, 60, 100, 150])
def test_motion_direction_is_counter_clockwise_from_x(angle):
    h = psf.motion(21, angle)
    rows, cols = np.indices(h.shape)
    x = cols - (h.shape[1] - 1) / 2
    y = (h.shape[0] - 1) / 2 - rows  # rows point down, y up
    assert (h * x).sum() == pytest.approx(0, abs=1e-12)
    assert (h * y).sum() == pytest.approx(0, abs=1e-12)
    cxx, cyy, cxy = (h * x * x).sum(), (h * y * y).sum(), (h * x * y).sum()
    direction = math.degrees(0.5 * math.atan2(2 * cxy, cxx - cyy)) % 180
    assert direction == pytest.approx(angle, abs=1.5)
    # extent along the line ~ length: a uniform segment of length L has variance L^2/12
    assert cxx + cyy == pytest.approx(21 ** 2 / 12, rel=0.15)


def test_motion_shape_keyword_pads_centred():
    h = psf.motion(5, 0, shape=(5, 9))
    assert h.shape == (5, 9)
    np.testing.assert_allclose(h[2, 2:7], 0.2, rtol=1e-14)
    assert h.sum() == pytest.approx(1.0, rel=1e-12)


# --------------------------------------------------------------------------- airy

@pytest.mark.parametrize("radius", [3, 4.0, np.int64(6)])
def test_airy_first_dark_ring_at_radius(radius):
    h = psf.airy(4 * int(radius) + 1, radius)
    c, radius = 2 * int(radius), int(radius)
    assert h[c, c] == h.max()
    for value in (h[c, c + radius], h[c + radius, c], h[c - radius, c], h[c, c - radius]):
        assert value < 1e-12 * h.max()
    assert h[c, c + radius + 1] > 1e-4 * h.max()  # the first bright ring beyond


def test_airy_non_integer_radius_profile_minimum():
    h = psf.airy(41, 7.4)
    row = h[20, 20:]
    first_min = int(np.argmax(np.diff(row) > 0))  # where the profile turns up
    assert abs(first_min - 7.4) <= 1
    np.testing.assert_allclose(h, h.T, rtol=1e-13)


def test_airy_hand_formula_and_ndim():
    from scipy.special import j1
    h = psf.airy((1, 9), 2.0)[0]
    v = 3.8317059702075125 * np.abs(np.arange(9) - 4) / 2.0
    with np.errstate(invalid="ignore", divide="ignore"):
        e = np.where(v == 0, 1.0, (2 * j1(v) / v) ** 2)
    np.testing.assert_allclose(h, e / e.sum(), rtol=1e-13)
    assert psf.airy((7,), 2.0).shape == (7,)
    assert psf.airy((5, 6, 7), 2.0).shape == (5, 6, 7)


# --------------------------------------------------------------------------- psf2otf / otf2psf

@pytest.mark.parametrize("psf_shape, shape", [((3, 3), (8, 8)), ((4, 4), (9, 10)),
                                              ((5,), (12,)), ((2, 3, 4), (6, 7, 8)),
                                              ((4, 5), (4, 5))])
def test_psf2otf_of_centred_delta_is_all_ones(psf_shape, shape):
    delta = np.zeros(psf_shape)
    delta[tuple(n // 2 for n in psf_shape)] = 1
    np.testing.assert_allclose(psf.psf2otf(delta, shape), np.ones(shape), atol=1e-15)
    half = shape[:-1] + (shape[-1] // 2 + 1,)
    np.testing.assert_allclose(psf.psf2otf(delta, shape, real=True), np.ones(half),
                               atol=1e-15)


@pytest.mark.parametrize("psf_shape, shape", [((3, 4), (8, 9)), ((5, 5), (11, 12))])
def test_psf2otf_definition(rng, psf_shape, shape):
    h = rng.random(psf_shape)
    padded = np.zeros(shape)
    padded[:psf_shape[0], :psf_shape[1]] = h
    padded = np.roll(padded, (-(psf_shape[0] // 2), -(psf_shape[1] // 2)), axis=(0, 1))
    full = psf.psf2otf(h, shape)
    assert full.dtype == np.complex128 and full.shape == shape
    np.testing.assert_allclose(full, np.fft.fftn(padded), rtol=1e-12, atol=1e-13)
    half = psf.psf2otf(h, shape, real=True)
    np.testing.assert_allclose(half, full[:, :shape[1] // 2 + 1], rtol=1e-12, atol=1e-13)
    assert psf.psf2otf(h).shape == psf_shape  # default shape: the PSF's own


def test_psf2otf_product_is_circular_convolution_with_centred_psf(rng):
    image = rng.random((16, 20))
    h = rng.random((5, 3))
    otf = psf.psf2otf(h, image.shape, real=True)
    blurred = np.fft.irfftn(np.fft.rfftn(image) * otf, s=image.shape, axes=(0, 1))
    np.testing.assert_allclose(blurred, ndi.convolve(image, h, mode="wrap"), rtol=1e-12)


def test_psf2otf_dtypes(rng):
    h = rng.random((3, 3))
    assert psf.psf2otf(h.astype(np.float32), (8, 8)).dtype == np.complex64
    assert psf.psf2otf(h.astype(np.float32), (8, 8), real=True).dtype == np.complex64
    assert psf.psf2otf((h * 10).astype(np.int16), (8, 8)).dtype == np.complex128
    hc = h + 1j * rng.random((3, 3))
    otf = psf.psf2otf(hc, (8, 8))
    assert otf.dtype == np.complex128
    back = psf.otf2psf(otf, (3, 3))
    assert back.dtype == np.complex128  # a complex PSF is not truncated to its real part
    np.testing.assert_allclose(back, hc, atol=1e-14)


@pytest.mark.parametrize("psf_shape, shape", [((5, 5), (16, 16)), ((4, 6), (15, 17)),
                                              ((4, 3), (4, 3)), ((7,), (20,)),
                                              ((3, 2, 4), (7, 6, 9))])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_psf_otf_round_trip(rng, psf_shape, shape, dtype):
    h = rng.random(psf_shape).astype(dtype)
    tol = 1e-13 if dtype == np.float64 else 1e-5
    back = psf.otf2psf(psf.psf2otf(h, shape), psf_shape)
    assert back.dtype == dtype and back.shape == psf_shape
    np.testing.assert_allclose(back, h, atol=tol)
    back = psf.otf2psf(psf.psf2otf(h, shape, real=True), psf_shape, real=True,
                       full_shape=shape)
    assert back.dtype == dtype and back.shape == psf_shape
    np.testing.assert_allclose(back, h, atol=tol)
    # on the whole grid, the PSF centre psf_shape // 2 comes back to shape // 2
    whole = psf.otf2psf(psf.psf2otf(h, shape), shape)
    window = tuple(slice(s // 2 - p // 2, s // 2 - p // 2 + p)
                   for s, p in zip(shape, psf_shape))
    np.testing.assert_allclose(whole[window], h, atol=tol)
    assert abs(whole).sum() == pytest.approx(abs(h).sum(dtype=np.float64), rel=tol * 10)


@given(st.lists(st.tuples(st.integers(1, 6), st.integers(0, 5)), min_size=1, max_size=3),
       st.integers(0, 2 ** 32 - 1))
def test_psf_otf_round_trip_property(dims, seed):
    psf_shape = tuple(p for p, _ in dims)
    shape = tuple(p + extra for p, extra in dims)
    h = np.random.default_rng(seed).random(psf_shape)
    np.testing.assert_allclose(psf.otf2psf(psf.psf2otf(h, shape), psf_shape), h,
                               atol=1e-13)
    half = psf.psf2otf(h, shape, real=True)
    np.testing.assert_allclose(psf.otf2psf(half, psf_shape, real=True, full_shape=shape),
                               h, atol=1e-13)


def test_otf2psf_real_part_rule(rng):
    # Hermitian-symmetric OTF (from a real PSF): real output
    otf = psf.psf2otf(rng.random((3, 3)), (8, 8))
    assert psf.otf2psf(otf).dtype == np.float64
    assert psf.otf2psf(otf).shape == (8, 8)
    # a generic complex OTF: the imaginary part is not negligible, complex output
    noise = rng.standard_normal((8, 8)) + 1j * rng.standard_normal((8, 8))
    assert psf.otf2psf(noise, (3, 3)).dtype == np.complex128
    assert psf.otf2psf(noise.astype(np.complex64), (3, 3)).dtype == np.complex64
    # an all-zero OTF gives a real zero PSF
    zero = psf.otf2psf(np.zeros((6, 6), complex), (3, 3))
    assert zero.dtype == np.float64 and not zero.any()


# --------------------------------------------------------------------------- edgetaper

def _edgetaper_reference(image, h):
    """Straight from MATLAB's edgetaper, with ndimage's circular convolution."""
    h = h / h.sum()
    alpha = np.ones(image.shape)
    for i in range(image.ndim):
        if h.shape[i] == 1:
            continue
        proj = h.sum(axis=tuple(j for j in range(h.ndim) if j != i))
        n = image.shape[i] - 1
        padded = np.zeros(n)
        padded[:len(proj)] = proj
        z = np.array([np.dot(padded, np.roll(padded, -k)) for k in range(n)])
        z = np.append(z, z[0]) / z.max()
        shape = [1] * image.ndim
        shape[i] = -1
        alpha = alpha * (1 - z).reshape(shape)
    # circular convolution with the PSF centred at h.shape // 2, one shifted copy per tap
    blurred = np.zeros(image.shape)
    centre = np.array(h.shape) // 2
    for k in np.ndindex(h.shape):
        blurred += h[k] * np.roll(image, tuple(np.array(k) - centre), axis=range(image.ndim))
    return np.clip(alpha * image + (1 - alpha) * blurred, image.min(), image.max())


@pytest.mark.parametrize("image_shape, psf_shape", [((32, 40), (5, 7)), ((30, 31), (4, 6)),
                                                    ((40,), (9,)), ((12, 14, 16), (3, 5, 1))])
def test_edgetaper_matches_matlab_algorithm(rng, image_shape, psf_shape):
    image = rng.random(image_shape)
    h = rng.random(psf_shape)
    np.testing.assert_allclose(psf.edgetaper(image, h), _edgetaper_reference(image, h),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_edgetaper_keeps_shape_dtype_centre_and_inputs(rng, dtype):
    image = (rng.random((48, 40)) * 100).astype(dtype)
    h = psf.gaussian(9, 2.0)  # float64 PSF does not promote a float32 image
    image0, h0 = image.copy(), h.copy()
    out = psf.edgetaper(image, h)
    assert out.shape == image.shape and out.dtype == dtype
    np.testing.assert_array_equal(image, image0)
    np.testing.assert_array_equal(h, h0)
    tol = 1e-4 if dtype == np.float32 else 1e-10
    np.testing.assert_allclose(out[10:-10, 10:-10], image[10:-10, 10:-10], rtol=tol)
    assert out.min() >= image.min() and out.max() <= image.max()


def test_edgetaper_makes_opposite_edges_agree():
    image = np.add.outer(np.linspace(0, 1, 64), np.linspace(0, 2, 56))  # ramp
    out = psf.edgetaper(image, psf.gaussian(11, 3.0))
    for axis in range(2):
        before = np.abs(np.take(image, 0, axis) - np.take(image, -1, axis)).mean()
        after = np.abs(np.take(out, 0, axis) - np.take(out, -1, axis)).mean()
        assert after < 0.5 * before


def test_edgetaper_other_inputs(rng):
    image = rng.integers(0, 255, (20, 24)).astype(np.uint8)
    out = psf.edgetaper(image, np.ones((3, 3)))
    assert out.dtype == np.float64
    # a non-negative PSF is normalised first
    np.testing.assert_allclose(out, psf.edgetaper(image.astype(float), np.ones((3, 3)) / 9),
                               rtol=1e-12)
    # a one-pixel PSF has nothing to taper
    np.testing.assert_array_equal(psf.edgetaper(image, np.ones((1, 1))), image)
    # read-only, non-contiguous inputs
    ro = rng.random((40, 60))[:, ::2]
    ro.flags.writeable = False
    assert psf.edgetaper(ro, np.ones((3, 3))).shape == (40, 30)


# --------------------------------------------------------------------------- errors

BAD = [
    (lambda: psf.gaussian(5, -1.0), ValueError, "sigma"),
    (lambda: psf.gaussian(5, (1.0, -1.0)), ValueError, r"sigma\[1\]"),
    (lambda: psf.gaussian(5, float("nan")), ValueError, "sigma"),
    (lambda: psf.gaussian(5, "1"), TypeError, "sigma"),
    (lambda: psf.gaussian((5, 5), (1.0, 1.0, 1.0)), ValueError, "sigma"),
    (lambda: psf.gaussian(5.0, 1.0), TypeError, "shape"),
    (lambda: psf.gaussian((5, 2.5), 1.0), TypeError, "shape"),
    (lambda: psf.gaussian((5, 0), 1.0), ValueError, "shape"),
    (lambda: psf.gaussian((), 1.0), ValueError, "shape"),
    (lambda: psf.gaussian(5, 1.0, ndim=0), ValueError, "ndim"),
    (lambda: psf.disk(0), ValueError, "radius"),
    (lambda: psf.disk(-2.0), ValueError, "radius"),
    (lambda: psf.disk(float("inf")), ValueError, "radius"),
    (lambda: psf.disk(True), TypeError, "radius"),
    (lambda: psf.disk(3, shape=(5, 7)), ValueError, "shape"),
    (lambda: psf.disk(3, shape=(7, 7), ndim=3), ValueError, "shape"),
    (lambda: psf.disk(3, shape=7.0), TypeError, "shape"),
    (lambda: psf.disk(3, antialias="yes"), TypeError, "antialias"),
    (lambda: psf.motion(0.5, 0), ValueError, "length"),
    (lambda: psf.motion(-3, 0), ValueError, "length"),
    (lambda: psf.motion(5, None), TypeError, "angle"),
    (lambda: psf.motion(5, float("nan")), ValueError, "angle"),
    (lambda: psf.motion(5, 0, shape=(2, 5)), ValueError, "shape"),
    (lambda: psf.motion(9, 0, shape=(1, 7)), ValueError, "shape"),
    (lambda: psf.motion(5, 0, shape=(1, 5, 1)), ValueError, "shape"),
    (lambda: psf.airy(9, 0), ValueError, "radius"),
    (lambda: psf.airy(9, -1.0), ValueError, "radius"),
    (lambda: psf.airy((9, 9.5), 2.0), TypeError, "shape"),
    (lambda: psf.psf2otf(np.ones((5, 5)), (4, 8)), ValueError, "shape"),
    (lambda: psf.psf2otf(np.ones((5, 5)), (8, 8, 8)), ValueError, "shape"),
    (lambda: psf.psf2otf(np.ones((5, 5)), (8.0, 8)), TypeError, "shape"),
    (lambda: psf.psf2otf(np.ones(0), (8,)), ValueError, "psf"),
    (lambda: psf.psf2otf(np.float64(1.0), ()), ValueError, "psf"),
    (lambda: psf.psf2otf(np.array([1.0, np.nan]), (4,)), ValueError, "psf"),
    (lambda: psf.psf2otf(np.array(["a"]), (4,)), TypeError, "psf"),
    (lambda: psf.psf2otf(np.ones(3, complex), (4,), real=True), TypeError, "psf"),
    (lambda: psf.psf2otf(np.ones(3), (4,), real=1), TypeError, "real"),
    (lambda: psf.otf2psf(np.ones((8, 8)), (9, 3)), ValueError, "shape"),
    (lambda: psf.otf2psf(np.ones((8, 8)), (3,)), ValueError, "shape"),
    (lambda: psf.otf2psf(np.ones((8, 5)), (3, 3), real=True), ValueError, "full_shape"),
    (lambda: psf.otf2psf(np.ones((8, 5)), (3, 3), real=True, full_shape=(8, 10)),
     ValueError, "full_shape"),
    (lambda: psf.otf2psf(np.ones((8, 5)), (3, 3), full_shape=(8, 8)), ValueError,
     "full_shape"),
    (lambda: psf.otf2psf(np.full((4, 4), np.inf), (3, 3)), ValueError, "otf"),
    (lambda: psf.edgetaper(np.ones((20, 20)), np.ones((3, 3, 1))), ValueError, "psf"),
    (lambda: psf.edgetaper(np.ones((20, 20)), np.ones((10, 3))), ValueError, "psf"),
    (lambda: psf.edgetaper(np.ones((20, 20)), np.zeros((3, 3))), ValueError, "psf"),
    (lambda: psf.edgetaper(np.ones((20, 20)), np.ones((3, 3), complex)), TypeError, "psf"),
    (lambda: psf.edgetaper(np.ones((20, 20), complex), np.ones((3, 3))), TypeError,
     "image"),
    (lambda: psf.edgetaper(np.ones((0, 20)), np.ones((3, 3))), ValueError, "image"),
    (lambda: psf.edgetaper(np.full((20, 20), np.nan), np.ones((3, 3))), ValueError,
     "image"),
    (lambda: psf.edgetaper(np.ones((20, 20)), np.array([[1.0, -1.0], [-1.0, 1.0]])),
     ValueError, "psf"),
]


@pytest.mark.parametrize("call, exc, pattern", BAD, ids=[str(i) for i in range(len(BAD))])
def test_invalid_arguments(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_gaussian_tiny_sigma_is_the_limit_without_warnings():
    # filterwarnings = error: an overflow or 0/0 inside would fail here
    for sigma in (1e-300, 1e-160, 0.01):
        h = psf.gaussian((4, 5), sigma)
        np.testing.assert_array_equal(h, psf.gaussian((4, 5), 0.0))


def test_otf_functions_accept_read_only_inputs_and_leave_them_alone(rng):
    h = rng.random((6, 10))[:, ::2]  # non-contiguous
    h.flags.writeable = False
    h0 = h.copy()
    otf = psf.psf2otf(h, (9, 9))
    otf.flags.writeable = False
    otf0 = otf.copy()
    np.testing.assert_allclose(psf.otf2psf(otf, h.shape), h, atol=1e-14)
    np.testing.assert_array_equal(h, h0)
    np.testing.assert_array_equal(otf, otf0)
    big_endian = h.astype(">f8")
    np.testing.assert_allclose(psf.psf2otf(big_endian, (9, 9)), otf, rtol=1e-14)
