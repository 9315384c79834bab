"""Declares the Cython extensions; all other metadata lives in pyproject.toml.

Every ``csrc/NAME.pyx`` becomes ``fastdeconv.kernels.cython.NAME``.

Environment variables
---------------------
FASTDECONV_PORTABLE=1
    Build without ``-march=native`` (wheels meant for other machines).
FASTDECONV_STRICT_BUILD=1
    A failed Cython or C compile fails the install (CI).  Without it a failure prints a
    warning and the package installs without the ``cython`` backend (Numba still works).
"""
import glob
import os
import sys

from setuptools import setup
from setuptools.command.build_ext import build_ext

STRICT = os.environ.get("FASTDECONV_STRICT_BUILD") == "1"
PORTABLE = os.environ.get("FASTDECONV_PORTABLE") == "1"
HERE = os.path.dirname(os.path.abspath(__file__))


def _warn(what, exc):
    bar = "*" * 78
    sys.stderr.write(
        f"\n{bar}\nWARNING: fastdeconv: {what} failed ({type(exc).__name__}: {exc}).\n"
        "The 'cython' backend is not available; the 'numba' and 'python' backends are.\n"
        "To get it: install a C compiler with OpenMP (gcc, or clang with libomp) and\n"
        "reinstall; set FASTDECONV_STRICT_BUILD=1 to make this failure fatal.\n"
        f"{bar}\n\n")


def _flags():
    if sys.platform == "win32":
        return ["/O2", "/openmp", "/fp:contract"], []
    compile_args = [
        "-O3",
        "-fopenmp",
        # FMA contraction: Numba's fastmath 'contract'; nothing that reorders sums.
        "-ffp-contract=fast",
        # Textbook complex product, as Numba computes it; gcc's default C99 Annex G
        # NaN-recovery call (__mulsc3) would block vectorisation of the complex loops.
        "-fcx-limited-range",
    ]
    if not PORTABLE:
        compile_args.append("-march=native")
    return compile_args, ["-fopenmp"]


def _extensions():
    from setuptools import Extension

    compile_args, link_args = _flags()
    include_dirs = []
    try:
        import numpy
        include_dirs.append(numpy.get_include())
    except ImportError:  # only needed by modules that cimport numpy
        pass
    sources = sorted(glob.glob(os.path.join("csrc", "*.pyx")))
    exts = [
        Extension(
            f"fastdeconv.kernels.cython.{os.path.splitext(os.path.basename(src))[0]}",
            [src],
            include_dirs=include_dirs,
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            # setuptools then skips a missing output instead of failing the install.
            optional=not STRICT,
        )
        for src in sources
    ]
    if not exts:
        return []
    from Cython.Build import cythonize

    return cythonize(
        exts,
        include_path=["csrc"],
        compiler_directives={"language_level": "3"},
        nthreads=0,
    )


class OptionalBuildExt(build_ext):
    """build_ext whose failure is a warning unless FASTDECONV_STRICT_BUILD=1."""

    def run(self):
        try:
            super().run()
        except Exception as exc:  # compiler missing, no OpenMP, ...
            if STRICT:
                raise
            _warn("building the Cython extensions", exc)

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            if STRICT:
                raise
            _warn(f"compiling {ext.name}", exc)


try:
    ext_modules = _extensions()
except Exception as exc:  # Cython missing or a .pyx that does not translate
    if STRICT:
        raise
    _warn("translating csrc/*.pyx with Cython", exc)
    ext_modules = []

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})
