"""Edge cases of ``fastdeconv.nn`` against PyTorch (project issue 12).

- Huge strides, output paddings and paddings: ``conv_transpose`` plans one phase per
  residue that a tap reaches (O(taps), not O(stride)), writes the other outputs as bias
  in bulk, and an output or buffer that cannot be allocated is refused up front with a
  ValueError naming the arguments.
- NaN/Inf: every backend puts them where ``torch.nn.functional`` does (``conv``
  multiplies the zero padding, so an infinite weight that meets it gives NaN;
  ``conv_transpose`` forms only products of real samples).
- Zero-size inputs (batch, channels, output channels, spatial axes): the same shapes, or
  a ValueError where PyTorch raises.

Every case is small: no test allocates more than ~50 MB.
"""
import itertools
import re
import warnings

import numpy as np
import pytest

import fastdeconv
from fastdeconv import nn

BACKENDS = tuple(fastdeconv.backends())


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture
def low_memory_limit(monkeypatch):
    """Pretend this machine has 64 MiB, so that "cannot be allocated" is exercised
    without sizes that depend on the test machine's memory."""
    monkeypatch.setattr(nn, "MAX_BYTES", 64 * 2**20)
    nn._conv_plan.cache_clear()
    nn._transposed_plan.cache_clear()
    yield
    nn._conv_plan.cache_clear()
    nn._transposed_plan.cache_clear()


def _t(torch, a):
    return None if a is None else torch.from_numpy(np.asarray(a, np.float64))


# --------------------------------------------------------------------------- big strides

@pytest.mark.parametrize("backend", BACKENDS)
def test_huge_stride_conv_transpose_matches_torch(torch, backend):
    # Regression: planning looped over every residue of the stride (2**20 took 324 s
    # and 1.8 GB); now only the 3 residues the taps reach are phases, the ~2M other
    # outputs are the bias.
    rng = np.random.default_rng(0)
    x = rng.standard_normal((1, 2, 3))
    w = rng.standard_normal((2, 1, 3))
    b = rng.standard_normal(1)
    s = 2**20  # a 16 MB output
    got = nn.conv_transpose1d(x, w, b, stride=s, padding=1, output_padding=5,
                              dilation=2, backend=backend)
    expected = torch.nn.functional.conv_transpose1d(
        _t(torch, x), _t(torch, w), _t(torch, b), s, 1, 5, 1, 2).numpy()
    assert got.shape == expected.shape == (1, 1, 2 * s - 2 + 4 + 5 + 1)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_huge_stride_conv_transpose_2d_3d_match_torch(torch, backend):
    rng = np.random.default_rng(1)
    for nsp, stride, opad in [(2, (1024, 3), (7, 1)), (3, (64, 1, 33), (0, 0, 32))]:
        x = rng.standard_normal((1, 2) + (2,) * nsp)
        w = rng.standard_normal((2, 1) + (2,) * nsp)
        b = rng.standard_normal(2)
        f = getattr(nn, f"conv_transpose{nsp}d")
        got = f(x, w, b, stride, 0, opad, 2, backend=backend)
        expected = getattr(torch.nn.functional, f"conv_transpose{nsp}d")(
            _t(torch, x), _t(torch, w), _t(torch, b), stride, 0, opad, 2).numpy()
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_transposed_plan_is_per_tap():
    # Stride 2**40: the per-axis plan holds one phase per tap (3), not 2**40, and is
    # made without allocating anything of the output's size.
    out, lo, hi, phases, covered, ostride = nn._transposed_axis(3, 3, 2**40, 1, 0, 0)
    assert out == 2 * 2**40 + 3
    assert [r for r, *_ in phases] == [0, 1, 2]
    assert [int(c) for _, c, *_ in phases] == [3, 3, 3]
    assert not covered and ostride == 2**40
    # Taps that share a residue share its phase; output_padding beyond the taps' reach
    # leaves residues without one.
    out, lo, hi, phases, covered, ostride = nn._transposed_axis(4, 3, 2, 2, 1, 1)
    assert [(r, list(t)) for r, _, t, _ in phases] == [(1, [0, 1, 2])]
    assert not covered
    # A stride beyond the output: one sample per phase, a step that fits int64.
    out, lo, hi, phases, covered, ostride = nn._transposed_axis(1, 3, 2**70, 1, 0, 0)
    assert out == 3 and covered and ostride == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_strides_beyond_int64_are_exact(torch, backend):
    # Strides, paddings and dilations larger than int64 where the output stays small:
    # with one input sample (or a stride past the whole output) the stride never enters
    # an index, so nothing overflows.
    w = np.array([[[1.0, 2.0, 3.0]]])
    got = nn.conv_transpose1d(np.full((1, 1, 1), 2.0), w, stride=2**70, padding=1,
                              backend=backend)
    np.testing.assert_array_equal(got, [[[4.0]]])
    got = nn.conv_transpose1d(np.ones((1, 1, 2)), w, np.array([7.0]), stride=2**71,
                              padding=2**70, backend=backend)
    np.testing.assert_array_equal(got, [[[7.0, 7.0, 7.0]]])  # every tap lands outside
    x = np.arange(5.0).reshape(1, 1, 5)
    got = nn.conv1d(x, w, stride=2**70, padding=1, backend=backend)
    np.testing.assert_array_equal(got, [[[0 * 1 + 0 * 2 + 1 * 3]]])
    got = nn.conv1d(x, w, np.array([5.0]), stride=2**72, padding=2**70, backend=backend)
    np.testing.assert_array_equal(got, [[[5.0]]])  # a window of padding only
    expected = torch.nn.functional.conv1d(_t(torch, x), _t(torch, w), None, 2**40, 1)
    np.testing.assert_array_equal(nn.conv1d(x, w, stride=2**40, padding=1,
                                            backend=backend), expected.numpy())


@pytest.mark.parametrize("backend", BACKENDS)
def test_outputs_too_large_raise_value_error(backend, low_memory_limit):
    x = np.ones((1, 1, 3))
    w = np.ones((1, 1, 3))
    # (stride 2**31 used to end in MemoryError('') after 88 s, 2**40 with a huge
    # output_padding in SystemError; the element count of 2**62 overflows int64.)
    for stride, opad in [(2**31, 0), (2**40, 2**40 - 1), (2**62, 0), (2**80, 5)]:
        with pytest.raises(ValueError, match=r"the output would have shape .*stride=\("
                                             + str(stride) + r",\).*output_padding="):
            nn.conv_transpose1d(x, w, stride=stride, output_padding=opad, backend=backend)
    # The input size enters too: 3 million samples at stride 8 pass 64 MiB.
    with pytest.raises(ValueError, match=re.escape("input size (3000000)")):
        nn.conv_transpose1d(np.zeros((1, 1, 3_000_000), np.float32),
                            w.astype(np.float32), stride=8, backend=backend)
    with pytest.raises(ValueError, match=r"more than can be allocated .*"
                                         r"dilation=\(4611686018427387904, 1\)"):
        nn.conv_transpose2d(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)),
                            dilation=(2**62, 1), backend=backend)
    # conv: padding=2**62 used to raise OverflowError.
    for padding in (2**62, 2**70, (0, 2**40)):
        pad = padding if isinstance(padding, tuple) else (padding,) * 2
        with pytest.raises(ValueError, match=r"the output would have shape .*padding="
                                             + re.escape(str(pad))):
            nn.conv2d(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)), padding=padding,
                      backend=backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_padded_input_too_large_raises_value_error(backend, low_memory_limit):
    # A small output from a padded input that does not fit: the polyphase copy (or
    # numpy.pad's copy) is refused before it is made.
    x = np.ones((1, 1, 3))
    w = np.ones((1, 1, 2))
    for mode in ("zeros", "reflect"):
        if backend == "python" and mode == "zeros":
            continue  # the reference reads x in place: there is no padded copy
        with pytest.raises(ValueError, match=r"the padded input would have shape"):
            nn.conv1d(x, w, stride=2**25, padding=2**25, padding_mode=mode,
                      backend=backend)
    # Channels count: a wide input whose padding alone exceeds the limit.
    with pytest.raises(ValueError, match=r"the padded input would have shape "
                                         r"\(1, 64, 524291\)"):
        nn.conv1d(np.ones((1, 64, 3), np.float32), np.ones((1, 64, 1), np.float32),
                  stride=2**20, padding=2**18, padding_mode="replicate", backend=backend)


# --------------------------------------------------------------------------- NaN / Inf

def test_issue_examples_nan_inf(backend):
    inf = np.inf
    got = nn.conv_transpose1d([[[1.0, 1.0]]], [[[1.0, 1.0, inf]]], backend=backend)
    np.testing.assert_array_equal(got, [[[1.0, 2.0, inf, inf]]])
    got = nn.conv1d([[[1.0, 2.0, 3.0]]], [[[inf, 1.0, 1.0]]], padding=1, backend=backend)
    np.testing.assert_array_equal(got, [[[np.nan, inf, inf]]])


def _nan_case(rng, transposed):
    """A small random problem with NaN/Inf planted in x or in the weight."""
    nsp = int(rng.integers(1, 4))
    groups, cig, cog = (int(v) for v in rng.integers(1, 3, 3))
    k = tuple(int(v) for v in rng.integers(1, 4, nsp))
    stride = tuple(int(v) for v in rng.integers(1, 4, nsp))
    dilation = tuple(int(v) for v in rng.integers(1, 3, nsp))
    padding = tuple(int(v) for v in rng.integers(0, 3, nsp))
    if transposed:
        size = tuple(int(v) for v in rng.integers(1, 4, nsp))
        opad = tuple(int(rng.integers(0, max(s, d))) for s, d in zip(stride, dilation))
        # no negative output size (torch raises, and so do we: tested elsewhere)
        padding = tuple(min(p, ((i - 1) * s + d * (kk - 1)) // 2) for p, i, s, d, kk in
                        zip(padding, size, stride, dilation, k))
        w = rng.standard_normal((groups * cig, cog) + k)
    else:
        size = tuple(max(1, d * (kk - 1) + 1 - 2 * p) + int(rng.integers(0, 3))
                     for kk, d, p in zip(k, dilation, padding))
        opad = None
        w = rng.standard_normal((groups * cog, cig) + k)
    x = rng.standard_normal((int(rng.integers(1, 3)), groups * cig) + size)
    target = x if rng.integers(0, 2) else w
    for _ in range(int(rng.integers(1, 3))):
        target[tuple(int(rng.integers(0, n)) for n in target.shape)] = \
            rng.choice([np.inf, -np.inf, np.nan])
    if rng.integers(0, 3) == 0:  # a zero sample meets the infinities: 0 * inf = NaN
        x[tuple(int(rng.integers(0, n)) for n in x.shape)] = 0.0
    b = rng.standard_normal(groups * cog) if rng.integers(0, 2) else None
    return nsp, x, w, b, stride, padding, opad, dilation, groups


@pytest.mark.parametrize("transposed", [False, True], ids=["conv", "conv_transpose"])
def test_nan_inf_placement_matches_torch(torch, transposed):
    # The oracle is torch in float64: its float32 depthwise convolution (oneDNN) skips
    # the padding where every other path, and the definition, multiplies it.
    rng = np.random.default_rng(12)
    checked = 0
    for _ in range(60):
        nsp, x, w, b, stride, padding, opad, dilation, groups = _nan_case(rng, transposed)
        f = getattr(torch.nn.functional, f"conv_transpose{nsp}d" if transposed
                    else f"conv{nsp}d")
        args = (stride, padding, opad, groups, dilation) if transposed else \
            (stride, padding, dilation, groups)
        expected = f(_t(torch, x), _t(torch, w), _t(torch, b), *args).numpy()
        for backend, dtype in itertools.product(BACKENDS, (np.float32, np.float64)):
            cast = [None if a is None else a.astype(dtype) for a in (x, w, b)]
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # inf * 0 must not warn either
                if transposed:
                    got = nn.conv_transpose(*cast, *args, backend=backend)
                else:
                    got = nn.conv(*cast, *args, backend=backend)
            where = f"{backend} {dtype.__name__} x {x.shape} w {w.shape} {args}"
            assert got.shape == expected.shape, where
            for mask in (np.isnan, np.isposinf, np.isneginf):
                np.testing.assert_array_equal(mask(got), mask(expected), err_msg=where)
            finite = np.isfinite(expected)
            np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-4,
                                       atol=1e-4, err_msg=where)
            checked += 1
    assert checked == 60 * len(BACKENDS) * 2


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "python"])
def test_nan_weights_threaded_and_untouched(torch, backend, monkeypatch):
    # The threaded kernels with many small work items, the exact path for the NaN/Inf
    # weights, and inputs that stay as they were.
    monkeypatch.setattr(nn, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(nn, "CHUNK_BYTES", 64)
    nn._transposed_plan.cache_clear()
    before = fastdeconv.get_num_threads()
    fastdeconv.set_num_threads(2)
    try:
        rng = np.random.default_rng(3)
        x = rng.standard_normal((2, 4, 5, 6))
        x[0, 1, 2, 3] = np.inf
        x[1, 2, 0, 0] = 0.0
        w = rng.standard_normal((4, 3, 3, 4))
        w[1, 0, 2, 1] = np.inf
        w[2, 2, 0, 0] = -np.inf
        w[3, 1, 1, 3] = np.nan
        keep = x.copy(), w.copy()
        got = nn.conv_transpose2d(x, w, None, (2, 3), (1, 0), (1, 2), 2, (1, 2),
                                  backend=backend)
        np.testing.assert_array_equal(x, keep[0])
        np.testing.assert_array_equal(w, keep[1])
    finally:
        fastdeconv.set_num_threads(before)
        nn._transposed_plan.cache_clear()
    expected = torch.nn.functional.conv_transpose2d(
        _t(torch, x), _t(torch, w), None, (2, 3), (1, 0), (1, 2), 2, (1, 2)).numpy()
    for mask in (np.isnan, np.isposinf, np.isneginf):
        np.testing.assert_array_equal(mask(got), mask(expected))
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- zero sizes

def _outcome(call):
    try:
        return call()
    except (RuntimeError, IndexError, ValueError) as exc:
        return exc


@pytest.mark.parametrize("nsp", [1, 2, 3])
@pytest.mark.parametrize("transposed", [False, True], ids=["conv", "conv_transpose"])
def test_zero_sizes_match_torch(torch, transposed, nsp):
    # Batch, input channels, output channels and spatial size 0 or not, with and
    # without padding (2: conv_transpose output sizes 0 and -1) and groups: the shape
    # PyTorch returns (values too), or a ValueError where PyTorch raises.
    name = f"conv_transpose{nsp}d" if transposed else f"conv{nsp}d"
    tf, ff = getattr(torch.nn.functional, name), getattr(nn, name)
    cases = 0
    for n, c, co, s, k, p, g, unbatched in itertools.product(
            (0, 2), (0, 2), (0, 2), (0, 3), (1, 2), (0, 1, 2), (1, 2), (False, True)):
        if unbatched and n == 0:
            continue
        if transposed:
            wshape = (c, co // g if g <= co else co) + (k,) * nsp
            cout = wshape[1] * g
        else:
            wshape = (co, c // g if g <= c else c) + (k,) * nsp
            cout = co
        x = np.ones(((n,) if not unbatched else ()) + (c,) + (s,) * nsp)
        w = np.ones(wshape)
        b = np.arange(1.0, cout + 1)
        args = (1, p, 0, g) if transposed else (1, p, 1, g)
        expected = _outcome(lambda: tf(_t(torch, x), _t(torch, w), _t(torch, b), *args))
        where = f"{name} x {x.shape} w {wshape} padding={p} groups={g}"
        for backend in BACKENDS:
            if isinstance(expected, Exception):
                with pytest.raises(ValueError):
                    ff(x, w, b, *args, backend=backend)
                continue
            got = ff(x, w, b, *args, backend=backend)
            assert got.shape == tuple(expected.shape), where
            np.testing.assert_array_equal(got, expected.numpy(), err_msg=where)
        cases += 1
    assert cases == 288  # the grid above, without its unbatched empty batches


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_size_messages(backend):
    # The issue's cases, with the message each gives.
    got = nn.conv2d(np.ones((2, 0, 8, 8)), np.ones((6, 0, 3, 3)), backend=backend)
    assert got.shape == (2, 0, 6, 6)  # no input channels: no output channels (torch)
    with pytest.raises(ValueError, match="at least one output channel per group"):
        nn.conv_transpose2d(np.ones((2, 4, 8, 8)), np.ones((4, 0, 3, 3)),
                            backend=backend)
    with pytest.raises(ValueError, match="at least one input channel"):
        nn.conv_transpose2d(np.ones((2, 0, 8, 8)), np.ones((0, 3, 3, 3)),
                            backend=backend)
    with pytest.raises(ValueError, match=re.escape("spatial axis (spatial size 0)")):
        nn.conv1d(np.ones((1, 2, 0)), np.ones((3, 2, 1)), padding=1, backend=backend)
    with pytest.raises(ValueError, match="padding_mode='reflect' cannot extend an empty"):
        nn.conv1d(np.ones((0, 2, 0)), np.ones((3, 2, 1)), padding=1,
                  padding_mode="reflect", backend=backend)
    # An output size of 0: an empty output for an empty batch, else an error (torch's
    # float64 kernels; its oneDNN float32 path returns an empty output for some
    # shapes); a negative size is always an error.
    got = nn.conv_transpose1d(np.ones((0, 2, 1)), np.ones((2, 3, 1)), stride=2,
                              padding=1, output_padding=1, backend=backend)
    assert got.shape == (0, 3, 0)
    with pytest.raises(ValueError, match=r"too small: padding=\(1,\) crops all of"):
        nn.conv_transpose1d(np.ones((2, 2, 1)), np.ones((2, 3, 1)), stride=2,
                            padding=1, output_padding=1, backend=backend)
    with pytest.raises(ValueError, match=r"too small: padding=\(3,\) crops more than"):
        nn.conv_transpose1d(np.ones((0, 2, 3)), np.ones((2, 3, 1)), padding=3,
                            backend=backend)
