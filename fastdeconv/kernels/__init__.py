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

# Thresholds of the elementwise kernels (``numba/elementwise.py``: the fused passes of
# the iterative methods and ``spectrum_multiply``): below them a pass runs serially even
# when several threads are allowed.  Waking the OpenMP team costs 30-60 us here (passive
# waiting, see above), so a second thread pays once a pass takes a few times that.
# Measured on 2 cores, float32 (median serial / 2 threads):
# - PARALLEL_MIN_ELEMENTS, for the passes that spend ns per element (a log, TV's index
#   arithmetic, the float64 reductions, which do not vectorise): rl_ratio with the
#   deviance 16 Ki elements 195 / 222 us, 64 Ki 480 / 276 us, 256 Ki 1.93 / 1.00 ms.
# - PARALLEL_MIN_ELEMENTS_LIGHT, for the vectorised single passes without a reduction
#   (rl_ratio, rl_update without their sums, biggs_extrapolate, spectrum_multiply):
#   one core streams them at 0.1-0.2 ns per element while the arrays fit in the caches,
#   so a second one only helps beyond: rl_update 1 Mi 148 / 178 us, 2 Mi 276 / 277 us,
#   4 Mi 974 / 579 us; biggs_extrapolate 2 Mi 525 / 372 us; the complex64 product on
#   2 Mi elements 991 us with numpy's *=, 810-867 us with the parallel kernels.
# The kernels read them at call time (tests may lower them).
PARALLEL_MIN_ELEMENTS = 1 << 16
PARALLEL_MIN_ELEMENTS_LIGHT = 1 << 21
