"""The 2-D sweep kernel (``correlate2d_sweep``), against its definition and scipy.

Contract (``fastdeconv/kernels/numba/direct.py``, section "2-D, sweep")::

    out[p, o, j] = sum_n sum_m wt[n * kh + m] * X(p, rowmap[o + m], colmap[j + n])

with ``X = fill`` where a map is -1.  The public 2-D direct path runs it for dense float
kernels of ``SWEEP_MIN_TAPS`` taps or more and at least three rows.
"""
import os
import sys

import numpy as np
import pytest
import scipy.signal as ss

import fastdeconv as fd
from fastdeconv import _backends, _direct

from .conftest import PAD_MODE, assert_close, padded_reference, random_array
from .test_kernels import _maps

FLOATS = [np.float32, np.float64]
FLOAT_IDS = ["float32", "float64"]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _sweep(backend, parallel):
    mod = _backends.kernels(backend)
    return mod.correlate2d_sweep_parallel if parallel else mod.correlate2d_sweep


def expected_sweep(x, rowmap, colmap, wt, kh, kw, fill, OH, OW):
    """The defining sum with numpy gathers, in float64 (x is P x H x W)."""
    xe = np.concatenate([x.astype(np.float64),
                         np.full(x.shape[:1] + (1, x.shape[2]), fill, np.float64)], axis=1)
    xe = np.concatenate([xe, np.full(xe.shape[:2] + (1,), fill, np.float64)], axis=2)
    w = wt.astype(np.float64).reshape(kw, kh)          # w[n, m]
    out = np.zeros((x.shape[0], OH, OW))
    for n in range(kw):
        cols = colmap[np.arange(OW) + n]
        for m in range(kh):
            rows = rowmap[np.arange(OH) + m]
            out += w[n, m] * xe[:, rows[:, None], cols[None, :]]
    return out


def _consecutive(colmap):
    """The longest run [clo, chi) of colmap reading consecutive, real columns."""
    best = (0, 0)
    start = 0
    for c in range(1, colmap.size + 1):
        if c == colmap.size or colmap[c] < 0 or colmap[c] != colmap[c - 1] + 1 \
                or colmap[start] < 0:
            if colmap[start] >= 0 and c - start > best[1] - best[0]:
                best = (start, c)
            start = c
    return best


def test_generated_passes_are_current():
    """``csrc/gen_sweep.py`` writes both backends' passes; the committed files match."""
    sys.path.insert(0, os.path.join(REPO, "csrc"))
    try:
        import gen_sweep
    finally:
        sys.path.pop(0)
    for path, text in ((gen_sweep.NUMBA_OUT, gen_sweep.numba_source()),
                       (gen_sweep.C_OUT, gen_sweep.c_source())):
        with open(path) as fh:
            assert fh.read() == text, f"{path} is stale: run python csrc/gen_sweep.py"


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_sweep_against_definition(backend, dtype, parallel):
    """Random maps (fill, wrap, symmetric, edge runs), fill values, planes, kernel shapes
    (one to three row groups, one to many shifts), bands, strips and widths over a
    column tile (256): every output equals the defining sum, inputs stay untouched."""
    rng = np.random.default_rng(41)
    fn = _sweep(backend, parallel)
    trials = 8 if backend == "python" else 40
    for trial in range(trials):
        P = int(rng.integers(1, 3))
        small = backend == "python" or trial % 4
        H, W = int(rng.integers(1, 9)), int(rng.integers(1, 12 if small else 300))
        kh = int(rng.integers(1, 6 if small else 21))
        kw = int(rng.integers(1, 6 if small else 9))
        OH = int(rng.integers(1, 9))
        OW = int(rng.integers(1, 12 if small else 600))
        x = random_array(rng, (P, H, W), dtype)
        rowmap = _maps(rng, H, OH + kh - 1)
        colmap = _maps(rng, W, OW + kw - 1)
        clo, chi = _consecutive(colmap)
        wt = random_array(rng, (kh * kw,), dtype)
        fill = random_array(rng, (1,), dtype) if trial % 3 else np.zeros(1, dtype)
        band = int(rng.integers(1, OH + 3))
        strip = int(rng.choice([OW, max(1, OW // 3), 256, 1]))
        out = np.full(P * OH * OW, np.nan, dtype=dtype)
        args = (x.ravel(), rowmap, colmap, wt, fill)
        copies = [a.copy() for a in args]
        fn(x.ravel(), H, W, rowmap, colmap, wt, kh, kw, fill, out, OH, OW, clo, chi,
           band, strip)
        for before, after in zip(copies, args):
            np.testing.assert_array_equal(before, after, err_msg="kernel modified an input")
        want = expected_sweep(x, rowmap, colmap, wt, kh, kw, fill[0], OH, OW)
        assert_close(out.reshape(P, OH, OW), want.astype(dtype),
                     err_msg=f"trial {trial}: H,W {H},{W} k {kh}x{kw} out {OH}x{OW} "
                             f"band {band} strip {strip}")


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_sweep_result_independent_of_threads_bands_and_strips(backend, dtype,
                                                              restore_threads):
    """Each output has one writer and one summation order: any thread count, band and
    strip gives bitwise the same result."""
    rng = np.random.default_rng(42)
    H, W = (9, 20) if backend == "python" else (70, 530)
    kh, kw = (4, 3) if backend == "python" else (11, 6)
    x = random_array(rng, (2, H, W), dtype)
    rowmap = _maps(rng, H, H + kh - 1)
    colmap = np.arange(-(kw // 2), W + kw - 1 - kw // 2, dtype=np.int64)
    colmap = np.where((colmap >= 0) & (colmap < W), colmap, -1)
    clo, chi = _consecutive(colmap)
    wt = random_array(rng, (kh * kw,), dtype)
    fill = np.full(1, 0.5, dtype)
    results = []
    for threads, band, strip in [(1, H, W), (2, 1, W), (2, 7, 256), (2, 12, 5)]:
        _backends.set_num_threads(threads)
        out = np.empty(2 * H * W, dtype)
        _sweep(backend, True)(x.ravel(), H, W, rowmap, colmap, wt, kh, kw, fill, out, H, W,
                              clo, chi, band, strip)
        results.append(out)
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)
    assert_close(results[0].reshape(2, H, W),
                 expected_sweep(x, rowmap, colmap, wt, kh, kw, 0.5, H, W).astype(dtype))


@pytest.fixture
def restore_threads():
    saved = _backends._num_threads
    yield
    _backends._num_threads = saved


@pytest.fixture
def sweep_calls(monkeypatch):
    """Record (backend, name) of every sweep kernel call, checking the kernel contract."""
    calls = []

    def spy(fn, backend, name):
        def wrapper(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, *rest):
            for arr in (x, rowmap, colmap, wt, fill, out):
                assert arr.ndim == 1 and arr.flags.c_contiguous and arr.dtype.isnative
            assert x.dtype == wt.dtype == fill.dtype == out.dtype
            assert x.dtype.kind == "f"
            assert rowmap.dtype == colmap.dtype == np.int64
            assert wt.size == kh * kw
            calls.append((backend, name))
            return fn(x, H, W, rowmap, colmap, wt, kh, kw, fill, out, *rest)
        return wrapper

    for backend in fd.backends():
        mod = _backends.kernels(backend)
        for name in ("correlate2d_sweep", "correlate2d_sweep_parallel"):
            monkeypatch.setattr(mod, name, spy(getattr(mod, name), backend, name))
    return calls


# (in1 shape, in2 shape): kernels of >= SWEEP_MIN_TAPS taps and >= 3 rows, incl. wider
# and taller than the image, one and several row groups, rows over a column tile
SWEEP_CASES = [((23, 31), (5, 7)), ((9, 13), (17, 4)), ((6, 5), (9, 11)),
               ((40, 300), (7, 7)), ((1, 37), (3, 11)), ((50, 3), (10, 3))]
SWEEP_CASES_PY = [((7, 9), (3, 10)), ((5, 4), (6, 6))]


def _cases(backend):
    return SWEEP_CASES_PY if backend == "python" else SWEEP_CASES


@pytest.mark.parametrize("boundary", ["fill", "wrap", "symm"])
@pytest.mark.parametrize("mode", ["full", "same", "valid"])
@pytest.mark.parametrize("func", ["convolve2d", "correlate2d"])
@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_2d_functions_through_sweep_match_scipy(backend, dtype, func, mode, boundary,
                                                sweep_calls):
    rng = np.random.default_rng(43)
    for s1, s2 in _cases(backend):
        a = random_array(rng, s1, dtype)
        k = random_array(rng, s2, dtype)
        if mode == "valid" and not (all(p >= q for p, q in zip(s1, s2))
                                    or all(p <= q for p, q in zip(s1, s2))):
            continue
        for fillvalue in ([0, 1.5] if boundary == "fill" else [0]):
            got = getattr(fd, func)(a, k, mode, boundary, fillvalue, backend=backend)
            want = getattr(ss, func)(a.astype(np.float64), k.astype(np.float64), mode,
                                     boundary, fillvalue)
            assert_close(got, want.astype(dtype), err_msg=f"{s1} {s2} fill {fillvalue}")
    if mode != "valid":
        assert {c[0] for c in sweep_calls} == {backend}, "the sweep kernel did not run"


@pytest.mark.parametrize("boundary", sorted(PAD_MODE))
@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_every_boundary_through_sweep(backend, dtype, boundary, sweep_calls):
    """convolve/correlate with every boundary, against numpy.pad + scipy 'valid'."""
    rng = np.random.default_rng(44)
    for s1, s2 in _cases(backend):
        a = random_array(rng, s1, dtype)
        k = random_array(rng, s2, dtype)
        fillvalue = -2.0 if boundary == "fill" else 0
        for func in ("convolve", "correlate"):
            for mode in ("full", "same"):
                got = getattr(fd, func)(a, k, mode, "direct", boundary=boundary,
                                        fillvalue=fillvalue, backend=backend)
                want = padded_reference(func, a.astype(np.float64), k.astype(np.float64),
                                        mode, boundary, fillvalue)
                assert_close(got, want.astype(dtype), err_msg=f"{func} {s1} {s2} {mode}")
    assert sweep_calls


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_stacks_views_and_nonfinite_through_sweep(backend, dtype, sweep_calls):
    """Batched planes (axes), strided views and NaN/Inf (which 0-weights must keep)."""
    rng = np.random.default_rng(45)
    n = 8 if backend == "python" else 41
    stack = random_array(rng, (3, n, n + 5), dtype)
    k = random_array(rng, (5, 7), dtype)
    k[2, 3] = 0  # a zero tap: it multiplies the Inf below into NaN, as scipy's does
    got = fd.convolve(stack, k[None], "same", "direct", axes=(1, 2), backend=backend)
    for p in range(3):
        assert_close(got[p], ss.convolve(stack[p], k, "same", "direct"))
    view = stack[1, ::2, ::-1]
    assert_close(fd.correlate(view, k, "full", "direct", backend=backend),
                 ss.correlate(view, k, "full", "direct"))
    bad = stack[0].copy()
    bad[3, 4] = np.nan
    bad[n - 2, 2] = np.inf
    assert_close(fd.convolve(bad, k, "same", "direct", backend=backend),
                 ss.convolve(bad, k, "same", "direct"))
    assert sweep_calls


def test_dispatch_rule():
    """Dense float kernels of >= SWEEP_MIN_TAPS taps and >= 3 rows take the sweep."""
    f4, c8, i8 = np.dtype("f4"), np.dtype("c8"), np.dtype("i8")
    assert _direct._sweep_pays(f4, (7, 7), 49)
    assert _direct._sweep_pays(f4, (3, 11), 33)
    assert not _direct._sweep_pays(f4, (5, 5), 25)      # the row kernel is faster there
    assert not _direct._sweep_pays(f4, (2, 31), 62)     # two rows share too little
    assert not _direct._sweep_pays(f4, (9, 9), 20)      # mostly zero taps
    assert _direct._sweep_pays(f4, (13, 1), 13)       # a tall column (separable pass)
    assert not _direct._sweep_pays(f4, (11, 1), 11)
    assert not _direct._sweep_pays(c8, (7, 7), 49)
    assert not _direct._sweep_pays(i8, (7, 7), 49)


@pytest.mark.skipif(not {"numba", "cython"} <= set(fd.backends()),
                    reason="needs both compiled backends")
@pytest.mark.skipif(os.environ.get("FASTDECONV_PORTABLE") == "1",
                    reason="bit equality holds where both compilers emit FMA")
@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_sweep_backends_agree_bitwise(dtype, sweep_calls):
    """The C passes (vector types) and the Numba passes round alike: identical bits for
    one and several row groups, vector bodies and scalar remainders."""
    rng = np.random.default_rng(46)
    for s1, s2 in [((37, 301), (7, 7)), ((20, 45), (17, 5)), ((33, 19), (3, 10))]:
        a = random_array(rng, s1, dtype)
        k = random_array(rng, s2, dtype)
        for boundary, fill in (("fill", 0), ("fill", 2), ("reflect", 0)):
            got = [fd.convolve(a, k, "same", "direct", boundary=boundary, fillvalue=fill,
                               backend=b) for b in ("numba", "cython")]
            np.testing.assert_array_equal(got[0], got[1], err_msg=f"{s2} {boundary}")
    assert {c[0] for c in sweep_calls} == {"numba", "cython"}


@pytest.mark.parametrize("dtype", FLOATS, ids=FLOAT_IDS)
def test_separable_column_pass_through_sweep(backend, dtype, sweep_calls):
    """A separable 2-D kernel's vertical pass runs through the sweep kernel when its
    column is tall; every mode and boundary still matches scipy."""
    h, w = (40, 9) if backend == "python" else (90, 71)
    rng = np.random.default_rng(47)
    for n in ([15] if backend == "python" else [15, 31]):
        g = np.exp(-0.5 * ((np.arange(n) - n // 2) / (n / 6)) ** 2)
        k = np.outer(g, 1.5 * g[::-1] + 0.1).astype(dtype)
        a = random_array(rng, (h, w), dtype)
        for mode in ("full", "same", "valid"):
            for boundary in ("fill", "wrap", "symm"):
                if mode == "valid" and n > min(h, w):
                    continue
                got = fd.convolve2d(a, k, mode, boundary, backend=backend)
                want = ss.convolve2d(a.astype(np.float64), k.astype(np.float64), mode,
                                     boundary)
                assert_close(got, want.astype(dtype), err_msg=f"{n} {mode} {boundary}")
        stack = random_array(rng, (2, h, w), dtype)
        got = fd.convolve(stack, k[None], "same", "direct", axes=(1, 2), backend=backend)
        for p in range(2):
            assert_close(got[p], ss.convolve(stack[p].astype(np.float64),
                                             k.astype(np.float64), "same").astype(dtype))
    assert {c[0] for c in sweep_calls} == {backend}
