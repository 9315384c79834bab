"""Benchmarks of ``fastdeconv.restoration`` against scikit-image.

Cases of the issue and ``PERF-ANCHORS.md``: Richardson–Lucy with skimage's defaults
(float32 and float64, Gaussian and non-separable PSFs, 2-D and 3-D) and Wiener on a
2048x2048 image.  The runner checks that fastdeconv's output agrees with skimage's.
A one-shot report gives RL's peak memory per voxel (tracemalloc).
"""
import tracemalloc

import numpy as np

from bench.registry import Case, Impl, Table, fastdeconv_impls, peer


def _gaussian(shape, sigma, dtype):
    psf = np.ones(())
    for n in shape:
        g = np.exp(-((np.arange(n) - (n - 1) / 2) ** 2) / (2 * sigma ** 2))
        psf = np.multiply.outer(psf, g)
    return (psf / psf.sum()).astype(dtype)


def _inputs(shape, kshape, dtype, separable):
    rng = np.random.default_rng(12345)
    image = rng.random(shape).astype(dtype)
    if separable:
        psf = _gaussian(kshape, kshape[0] / 6, dtype)
    else:
        psf = rng.random(kshape)
        psf = (psf / psf.sum()).astype(dtype)
    return image, psf


def _rl(shape, kshape, num_iter, dtype, separable):
    image, psf = _inputs(shape, kshape, dtype, separable)
    impls = fastdeconv_impls("richardson_lucy",
                             lambda f, b: f(image, psf, num_iter, backend=b))
    restoration = peer("skimage.restoration")
    if restoration is not None:
        impls.append(Impl("skimage.restoration.richardson_lucy",
                          lambda: restoration.richardson_lucy(image, psf, num_iter)))
    return impls


def _wiener(n, k, dtype):
    image, psf = _inputs((n, n), (k, k), dtype, True)
    impls = fastdeconv_impls("wiener", lambda f, b: f(image, psf, 0.05), per_backend=False)
    restoration = peer("skimage.restoration")
    if restoration is not None:
        impls.append(Impl("skimage.restoration.wiener",
                          lambda: restoration.wiener(image, psf, 0.05)))
    return impls


def _shape_name(shape):
    if len(shape) > 2 and len(set(shape)) == 1:
        return f"{shape[0]}^{len(shape)}"
    return "×".join(map(str, shape))


def cases(opts):
    """Richardson–Lucy and Wiener cases (smaller with ``opts.quick``).

    Parameters
    ----------
    opts : bench.registry.Options

    Returns
    -------
    list of bench.registry.Case
    """
    group = "Richardson–Lucy, skimage-compatible defaults"
    if opts.quick:
        rl_cases = [((128, 128), (15, 15), 10, "float32", True),
                    ((128, 128), (15, 15), 10, "float32", False),
                    ((48,) * 3, (15,) * 3, 3, "float32", True)]
        wiener_cases = [(512, 31, "float32")]
    else:
        rl_cases = [((512, 512), (31, 31), 50, "float32", True),
                    ((512, 512), (31, 31), 50, "float64", True),
                    ((512, 512), (31, 31), 50, "float32", False),
                    ((2048, 2048), (15, 15), 20, "float32", True),
                    ((128,) * 3, (31,) * 3, 10, "float32", True)]
        wiener_cases = [(2048, 31, "float32")]
    out = []
    for shape, kshape, it, dtype, sep in rl_cases:
        label = (f"{_shape_name(shape)}, {'Gaussian' if sep else 'random'} "
                 f"{_shape_name(kshape)} PSF, {it} it, {dtype}")
        out.append(Case(group, label,
                        lambda s=shape, k=kshape, i=it, d=dtype, sp=sep: _rl(s, k, i, d, sp),
                        dtype=dtype))
    for n, k, dtype in wiener_cases:
        out.append(Case("Wiener (skimage semantics)", f"{n}×{n}, Gaussian {k}×{k}, {dtype}",
                        lambda n=n, k=k, d=dtype: _wiener(n, k, d), dtype=dtype))
    return out


def _memory_table(opts):
    fd = peer("fastdeconv")
    shape, kshape = ((64,) * 3, (15,) * 3) if opts.quick else ((128,) * 3, (31,) * 3)
    rows = []
    for sep in (True, False):
        image, psf = _inputs(shape, kshape, "float32", sep)
        for kw in ({}, {"acceleration": "biggs"}, {"boundary": "noncirculant"}):
            fd.richardson_lucy(image, psf, 1, **kw)  # compile outside the measurement
            tracemalloc.start()
            fd.richardson_lucy(image, psf, 2, **kw)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            name = ", ".join(f"{k}={v}" for k, v in kw.items()) or "defaults"
            rows.append([f"{'Gaussian' if sep else 'random'} PSF, {name}",
                         f"{peak / image.size:.1f} B/voxel",
                         f"{peak / image.size / image.itemsize:.1f} × input"])
    return Table(f"Richardson–Lucy peak memory, {_shape_name(shape)} float32 "
                 f"(tracemalloc, excluding the input)", ["case", "peak", "in images"], rows)


def reports(opts):
    """One-shot measurements: RL memory per voxel."""
    if peer("fastdeconv") is None:
        return {}
    return {"rl-memory": lambda: _memory_table(opts)}


__all__ = ["cases", "reports"]
