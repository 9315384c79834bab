"""Thread policy: the OpenMP spin default, results independent of the thread count."""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastdeconv as fd
from fastdeconv._backends import thread_limit

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _env_after_import(extra):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(extra)
    code = ("import os, fastdeconv.kernels; "
            "print(os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=60)
    return out.stdout.split()


def test_short_spin_is_the_default():
    from fastdeconv.kernels import SPIN_COUNT
    assert _env_after_import({}) == [str(SPIN_COUNT), "None"]


@pytest.mark.parametrize("extra", [{"OMP_WAIT_POLICY": "PASSIVE"},
                                   {"GOMP_SPINCOUNT": "123"}])
def test_user_policy_is_kept(extra):
    got = _env_after_import(extra)
    assert got == [extra.get("GOMP_SPINCOUNT", "None"), extra.get("OMP_WAIT_POLICY", "None")]


COMPILED = [b for b in fd.backends() if b != "python"]  # the reference runs no threads


@pytest.mark.parametrize("method", ["direct", "fft"])
@pytest.mark.parametrize("boundary", ["fill", "noncirculant", "symm"])
@pytest.mark.parametrize("backend", COMPILED)
def test_rl_independent_of_threads(method, boundary, backend):
    rng = np.random.default_rng(3)
    image = rng.random((300, 280)).astype(np.float32)  # above the parallel thresholds
    psf = fd.psf.gaussian((9, 9), 1.5).astype(np.float32)
    runs = []
    for n in (1, 2):
        with thread_limit(n):
            runs.append(fd.richardson_lucy(image, psf, 5, boundary=boundary, method=method,
                                           backend=backend, stop_tol=1e-9))
    if method == "direct":
        np.testing.assert_array_equal(runs[0], runs[1])  # bands own their outputs
    else:  # the FFT library may split its sums by thread
        np.testing.assert_allclose(runs[0], runs[1], rtol=0, atol=1e-5)
