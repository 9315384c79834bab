"""Backend selection, threads, lazy import and the Numba on-disk cache (API.md section 6)."""
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import scipy.signal as ss

import fastdeconv as fd
from fastdeconv import _backends

from .conftest import assert_close, random_array

REPO_ROOT = str(Path(fd.__file__).resolve().parent.parent)


def run_python(code, env_extra=None, timeout=300):
    """Run ``code`` in a fresh interpreter that imports this checkout of fastdeconv."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FASTDECONV_BACKEND", "NUMBA_CACHE_DIR", "NUMBA_DISABLE_JIT")}
    env["PYTHONPATH"] = os.pathsep.join(
        [REPO_ROOT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=timeout, cwd=REPO_ROOT)


@pytest.fixture
def clean_backend_state(monkeypatch):
    """Leave the process default and the thread count as they were."""
    monkeypatch.setattr(_backends, "_default_backend", _backends._default_backend)
    monkeypatch.setattr(_backends, "_num_threads", _backends._num_threads)
    monkeypatch.delenv("FASTDECONV_BACKEND", raising=False)


def _direct_call(backend=None):
    a = np.arange(30.0)
    k = np.array([1.0, -2.0, 0.5])
    return fd.convolve(a, k, "same", "direct", backend=backend)


# ------------------------------------------------------------------- registry


def test_backends_listing():
    names = fd.backends()
    assert isinstance(names, tuple)
    assert "python" in names
    order = ("numba", "cython", "python")
    assert list(names) == [n for n in order if n in names], "not in preference order"
    assert fd.get_backend() in names


def test_every_backend_gives_scipys_result(backend, kernel_calls):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((9, 8))
    k = rng.standard_normal((3, 2))
    got = fd.convolve(a, k, "full", "direct", backend=backend)
    assert_close(got, ss.convolve(a, k, "full", "direct"))
    assert {c[0] for c in kernel_calls} == {backend}


def test_per_call_backend_wins_over_context(clean_backend_state, kernel_calls):
    others = [b for b in fd.backends() if b != "python"]
    with fd.set_backend("python"):
        _direct_call()
        assert kernel_calls[-1][0] == "python"
        for name in others:
            _direct_call(backend=name)
            assert kernel_calls[-1][0] == name
        for name in ("convolve2d", "correlate2d"):  # tiny: 'auto' is direct
            before = len(kernel_calls)
            getattr(fd, name)(np.ones((5, 5)), np.ones((2, 2)), backend=fd.backends()[0])
            assert len(kernel_calls) > before
            assert kernel_calls[-1][0] == fd.backends()[0]


def test_set_backend_plain_call_sets_process_default(clean_backend_state, kernel_calls):
    first = fd.backends()[0]
    fd.set_backend("python")
    assert fd.get_backend() == "python"
    _direct_call()
    assert kernel_calls[-1][0] == "python"
    seen = []
    t = threading.Thread(target=lambda: seen.append(fd.get_backend()))
    t.start()
    t.join()
    assert seen == ["python"], "a plain set_backend() is process-wide"
    fd.set_backend(first)
    assert fd.get_backend() == first


def test_set_backend_context_manager_restores(clean_backend_state):
    first = fd.backends()[0]
    assert fd.get_backend() == first
    with fd.set_backend("python") as name:
        assert name == "python"
        assert fd.get_backend() == "python"
        with fd.set_backend(first):
            assert fd.get_backend() == first
        assert fd.get_backend() == "python"
    assert fd.get_backend() == first
    # a plain default survives a with-block
    fd.set_backend("python")
    with fd.set_backend(first):
        assert fd.get_backend() == first
    assert fd.get_backend() == "python"
    # and an exception inside the block still restores it
    with pytest.raises(RuntimeError):
        with fd.set_backend(first):
            raise RuntimeError("boom")
    assert fd.get_backend() == "python"


def test_set_backend_context_is_thread_local(clean_backend_state, kernel_calls):
    """Two threads inside different ``with set_backend`` blocks at the same time each
    see (and run on) their own backend; the main thread is unaffected."""
    names = [fd.backends()[0], "python"]
    barrier = threading.Barrier(len(names) + 1, timeout=60)
    seen, errors, idents = {}, [], {}

    def worker(name):
        try:
            idents[name] = threading.get_ident()
            with fd.set_backend(name):
                barrier.wait()  # both threads are inside their blocks
                for _ in range(3):
                    seen.setdefault(name, []).append(fd.get_backend())
                    _direct_call()
                barrier.wait()
            seen[name].append(("after", fd.get_backend()))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(n,)) for n in names]
    for t in threads:
        t.start()
    barrier.wait()
    main_view = fd.get_backend()
    barrier.wait()
    for t in threads:
        t.join()
    assert not errors, errors
    assert main_view == names[0]
    for name in names:
        assert seen[name][:3] == [name] * 3
        assert seen[name][3] == ("after", names[0])
        used = {c[0] for c in kernel_calls if c[3] == idents[name]}
        assert used == {name}, f"thread in set_backend({name!r}) ran on {used}"


def test_concurrent_calls_are_correct(backend):
    """Kernels release the GIL: calls from several threads at once stay correct."""
    rng = np.random.default_rng(1)
    n = 12 if backend == "python" else 120
    inputs = [rng.standard_normal((n, n)) for _ in range(4)]
    k = rng.standard_normal((5, 5))
    expected = [ss.convolve(a, k, "same", "direct") for a in inputs]
    results = [None] * len(inputs)

    def work(i):
        results[i] = fd.convolve(inputs[i], k, "same", "direct", backend=backend)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, exp in zip(results, expected):
        assert_close(got, exp)


# --------------------------------------------------------------------- errors


def test_unknown_backend_raises():
    x = np.ones(10)
    for bad in ["bogus", "Numba", "", "scipy"]:
        with pytest.raises(ValueError, match="backend"):
            fd.convolve(x, x, backend=bad)
        with pytest.raises(ValueError, match="backend"):
            fd.correlate(x, x, method="direct", backend=bad)
        with pytest.raises(ValueError, match="backend"):
            fd.convolve2d(np.ones((3, 3)), np.ones((2, 2)), backend=bad)
        with pytest.raises(ValueError, match="backend|name"):
            fd.set_backend(bad)
    with pytest.raises((TypeError, ValueError), match="backend"):
        fd.convolve(x, x, backend=3)


def test_missing_backend_is_an_error_not_a_fallback(clean_backend_state, monkeypatch):
    monkeypatch.setattr(_backends, "_available", ("python",))
    x = np.ones(10)
    for name in ("numba", "cython"):
        with pytest.raises(ValueError, match=f"backend.*{name}|{name}.*backend"):
            fd.convolve(x, x, method="direct", backend=name)
        with pytest.raises(ValueError, match=name):
            fd.set_backend(name)
    assert fd.get_backend() == "python"


def test_backend_choice_errors_before_any_work(monkeypatch):
    """An unknown backend is refused even where it would not be used (fft method)."""
    x = np.ones(10)
    with pytest.raises(ValueError, match="backend"):
        fd.convolve(x, x, method="fft", backend="bogus")


# --------------------------------------------------------------------- threads


def test_num_threads_roundtrip(clean_backend_state):
    fd.set_num_threads(1)
    assert fd.get_num_threads() == 1
    fd.set_num_threads(10_000)
    assert 1 <= fd.get_num_threads() <= (os.cpu_count() or 1)
    for bad, exc in [(0, ValueError), (-1, ValueError), (1.5, TypeError), ("2", TypeError),
                     (True, TypeError), (None, TypeError)]:
        with pytest.raises(exc):
            fd.set_num_threads(bad)


def test_result_independent_of_thread_count(backend, clean_backend_state):
    """Large enough for the threaded kernel; one writer per output: bitwise equal."""
    rng = np.random.default_rng(2)
    n = 30 if backend == "python" else 300
    a = rng.standard_normal((n, n))
    k = rng.standard_normal((7, 6))
    results = []
    for nthreads in (1, 2):
        fd.set_num_threads(nthreads)
        results.append(fd.convolve(a, k, "same", "direct", boundary="symm",
                                   backend=backend))
    np.testing.assert_array_equal(results[0], results[1])
    assert_close(results[0], ss.convolve(np.pad(a, [(6, 6), (5, 5)], "symmetric"), k,
                                         "valid")[3:3 + n, 2:2 + n])


# ----------------------------------------------------------- environment, import


def test_environment_variable_selects_backend():
    code = ("import numpy as np, fastdeconv as fd\n"
            "print(fd.get_backend())\n"
            "print(fd.convolve(np.ones(4), np.ones(2), method='direct').tolist())\n")
    for name in fd.backends():
        res = run_python(code, {"FASTDECONV_BACKEND": name})
        assert res.returncode == 0, res.stderr
        lines = res.stdout.split("\n")
        assert lines[0] == name
        assert lines[1] == "[1.0, 2.0, 2.0, 2.0, 1.0]"


def test_environment_variable_unknown_backend_is_an_error():
    code = ("import numpy as np, fastdeconv as fd\n"
            "try:\n"
            "    fd.convolve(np.ones(4), np.ones(2), method='direct')\n"
            "except ValueError as e:\n"
            "    print('ValueError', e)\n")
    res = run_python(code, {"FASTDECONV_BACKEND": "bogus"})
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("ValueError")
    assert "FASTDECONV_BACKEND" in res.stdout


def test_import_does_not_import_numba():
    res = run_python("import fastdeconv, sys; print('numba' in sys.modules)")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"
    # nor does running on the pure-Python backend
    res = run_python("import numpy as np, fastdeconv, sys\n"
                     "fastdeconv.convolve(np.ones(5), np.ones(2), method='direct',"
                     " backend='python')\n"
                     "fastdeconv.fftconvolve(np.ones(5), np.ones(2))\n"
                     "print('numba' in sys.modules)")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "False"


@pytest.mark.slow
@pytest.mark.skipif("numba" not in fd.backends(), reason="numba is not installed")
def test_numba_cache_reloads_in_a_second_process(tmp_path):
    """cache=True: a second process loads the compiled kernels from NUMBA_CACHE_DIR
    (serial and threaded variants) instead of compiling them again, and works."""
    code = (
        "import numpy as np, fastdeconv as fd, scipy.signal as ss\n"
        "from fastdeconv.kernels.numba import direct\n"
        "a = np.random.default_rng(0).standard_normal((300, 300))\n"
        # a non-separable kernel large enough for the threaded kernel variant
        "k = np.random.default_rng(1).standard_normal((9, 9))\n"
        "small = fd.convolve(a[:5, :5], k[:3, :3], method='direct', backend='numba')\n"
        "big = fd.convolve(a, k, method='direct', backend='numba')\n"
        "assert np.allclose(big, ss.convolve(a, k, method='direct'))\n"
        "assert np.allclose(small, ss.convolve(a[:5, :5], k[:3, :3], method='direct'))\n"
        # volumes run the general kernel (2-D the mapped one), serial and threaded
        "v = a[:30, :30, None] * a[None, :30, 100]\n"
        "kv = k[:5, :5, None] * k[None, :5, 0]\n"
        "kv[0, 0, 1] += 1\n"  # not separable
        "assert np.allclose(fd.convolve(v, kv, method='direct', backend='numba'),\n"
        "                   ss.convolve(v, kv, method='direct'))\n"
        "fd.convolve(v[:4, :4, :4], kv[:2, :2, :2], method='direct', backend='numba')\n"
        # 2-D: the mapped kernel (up to 29 taps), the sweep (from 30), serial and threaded
        "k5 = k[:5, :5].copy(); k5[0, 0] += 1\n"
        "assert np.allclose(fd.convolve(a, k5, method='direct', backend='numba'),\n"
        "                   ss.convolve(a, k5, method='direct'))\n"
        "fd.convolve(a[:20, :20], k, method='direct', backend='numba')\n"
        "for f in (direct.correlate_terms, direct.correlate_terms_parallel,\n"
        "          direct.correlate2d_mapped, direct.correlate2d_mapped_parallel,\n"
        "          direct.correlate2d_sweep, direct.correlate2d_sweep_parallel):\n"
        "    s = f.stats\n"
        "    print(sum(s.cache_hits.values()), sum(s.cache_misses.values()))\n")
    env = {"NUMBA_CACHE_DIR": str(tmp_path)}
    first = run_python(code, env)
    assert first.returncode == 0, first.stderr
    assert any(tmp_path.rglob("*.nbi")), "nothing was written to NUMBA_CACHE_DIR"
    second = run_python(code, env)
    assert second.returncode == 0, second.stderr
    stats = [tuple(map(int, line.split())) for line in second.stdout.strip().split("\n")]
    names = ("correlate_terms", "correlate_terms_parallel", "correlate2d_mapped",
             "correlate2d_mapped_parallel", "correlate2d_sweep", "correlate2d_sweep_parallel")
    assert len(stats) == len(names)
    for name, (hits, misses) in zip(names, stats):
        assert hits >= 1 and misses == 0, f"{name} was recompiled: hits {hits} misses {misses}"


def _cpu_has_fma():
    try:
        with open("/proc/cpuinfo") as fh:
            return " fma " in fh.read().replace("\n", " ")
    except OSError:
        return False


@pytest.mark.skipif(not {"numba", "cython"} <= set(fd.backends()),
                    reason="needs both compiled backends")
@pytest.mark.skipif(os.environ.get("FASTDECONV_PORTABLE") == "1" or not _cpu_has_fma(),
                    reason="bit equality holds where both compilers emit FMA")
@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64", "complex128", "int64"])
def test_compiled_backends_agree_bitwise(dtype):
    """The Cython kernels mirror the Numba ones loop for loop and rounding for rounding
    (csrc/direct.pyx): on an FMA machine the direct path gives identical bits."""
    rng = np.random.default_rng(5)
    for kshape in [(3, 3), (5, 5), (7, 7), (11, 11), (4, 6), (1, 17), (3, 3, 3), (25,)]:
        shape = (33,) * len(kshape)
        a = random_array(rng, shape, dtype)
        k = random_array(rng, kshape, dtype)
        for boundary, fill in (("fill", 0), ("fill", 2), ("reflect", 0)):
            got = [fd.convolve(a, k, "same", "direct", boundary=boundary, fillvalue=fill,
                               backend=b) for b in ("numba", "cython")]
            np.testing.assert_array_equal(got[0], got[1],
                                          err_msg=f"{kshape} {boundary} {fill}")
