"""The fused elementwise kernels (``kernels/*/elementwise``) and ``_fft.multiply_spectra``.

Every backend's public kernel against a numpy formula, on sizes below and above
``PARALLEL_MIN_ELEMENTS`` (the reference loops only on the small ones: they are slow),
with the optional arrays present and absent and the reductions asked for or not.  The
results must not depend on the thread count: the serial and parallel variants run the
same blocks and sum them in the same order, so outputs and float64 sums are compared
for exact equality between one thread and the default count, and between the
``NAME`` and ``NAME_parallel`` variants of the compiled backends.
"""
import numpy as np
import pytest
import scipy.signal

import fastdeconv
from fastdeconv import _fft
from fastdeconv._backends import get_num_threads, kernels, thread_limit
from fastdeconv.kernels import PARALLEL_MIN_ELEMENTS, PARALLEL_MIN_ELEMENTS_LIGHT

from .conftest import BACKENDS, assert_close

SMALL = (1, 7, 1000)
BIG = 200_003  # above the threshold, not a multiple of the block size
COMPILED = tuple(b for b in BACKENDS if b != "python")
DTYPES = (np.float32, np.float64)


def sizes_for(backend):
    # the reference loops would take seconds per call on the big size
    return SMALL if backend == "python" else SMALL + (BIG,)


@pytest.fixture
def light_threshold_lowered(monkeypatch):
    """The cheap passes' threshold (2 Mi) lowered to the other one, so that BIG runs
    every kernel in parallel (the dispatchers read the thresholds at call time)."""
    monkeypatch.setattr(fastdeconv.kernels, "PARALLEL_MIN_ELEMENTS_LIGHT",
                        PARALLEL_MIN_ELEMENTS)


def test_sizes_straddle_the_threshold():
    assert max(SMALL) < PARALLEL_MIN_ELEMENTS <= BIG < PARALLEL_MIN_ELEMENTS_LIGHT
    from fastdeconv.kernels.numba import elementwise as nb
    assert BIG % nb.BLOCK and BIG > 2 * nb.BLOCK
    if "cython" in BACKENDS:
        from fastdeconv.kernels.cython import elementwise as cy
        assert cy.BLOCK == nb.BLOCK  # both backends sum over the same blocks


# --------------------------------------------------------------------------- cases
# Each case builds its inputs from (dtype, n, option) and calls one kernel through a
# namespace (a backend's package, or its elementwise module for the variants); it
# returns (arrays written, sums returned).  Its oracle returns the expected arrays
# (numpy, in float64) and the expected sums with the sums of their terms' magnitudes;
# sums over the kernel's own outputs are taken from ``got``, so that only the order of
# summation differs.

def _data(dtype, n, seed):
    rng = np.random.default_rng(seed)
    return lambda scale=1.0, shift=0.0: (rng.random(n) * scale + shift).astype(dtype)


def _rl_ratio_inputs(dtype, n, opt):
    weighted, _, cut = opt
    d = _data(dtype, n, 1)
    image, conv = d(3.0), d(1.0, 0.05)
    image[::5] = 0
    if cut:  # below the threshold (without one, 1 / eps would dominate the outputs)
        conv[1::7] = 0
    w = (d() > 0.2).astype(dtype) if weighted else np.empty(0, dtype)
    return image, conv, w


def rl_ratio_case(ns, dtype, n, opt, suffix=""):
    _, want_kl, cut = opt
    t = np.dtype(dtype).type
    image, conv, w = _rl_ratio_inputs(dtype, n, opt)
    out = np.full(n, np.nan, dtype)
    kl = getattr(ns, "rl_ratio" + suffix)(image, conv, w, out, t(1e-12),
                                          t(0.3) if cut else t(-np.inf), want_kl)
    return (out,), (kl,)


def rl_ratio_oracle(dtype, n, opt, got):
    weighted, want_kl, cut = opt
    t = np.dtype(dtype).type
    image, conv, w = _rl_ratio_inputs(dtype, n, opt)
    w = w.astype(np.float64) if weighted else np.ones(n)
    c = conv + t(1e-12)  # rounded in dtype, as the kernels do
    y, c64 = image.astype(np.float64), c.astype(np.float64)
    out = np.where(c < t(0.3), 0.0, y / c64) if cut else y / c64
    term = c64 - y + y * np.log(np.where(y > 0, y, 1) / c64)
    terms = term * w if want_kl else np.zeros(n)
    return ((out * w).astype(dtype),), [(np.sum(terms), np.sum(np.abs(terms)))]


def _rl_update_inputs(dtype, n):
    d = _data(dtype, n, 2)
    x, corr, norm, denom = d(1.0, 1.0), d(1.0, 0.5), d(1.0, 0.1), d(1.0, 0.5)
    norm[2::9] = 0
    return x, corr, norm, denom


def rl_update_case(ns, dtype, n, opt, suffix=""):
    use_norm, use_denom, want_change = opt
    x, corr, norm, denom = _rl_update_inputs(dtype, n)
    sums = getattr(ns, "rl_update" + suffix)(
        x, corr, norm if use_norm else np.empty(0, dtype),
        denom if use_denom else np.empty(0, dtype), want_change)
    return (x,), tuple(sums)


def rl_update_oracle(dtype, n, opt, got):
    use_norm, use_denom, want_change = opt
    x, corr, norm, denom = (a.astype(np.float64) for a in _rl_update_inputs(dtype, n))
    f = corr
    if use_norm:
        f = np.where(norm != 0, f / np.where(norm != 0, norm, 1), 1.0)
    if use_denom:
        f = f / denom
    new = (x * f).astype(dtype)
    if not want_change:
        return (new,), [(0.0, 0.0), (0.0, 0.0)]
    x_new = got[0][0].astype(np.float64)
    change2, norm2 = np.sum((x_new - x) ** 2), np.sum(x_new ** 2)
    return (new,), [(change2, change2), (norm2, norm2)]


def _tv_shape(n):
    # an N-D grid of about n elements (the kernels take the flat array and its layout)
    return {1: (1,), 7: (7,), 1000: (10, 4, 25), BIG: (3, 67, 997)}[n]


def tv_case(ns, dtype, n, opt, suffix=""):
    t = np.dtype(dtype).type
    shape = _tv_shape(n)
    x = _data(dtype, int(np.prod(shape)), 3)().reshape(shape)
    sizes = np.array(shape, np.int64)
    strides = np.array([s // x.itemsize for s in x.strides], np.int64)
    grad = np.full(len(shape) * x.size, np.nan, dtype)
    getattr(ns, "tv_gradient" + suffix)(x.reshape(-1), sizes, strides, t(opt), grad)
    den = np.full(x.size, np.nan, dtype)
    getattr(ns, "tv_denominator" + suffix)(grad, sizes, strides, t(0.05), den)
    return (grad, den), ()


def tv_oracle(dtype, n, opt, got):
    t = np.dtype(dtype).type
    shape = _tv_shape(n)
    x = _data(dtype, int(np.prod(shape)), 3)().reshape(shape).astype(np.float64)
    # forward differences, 0 on the last plane
    g = [np.diff(x, axis=a, append=np.take(x, [-1], axis=a)) for a in range(x.ndim)]
    mag = np.sqrt(sum(v ** 2 for v in g) + float(t(opt)) ** 2)
    grad = np.concatenate([(v / mag).reshape(-1) for v in g])
    # backward differences of the kernel's gradient (Neumann boundary)
    gk = got[0][0].astype(np.float64).reshape((x.ndim,) + shape)
    div = sum(np.diff(gk[a], axis=a, prepend=0) for a in range(x.ndim))
    den = np.maximum(1 - float(t(0.05)) * div, 1e-4)
    return (grad.astype(dtype), den.reshape(-1).astype(dtype)), []


def _biggs_inputs(dtype, n):
    d = _data(dtype, n, 4)
    return d(), d(), d(), d(2.0, -1.0)


def biggs_case(ns, dtype, n, opt, suffix=""):
    t = np.dtype(dtype).type
    x, x_prev, x_new, g_prev = _biggs_inputs(dtype, n)
    y = np.full(n, np.nan, dtype)
    getattr(ns, "biggs_extrapolate" + suffix)(x, x_prev, t(opt), y)
    g = np.full(n, np.nan, dtype)
    sums = getattr(ns, "biggs_dots" + suffix)(x_new, y, g, g_prev)
    return (y, g), tuple(sums)


def biggs_oracle(dtype, n, opt, got):
    x, x_prev, x_new, g_prev = _biggs_inputs(dtype, n)
    alpha = float(np.dtype(dtype).type(opt))
    x64 = x.astype(np.float64)
    y = np.maximum(x64 + alpha * (x64 - x_prev), 0)
    g = x_new.astype(np.float64) - got[0][0]  # from the kernel's y
    gp = g_prev.astype(np.float64)
    terms = got[0][1].astype(np.float64) * gp
    return ((y.astype(dtype), g.astype(dtype)),
            [(np.sum(terms), np.sum(np.abs(terms))), (np.sum(gp ** 2), np.sum(gp ** 2))])


CASES = {
    "rl_ratio": (rl_ratio_case, rl_ratio_oracle,
                 [(w, k, c) for w in (False, True) for k in (False, True)
                  for c in (False, True)]),
    "rl_update": (rl_update_case, rl_update_oracle,
                  [(a, b, c) for a in (False, True) for b in (False, True)
                   for c in (False, True)]),
    "tv": (tv_case, tv_oracle, [1e-3]),
    "biggs": (biggs_case, biggs_oracle, [0.7, 0.0]),
}


def _assert_sums_close(actual, expected, rtol, err_msg):
    """Each sum within ``rtol`` times the sum of its terms' magnitudes."""
    assert len(actual) == len(expected), err_msg
    for a, (value, scale) in zip(actual, expected):
        assert abs(a - value) <= rtol * scale, f"{err_msg}: {a!r} != {value!r}"


def _assert_identical(a, b, err_msg):
    arrays_a, sums_a = a
    arrays_b, sums_b = b
    for u, v in zip(arrays_a, arrays_b):
        assert np.array_equal(u, v, equal_nan=True), err_msg
    assert sums_a == sums_b, err_msg


# --------------------------------------------------------------------------- tests

@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("kernel", list(CASES))
def test_kernel_against_numpy_and_threads(backend, kernel, dtype, light_threshold_lowered):
    run, oracle, opts = CASES[kernel]
    ns = kernels(backend)
    ref = kernels("python")
    for n in sizes_for(backend):
        for opt in opts:
            msg = f"{backend} {kernel} n={n} opt={opt}"
            with thread_limit(1):
                one = run(ns, dtype, n, opt)
            many = run(ns, dtype, n, opt)
            _assert_identical(one, many, msg + ": 1 thread vs default")
            exp_arrays, exp_sums = oracle(dtype, n, opt, one)
            for got, exp in zip(one[0], exp_arrays, strict=True):
                assert_close(got, exp, err_msg=msg)
            # float64 sums of the same terms, summed in another order (numpy: pairwise);
            # float32: Numba's rl_update sums the float64 product before it is stored
            _assert_sums_close(one[1], exp_sums, 1e-6 if dtype == np.float32 else 1e-12,
                               msg)
            if n in SMALL and backend != "python":
                r_arrays, r_sums = run(ref, dtype, n, opt)
                for got, exp in zip(one[0], r_arrays, strict=True):
                    assert_close(got, exp, err_msg=msg + " vs reference")
                # the reference loops' terms may differ in the last bits (dtype rounding)
                rtol = 1e-6 if dtype == np.float32 else 1e-12
                _assert_sums_close(r_sums, [(v, s) for v, (_, s) in zip(one[1], exp_sums)],
                                   rtol, msg + " vs reference")


@pytest.mark.skipif(not COMPILED, reason="no compiled backend")
@pytest.mark.parametrize("dtype", DTYPES, ids=["float32", "float64"])
@pytest.mark.parametrize("kernel", list(CASES))
def test_serial_and_parallel_variants_identical(kernel, dtype):
    """``NAME`` and ``NAME_parallel`` of each compiled backend give the same bits (the
    dispatcher may pick either), and the two backends agree."""
    run, _, opts = CASES[kernel]
    results = {}
    for b in COMPILED:
        mod = fastdeconv._backends.kernel_module(b, "elementwise")
        fastdeconv._backends.sync_threads(b)
        for n in (7, BIG):
            for opt in opts:
                serial = run(mod, dtype, n, opt)
                parallel = run(mod, dtype, n, opt, "_parallel")
                _assert_identical(serial, parallel, f"{b} {kernel} n={n} opt={opt}")
                results[b, n, opt] = serial
    if len(COMPILED) == 2:
        # float32: Numba's rl_ratio, rl_update and tv_gradient take some steps in float64
        # (Numba types a variable given a float32 and an int literal as float64)
        rtol = 1e-6 if dtype == np.float32 else 1e-12
        for (b, n, opt), (arrays, sums) in results.items():
            if b != COMPILED[0]:
                continue
            other_arrays, other_sums = results[COMPILED[1], n, opt]
            for u, v in zip(arrays, other_arrays):
                assert_close(u, v, err_msg=f"{kernel} n={n} opt={opt}")
            _assert_sums_close(sums, [(v, abs(v)) for v in other_sums], rtol,
                               f"{kernel} n={n} opt={opt}")


@pytest.mark.skipif(not COMPILED, reason="no compiled backend")
@pytest.mark.parametrize("compiled", COMPILED)
def test_dispatch_by_size_and_threads(compiled, monkeypatch):
    """Parallel from PARALLEL_MIN_ELEMENTS elements (PARALLEL_MIN_ELEMENTS_LIGHT for the
    cheap passes) when more than one thread is allowed, else serial."""
    ns = kernels(compiled)
    mod = fastdeconv._backends.kernel_module(compiled, "elementwise")
    calls = []
    for name in ("biggs_extrapolate", "biggs_dots"):
        for variant in (name, name + "_parallel"):
            def spy(*args, _fn=getattr(mod, variant), _v=variant):
                calls.append(_v)
                return _fn(*args)

            monkeypatch.setattr(mod, variant, spy)
    max_threads = get_num_threads()
    if compiled == "numba":
        import numba
        max_threads = min(max_threads, numba.config.NUMBA_NUM_THREADS)
    t = np.float32
    for name, threshold in (("biggs_extrapolate", PARALLEL_MIN_ELEMENTS_LIGHT),
                            ("biggs_dots", PARALLEL_MIN_ELEMENTS)):
        for n in (threshold - 1, threshold):
            x = np.ones(n, t)
            for threads in (1, 2):
                calls.clear()
                with thread_limit(threads):
                    if name == "biggs_extrapolate":
                        ns.biggs_extrapolate(x, x, t(0.5), np.empty(n, t))
                    else:
                        ns.biggs_dots(x, x, np.empty(n, t), x)
                parallel = n >= threshold and min(threads, max_threads) > 1
                assert calls == [name + "_parallel" if parallel else name], (n, threads)


# --------------------------------------------------------------------------- spectra

SPECTRA = [(1, 1), (1, 7), (5, 1000), (1, BIG), (3, 70_001)]
CTYPES = (np.complex64, np.complex128)


def _spectra(ctype, m, n, seed=5):
    rng = np.random.default_rng(seed)
    spec = (rng.standard_normal(m * n) + 1j * rng.standard_normal(m * n)).astype(ctype)
    kspec = (rng.standard_normal(n) + 1j * rng.standard_normal(n)).astype(ctype)
    return spec, kspec


def _expected_product(spec, kspec):
    m = spec.size // kspec.size
    wide = spec.reshape(m, -1).astype(np.complex128) * kspec.astype(np.complex128)
    return wide.reshape(-1).astype(spec.dtype)


@pytest.mark.parametrize("ctype", CTYPES, ids=["complex64", "complex128"])
def test_spectrum_multiply(backend, ctype):
    ns = kernels(backend)
    for m, n in SPECTRA:
        if backend == "python" and m * n > 10_000:
            continue
        spec, kspec = _spectra(ctype, m, n)
        one, many = spec.copy(), spec.copy()
        with thread_limit(1):
            ns.spectrum_multiply(one, kspec)
        ns.spectrum_multiply(many, kspec)
        assert np.array_equal(one, many), (m, n)
        assert_close(one, _expected_product(spec, kspec), err_msg=f"{backend} {m}x{n}")
        if backend != "python":
            mod = fastdeconv._backends.kernel_module(backend, "elementwise")
            fastdeconv._backends.sync_threads(backend)
            par = spec.copy()
            mod.spectrum_multiply_parallel(par, kspec)
            assert np.array_equal(one, par), (m, n)


@pytest.mark.skipif(len(COMPILED) < 2, reason="needs both compiled backends")
@pytest.mark.parametrize("ctype", CTYPES, ids=["complex64", "complex128"])
def test_spectrum_multiply_backends_agree(ctype):
    spec, kspec = _spectra(ctype, 3, 70_001)
    out = []
    for b in COMPILED:
        s = spec.copy()
        kernels(b).spectrum_multiply(s, kspec)
        out.append(s)
    assert_close(out[0], out[1])


@pytest.fixture
def spectrum_calls(monkeypatch):
    """Records the (backend, spec length, kspec length) of each spectrum_multiply call."""
    calls = []
    for b in BACKENDS:
        ns = kernels(b)
        fn = ns.spectrum_multiply

        def spy(spec, kspec, _fn=fn, _b=b):
            calls.append((_b, spec.size, kspec.size))
            return _fn(spec, kspec)

        monkeypatch.setattr(ns, "spectrum_multiply", spy)
    return calls


@pytest.mark.parametrize("ctype", CTYPES, ids=["complex64", "complex128"])
def test_multiply_spectra_kernel_and_fallbacks(backend, ctype, spectrum_calls, monkeypatch):
    # small arrays stand for large ones: the threshold is lowered to 15 elements
    monkeypatch.setattr(fastdeconv.kernels, "PARALLEL_MIN_ELEMENTS_LIGHT", 15)
    rng = np.random.default_rng(6)

    def c(shape, dtype=ctype):
        return (rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dtype)

    kernel = backend != "python" and get_num_threads() > 1
    # (spec, kspec, whether the kernel runs)
    cases = [
        (c((4, 3, 5)), c((4, 3, 5)), kernel),          # same shape
        (c((4, 3, 5)), c((3, 5)), kernel),             # leading broadcast
        (c((4, 3, 5)), c((1, 1, 5)), kernel),          # leading 1-axes dropped
        (c((2, 4, 3, 5)), c((1, 3, 5)), kernel),
        (c((15,)), c((15,)), kernel),                  # at the threshold
        (c((14,)), c((14,)), False),                   # below it: numpy
        (c((4, 3, 5)), c((4, 1, 5)), False),           # broadcast inside: numpy
        (c((4, 3, 5)), c((4, 3, 1)), False),
        (c((5, 3)).T, c((3, 5)), False),               # spec not C-contiguous
        (c((3, 5)), c((5, 3)).T, False),               # kspec not C-contiguous
        (c((3, 5)), c((3, 5), np.complex128 if ctype == np.complex64 else np.complex64),
         False),                                       # dtypes differ
        (c((3, 5)), c((1, 1, 3, 5)), False),           # kspec has more axes: numpy raises
        (c((0, 5)), c((5,)), False),                   # empty
    ]
    with fastdeconv.set_backend(backend):
        for i, (spec, kspec, uses_kernel) in enumerate(cases):
            spectrum_calls.clear()
            expected = spec * kspec
            before = spec.copy()
            if expected.shape != spec.shape:  # numpy's *= cannot broadcast the output
                with pytest.raises(ValueError):
                    _fft.multiply_spectra(spec, kspec)
                continue
            out = _fft.multiply_spectra(spec, kspec)
            assert out is spec, i
            ref = (before.astype(np.complex128) * kspec.astype(np.complex128))
            assert_close(spec, ref.astype(spec.dtype), err_msg=f"case {i}")
            assert bool(spectrum_calls) == uses_kernel, (i, spectrum_calls)
        # overlapping operands, one thread: numpy
        buf = c((4, 5))
        spectrum_calls.clear()
        expected = buf * buf[1]
        _fft.multiply_spectra(buf, buf[1])
        assert not spectrum_calls
        assert_close(buf, expected)
        spec, kspec = c((4, 5)), c((5,))
        expected = spec * kspec
        with thread_limit(1):
            _fft.multiply_spectra(spec, kspec)
        assert not spectrum_calls
        assert_close(spec, expected)


def test_multiply_spectra_used_by_fft_convolution(backend, spectrum_calls, monkeypatch):
    """The FFT paths of ``convolve`` go through the kernel (with a compiled backend,
    several threads and, here, the threshold lowered)."""
    monkeypatch.setattr(fastdeconv.kernels, "PARALLEL_MIN_ELEMENTS_LIGHT", 16)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((40, 50))
    k = rng.standard_normal((9, 7))
    with fastdeconv.set_backend(backend):
        y = fastdeconv.convolve(x, k, "same", method="fft")
    assert_close(y, scipy.signal.convolve(x, k, "same", method="direct"))
    assert bool(spectrum_calls) == (backend != "python" and get_num_threads() > 1)
