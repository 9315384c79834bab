"""Allocation failures inside the compiled direct kernels (project issue 12).

The Cython 2-D kernels allocate a scratch per work item without the GIL; a failed
``malloc`` must end in ``MemoryError``, not a NULL dereference.  A child process caps
its address space (``RLIMIT_AS``) just above what it already uses, so the kernels'
scratch (tens to hundreds of MiB, asked for by the arguments) cannot be allocated while
everything else keeps working.
"""
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("fastdeconv.kernels.cython.direct")
resource = pytest.importorskip("resource")

CHILD = textwrap.dedent("""
    import resource
    import numpy as np
    from fastdeconv.kernels.cython import direct as cd

    i64 = lambda *a: np.array(a, np.int64)
    n = 1 << 22                    # taps: the mapped term lists need 2 x 32 MiB
    taps = np.zeros(n, np.int64)
    w = np.ones(n)

    def mapped(f, out):
        f(np.full(1, 2.0), 1, 1, i64(0), i64(0), taps, taps, w, np.zeros(1), out,
          1, 1, 0, 1, True, 1, 64)

    def sweep(f, out, band):       # band rows of scratch, 16 doubles each
        f(np.full(1, 2.0), 1, 1, i64(0), i64(0), np.ones(1), 1, 1, np.zeros(1), out,
          1, 1, 0, 1, band, 1)

    calls = [("mapped", lambda f, o: mapped(f, o), cd.correlate2d_mapped),
             ("mapped_parallel", lambda f, o: mapped(f, o), cd.correlate2d_mapped_parallel),
             ("sweep", lambda f, o: sweep(f, o, 1 << 22), cd.correlate2d_sweep),
             ("sweep_parallel", lambda f, o: sweep(f, o, 1 << 22),
              cd.correlate2d_sweep_parallel)]
    expected = {"mapped": 2.0 * n, "sweep": 2.0}
    for name, call, f in calls:    # with memory to spare (starts the OpenMP threads)
        out = np.zeros(1)
        call(f, out)
        assert out[0] == expected[name.split("_")[0]], (name, out)
    with open("/proc/self/status") as fh:
        vm = next(int(l.split()[1]) * 1024 for l in fh if l.startswith("VmSize:"))
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    resource.setrlimit(resource.RLIMIT_AS, (vm + (16 << 20), hard))
    for name, call, f in calls:
        try:
            call(f, np.zeros(1))
            print(name, "no error")
        except MemoryError as exc:
            print(name, "MemoryError", exc)
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    out = np.zeros(1)
    mapped(cd.correlate2d_mapped_parallel, out)   # fine again with memory back
    print("after", out[0] == 2.0 * n)
""")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux /proc")
def test_failed_scratch_allocation_raises_memory_error():
    env = dict(os.environ, OMP_NUM_THREADS="2")
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=120, env=env)
    # a NULL dereference would kill the child with SIGSEGV (returncode -11)
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr[-2000:])
    lines = proc.stdout.split("\n")
    for name in ("mapped", "mapped_parallel", "sweep", "sweep_parallel"):
        assert any(line.startswith(f"{name} MemoryError correlate2d_") for line in lines), \
            proc.stdout
    assert "after True" in lines
