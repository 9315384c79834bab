"""``with set_backend(...)`` / ``thread_limit(...)`` are local to a thread or asyncio task.

Regression for issue 12: ``set_backend`` used to set the process default at the call and
put it back in ``__enter__``, so with several threads running ``with set_backend(...)``
another thread saw the wrong backend in most of its checks, and the default ended on a
backend nobody chose.  These tests never run a kernel: ``_available`` is patched to list
every backend, so they hold on any installation.
"""
import asyncio
import contextlib
import contextvars
import sys
import threading

import pytest

import fastdeconv as fd
from fastdeconv import _backends

ALL = ("numba", "cython", "python")


@pytest.fixture
def state(monkeypatch):
    """Every backend name valid, no process default, no thread count set; restored."""
    monkeypatch.setattr(_backends, "_available", ALL)
    monkeypatch.setattr(_backends, "_default_backend", None)
    monkeypatch.setattr(_backends, "_default_owner", None)
    monkeypatch.setattr(_backends, "_num_threads", None)
    monkeypatch.delenv("FASTDECONV_BACKEND", raising=False)
    monkeypatch.delenv("FASTDECONV_NUM_THREADS", raising=False)


@contextlib.contextmanager
def tiny_switch_interval():
    """Switch threads as often as CPython allows, so that any window in which a
    with-block's choice is visible process-wide is hit."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


def hammer(enter_block, read, expected, checks=20_000, workers=3):
    """Run ``workers`` threads that loop ``with enter_block(i): ...`` while a watcher
    thread, which never enters a block, reads ``read()`` ``checks`` times.

    Returns ``(wrong, inside_wrong, done)``: the watcher's observations that differed
    from ``expected``, the workers' observations inside their blocks that differed from
    their own choice, and how many checks the watcher made."""
    stop = threading.Event()
    wrong, inside_wrong, done, errors = [], [], [0], []

    def worker(i):
        try:
            while not stop.is_set():
                with enter_block(i) as own:
                    for _ in range(3):
                        if read() != own:
                            inside_wrong.append((i, read()))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    def watcher():
        try:
            for _ in range(checks):
                got = read()
                if got != expected:
                    wrong.append(got)
                done[0] += 1
        finally:
            stop.set()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(workers)]
    threads.append(threading.Thread(target=watcher))
    with tiny_switch_interval():
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors, errors
    return wrong, inside_wrong, done[0]


@pytest.mark.parametrize("default", [None, "python", "cython"])
def test_with_set_backend_never_leaks_to_other_threads(state, default):
    if default is not None:
        fd.set_backend(default)  # a plain call: the process default
    expected = default or ALL[0]
    names = [n for n in ALL if n != expected] + [expected]

    @contextlib.contextmanager
    def block(i):
        with fd.set_backend(names[i % len(names)]) as name:
            yield name

    wrong, inside_wrong, done = hammer(block, fd.get_backend, expected)
    assert done == 20_000
    assert not wrong, (f"a thread outside any block saw {len(wrong)} wrong backends "
                       f"of {done} checks, e.g. {wrong[:5]}")
    assert not inside_wrong, inside_wrong[:5]
    assert _backends._default_backend == default, "the process default was changed"
    assert fd.get_backend() == expected


def test_with_set_backend_written_directly_in_the_loop(state):
    """The same, with the with-statement in the loop body itself (no helper frame)."""
    fd.set_backend("numba")
    stop = threading.Event()
    wrong = []

    def worker(name):
        while not stop.is_set():
            with fd.set_backend(name):
                pass
            with fd.set_backend(name) as n, fd.set_backend("numba"):
                assert n == name

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("python", "cython")]
    with tiny_switch_interval():
        for t in threads:
            t.start()
        try:
            for _ in range(20_000):
                got = fd.get_backend()
                if got != "numba":
                    wrong.append(got)
        finally:
            stop.set()
            for t in threads:
                t.join()
    assert not wrong, f"{len(wrong)} wrong observations, e.g. {wrong[:5]}"
    assert _backends._default_backend == "numba"


def test_thread_limit_never_leaks_to_other_threads(state):
    """``thread_limit`` (the context form of the thread count) has no process-wide
    state either; a plain ``set_num_threads`` is the process-wide count."""
    fd.set_num_threads(1)
    expected = fd.get_num_threads()

    @contextlib.contextmanager
    def block(i):
        with _backends.thread_limit(2 + i):
            yield fd.get_num_threads()

    wrong, inside_wrong, done = hammer(block, fd.get_num_threads, expected)
    assert done == 20_000
    assert not wrong, wrong[:5]
    assert not inside_wrong, inside_wrong[:5]
    assert _backends._num_threads == 1


def test_asyncio_tasks_are_isolated(state):
    """Each asyncio task has its own context: a block in one task is not seen by the
    tasks it interleaves with, nor by the event loop's caller."""
    fd.set_backend("numba")
    seen = {}

    async def scoped(name, limit):
        with fd.set_backend(name), _backends.thread_limit(limit):
            for _ in range(20):
                seen.setdefault(name, set()).add((fd.get_backend(), fd.get_num_threads()))
                await asyncio.sleep(0)
        seen.setdefault(name + " after", set()).add(fd.get_backend())

    async def outside():
        for _ in range(20):
            seen.setdefault("outside", set()).add(fd.get_backend())
            await asyncio.sleep(0)

    async def main():
        await asyncio.gather(scoped("python", 1), scoped("cython", 1), outside())

    asyncio.run(main())
    assert seen["python"] == {("python", 1)}
    assert seen["cython"] == {("cython", 1)}
    assert seen["outside"] == {"numba"}
    assert seen["python after"] == seen["cython after"] == {"numba"}
    assert fd.get_backend() == "numba"
    assert _backends._default_backend == "numba"


def test_contextvars_copy_isolation(state):
    """A block entered in a copied context stays in that context."""
    ctx = contextvars.copy_context()

    def inside():
        cm = _backends._BackendSetting("python", True)
        cm.__enter__()  # left entered: only this context sees it
        return fd.get_backend()

    assert ctx.run(inside) == "python"
    assert ctx.run(fd.get_backend) == "python"
    assert fd.get_backend() == "numba"
    assert _backends._default_backend is None


# ------------------------------------------------------------ plain call vs with-statement


def test_plain_call_forms_set_the_process_default(state):
    fd.set_backend("python")
    assert _backends._default_backend == "python"
    result = fd.set_backend("cython")  # bound to a name: still a plain call
    assert _backends._default_backend == "cython"
    assert repr(result) == "set_backend('cython')"
    seen = []
    t = threading.Thread(target=lambda: seen.append(fd.get_backend()))
    t.start()
    t.join()
    assert seen == ["cython"]
    exec("fd.set_backend('python')", {"fd": fd})  # module-level code
    assert _backends._default_backend == "python"


def test_with_forms_leave_the_default_alone(state):
    fd.set_backend("numba")
    with fd.set_backend("python") as name:
        assert name == "python" and fd.get_backend() == "python"
        assert _backends._default_backend == "numba"
        with fd.set_backend(name="cython"), fd.set_backend("python"):
            assert fd.get_backend() == "python"
        assert fd.get_backend() == "python"
    assert fd.get_backend() == "numba"
    ns = {"fd": fd}
    exec("with fd.set_backend('cython'):\n    got = fd.get_backend()", ns)
    assert ns["got"] == "cython"
    assert _backends._default_backend == "numba"

    def helper(name):  # a helper returning the setting works in both forms
        return fd.set_backend(name)

    with helper("python"):
        assert fd.get_backend() == "python"
        assert _backends._default_backend == "numba"
    assert fd.get_backend() == "numba"
    helper("cython")
    assert _backends._default_backend == "cython"


def test_bound_setting_entered_later_is_local_afterwards(state):
    """The documented fallback: a plain call's result entered later takes the default
    back (if nobody changed it since) and makes the choice local to the block."""
    fd.set_backend("numba")
    setting = fd.set_backend("python")
    assert _backends._default_backend == "python"
    with setting as name:
        assert name == "python" and fd.get_backend() == "python"
        assert _backends._default_backend == "numba"
    assert fd.get_backend() == "numba"
    # a later plain call by someone else is not clobbered
    setting = fd.set_backend("python")
    fd.set_backend("cython")
    with setting:
        assert fd.get_backend() == "python"
    assert _backends._default_backend == "cython"
    # ExitStack enters the value of a plain call: the same fallback
    with contextlib.ExitStack() as stack:
        stack.enter_context(fd.set_backend("python"))
        assert fd.get_backend() == "python"
        assert _backends._default_backend == "cython"
    assert fd.get_backend() == "cython"


def test_exception_in_block_restores(state):
    with pytest.raises(RuntimeError):
        with fd.set_backend("python"):
            raise RuntimeError("boom")
    assert fd.get_backend() == "numba"
    assert _backends._default_backend is None


def test_bad_names_are_refused_in_both_forms(state):
    with pytest.raises(ValueError, match="name"):
        with fd.set_backend("bogus"):
            pass  # pragma: no cover
    with pytest.raises(TypeError, match="name"):
        fd.set_backend(3)
    assert _backends._default_backend is None
