"""Compiled loops, one package per backend with the same names and arguments.

- ``numba``: ``@njit`` kernels (options in ``numba/_config.py``).
- ``cython``: extension modules built from ``csrc/*.pyx`` (twins of the Numba kernels).
- ``reference``: naive pure-Python loops written from the definitions, for tests.

Each package exposes ``correlate_terms`` (serial) and ``correlate_terms_parallel``
(threads as set by :func:`fastdeconv.set_num_threads`), ``correlate2d_mapped`` (+
``_parallel``: a whole 2-D window, boundary included, through row/column index maps)
and ``correlate2d_sweep`` (+ ``_parallel``: the same for dense float kernels, four
output rows per load), with the contracts documented in ``numba/direct.py``.  Importing ``fastdeconv.kernels``
imports none of them.

OpenMP wait policy: both compiled backends run on OpenMP (Numba's ``omp`` layer, the
Cython modules' ``prange``).  With the default policy, idle worker threads spin after
each parallel region; on a machine where another process holds a core, a parallel
region then waits for a descheduled spinner: measured here, 50 Richardson-Lucy
iterations took 260 ms instead of 109 ms and a 7x7 filter 16 ms instead of 11 ms,
while on an idle machine passive waiting cost under 5 %.  So, unless the user chose a
policy, passive waiting is requested before either backend loads the OpenMP runtime.
"""
import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
