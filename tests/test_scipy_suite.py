"""scipy.signal's own tests, run against fastdeconv (project issue 12).

The tests scipy ships for ``convolve``, ``correlate``, ``fftconvolve``, ``oaconvolve``,
``convolve2d``, ``correlate2d``, ``choose_conv_method`` and ``deconvolve``
(``scipy/signal/tests/test_signaltools.py``; 11,690 tests with scipy 1.17.1) run in
two subprocesses with fastdeconv's functions swapped into scipy's namespaces by
``tests/scipy_swap_plugin.py``.

Why subprocesses: scipy's tests need scipy's own ``conftest.py`` (the ``xp`` fixture,
its markers) and pytest configuration, which clash with this repository's
(``--strict-markers``); and the swap rebinds names inside scipy's modules, which must
not leak into the other tests of this run.  The subprocess gets its own ini file (every
warning is an error there too, as in this repository and in scipy's CI).

scipy is a hard test dependency here: if its test files are missing (a wheel built
without tests) the test fails with a message saying so instead of skipping.
"""
import importlib.util
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import scipy

TEST_MODULE = "scipy.signal.tests.test_signaltools"
# classes and functions of scipy's test module that exercise the swapped functions
SELECTION = (
    "TestConvolve", "TestConvolve2d", "TestFFTConvolve", "TestOAConvolve",
    "TestAllFreqConvolves", "test_convolve_longdtype_input", "TestCorrelateReal",
    "TestCorrelate", "TestCorrelateComplex", "TestCorrelate2d", "test_choose_conv_method",
    "test_choose_conv_method_2", "TestDeconvolve",
)
HERE = Path(__file__).resolve().parent


def _scipy_test_file():
    try:
        spec = importlib.util.find_spec(TEST_MODULE)
    except ModuleNotFoundError:
        spec = None
    assert spec is not None and spec.origin, (
        f"scipy {scipy.__version__} was installed without its test suite ({TEST_MODULE}"
        " not found): these tests need scipy's tests (pip install scipy from a wheel"
        " that ships scipy/signal/tests)")
    return Path(spec.origin)


# Two processes share the work, one per core: scipy's 9,730 cases of one oaconvolve test
# (``test_real_manylens``, pytest's per-test cost dominates them) in one, the other
# ~1,960 tests in the other, among them the one slow test (a 2 GiB int64 image through
# convolve2d, mostly page faults).
SPLIT = "TestOAConvolve::test_real_manylens"


def _start(cmd_tail, tmp_path, tag, env):
    junit = tmp_path / f"junit-{tag}.xml"
    cmd = [sys.executable, "-m", "pytest", "-c", str(tmp_path / "pytest.ini"),
           "--rootdir", str(Path(scipy.__file__).resolve().parent),
           "-p", "no:cacheprovider",
           "-p", "scipy_swap_plugin", "-q", "--tb=short", "-o", "junit_family=xunit2",
           f"--junitxml={junit}", *cmd_tail]
    out = open(tmp_path / f"out-{tag}.txt", "w+")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=out,
                            stderr=subprocess.STDOUT, text=True)
    return proc, out, junit


def test_scipy_signal_suite_passes_with_fastdeconv(tmp_path):
    test_file = _scipy_test_file()
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts =\nfilterwarnings =\n"
                                         "    error\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(HERE)] + [p for p in
                                        env.get("PYTHONPATH", "").split(os.pathsep) if p])
    runs = [
        _start([f"{test_file}::{SPLIT}"], tmp_path, "split", env),
        _start(["-k", f"not {SPLIT.split('::')[-1]}"]
               + [f"{test_file}::{name}" for name in SELECTION], tmp_path, "rest", env),
    ]
    texts = []
    try:
        for proc, out, _ in runs:
            proc.wait(timeout=900)
            out.seek(0)
            texts.append(out.read())
    finally:
        for proc, out, _ in runs:
            if proc.poll() is None:  # a timeout, or an interrupted run: stop both
                proc.kill()
                proc.wait()
            out.close()
    counts = {k: 0 for k in ("tests", "failures", "errors", "skipped")}
    per_group = {name: 0 for name in SELECTION}
    tails = [text[-6000:] for text in texts]
    for (proc, _, junit), text, tail in zip(runs, texts, tails):
        assert "scipy_swap_plugin: swapped" in text, tail
        assert junit.exists(), (f"scipy's tests did not run (exit {proc.returncode}):"
                                f"\n{tail}")
        suite = ET.parse(junit).getroot()
        suite = suite if suite.tag == "testsuite" else suite.find("testsuite")
        for key in counts:
            counts[key] += int(suite.get(key, 0))
        for case in suite.iter("testcase"):
            cls = case.get("classname", "").rsplit(".", 1)[-1]
            name = case.get("name", "").split("[", 1)[0]
            for group in (cls, name):
                if group in per_group:
                    per_group[group] += 1
        assert proc.returncode == 0, tail
    print(f"scipy {scipy.__version__} signal tests with fastdeconv swapped in: "
          f"{counts['tests']} run, {counts['failures']} failed,"
          f" {counts['errors']} errors, {counts['skipped']} skipped")
    assert counts["failures"] == counts["errors"] == 0, "\n".join(tails)
    empty = [g for g, n in per_group.items() if n == 0]
    assert not empty, f"no scipy test ran for {empty}"
    # scipy 1.17 selects 11,690; far fewer means the selection broke, not that all passed
    assert counts["tests"] - counts["skipped"] > 5000, counts
