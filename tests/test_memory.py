"""The memory passes (``kernels/*/memory``) and their front end ``fastdeconv._memory``.

Every backend's serial and parallel kernel against numpy (exact: these passes copy,
fill, clip or compare, they do not round), on sizes straddling the blocks; the front
end with the threshold lowered so that small test arrays take the threaded kernels,
and the FFT convolutions whose padding and cropping it now does, against scipy.
"""
import numpy as np
import pytest
import scipy.signal

import fastdeconv
from fastdeconv import _memory
from fastdeconv._backends import kernel_module, thread_limit

from .conftest import BACKENDS

COMPILED = tuple(b for b in BACKENDS if b != "python")
SIZES = (1, 7, 16384, 16385, 40_003)


def _variants(backend):
    mod = kernel_module(backend, "memory")
    if backend == "python":
        return [("", mod)]
    mod.set_num_threads(2) if hasattr(mod, "set_num_threads") else None
    return [("", mod), ("_parallel", mod)]


@pytest.fixture
def threaded(monkeypatch):
    """Every front-end pass threaded from one element, on two threads."""
    monkeypatch.setattr(fastdeconv.kernels, "PARALLEL_MIN_ELEMENTS_LIGHT", 1)
    with thread_limit(2):
        yield


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fill_clip_all_finite(backend, dtype):
    # the reference loops take the small sizes only (they are slow)
    for n in SIZES if backend != "python" else SIZES[:2]:
        _check_fill_clip_all_finite(backend, dtype, n)


def _check_fill_clip_all_finite(backend, dtype, n):
    rng = np.random.default_rng(n)
    for suffix, mod in _variants(backend):
        out = np.full(n, np.nan, dtype)
        getattr(mod, "fill" + suffix)(out, dtype(0.25))
        assert np.all(out == dtype(0.25))
        a = (rng.standard_normal(n) * 3).astype(dtype)
        a[::11] = np.nan
        expected = np.clip(a, -1, 1)
        getattr(mod, "clip" + suffix)(a, dtype(-1), dtype(1))
        np.testing.assert_array_equal(a, expected)  # NaN kept where it was
        b = rng.standard_normal(n).astype(dtype)
        assert getattr(mod, "all_finite" + suffix)(b)
        for bad in (np.nan, np.inf, -np.inf):
            for where in {0, n // 2, n - 1}:
                c = b.copy()
                c[where] = bad
                assert not getattr(mod, "all_finite" + suffix)(c), (bad, where)
        big = np.full(n, np.finfo(dtype).max, dtype)
        assert getattr(mod, "all_finite" + suffix)(big)


@pytest.mark.parametrize("shape,dshape", [((3, 5), (3, 5)), ((3, 5), (4, 9)),
                                          ((0, 0), (6, 4)), ((2, 70_000), (3, 140_003)),
                                          ((1, 1), (1, 1))])
def test_copy_pad_rows(backend, shape, dshape):
    if backend == "python" and dshape[1] > 100:
        shape, dshape = (2, 7), (3, 11)  # the reference loops are slow
    rng = np.random.default_rng(0)
    for suffix, mod in _variants(backend):
        # a source view with a row stride wider than its rows, bytes counted
        base = rng.integers(0, 255, (shape[0] + 1, shape[1] + 3), dtype=np.uint8)
        src = base[1:, 2:2 + shape[1]]
        dst_base = np.full((dshape[0] + 2, dshape[1] + 5), 77, np.uint8)
        dst = dst_base[1:1 + dshape[0], 3:3 + dshape[1]]
        sflat = _memory._byte_span(src) if src.size else np.zeros(1, np.uint8)
        dflat = _memory._byte_span(dst)
        getattr(mod, "copy_pad_rows" + suffix)(sflat, 0, src.strides[0], shape[0],
                                               shape[1], dflat, 0, dst.strides[0],
                                               dshape[0], dshape[1])
        expected = np.zeros(dshape, np.uint8)
        expected[:shape[0], :shape[1]] = src
        np.testing.assert_array_equal(dst, expected)
        # nothing outside the destination view was written
        assert np.all(dst_base[0] == 77) and np.all(dst_base[-1] == 77)
        assert np.all(dst_base[:, :3] == 77) and np.all(dst_base[:, 3 + dshape[1]:] == 77)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128,
                                   np.int16])
def test_front_end_matches_numpy(threaded, dtype):
    rng = np.random.default_rng(1)
    src = (rng.standard_normal((37, 45)) * 10).astype(dtype)
    dst = np.full((40, 52), 5, dtype)
    _memory.copy_pad(src[2:30, 1:40], dst)
    expected = np.zeros_like(dst)
    expected[:28, :39] = src[2:30, 1:40]
    np.testing.assert_array_equal(dst, expected)
    np.testing.assert_array_equal(_memory.contiguous(src[3:, 5:20]), src[3:, 5:20])
    assert _memory.contiguous(src[3:, 5:20]).flags.c_contiguous
    out = np.empty_like(src)
    np.testing.assert_array_equal(_memory.copy(src, out), src)
    if np.dtype(dtype).kind == "f":
        a = src.copy()
        np.testing.assert_array_equal(_memory.clip(a, -1, 1), np.clip(src, -1, 1))
        f = _memory.full((13, 7), 0.5, dtype)
        assert f.dtype == dtype and np.all(f == 0.5)
        assert _memory.all_finite(src)
        src[3, 4] = np.nan
        assert not _memory.all_finite(src)


def test_validation_still_rejects_non_finite(threaded):
    image = np.ones((40, 40), np.float32)
    image[17, 3] = np.inf
    with pytest.raises(ValueError, match="image contains NaN or Inf"):
        fastdeconv.richardson_lucy(image, np.ones((3, 3), np.float32) / 9, 2)


@pytest.mark.parametrize("shape1,shape2,axes", [((61, 70), (9, 13), None),
                                                ((30, 41, 22), (5, 4, 7), None),
                                                ((3, 50, 47), (1, 7, 6), (1, 2)),
                                                ((1001,), (37,), None),
                                                ((64, 40), (64, 3), None)])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fftconvolve_threaded_padding(threaded, shape1, shape2, axes, mode, dtype):
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape1).astype(dtype)
    k = rng.standard_normal(shape2).astype(dtype)
    for engine in ("scipy", "ducc0"):
        try:
            fastdeconv._fft.set_fft_engine(engine)
        except ValueError:
            continue
        try:
            got = fastdeconv.fftconvolve(a, k, mode, axes=axes)
        finally:
            fastdeconv._fft._engine = None
        expected = scipy.signal.fftconvolve(a.astype(np.float64), k.astype(np.float64),
                                            mode, axes=axes)
        assert got.dtype == dtype and got.shape == expected.shape
        tol = 2e-5 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(got, expected, atol=tol * np.abs(expected).max())


def test_richardson_lucy_threaded_passes_agree(threaded):
    # the start fill, the final clip and the crop of 'noncirculant' on threaded kernels
    rng = np.random.default_rng(3)
    image = rng.random((70, 90)) + 0.1
    psf = np.outer(np.hanning(9), np.hanning(7))
    psf /= psf.sum()
    for boundary in ("fill", "noncirculant"):
        for acceleration in (None, "biggs"):
            got = fastdeconv.richardson_lucy(image, psf, 6, boundary=boundary,
                                             acceleration=acceleration, clip=True)
            with thread_limit(1):
                ref = fastdeconv.richardson_lucy(image, psf, 6, boundary=boundary,
                                                 acceleration=acceleration, clip=True)
            np.testing.assert_array_equal(got, ref)
