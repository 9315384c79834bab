"""Fork safety: a process forked after threaded kernels ran must not hang or be killed.

GNU OpenMP's thread pool (the Cython kernels, Numba's ``omp`` layer) does not survive
``fork()``: before the fix a forked child hung in its first parallel region (Cython) or
was killed by Numba ("fork() called from a process already using GNU OpenMP"), and a
``multiprocessing`` pool with the ``'fork'`` start method timed out.  Such a child now
runs the serial kernels (``fastdeconv.get_num_threads()`` is 1 there).

Every scenario runs in a fresh interpreter (``subprocess``), so the pytest process itself
never forks with OpenMP started, and under a timeout that kills the scenario's whole
process group: a regression fails the test instead of blocking the run.  Inside, each
forked child and the pool are waited for with their own deadline.
"""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import fastdeconv as fd

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPILED = [b for b in fd.backends() if b != "python"]  # the reference runs no threads

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform"),
    pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one CPU: no threads to lose"),
]
CHILD_TIMEOUT = 60  # seconds a forked child or the pool may take (first runs compile)
SCENARIO_TIMEOUT = 240  # the whole scenario, parent's first compilation included


def run_scenario(code, *args):
    """Run ``code`` in a fresh interpreter with a 2-thread budget; kill its whole process
    group (forked children included) if it overruns.  Returns the CompletedProcess."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("FASTDECONV_BACKEND", "FASTDECONV_NUM_THREADS", "NUMBA_NUM_THREADS",
                        "NUMBA_DISABLE_JIT")}
    env["PYTHONPATH"] = os.pathsep.join([ROOT] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH")
                                                  else []))
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=SCENARIO_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"scenario hung (killed after {SCENARIO_TIMEOUT} s)\nstdout:\n{out}\n"
                    f"stderr:\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


# The work every process does: a direct 2-D convolution and Richardson-Lucy on 512^2
# float32 images, both above the thresholds of the threaded kernels; the threaded entry
# points of the backend package are counted, to check the parent really ran threads
# and the forked children did not.
SCENARIO = f"""
import multiprocessing, os, sys, tempfile, time, warnings
import numpy as np
import fastdeconv as fd
from fastdeconv import _backends

# Python >= 3.12 warns that forking a multi-threaded process may deadlock: that is the
# situation under test (and a PYTHONWARNINGS=error environment must not turn it into one)
warnings.filterwarnings("ignore", category=DeprecationWarning, message=".*fork")
backend = sys.argv[1]
CHILD_TIMEOUT = {CHILD_TIMEOUT}
pkg = _backends.kernels(backend)
calls = {{"parallel": 0}}
for name in [n for n in dir(pkg) if n.endswith("_parallel")]:
    def counted(*a, _f=getattr(pkg, name)):
        calls["parallel"] += 1
        return _f(*a)
    setattr(pkg, name, counted)

def work(seed):
    before = calls["parallel"]  # a forked child inherits the parent's count
    rng = np.random.default_rng(seed)
    x = rng.random((512, 512)).astype(np.float32)
    k = rng.random((9, 9)).astype(np.float32)
    conv = fd.convolve2d(x, k, mode="same", method="direct", backend=backend)
    psf = fd.psf.gaussian((9, 9), 1.5).astype(np.float32)
    rl = fd.richardson_lucy(x, psf, 4, method="direct", backend=backend, stop_tol=1e-9)
    fft = fd.convolve(x, k, mode="same", method="fft")
    return conv, rl, fft, fd.get_num_threads(), calls["parallel"] - before

def same(a, b):
    # the serial and threaded kernels may round differently (FMA contraction)
    scale = float(np.abs(b).max()) or 1.0
    return a.shape == b.shape and float(np.abs(a - b).max()) <= 1e-5 * scale

fd.set_num_threads(2)
parent = work(0)
assert parent[3] == 2 and parent[4] > 0, ("the parent ran no threaded kernel", parent[3:])
expected = [work(s)[:3] for s in (1, 2)]  # what the pool workers must return

# 1. os.fork(): the child redoes the parent's work, then checks set_num_threads
tmp = tempfile.mkdtemp()
pid = os.fork()
if pid == 0:
    code = 1
    try:
        conv, rl, fft, threads, ncalls = work(0)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            fd.set_num_threads(2)
        np.savez(os.path.join(tmp, "child.npz"), conv=conv, rl=rl, fft=fft)
        ok_warn = (fd.get_num_threads() == 1 and len(caught) == 1
                   and issubclass(caught[0].category, RuntimeWarning)
                   and "spawn" in str(caught[0].message))
        code = 0 if (threads == 1 and ncalls == 0 and ok_warn) else 2
        if code:
            print("child: threads", threads, "parallel calls", ncalls,
                  "warnings", [str(w.message) for w in caught], flush=True)
    finally:
        os._exit(code)
deadline = time.monotonic() + CHILD_TIMEOUT
while True:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    if time.monotonic() > deadline:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        sys.exit("fork: the child hung")
    time.sleep(0.05)
code = os.waitstatus_to_exitcode(status)
assert code == 0, f"fork: the child ended with {{code}}"
child = np.load(os.path.join(tmp, "child.npz"))
for name, a, b in zip(("conv", "rl", "fft"), (child["conv"], child["rl"], child["fft"]),
                      parent[:3]):
    assert same(a, b), f"fork: the child's {{name}} differs from the parent's"

# 2. a multiprocessing pool with the 'fork' start method
pool = multiprocessing.get_context("fork").Pool(2)
try:
    results = pool.map_async(work, [1, 2]).get(CHILD_TIMEOUT)
except multiprocessing.TimeoutError:
    sys.exit("pool: the workers hung or died")
finally:
    pool.terminate()
    pool.join()
for got, exp in zip(results, expected):
    assert got[3] == 1 and got[4] == 0, ("pool: a worker ran threads", got[3:])
    for name, a, b in zip(("conv", "rl", "fft"), got[:3], exp):
        assert same(a, b), f"pool: a worker's {{name}} differs from the parent's"

# the parent keeps its threads
assert work(0)[3] == 2
print("ok")
"""


@pytest.mark.parametrize("backend", COMPILED)
def test_fork_after_threaded_kernels(backend):
    res = run_scenario(SCENARIO, backend)
    assert res.returncode == 0 and res.stdout.strip().endswith("ok"), (
        f"exit {res.returncode}\nstdout:\n{res.stdout}\nstderr:\n{res.stderr}")


def test_fork_before_threaded_work_keeps_threads():
    """A child forked before anything started OpenMP or Numba's threads (a pool made at
    start-up, the 'forkserver' server) keeps its thread count."""
    code = """
    import os, sys
    import fastdeconv as fd
    from fastdeconv import _backends
    fd.set_num_threads(2)
    if _backends._parent_may_have_threads():
        print("skip: an OpenMP runtime is loaded before any fastdeconv kernel")
        sys.exit(0)
    pid = os.fork()
    if pid == 0:
        os._exit(0 if fd.get_num_threads() == min(2, os.cpu_count() or 1) else 3)
    _, status = os.waitpid(pid, 0)
    print("ok" if os.waitstatus_to_exitcode(status) == 0 else "child lost its threads")
    """
    res = run_scenario(code)
    assert res.returncode == 0, res.stderr
    if res.stdout.startswith("skip"):
        pytest.skip(res.stdout.strip())
    assert res.stdout.strip() == "ok", res.stdout


def test_thread_limit_in_forked_child_is_one(monkeypatch):
    """A forked child restricted to one thread stays there inside ``thread_limit`` and
    whatever ``FASTDECONV_NUM_THREADS`` says (the flag is what the at-fork hook sets)."""
    from fastdeconv import _backends
    monkeypatch.setattr(_backends, "_fork_serial", True)
    monkeypatch.setattr(_backends, "_num_threads", None)
    monkeypatch.setenv("FASTDECONV_NUM_THREADS", "2")
    with _backends.thread_limit(2):
        assert fd.get_num_threads() == 1
    assert fd.get_num_threads() == 1
    with pytest.warns(RuntimeWarning, match="spawn"):
        fd.set_num_threads(2)
    assert fd.get_num_threads() == 1
    fd.set_num_threads(1)  # no warning: nothing is refused
