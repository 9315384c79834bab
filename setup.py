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


def _warn(what, errors):
    bar = "*" * 78
    lines = "".join(f"  {name}: {type(exc).__name__}: {exc}\n" for name, exc in errors)
    sys.stderr.write(
        f"\n{bar}\nWARNING: fastdeconv: {what} failed:\n{lines}"
        "The 'cython' backend will be unavailable; the 'numba' and 'python' backends\n"
        "work.  To get it: install a C compiler with OpenMP (gcc, or clang with libomp)\n"
        "and reinstall.  Set FASTDECONV_STRICT_BUILD=1 to make this failure fatal.\n"
        f"{bar}\n\n")


def _flags():
    if sys.platform == "win32":
        return ["/O2", "/openmp", "/fp:contract"], []
    compile_args = [
        "-O3",
        "-fopenmp",
        # FMA contraction: Numba's fastmath 'contract'; nothing that reorders sums.
        "-ffp-contract=fast",
        # C complex '*' as Numba computes it (textbook formula, no C99 Annex G NaN
        # recovery call that blocks vectorisation); '/' keeps its range reduction.
        "-fcx-fortran-rules",
        # The direct kernel's twelve-term passes need 13 run-time overlap checks to be
        # vectorised (gcc's default limit is 10; past it the loop stays scalar, 8x slower).
        "--param=vect-max-version-for-alias-checks=64",
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
    headers = sorted(glob.glob(os.path.join("csrc", "*.pxd")) + glob.glob(os.path.join("csrc", "*.h")))
    exts = [
        Extension(
            f"fastdeconv.kernels.cython.{os.path.splitext(os.path.basename(src))[0]}",
            [src],
            include_dirs=include_dirs + ["csrc"],
            extra_compile_args=compile_args,
            extra_link_args=link_args,
            # Rebuild when a .pxd or .h changes; also puts the Cython sources in the sdist
            # (cythonize replaces ``sources`` by the generated .c files).
            depends=[src, *headers],
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
    """build_ext whose failures are one warning unless FASTDECONV_STRICT_BUILD=1.

    The backend is all or nothing: if any module fails, none is installed (and an
    editable install's in-place copies from an earlier build are removed, so stale code
    is never imported); ``fastdeconv.backends()`` then leaves 'cython' out.
    """

    def run(self):
        self._failed = []
        try:
            super().run()
        except Exception as exc:  # no compiler at all, ...
            if STRICT:
                raise
            self._failed.append(("build_ext", exc))
        if self._failed:
            self._drop_all()
            _warn("building the Cython extensions", self._failed)

    def build_extensions(self):
        super().build_extensions()
        if self._failed:
            self._drop_all()

    def build_extension(self, ext):
        try:
            super().build_extension(ext)
        except Exception as exc:
            if STRICT:
                raise
            self._failed.append((ext.name, exc))

    def copy_file(self, infile, outfile, *args, **kwargs):
        # In-place copies (editable installs) replace the file instead of overwriting
        # it: truncating a .so that a running process has mapped crashes that process.
        tmp = f"{outfile}.tmp{os.getpid()}"
        dest, copied = super().copy_file(infile, tmp, *args, **kwargs)
        if os.path.exists(tmp):
            os.replace(tmp, outfile)
        return outfile, copied

    def _drop_all(self):
        build_py = self.get_finalized_command("build_py")
        for ext in self.extensions:
            built = self.get_ext_fullpath(ext.name)
            package_dir = build_py.get_package_dir(ext.name.rpartition(".")[0])
            in_place = os.path.join(package_dir, os.path.basename(built))
            for path in {built, in_place}:
                if os.path.exists(path):
                    os.remove(path)
        self.extensions = []


try:
    ext_modules = _extensions()
except Exception as exc:  # Cython missing or a .pyx that does not translate
    if STRICT:
        raise
    _warn("translating csrc/*.pyx with Cython", [("cythonize", exc)])
    ext_modules = []

setup(ext_modules=ext_modules, cmdclass={"build_ext": OptionalBuildExt})
