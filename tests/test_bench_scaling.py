"""``python -m bench scaling`` (bench/scaling.py) in-process, on tiny inputs.

The tiny sizes (hidden ``--tiny`` flag) keep every call well under a millisecond; the
timing budget is a few milliseconds, so the whole module runs in seconds once Numba's
kernels are in the on-disk cache.
"""
import json
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from bench import registry, runner, scaling  # noqa: E402
from fastdeconv import _backends  # noqa: E402

THREADS = [n for n in (1, 2) if n <= (os.cpu_count() or 1)]
TINY = ["--tiny", "--threads", "1,2", "--budget", "0.002"]


def _main(argv):
    lines = []
    assert scaling.main(argv, emit=lines.append) == 0
    return "\n".join(lines)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """One run over every tiny headline case, plain text, with a JSON file."""
    path = tmp_path_factory.mktemp("scaling") / "timings.json"
    before = _backends._num_threads
    text = _main(TINY + ["--json", str(path)])
    assert _backends._num_threads == before, "fastdeconv's thread count was not restored"
    with open(path) as f:
        return text, json.load(f)


def test_tables_render(tiny_run):
    text, _ = tiny_run
    assert text.startswith("Machine: ")
    assert "Total scaling benchmark time" in text
    for case in scaling.headline_cases("tiny"):
        assert f"== {case.name} ==" in text
    header = next(l for l in text.splitlines() if l.startswith("threads"))
    for col in ("fastdeconv", "speedup", "efficiency", "skimage", "skimage/fastdeconv"):
        assert col in header, col
    rows = [l.split()[0] for l in text.splitlines() if l[:1].isdigit()]
    assert rows.count("1") == len(scaling.headline_cases("tiny"))
    assert "GFLOP/s" in text and "% FMA peak" in text   # direct cases
    assert "error" not in text.lower()
    assert "DISAGREE" not in text


def test_json_records(tiny_run):
    _, records = tiny_run
    cases = {c.name for c in scaling.headline_cases("tiny")}
    assert {r["case"] for r in records} == cases
    assert {r["threads"] for r in records} == set(THREADS)
    for r in records:
        assert {"case", "threads", "impl", "seconds"} <= set(r)
        assert r["seconds"] > 0, r
    impls = {r["impl"] for r in records}
    assert "fastdeconv.richardson_lucy[numba]" in impls
    assert "skimage.restoration.richardson_lucy" in impls
    noncirc = [r for r in records if "noncirculant" in r["case"]]
    assert noncirc and all(r["impl"].startswith("fastdeconv.") for r in noncirc)


def test_run_api_markdown():
    """``run`` with a hand-picked case list; markdown tables."""
    cases = [c for c in scaling.headline_cases("tiny") if c.name.startswith("fftconvolve")]
    out = []
    opts = registry.Options(quick=True, budget=0.002, min_repeats=3, max_repeats=5)
    records = scaling.run(cases, THREADS, opts, markdown=True, emit=out.append)
    assert len(records) == 2 * len(THREADS)
    md = out[0]
    assert md.startswith("### fftconvolve")
    assert "| threads | fastdeconv | speedup | efficiency | scipy | efficiency |" in md
    assert "|---|" in md


def test_dispatch_and_list():
    """``python -m bench scaling`` goes through runner.main; the other options are untouched."""
    lines = []
    saved = scaling.main
    try:
        scaling.main = lambda argv, prog: lines.append((argv, prog)) or 0
        assert runner.main(["scaling", "--quick", "-k", "fft"]) == 0
    finally:
        scaling.main = saved
    assert lines == [(["--quick", "-k", "fft"], "python -m bench scaling")]
    text = _main(["--list", "--quick", "-k", "richardson"])
    assert len(text.splitlines()) == 7


def test_thread_lists(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 12)
    assert scaling.default_threads() == [1, 2, 4, 8, 12]
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert scaling.default_threads() == [1, 2, 4, 8, 16]
    assert scaling.parse_threads("4, 1,2,2") == [1, 2, 4]


def test_peer_threads_restored():
    cv2, torch = registry.peer("cv2"), registry.peer("torch")
    before = (cv2.getNumThreads() if cv2 else None, torch.get_num_threads() if torch else None)
    with scaling.thread_count(1):
        assert _backends.get_num_threads() == 1
        if cv2 is not None:
            assert cv2.getNumThreads() == 1
        if torch is not None:
            assert torch.get_num_threads() == 1
    assert (cv2.getNumThreads() if cv2 else None,
            torch.get_num_threads() if torch else None) == before
