"""Thread scaling of fastdeconv and its peers on the headline cases.

``python -m bench scaling [--threads 1,2,4] [--quick] [--markdown] [-k TEXT] [--budget S]
[--backend numba,cython] [--json FILE]``

Every headline case runs at every thread count ``n``, fastdeconv and its peer both
limited to ``n`` threads: ``fastdeconv.set_num_threads(n)`` (compiled kernels and
FFTs), ``scipy.fft.set_workers(n)`` around each scipy / scikit-image call (skimage's
``richardson_lucy`` convolves through ``scipy.signal.convolve``, that is ``scipy.fft``),
``cv2.setNumThreads(n)`` and ``torch.set_num_threads(n)`` (both restored afterwards).
At each thread count each implementation is called once untimed (JIT compilation,
caches; skipped at later counts for calls over three budgets, which are timed once), then
timed round-robin with :func:`bench.runner.time_interleaved` (median of
at least 3 calls, ``--budget`` seconds per implementation).  One table per case, one
row per thread count: time, speedup and parallel efficiency (``t1 / tn / n``) of each
implementation, the peer/fastdeconv ratio, and for direct algorithms GFLOP/s and the
share of the FMA peak scaled to ``n`` threads.  ``--json FILE`` writes every timing as
``{case, threads, impl, seconds, repeats}`` for post-processing runs on bigger machines.
"""
import argparse
import contextlib
import dataclasses
import json
import os
import sys
import time
import types
from typing import Callable, List, Optional

import numpy as np

# Before torch (Intel OpenMP) is loaded: its threads would otherwise spin for 200 ms
# after each call and take the cores from the implementation timed next (see suite_nn).
os.environ.setdefault("KMP_BLOCKTIME", "0")

from bench import registry  # noqa: E402
from bench.registry import Options, Table, fmt_time, peer  # noqa: E402
from bench.runner import (agrees, fma_peak, machine_line, render,  # noqa: E402
                          threading_layer_note, time_interleaved)


# --------------------------------------------------------------------------- cases

@dataclasses.dataclass
class ScalingImpl:
    """One implementation of a scaling case.

    Parameters
    ----------
    name : str
        Full name, e.g. ``'fastdeconv.richardson_lucy[numba]'`` (JSON ``impl``).
    label : str
        Short column label, e.g. ``'fastdeconv[numba]'`` or ``'skimage'``.
    func : callable
        Zero-argument closure over the case's inputs; returns the result.
    threads : str
        How ``n`` threads are imposed: ``'fastdeconv'``, ``'scipy'`` (``scipy.fft``
        workers context around each call), ``'cv2'`` or ``'torch'``.
    """
    name: str
    label: str
    func: Callable[[], object]
    threads: str

    @property
    def fastdeconv(self):
        return self.threads == "fastdeconv"


@dataclasses.dataclass
class ScalingCase:
    """One headline problem; ``build(backends)`` makes the inputs and the implementations."""
    name: str
    build: Callable[[List[str]], List[ScalingImpl]]
    dtype: str = "float32"
    flops: Optional[float] = None   # direct algorithms: 2 x output size x taps
    traffic: Optional[float] = None  # bytes one fastdeconv call must stream (lower bound)


def _gaussian(shape, dtype):
    """Normalised Gaussian PSF, sigma = size / 6 along each axis."""
    psf = np.ones(())
    for n in shape:
        g = np.exp(-((np.arange(n) - (n - 1) / 2) ** 2) / (2 * (n / 6) ** 2))
        psf = np.multiply.outer(psf, g)
    return (psf / psf.sum()).astype(dtype)


def _shape(shape):
    if len(shape) > 2 and len(set(shape)) == 1:
        return f"{shape[0]}^{len(shape)}"
    return "×".join(map(str, shape))


def _fd_impls(func_name, call, backends, per_backend=True):
    """fastdeconv implementations: one per backend, or one when the backend is irrelevant."""
    fd = registry.fastdeconv()
    if fd is None:
        return []
    if not per_backend:
        return [ScalingImpl(f"fastdeconv.{func_name}", "fastdeconv", lambda: call(None),
                            "fastdeconv")]
    label = (lambda b: f"fastdeconv[{b}]") if len(backends) > 1 else (lambda b: "fastdeconv")
    return [ScalingImpl(f"fastdeconv.{func_name}[{b}]", label(b), lambda b=b: call(b),
                        "fastdeconv") for b in backends]


def _rl_case(shape, kshape, num_iter, dtype, psf_kind="Gaussian", boundary="fill"):
    def build(backends):
        rng = np.random.default_rng(12345)
        image = rng.random(shape).astype(dtype)
        if psf_kind == "Gaussian":
            psf = _gaussian(kshape, dtype)
        else:
            psf = rng.random(kshape)
            psf = (psf / psf.sum()).astype(dtype)
        fd = registry.fastdeconv()
        kw = {} if boundary == "fill" else {"boundary": boundary}
        impls = _fd_impls("richardson_lucy",
                          lambda b: fd.richardson_lucy(image, psf, num_iter, backend=b, **kw),
                          backends)
        restoration = peer("skimage.restoration")
        if restoration is not None and boundary == "fill":
            impls.append(ScalingImpl("skimage.restoration.richardson_lucy", "skimage",
                                     lambda: restoration.richardson_lucy(image, psf, num_iter),
                                     "scipy"))
        return impls
    extra = "" if boundary == "fill" else f", boundary='{boundary}'"
    name = (f"richardson_lucy {dtype} {_shape(shape)}, {psf_kind} {_shape(kshape)} PSF, "
            f"{num_iter} it{extra}")
    traffic = None
    if psf_kind == "Gaussian":
        # separable direct plan, per iteration and estimate-sized array: one read and one
        # write per axis pass for H and for H^T (2d each; N-D plans also copy their input
        # into a padded buffer: + 2 each), ratio (read image and Hx, write: 3), update
        # (read x and H^T r, write x: 3)
        d = len(shape)
        est = shape if boundary != "noncirculant" else tuple(
            n + k - 1 for n, k in zip(shape, kshape))
        per_blur = 2 * d + (0 if d == 2 else 2)
        traffic = (num_iter * (2 * per_blur + 6) * float(np.prod(est))
                   * np.dtype(dtype).itemsize)
    return ScalingCase(name, build, dtype, traffic=traffic)


def _fft_case(shape, kshape):
    def build(backends):
        rng = np.random.default_rng(12345)
        a = rng.standard_normal(shape).astype(np.float32)
        k = rng.standard_normal(kshape).astype(np.float32)
        fd, signal = registry.fastdeconv(), peer("scipy.signal")
        impls = _fd_impls("fftconvolve", lambda b: fd.fftconvolve(a, k, "same"), backends,
                          per_backend=False)
        impls.append(ScalingImpl("scipy.signal.fftconvolve", "scipy",
                                 lambda: signal.fftconvolve(a, k, "same"), "scipy"))
        return impls
    return ScalingCase(f"fftconvolve float32 {_shape(shape)} ⊛ {_shape(kshape)} 'same'",
                       build, "float32")


def _direct_case(n, k):
    def build(backends):
        rng = np.random.default_rng(12345)
        img = rng.standard_normal((n, n)).astype(np.float32)
        ker = rng.standard_normal((k, k)).astype(np.float32)
        fd, cv2 = registry.fastdeconv(), peer("cv2")
        impls = _fd_impls("convolve2d", lambda b: fd.convolve2d(img, ker, "same",
                                                                method="direct", backend=b),
                          backends)
        if cv2 is not None:
            flipped = np.ascontiguousarray(ker[::-1, ::-1])  # cv2 correlates
            impls.append(ScalingImpl(
                "cv2.filter2D", "opencv",
                lambda: cv2.filter2D(img, -1, flipped, borderType=cv2.BORDER_CONSTANT), "cv2"))
        return impls
    return ScalingCase(f"convolve2d (direct) float32 {n}×{n} ⊛ {k}×{k} 'same'", build,
                       "float32", flops=2.0 * n * n * k * k)


def _nn_case(xshape, cout, k):
    nb, cin, h, w = xshape

    def build(backends):
        rng = np.random.default_rng(12345)
        x = rng.standard_normal(xshape).astype(np.float32)
        wt = rng.standard_normal((cout, cin, k, k)).astype(np.float32)
        try:
            from fastdeconv import nn
        except ImportError:
            nn = None
        impls = []
        if nn is not None:
            impls = _fd_impls("nn.conv2d",
                              lambda b: nn.conv2d(x, wt, None, 1, k // 2, backend=b), backends)
        torch = peer("torch")
        if torch is not None:
            tx, tw = torch.from_numpy(x), torch.from_numpy(wt)

            def run():
                with torch.no_grad():
                    return torch.nn.functional.conv2d(tx, tw, None, 1, k // 2).numpy()
            impls.append(ScalingImpl("torch.nn.functional.conv2d", "torch", run, "torch"))
        return impls
    return ScalingCase(f"nn.conv2d float32 x {xshape}, w ({cout}, {cin}, {k}, {k}), "
                       f"padding={k // 2}", build, "float32",
                       flops=2.0 * nb * cout * cin * k * k * h * w)


SIZES = ("full", "quick", "tiny")


def headline_cases(size="full"):
    """The headline cases at ``size`` ``'full'``, ``'quick'`` (< 1 minute on 2 cores
    after compilation) or ``'tiny'`` (tests only).

    Returns
    -------
    list of ScalingCase
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    full, quick = size == "full", size == "quick"
    f32, f64 = "float32", "float64"

    def pick(a, b, c):
        return a if full else b if quick else c

    n2, k2, it2 = pick(512, 256, 24), pick(31, 15, 5), pick(50, 10, 2)
    n3, k3, it3 = pick(128, 64, 10), pick(31, 15, 3), pick(10, 3, 1)
    n5, k5, it5 = pick(1024, 512, 24), pick(31, 15, 5), pick(20, 5, 2)
    n6, k6, it6 = pick(4096, 1024, 32), pick(15, 15, 5), pick(10, 3, 2)
    return [
        _rl_case((n2, n2), (k2, k2), it2, f32),
        _rl_case((n2, n2), (k2, k2), it2, f32, psf_kind="random"),
        _rl_case((n2, n2), (k2, k2), it2, f64),
        _rl_case((n3,) * 3, (k3,) * 3, it3, f32),
        _rl_case((n5, n5), (k5, k5), it5, f32),
        _rl_case((n5, n5), (k5, k5), it5, f32, boundary="noncirculant"),
        _rl_case((n6, n6), (k6, k6), it6, f32),
        _fft_case(pick((2048, 2048), (1024, 1024), (32, 32)), pick((63, 63), (63, 63), (7, 7))),
        _direct_case(pick(2048, 1024, 32), 7),
        _nn_case(pick((8, 64, 128, 128), (4, 64, 64, 64), (1, 4, 8, 8)),
                 pick(64, 64, 4), 3),
    ]


# --------------------------------------------------------------------------- threads

def default_threads():
    """1, 2, 4, ... up to the CPU count, plus the CPU count if not a power of two."""
    cpus = os.cpu_count() or 1
    out, n = [], 1
    while n <= cpus:
        out.append(n)
        n *= 2
    if out[-1] != cpus:
        out.append(cpus)
    return out


@contextlib.contextmanager
def thread_count(n):
    """Limit fastdeconv, OpenCV and torch to ``n`` threads inside the block (restored after).

    scipy.fft's workers are set per call (:func:`limited`): its ``set_workers`` context
    is thread-local and must wrap the call itself.
    """
    fd, cv2, torch = registry.fastdeconv(), peer("cv2"), peer("torch")
    saved = {}
    if fd is not None:
        from fastdeconv import _backends
        saved["fd"] = _backends._num_threads
        fd.set_num_threads(n)
    if cv2 is not None:
        saved["cv2"] = cv2.getNumThreads()
        cv2.setNumThreads(n)
    if torch is not None:
        saved["torch"] = torch.get_num_threads()
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if "fd" in saved:
            from fastdeconv import _backends
            _backends._num_threads = saved["fd"]
        if "cv2" in saved:
            cv2.setNumThreads(saved["cv2"])
        if "torch" in saved:
            torch.set_num_threads(saved["torch"])


def limited(impl, n):
    """``impl.func`` run with ``n`` threads: scipy calls get a ``scipy.fft`` workers context."""
    if impl.threads != "scipy":
        return impl.func
    sfft = peer("scipy.fft")

    def call():
        with sfft.set_workers(n):
            return impl.func()
    return call


def effective_threads(n):
    """Threads fastdeconv's Numba kernels really get for a request of ``n`` (pool size cap)."""
    numba = sys.modules.get("numba")
    fd = registry.fastdeconv()
    got = fd.get_num_threads() if fd is not None else n
    if numba is not None:
        got = min(got, numba.config.NUMBA_NUM_THREADS)
    return got


# --------------------------------------------------------------------------- measuring

def measure(case, threads, opts, backends):
    """Time every implementation of ``case`` at every thread count.

    Returns
    -------
    impls : list of ScalingImpl
    times : dict
        ``{(impl index, n): (median seconds, repeats) or Exception}``.
    notes : list of str
        Agreement check and errors.
    """
    impls = case.build(backends)
    times, notes = {}, []
    # a call far over the budget is timed once per thread count and gains nothing from a
    # warm-up call at later counts (compilation and caches are done by then): skip it
    slow = set()
    for n in threads:
        with thread_count(n):
            if effective_threads(n) < n:
                notes.append(f"at {n} threads fastdeconv's Numba kernels were capped at "
                             f"{effective_threads(n)} (NUMBA_NUM_THREADS)")
            funcs = [limited(impl, n) for impl in impls]
            warm = []
            for i, f in enumerate(funcs):
                if i in slow:
                    warm.append(None)
                    continue
                try:
                    warm.append(f())
                except Exception as exc:  # reported under the table, the others go on
                    warm.append(exc)
            if n == threads[0]:
                notes += _check(impls, warm, n)
            for i, w in enumerate(warm):
                if isinstance(w, Exception):
                    times[(i, n)] = w
            ok = [i for i, w in enumerate(warm) if not isinstance(w, Exception)]
            del warm[:]  # results can be large: free them before timing
            for i, res in zip(ok, time_interleaved([funcs[i] for i in ok], opts)):
                times[(i, n)] = res
                if _ok(res) and res[0] > 3 * opts.budget:
                    slow.add(i)
        for i, impl in enumerate(impls):
            if isinstance(times.get((i, n)), Exception):
                exc = times[(i, n)]
                notes.append(f"error: {impl.name} at {n} thread(s): {type(exc).__name__}: {exc}")
    return impls, times, notes


def _check(impls, warm, n):
    """Notes comparing each peer's result with the first fastdeconv result (at ``n`` threads)."""
    ref = next(((impl, w) for impl, w in zip(impls, warm)
                if impl.fastdeconv and not isinstance(w, Exception)), None)
    notes = []
    if ref is None:
        return notes
    for impl, w in zip(impls, warm):
        if impl is ref[0] or isinstance(w, Exception):
            continue
        if agrees(w, ref[1]):
            notes.append(f"check at {n} thread(s): {impl.name} agrees with {ref[0].name}.")
        else:
            a, r = np.asarray(w, np.float64), np.asarray(ref[1], np.float64)
            detail = (f"shape {a.shape} vs {r.shape}" if a.shape != r.shape else
                      f"max |diff| = {np.max(np.abs(a - r)) / max(np.max(np.abs(r)), 1e-30):.2g}"
                      f" x max |{ref[0].label}|")
            notes.append(f"DISAGREE at {n} thread(s): {impl.name} differs from {ref[0].name} "
                         f"({detail}; tolerance 1e-4 float32, 1e-9 float64).")
    return notes


# --------------------------------------------------------------------------- machine

_bandwidth = {}


def triad_bandwidth(n):
    """Memory bandwidth (bytes/s) of a STREAM-style triad ``a = b + s c`` over three
    64 MiB float64 arrays on ``n`` Numba threads (3 arrays counted, as STREAM does)."""
    if n not in _bandwidth:
        import numba

        @numba.njit(parallel=True, cache=False)
        def triad(a, b, c, s):
            for i in numba.prange(a.shape[0]):
                a[i] = b[i] + s * c[i]

        size = 8 << 20
        a, b, c = np.zeros(size), np.ones(size), np.ones(size)
        previous = numba.get_num_threads()
        numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
        try:
            triad(a, b, c, 2.0)
            best = min(_timed(lambda: triad(a, b, c, 2.0)) for _ in range(5))
        finally:
            numba.set_num_threads(previous)
        _bandwidth[n] = 3 * a.nbytes / best
    return _bandwidth[n]


def _timed(f):
    t = time.perf_counter()
    f()
    return time.perf_counter() - t


# --------------------------------------------------------------------------- tables

def _ok(res):
    return isinstance(res, tuple)


def table(case, impls, times, threads, notes):
    """The case's table: one row per thread count."""
    fds = [i for i, impl in enumerate(impls) if impl.fastdeconv]
    peers = [i for i, impl in enumerate(impls) if not impl.fastdeconv]
    base = threads[0]
    headers = ["threads"]
    for i in fds:
        headers += [impls[i].label, "speedup", "efficiency"]
    for j in peers:
        headers += [impls[j].label, "efficiency"]
        headers += [f"{impls[j].label}/{impls[i].label}" for i in fds]
    if case.flops and fds:
        headers += ["GFLOP/s", "% FMA peak"]
    if case.traffic and fds:
        headers += ["GB/s", "% of triad"]

    def t(i, n):
        res = times.get((i, n))
        return res[0] if _ok(res) else None

    rows = []
    for n in threads:
        row = [str(n)]
        for i in fds:
            tn, tb = t(i, n), t(i, base)
            if tn is None:
                row += ["error", "", ""]
                continue
            row += [fmt_time(tn), f"{tb / tn:.2f}×" if tb else "",
                    f"{100 * tb * base / (tn * n):.0f}%" if tb else ""]
        for j in peers:
            tn, tb = t(j, n), t(j, base)
            row += [fmt_time(tn) if tn is not None else "error",
                    f"{100 * tb * base / (tn * n):.0f}%" if tn and tb else ""]
            row += [f"{tn / t(i, n):.2f}×" if tn and t(i, n) else "" for i in fds]
        if case.flops and fds:
            tn = t(fds[0], n)
            if tn:
                rate = case.flops / tn / 1e9
                row += [f"{rate:.1f}", f"{100 * rate / fma_peak(case.dtype, n):.0f}%"]
            else:
                row += ["", ""]
        if case.traffic and fds:
            tn = t(fds[0], n)
            if tn:
                rate = case.traffic / tn
                row += [f"{rate / 1e9:.1f}", f"{100 * rate / triad_bandwidth(n):.0f}%"]
            else:
                row += ["", ""]
        rows.append(row)
    names = ", ".join(impls[i].name for i in fds + peers) or "no implementation available"
    out_notes = [f"implementations: {names}."]
    if base == 1:
        out_notes.append("speedup = t1 / tn; efficiency = t1 / (tn·n).")
    else:
        out_notes.append(f"speedup = t{base} / tn; efficiency = t{base}·{base} / (tn·n).")
    if peers and fds:
        out_notes.append("ratio = peer time / fastdeconv time (> 1: fastdeconv is faster).")
    if case.flops and fds:
        out_notes.append(f"GFLOP/s = 2 x output size x taps / time of {impls[fds[0]].label}; "
                         f"% FMA peak: of {fma_peak(case.dtype, 1):.0f} GFLOP/s per thread "
                         f"({case.dtype}; registry.FMA_PEAK_2_THREADS, 2 threads, scaled to "
                         f"n threads, an estimate on other machines).")
    if case.traffic and fds:
        out_notes.append(
            f"GB/s = bytes a separable RL iteration must stream (one read and one write "
            f"per axis pass for H and H^T, ratio and update: 14 x the estimate's size in "
            f"2-D, (4d + 10) x in N-D with the copy into padded buffers; a lower bound) / "
            f"time of {impls[fds[0]].label}; % of triad: of a "
            f"STREAM-style triad on the same threads "
            f"({', '.join(f'{m}: {triad_bandwidth(m) / 1e9:.1f} GB/s' for m in threads)}).")
    return Table(case.name, headers, rows, out_notes + notes)


# --------------------------------------------------------------------------- driver

def run(cases, threads, opts, backends=("numba",), markdown=False, emit=print):
    """Measure ``cases`` at each thread count, ``emit`` one rendered table per case.

    Parameters
    ----------
    cases : list of ScalingCase
    threads : list of int
    opts : bench.registry.Options
        ``budget``, ``min_repeats``, ``max_repeats`` of the timing.
    backends : sequence of str
        fastdeconv backends to time.
    markdown : bool
    emit : callable
        Receives each rendered table (str).

    Returns
    -------
    list of dict
        One record per (case, threads, implementation): ``case``, ``threads``, ``impl``,
        ``seconds`` (None on error), ``repeats`` (and ``error`` on error).
    """
    records = []
    for case in cases:
        impls, times, notes = measure(case, list(threads), opts, list(backends))
        for n in threads:
            for i, impl in enumerate(impls):
                res = times.get((i, n))
                rec = {"case": case.name, "threads": n, "impl": impl.name,
                       "seconds": res[0] if _ok(res) else None,
                       "repeats": res[1] if _ok(res) else 0}
                if not _ok(res):
                    rec["error"] = f"{type(res).__name__}: {res}"
                records.append(rec)
        emit(render(table(case, impls, times, list(threads), notes), markdown))
    return records


def parse_threads(text):
    """``'1,2,4'`` -> ``[1, 2, 4]`` (sorted, unique, each at least 1)."""
    try:
        values = sorted({int(v) for v in text.split(",") if v.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}")
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be at least 1, got {text!r}")
    return values


def parse_args(argv, prog="python -m bench scaling"):
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=parse_threads, default=None,
                   help="comma-separated thread counts (default: 1, 2, 4, ... up to the "
                        "CPU count, and the CPU count)")
    p.add_argument("--quick", action="store_true",
                   help="small sizes, short budget (< 1 minute on 2 cores after compilation)")
    p.add_argument("--tiny", action="store_true", help=argparse.SUPPRESS)  # tests
    p.add_argument("--markdown", action="store_true", help="print GitHub markdown tables")
    p.add_argument("-k", dest="pattern", default=None,
                   help="run only cases whose name contains this text")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of timed calls per implementation and thread count "
                        "(default 1, --quick 0.25); at least 3 calls")
    p.add_argument("--backend", default="numba",
                   help="comma-separated fastdeconv backends to time: numba (default), "
                        "cython, or all")
    p.add_argument("--json", dest="json_path", default=None, metavar="FILE",
                   help="also write the timings as JSON: a list of {case, threads, impl, "
                        "seconds, repeats}")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    return p.parse_args(argv)


def main(argv=None, prog="python -m bench scaling", emit=None):
    """Command-line entry point of ``python -m bench scaling``; returns the exit status."""
    args = parse_args(argv, prog)
    emit = emit or (lambda text: (sys.stdout.write(text + "\n"), sys.stdout.flush()))
    size = "tiny" if args.tiny else "quick" if args.quick else "full"
    cases = [c for c in headline_cases(size)
             if args.pattern is None or args.pattern.lower() in c.name.lower()]
    if args.list:
        for c in cases:
            emit(c.name)
        return 0

    available = registry.compiled_backends()
    wanted = available if args.backend == "all" else [b.strip() for b in args.backend.split(",")]
    missing = [b for b in wanted if b not in available]
    backends = [b for b in wanted if b in available]
    cpus = os.cpu_count() or 1
    requested = args.threads or default_threads()
    threads = [n for n in requested if n <= cpus]
    dropped = [n for n in requested if n > cpus]
    if not threads:
        threads = [cpus]

    quick = args.quick or args.tiny
    opts = Options(quick=quick, threads=max(threads))
    opts.budget = args.budget if args.budget is not None else (0.25 if quick else 1.0)
    opts.min_repeats, opts.max_repeats = 3, (20 if quick else 50)

    md = args.markdown
    emit(machine_line(types.SimpleNamespace(threads=",".join(map(str, threads))))
         + _fft_engine() + ("  " if md else ""))
    if dropped:
        emit(f"Thread counts above the {cpus} CPUs skipped: {', '.join(map(str, dropped))}"
             + ("  " if md else ""))
    if missing:
        emit(f"fastdeconv backends not available here, skipped: {', '.join(missing)}"
             + ("  " if md else ""))
    emit("")
    start = time.perf_counter()
    records = run(cases, threads, opts, backends, md, emit)
    if args.json_path:
        with open(args.json_path, "w") as f:
            json.dump(records, f, indent=1)
        emit(f"Wrote {len(records)} timings to {args.json_path}")
    emit(f"Total scaling benchmark time: {time.perf_counter() - start:.0f} s"
         f"{threading_layer_note()}")
    return 0


def _fft_engine():
    try:
        from fastdeconv import _fft
        return f"; fastdeconv FFT engine: {_fft.fft_engine()}"
    except Exception:
        return ""


__all__ = ["ScalingCase", "ScalingImpl", "headline_cases", "default_threads", "run", "main"]
