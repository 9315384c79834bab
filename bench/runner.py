"""Run the benchmark suites and print one table per group of cases.

Timing method: one untimed warm-up call per implementation (JIT compilation, caches,
page faults; its result is kept to check every implementation against fastdeconv's),
then timed calls (``time.perf_counter``) taken round-robin over the implementations of
a case, each until its own budget is spent (at least ``min_repeats`` calls unless a
single call is far over budget, at most ``max_repeats``); the median is reported.
Round-robin, because a shared machine's speed drifts over seconds: timed one after the
other, two implementations could land in different phases (seen here: the same kernel
at 5 ms and 10 ms a minute apart), interleaved they see the same ones.  Optional peak memory: one more call under ``tracemalloc`` (counts memory
allocated through Python and numpy, not Numba's or C++ libraries' private scratch).

Usage: ``python -m bench [--quick] [--suite NAME] [-k TEXT] [--markdown] [--threads N]``;
``python -m bench scaling --help``: thread scaling of the headline cases (``bench/scaling.py``).
"""
import argparse
import gc
import os
import platform
import statistics
import sys
import time
import tracemalloc

import numpy as np

from bench import registry
from bench.registry import Options, Table, fmt_time


# --------------------------------------------------------------------------- timing

def _done(times, total, opts):
    return len(times) >= opts.max_repeats or (
        total >= opts.budget and (len(times) >= opts.min_repeats or total >= 3 * opts.budget))


def time_interleaved(funcs, opts):
    """Time zero-argument callables round-robin (each already warmed up).

    Parameters
    ----------
    funcs : list of callable
    opts : Options
        ``budget`` (seconds per callable), ``min_repeats`` and ``max_repeats``.

    Returns
    -------
    list of (median seconds, repeats) or the exception a call raised, one per callable.
    """
    times = [[] for _ in funcs]
    totals = [0.0] * len(funcs)
    out = [None] * len(funcs)
    active = list(range(len(funcs)))
    while active:
        for i in list(active):
            try:
                t = time.perf_counter()
                funcs[i]()
                dt = time.perf_counter() - t
            except Exception as exc:  # reported in the table, the others go on
                out[i] = exc
                active.remove(i)
                continue
            times[i].append(dt)
            totals[i] += dt
            if _done(times[i], totals[i], opts):
                out[i] = (statistics.median(times[i]), len(times[i]))
                active.remove(i)
    return out


def peak_memory(func):
    """Peak bytes allocated (through tracemalloc) during one call of ``func``, beyond what was live."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        func()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def agrees(result, ref):
    """Whether ``result`` matches the reference output in shape and values.

    The tolerance (1e-4 of the reference's largest magnitude, 1e-9 for float64
    references) is loose enough for FFT round-off and tight enough to catch a kernel
    flipped or shifted by one sample.
    """
    result, ref = np.asarray(result), np.asarray(ref)
    if result.shape != ref.shape:
        return False
    scale = float(np.max(np.abs(ref))) if ref.size else 0.0
    rtol = 1e-9 if ref.dtype == np.float64 else 1e-4
    diff = np.max(np.abs(result.astype(np.float64) - ref)) if ref.size else 0.0
    return bool(diff <= rtol * max(scale, 1e-30))


def fma_peak(dtype, threads):
    """FMA peak in GFLOP/s for ``threads`` threads (the 2-thread anchor scaled linearly)."""
    return registry.FMA_PEAK_2_THREADS.get(dtype, registry.FMA_PEAK_2_THREADS["float64"]) * threads / 2


# --------------------------------------------------------------------------- formatting

def fmt_bytes(n):
    """Mebibytes with one decimal."""
    return f"{n / 2**20:.1f} MiB"


def render(table, markdown=False):
    """Return ``table`` as GitHub markdown or as aligned plain text."""
    out = [f"### {table.title}" if markdown else f"== {table.title} =="]
    rows = [table.headers] + table.rows
    if markdown:
        out.append("")
        out.append("| " + " | ".join(table.headers) + " |")
        out.append("|" + "|".join("---" for _ in table.headers) + "|")
        out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in table.rows]
        out.append("")
        out += [f"{n}  " for n in table.notes]
    else:
        widths = [max(len(r[i]) for r in rows) for i in range(len(table.headers))]
        line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip()
        out.append(line(table.headers))
        out.append("  ".join("-" * w for w in widths))
        out += [line(r) for r in table.rows]
        out += [f"  {n}" for n in table.notes]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- running

def run_case(case, opts, errors):
    """Measure every implementation of ``case``; return its table rows.

    A failing implementation gets a row ``error N`` and its message is appended to
    ``errors`` (printed under the table), so one broken call does not stop the suite.

    The first fastdeconv implementation is the reference: ratios are
    ``time / reference time`` (above 1: fastdeconv is faster) and every result is
    checked against its output.
    """
    rows = []
    impls = case.build()
    warm = []
    for impl in impls:
        try:
            warm.append(impl.func())
        except Exception as exc:
            warm.append(exc)
    ok = [i for i, w in enumerate(warm) if not isinstance(w, Exception)]
    timed = dict(zip(ok, time_interleaved([impls[i].func for i in ok], opts)))
    ref_time = ref_result = None
    for i, impl in enumerate(impls):
        cells = [case.name if not rows else "", impl.name]
        outcome = timed.get(i, warm[i])
        try:
            if isinstance(outcome, Exception):
                raise outcome
            median, repeats = outcome
            result = warm[i]
            mem = fmt_bytes(peak_memory(impl.func)) if opts.memory else ""
        except Exception as exc:
            rows.append(cells + [f"error {len(errors) + 1}"] + [""] * (5 + opts.memory))
            errors.append(f"error {len(errors) + 1} ({case.name}, {impl.name}): "
                          f"{type(exc).__name__}: {exc}")
            continue
        if ref_time is None and impl.fastdeconv:
            ref_time, ref_result, ratio, check = median, result, "ref", "ref"
        else:
            ratio = f"{median / ref_time:.2f}×" if ref_time else ""
            check = "" if ref_result is None else ("ok" if agrees(result, ref_result) else "DIFF")
        gflops = peak = ""
        if case.flops and impl.direct:
            rate = case.flops / median / 1e9
            gflops = f"{rate:.1f}"
            peak = f"{100 * rate / fma_peak(case.dtype, opts.threads):.0f}%"
        rows.append(cells + [fmt_time(median), str(repeats), ratio, gflops, peak]
                    + ([mem] if opts.memory else []) + [check])
    del warm
    return rows


def case_headers(opts):
    """Column headers of a case table."""
    return (["case", "implementation", "median", "n", "ratio", "GFLOP/s", "% FMA peak"]
            + (["peak mem"] if opts.memory else []) + ["check"])


CASE_NOTES = [
    "ratio = time / time of the first fastdeconv row of the case (> 1: fastdeconv is faster); "
    "n = timed repeats (round-robin over the case's implementations) after one warm-up call.",
    "GFLOP/s = 2 x output size x kernel size / time, for direct algorithms only; "
    "FMA peak = {peak} GFLOP/s at {threads} thread(s).",
    "check: output equal to the reference row's (rel. tol 1e-4 float32, 1e-9 float64).",
]


def machine_line(opts):
    """One line describing the machine and the library versions."""
    cpu = platform.processor() or "unknown CPU"
    simd = ""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
        cpu = next(l.split(":", 1)[1].strip() for l in info.splitlines() if l.startswith("model name"))
        flags = next(l for l in info.splitlines() if l.startswith("flags")).split()
        simd = next((s for s in ("avx512f", "avx2", "avx", "sse4_2") if s in flags), "")
    except (OSError, StopIteration):
        pass
    parts = [f"{cpu}{' (' + simd + ')' if simd else ''}", f"{os.cpu_count()} cores",
             f"{opts.threads} thread(s) used", f"Python {platform.python_version()}",
             f"numpy {np.__version__}"]
    for name in ("scipy", "numba", "cv2", "skimage", "torch", "fastdeconv"):
        mod = registry.peer(name)
        if mod is not None:
            parts.append(f"{'opencv' if name == 'cv2' else name} {getattr(mod, '__version__', '?')}")
    backends = registry.compiled_backends()
    parts.append(f"fastdeconv backends: {', '.join(backends) if backends else 'none'}")
    if hasattr(os, "getloadavg"):
        # Other runnable processes stall multi-threaded kernels by a scheduler time slice.
        load = os.getloadavg()[0]
        parts.append(f"load average {load:.2f}" + (" (busy machine: noisy times)" if load > 0.5 else ""))
    return "Machine: " + "; ".join(parts)


def set_threads(n):
    """Use ``n`` threads in fastdeconv, OpenCV and in subprocesses."""
    for var in ("FASTDECONV_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[var] = str(n)
    fd = registry.fastdeconv()
    if fd is not None and hasattr(fd, "set_num_threads"):
        fd.set_num_threads(n)
    cv2 = registry.peer("cv2")
    if cv2 is not None:
        cv2.setNumThreads(n)


def parse_args(argv, prog="python -m bench"):
    """Parse the command line (see ``python -m bench --help``)."""
    suites = list(registry.suites())
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="small sizes and few repeats (< 1 minute)")
    p.add_argument("--suite", action="append", choices=suites, metavar="NAME",
                   help=f"run only this suite (repeatable); one of {', '.join(suites)}")
    p.add_argument("-k", dest="pattern", default=None,
                   help="run only cases whose group or name contains this text")
    p.add_argument("--markdown", action="store_true", help="print GitHub markdown tables")
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads for fastdeconv and OpenCV (default: all CPUs)")
    p.add_argument("--memory", action=argparse.BooleanOptionalAction, default=None,
                   help="measure peak memory with tracemalloc (default: on unless --quick)")
    p.add_argument("--budget", type=float, default=None,
                   help="seconds of timed calls per implementation (default 1, --quick 0.1)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    return p.parse_args(argv)


def main(argv=None, prog="python -m bench"):
    """Command-line entry point (``python -m bench``, ``fastdeconv bench``).

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when None.  A first
        argument ``scaling`` runs ``bench/scaling.py``'s ``main`` with the rest.
    prog : str
        Program name shown by ``--help`` (``'fastdeconv bench'`` from the CLI).

    Returns
    -------
    int
        Exit status (0).
    """
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "scaling":
        from bench import scaling
        return scaling.main(argv[1:], prog=f"{prog} scaling")
    args = parse_args(argv, prog)
    opts = Options(quick=args.quick, threads=min(max(1, args.threads), os.cpu_count() or 1),
                   memory=(not args.quick) if args.memory is None else args.memory)
    opts.budget = args.budget if args.budget is not None else (0.1 if opts.quick else 1.0)
    if opts.quick:
        opts.min_repeats, opts.max_repeats = 2, 10
    set_threads(opts.threads)
    md = args.markdown
    emit = lambda text: (sys.stdout.write(text + "\n"), sys.stdout.flush())

    selected = {n: m for n, m in registry.suites().items() if not args.suite or n in args.suite}
    if args.list:
        for name, module in selected.items():
            for case in module.cases(opts):
                emit(f"{name}: {case.group} / {case.name}")
        return 0

    emit(machine_line(opts) + ("  " if md else ""))
    emit("")
    match = lambda text: args.pattern is None or args.pattern.lower() in text.lower()
    start = time.perf_counter()
    for name, module in selected.items():
        groups = {}
        for case in module.cases(opts):
            if match(f"{case.group} {case.name}"):
                groups.setdefault(case.group, []).append(case)
        for group, cases in groups.items():
            rows, errors, peaks = [], [], sorted({c.dtype for c in cases if c.flops})
            for case in cases:
                rows += run_case(case, opts, errors)
                gc.collect()
            peak = " / ".join(f"{fma_peak(d, opts.threads):.0f} ({d})" for d in peaks)
            notes = [n.format(peak=peak, threads=opts.threads) for n in CASE_NOTES
                     if peaks or "GFLOP" not in n] + errors
            emit(render(Table(f"{name}: {group}", case_headers(opts), rows, notes), md))
        for title, make in getattr(module, "reports", lambda o: {})(opts).items():
            if match(title):
                table = make()
                table.title = f"{name}: {table.title}"
                emit(render(table, md))
    emit(f"Total benchmark time: {time.perf_counter() - start:.0f} s{threading_layer_note()}")
    return 0


def threading_layer_note():
    """``'; Numba threading layer: omp'`` once Numba has run a parallel kernel, else ''."""
    numba = sys.modules.get("numba")
    if numba is not None:
        try:
            return f"; Numba threading layer: {numba.threading_layer()}"
        except ValueError:  # no parallel kernel ran yet
            pass
    return ""
