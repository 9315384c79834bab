"""Benchmarks of ``fastdeconv.convolution`` against numpy, scipy and OpenCV.

Sizes follow ``PERF-ANCHORS.md``: 1-D direct convolution of 10**6 samples, 2-D
``'same'`` filtering of a 2048x2048 float32 image, FFT convolution in 2-D and 3-D,
plus import time and Numba's first-call (JIT) time.  ``--quick`` shrinks every size.
Peers compute exactly what fastdeconv computes (the runner checks the outputs):
OpenCV correlates, so its kernels are flipped; ndimage centres odd kernels like
scipy.signal's ``'same'``, so only odd kernel sizes are used.
"""
import shutil

import numpy as np

from bench.registry import (Case, Impl, Table, compiled_backends, fastdeconv_impls,
                            fmt_time, fresh_cache_dir, import_time, peer, python_json)

# every odd size of the cv2.filter2D target (3x3 to 15x15), then separable Gaussians
KERNELS_2D = tuple((f"random {n}×{n}", n, False) for n in (3, 5, 7, 9, 11, 13, 15)) + (
    ("Gaussian 15×15", 15, True), ("Gaussian 31×31", 31, True))


def _rng():
    return np.random.default_rng(12345)


def gaussian_1d(size, dtype):
    """Normalised Gaussian taps, sigma = size / 6."""
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-0.5 * (x / (size / 6)) ** 2)
    return (g / g.sum()).astype(dtype)


# --------------------------------------------------------------------------- 1-D direct

def _direct_1d(n, k, dtype):
    rng = _rng()
    x = rng.standard_normal(n).astype(dtype)
    h = rng.standard_normal(k).astype(dtype)
    impls = fastdeconv_impls("convolve", lambda f, b: f(x, h, method="direct", backend=b),
                             direct=True, label="fastdeconv.convolve(direct)")
    impls.append(Impl("numpy.convolve", lambda: np.convolve(x, h), direct=True))
    signal = peer("scipy.signal")
    impls.append(Impl("scipy.signal.convolve(direct)",
                      lambda: signal.convolve(x, h, method="direct"), direct=True))
    impls.append(Impl("scipy.signal.oaconvolve", lambda: signal.oaconvolve(x, h)))
    return impls


# --------------------------------------------------------------------------- 2-D same

def _same_2d(n, size, separable):
    rng = _rng()
    img = rng.standard_normal((n, n)).astype(np.float32)
    if separable:
        g = gaussian_1d(size, np.float32)
        k = np.outer(g, g)
    else:
        k = rng.standard_normal((size, size)).astype(np.float32)
    impls = fastdeconv_impls("convolve",
                             lambda f, b: f(img, k, mode="same", method="direct", backend=b),
                             direct=True, label="fastdeconv.convolve(direct)")
    ndimage, signal, cv2 = peer("scipy.ndimage"), peer("scipy.signal"), peer("cv2")
    impls.append(Impl("scipy.ndimage.convolve",
                      lambda: ndimage.convolve(img, k, mode="constant"), direct=True))
    if separable:
        impls.append(Impl("scipy.ndimage.convolve1d ×2", lambda: ndimage.convolve1d(
            ndimage.convolve1d(img, g, axis=0, mode="constant"), g, axis=1, mode="constant")))
    if size <= 7:  # larger kernels take seconds per call
        impls.append(Impl("scipy.signal.convolve2d",
                          lambda: signal.convolve2d(img, k, mode="same"), direct=True))
    if cv2 is not None:
        flipped = np.ascontiguousarray(k[::-1, ::-1])
        impls.append(Impl("cv2.filter2D",
                          lambda: cv2.filter2D(img, -1, flipped, borderType=cv2.BORDER_CONSTANT)))
        if separable:
            gf = np.ascontiguousarray(g[::-1])
            impls.append(Impl("cv2.sepFilter2D", lambda: cv2.sepFilter2D(
                img, -1, gf, gf, borderType=cv2.BORDER_CONSTANT)))
    return impls


# --------------------------------------------------------------------------- FFT

def _fft_inputs(shape, kshape):
    rng = _rng()
    return (rng.standard_normal(shape).astype(np.float32),
            rng.standard_normal(kshape).astype(np.float32))


def _fft(shape, kshape, mode):
    a, k = _fft_inputs(shape, kshape)
    signal, cv2 = peer("scipy.signal"), peer("cv2")
    impls = (fastdeconv_impls("fftconvolve", lambda f, b: f(a, k, mode), per_backend=False)
             + fastdeconv_impls("convolve", lambda f, b: f(a, k, mode, method="fft"),
                                per_backend=False, label="fastdeconv.convolve(fft)")
             + fastdeconv_impls("oaconvolve", lambda f, b: f(a, k, mode), per_backend=False))
    impls.append(Impl("scipy.signal.fftconvolve", lambda: signal.fftconvolve(a, k, mode)))
    impls.append(Impl("scipy.signal.oaconvolve", lambda: signal.oaconvolve(a, k, mode)))
    if cv2 is not None and a.ndim == 2 and mode == "same":
        flipped = np.ascontiguousarray(k[::-1, ::-1])
        impls.append(Impl("cv2.filter2D",
                          lambda: cv2.filter2D(a, -1, flipped, borderType=cv2.BORDER_CONSTANT)))
    return impls


def _auto(shape, kshape, mode):
    a, k = _fft_inputs(shape, kshape)
    signal = peer("scipy.signal")
    try:
        chosen = peer("fastdeconv").choose_conv_method(a, k, mode)
    except Exception:  # fastdeconv or its choose_conv_method missing: label without the choice
        chosen = "?"
    impls = fastdeconv_impls("convolve", lambda f, b: f(a, k, mode, method="auto"),
                             per_backend=False, label=f"fastdeconv.convolve(auto→{chosen})")
    scipy_choice = signal.choose_conv_method(a, k, mode)
    impls.append(Impl(f"scipy.signal.convolve(auto→{scipy_choice})",
                      lambda: signal.convolve(a, k, mode, method="auto")))
    return impls


def _shape_name(shape):
    if len(shape) > 2 and len(set(shape)) == 1:
        return f"{shape[0]}^{len(shape)}"
    return "×".join(map(str, shape))


# --------------------------------------------------------------------------- cases

def cases(opts):
    """The convolution cases, smaller with ``opts.quick``.

    Parameters
    ----------
    opts : bench.registry.Options

    Returns
    -------
    list of bench.registry.Case
    """
    out = []
    n1 = 10**5 if opts.quick else 10**6
    group = f"1-D direct convolution, N = 10^{len(str(n1)) - 1}, mode 'full'"
    for k in (16, 64, 1024):
        for dtype in ("float64", "float32"):
            out.append(Case(group, f"K={k} {dtype}",
                            lambda n1=n1, k=k, d=dtype: _direct_1d(n1, k, d),
                            flops=2.0 * (n1 + k - 1) * k, dtype=dtype))
    n2 = 512 if opts.quick else 2048
    for name, size, separable in KERNELS_2D:
        out.append(Case(f"2-D direct convolution, {n2}×{n2} float32, mode 'same'", name,
                        lambda size=size, sep=separable: _same_2d(n2, size, sep),
                        flops=None if separable else 2.0 * n2 * n2 * size * size,
                        dtype="float32"))
    fft_shapes = ([((512, 512), (63, 63)), ((64,) * 3, (15,) * 3)] if opts.quick else
                  [((2048, 2048), (63, 63)), ((128,) * 3, (31,) * 3)])
    group = "FFT convolution, float32"
    for shape, kshape in fft_shapes:
        for mode in ("same", "full"):
            label = f"{_shape_name(shape)} ⊛ {_shape_name(kshape)} '{mode}'"
            out.append(Case(group, label, lambda s=shape, k=kshape, m=mode: _fft(s, k, m),
                            dtype="float32"))
            out.append(Case(group, label + " auto", lambda s=shape, k=kshape, m=mode: _auto(s, k, m),
                            dtype="float32"))
    return out


# --------------------------------------------------------------------------- one-shot reports

# (label, input shape, kernel shape, dtype, method) of the calls timed in a fresh process
JIT_CALLS = (("1-D float64, N=1000, K=16 (direct)", (1000,), (16,), "float64", "direct"),
             ("1-D float64, N=10^6, K=64 (direct)", (10**6,), (64,), "float64", "direct"),
             ("1-D float32, N=10^6, K=64 (direct)", (10**6,), (64,), "float32", "direct"),
             ("2-D float32, 512×512, 7×7 (direct)", (512, 512), (7, 7), "float32", "direct"),
             ("2-D float32, 512×512, 63×63 (fft)", (512, 512), (63, 63), "float32", "fft"))

JIT_SCRIPT = """
import json, time
t = time.perf_counter()
import fastdeconv
out = {{"import fastdeconv": [time.perf_counter() - t, None]}}
import numpy as np
rng = np.random.default_rng(0)
for label, shape, kshape, dtype, method in {calls!r}:
    x = rng.standard_normal(shape).astype(dtype)
    k = rng.standard_normal(kshape).astype(dtype)
    t0 = time.perf_counter()
    fastdeconv.convolve(x, k, method=method, backend={backend!r})
    t1 = time.perf_counter()
    fastdeconv.convolve(x, k, method=method, backend={backend!r})
    out[label] = [t1 - t0, time.perf_counter() - t1]
print(json.dumps(out))
"""


def _jit_table(opts):
    """First-call and next-call times in fresh processes, with an empty and a filled Numba cache."""
    runs, notes = {}, []
    cache = fresh_cache_dir()
    try:
        plan = [("numba, empty cache", "numba"), ("numba, cached", "numba")]
        plan += [("cython", "cython")] if "cython" in compiled_backends() else []
        for title, backend in plan:
            try:
                runs[title] = python_json(JIT_SCRIPT.format(calls=JIT_CALLS, backend=backend),
                                          env={"NUMBA_CACHE_DIR": cache})
            except Exception as exc:
                notes.append(f"{title}: failed: {exc}")
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    headers = ["call"]
    for title in runs:
        headers.append(f"{title}: 1st call")
        if title != "numba, empty cache":
            headers.append(f"{title.split(',')[0]}: 2nd call")
    rows = []
    for label in ["import fastdeconv"] + [c[0] for c in JIT_CALLS]:
        row = [label]
        for title, res in runs.items():
            first, then = res.get(label, [None, None])
            row.append(fmt_time(first) if first is not None else "")
            if title != "numba, empty cache":
                row.append(fmt_time(then) if then is not None else "")
        rows.append(row)
    notes.append("Each column is one fresh `python` process running the calls in order; "
                 "NUMBA_CACHE_DIR points to a new temporary directory, shared by the two numba runs.")
    return Table("first-call (JIT) time", headers, rows, notes)


def _import_table(opts):
    """Wall time of importing fastdeconv and its peers in a fresh interpreter."""
    modules = ["fastdeconv", "numpy", "scipy.signal", "numba", "cv2"]
    rows = []
    for module in modules:
        if module != "fastdeconv" and peer(module.split(".")[0]) is None:
            continue
        try:
            seconds, heavy = import_time(module, repeats=1 if opts.quick else 3)
            rows.append([f"import {module}", fmt_time(seconds), ", ".join(heavy) or "-"])
        except Exception as exc:
            rows.append([f"import {module}", f"error: {exc}", ""])
    return Table("import time", ["statement", "median wall time", "also imported"],
                 rows, ["Fresh interpreter each time; includes numpy where the module imports it."])


def reports(opts):
    """One-shot measurements: JIT first-call time and import time."""
    return {"first-call (JIT) time": lambda: _jit_table(opts),
            "import time": lambda: _import_table(opts)}
