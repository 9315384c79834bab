"""Cython backend: extension modules compiled from ``csrc/`` when the package is installed.

Same names and arguments as ``fastdeconv.kernels.numba``; the kernels (``csrc/direct.pyx``)
check nothing and allocate nothing (contract in ``kernels/numba/direct.py``).
"""
from ..._backends import get_num_threads
from . import direct

__all__ = ["correlate_terms", "correlate_terms_parallel"]

correlate_terms = direct.correlate_terms


def correlate_terms_parallel(x, offsets, weights, in_off, w_off, out, o_off, ncols, chunk):
    # The OpenMP thread count is a C global of the extension: set it on every call so a
    # later fastdeconv.set_num_threads() takes effect, as the Numba wrapper does.
    direct.set_num_threads(get_num_threads())
    direct.correlate_terms_parallel(x, offsets, weights, in_off, w_off, out, o_off, ncols,
                                     chunk)
