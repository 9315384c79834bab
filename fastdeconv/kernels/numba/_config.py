"""The one place where the Numba compilation options of every kernel are set.

- ``nogil=True``: kernels run without the GIL (dask threads, audio callbacks).
- ``cache=True``: compiled code is reused by the next process (tested in
  ``tests/test_backends.py``); the cache lives in ``__pycache__`` next to the source.
- ``fastmath``: only ``contract`` (FMA), ``nsz`` and ``arcp``; never ``nnan``/``ninf``
  (inputs may hold NaN and must propagate it) and never ``reassoc`` (results would
  depend on the vector width the machine picks).
"""
import numba

FASTMATH = frozenset({"contract", "nsz", "arcp"})


def kernel_jit(func=None, **options):
    """``numba.njit`` with the project's options; usable bare or with overrides."""
    opts = dict(nogil=True, cache=True, fastmath=set(FASTMATH), error_model="numpy")
    opts.update(options)

    def wrap(f):
        return numba.njit(**opts)(f)

    return wrap(func) if func is not None else wrap
