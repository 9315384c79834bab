"""Ladder (a): every backend's kernels against the definition, on tiny exhaustive grids.

The kernels compute (contract in ``fastdeconv/kernels/numba/direct.py``)::

    out[o_off[r] + j] = sum_p weights[w_off[r] + p] * x[in_off[r] + offsets[p] + j]

A valid N-D correlation is flattened into that form by ``valid_correlation_terms``; the
expected values come from numpy (``sliding_window_view``), never from a kernel.
"""
import itertools

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from fastdeconv import _backends

import fastdeconv as fd

from .conftest import (PAD_MODE, assert_close, assert_kernel_contract, padded_reference,
                       random_array)

DTYPES = [np.float32, np.float64, np.complex64, np.complex128, np.int64]
DTYPE_IDS = ["float32", "float64", "complex64", "complex128", "int64"]

# Input shapes per ndim; every kernel shape up to the input's is tried on each.
INPUT_SHAPES = {
    1: [(1,), (2,), (5,), (9,), (17,)],  # 17 taps: the 8-, 4- and 1-term loops all run
    2: [(1, 1), (1, 6), (4, 1), (3, 5), (6, 4)],
    3: [(1, 2, 3), (3, 3, 4), (2, 4, 5)],
}
CHUNKS = [1, 3, 4, 7, 64]


def valid_correlation_terms(x_shape, k_shape, base=0):
    """Flatten a valid N-D correlation of a C-ordered ``x_shape`` input by a ``k_shape``
    kernel into the kernels' (offsets, in_off, ncols) form.

    ``offsets[p]`` is the flat index in the input of kernel tap ``p`` (taps in C order,
    matching ``kernel.ravel()``); rows are the output's lines along the last axis and
    ``in_off[r]`` is the flat input index of row ``r``'s first sample (plus ``base``).
    Returns ``offsets, in_off, ncols, out_shape``.
    """
    x_shape = tuple(x_shape)
    k_shape = tuple(k_shape)
    strides = np.array([int(np.prod(x_shape[i + 1:])) for i in range(len(x_shape))],
                       dtype=np.int64)
    taps = list(np.ndindex(*k_shape))
    taps = np.array(taps, dtype=np.int64).reshape(len(taps), len(k_shape))
    offsets = np.ascontiguousarray(taps @ strides, dtype=np.int64)
    out_shape = tuple(n - k + 1 for n, k in zip(x_shape, k_shape))
    lines = list(np.ndindex(*out_shape[:-1]))
    lines = np.array(lines, dtype=np.int64).reshape(len(lines), len(x_shape) - 1)
    in_off = np.ascontiguousarray(base + lines @ strides[:-1], dtype=np.int64)
    return offsets, in_off, out_shape[-1], out_shape


def _wide(dtype):
    """The dtype expected values are computed in (exact for int64)."""
    kind = np.dtype(dtype).kind
    return {"f": np.float64, "c": np.complex128, "i": np.int64}[kind]


def expected_valid_correlation(x, k):
    """``sum_m x[i + m] * k[m]`` (no conjugation), from numpy alone."""
    wide = _wide(x.dtype)
    windows = sliding_window_view(x.astype(wide), k.shape)
    axes = tuple(range(x.ndim, 2 * x.ndim))
    return np.tensordot(windows, k.astype(wide), axes=(axes, tuple(range(k.ndim)))).astype(
        x.dtype)


def expected_terms(x, offsets, weights, in_off, w_off, ncols):
    """The contract's defining sum, vectorised with numpy gathers."""
    wide = _wide(x.dtype)
    cols = np.arange(ncols)
    idx = in_off[:, None, None] + offsets[None, :, None] + cols[None, None, :]
    w = weights.astype(wide)[w_off[:, None] + np.arange(len(offsets))[None, :]]
    return np.einsum("rpj,rp->rj", x.astype(wide)[idx], w).astype(x.dtype).ravel()


def _kernel(backend, parallel):
    mod = _backends.kernels(backend)
    return mod.correlate_terms_parallel if parallel else mod.correlate_terms


def _sentinel(dtype):
    return np.array(-7777, dtype=dtype) if np.dtype(dtype).kind == "i" else np.array(
        np.nan, dtype=dtype)


def run_kernel(fn, x, offsets, weights, in_off, w_off, ncols, chunk, o_off=None,
               out_size=None, guard=5):
    """Call ``fn`` with an output buffer prefilled with garbage (plus a guard zone) and
    return the rows it computed, shape ``(len(in_off) * ncols,)``.

    By default rows are packed (``o_off[r] = r * ncols``).  Checks that every sample the
    rows do not cover (gaps, guard) is untouched and that no input was modified.
    """
    nrows = len(in_off)
    if o_off is None:
        o_off = np.arange(nrows, dtype=np.int64) * ncols
    if out_size is None:
        out_size = int(o_off.max()) + ncols if nrows else 0
    buf = np.full(out_size + guard, _sentinel(x.dtype), dtype=x.dtype)
    out = buf[:out_size]
    args = (x, offsets, weights, in_off, w_off, o_off)
    copies = [a.copy() for a in args]
    assert_kernel_contract(x, offsets, weights, in_off, w_off, out, o_off)
    assert offsets.dtype == in_off.dtype == w_off.dtype == o_off.dtype == np.int64
    assert x.dtype == weights.dtype == out.dtype
    fn(x, offsets, weights, in_off, w_off, out, o_off, ncols, chunk)
    written = np.zeros(len(buf), bool)
    rows = (o_off[:, None] + np.arange(ncols)[None, :]).ravel()
    written[rows] = True
    untouched = np.full(int((~written).sum()), _sentinel(x.dtype))
    np.testing.assert_array_equal(buf[~written], untouched,
                                  err_msg="kernel wrote outside its rows of out")
    for before, after in zip(copies, args):
        np.testing.assert_array_equal(before, after, err_msg="kernel modified an input")
    return buf[rows]


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_valid_correlation_exhaustive(backend, ndim, dtype, parallel):
    fn = _kernel(backend, parallel)
    rng = np.random.default_rng(ndim)
    chunks = itertools.cycle(CHUNKS)
    ncases = 0
    for x_shape in INPUT_SHAPES[ndim]:
        x = random_array(rng, x_shape, dtype)
        for k_shape in itertools.product(*(range(1, n + 1) for n in x_shape)):
            k = random_array(rng, k_shape, dtype)
            offsets, in_off, ncols, out_shape = valid_correlation_terms(x_shape, k_shape)
            w_off = np.zeros(len(in_off), np.int64)
            chunk = next(chunks)
            out = run_kernel(fn, x.ravel(), offsets, np.ascontiguousarray(k.ravel()),
                             in_off, w_off, ncols, chunk)
            assert_close(out.reshape(out_shape), expected_valid_correlation(x, k),
                         err_msg=f"x {x_shape} k {k_shape} chunk {chunk}:")
            ncases += 1
    assert ncases > 20


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_chunk_sizes(backend, dtype, parallel):
    """ncols a multiple of chunk, not a multiple, chunk=1, chunk > ncols."""
    fn = _kernel(backend, parallel)
    rng = np.random.default_rng(7)
    x = random_array(rng, (5, 23), dtype)
    for k_shape in [(1, 1), (2, 3), (3, 9), (5, 12)]:
        k = random_array(rng, k_shape, dtype)
        offsets, in_off, ncols, out_shape = valid_correlation_terms(x.shape, k_shape)
        expected = expected_valid_correlation(x, k)
        for chunk in sorted({1, 2, 3, 5, 8, ncols - 1 or 1, ncols, ncols + 1, 1000}):
            out = run_kernel(fn, x.ravel(), offsets, k.ravel(), in_off,
                             np.zeros(len(in_off), np.int64), ncols, chunk)
            assert_close(out.reshape(out_shape), expected,
                         err_msg=f"k {k_shape} ncols {ncols} chunk {chunk}:")


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_batched_weights(backend, ndim, dtype, parallel):
    """A stack of inputs each correlated with its own kernel: w_off differs per row."""
    fn = _kernel(backend, parallel)
    rng = np.random.default_rng(100 + ndim)
    x_shape = {1: (11,), 2: (4, 7), 3: (3, 4, 6)}[ndim]
    nbatch = 3
    for k_shape in [(1,) * ndim, x_shape[:-1] + (2,), tuple((n + 1) // 2 for n in x_shape),
                    x_shape]:
        xs = random_array(rng, (nbatch,) + x_shape, dtype)
        ks = random_array(rng, (nbatch,) + tuple(k_shape), dtype)
        size = int(np.prod(x_shape))
        nterms = int(np.prod(k_shape))
        in_offs, w_offs = [], []
        for b in range(nbatch):
            offsets, in_off, ncols, out_shape = valid_correlation_terms(
                x_shape, k_shape, base=b * size)
            in_offs.append(in_off)
            w_offs.append(np.full(len(in_off), b * nterms, np.int64))
        in_off = np.concatenate(in_offs)
        w_off = np.concatenate(w_offs)
        out = run_kernel(fn, xs.ravel(), offsets, ks.ravel(), in_off, w_off, ncols, 4)
        expected = np.stack([expected_valid_correlation(xs[b], ks[b]) for b in range(nbatch)])
        assert_close(out.reshape((nbatch,) + out_shape), expected,
                     err_msg=f"batched x {x_shape} k {k_shape}:")

        # Rows pick their kernel at random (w_off independent of the row order).
        choice = rng.integers(0, nbatch, size=len(in_off))
        w_off = np.ascontiguousarray(choice * nterms, dtype=np.int64)
        out = run_kernel(fn, xs.ravel(), offsets, ks.ravel(), in_off, w_off, ncols, 3)
        assert_close(out, expected_terms(xs.ravel(), offsets, ks.ravel(), in_off, w_off,
                                         ncols), err_msg=f"random w_off k {k_shape}:")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_arbitrary_terms(backend, dtype):
    """Offsets in any order, repeated, rows overlapping: still the defining sum.  Every
    term count up to 50 runs, so each first pass (1-4, 9 or 13 terms) meets each mix of
    twelve-, eight- and four-term passes."""
    rng = np.random.default_rng(3)
    x = random_array(rng, (60,), dtype)
    for nterms in range(1, 51):
        offsets = rng.integers(0, 20, size=nterms).astype(np.int64)
        weights = random_array(rng, (nterms + 5,), dtype)
        nrows, ncols = 6, 13
        in_off = rng.integers(0, 60 - 20 - ncols + 1, size=nrows).astype(np.int64)
        w_off = rng.integers(0, 6, size=nrows).astype(np.int64)
        expected = expected_terms(x, offsets, weights, in_off, w_off, ncols)
        for parallel in (False, True):
            out = run_kernel(_kernel(backend, parallel), x, offsets, weights, in_off, w_off,
                             ncols, 5)
            assert_close(out, expected, err_msg=f"nterms {nterms} parallel {parallel}:")


@pytest.fixture
def restore_threads():
    saved = _backends._num_threads
    yield
    _backends._num_threads = saved


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_parallel_result_independent_of_thread_count(backend, dtype, restore_threads):
    """Each output has one writer: the parallel kernel gives bitwise the same result for
    any thread count, and agrees with the serial kernel within tolerance (the serial and
    parallel loops may be compiled differently, e.g. FMA contraction)."""
    rng = np.random.default_rng(11)
    x = random_array(rng, (40, 37), dtype)
    k = random_array(rng, (5, 6), dtype)
    offsets, in_off, ncols, out_shape = valid_correlation_terms(x.shape, k.shape)
    w_off = np.zeros(len(in_off), np.int64)
    results = []
    for nthreads in (1, 2):
        _backends.set_num_threads(nthreads)
        results.append(run_kernel(_kernel(backend, True), x.ravel(), offsets, k.ravel(),
                                  in_off, w_off, ncols, 8))
    np.testing.assert_array_equal(results[0], results[1])
    serial = run_kernel(_kernel(backend, False), x.ravel(), offsets, k.ravel(), in_off,
                        w_off, ncols, 8)
    assert_close(serial, results[0])
    assert_close(serial.reshape(out_shape), expected_valid_correlation(x, k))


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex128],
                         ids=["float32", "float64", "complex128"])
def test_nan_and_inf_propagate(backend, dtype, parallel):
    """No fastmath nnan/ninf: NaN and Inf reach exactly the outputs that read them."""
    rng = np.random.default_rng(5)
    x = random_array(rng, (7, 9), dtype)
    x[2, 3] = np.nan
    x[5, 7] = np.inf
    for k_shape in [(1, 1), (3, 3), (2, 5), (3, 9)]:
        k = random_array(rng, k_shape, dtype)
        k[0, 0] = 0  # 0 * NaN is NaN as well
        offsets, in_off, ncols, out_shape = valid_correlation_terms(x.shape, k_shape)
        w_off = np.zeros(len(in_off), np.int64)
        # 0 * inf is an "invalid" operation: numpy scalars (the reference) would warn.
        with np.errstate(invalid="ignore"):
            expected = expected_terms(x.ravel(), offsets, k.ravel(), in_off, w_off, ncols)
            out = run_kernel(_kernel(backend, parallel), x.ravel(), offsets, k.ravel(),
                             in_off, w_off, ncols, 4)
        assert np.array_equal(np.isnan(out), np.isnan(expected)), f"k {k_shape}: NaN lost"
        assert_close(out, expected, err_msg=f"k {k_shape}:")


def test_helper_flattening_matches_definition():
    """The flattening helper itself, against a hand-written 2-D case."""
    offsets, in_off, ncols, out_shape = valid_correlation_terms((3, 4), (2, 2))
    np.testing.assert_array_equal(offsets, [0, 1, 4, 5])
    np.testing.assert_array_equal(in_off, [0, 4])
    assert ncols == 3 and out_shape == (2, 3)
    x = np.arange(12.0).reshape(3, 4)
    k = np.array([[1.0, 2.0], [3.0, 4.0]])
    expected = np.array([[0 + 2 + 12 + 20, 1 + 4 + 15 + 24, 2 + 6 + 18 + 28],
                         [4 + 10 + 24 + 36, 5 + 12 + 27 + 40, 6 + 14 + 30 + 44]], float)
    assert_close(expected_valid_correlation(x, k), expected)
    assert_close(expected_terms(x.ravel(), offsets, k.ravel(), in_off,
                                np.zeros(2, np.int64), ncols).reshape(2, 3), expected)


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_output_rows_at_offsets(backend, dtype, parallel):
    """``o_off`` places rows anywhere in a larger output: here a valid correlation is
    written into the interior of a bigger 2-D array, everything else left untouched."""
    rng = np.random.default_rng(21)
    x = random_array(rng, (9, 12), dtype)
    for k_shape in [(1, 1), (2, 3), (4, 5), (9, 12)]:
        k = random_array(rng, k_shape, dtype)
        offsets, in_off, ncols, out_shape = valid_correlation_terms(x.shape, k_shape)
        big = (out_shape[0] + 3, out_shape[1] + 4)  # the rows sit at [1:, 2:] of big
        o_off = np.ascontiguousarray((1 + np.arange(out_shape[0])) * big[1] + 2,
                                     dtype=np.int64)
        out = run_kernel(_kernel(backend, parallel), x.ravel(), offsets, k.ravel(), in_off,
                         np.zeros(len(in_off), np.int64), ncols, 3, o_off=o_off,
                         out_size=big[0] * big[1])
        assert_close(out.reshape(out_shape), expected_valid_correlation(x, k),
                     err_msg=f"k {k_shape}:")
        # Rows in reverse order in out: o_off need not increase with r.
        o_rev = np.ascontiguousarray(o_off[::-1])
        out = run_kernel(_kernel(backend, parallel), x.ravel(), offsets, k.ravel(), in_off,
                         np.zeros(len(in_off), np.int64), ncols, 5, o_off=o_rev,
                         out_size=big[0] * big[1])
        assert_close(out.reshape(out_shape), expected_valid_correlation(x, k),
                     err_msg=f"reversed rows, k {k_shape}:")


# ------------------------------------------------- the public direct path, tiny grids

TINY_SHAPES = {
    1: [((n,), (m,)) for n in range(1, 5) for m in range(1, 7)],
    2: [(s1, s2) for s1 in [(1, 2), (3, 2), (2, 4)]
        for s2 in [(1, 1), (2, 3), (3, 1), (4, 5)]],
    3: [(s1, s2) for s1 in [(2, 1, 3), (3, 2, 2)] for s2 in [(1, 1, 1), (2, 2, 3),
                                                          (4, 1, 2)]],
}
TINY_DTYPES = ["float32", "float64", "complex64", "complex128", "int64", "bool"]


@pytest.mark.parametrize("dtype", TINY_DTYPES)
@pytest.mark.parametrize("ndim", [1, 2, 3])
def test_direct_path_tiny_exhaustive(backend, ndim, dtype):
    """Every backend through ``method='direct'``: every mode x boundary, kernels smaller
    and larger than the input, against the numpy.pad + scipy oracle."""
    rng = np.random.default_rng(ndim + len(dtype))
    for s1, s2 in TINY_SHAPES[ndim]:
        a = random_array(rng, s1, dtype)
        k = random_array(rng, s2, dtype)
        comparable = (all(x >= y for x, y in zip(s1, s2))
                      or all(y >= x for x, y in zip(s1, s2)))
        for mode in ("full", "same", "valid") if comparable else ("full", "same"):
            for boundary in PAD_MODE:
                fill = 1 if boundary == "fill" else 0
                for func in ("convolve", "correlate"):
                    got = getattr(fd, func)(a, k, mode, "direct", boundary=boundary,
                                            fillvalue=fill, backend=backend)
                    assert_close(got, padded_reference(func, a, k, mode, boundary, fill),
                                 err_msg=f"{func} {s1} {s2} {mode} {boundary}:")


# ------------------------------------------- correlate2d_mapped: 2-D windows with maps
#
#     out[p, o, j] = sum_k w[k] * X(p, rowmap[o + tap_r[k]], colmap[j + tap_c[k]])
#
# with X = fill where a map is -1 (contract in kernels/numba/direct.py).

def _mapped(backend, parallel):
    mod = _backends.kernels(backend)
    return mod.correlate2d_mapped_parallel if parallel else mod.correlate2d_mapped


def expected_mapped(x, rowmap, colmap, tap_r, tap_c, weights, fill, OH, OW):
    """The defining sum with numpy gathers (in the wide dtype)."""
    wide = _wide(x.dtype)
    xe = np.concatenate([x.astype(wide), np.full(x.shape[:1] + (1, x.shape[2]), fill,
                                                 dtype=wide)], axis=1)
    xe = np.concatenate([xe, np.full(xe.shape[:2] + (1,), fill, dtype=wide)], axis=2)
    rows = rowmap[np.arange(OH)[:, None] + tap_r[None, :]]          # (OH, K); -1 -> fill
    cols = colmap[np.arange(OW)[:, None] + tap_c[None, :]]          # (OW, K)
    vals = xe[:, rows[:, None, :], cols[None, :, :]]               # (P, OH, OW, K)
    return np.einsum("pojk,k->poj", vals, weights.astype(wide)).astype(x.dtype)


def _maps(rng, n, count):
    """Random index maps over an axis of length n: runs of consecutive sources, -1s and
    reflected/repeated stretches, as boundary extensions produce."""
    kind = rng.integers(4)
    start = int(rng.integers(-3, 3))
    coords = np.arange(start, start + count)
    if kind == 0:
        return np.where((coords >= 0) & (coords < n), coords, -1).astype(np.int64)
    mode = ["wrap", "symmetric", "edge"][kind - 1]
    from fastdeconv._direct import boundary_index
    return boundary_index(coords, n, mode).astype(np.int64)


@pytest.mark.parametrize("parallel", [False, True], ids=["serial", "parallel"])
@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_mapped_2d_against_definition(backend, dtype, parallel):
    """Random windows, maps, taps (incl. dropped ones), fill values, planes, bands and
    interior column ranges; with ``edges`` false the columns outside stay untouched."""
    rng = np.random.default_rng(31)
    fn = _mapped(backend, parallel)
    trials = 12 if backend == "python" else 60
    for trial in range(trials):
        P = int(rng.integers(1, 3))
        H, W = int(rng.integers(1, 7)), int(rng.integers(1, 9))
        kh, kw = int(rng.integers(1, 5)), int(rng.integers(1, 6))
        OH, OW = int(rng.integers(1, 7)), int(rng.integers(1, 10))
        x = random_array(rng, (P, H, W), dtype)
        rowmap = _maps(rng, H, OH + kh - 1)
        colmap = np.arange(OW + kw - 1, dtype=np.int64) + int(rng.integers(-2, 2))
        colmap = np.where((colmap >= 0) & (colmap < W), colmap, -1) if trial % 2 else \
            _maps(rng, W, OW + kw - 1)
        # interior columns [lo, hi): their sources colmap[lo:hi + kw - 1] are one run
        ok = [j for j in range(OW) if colmap[j] >= 0 and
              np.array_equal(colmap[j:j + kw], colmap[j] + np.arange(kw))]
        lo, hi = (ok[0], ok[0] + 1) if ok else (0, 0)
        while ok and hi < OW and colmap[hi + kw - 1] == colmap[lo] + hi + kw - 1 - lo:
            hi += 1
        taps = [(t, c) for t in range(kh) for c in range(kw) if rng.random() < 0.85]
        tap_r = np.array([t for t, _ in taps], dtype=np.int64)
        tap_c = np.array([c for _, c in taps], dtype=np.int64)
        weights = random_array(rng, (len(taps),), dtype)
        fill = random_array(rng, (1,), dtype) if trial % 3 else np.zeros(1, dtype)
        edges = bool(trial % 4) or hi <= lo
        band, chunk = int(rng.integers(1, OH + 2)), int(rng.integers(1, 6))
        out = np.full(P * OH * OW, _sentinel(dtype), dtype=dtype)
        args = (x.ravel(), rowmap, colmap, tap_r, tap_c, weights, fill)
        copies = [a.copy() for a in args]
        fn(x.ravel(), H, W, rowmap, colmap, tap_r, tap_c, weights, fill, out, OH, OW,
           lo, hi, edges, band, chunk)
        for before, after in zip(copies, args):
            np.testing.assert_array_equal(before, after, err_msg="kernel modified an input")
        got = out.reshape(P, OH, OW)
        want = expected_mapped(x, rowmap, colmap, tap_r, tap_c, weights, fill[0], OH, OW)
        msg = f"trial {trial}: H,W {H},{W} k {kh}x{kw} out {OH}x{OW} lo,hi {lo},{hi}"
        if edges:
            assert_close(got, want, err_msg=msg)
        else:
            assert_close(got[..., lo:hi], want[..., lo:hi], err_msg=msg)
            outside = np.concatenate([got[..., :lo].ravel(), got[..., hi:].ravel()])
            np.testing.assert_array_equal(outside, np.full(outside.size, _sentinel(dtype)),
                                          err_msg=msg + " wrote outside [lo, hi)")


@pytest.mark.parametrize("dtype", DTYPES, ids=DTYPE_IDS)
def test_mapped_2d_result_independent_of_threads_and_bands(backend, dtype, restore_threads):
    """Each output row has one writer: any thread count and band size gives bitwise the
    same result."""
    rng = np.random.default_rng(32)
    n = 9 if backend == "python" else 50
    x = random_array(rng, (2, n, n + 3), dtype)
    kh, kw = 4, 5
    rowmap = _maps(rng, n, n + kh - 1)
    colmap = np.arange(-2, n + 3 + kw - 3, dtype=np.int64)
    colmap = np.where((colmap >= 0) & (colmap < n + 3), colmap, -1)
    tap_r, tap_c = (a.ravel().astype(np.int64) for a in np.indices((kh, kw)))
    weights = random_array(rng, (kh * kw,), dtype)
    fill = np.ones(1, dtype)
    OH, OW = n, n + 3
    lo = 2
    hi = lo + (n + 3) - kw + 1  # the last window ends at the last source column
    results = []
    for nthreads, band in [(1, OH), (2, 1), (2, 7)]:
        _backends.set_num_threads(nthreads)
        out = np.empty(2 * OH * OW, dtype)
        _mapped(backend, True)(x.ravel(), n, n + 3, rowmap, colmap, tap_r, tap_c, weights,
                               fill, out, OH, OW, lo, hi, True, band, 8)
        results.append(out)
    for other in results[1:]:
        np.testing.assert_array_equal(results[0], other)
    assert_close(results[0].reshape(2, OH, OW),
                 expected_mapped(x, rowmap, colmap, tap_r, tap_c, weights, 1, OH, OW))
