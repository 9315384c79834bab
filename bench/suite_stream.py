"""Benchmarks of ``fastdeconv.stream``: real-time streaming convolution.

The case of ``PERF-ANCHORS.md``: a 3 s impulse response at 48 kHz, mono float32, one
thread, blocks of 64/128/256/1024 samples.  Each timed call of a case table streams one
second of audio block by block (``process(block, out=buf)``), so the ratio column compares
whole streams.  The report table measures what matters in a real-time loop: the
real-time factor (audio seconds per wall second), the mean and slowest ``process`` call,
their ratio, the slowest call of the *schedule* (per call, the fastest of 5 replays of
the same stream from silence: the work each call does, without the operating system's
preemptions), and the Python-side overhead per call (a 1-tap response's ``process``).

Peers: ``pedalboard.Convolution`` (JUCE's non-uniform partitioned convolution; it
rescales the response's gain, so its output is not the exact convolution: its check
column says DIFF by design) and a numpy uniformly partitioned overlap-save convolver
(frequency-domain delay line, ``numpy.fft`` per block) written the way a user would.
``--quick``: a 0.5 s response.
"""
import time

import numpy as np

from bench.registry import Case, Impl, Table, compiled_backends, fastdeconv

FS = 48000
BLOCKS = (64, 128, 256, 1024)


def _ir(seconds):
    rng = np.random.default_rng(12345)
    n = int(seconds * FS)
    return (rng.standard_normal(n) * np.exp(-np.arange(n) / (0.5 * FS))).astype(np.float32)


def _audio(seconds, block):
    rng = np.random.default_rng(1)
    n = int(seconds * FS) // block * block
    return rng.standard_normal(n).astype(np.float32).reshape(-1, block)


class NumpyUniform:
    """Uniformly partitioned overlap-save with a frequency-domain delay line, in numpy.

    Partition size = block size; per block: one rfft of the last 2B samples, the
    spectrum multiply-accumulate over all partitions, one irfft.  Exact gain.
    """

    def __init__(self, ir, block):
        self.b = block
        n = -(-ir.size // block)
        parts = np.zeros((n, block), np.float32)
        parts.ravel()[:ir.size] = ir
        self.h = np.fft.rfft(parts, 2 * block, axis=1).astype(np.complex64)
        self.x = np.zeros((n, block + 1), np.complex64)
        self.k = 0
        self.last = np.zeros(2 * block, np.float32)

    def process(self, block, out=None):
        b = self.b
        self.last[:b] = self.last[b:]
        self.last[b:] = block
        self.k = (self.k - 1) % self.x.shape[0]
        self.x[self.k] = np.fft.rfft(self.last)
        n = self.x.shape[0]
        idx = (self.k + np.arange(n)) % n
        acc = np.einsum("ij,ij->j", self.h, self.x[idx])
        y = np.fft.irfft(acc, 2 * b)[b:].astype(np.float32)
        if out is not None:
            out[:] = y
            return out
        return y


def _stream_func(proc, audio, block):
    out = np.empty(block, np.float32)
    state = {"i": 0}
    per_second = FS // block

    def run():
        pieces = np.empty((per_second, block), np.float32)
        i = state["i"]
        for k in range(per_second):
            pieces[k] = proc(audio[(i + k) % len(audio)], out)
        state["i"] = i + per_second
        return pieces.ravel()
    return run


def _pedalboard(ir, block):
    try:
        import pedalboard
    except ImportError:
        return None
    conv = pedalboard.Convolution(ir[None, :], sample_rate=FS, mix=1.0)

    def proc(x, out=None):
        return conv.process(x[None, :], FS, buffer_size=block, reset=False)[0]
    return proc


def _impls(ir, block):
    fd = fastdeconv()
    audio = _audio(4.0, block)
    impls = []
    stream = getattr(fd, "stream", None) if fd is not None else None
    if stream is None:
        try:
            from fastdeconv import stream
        except ImportError:
            stream = None
    if stream is not None:
        for b in compiled_backends():
            conv = stream.StreamingConvolver(ir, block, backend=b)
            impls.append(Impl(f"fastdeconv.StreamingConvolver[{b}]",
                              _stream_func(conv.process, audio, block), fastdeconv=True))
    pb = _pedalboard(ir, block)
    if pb is not None:
        impls.append(Impl("pedalboard.Convolution (rescales gain)",
                          _stream_func(pb, audio, block)))
    npu = NumpyUniform(ir, block)
    impls.append(Impl("numpy uniform partitions", _stream_func(npu.process, audio, block)))
    return impls


def cases(opts):
    """One case per block size; each call streams one second of audio.

    Parameters
    ----------
    opts : bench.registry.Options

    Returns
    -------
    list of bench.registry.Case
    """
    seconds = 0.5 if opts.quick else 3.0
    group = (f"streaming convolution, {seconds:g} s response at 48 kHz, mono float32"
             " (1 s of audio per call)")
    return [Case(group, f"block {b}", lambda b=b: _impls(_ir(seconds), b), dtype="float32")
            for b in BLOCKS]


# --------------------------------------------------------------------------- report

def _call_stats(proc, audio, block, seconds):
    """Per-call wall times (s) over ``seconds`` of audio after a one-second warm-up."""
    out = np.empty(block, np.float32)
    n = int(seconds * FS) // block
    for k in range(FS // block):
        proc(audio[k % len(audio)], out)
    times = np.empty(n)
    pc = time.perf_counter
    for k in range(n):
        blk = audio[k % len(audio)]
        t = pc()
        proc(blk, out)
        times[k] = pc() - t
    return times


def _schedule_profile(make, audio, block, seconds, repeats=5):
    """Per call, the fastest of ``repeats`` replays of the same stream from silence."""
    n = int(seconds * FS) // block
    best = np.full(n, np.inf)
    out = np.empty(block, np.float32)
    pc = time.perf_counter
    for _ in range(repeats):
        proc = make()
        for k in range(n):
            blk = audio[k % len(audio)]
            t = pc()
            proc(blk, out)
            best[k] = min(best[k], pc() - t)
    start = min(n - 1, int(0.5 * FS) // block)   # every partition size has started
    return best[start:]


def _kernel_loop():
    """An njit loop calling the Numba kernel ``n`` times (its compiled work, no Python)."""
    import numba

    from fastdeconv.kernels.numba.partitioned import process_block

    @numba.njit(nogil=True)
    def loop(x, y, fbuf, ibuf, n):
        for _ in range(n):
            process_block(x, y, fbuf, ibuf)
    return loop


def _overhead(backend, block):
    """Python-side seconds per ``process`` call: a 1-tap convolver's ``process`` minus its
    compiled work (timed inside an njit loop for numba; for cython the extension called
    directly, whose own call cost of ~0.1 µs then counts as work)."""
    from fastdeconv.stream import StreamingConvolver
    conv = StreamingConvolver(np.ones(1, np.float32), block, backend=backend)
    x = np.zeros(block, np.float32)
    out = np.empty(block, np.float32)
    kern = conv._kernel
    fbuf, ibuf = conv._fbuf, conv._ibuf
    loop = _kernel_loop() if backend == "numba" else None
    pc = time.perf_counter

    def best(fn, reps=10, n=1000):
        fn(200)
        b = np.inf
        for _ in range(reps):
            t = pc()
            fn(n)
            b = min(b, (pc() - t) / n)
        return b

    def via_process(n):
        for _ in range(n):
            conv.process(x, out)

    def via_kernel(n):
        if loop is not None:
            loop(x, out, fbuf, ibuf, n)
        else:
            for _ in range(n):
                kern(x, out, fbuf, ibuf)

    return max(0.0, best(via_process) - best(via_kernel))


def _noise_floor(mean_s, block, seconds):
    """Per-call times of a compiled loop doing constant work for about ``mean_s``: how
    much slower than the mean the slowest call of a perfectly even workload is here."""
    import numba

    @numba.njit(nogil=True)
    def spin(n):
        acc = 0.0
        for i in range(n):
            acc += i * 1e-9
        return acc

    spin(10)
    t = time.perf_counter()
    spin(100000)
    n = max(1, int(100000 * mean_s / max(time.perf_counter() - t, 1e-9)))

    def proc(x, out):
        spin(n)
    return _call_stats(proc, np.zeros((1, block), np.float32), block, seconds)


def _report(opts):
    from fastdeconv.stream import StreamingConvolver
    seconds = 0.5 if opts.quick else 3.0
    ir = _ir(seconds)
    measure = 1.0 if opts.quick else 3.0
    rows = []
    notes = [
        f"{seconds:g} s response at 48 kHz ({ir.size} taps), mono float32, one thread; "
        f"{measure:g} s of audio timed call by call after a 1 s warm-up.",
        "RTF = audio seconds per wall second (block duration / mean call).  'max' is the "
        "slowest single call, preemptions by other processes included.  'best-of-5' and "
        "'sched. max/mean': per call the fastest of 5 replays of the same 1.5 s from "
        "silence, i.e. the work each call does without the machine's noise.",
        "noise floor: a compiled loop doing the same work every call, timed the same "
        "way (as long as the first fastdeconv row's mean call): its max/mean is what this "
        "machine's scheduling adds to any perfectly even workload.",
        "overhead = Python-side time per process() call: a 1-tap convolver's process() minus "
        "its compiled work.  pedalboard rescales the response's gain (0.125/sqrt(energy)): "
        "not an exact convolution.",
    ]
    for block in BLOCKS:
        audio = _audio(4.0, block)
        entries = []
        for b in compiled_backends():
            make = (lambda b=b: StreamingConvolver(ir, block, backend=b).process)
            entries.append((f"fastdeconv[{b}]", make, b))
        if _pedalboard(ir, block) is not None:
            entries.append(("pedalboard.Convolution", lambda: _pedalboard(ir, block), None))
        entries.append(("numpy uniform partitions",
                        lambda: NumpyUniform(ir, block).process, None))
        floor_mean = None
        for name, make, backend in entries:
            try:
                times = _call_stats(make(), audio, block, measure)
                mean, worst = times.mean(), times.max()
                prof = _schedule_profile(make, audio, block, min(measure, 1.5)) \
                    if backend else None
                over = _overhead(backend, block) if backend else None
            except Exception as exc:  # one failing peer must not stop the report
                rows.append([str(block), name, f"error: {type(exc).__name__}: {exc}"]
                            + [""] * 7)
                continue
            if backend and floor_mean is None:
                floor_mean = mean
            rows.append([
                str(block), name, f"{block / FS / mean:.0f}×",
                f"{block / FS / prof.mean():.0f}×" if prof is not None else "",
                f"{mean * 1e6:.1f}",
                f"{worst * 1e6:.0f}", f"{worst / mean:.1f}",
                f"{prof.max() / prof.mean():.2f}" if prof is not None else "",
                f"{np.percentile(times, 99.9) / mean:.1f}",
                f"{over * 1e6:.2f}" if over is not None else "",
            ])
        if floor_mean is not None:
            try:
                times = _noise_floor(floor_mean, block, measure)
                rows.append([str(block), "noise floor: constant work", "", "",
                             f"{times.mean() * 1e6:.1f}", f"{times.max() * 1e6:.0f}",
                             f"{times.max() / times.mean():.1f}", "",
                             f"{np.percentile(times, 99.9) / times.mean():.1f}", ""])
            except ImportError:
                pass
    headers = ["block", "implementation", "RTF", "RTF best-of-5", "mean µs/call", "max µs",
               "max/mean",
               "sched. max/mean", "p99.9/mean", "overhead µs/call"]
    return Table("real-time behaviour per process() call", headers, rows, notes)


def reports(opts):
    """The per-call real-time table (RTF, mean/max call, schedule, overhead)."""
    return {"real-time behaviour per process() call": lambda: _report(opts)}
