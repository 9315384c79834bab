"""What the benchmark suite measures: cases, their implementations and the peers.

A *case* is one problem (inputs of fixed shapes and dtype) and the list of
implementations that solve it: fastdeconv on each available compiled backend, then
every installed peer library.  Suites are the modules ``bench/suite_NAME.py``; each
defines ``cases(opts)`` returning :class:`Case` objects and may define
``reports(opts)`` returning ``{title: make}`` where ``make()`` measures something
once (import time, JIT time) and returns a :class:`Table`.  Adding a suite is adding one module:
:func:`suites` finds it.

Everything here is pure data and small helpers; timing lives in ``bench/runner.py``.
"""
import dataclasses
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import tempfile
from typing import Callable, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# FMA peak of this machine with 2 threads (PERF-ANCHORS.md), GFLOP/s; scaled by threads / 2.
FMA_PEAK_2_THREADS = {"float64": 107.0, "float32": 204.0}


@dataclasses.dataclass
class Impl:
    """One implementation of a case.

    Parameters
    ----------
    name : str
        Row label, e.g. ``'fastdeconv[numba]'`` or ``'scipy.ndimage.convolve'``.
    func : callable
        Zero-argument closure over the case's inputs; returns the result array.
    direct : bool
        True for direct (non-FFT, non-separable) algorithms: only those get a GFLOP/s figure.
    fastdeconv : bool
        True for fastdeconv's own implementations.
    """
    name: str
    func: Callable[[], object]
    direct: bool = False
    fastdeconv: bool = False


@dataclasses.dataclass
class Case:
    """One benchmark problem.

    Parameters
    ----------
    group : str
        Title of the table the case is printed in.
    name : str
        Row label of the case inside the table.
    build : callable
        Makes the inputs and returns a list of :class:`Impl` closing over them.  Called
        only when the case runs, so filtered-out cases allocate nothing.
    flops : float, optional
        Floating-point operations of the direct algorithm (2 x output size x kernel size).
    dtype : str
        Dtype name, to pick the FMA peak for the "% of peak" column.
    """
    group: str
    name: str
    build: Callable[[], List[Impl]]
    flops: Optional[float] = None
    dtype: str = "float64"


@dataclasses.dataclass
class Table:
    """A finished table: title, column headers, rows of strings, and footnotes."""
    title: str
    headers: List[str]
    rows: List[List[str]]
    notes: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Options:
    """Run options passed to every suite (see ``python -m bench --help``)."""
    quick: bool = False
    threads: int = 1
    memory: bool = False
    budget: float = 1.0       # seconds of timed calls per implementation
    min_repeats: int = 3
    max_repeats: int = 50


def fmt_time(seconds):
    """``1.23 ms``-style string with three significant digits."""
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6)):
        if seconds >= scale or unit == "µs":
            return f"{seconds / scale:.3g} {unit}"


# --------------------------------------------------------------------------- peers

_peers = {}


def peer(module):
    """Import an optional peer library, or return None when it is not installed.

    Parameters
    ----------
    module : str
        Dotted module name, e.g. ``'cv2'`` or ``'scipy.ndimage'``.
    """
    if module not in _peers:
        try:
            _peers[module] = importlib.import_module(module)
        except ImportError:
            _peers[module] = None
    return _peers[module]


def fastdeconv():
    """The ``fastdeconv`` package, or None if it cannot be imported."""
    return peer("fastdeconv")


def compiled_backends():
    """fastdeconv's compiled backends available here (the naive ``'python'`` one is left out)."""
    fd = fastdeconv()
    if fd is None or not hasattr(fd, "backends"):
        return []
    return [b for b in fd.backends() if b != "python"]


def fastdeconv_impls(function, call, direct=False, per_backend=True, label=None):
    """fastdeconv implementations of a case, one per compiled backend.

    Parameters
    ----------
    function : str
        Name of the public function, e.g. ``'convolve'``; no implementation is returned
        if fastdeconv does not (yet) export it.
    call : callable
        ``call(f, backend)`` runs the case with the public function ``f``; ``backend`` is
        a backend name, or None when ``per_backend`` is False.
    direct : bool
        Whether the call runs a direct algorithm (see :class:`Impl`).
    per_backend : bool
        False for calls whose speed does not depend on the backend (FFT paths): one
        implementation, called with ``backend=None``.
    label : str, optional
        Row label instead of ``'fastdeconv.FUNCTION'``.
    """
    fd = fastdeconv()
    f = getattr(fd, function, None) if fd is not None else None
    if f is None:
        return []
    label = label or f"fastdeconv.{function}"
    if not per_backend:
        return [Impl(label, lambda: call(f, None), direct, True)]
    return [Impl(f"{label}[{b}]", lambda b=b: call(f, b), direct, True)
            for b in compiled_backends()]


# --------------------------------------------------------------------------- suites

def suites():
    """Map each suite name to its module, from the ``bench/suite_*.py`` files."""
    import bench
    found = {}
    for info in pkgutil.iter_modules(bench.__path__):
        if info.name.startswith("suite_"):
            found[info.name[len("suite_"):]] = importlib.import_module(f"bench.{info.name}")
    return dict(sorted(found.items()))


# --------------------------------------------------------------------------- subprocesses

def python_json(code, env=None, timeout=600):
    """Run ``code`` in a fresh Python from the repository root; parse its last stdout line as JSON.

    Parameters
    ----------
    code : str
        Python source; it must print one JSON document as its last line.
    env : dict, optional
        Extra environment variables.

    Returns
    -------
    object
        The decoded JSON.

    Raises
    ------
    RuntimeError
        If the process fails (its stderr tail is in the message).
    """
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = ROOT + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.update(env or {})
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip()
                           else f"exit code {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


HEAVY = ("numba", "scipy.fft", "scipy.signal", "scipy.ndimage", "scipy.linalg", "cv2")


def import_time(module, repeats=3, env=None):
    """Median wall time of ``import module`` in a fresh interpreter, and what it pulled in.

    Returns
    -------
    seconds : float
    heavy : list of str
        Which of :data:`HEAVY` ended up in ``sys.modules`` (besides ``module`` itself).
    """
    code = ("import sys, time, json\n"
            "t = time.perf_counter()\n"
            f"import {module}\n"
            "t = time.perf_counter() - t\n"
            f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
            "print(json.dumps([t, heavy]))\n")
    runs = [python_json(code, env) for _ in range(repeats)]
    times = sorted(r[0] for r in runs)
    heavy = [m for m in runs[0][1] if not (module + ".").startswith(m + ".")]
    return times[len(times) // 2], heavy


def fresh_cache_dir():
    """A new temporary directory for ``NUMBA_CACHE_DIR`` (caller removes it)."""
    return tempfile.mkdtemp(prefix="fastdeconv-bench-numba-")
