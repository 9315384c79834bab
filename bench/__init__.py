"""fastdeconv's benchmark suite: fastdeconv against numpy, scipy and the installed peers.

Run ``python -m bench --help`` from the repository root (or ``fastdeconv bench``).
One module per public module, ``bench/suite_NAME.py``; the runner is ``bench/runner.py``
and the case/implementation registry ``bench/registry.py``.
"""
