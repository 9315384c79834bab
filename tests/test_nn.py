"""Tests of ``fastdeconv.nn`` (PyTorch-semantics conv and conv_transpose).

The ladder (ARCHITECTURE.md, "Tests"): (a) the compiled kernels against the reference
kernels, and every backend against ``backend='python'`` (PyTorch's definitions written
as naive loops) on tiny problems; (b) ``torch.nn.functional`` on many shapes, strides,
paddings, output paddings, dilations and groups; (c) the adjoint identity as a
hypothesis property; (d) dtypes, layouts and untouched inputs; (e) a table of invalid
arguments.
"""
import doctest
import re
import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import fastdeconv
from fastdeconv import _backends, nn

from .conftest import assert_close, assert_kernel_contract

COMPILED = [b for b in fastdeconv.backends() if b != "python"]


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(params=COMPILED)
def compiled(request):
    return request.param


@pytest.fixture
def small_work(monkeypatch):
    """Run the threaded kernels with 2 threads and many small work items."""
    monkeypatch.setattr(nn, "PARALLEL_MIN_WORK", 0)
    monkeypatch.setattr(nn, "PACK_PARALLEL_MIN", 0)
    monkeypatch.setattr(nn, "CHUNK_BYTES", 64)
    nn._conv_plan.cache_clear()
    nn._transposed_plan.cache_clear()
    before = fastdeconv.get_num_threads()
    fastdeconv.set_num_threads(2)
    yield
    fastdeconv.set_num_threads(before)
    nn._conv_plan.cache_clear()
    nn._transposed_plan.cache_clear()


def _data(shape_x, shape_w, cout, dtype, seed=0, bias=True):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape_x).astype(dtype)
    w = rng.standard_normal(shape_w).astype(dtype)
    b = rng.standard_normal(cout).astype(dtype) if bias else None
    return x, w, b


# (spatial rank, N or None for unbatched, C_in, C_out, size, kernel, stride, padding,
#  dilation, groups)
CONV_CASES = [
    (1, 2, 3, 4, (17,), (3,), 1, 0, 1, 1),
    (1, 1, 4, 6, (20,), (5,), 2, 2, 1, 2),
    (1, 3, 2, 2, (9,), (4,), 3, 1, 2, 1),
    (1, 1, 1, 1, (5,), (5,), 1, 0, 1, 1),                    # kernel as large as x
    (1, None, 3, 2, (12,), (3,), 2, 1, 1, 1),                # unbatched
    (2, 2, 3, 4, (9, 11), (3, 3), 1, 1, 1, 1),
    (2, 1, 4, 4, (10, 9), (3, 2), (2, 1), (1, 0), (1, 2), 2),
    (2, 2, 6, 6, (8, 8), (3, 3), 2, 1, 1, 6),                # depthwise
    (2, 1, 2, 3, (7, 12), (4, 4), 2, 1, 1, 1),               # even kernel, stride 2
    (2, 1, 3, 2, (16, 16), (1, 1), 3, 0, 1, 1),              # 1x1, stride 3
    (2, 1, 2, 2, (11, 13), (3, 5), (3, 2), (2, 0), (2, 1), 1),
    (2, 1, 2, 5, (6, 6), (3, 3), 1, "same", 1, 1),
    (2, 1, 2, 3, (7, 6), (4, 2), 1, "same", (1, 2), 1),      # even kernel 'same'
    (2, 1, 2, 3, (7, 6), (3, 3), 1, "valid", 1, 1),
    (2, None, 4, 6, (9, 8), (3, 3), 2, 1, 1, 2),             # unbatched, groups
    (2, 2, 16, 7, (21, 19), (3, 3), 2, 1, 1, 1),             # odd C_out, many terms
    (2, 1, 8, 8, (33, 31), (4, 4), 2, 1, 1, 1),
    (3, 1, 2, 3, (5, 6, 7), (3, 3, 3), 1, 1, 1, 1),
    (3, 2, 4, 2, (6, 7, 5), (2, 3, 2), (2, 1, 2), (1, 0, 1), 1, 2),
    (3, 1, 2, 2, (7, 7, 7), (3, 2, 3), 2, 0, (2, 1, 1), 1),
    (3, None, 2, 3, (4, 5, 6), (1, 2, 3), 1, "same", 1, 1),
]

# (spatial rank, N, C_in, C_out, size, kernel, stride, padding, output_padding,
#  dilation, groups)
CONVT_CASES = [
    (1, 2, 3, 4, (7,), (3,), 1, 0, 0, 1, 1),
    (1, 1, 4, 6, (8,), (4,), 2, 1, 1, 1, 2),
    (1, 2, 2, 3, (5,), (3,), 3, 2, 2, 2, 1),
    (1, None, 3, 2, (6,), (5,), 2, 0, 1, 1, 1),              # unbatched
    (1, 1, 2, 2, (4,), (2,), 1, 0, 1, 2, 1),                 # output_padding < dilation
    (2, 2, 3, 4, (6, 7), (3, 3), 1, 1, 0, 1, 1),
    (2, 1, 4, 4, (5, 6), (3, 2), (2, 1), (1, 0), (1, 0), (1, 2), 2),
    (2, 1, 16, 8, (12, 12), (3, 3), 2, 1, 1, 1, 1),          # the benchmark's layer
    (2, 2, 8, 5, (9, 8), (4, 4), 2, 1, 0, 1, 1),             # DCGAN layer, odd C_out
    (2, 1, 6, 6, (5, 5), (3, 3), 2, 0, 1, 1, 6),             # depthwise
    (2, 1, 2, 3, (4, 5), (5, 3), (3, 2), (4, 1), (2, 1), (2, 1), 1),
    (2, 1, 2, 2, (3, 3), (1, 1), 3, 0, 2, 1, 1),             # 1x1: holes in the output
    (2, 1, 2, 2, (4, 4), (2, 2), 4, 0, 0, 1, 1),             # stride > kernel
    (2, 1, 3, 2, (6, 5), (3, 3), 2, 3, 0, 1, 1),             # padding crops taps away
    (2, None, 4, 4, (5, 6), (3, 3), 2, 1, 1, 1, 2),          # unbatched, groups
    (3, 1, 2, 3, (3, 4, 5), (3, 3, 3), 1, 1, 0, 1, 1),
    (3, 2, 4, 2, (4, 3, 5), (2, 3, 2), (2, 1, 2), (1, 0, 0), (1, 0, 1), 1, 2),
    (3, 1, 2, 2, (3, 4, 3), (3, 2, 3), 2, 0, 1, (2, 1, 1), 1),
]


def _torch_conv(torch, nsp, x, w, b, stride, padding, dilation, groups):
    """PyTorch's result in float64."""
    f = getattr(torch.nn.functional, f"conv{nsp}d")
    t = lambda a: None if a is None else torch.from_numpy(np.asarray(a, np.float64))
    with warnings.catch_warnings():
        # 'same' with an even kernel: torch warns that it pads a copy (as we do).
        warnings.filterwarnings("ignore", "Using padding='same'", UserWarning)
        return f(t(x), t(w), t(b), stride, padding, dilation, groups).numpy()


def _torch_convt(torch, nsp, x, w, b, stride, padding, output_padding, dilation, groups):
    f = getattr(torch.nn.functional, f"conv_transpose{nsp}d")
    t = lambda a: None if a is None else torch.from_numpy(np.asarray(a, np.float64))
    return f(t(x), t(w), t(b), stride, padding, output_padding, groups, dilation).numpy()


# --------------------------------------------------------------------------- (b) torch

@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CONV_CASES, ids=lambda c: f"{c[0]}d-{c[4]}-k{c[5]}")
def test_conv_matches_torch(torch, compiled, case, dtype):
    nsp, n, cin, cout, size, k, stride, padding, dilation, groups = case
    xshape = ((n,) if n else ()) + (cin,) + size
    x, w, b = _data(xshape, (cout, cin // groups) + k, cout, dtype, bias=cout % 2 == 0)
    expected = _torch_conv(torch, nsp, x, w, b, stride, padding, dilation, groups)
    got = getattr(nn, f"conv{nsp}d")(x, w, b, stride, padding, dilation, groups,
                                     backend=compiled)
    assert_close(got, expected.astype(dtype))
    assert_close(nn.conv(x, w, b, stride, padding, dilation, groups, backend=compiled),
                 got, rtol=0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CONVT_CASES, ids=lambda c: f"{c[0]}d-{c[4]}-k{c[5]}")
def test_conv_transpose_matches_torch(torch, compiled, case, dtype):
    nsp, n, cin, cout, size, k, stride, padding, opad, dilation, groups = case
    xshape = ((n,) if n else ()) + (cin,) + size
    x, w, b = _data(xshape, (cin, cout // groups) + k, cout, dtype, bias=cout % 2 == 1)
    expected = _torch_convt(torch, nsp, x, w, b, stride, padding, opad, dilation, groups)
    got = getattr(nn, f"conv_transpose{nsp}d")(x, w, b, stride, padding, opad, groups,
                                               dilation, backend=compiled)
    assert_close(got, expected.astype(dtype))
    assert_close(nn.conv_transpose(x, w, b, stride, padding, opad, groups, dilation,
                                   backend=compiled), got, rtol=0)


@pytest.mark.parametrize("mode, torch_mode", [("reflect", "reflect"),
                                              ("replicate", "replicate"),
                                              ("circular", "circular"),
                                              ("wrap", "circular")])
@pytest.mark.parametrize("nsp, padding, stride", [(1, 2, 2), (2, (1, 2), 1),
                                                  (2, "same", 1), (3, 1, (2, 1, 1))])
def test_padding_mode_matches_torch(torch, compiled, mode, torch_mode, nsp, padding,
                                    stride):
    # torch.nn.ConvNd(padding_mode=...) pads with F.pad, then convolves unpadded.
    size, k = (7, 8, 6)[:nsp], (3, 4, 3)[:nsp]
    x, w, b = _data((2, 3) + size, (4, 3) + k, 4, np.float64)
    conv = getattr(torch.nn, f"Conv{nsp}d")(3, 4, k, stride=stride, padding=padding,
                                           padding_mode=torch_mode, dtype=torch.float64)
    with torch.no_grad():
        conv.weight.copy_(torch.from_numpy(w))
        conv.bias.copy_(torch.from_numpy(b))
        expected = conv(torch.from_numpy(x)).numpy()
    got = nn.conv(x, w, b, stride, padding, padding_mode=mode, backend=compiled)
    assert_close(got, expected)


def test_padding_mode_zeros_is_default(compiled):
    x, w, b = _data((1, 2, 6, 6), (3, 2, 3, 3), 3, np.float64)
    assert_close(nn.conv2d(x, w, b, padding=1, padding_mode="zeros", backend=compiled),
                 nn.conv2d(x, w, b, padding=1, backend=compiled), rtol=0)


# --------------------------------------------------------------------------- (a) reference

TINY_CONV = [
    # size, kernel, stride, padding, dilation, groups, C_in, C_out
    ((6,), (3,), 2, 1, 1, 1, 2, 3),
    ((5, 6), (3, 2), (2, 1), (1, 0), (1, 2), 1, 2, 3),
    ((5, 5), (2, 2), 2, 0, 1, 2, 4, 2),
    ((4, 5, 4), (2, 3, 2), (1, 2, 2), (1, 1, 0), (2, 1, 1), 1, 1, 3),
]
TINY_CONVT = [
    # size, kernel, stride, padding, output_padding, dilation, groups, C_in, C_out
    ((4,), (3,), 2, 1, 1, 1, 1, 2, 3),
    ((3, 4), (3, 2), (2, 3), (1, 0), (1, 2), (1, 2), 1, 2, 3),
    ((3, 3), (4, 4), 2, 1, 0, 1, 2, 4, 2),
    ((2, 3, 3), (2, 3, 2), (2, 1, 2), (0, 1, 1), (1, 0, 0), (1, 1, 2), 1, 1, 3),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", TINY_CONV, ids=str)
def test_conv_backends_match_reference(backend, case, dtype):
    size, k, stride, padding, dilation, groups, cin, cout = case
    x, w, b = _data((2, cin) + size, (cout, cin // groups) + k, cout, dtype, seed=1)
    expected = nn.conv(x, w, b, stride, padding, dilation, groups, backend="python")
    assert expected.dtype == dtype
    assert_close(nn.conv(x, w, b, stride, padding, dilation, groups, backend=backend),
                 expected)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", TINY_CONVT, ids=str)
def test_conv_transpose_backends_match_reference(backend, case, dtype):
    size, k, stride, padding, opad, dilation, groups, cin, cout = case
    x, w, b = _data((2, cin) + size, (cin, cout // groups) + k, cout, dtype, seed=2)
    expected = nn.conv_transpose(x, w, b, stride, padding, opad, groups, dilation,
                                 backend="python")
    assert_close(nn.conv_transpose(x, w, b, stride, padding, opad, groups, dilation,
                                   backend=backend), expected)


@pytest.mark.parametrize("op", ["conv", "conv_transpose"])
def test_threaded_small_blocks_match_reference(compiled, small_work, op):
    # Tiny row blocks: many work items per phase, blocks that end inside a depth
    # slice, the threaded kernels and the threaded packing.
    if op == "conv":
        x, w, b = _data((2, 3, 5, 7, 9), (5, 3, 3, 2, 3), 5, np.float64, seed=3)
        args = ((2, 1, 2), (1, 2, 0), (1, 1, 2), 1)
        f = nn.conv
    else:
        x, w, b = _data((2, 3, 4, 5, 6), (3, 5, 3, 2, 3), 5, np.float64, seed=3)
        args = ((2, 1, 2), (1, 0, 1), (1, 0, 1), 1, (1, 2, 1))
        f = nn.conv_transpose
    assert_close(f(x, w, b, *args, backend=compiled), f(x, w, b, *args, backend="python"))


@pytest.mark.parametrize("small", [False, True])
def test_conv_transpose_phase_without_taps(compiled, small, request):
    # Regression: a phase (output residue) that no tap reaches, here H (input 1 row,
    # stride 2, padding 1, dilation 2), had more positions (2) than the padded input
    # had rows (1): the kernel's row decoding wrote past ``out`` (heap corruption).
    if small:
        request.getfixturevalue("small_work")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 1, 6, 3, 4))
    w = rng.standard_normal((1, 1, 3, 3, 2))
    args = ((1, 2, 3), (0, 1, 2), (2, 2, 2), 1)
    yc = nn.conv(x, w, None, *args, backend=compiled)
    assert_close(yc, nn.conv(x, w, None, *args, backend="python"))
    y = rng.standard_normal(yc.shape)
    targs = ((1, 2, 3), (0, 1, 2), (0, 0, 2), 1, (2, 2, 2))
    xt = nn.conv_transpose(y, w, None, *targs, backend=compiled)
    assert xt.shape == x.shape
    assert_close(xt, nn.conv_transpose(y, w, None, *targs, backend="python"))
    # More tapless phases: output_padding beyond the taps' reach, on every axis.
    x2, w2, b2 = _data((1, 2, 1, 1, 2), (2, 3, 1, 2, 1), 3, np.float64, seed=4)
    targs2 = ((3, 3, 3), (0, 0, 0), (2, 2, 2), 1, (1, 2, 1))
    assert_close(nn.conv_transpose(x2, w2, b2, *targs2, backend=compiled),
                 nn.conv_transpose(x2, w2, b2, *targs2, backend="python"))


def _plan_arrays(op, dtype):
    """Kernel arguments of a small 3-D problem, through the public planning code."""
    rng = np.random.default_rng(4)
    if op == "conv":
        x = rng.standard_normal((2, 4, 4, 6, 7)).astype(dtype)
        w5 = rng.standard_normal((4, 2, 2, 3, 2)).astype(dtype)
        oshape, pack, size, offsets, rest = nn._conv_plan(
            x.shape, w5.shape, 2, (1, 2, 2), (1, 1, 0), (0, 1, 0), (2, 1, 1), x.itemsize, 2)
        weights = w5
        cout = 4
    else:
        x = rng.standard_normal((2, 4, 3, 4, 5)).astype(dtype)
        w5 = rng.standard_normal((4, 3, 2, 3, 3)).astype(dtype)
        oshape, pack, size, offsets, gather, covered, rest = nn._transposed_plan(
            x.shape, w5.shape, 2, (2, 1, 2), (0, 1, 1), (1, 0, 1), (1, 1, 2), x.itemsize, 2)
        weights = nn._transposed_weights(w5, 2, gather)
        cout = 6
    term_ptr, geom, chunk_ptr, dims, _ = rest
    bias = rng.standard_normal(cout).astype(dtype)
    return x, pack, size, offsets, term_ptr, weights.reshape(-1), bias, geom, chunk_ptr, \
        dims, (x.shape[0], cout) + oshape


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("op", ["conv", "conv_transpose"])
@pytest.mark.parametrize("parallel", [False, True])
def test_kernels_match_reference_kernels(compiled, op, dtype, parallel):
    x, pack, size, offsets, term_ptr, weights, bias, geom, chunk_ptr, dims, oshape = \
        _plan_arrays(op, dtype)
    ref = _backends.kernel_module("python", "transposed")
    mod = _backends.kernel_module(compiled, "transposed")
    suffix = "_parallel" if parallel else ""
    if compiled == "cython":
        mod.set_num_threads(2)
    buffers = []
    for m in (ref, mod):
        xb = np.full(size + nn.SLACK, np.nan, dtype)
        xb[size:] = 0
        getattr(m, "phase_pack" + suffix)(x.reshape(-1), pack, xb)
        out = np.full(int(np.prod(oshape)), np.nan, dtype)
        assert_kernel_contract(xb, offsets, term_ptr, weights, bias, geom, chunk_ptr, dims,
                               out)
        getattr(m, "phase_correlate" + suffix)(xb, offsets, term_ptr, weights, bias, geom,
                                               chunk_ptr, dims, out)
        buffers.append((xb, out))
    assert_close(buffers[1][0], buffers[0][0], rtol=0)  # packing is a copy
    # Every phase position is written once (the rest, residues no tap reaches, is the
    # caller's: it writes the bias there).
    g6 = geom.reshape(-1, 6)
    positions = int((g6[:, 0] * g6[:, 1] * g6[:, 2]).sum()) * oshape[0] * oshape[1]
    assert np.count_nonzero(~np.isnan(buffers[1][1])) == positions
    if op == "conv":
        assert positions == buffers[1][1].size, "an output element was not written"
    assert_close(buffers[1][1], buffers[0][1])


def test_reference_definitions_tiny_by_hand():
    # conv1d of [1, 2, 3, 4] with [1, -1], stride 2, padding 1 and bias 10: outputs at
    # padded positions 0, 2, 4 -> (0-1), (2-3), (4-0) plus 10.
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]])
    out = nn.conv1d(x, np.array([[[1.0, -1.0]]]), np.array([10.0]), 2, 1, backend="python")
    assert_close(out, np.array([[[9.0, 9.0, 14.0]]]))
    # conv_transpose1d scatters each sample times the kernel, every 2nd position.
    out = nn.conv_transpose1d(np.array([[[1.0, 2.0]]]), np.array([[[1.0, 10.0, 100.0]]]),
                              stride=2, backend="python")
    assert_close(out, np.array([[[1.0, 10.0, 102.0, 20.0, 200.0]]]))


# --------------------------------------------------------------------------- (c) adjoint

@st.composite
def adjoint_problems(draw):
    nsp = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 2))
    cig, cog = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    ks = tuple(draw(st.integers(1, 3)) for _ in range(nsp))
    stride = tuple(draw(st.integers(1, 3)) for _ in range(nsp))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(nsp))
    padding = tuple(draw(st.integers(0, 2)) for _ in range(nsp))
    size = []
    for k, d, p in zip(ks, dilation, padding):
        lowest = max(1, d * (k - 1) + 1 - 2 * p)
        size.append(draw(st.integers(lowest, lowest + (7 if nsp < 3 else 3))))
    n = draw(st.integers(1, 2))
    seed = draw(st.integers(0, 2**32 - 1))
    return nsp, groups, cig, cog, ks, stride, dilation, padding, tuple(size), n, seed


@given(adjoint_problems())
def test_conv_transpose_is_adjoint_of_conv(backend, problem):
    nsp, groups, cig, cog, ks, stride, dilation, padding, size, n, seed = problem
    if backend == "python" and np.prod(size) * cig * cog * groups ** 2 * n > 600:
        return  # the naive reference is for tiny sizes only
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, groups * cig) + size)
    w = rng.standard_normal((groups * cog, cig) + ks)
    y_conv = nn.conv(x, w, None, stride, padding, dilation, groups, backend=backend)
    y = rng.standard_normal(y_conv.shape)
    # The output_padding that gives conv_transpose the shape of x.
    opad = tuple(s_in - ((o - 1) * s - 2 * p + d * (k - 1) + 1) for s_in, o, s, p, d, k in
                 zip(size, y.shape[2:], stride, padding, dilation, ks))
    x_adj = nn.conv_transpose(y, w, None, stride, padding, opad, groups, dilation,
                              backend=backend)
    assert x_adj.shape == x.shape
    lhs = float(np.vdot(y_conv, y))
    rhs = float(np.vdot(x, x_adj))
    scale = float(np.abs(y_conv).ravel() @ np.abs(y).ravel()) + 1.0
    assert abs(lhs - rhs) <= 1e-12 * scale * 100, (lhs, rhs)


# --------------------------------------------------------------------------- (d) dtypes

@pytest.mark.parametrize("xd, wd, expected", [
    ("float32", "float32", "float32"),
    ("float32", "float64", "float64"),
    ("float64", "float32", "float64"),
    ("float16", "float32", "float32"),
    ("int16", "float32", "float32"),
    ("int64", "int64", "float64"),
    ("bool", "float32", "float32"),
])
@pytest.mark.parametrize("op", ["conv", "conv_transpose"])
def test_result_dtype(compiled, xd, wd, expected, op):
    rng = np.random.default_rng(5)
    x = rng.integers(0, 3, (1, 2, 6, 5)).astype(xd)
    w = rng.integers(-2, 3, (2, 2, 3, 3)).astype(wd)
    f = getattr(nn, op)
    got = f(x, w, backend=compiled)
    assert got.dtype == expected
    ref = f(x.astype(np.float64), w.astype(np.float64), backend=compiled)
    assert_close(got, ref.astype(expected))


def test_float64_bias_promotes(compiled):
    x, w, _ = _data((1, 2, 5, 5), (3, 2, 3, 3), 3, np.float32)
    got = nn.conv2d(x, w, np.ones(3), backend=compiled)
    assert got.dtype == np.float64
    assert_close(got, nn.conv2d(x.astype(float), w.astype(float), np.ones(3),
                                backend=compiled))


@pytest.mark.parametrize("op", ["conv", "conv_transpose"])
def test_inputs_untouched_any_layout(compiled, op):
    x, w, b = _data((2, 4, 9, 8), (4, 2, 3, 3), 4, np.float64, seed=6)
    expected = getattr(nn, op)(x, w, b, 2, 1, groups=2, backend=compiled)
    # Read-only, big-endian, non-contiguous (transposed, strided) copies of the same data.
    xs = [x.copy(), x.astype(">f8"), np.asfortranarray(x),
          np.repeat(x, 2, axis=-1)[..., ::2]]
    ws = [w.copy(), w.astype(">f8"), np.asfortranarray(w), np.repeat(w, 3, 0)[::3]]
    for xi, wi in zip(xs, ws):
        for a in (xi, wi):
            a.flags.writeable = False
        keep = (xi.copy(), wi.copy(), b.copy())
        got = getattr(nn, op)(xi, wi, b, 2, 1, groups=2, backend=compiled)
        assert_close(got, expected, rtol=0)
        for a, k in zip((xi, wi, b), keep):
            np.testing.assert_array_equal(a, k)


def test_lists_and_nan(compiled):
    out = nn.conv1d([[[1.0, 2.0, np.nan, 4.0]]], [[[1.0, 1.0]]], backend=compiled)
    np.testing.assert_array_equal(np.isnan(out), [[[False, True, True]]])
    assert out[0, 0, 0] == 3.0


def test_empty_batch_and_zero_channels(backend):
    # PyTorch's rules (tests/test_nn_edge_cases.py checks the whole grid against torch).
    # An empty batch gives an empty batch.
    x, w, b = _data((0, 3, 6, 6), (4, 3, 3, 3), 4, np.float32)
    assert nn.conv2d(x, w, b, backend=backend).shape == (0, 4, 4, 4)
    assert nn.conv_transpose2d(x, np.ones((3, 2, 3, 3), np.float32),
                               backend=backend).shape == (0, 2, 8, 8)
    # No input channels: conv gives no output channels, whatever C_out and the bias.
    got = nn.conv2d(np.ones((1, 0, 5, 5)), np.ones((2, 0, 3, 3)), np.array([1.0, 2.0]),
                    backend=backend)
    assert got.shape == (1, 0, 3, 3) and got.dtype == np.float64
    # ... and conv_transpose refuses them, as it does a weight without output channels.
    with pytest.raises(ValueError, match="at least one input channel"):
        nn.conv_transpose1d(np.ones((1, 0, 4)), np.ones((0, 2, 3)), backend=backend)
    with pytest.raises(ValueError, match="at least one output channel per group"):
        nn.conv_transpose1d(np.ones((0, 2, 4)), np.ones((2, 0, 3)), backend=backend)
    # An empty signal with a batch and channels is refused, padding or not.
    with pytest.raises(ValueError, match="empty spatial axis"):
        nn.conv1d(np.ones((1, 2, 0)), np.ones((3, 2, 1)), np.arange(3.0), padding=1,
                  backend=backend)
    with pytest.raises(ValueError, match="empty spatial axis"):
        nn.conv_transpose1d(np.ones((1, 2, 0)), np.ones((2, 3, 2)), backend=backend)


def test_single_thread_equals_threaded(compiled):
    x, w, b = _data((4, 16, 24, 24), (16, 8, 4, 4), 8, np.float32, seed=7)
    before = fastdeconv.get_num_threads()
    try:
        fastdeconv.set_num_threads(1)
        one = nn.conv_transpose2d(x, w, b, 2, 1, backend=compiled)
        c1 = nn.conv2d(one, w, None, 2, 1, backend=compiled)
        fastdeconv.set_num_threads(2)
        two = nn.conv_transpose2d(x, w, b, 2, 1, backend=compiled)
        c2 = nn.conv2d(two, w, None, 2, 1, backend=compiled)
    finally:
        fastdeconv.set_num_threads(before)
    # Each output element is summed in the same order whatever the thread count.
    assert_close(two, one, rtol=0)
    assert_close(c2, c1, rtol=0)


def test_default_backend_and_context(compiled):
    x, w, b = _data((1, 2, 6, 6), (3, 2, 3, 3), 3, np.float64)
    with fastdeconv.set_backend(compiled):
        got = nn.conv2d(x, w, b)
    assert_close(got, nn.conv2d(x, w, b, backend="python"))


def test_docstring_examples():
    # The numpydoc examples are runnable and right.
    result = doctest.testmod(nn, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8
    assert result.failed == 0


# --------------------------------------------------------------------------- (e) errors

X2 = np.ones((1, 4, 6, 6))
W2 = np.ones((2, 4, 3, 3))
WT2 = np.ones((4, 2, 3, 3))

BAD = [
    # (function, args, kwargs, exception, message fragment)
    (nn.conv2d, (np.ones((6, 6)), W2), {}, ValueError, "x of conv2d must be 3-D"),
    (nn.conv2d, (np.ones((1, 1, 4, 6, 6)), W2), {}, ValueError, "x of conv2d must be"),
    (nn.conv2d, (X2, np.ones((2, 4, 3))), {}, ValueError, "weight of conv2d must have 4"),
    (nn.conv1d, (X2, W2), {}, ValueError, "weight of conv1d must have 3"),
    (nn.conv, (X2, np.ones((2, 4))), {}, ValueError, "weight must have 3, 4 or 5"),
    (nn.conv2d, (X2, np.ones((2, 3, 3, 3))), {}, ValueError, "expects x to have 3 channels"),
    (nn.conv2d, (X2, np.ones((3, 2, 3, 3))), {"groups": 2}, ValueError, "groups=2 must divide"),
    (nn.conv2d, (X2, np.ones((0, 4, 3, 3))), {}, ValueError, "at least one output channel"),
    (nn.conv2d, (X2, np.ones((2, 4, 0, 3))), {}, ValueError, "kernel size must be positive"),
    (nn.conv2d, (X2, W2, np.ones(3)), {}, ValueError, "bias must be 1-D with 2"),
    (nn.conv2d, (X2, W2, np.ones((2, 1))), {}, ValueError, "bias must be 1-D"),
    (nn.conv2d, (X2, W2), {"stride": 0}, ValueError, "stride must be positive"),
    (nn.conv2d, (X2, W2), {"stride": (1, 2, 3)}, ValueError,
     "stride must be an int or a tuple of 2"),
    (nn.conv2d, (X2, W2), {"stride": 1.5}, TypeError, "stride must be an int"),
    (nn.conv2d, (X2, W2), {"stride": (1, True)}, TypeError, "stride must be an int"),
    (nn.conv2d, (X2, W2), {"padding": -1}, ValueError, "padding must be non-negative"),
    (nn.conv2d, (X2, W2), {"padding": "full"}, ValueError, "padding must be an int, a tuple"),
    (nn.conv2d, (X2, W2), {"padding": "same", "stride": 2}, ValueError,
     "padding='same' is not supported for strided"),
    (nn.conv2d, (X2, W2), {"dilation": 0}, ValueError, "dilation must be positive"),
    (nn.conv2d, (X2, W2), {"groups": 0}, ValueError, "groups must be positive"),
    (nn.conv2d, (X2, W2), {"groups": 1.0}, TypeError, "groups must be an int"),
    (nn.conv2d, (X2, W2), {"padding_mode": "mirror"}, ValueError, "padding_mode must be one of"),
    (nn.conv2d, (X2, W2), {"backend": "fortran"}, ValueError, "backend must be one of"),
    (nn.conv2d, (X2, np.ones((2, 4, 7, 3))), {}, ValueError,
     "padded input size per channel (6 x 6) is smaller than the dilated kernel (7 x 3)"),
    (nn.conv2d, (X2, W2), {"dilation": 3}, ValueError, "smaller than the dilated kernel"),
    (nn.conv2d, (X2.astype(complex), W2), {}, TypeError, "complex"),
    (nn.conv2d, (X2.astype(object), W2), {}, TypeError, "x must hold numbers"),
    (nn.conv2d, (X2, W2.astype(str)), {}, TypeError, "weight must hold numbers"),
    (nn.conv2d, (X2, W2, np.array(["a", "b"])), {}, TypeError, "bias must hold numbers"),
    (nn.conv2d, (X2, W2, 1, 1, 0, 1, 1, "zeros"), {}, TypeError, "positional"),
    (nn.conv_transpose2d, (X2, np.ones((3, 2, 3, 3))), {}, ValueError,
     "expects x to have 3 channels"),
    (nn.conv_transpose2d, (X2, WT2), {"groups": 3}, ValueError, "groups=3 must divide"),
    (nn.conv_transpose2d, (X2, WT2), {"output_padding": 1}, ValueError,
     "output_padding must be smaller than either stride or dilation"),
    (nn.conv_transpose2d, (X2, WT2), {"stride": 2, "output_padding": (0, 2)}, ValueError,
     "output_padding must be smaller"),
    (nn.conv_transpose2d, (X2, WT2), {"output_padding": -1}, ValueError,
     "output_padding must be non-negative"),
    (nn.conv_transpose2d, (X2, WT2), {"padding": 5}, ValueError,
     "output size per channel (-2 x -2) computed from the input size (6 x 6)"),
    (nn.conv_transpose2d, (X2, WT2), {"padding": "same"}, TypeError,
     "padding of conv_transpose2d must be an int"),
    (nn.conv_transpose2d, (X2, WT2, np.ones(4)), {}, ValueError, "bias must be 1-D with 2"),
    (nn.conv_transpose3d, (X2, WT2), {}, ValueError, "weight of conv_transpose3d must have 5"),
    (nn.conv_transpose1d, (np.ones((4,)), np.ones((4, 2, 3))), {}, ValueError,
     "x of conv_transpose1d must be 2-D"),
]


@pytest.mark.parametrize("func, args, kwargs, exc, match", BAD,
                         ids=[f"{b[0].__name__}-{b[4][:30]}" for b in BAD])
def test_bad_input(func, args, kwargs, exc, match):
    with pytest.raises(exc, match=re.escape(match)):
        func(*args, **kwargs)
