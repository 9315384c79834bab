"""Streaming convolution and inverse filtering (API.md section 5, ``fastdeconv.stream``).

The oracle is the offline convolution ``convolve(signal, ir)[:len(signal)]`` computed in
double precision (``scipy.signal.fftconvolve``); the streamed output must match it to the
table of ``conftest.tolerances`` relative to its largest magnitude.  The ``'python'``
reference backend (naive loops, a textbook FFT) runs on small problems only.
"""
import doctest
import threading
import tracemalloc

import numpy as np
import pytest
import scipy.signal as ss

from fastdeconv import stream
from fastdeconv.kernels.reference import partitioned as layout
from fastdeconv.stream import StreamingConvolver, StreamingDeconvolver, inverse_filter_design

from .conftest import BACKENDS, assert_close

COMPILED = tuple(b for b in BACKENDS if b != "python")


def _signal(rng, channels, n):
    return rng.standard_normal((channels, n))


def _ir(rng, length, rows=None):
    shape = (length,) if rows is None else (rows, length)
    decay = np.exp(-np.arange(length) / max(1.0, length / 4))
    return rng.standard_normal(shape) * decay


def _offline(x, ir, dtype):
    """``convolve(x[c], ir[c])[:n]`` per channel, in float64 from ``dtype``-rounded inputs."""
    x = np.asarray(x, dtype).astype(np.float64)
    ir = np.asarray(ir, dtype).astype(np.float64)
    rows = ir if ir.ndim == 2 else np.broadcast_to(ir, (x.shape[0], ir.size))
    n = x.shape[1]
    return np.stack([ss.fftconvolve(x[c], rows[c])[:n] for c in range(x.shape[0])])


def _run(conv, x, *, mono_1d=True, out=True):
    """Stream ``x`` (channels, n) through ``conv`` block by block; return (channels, n)."""
    b = conv.block_size
    ch = x.shape[0]
    xd = np.asarray(x, conv.dtype)
    pieces = []
    buf = np.empty((b,) if (ch == 1 and mono_1d) else (ch, b), conv.dtype)
    for k in range(x.shape[1] // b):
        blk = np.ascontiguousarray(xd[:, k * b:(k + 1) * b])
        if ch == 1 and mono_1d:
            blk = blk[0]
        res = conv.process(blk, out=buf) if out else conv.process(blk)
        assert res.shape == blk.shape and res.dtype == conv.dtype
        pieces.append(np.array(res, copy=True).reshape(ch, b))
    return np.concatenate(pieces, axis=1)


def _length(ir_len, b, extra=300):
    n = ir_len + 2 * b + extra
    return max(3, -(-n // b)) * b


# ------------------------------------------------------------------ equals offline

# (IR taps, block size, partition, explicit partition sizes)
CASES = [
    (1, 1, "auto", None),
    (1, 4096, "auto", None),
    (7, 3, "uniform", None),
    (64, 64, "uniform", None),
    (333, 17, "nonuniform", None),
    (1000, 128, "uniform", None),
    (1000, 128, "nonuniform", None),
    (2000, 4096, "uniform", None),          # block longer than the response
    (2000, 4096, "nonuniform", None),
    (4800, 1, "nonuniform", None),
    (4800, 441, "uniform", None),
    (4800, 441, "nonuniform", None),
    (5000, 64, "nonuniform", (64, 256, 1024)),
    (5000, 37, "nonuniform", (16, 64, 512)),
    (48000, 128, "uniform", None),          # 1 s at 48 kHz
    (48000, 128, "nonuniform", None),
    (48000, 100, "auto", None),
    (48000, 4096, "nonuniform", None),
]


def _case_id(c):
    return f"L{c[0]}-B{c[1]}-{c[2]}" + ("-" + "x".join(map(str, c[3])) if c[3] else "")


@pytest.mark.parametrize("backend_name", COMPILED)
@pytest.mark.parametrize("length,block,partition,sizes", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_offline(backend_name, length, block, partition, sizes):
    rng = np.random.default_rng(length + block)
    ir = _ir(rng, length)
    conv = StreamingConvolver(ir, block, partition=partition, backend=backend_name,
                              partition_sizes=sizes)
    assert conv.latency == 0
    x = _signal(rng, 1, _length(length, block))
    assert_close(_run(conv, x), _offline(x, ir, np.float32).astype(np.float32))


PY_CASES = [(1, 1, "auto", None), (7, 3, "uniform", None), (40, 128, "auto", None),
            (60, 16, "uniform", None), (100, 33, "nonuniform", None),
            (150, 16, "nonuniform", (16, 32, 64))]


@pytest.mark.parametrize("length,block,partition,sizes", PY_CASES)
def test_reference_backend_matches_offline(length, block, partition, sizes):
    rng = np.random.default_rng(length)
    ir = _ir(rng, length)
    conv = StreamingConvolver(ir, block, partition=partition, backend="python",
                              partition_sizes=sizes)
    x = _signal(rng, 1, _length(length, block, extra=40))
    assert_close(_run(conv, x), _offline(x, ir, np.float32).astype(np.float32))


def test_backends_agree_on_the_plan(backend):
    # Same plan, same output (within round-off) on every backend, multi-segment plan.
    rng = np.random.default_rng(3)
    ir = _ir(rng, 300)
    conv = StreamingConvolver(ir, 20, partition_sizes=(16, 32, 64), backend=backend)
    assert conv.partition == "nonuniform" and len(conv.partitions) == 3
    x = _signal(rng, 1, 20 * 25)
    assert_close(_run(conv, x), _offline(x, ir, np.float32).astype(np.float32))


@pytest.mark.parametrize("backend_name", COMPILED)
@pytest.mark.parametrize("partition", ["uniform", "nonuniform"])
def test_channels_shared_and_per_channel(backend_name, partition):
    rng = np.random.default_rng(11)
    x = _signal(rng, 3, 64 * 60)
    shared = _ir(rng, 2500)
    conv = StreamingConvolver(shared, 64, channels=3, partition=partition, backend=backend_name)
    assert_close(_run(conv, x), _offline(x, shared, np.float32).astype(np.float32))
    rows = _ir(rng, 2500, rows=3)
    conv = StreamingConvolver(rows, 64, channels=3, partition=partition, backend=backend_name)
    assert_close(_run(conv, x), _offline(x, rows, np.float32).astype(np.float32))


def test_reference_backend_per_channel():
    rng = np.random.default_rng(12)
    rows = _ir(rng, 90, rows=2)
    x = _signal(rng, 2, 16 * 16)
    conv = StreamingConvolver(rows, 16, channels=2, partition_sizes=(16, 32), backend="python")
    assert_close(_run(conv, x), _offline(x, rows, np.float32).astype(np.float32))


@pytest.mark.parametrize("backend_name", COMPILED)
def test_mono_block_as_row_and_without_out(backend_name):
    rng = np.random.default_rng(5)
    ir = _ir(rng, 700)
    x = _signal(rng, 1, 50 * 40)
    expected = _offline(x, ir, np.float32).astype(np.float32)
    conv = StreamingConvolver(ir, 50, backend=backend_name)
    assert_close(_run(conv, x, mono_1d=False), expected)     # (1, B) blocks
    conv.reset()
    assert_close(_run(conv, x, out=False), expected)          # new output arrays
    conv.reset()
    # Any real numeric block is accepted (converted): float64, ints, lists.
    y = conv.process(list(np.zeros(50)))
    assert y.dtype == np.float32 and y.shape == (50,)


@pytest.mark.parametrize("backend_name", COMPILED)
def test_float64(backend_name):
    rng = np.random.default_rng(7)
    ir = _ir(rng, 6000)
    conv = StreamingConvolver(ir, 96, dtype="float64", backend=backend_name)
    x = _signal(rng, 1, _length(6000, 96))
    assert_close(_run(conv, x), _offline(x, ir, np.float64))


@pytest.mark.parametrize("backend_name", COMPILED)
def test_reset_restarts_from_silence(backend_name):
    rng = np.random.default_rng(8)
    ir = _ir(rng, 3000)
    conv = StreamingConvolver(ir, 64, partition="nonuniform", backend=backend_name)
    x = _signal(rng, 1, 64 * 70)
    first = _run(conv, x)
    _run(conv, _signal(rng, 1, 64 * 13))     # mid-frame of every partition size
    conv.reset()
    np.testing.assert_array_equal(_run(conv, x), first)


def test_auto_picks_by_length_and_block():
    short = StreamingConvolver(np.ones(8), 256)
    assert short.partition == "direct" and short.head_length == 8
    long = StreamingConvolver(np.ones(48000), 128)
    assert long.partition == "nonuniform" and long.latency == 0
    sizes = [p for p, _, _ in long.partitions]
    assert sizes == sorted(sizes) and sizes[0] == 128
    # partitions above the block start at least 2P into the response (work is spread)
    for p, _, first_tap in long.partitions[1:]:
        assert first_tap >= 2 * p - 128
    odd = StreamingConvolver(np.ones(5000), 100)
    assert odd.head_length > 0 and odd.latency == 0


# ------------------------------------------------------------------ real-time rules

def _progress(conv):
    """Estimated work done so far (the ops' cost units), summed over the segments."""
    ib = conv._ibuf
    total = 0
    for k in range(ib[layout.HDR_NSEG]):
        g = ib[layout.HDR_SEGS] + k * layout.SEG_SIZE
        ops = ib[g + layout.SEG_OPS]
        op = ib[g + layout.SEG_OP]
        done = (ib[ops + op * layout.OP_SIZE + layout.OP_CUM] if op < ib[g + layout.SEG_NOPS]
                else ib[g + layout.SEG_TOTAL])
        total += (ib[g + layout.SEG_J] - 1) * ib[g + layout.SEG_TOTAL] + done
    return total


@pytest.mark.parametrize("block", [64, 128, 256, 1024])
def test_work_is_spread_evenly(block):
    # Deterministic: the work each call runs (in the cost model's units), not wall time.
    ir = np.ones(3 * 48000)
    conv = StreamingConvolver(ir, block, backend=COMPILED[0] if COMPILED else "python")
    x = np.zeros(block, np.float32)
    out = np.empty_like(x)
    spent = []
    before = _progress(conv)
    for _ in range(int(2.5 * 48000) // block):
        conv.process(x, out)
        now = _progress(conv)
        spent.append(now - before)
        before = now
    spent = np.array(spent[len(spent) // 3:], float)   # after every segment has started
    assert spent.max() <= 3 * spent.mean(), (spent.max(), spent.mean())


@pytest.mark.parametrize("backend_name", COMPILED)
def test_process_allocates_nothing(backend_name):
    rng = np.random.default_rng(9)
    for channels in (1, 2):
        shape = (512,) if channels == 1 else (channels, 512)
        conv = StreamingConvolver(_ir(rng, 20000), 512, channels=channels,
                                  backend=backend_name)
        blocks = [rng.standard_normal(shape).astype(np.float32) for _ in range(8)]
        out = np.empty(shape, np.float32)
        for blk in blocks:
            conv.process(blk, out)
        run = blocks * 100
        tracemalloc.start()
        try:
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            for blk in run:
                conv.process(blk, out)
            current, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        # One block is 2 KiB per channel: any per-call array would show in the peak.
        assert peak - base < 1024, (backend_name, channels, peak - base)
        assert current - base < 1024


def test_numba_kernel_releases_the_gil_and_never_compiles_in_process():
    pytest.importorskip("numba")
    if "numba" not in BACKENDS:
        pytest.skip("numba backend not available")
    from fastdeconv.kernels.numba import partitioned as nk
    conv = StreamingConvolver(np.ones(100), 32, backend="numba")
    assert nk.process_block.targetoptions["nogil"] is True
    n_sigs = len(nk.process_block.signatures)
    ro = np.zeros(32, np.float32)
    ro.flags.writeable = False              # read-only input: same machine code
    conv.process(ro, np.empty(32, np.float32))
    assert len(nk.process_block.signatures) == n_sigs
    assert conv.latency == 0


@pytest.mark.parametrize("backend_name", COMPILED)
def test_threads_stream_independently(backend_name):
    rng = np.random.default_rng(13)
    irs = [_ir(rng, 4000) for _ in range(2)]
    xs = [_signal(rng, 1, 64 * 120) for _ in range(2)]
    convs = [StreamingConvolver(h, 64, backend=backend_name) for h in irs]
    results = [None, None]

    def work(i):
        results[i] = _run(convs[i], xs[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(2):
        assert_close(results[i], _offline(xs[i], irs[i], np.float32).astype(np.float32))


# ------------------------------------------------------------------ set_ir

def _crossfade_expected(x, irs, switches, b, dtype):
    """Output when ``set_ir(irs[k])`` is called before block ``switches[k - 1]``."""
    outs = [_offline(x, h, dtype) for h in irs]
    n = np.arange(b)
    ramp = 0.5 - 0.5 * np.cos(np.pi * (n + 0.5) / b)
    expected = outs[0].copy()
    for k, blk in enumerate(switches, start=1):
        s = slice(blk * b, (blk + 1) * b)
        expected[:, s] = (1 - ramp) * outs[k - 1][:, s] + ramp * outs[k][:, s]
        expected[:, (blk + 1) * b:] = outs[k][:, (blk + 1) * b:]
    return expected


def _run_switching(conv, x, irs, switches):
    b = conv.block_size
    pieces = []
    out = np.empty((x.shape[0], b), conv.dtype)
    todo = dict(zip(switches, irs[1:]))
    for k in range(x.shape[1] // b):
        if k in todo:
            conv.set_ir(todo[k])
        conv.process(np.ascontiguousarray(x[:, k * b:(k + 1) * b], conv.dtype), out)
        pieces.append(out.copy())
    return np.concatenate(pieces, axis=1)


@pytest.mark.parametrize("backend_name", COMPILED)
@pytest.mark.parametrize("block,sizes", [(32, (32, 128, 512)), (24, (16, 64, 256)),
                                         (64, None)])
def test_set_ir_crossfades_without_a_jump(backend_name, block, sizes):
    rng = np.random.default_rng(21)
    irs = [_ir(rng, 3000), _ir(rng, 3000), 0.5 * _ir(rng, 1200), _ir(rng, 3000),
           _ir(rng, 2000)]
    # switch at several phases of the large partitions' frames (work in flight)
    switches = [7, 40, 41, 75]
    x = _signal(rng, 2, block * 110)
    conv = StreamingConvolver(irs[0], block, channels=2, partition_sizes=sizes,
                              backend=backend_name)
    got = _run_switching(conv, x, irs, switches)
    expected = _crossfade_expected(x, irs, switches, block, np.float32)
    assert_close(got, expected.astype(np.float32))


def test_set_ir_reference_backend():
    rng = np.random.default_rng(22)
    irs = [_ir(rng, 200), _ir(rng, 200), _ir(rng, 150)]
    switches = [5, 11]
    x = _signal(rng, 1, 16 * 18)
    conv = StreamingConvolver(irs[0], 16, partition_sizes=(16, 32, 64), backend="python")
    got = _run_switching(conv, x, irs, switches)
    expected = _crossfade_expected(x, irs, switches, 16, np.float32)
    assert_close(got, expected.astype(np.float32))


def test_set_ir_checks_and_reset_applies_at_once():
    rng = np.random.default_rng(23)
    conv = StreamingConvolver(_ir(rng, 500), 64, max_ir_length=800)
    with pytest.raises(ValueError, match="max_ir_length"):
        conv.set_ir(np.ones(801))
    with pytest.raises(ValueError, match="per channel|rows"):
        conv.set_ir(np.ones((2, 100)))
    with pytest.raises(ValueError, match="NaN"):
        conv.set_ir([1.0, np.nan])
    new = _ir(rng, 800)
    conv.set_ir(new)
    conv.reset()                              # pending switch applies without a fade
    x = _signal(rng, 1, 64 * 20)
    assert_close(_run(conv, x), _offline(x, new, np.float32).astype(np.float32))


# ------------------------------------------------------------------ bad input

def test_bad_arguments_are_refused():
    ir = np.ones(10)
    cases = [
        (lambda: StreamingConvolver([], 64), ValueError, "ir must not be empty"),
        (lambda: StreamingConvolver(np.ones((1, 0)), 64), ValueError, "ir must not be empty"),
        (lambda: StreamingConvolver([1.0, np.inf], 64), ValueError, "NaN or Inf"),
        (lambda: StreamingConvolver([1.0, np.nan], 64), ValueError, "NaN or Inf"),
        (lambda: StreamingConvolver([1 + 1j], 64), TypeError, "ir must be real"),
        (lambda: StreamingConvolver(["a"], 64), TypeError, "ir must hold numbers"),
        (lambda: StreamingConvolver(np.ones((2, 2, 2)), 64), ValueError, "shape"),
        (lambda: StreamingConvolver(ir, 0), ValueError, "block_size must be at least 1"),
        (lambda: StreamingConvolver(ir, 2.5), TypeError, "block_size must be an int"),
        (lambda: StreamingConvolver(ir, 64, channels=0), ValueError, "channels"),
        (lambda: StreamingConvolver(np.ones((3, 10)), 64, channels=2), ValueError,
         "one per channel"),
        (lambda: StreamingConvolver(ir, 64, dtype="int16"), TypeError, "dtype"),
        (lambda: StreamingConvolver(ir, 64, partition="fast"), ValueError, "partition"),
        (lambda: StreamingConvolver(ir, 64, backend="fortran"), ValueError, "backend"),
        (lambda: StreamingConvolver(ir, 64, partition_sizes=(48,)), ValueError,
         "powers of two"),
    ]
    for make, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            make()


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_bad_blocks_and_outputs_are_refused(backend_name):
    conv = StreamingConvolver(np.ones(10), 8, channels=2, backend=backend_name)
    good = np.zeros((2, 8), np.float32)
    out = np.empty((2, 8), np.float32)
    cases = [
        (lambda: conv.process(np.zeros((2, 7), np.float32)), ValueError, "block must have shape"),
        (lambda: conv.process(np.zeros(8, np.float32)), ValueError, "block must have shape"),
        (lambda: conv.process(np.zeros((3, 8), np.float32)), ValueError,
         "block must have shape"),
        (lambda: conv.process(np.zeros((2, 8), complex)), TypeError, "block must be real"),
        (lambda: conv.process(good, out=np.empty((2, 9), np.float32)), ValueError,
         "out must have shape"),
        (lambda: conv.process(good, out=np.empty((2, 8), np.float64)), TypeError,
         "out must have dtype"),
        (lambda: conv.process(good, out=np.empty((8, 2), np.float32).T), ValueError,
         "C-contiguous"),
        (lambda: conv.process(good, out=[0.0] * 16), TypeError, "out must be a numpy array"),
    ]
    for call, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            call()
    ro = np.empty((2, 8), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        conv.process(good, out=ro)
    conv.process(good, out=out)   # still usable


# ------------------------------------------------------------------ deconvolution

def _deconv_error_db(dec, ir, rng, n_blocks=60):
    b = dec.block_size
    x = rng.standard_normal(b * n_blocks)
    y = np.convolve(x, ir)[:x.size]
    got = _run(dec, y[None])[0].astype(np.float64)
    d = dec.latency
    skip = 2 * dec.n_taps                      # start-up transient of the inverse
    err = got[d + skip:] - x[skip:x.size - d]
    return 10 * np.log10(np.sum(err ** 2) / np.sum(x[skip:x.size - d] ** 2))


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("kind", ["minimum-phase", "mixed-phase"])
def test_deconvolver_undoes_a_known_response(backend_name, kind):
    rng = np.random.default_rng(31)
    if kind == "minimum-phase":
        ir = np.array([1.0, 0.6, 0.2])                         # zeros at |z| = 0.45
    else:
        ir = np.convolve([1.0, 0.5], [1.0, -2.0])              # zeros at -0.5 and 2
        assert np.any(np.abs(np.roots(ir)) > 1)
    n_taps = 128 if backend_name == "python" else 256
    dec = StreamingDeconvolver(ir, 64, n_taps=n_taps, backend=backend_name)
    assert dec.latency == n_taps // 2
    blocks = 14 if backend_name == "python" else 60
    assert _deconv_error_db(dec, ir, rng, blocks) < -26


@pytest.mark.parametrize("backend_name", COMPILED)
def test_deconvolver_room_like_response(backend_name):
    # A decaying noise tail behind a direct sound: mixed phase, 600 taps.
    rng = np.random.default_rng(32)
    ir = np.zeros(600)
    ir[0] = 1.0
    ir[40:] = 0.1 * rng.standard_normal(560) * np.exp(-np.arange(560) / 80)
    dec = StreamingDeconvolver(ir, 128, n_taps=4096, backend=backend_name)
    assert _deconv_error_db(dec, ir, rng, n_blocks=250) < -26


def test_inverse_filter_design_band():
    fs = 48000
    # a response with little low-frequency energy: inverting it there would boost by 60 dB
    ir = ss.firwin(255, 300, fs=fs, pass_zero=False)
    plain = inverse_filter_design(ir, 2048, reg=1e-6)
    banded = inverse_filter_design(ir, 2048, reg=1e-6, band=(500, 20000), fs=fs)
    w, h_plain = ss.freqz(np.convolve(ir, plain), worN=8192, fs=fs)
    _, h_band = ss.freqz(np.convolve(ir, banded), worN=8192, fs=fs)
    inband = (w > 700) & (w < 15000)
    assert np.max(np.abs(20 * np.log10(np.abs(h_band[inband])))) < 0.5
    _, g_plain = ss.freqz(plain, worN=8192, fs=fs)
    _, g_band = ss.freqz(banded, worN=8192, fs=fs)
    low = w < 100
    # conj(H) / (|H|^2 + beta) never exceeds 1 / (2 sqrt(beta)): 16 with beta = 1e3 * reg
    # outside the band, 500 without the band (reaching 100 here)
    assert np.max(np.abs(g_band[low])) <= 1.01 / (2 * np.sqrt(1e-3))
    assert np.max(np.abs(g_plain[low])) > 5 * np.max(np.abs(g_band[low]))
    assert np.argmax(np.abs(np.convolve(ir, banded))) == 2048 // 2   # modelling delay


def test_inverse_filter_design_bad_input():
    cases = [
        (lambda: inverse_filter_design([], 16), ValueError, "ir must not be empty"),
        (lambda: inverse_filter_design(np.ones((2, 3)), 16), ValueError, "1-D"),
        (lambda: inverse_filter_design([1.0, np.nan], 16), ValueError, "NaN"),
        (lambda: inverse_filter_design([1.0], 0), ValueError, "n_taps"),
        (lambda: inverse_filter_design([1.0], 16, reg=-1), ValueError, "reg"),
        (lambda: inverse_filter_design([1.0], 16, band=(10, 100)), ValueError, "needs fs"),
        (lambda: inverse_filter_design([1.0], 16, band=(10, 30000), fs=48000), ValueError,
         "band"),
        (lambda: inverse_filter_design([1.0, 1.0], 16, reg=0), ValueError, "spectral zeros"),
    ]
    for call, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            call()


def test_deconvolver_set_ir_and_attributes():
    dec = StreamingDeconvolver([1.0, 0.5], 32, n_taps=64)
    assert dec.taps.shape == (64,) and dec.latency == 32 and dec.block_size == 32
    dec.set_ir([1.0, -0.5])
    out = dec.process(np.zeros(32, np.float32))
    assert out.shape == (32,) and not np.any(out)


# ------------------------------------------------------------------ docs and layout

def test_docstring_examples_run():
    failures, _ = doctest.testmod(stream, verbose=False)
    assert failures == 0


def test_cython_layout_matches_reference():
    if "cython" not in BACKENDS:
        pytest.skip("cython backend not built")
    from fastdeconv.kernels.cython import partitioned as ck
    for name, value in ck.layout().items():
        assert getattr(layout, name) == value, name


@pytest.mark.slow
@pytest.mark.parametrize("backend_name", COMPILED)
def test_three_second_response(backend_name):
    rng = np.random.default_rng(41)
    fs = 48000
    ir = rng.standard_normal(3 * fs) * np.exp(-np.arange(3 * fs) / (0.6 * fs))
    conv = StreamingConvolver(ir, 128, backend=backend_name)
    x = _signal(rng, 1, 128 * (4 * fs // 128))
    assert_close(_run(conv, x), _offline(x, ir, np.float32).astype(np.float32))


# ------------------------------------------------------------------ issue 12: bad input

@pytest.mark.parametrize("backend_name", BACKENDS)
def test_out_made_read_only_between_calls_is_refused(backend_name):
    # the writeability of a reused out was checked once per array: locking it later
    # gave Numba's "No matching definition ... readonly array" instead of this message
    for channels in (1, 2):
        shape = (8,) if channels == 1 else (channels, 8)
        conv = StreamingConvolver(np.ones(10), 8, channels=channels, backend=backend_name)
        block = np.ones(shape, np.float32)
        out = np.empty(shape, np.float32)
        conv.process(block, out)
        out.flags.writeable = False
        with pytest.raises(ValueError, match="out must be writeable"):
            conv.process(block, out)
        out.flags.writeable = True
        conv.process(block, out)   # still usable, with the same buffer


@pytest.mark.parametrize("backend_name", COMPILED)
def test_refused_out_leaves_the_stream_unchanged(backend_name):
    rng = np.random.default_rng(21)
    ir = _ir(rng, 300)
    x = _signal(rng, 1, 64 * 6)
    ref = _run(StreamingConvolver(ir, 64, backend=backend_name), x)
    conv = StreamingConvolver(ir, 64, backend=backend_name)
    out = np.empty(64, np.float32)
    ro = np.empty(64, np.float32)
    ro.flags.writeable = False
    pieces = []
    for k in range(6):
        blk = x[0, k * 64:(k + 1) * 64].astype(np.float32)
        with pytest.raises(ValueError, match="writeable"):
            conv.process(blk, ro)
        pieces.append(conv.process(blk, out).copy())
    np.testing.assert_array_equal(np.concatenate(pieces), ref[0])


def test_ir_beyond_float32_range_is_refused():
    # a float64 response above float32's largest value became Inf in the float32
    # filter bank and every output NaN
    big = np.array([1.0, 1e39, 0.5])
    with pytest.raises(ValueError, match=r"ir has values up to 1e\+39, beyond the range of"
                                         r" float32.*dtype='float64'"):
        StreamingConvolver(big, 8)
    with pytest.raises(ValueError, match="ir has values"):
        StreamingConvolver(np.stack([np.ones(3), big]), 8, channels=2)
    edge = np.array([float(np.finfo(np.float32).max), 1.0])
    conv = StreamingConvolver(edge, 8)               # the largest float32 still fits
    assert np.isfinite(conv.process(np.full(8, 0.5, np.float32))).all()
    with pytest.raises(ValueError, match="ir has values"):
        conv.set_ir(big)
    conv64 = StreamingConvolver(big, 8, dtype="float64")   # float64 holds it
    out = conv64.process(np.zeros(8))
    assert np.isfinite(out).all()
    conv64.set_ir(big[::-1])


def test_deconvolver_inverse_beyond_float32_range_is_refused():
    # the designed inverse of a tiny response has taps ~1e39 with reg=0
    tiny = np.array([1e-39, 0.5e-39])
    with pytest.raises(ValueError, match="inverse filter designed from ir.*raise reg"):
        StreamingDeconvolver(tiny, 8, reg=0.0, n_taps=16)
    StreamingDeconvolver(tiny, 8, reg=0.0, n_taps=16, dtype="float64")
    dec = StreamingDeconvolver(np.array([1.0, 0.5]), 8, reg=0.0, n_taps=16)
    with pytest.raises(ValueError, match="inverse filter designed from ir"):
        dec.set_ir(tiny)
