"""fastdeconv.dask: chunked convolution and restoration equal the in-memory functions.

``convolve`` must match ``fastdeconv.convolve`` to round-off for every mode and boundary;
``richardson_lucy`` and ``wiener`` must stay within 2e-3 of the in-memory result
(relative to its maximum) with their automatic halos.  Chunkings are deliberately odd:
uneven chunks, chunks smaller than the halo (which must be merged), single-chunk axes.
"""
import functools

import numpy as np
import pytest

da = pytest.importorskip("dask.array")

import fastdeconv as fd  # noqa: E402
from fastdeconv import dask as fdd  # noqa: E402

from .conftest import assert_close  # noqa: E402

RESTORE_RTOL = 2e-3  # the documented accuracy of the chunked restorations

SHAPES = {1: (157,), 2: (45, 38), 3: (17, 14, 19)}
CHUNKS = {1: (20, 3, 50, 84), 2: ((7, 30, 8), 9), 3: ((5, 12), 4, (1, 18))}


def _sync(x):
    return x.compute(scheduler="sync")


def _relerr(actual, expected):
    return float(np.max(np.abs(actual - expected)) / np.max(np.abs(expected)))


def _smooth(rng, shape, low=0.05):
    """Positive, image-like data: smoothed noise plus a few bright points."""
    x = rng.random(shape)
    k = fd.psf.gaussian(5, 1.5, ndim=len(shape))
    x = fd.convolve(x, k, mode="same", boundary="wrap")
    x.flat[rng.integers(0, x.size, 4)] += 2.0
    return x / x.max() * (1 - low) + low


# --------------------------------------------------------------------------- convolve

@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("mode", ["same", "full", "valid"])
@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm", "reflect", "nearest"])
def test_convolve_equals_in_memory(rng, ndim, mode, boundary):
    x = rng.standard_normal(SHAPES[ndim])
    kshape = {1: (6,), 2: (5, 4), 3: (3, 4, 2)}[ndim]  # even sizes: asymmetric halos
    k = rng.standard_normal(kshape)
    darr = da.from_array(x, chunks=CHUNKS[ndim])
    got = fdd.convolve(darr, k, mode, boundary=boundary, fillvalue=0.5)
    expected = fd.convolve(x, k, mode, boundary=boundary, fillvalue=0.5)
    assert got.shape == expected.shape
    assert_close(_sync(got), expected)


@pytest.mark.parametrize("method", ["direct", "fft", "oa"])
def test_convolve_methods_and_large_kernel(rng, method):
    # kernel larger than every chunk and than the array along axis 0
    x = rng.standard_normal((9, 40))
    k = rng.standard_normal((13, 7))
    darr = da.from_array(x, chunks=(2, 6))
    for boundary in ("wrap", "reflect"):
        got = _sync(fdd.convolve(darr, k, boundary=boundary, method=method))
        assert_close(got, fd.convolve(x, k, "same", boundary=boundary))


def test_convolve_dtypes(rng):
    x = rng.integers(0, 50, (30, 31)).astype(np.int16)
    k = rng.integers(-3, 4, (3, 3)).astype(np.int16)
    got = _sync(fdd.convolve(da.from_array(x, chunks=7), k, boundary="symm"))
    expected = fd.convolve(x, k, "same", boundary="symm")
    assert got.dtype == expected.dtype
    assert_close(got, expected)  # integers: exact
    x32 = rng.standard_normal((40, 33)).astype(np.float32)
    k32 = fd.psf.gaussian(7, 1.3, dtype=np.float32)
    got = _sync(fdd.convolve(da.from_array(x32, chunks=(11, 9)), k32, boundary="nearest"))
    assert got.dtype == np.float32
    assert_close(got, fd.convolve(x32, k32, "same", boundary="nearest"))
    xc = rng.standard_normal(50) + 1j * rng.standard_normal(50)
    got = _sync(fdd.convolve(da.from_array(xc, chunks=7), [1.0, 2.0, 0.5j], mode="full"))
    assert_close(got, fd.convolve(xc, [1.0, 2.0, 0.5j], "full"))


def test_convolve_chunks_kept_when_large_enough(rng):
    darr = da.from_array(rng.standard_normal((100, 90)), chunks=(40, 30))
    out = fdd.convolve(darr, np.ones((5, 5)))
    assert out.chunks == darr.chunks
    small = fdd.convolve(da.from_array(rng.standard_normal(30), chunks=3), np.ones(7))
    assert min(small.chunks[0]) >= 6  # merged so that each lends its K - 1 samples


# --------------------------------------------------------------------------- RL

RL_PSF = {1: fd.psf.gaussian(9, 1.5, ndim=1), 2: fd.psf.gaussian((7, 9), (1.0, 1.5)),
          3: fd.psf.gaussian(5, 1.0, ndim=3)}
RL_CHUNKS = {1: (90, 7, 120, 183), 2: ((50, 5, 65), 33), 3: ((20, 40), 17, (30, 34))}
RL_SHAPES = {1: (400,), 2: (120, 100), 3: (60, 56, 64)}


def _split(out, ndim):
    """The halo machinery ran: the result is split along at least min(ndim, 2) axes
    (small arrays would otherwise be processed in one exact chunk)."""
    assert sum(len(c) > 1 for c in out.chunks) >= min(ndim, 2), out.chunks
    return out


@pytest.mark.parametrize("ndim", [1, 2, 3])
@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm", "reflect", "nearest",
                                      "noncirculant"])
def test_richardson_lucy_matches_in_memory(rng, ndim, boundary):
    image = _smooth(rng, RL_SHAPES[ndim])
    psf = RL_PSF[ndim]
    darr = da.from_array(image, chunks=RL_CHUNKS[ndim])
    got = _sync(_split(fdd.richardson_lucy(darr, psf, 15, boundary=boundary), ndim))
    expected = fd.richardson_lucy(image, psf, 15, boundary=boundary)
    assert got.shape == expected.shape and got.dtype == expected.dtype
    assert _relerr(got, expected) <= RESTORE_RTOL


def test_richardson_lucy_options(rng):
    image = _smooth(rng, (130, 120)).astype(np.float32)
    psf = fd.psf.disk(2.5)
    weights = (rng.random(image.shape) > 0.05).astype(np.float32)
    darr = da.from_array(image, chunks=(30, 25))
    opts = dict(clip=False, filter_epsilon=1e-6, tv=0.001, boundary="symm")
    for w in (weights, da.from_array(weights, chunks=(17, 40))):
        got = _sync(_split(fdd.richardson_lucy(darr, psf, 12, weights=w, **opts), 2))
        expected = fd.richardson_lucy(image, psf, 12, weights=weights, **opts)
        assert got.dtype == np.float32
        assert _relerr(got, expected) <= RESTORE_RTOL
    x0 = np.full(image.shape, 0.3, np.float32)
    got = _sync(_split(fdd.richardson_lucy(darr, psf, 10, x0=x0, boundary="noncirculant"),
                       2))
    expected = fd.richardson_lucy(image, psf, 10, x0=x0, boundary="noncirculant")
    assert _relerr(got, expected) <= RESTORE_RTOL


def test_richardson_lucy_halo_and_single_chunk_axes(rng):
    image = _smooth(rng, (40, 100))
    psf = fd.psf.gaussian(7, 1.2)
    darr = da.from_array(image, chunks=(40, 10))  # axis 0 in one chunk: exact there
    exact = _sync(fdd.richardson_lucy(darr, psf, 10, halo=100))  # halo >= axis: one chunk
    assert_close(exact, fd.richardson_lucy(image, psf, 10), rtol=1e-9)
    assert fdd.richardson_lucy(darr, psf, 10, halo=(0, 12)).chunks[1] == (20,) * 5
    # a chunk and its two halos would cover the axis: one chunk instead
    assert fdd.richardson_lucy(darr, psf, 10, halo=(0, 45)).chunks[1] == (100,)
    auto = fdd.richardson_lucy(darr, psf, 10)
    assert _relerr(_sync(auto), fd.richardson_lucy(image, psf, 10)) <= RESTORE_RTOL


def test_richardson_lucy_psf_larger_than_an_axis(rng):
    image = _smooth(rng, (9, 200))
    psf = fd.psf.gaussian((15, 7), (3.0, 1.2))
    got = fdd.richardson_lucy(da.from_array(image, chunks=(3, 50)), psf, 10)
    assert got.chunks[0] == (9,)
    assert _relerr(_sync(got), fd.richardson_lucy(image, psf, 10)) <= RESTORE_RTOL


def test_default_halo_grows_with_iterations_and_psf():
    shape = (10_000, 10_000)

    def halo(psf, n):
        return fdd._filter_halo(fdd._rl_response(psf, n), psf, shape, fdd.RL_HALO_TOL,
                                fdd.RL_HALO_FACTOR)
    g = fd.psf.gaussian(9, 1.5)
    assert 9 <= halo(g, 10)[0] < halo(g, 200)[0] < 60
    assert halo(fd.psf.disk(4), 200)[0] > halo(g, 200)[0]  # OTF zeros reach further
    motion = halo(fd.psf.motion(9, 0), 50)
    assert motion[1] > motion[0]  # per axis: the blur's direction needs more


# --------------------------------------------------------------------------- Wiener

@pytest.mark.parametrize("ndim,balance", [(1, 0.01), (2, 0.05), (2, 0.005), (3, 0.1)])
def test_wiener_matches_in_memory(rng, ndim, balance):
    image = _smooth(rng, {1: (300,), 2: (128, 110), 3: (80, 72, 56)}[ndim])
    psf = fd.psf.gaussian({1: 9, 2: 7, 3: 5}[ndim], 1.4, ndim=ndim)
    chunks = {1: (100, 37, 163), 2: (40, (30, 50, 30)), 3: (20, 24, 28)}[ndim]
    got = _sync(_split(fdd.wiener(da.from_array(image, chunks=chunks), psf, balance), ndim))
    expected = fd.wiener(image, psf, balance)
    assert got.dtype == expected.dtype
    assert _relerr(got, expected) <= RESTORE_RTOL


def test_wiener_nsr_reg_and_exact(rng):
    image = _smooth(rng, (200, 300)).astype(np.float32)
    psf = fd.psf.motion(7, 30)
    darr = da.from_array(image, chunks=(50, 60))
    got = _sync(_split(fdd.wiener(darr, psf, None, nsr=1e-2), 1))
    assert got.dtype == np.float32
    assert _relerr(got, fd.wiener(image, psf, None, nsr=1e-2)) <= RESTORE_RTOL
    reg = np.array([[0, -1, 0], [-1, 4, -1], [0, -1, 0]], float)
    got = _sync(_split(fdd.wiener(darr, psf, 0.2, reg=reg, clip=False), 1))
    assert _relerr(got, fd.wiener(image, psf, 0.2, reg=reg, clip=False)) <= RESTORE_RTOL
    exact = _sync(fdd.wiener(darr, psf, 0.02, halo=max(image.shape)))
    assert_close(exact, fd.wiener(image, psf, 0.02), rtol=1e-5)


# --------------------------------------------------------------------------- schedulers

def test_threaded_scheduler_one_thread_per_task(rng):
    before = fd.get_num_threads()
    seen = []

    def record(block, **kw):
        seen.append(fd.get_num_threads())
        return block

    image = _smooth(rng, (120, 120))
    darr = da.from_array(image, chunks=40)
    task = functools.partial(fdd._restore_block, func=record, extra_names=(), options={},
                             threads=1)
    darr.map_blocks(task, dtype=darr.dtype).compute(scheduler="threads", num_workers=2)
    assert seen and set(seen) == {1}  # each task: one kernel/FFT thread
    assert fd.get_num_threads() == before  # the caller's setting is untouched
    psf = fd.psf.gaussian(7, 1.2)
    got = fdd.richardson_lucy(darr, psf, 8).compute(scheduler="threads", num_workers=2)
    assert _relerr(got, fd.richardson_lucy(image, psf, 8)) <= RESTORE_RTOL
    conv = fdd.convolve(darr, psf, boundary="symm", threads=2)
    assert_close(conv.compute(scheduler="threads", num_workers=2),
                 fd.convolve(image, psf, "same", boundary="symm"))


def test_distributed_local_cluster(rng):
    distributed = pytest.importorskip("distributed")
    image = _smooth(rng, (64, 72))
    psf = fd.psf.gaussian(7, 1.2)
    darr = da.from_array(image, chunks=(32, 24))
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  protocol="tcp://", host="127.0.0.1",
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        conv = client.compute(fdd.convolve(darr, psf, boundary="wrap")).result()
        rl = client.compute(fdd.richardson_lucy(darr, psf, 8, boundary="nearest")).result()
        wien = client.compute(fdd.wiener(darr, psf, 0.05)).result()
    assert_close(conv, fd.convolve(image, psf, "same", boundary="wrap"))
    expected = fd.richardson_lucy(image, psf, 8, boundary="nearest")
    assert _relerr(rl, expected) <= RESTORE_RTOL
    assert _relerr(wien, fd.wiener(image, psf, 0.05)) <= RESTORE_RTOL


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("call,exc,match", [
    (lambda d: fdd.convolve(np.ones(5), [1.0]), TypeError, "dask.array.Array"),
    (lambda d: fdd.convolve(d, np.ones(3)), ValueError, "same number of dimensions"),
    (lambda d: fdd.convolve(d, np.ones((3, 3)), mode="bogus"), ValueError, "mode"),
    (lambda d: fdd.convolve(d, np.ones((3, 3)), boundary="bogus"), ValueError, "boundary"),
    (lambda d: fdd.convolve(d, np.ones((30, 3)), mode="valid"), ValueError, "no larger"),
    (lambda d: fdd.convolve(d, np.ones((0, 3))), ValueError, "empty"),
    (lambda d: fdd.convolve(d, np.ones((3, 3)), threads=0), ValueError, "threads"),
    (lambda d: fdd.richardson_lucy(d, -np.ones((3, 3))), ValueError, "non-negative"),
    (lambda d: fdd.richardson_lucy(d, np.ones((3, 3)), stop_tol=1e-3), ValueError,
     "chunk-wise"),
    (lambda d: fdd.richardson_lucy(d, np.ones((3, 3)), bogus=1), TypeError, "bogus"),
    (lambda d: fdd.richardson_lucy(d, np.ones((3, 3)), acceleration="biggs"), ValueError,
     "chunk-wise"),
    (lambda d: fdd.richardson_lucy(d, np.ones((3, 3)), halo=-1), ValueError, "halo"),
    (lambda d: fdd.richardson_lucy(d, np.ones((3, 3)), halo=(1, 2, 3)), ValueError, "halo"),
    (lambda d: fdd.richardson_lucy(d, np.ones((3, 3)), weights=np.ones(4)), ValueError,
     "weights"),
    (lambda d: fdd.richardson_lucy(d, np.ones((3, 3)), boundary="bogus"), ValueError,
     "boundary"),
    (lambda d: fdd.wiener(d, np.ones((3, 3)), None, nsr=np.ones((20, 6))), ValueError,
     "scalar"),
    (lambda d: fdd.wiener(d, np.ones((3, 3)), -1.0), ValueError, "balance"),
    (lambda d: fdd.wiener(d, np.ones(3), 0.1), ValueError, "dimensions"),
    (lambda d: fdd.wiener(d, np.ones((3, 12)), 0.1), ValueError, "psf"),
])
def test_errors_before_any_task(call, exc, match):
    darr = da.from_array(np.ones((20, 10)), chunks=5)
    with pytest.raises(exc, match=match):
        call(darr)
