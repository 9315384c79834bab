"""Backend registry, backend selection and thread control.

Three backends run the compiled loops (``fastdeconv/kernels``): ``'numba'`` (JIT, the
default), ``'cython'`` (extension modules built from ``csrc/``) and ``'python'`` (the naive
reference, for tests).  Resolution for each call: explicit ``backend=`` argument, then the
innermost ``with set_backend(...)`` block of the calling thread, then the process default
set by a plain ``set_backend(...)`` call, then ``FASTDECONV_BACKEND``, then the first
available backend.  An explicitly requested backend that is missing is an error.

Importing this module imports neither Numba nor the extension modules: availability is
probed without compiling, and a backend's kernels are loaded on first use.

Threads and ``fork``: a process forked (``os.fork``, ``multiprocessing``'s ``'fork'``
start method) after threaded kernels may have run here runs single-threaded: see
:func:`get_num_threads`.
"""
import contextlib
import bisect
import contextvars
import dis
import importlib
import importlib.util
import os
import sys
import threading
import warnings

__all__ = ["backends", "get_backend", "set_backend", "get_num_threads", "set_num_threads",
           "thread_limit"]

_ORDER = ("numba", "cython", "python")
_MODULES = {
    "numba": "fastdeconv.kernels.numba",
    "cython": "fastdeconv.kernels.cython",
    "python": "fastdeconv.kernels.reference",
}

_context_backend = contextvars.ContextVar("fastdeconv_backend", default=None)
_context_threads = contextvars.ContextVar("fastdeconv_threads", default=None)
_state_lock = threading.Lock()
_default_backend = None  # set by a plain set_backend() call
_default_owner = None  # the _BackendSetting that set it (see _BackendSetting.__enter__)
_available = None
_loaded = {}
_num_threads = None
# True in a process forked after threaded kernels may have run in its parent (see
# _after_fork_in_child): get_num_threads() is then 1, so only serial kernels run.
_fork_serial = False


def _probe(name):
    if name == "python":
        return True
    if name == "numba":
        return importlib.util.find_spec("numba") is not None
    if name == "cython":
        try:
            return importlib.util.find_spec("fastdeconv.kernels.cython.direct") is not None
        except (ImportError, ValueError):
            return False
    return False


def backends():
    """Return the available backends, fastest first.

    Returns
    -------
    tuple of str
        A subset of ``('numba', 'cython', 'python')`` in preference order.

    Examples
    --------
    >>> import fastdeconv
    >>> 'python' in fastdeconv.backends()
    True
    """
    global _available
    if _available is None:
        _available = tuple(name for name in _ORDER if _probe(name))
    return _available


def _check_name(name, argname="backend"):
    if not isinstance(name, str):
        raise TypeError(f"{argname} must be a str, one of {_ORDER}, got {type(name).__name__}")
    if name not in _ORDER:
        raise ValueError(f"{argname} must be one of {_ORDER}, got {name!r}")
    if name not in backends():
        hint = {
            "numba": "install it with `pip install numba`",
            "cython": "the compiled extension was not built; reinstall with "
                      "`pip install -e .` and a C compiler with OpenMP",
        }.get(name, "")
        raise ValueError(f"{argname} {name!r} is not available on this installation"
                         f" ({hint}); available: {backends()}")
    return name


def resolve_backend(backend=None):
    """Name of the backend a call runs on (validating an explicit request)."""
    if backend is not None:
        return _check_name(backend)
    name = _context_backend.get()
    if name is not None:
        return name
    if _default_backend is not None:
        return _default_backend
    env = os.environ.get("FASTDECONV_BACKEND")
    if env:
        return _check_name(env.strip().lower(), "FASTDECONV_BACKEND")
    return backends()[0]


def get_backend():
    """Return the name of the backend calls use when they pass no ``backend=``.

    Examples
    --------
    >>> import fastdeconv
    >>> fastdeconv.get_backend() in fastdeconv.backends()
    True
    """
    return resolve_backend(None)


# --------------------------------------------------------------------------- set_backend
#
# Why the call site is read: ``set_backend(name)`` alone must change the process-wide
# default, ``with set_backend(name):`` must change nothing but the calling thread's (and
# asyncio task's) context.  Both run the same call before anything else happens, and a
# setting made at the call and undone in ``__enter__`` (what this module did before) is
# visible to every other thread in between, and lost or kept for good when two threads
# interleave their calls and ``__enter__``s (measured: another thread saw the wrong backend
# in 98 % of 4.75 M checks, and the default ended on a backend nobody chose).  The only
# thing that tells the two forms apart at call time is the caller's next instruction: in
# ``with set_backend(name):`` the call's result goes straight into the with-statement
# (``BEFORE_WITH`` on 3.11-3.13, ``SETUP_WITH`` on 3.10, ``COPY 1; LOAD_SPECIAL`` on
# 3.14).  Reading it is cheap (one ``dis`` pass per call site, cached), needs no
# cooperation from the caller and no timing assumption.  A ``return set_backend(name)``
# is followed to its caller's frame (a few levels), so a helper returning the setting
# works in both forms too.  Anything else (a name bound first and entered later, no frame
# introspection on this interpreter, an unknown bytecode) counts as a plain call: the
# default changes at once; entering that object later then takes the change back (the
# old, racy behaviour, kept only for this fallback).

_WITH_OPS = frozenset({"BEFORE_WITH", "SETUP_WITH"})  # 3.11-3.13 / 3.10
_SKIP_OPS = frozenset({"NOP", "CACHE", "EXTENDED_ARG"})
_CALL_PREFIX_OPS = frozenset({"PRECALL", "KW_NAMES", "EXTENDED_ARG", "NOP"})  # then CALL
_RETURN_HOPS = 4  # frames followed through ``return set_backend(...)``
_site_cache = {}  # (code object, call offset) -> 'with' | 'return' | 'other'
_SITE_CACHE_MAX = 4096  # bounds the code objects kept alive by the cache


def _classify_site(code, offset):
    """What the caller does with the value of the call at byte ``offset`` of ``code``."""
    instrs = list(dis.get_instructions(code))  # inline caches hidden
    # The frame's offset is that of the call instruction, or of one of its inline cache
    # entries (3.11/3.12 when the call was specialised), or of the PRECALL before it
    # (3.11): take the instruction that holds the offset and step to its CALL.
    at = bisect.bisect_right([ins.offset for ins in instrs], offset) - 1
    if at < 0:
        return "other"
    while at + 1 < len(instrs) and instrs[at].opname in _CALL_PREFIX_OPS:
        at += 1
    following = [ins for ins in instrs[at + 1:at + 6] if ins.opname not in _SKIP_OPS][:2]
    if not following:
        return "other"
    first = following[0]
    if first.opname in _WITH_OPS:
        return "with"
    if (first.opname == "COPY" and first.arg == 1 and len(following) == 2
            and following[1].opname == "LOAD_SPECIAL"):
        return "with"  # 3.14: the with-statement loads __exit__ off a copy of the value
    if first.opname == "RETURN_VALUE":
        return "return"
    return "other"


def _site_kind(frame):
    key = (frame.f_code, frame.f_lasti)
    kind = _site_cache.get(key)
    if kind is None:
        try:
            kind = _classify_site(*key)
        except Exception:  # an unknown bytecode format: the safe answer is "plain call"
            kind = "other"
        if len(_site_cache) >= _SITE_CACHE_MAX:
            _site_cache.clear()
        _site_cache[key] = kind
    return kind


def _called_as_with(depth=2):
    """Whether the value of the call ``depth`` frames up feeds a with-statement."""
    try:
        frame = sys._getframe(depth)
    except (AttributeError, ValueError):  # no frame introspection here: a plain call
        return False
    for _ in range(_RETURN_HOPS + 1):
        if frame is None:
            return False
        kind = _site_kind(frame)
        if kind != "return":
            return kind == "with"
        frame = frame.f_back
    return False


class _BackendSetting:
    """What :func:`set_backend` returns.

    Made by ``with set_backend(name):`` (``scoped``): nothing is changed until
    ``__enter__``, which sets the calling context's backend only.  Made by a plain call:
    the process default is already changed; entering it later (``s = set_backend(name)``
    ... ``with s:``) puts the default back, if nobody changed it since, and makes the
    choice local instead (other threads may have seen it in between).
    """

    __slots__ = ("name", "_scoped", "_previous_default", "_tokens")

    def __init__(self, name, scoped, previous_default=None):
        self.name = name
        self._scoped = scoped
        self._previous_default = previous_default
        self._tokens = []

    def __enter__(self):
        global _default_backend, _default_owner
        if not self._scoped:
            with _state_lock:
                if _default_owner is self and _default_backend == self.name:
                    _default_backend = self._previous_default
                    _default_owner = None
            self._scoped = True
        self._tokens.append(_context_backend.set(self.name))
        return self.name

    def __exit__(self, *exc):
        _context_backend.reset(self._tokens.pop())
        return False

    def __repr__(self):
        return f"set_backend({self.name!r})"


def set_backend(name):
    """Choose the backend for later calls.

    As a plain call (``fastdeconv.set_backend('cython')``) it sets the process-wide
    default, seen by every thread.  As a context manager (``with
    fastdeconv.set_backend('cython'): ...``) it applies to the calling thread and asyncio
    task only (a :mod:`contextvars` variable), inside the block, and the previous choice
    comes back on exit; it never changes what other threads see, not even for an
    instant, and leaves the process default untouched.

    Python gives a function no way to know that its result is about to be used by a
    with-statement, so ``set_backend`` reads its caller's next bytecode instruction
    (``BEFORE_WITH`` / ``SETUP_WITH`` / ``COPY 1; LOAD_SPECIAL``, by Python version; one
    :mod:`dis` pass per call site, cached).  ``with set_backend(...)`` written directly,
    or through helpers that ``return set_backend(...)``, is recognised.  A result bound to
    a name first and entered later, or handed to something that enters it
    (``ExitStack.enter_context``), counts as a plain call: the default changes at once,
    and entering the object takes that back (unless the default was changed again since)
    and makes the choice local; other threads may see the default change in between, so
    write the call in the with-statement.  Where the interpreter offers no frame
    introspection (``sys._getframe``), every call counts as a plain call.

    Parameters
    ----------
    name : {'numba', 'cython', 'python'}
        Must be one of :func:`backends`.

    Returns
    -------
    context manager
        Entering it returns ``name``.

    Raises
    ------
    ValueError
        If ``name`` is unknown or not available here.
    TypeError
        If ``name`` is not a str.

    Examples
    --------
    >>> import numpy as np, fastdeconv
    >>> with fastdeconv.set_backend('python'):
    ...     fastdeconv.convolve([1.0, 2.0], [1.0, 1.0])
    array([1., 3., 2.])
    """
    global _default_backend, _default_owner
    name = _check_name(name, "name")
    if _called_as_with(2):  # 2 frames up from _called_as_with: set_backend's caller
        return _BackendSetting(name, True)
    with _state_lock:
        setting = _BackendSetting(name, False, _default_backend)
        _default_backend = name
        _default_owner = setting
    return setting


_CPU_COUNT = os.cpu_count() or 1


def _max_threads():
    return _CPU_COUNT


def get_num_threads():
    """Number of threads the compiled backends and the FFTs use.

    The innermost :func:`thread_limit` block of the calling thread, else the count set by
    :func:`set_num_threads`, else ``FASTDECONV_NUM_THREADS`` or ``NUMBA_NUM_THREADS``,
    else the number of CPUs.

    In a process forked (``os.fork``, ``multiprocessing``'s ``'fork'`` start method)
    from one that had started a GNU OpenMP runtime (the Cython kernels, Numba's ``omp``
    layer, or any other library's) or Numba's threading layer, it is always 1: the
    kernels' thread pools do not survive ``fork`` (a threaded kernel in such a child
    hangs, or Numba kills the child), so the child runs the serial kernels and
    single-threaded FFTs.  Use the ``'spawn'`` or ``'forkserver'`` start method to get
    threads in worker processes; children forked before any threaded kernel ran keep
    their threads.

    Examples
    --------
    >>> import fastdeconv
    >>> fastdeconv.get_num_threads() >= 1
    True
    """
    # Read first, above the per-context limit: nothing in a forked child may start a
    # parallel region (the dispatchers pick the serial kernels when this returns 1).
    if _fork_serial:
        return 1
    limit = _context_threads.get()
    if limit is not None:
        return limit
    if _num_threads is not None:
        return _num_threads
    env = os.environ.get("FASTDECONV_NUM_THREADS") or os.environ.get("NUMBA_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return min(int(env), _max_threads())
    return _max_threads()


def set_num_threads(n):
    """Set the number of threads for both compiled backends and for ``scipy.fft``.

    Parameters
    ----------
    n : int
        At least 1; values above the number of CPUs are clipped to it.

    Raises
    ------
    TypeError
        If ``n`` is not an int.
    ValueError
        If ``n`` is below 1.

    Warns
    -----
    RuntimeWarning
        If ``n`` > 1 in a process forked after threaded kernels may have run in its parent
        (see :func:`get_num_threads`): the count stays 1.  Clamping rather than raising
        keeps worker initialisers written for the parent's thread count working; the
        threads cannot be had back in such a child (a GNU OpenMP runtime cannot run a
        parallel region after ``fork``), so start the workers with ``'spawn'`` or
        ``'forkserver'`` instead.

    Examples
    --------
    >>> import fastdeconv
    >>> fastdeconv.set_num_threads(1)
    >>> fastdeconv.get_num_threads()
    1
    """
    global _num_threads
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    if _fork_serial and n > 1:
        warnings.warn(
            f"set_num_threads(n={n}): this process was forked after its parent started "
            "threaded kernels (GNU OpenMP / Numba), whose threads cannot be used after "
            "fork(); it stays single-threaded. Start worker processes with the 'spawn' "
            "or 'forkserver' method to use threads in them.", RuntimeWarning, stacklevel=2)
        n = 1
    _num_threads = min(n, _max_threads())


# --------------------------------------------------------------------------- fork
#
# After fork() only the forking thread exists in the child, but the OpenMP runtime and
# Numba still believe their worker threads do: GNU OpenMP's next parallel region waits
# for them forever (the Cython kernels hang), and Numba's ``omp`` layer kills the child
# ("fork() called from a process already using GNU OpenMP"). Neither can be reset from
# here, so such a child must never enter a parallel region: _fork_serial makes
# get_num_threads() return 1, and every place that starts one (the dispatchers in
# kernels/_dispatch.py, kernels/*/__init__.py, _direct.py, _memory.py, nn.py,
# _fft.spectrum_multiply) runs the serial variant at one thread.  The FFT libraries
# (ducc0, pocketfft in scipy.fft) restart their pools after fork, but get one thread too,
# for one simple rule.
#
# Only a child whose parent may have started those threads is restricted, so that fork
# before any threaded work (a pool made at start-up, the children of a 'forkserver'
# server that imported fastdeconv with __main__ but ran nothing) keeps its threads.  The test is
# made at fork time, on what the child inherits: Numba's threading layer launched (any
# layer; it starts its threads at launch), or a GNU OpenMP runtime mapped in the
# process (loaded with the Cython kernels, Numba's omp layer, or any other library
# using it; loading alone makes no thread, but telling the two apart is not possible from
# here, so this errs on the serial side).  Where /proc is missing, a loaded Cython
# kernel module stands for the OpenMP runtime.

def _parent_may_have_threads():
    parallel = sys.modules.get("numba.np.ufunc.parallel")
    if parallel is not None and getattr(parallel, "_is_initialized", True):
        return True
    try:
        with open("/proc/self/maps", "rb") as maps:
            return any(b"libgomp" in line for line in maps)
    except OSError:
        return any(mod.startswith("fastdeconv.kernels.cython.") for mod in list(sys.modules))


def _after_fork_in_child():
    global _fork_serial
    if not _fork_serial:
        try:
            _fork_serial = _parent_may_have_threads()
        except Exception:  # never fail a fork; unsure means serial
            _fork_serial = True


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@contextlib.contextmanager
def thread_limit(n):
    """Use at most ``n`` threads in the calling thread (and asyncio task), inside the block.

    For code that runs several fastdeconv calls at once itself (dask tasks, thread
    pools): each call then uses ``n`` threads for its kernels and FFTs instead of
    :func:`get_num_threads`'s process-wide count, which is left untouched.  The limit
    lives in a :mod:`contextvars` variable set on entry and reset on exit, so other
    threads and asyncio tasks never see it.  In a forked child restricted to one thread
    (see :func:`get_num_threads`) the block runs on one thread whatever ``n``.

    Parameters
    ----------
    n : int
        At least 1; values above the number of CPUs are clipped to it.

    Examples
    --------
    >>> import fastdeconv
    >>> from fastdeconv._backends import thread_limit
    >>> with thread_limit(1):
    ...     fastdeconv.get_num_threads()
    1
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    token = _context_threads.set(min(n, _max_threads()))
    try:
        yield
    finally:
        _context_threads.reset(token)


def kernels(name):
    """The kernel namespace of backend ``name`` (imported, not compiled, on first use)."""
    mod = _loaded.get(name)
    if mod is None:
        mod = importlib.import_module(_MODULES[name])
        _loaded[name] = mod
    return mod


def kernel_module(backend, name):
    """Module ``name`` (e.g. ``'transposed'``) of backend ``backend``'s kernel package.

    Numba kernels with ``parallel=True`` must be called after :func:`sync_threads`.
    """
    return importlib.import_module(f"{_MODULES[backend]}.{name}")


def sync_threads(backend):
    """Apply :func:`get_num_threads` to ``backend``'s thread pool before a parallel call.

    ``numba.set_num_threads`` is per calling thread, so this runs on every call; the
    Cython modules read their own C-level count (``set_num_threads`` in each module).
    """
    if backend == "numba":
        import numba
        numba.set_num_threads(min(get_num_threads(), numba.config.NUMBA_NUM_THREADS))
