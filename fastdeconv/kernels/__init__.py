"""Compiled loops, one package per backend with the same names and arguments.

- ``numba``: ``@njit`` kernels (options in ``numba/_config.py``).
- ``cython``: extension modules built from ``csrc/*.pyx`` (twins of the Numba kernels).
- ``reference``: naive pure-Python loops written from the definitions, for tests.

Each package exposes ``correlate_terms`` (serial) and ``correlate_terms_parallel``
(threads as set by :func:`fastdeconv.set_num_threads`), ``correlate2d_mapped`` (+
``_parallel``: a whole 2-D window, boundary included, through row/column index maps)
and ``correlate2d_sweep`` (+ ``_parallel``: the same for dense float kernels, four
output rows per load), with the contracts documented in ``numba/direct.py``.  Importing ``fastdeconv.kernels``
imports none of them.  Callers pick a ``_parallel`` variant only when
:func:`fastdeconv.get_num_threads` is above 1 (``kernels/_dispatch.py``,
``fastdeconv/_memory.py``, ``_direct.py``, ``_fft.py``, ``nn.py``): a process forked after
threaded kernels ran relies on that, as its count is 1 there (``_backends.py``,
"fork"); a new threaded entry point must keep to it.

OpenMP wait policy (both compiled backends run on one libgomp: Numba's ``omp`` layer
and the Cython modules' ``prange``): unless the user set ``OMP_WAIT_POLICY`` or
``GOMP_SPINCOUNT``, idle workers spin for ``SPIN_COUNT`` iterations (about 1 ms here,
measured as CPU time burnt after a region) and then sleep.  Why neither extreme:

- passive waiting (spin 0) makes every parallel region wake its workers through the
  kernel: measured here 200-250 us per region on this VM (a 64 Ki-element pass took
  274 us on 2 threads, 30 us on one), and a Richardson-Lucy iteration runs four to six
  regions, so 2 threads barely beat one (512^2 Gaussian RL, 20 it: 31-42 ms at 2
  threads vs 35-38 ms at 1; with a short spin 21-29 ms);
- libgomp's default (300 000 iterations, ~8 ms here) or ``ACTIVE`` keeps workers
  spinning long after the last region, on the cores the FFT library's own threads
  (ducc0 / scipy.fft, called right after a kernel) and other processes need: with
  active waiting a 16-core Xeon ran a non-separable RL in 473 ms instead of 184 ms
  (the threaded FFTs 2.3-2.6x slower), and on a busy 2-core machine a region waits for
  a descheduled spinner (50 RL iterations 260 ms instead of 109 ms).

A ~1 ms spin bridges the gaps between the regions of one iteration (tens of us of
Python) and gives the cores back before they are missed.  The FFTs use the same thread
count as the kernels (``fastdeconv.get_num_threads``).
"""
import os

# ~33 ns per iteration measured here: 30 000 ~ 1 ms
SPIN_COUNT = 30000

if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
    os.environ["GOMP_SPINCOUNT"] = str(SPIN_COUNT)

# Thresholds of the elementwise kernels (``numba/elementwise.py``: the fused passes of
# the iterative methods and ``spectrum_multiply``): below them a pass runs serially even
# when several threads are allowed: a second thread pays once a pass takes a few times
# the cost of starting a region (10 us with the short spin above, 30-250 us passive).
# Measured on 2 cores, float32 (median serial / 2 threads):
# - PARALLEL_MIN_ELEMENTS, for the passes that spend ns per element (a log, TV's index
#   arithmetic, the float64 reductions, which do not vectorise): rl_ratio with the
#   deviance 16 Ki elements 195 / 222 us, 64 Ki 480 / 276 us, 256 Ki 1.93 / 1.00 ms.
# - PARALLEL_MIN_ELEMENTS_LIGHT, for the vectorised single passes without a reduction
#   (rl_ratio, rl_update without their sums, biggs_extrapolate, spectrum_multiply):
#   one core streams them at 0.1-0.4 ns per element while the arrays fit in the caches.
#   On this VM a second thread gains nothing below ~2 Mi elements (passive waiting:
#   rl_update 1 Mi 148 / 178 us, 4 Mi 974 / 579 us; with the short spin, rl_ratio +
#   rl_update 256 Ki 96-109 / 103-110 us, 1 Mi 353-371 / 366-435 us), but a machine
#   with 8-64 cores has that many private L2 caches to stream from, and one core left
#   alone with these passes would dominate a 1024^2 iteration whose convolutions run on
#   16 threads.  From 256 Ki elements (one 16 Ki block per thread at 16 threads) they run
#   threaded: at most ~10 % slower here, where it does not pay.
# The kernels read them at call time (tests may lower them).
PARALLEL_MIN_ELEMENTS = 1 << 16
PARALLEL_MIN_ELEMENTS_LIGHT = 1 << 18
