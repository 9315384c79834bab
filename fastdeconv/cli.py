"""The ``fastdeconv`` command (also ``python -m fastdeconv``).

Subcommands: ``demo`` (built-in image and signal restored, a before/after figure),
``deconvolve`` and ``convolve`` (TIFF, PNG, NPY, WAV files), ``bench`` (the benchmark
suite of a source checkout) and ``info`` (versions, backends, threads, CPU).  Errors are
one line on stderr, ``fastdeconv: error: ...``, and a non-zero exit status; set
``FASTDECONV_DEBUG=1`` to see the traceback of an unexpected error.
"""
import argparse
import importlib
import importlib.util
import math
import os
import platform
import sys
import time

import numpy as np

__all__ = ["main", "parse_psf"]

PROG = "fastdeconv"
METHODS = ("rl", "wiener", "tikhonov", "inverse", "landweber", "blind")
ITERATIVE = ("rl", "landweber", "blind")
PSF_GENERATORS = {
    # name: (required keys, optional keys)
    "gaussian": (("sigma",), ("size",)),
    "disk": (("radius",), ("size",)),
    "motion": (("length",), ("angle", "size")),
    "airy": (("radius",), ("size",)),
}
PSF_HELP = ("a file (.npy, .tif, .png) or a generator: gaussian:sigma=S[,size=N],"
            " disk:radius=R[,size=N], motion:length=L[,angle=DEG] (2-D),"
            " airy:radius=R[,size=N]; per-axis values as 2x1.5 (fewer axes than the"
            " data: a stack restored slice by slice); sizes default to about 6 sigma"
            " (odd)")


class CLIError(Exception):
    """A user error: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise CLIError(f"{message} (see '{self.prog} --help')")


# --------------------------------------------------------------------------- PSFs

def _numbers(text, key, spec, integer=False):
    try:
        values = tuple(float(t) for t in text.lower().split("x"))
    except ValueError:
        raise CLIError(f"bad PSF spec {spec!r}: {key}={text!r} is not a number (per-axis"
                       f" values are written like 3x2)") from None
    if integer:
        if any(v != int(v) or v < 1 for v in values):
            raise CLIError(f"bad PSF spec {spec!r}: {key} must be a positive integer"
                           f" (or NxM), got {text!r}")
        return tuple(int(v) for v in values)
    if any(not math.isfinite(v) for v in values):
        raise CLIError(f"bad PSF spec {spec!r}: {key} must be finite, got {text!r}")
    return values


def _per_axis(values, ndim, key, spec):
    if len(values) == 1:
        return values * ndim
    if len(values) != ndim:
        raise CLIError(f"bad PSF spec {spec!r}: {key} has {len(values)} values for"
                       f" {ndim}-D data")
    return values


def _odd_size(extent):
    return 2 * int(math.ceil(extent)) + 1


def _generate_psf(spec, ndim):
    from . import psf as fpsf
    name, _, params = spec.partition(":")
    name = name.strip().lower()
    required, optional = PSF_GENERATORS[name]
    kw = {}
    for item in filter(None, (p.strip() for p in params.split(","))):
        key, eq, value = item.partition("=")
        key = key.strip().lower()
        if not eq or not value.strip():
            raise CLIError(f"bad PSF spec {spec!r}: expected key=value, got {item!r}")
        if key not in required + optional:
            raise CLIError(f"bad PSF spec {spec!r}: unknown parameter {key!r} for {name}"
                           f" (expected {', '.join(required + optional)})")
        kw[key] = _numbers(value.strip(), key, spec, integer=key == "size")
    missing = [k for k in required if k not in kw]
    if missing:
        raise CLIError(f"bad PSF spec {spec!r}: {name} needs {', '.join(missing)}"
                       f" (e.g. {name}:{missing[0]}=2)")
    # per-axis values (size=9x9) choose the PSF's axes: fewer than the data's make a
    # stack restored slice by slice
    given = {len(kw[k]) for k in ("sigma", "size") if k in kw and len(kw[k]) > 1}
    if len(given) > 1:
        raise CLIError(f"bad PSF spec {spec!r}: per-axis values disagree on the number"
                       f" of axes")
    if given:
        (count,) = given
        if count > ndim:
            raise CLIError(f"bad PSF spec {spec!r}: {count} per-axis values for"
                           f" {ndim}-D data")
        ndim = count
    size = _per_axis(kw["size"], ndim, "size", spec) if "size" in kw else None
    if name == "gaussian":
        sigma = _per_axis(kw["sigma"], ndim, "sigma", spec)
        shape = size or tuple(_odd_size(3 * s) for s in sigma)
        return fpsf.gaussian(shape, sigma if len(set(sigma)) > 1 else sigma[0], ndim=ndim)
    if name == "disk":
        (radius,) = _single(kw["radius"], "radius", spec)
        return fpsf.disk(radius, shape=size, ndim=ndim)
    if name == "airy":
        (radius,) = _single(kw["radius"], "radius", spec)
        return fpsf.airy(size or (_odd_size(3 * radius),) * ndim, radius)
    # motion
    if ndim != 2:
        raise CLIError(f"bad PSF spec {spec!r}: motion PSFs are 2-D, the data is {ndim}-D")
    (length,) = _single(kw["length"], "length", spec)
    (angle,) = _single(kw.get("angle", (0.0,)), "angle", spec)
    return fpsf.motion(length, angle, shape=size)


def _single(values, key, spec):
    if len(values) != 1:
        raise CLIError(f"bad PSF spec {spec!r}: {key} takes one value, got {len(values)}")
    return values


def parse_psf(spec, ndim, *, normalize=True, option="--psf"):
    """A PSF (or kernel) from a file name or a generator spec such as
    ``gaussian:sigma=2`` for ``ndim``-dimensional data.

    Generated PSFs sum to 1; PSFs read from files are scaled to sum 1 when
    ``normalize``.  Raises :class:`CLIError` (bad spec) or ``_io.DataFileError``.
    """
    from . import _io
    spec = spec.strip()
    name = spec.partition(":")[0].strip().lower()
    try:
        if name in PSF_GENERATORS:
            return _generate_psf(spec, ndim)
    except (ValueError, TypeError) as exc:  # the generators' own checks
        raise CLIError(f"bad PSF spec {spec!r}: {exc}") from None
    ext = os.path.splitext(spec)[1].lower()
    if ext not in _io.FORMATS:
        raise CLIError(f"bad {option} {spec!r}: expected {PSF_HELP}")
    psf, _ = _io.read(spec)
    if normalize:
        total = float(psf.sum())
        if not total > 0:
            raise CLIError(f"the PSF in {spec!r} does not have a positive sum ({total:g})")
        psf = psf / total
    return psf


# --------------------------------------------------------------------------- layout

def _channel_axis(data, fmt):
    """-1 when the last axis holds channels (WAV channels, RGB(A) PNG/TIFF), else None."""
    if fmt == "wav":
        return -1 if data.ndim == 2 else None
    if fmt in ("png", "tiff") and data.ndim >= 3 and data.shape[-1] in (2, 3, 4):
        return -1
    return None


def _items(data, fmt, psf_ndim):
    """Index tuples of the pieces of ``data`` processed one by one.

    Colour channels (and WAV channels) are processed separately; when the PSF has fewer
    axes than the data, the leading axes are a stack processed slice by slice.
    """
    spatial = _spatial_ndim(data, fmt)
    if psf_ndim > spatial:
        raise CLIError(f"the PSF has {psf_ndim} axes but the data only {spatial}"
                       f" (shape {data.shape})")
    channels = data.shape[-1] if spatial < data.ndim else None
    index = []
    for b in np.ndindex(*data.shape[:spatial - psf_ndim]):
        if channels is None:
            index.append(b)
        else:
            index.extend(b + (Ellipsis, c) for c in range(channels))
    return index


def _assemble(pieces, index, data, fmt):
    """The processed pieces put back in ``data``'s layout (their shape may differ)."""
    channels = (data.shape[-1],) if _channel_axis(data, fmt) is not None else ()
    nbatch = len(index[0]) - (2 if channels else 0)
    out = np.empty(data.shape[:nbatch] + pieces[0].shape + channels,
                   dtype=np.result_type(*pieces))
    for idx, piece in zip(index, pieces):
        out[idx] = piece
    return out


def _spatial_ndim(data, fmt):
    return data.ndim - (1 if _channel_axis(data, fmt) is not None else 0)


def _describe(shape, dtype):
    return f"{'x'.join(map(str, shape))} {dtype}"


# --------------------------------------------------------------------------- commands

def _cmd_demo(args):
    from . import _demo
    return _demo.run(out_dir=args.out, quick=args.quick)


_METHOD_OPTIONS = {
    "iterations": ITERATIVE, "boundary": ("rl", "landweber", "tikhonov", "inverse"),
    "acceleration": ("rl",), "tv": ("rl",), "balance": ("wiener",), "lam": ("tikhonov",),
    "eps": ("inverse",), "psf_out": ("blind",),
}


def _check_method_options(args):
    for opt, methods in _METHOD_OPTIONS.items():
        if getattr(args, opt) is not None and args.method not in methods:
            flag = "--" + opt.replace("_", "-")
            raise CLIError(f"{flag} does not apply to --method {args.method} (it is for"
                           f" {', '.join(methods)})")
    if args.boundary is not None and args.method in ("tikhonov", "inverse") \
            and args.boundary in ("fill", "noncirculant"):
        raise CLIError(f"--boundary {args.boundary} does not apply to --method"
                       f" {args.method} (use periodic, symm, reflect or nearest)")


def _restore(method, y, psf, args):
    """One piece of data restored with the chosen method; returns (result, psf or None)."""
    import fastdeconv as fd
    kw = {}
    if args.boundary is not None:
        kw["boundary"] = args.boundary
    if args.iterations is not None:
        kw["num_iter"] = args.iterations
    if method == "wiener":
        return fd.wiener(y, psf, 0.01 if args.balance is None else args.balance,
                         clip=False), None
    if method == "tikhonov":
        return fd.tikhonov(y, psf, 1e-2 if args.lam is None else args.lam, **kw), None
    if method == "inverse":
        return fd.inverse_filter(y, psf, 1e-3 if args.eps is None else args.eps, **kw), None
    # RL, Landweber and blind RL model non-negative data: signed data (audio) runs with
    # an offset that is removed afterwards
    offset = float(-y.min()) if y.min() < 0 else 0.0
    yp = y + y.dtype.type(offset) if offset else y
    if method == "rl":
        out = fd.richardson_lucy(yp, psf, clip=False, acceleration=args.acceleration,
                                 tv=args.tv or 0.0, progress=args.progress, **kw)
        est = None
    elif method == "landweber":
        out = fd.landweber(yp, psf, progress=args.progress, **kw)
        est = None
    else:
        out, est = fd.blind_richardson_lucy(yp, psf, kw.get("num_iter", 30),
                                            progress=args.progress)
    return (out - out.dtype.type(offset) if offset else out), est


def _cmd_deconvolve(args):
    from . import _io
    _check_method_options(args)
    if args.iterations is not None and args.iterations < 1:
        raise CLIError("--iterations must be at least 1")
    _io.file_format(args.output)  # fail before the work on an unsupported output name
    data, source = _io.read(args.input)
    psf = parse_psf(args.psf, _spatial_ndim(data, source.fmt))
    index = _items(data, source.fmt, psf.ndim)
    psf = psf.astype(data.dtype if data.dtype == np.float32 else np.float64)
    pieces, psfs = [], []
    start = time.perf_counter()
    for idx in index:
        result, est = _restore(args.method, np.ascontiguousarray(data[idx]), psf, args)
        pieces.append(result)
        if est is not None:
            psfs.append(est)
    out = _assemble(pieces, index, data, source.fmt)
    elapsed = time.perf_counter() - start
    stored = _io.write(args.output, out, source)
    print(f"{args.input} ({_describe(data.shape, source.dtype)}) restored with"
          f" {args.method} in {elapsed:.2f} s -> {args.output} ({stored})")
    if args.psf_out:
        est = psfs[0] if len(psfs) == 1 else np.mean(psfs, axis=0)
        _io.write(args.psf_out, est, None)
        print(f"estimated PSF ({_describe(est.shape, est.dtype)}) -> {args.psf_out}")
    return 0


def _cmd_convolve(args):
    import fastdeconv as fd
    from . import _io
    _io.file_format(args.output)
    data, source = _io.read(args.input)
    kernel = parse_psf(args.kernel, _spatial_ndim(data, source.fmt), normalize=False,
                       option="--kernel")
    index = _items(data, source.fmt, kernel.ndim)
    kernel = kernel.astype(data.dtype if data.dtype == np.float32 else np.float64)
    start = time.perf_counter()
    pieces = [fd.convolve(np.ascontiguousarray(data[idx]), kernel, args.mode, args.method,
                          boundary=args.boundary) for idx in index]
    elapsed = time.perf_counter() - start
    out = _assemble(pieces, index, data, source.fmt)
    stored = _io.write(args.output, out, source)
    print(f"{args.input} ({_describe(data.shape, source.dtype)}) convolved"
          f" ({args.mode}, {args.boundary}) in {elapsed:.2f} s -> {args.output}"
          f" ({_describe(out.shape, stored)})")
    return 0


def _import_bench():
    """``bench.runner`` from the source checkout this package lives in."""
    try:
        return importlib.import_module("bench.runner")
    except ImportError:
        pass
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if os.path.isfile(os.path.join(root, "bench", "runner.py")):
        sys.path.insert(0, root)
        try:
            return importlib.import_module("bench.runner")
        except ImportError as exc:
            raise CLIError(f"cannot import the benchmark suite from {root}:"
                           f" {exc}") from None
    raise CLIError("the benchmark suite (bench/) ships with the source checkout, not"
                   " with the installed package: run 'fastdeconv bench' from a clone of"
                   " the repository (pip install -e .)")


def _cmd_bench(args):
    runner = _import_bench()
    return runner.main(args.bench_args, prog=f"{PROG} bench") or 0


def _version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        mod = sys.modules.get(name)
        return getattr(mod, "__version__", None)


def _cpu():
    """CPU model and the SIMD features of interest, from /proc/cpuinfo (Linux)."""
    model, flags = platform.processor() or "unknown", set()
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read().splitlines()
    except OSError:
        info = []
    for line in info:
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            model = value.strip()
        elif key.strip() in ("flags", "Features"):
            flags = set(value.split())
            break
    wanted = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512dq", "avx512bw",
              "avx512vl", "avx512_bf16", "avx512_fp16", "amx_tile", "asimd", "sve")
    return model, [f for f in wanted if f in flags]


def _numba_layer():
    """The threading layer Numba picks here (runs a tiny parallel function once)."""
    try:
        import numba
    except ImportError:
        return "n/a (Numba not installed)"

    @numba.njit(parallel=True, cache=False)
    def _probe(a):
        s = 0.0
        for i in numba.prange(a.shape[0]):
            s += a[i]
        return s

    try:
        _probe(np.ones(4))
        return numba.threading_layer()
    except Exception as exc:  # no usable layer: say so rather than fail
        return f"unavailable ({exc})"


def _cmd_info(args):
    import fastdeconv as fd
    from . import _fft
    from ._backends import kernels
    where = os.path.dirname(os.path.abspath(fd.__file__))
    lines = [f"fastdeconv {fd.__version__} ({where})",
             f"Python {platform.python_version()} ({sys.executable})"]
    versions = [f"{name} {_version(name)}" for name in ("numpy", "scipy", "numba", "ducc0")
                if _version(name)]
    missing = [name for name in ("numba", "ducc0") if not _version(name)]
    lines.append("core: " + ", ".join(versions)
                 + (f" (not installed: {', '.join(missing)})" if missing else ""))
    cython = "built" if "cython" in fd.backends() else "not built"
    if "cython" in fd.backends():
        try:
            kernels("cython")
        except ImportError as exc:
            cython = f"present but not loadable ({exc})"
    lines.append(f"backends: {', '.join(fd.backends())} (default: {fd.get_backend()});"
                 f" Cython extension: {cython}")
    lines.append(f"threads: {fd.get_num_threads()} (CPUs: {os.cpu_count()});"
                 f" Numba threading layer: {_numba_layer()}")
    lines.append(f"FFT engine: {_fft.fft_engine()}")
    model, flags = _cpu()
    lines.append(f"CPU: {model}; {platform.machine()};"
                 f" SIMD: {' '.join(flags) or 'none found'}")
    optional = []
    for name in ("dask", "distributed", "tifffile", "imageio", "matplotlib", "soundfile",
                 "scikit-image", "opencv-python-headless", "torch"):
        ver = _version(name)
        optional.append(f"{name} {ver}" if ver else f"{name} -")
    lines.append("optional: " + ", ".join(optional))
    print("\n".join(lines))
    return 0


# --------------------------------------------------------------------------- parser

def build_parser():
    """The argument parser of the ``fastdeconv`` command."""
    p = _Parser(prog=PROG, description="Fast convolution and deconvolution on the CPU.",
                epilog="Run 'fastdeconv COMMAND --help' for a command's options.")
    p.add_argument("--version", action="version", version=_version_text())
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    d = sub.add_parser("demo", help="restore a built-in image and signal, save a figure",
                       description="Blur a built-in test image and an audio-like signal"
                                   " with known PSFs and noise, restore them (Wiener,"
                                   " Richardson-Lucy, accelerated RL), print PSNR and"
                                   " timings (against scikit-image when installed) and"
                                   " save a before/after figure (matplotlib).")
    d.add_argument("--out", default=".", metavar="DIR",
                   help="folder for the figure (default: the current folder)")
    d.add_argument("--quick", action="store_true", help="smaller data (a few seconds)")
    d.set_defaults(func=_cmd_demo)

    r = sub.add_parser(
        "deconvolve", help="restore a blurred image, volume or signal file",
        description="Deconvolve a TIFF, PNG, NPY or WAV file.  Integer data (uint8, "
                    "uint16 images) is processed as floats in [0, 1] and written back in "
                    "its own type, rounded and clipped; float data is written as float32 "
                    "TIFF or NPY in its own float type; WAV keeps its sample format and "
                    "rate.  Colour channels (a last axis of 3 or 4 in PNG/TIFF) and WAV "
                    "channels are restored one by one; a PSF with fewer axes than the "
                    "data restores a stack slice by slice.",
        epilog="Examples: fastdeconv deconvolve blurred.tif -o sharp.tif --psf "
               "gaussian:sigma=2 --method rl --iterations 30 --acceleration biggs;  "
               "fastdeconv deconvolve photo.png -o out.png --psf motion:length=9,angle=30 "
               "--method wiener --balance 0.005")
    r.add_argument("input", metavar="IN", help="input file (.tif, .tiff, .png, .npy, .wav)")
    r.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file; its extension chooses the format")
    r.add_argument("--psf", required=True, help=PSF_HELP + "; files are scaled to sum 1")
    r.add_argument("--method", default="rl", choices=METHODS,
                   help="rl (Richardson-Lucy, default), wiener, tikhonov, inverse (filter),"
                        " landweber, blind (RL estimating the PSF too; --psf gives the"
                        " initial PSF and its support)")
    r.add_argument("--iterations", type=int, metavar="N",
                   help="iterations of rl/landweber (default 50) or blind (default 30)")
    r.add_argument("--boundary", metavar="B",
                   choices=("fill", "wrap", "periodic", "symm", "reflect", "nearest",
                            "noncirculant"),
                   help="edge model: rl/landweber take fill (default), periodic, symm,"
                        " reflect, nearest or noncirculant; tikhonov/inverse take periodic"
                        " (default), symm, reflect or nearest")
    r.add_argument("--acceleration", choices=("biggs",),
                   help="rl: Biggs-Andrews acceleration (fewer iterations)")
    r.add_argument("--tv", type=float, metavar="T",
                   help="rl: total-variation weight, e.g. 0.002")
    r.add_argument("--balance", type=float, metavar="B",
                   help="wiener: regularisation weight (default 0.01)")
    r.add_argument("--lam", type=float, metavar="L",
                   help="tikhonov: regularisation weight (default 0.01)")
    r.add_argument("--eps", type=float, metavar="E",
                   help="inverse: drop frequencies below E x the largest (default 1e-3)")
    r.add_argument("--psf-out", metavar="FILE", help="blind: save the estimated PSF")
    r.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress bar for iterative methods")
    r.set_defaults(func=_cmd_deconvolve)

    c = sub.add_parser("convolve", help="convolve a file with a kernel or PSF",
                       description="Convolve a TIFF, PNG, NPY or WAV file with a kernel"
                                   " (file or PSF generator); data types as deconvolve.")
    c.add_argument("input", metavar="IN", help="input file (.tif, .tiff, .png, .npy, .wav)")
    c.add_argument("-o", "--output", required=True, metavar="OUT", help="output file")
    c.add_argument("--kernel", required=True, metavar="K",
                   help=PSF_HELP + "; files are used as they are")
    c.add_argument("--mode", default="same", choices=("same", "full", "valid"),
                   help="output size, as scipy.signal.convolve (default same)")
    c.add_argument("--boundary", default="reflect",
                   choices=("fill", "wrap", "symm", "reflect", "nearest"),
                   help="what lies beyond the edges (default reflect)")
    c.add_argument("--method", default="auto", choices=("auto", "direct", "fft", "oa"),
                   help="convolution method (default auto)")
    c.set_defaults(func=_cmd_convolve)

    b = sub.add_parser("bench", add_help=False, prefix_chars="\0",
                       help="run the benchmark suite (source checkout)",
                       description="Run the benchmark suite; arguments go to it (try"
                                   " 'fastdeconv bench --help').")
    b.add_argument("bench_args", nargs=argparse.REMAINDER)
    b.set_defaults(func=_cmd_bench)

    i = sub.add_parser("info", help="versions, backends, threads, CPU features",
                       description="Print versions, backends, threads, the Numba"
                                   " threading layer, the FFT engine and the CPU's SIMD"
                                   " features.")
    i.set_defaults(func=_cmd_info)
    return p


def _version_text():
    try:
        from . import __version__
    except ImportError:
        __version__ = "?"
    return f"{PROG} {__version__}"


def main(argv=None):
    """Run the ``fastdeconv`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name (default ``sys.argv[1:]``).
    """
    from ._io import DataFileError
    debug = os.environ.get("FASTDECONV_DEBUG", "") not in ("", "0")
    try:
        args = build_parser().parse_args(argv)
        return args.func(args)
    except (CLIError, DataFileError) as exc:
        return _fail(str(exc), 2)
    except (ValueError, TypeError) as exc:
        if debug:
            raise
        return _fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, 1)
    except MemoryError:
        return _fail("out of memory: use smaller data or the chunked functions of"
                     " fastdeconv.dask", 1)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 141
    except Exception as exc:
        if debug:
            raise
        return _fail(f"unexpected {type(exc).__name__}: {exc} (set FASTDECONV_DEBUG=1 to"
                     f" see the traceback, and please report it)", 1)


def _fail(message, status):
    message = " ".join(message.split())
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
