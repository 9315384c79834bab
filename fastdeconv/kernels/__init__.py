"""Compiled loops, one package per backend with the same names and arguments.

- ``numba``: ``@njit`` kernels (options in ``numba/_config.py``).
- ``cython``: extension modules built from ``csrc/*.pyx`` (twins of the Numba kernels).
- ``reference``: naive pure-Python loops written from the definitions, for tests.

Each package exposes ``correlate_terms`` (serial) and ``correlate_terms_parallel``
(threads as set by :func:`fastdeconv.set_num_threads`) with the contract documented in
``numba/direct.py``.  Importing ``fastdeconv.kernels`` imports none of them.
"""
