"""pytest plugin: run scipy.signal's own tests with fastdeconv's functions swapped in.

Loaded only by the subprocess that ``tests/test_scipy_suite.py`` starts (``-p
scipy_swap_plugin``); the repository's own test run never imports it as a plugin.

scipy's test module binds the functions at import (``from scipy.signal import
convolve, ...``) and also calls some through the module (``signal.convolve2d``,
``signal.deconvolve``), so the swap replaces the names in three namespaces: every
collected scipy test module, ``scipy.signal`` and ``scipy.signal._signaltools``.  A name
that is missing where it is expected fails the session (scipy renamed something: the
swap would silently test scipy against itself).
"""
import pytest

import fastdeconv as fd

SWAPS = {
    "convolve": fd.convolve,
    "correlate": fd.correlate,
    "fftconvolve": fd.fftconvolve,
    "oaconvolve": fd.oaconvolve,
    "convolve2d": fd.convolve2d,
    "correlate2d": fd.correlate2d,
    "choose_conv_method": fd.choose_conv_method,
    "deconvolve": fd.deconvolve,
}
# names scipy's test_signaltools imports into its own namespace (deconvolve it calls as
# signal.deconvolve)
MODULE_NAMES = ("convolve", "correlate", "fftconvolve", "oaconvolve", "convolve2d",
                "correlate2d", "choose_conv_method")
TEST_MODULE = "scipy.signal.tests.test_signaltools"

_swapped = []


def _swap(namespace, names, label):
    for name in names:
        if not hasattr(namespace, name):
            raise pytest.UsageError(f"scipy_swap_plugin: {label} has no {name!r} to swap")
        setattr(namespace, name, SWAPS[name])
        _swapped.append(f"{label}.{name}")


def pytest_collection_modifyitems(session, config, items):
    import scipy.signal
    import scipy.signal._signaltools as signaltools

    modules = {item.module.__name__: item.module for item in items
               if getattr(item, "module", None) is not None}
    if TEST_MODULE not in modules:
        raise pytest.UsageError(f"scipy_swap_plugin: no test of {TEST_MODULE} collected")
    for name, module in modules.items():
        # scipy's own module must have every name; other collected modules what they have
        names = (MODULE_NAMES if name == TEST_MODULE
                 else [n for n in MODULE_NAMES if n in vars(module)])
        _swap(module, names, name)
    _swap(scipy.signal, SWAPS, "scipy.signal")
    _swap(signaltools, SWAPS, "scipy.signal._signaltools")


def pytest_report_header(config):
    return "scipy_swap_plugin: fastdeconv's functions replace scipy.signal's in its tests"


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"scipy_swap_plugin: swapped {len(_swapped)} names: "
                                + ", ".join(_swapped))
