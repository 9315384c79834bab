"""Backend registry, backend selection and thread control.

Three backends run the compiled loops (``fastdeconv/kernels``): ``'numba'`` (JIT, the
default), ``'cython'`` (extension modules built from ``csrc/``) and ``'python'`` (the naive
reference, for tests).  Resolution for each call: explicit ``backend=`` argument, then the
innermost ``with set_backend(...)`` block of the calling thread, then the process default
set by a plain ``set_backend(...)`` call, then ``FASTDECONV_BACKEND``, then the first
available backend.  An explicitly requested backend that is missing is an error.

Importing this module imports neither Numba nor the extension modules: availability is
probed without compiling, and a backend's kernels are loaded on first use.
"""
import contextlib
import contextvars
import importlib
import importlib.util
import os
import threading

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
_available = None
_loaded = {}
_num_threads = None


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


class _BackendSetting:
    """What ``set_backend`` returns: the change is already made; ``with`` makes it local."""

    def __init__(self, name, previous_default):
        self.name = name
        self._previous_default = previous_default
        self._token = None

    def __enter__(self):
        global _default_backend
        # Inside a with-block the choice belongs to this thread (and asyncio task) only:
        # put the process default back and carry the choice in a context variable.
        with _state_lock:
            _default_backend = self._previous_default
        self._token = _context_backend.set(self.name)
        return self.name

    def __exit__(self, *exc):
        _context_backend.reset(self._token)
        return False

    def __repr__(self):
        return f"set_backend({self.name!r})"


def set_backend(name):
    """Choose the backend for later calls.

    As a plain call it sets the process-wide default; as a context manager
    (``with set_backend('cython'): ...``) it applies to the calling thread only, inside
    the block, and the previous choice is restored on exit.

    Parameters
    ----------
    name : {'numba', 'cython', 'python'}
        Must be one of :func:`backends`.

    Raises
    ------
    ValueError
        If ``name`` is unknown or not available here.

    Examples
    --------
    >>> import numpy as np, fastdeconv
    >>> with fastdeconv.set_backend('python'):
    ...     fastdeconv.convolve([1.0, 2.0], [1.0, 1.0])
    array([1., 3., 2.])
    """
    global _default_backend
    name = _check_name(name, "name")
    with _state_lock:
        previous = _default_backend
        _default_backend = name
    return _BackendSetting(name, previous)


_CPU_COUNT = os.cpu_count() or 1


def _max_threads():
    return _CPU_COUNT


def get_num_threads():
    """Number of threads the compiled backends and the FFTs use.

    Examples
    --------
    >>> import fastdeconv
    >>> fastdeconv.get_num_threads() >= 1
    True
    """
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
    _num_threads = min(n, _max_threads())


@contextlib.contextmanager
def thread_limit(n):
    """Use at most ``n`` threads in the calling thread (and asyncio task), inside the block.

    For code that runs several fastdeconv calls at once itself (dask tasks, thread
    pools): each call then uses ``n`` threads for its kernels and FFTs instead of
    :func:`get_num_threads`'s process-wide count, which is left untouched.

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
