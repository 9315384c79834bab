"""Benchmarks of ``fastdeconv.nn`` (conv, conv_transpose) against PyTorch on the CPU.

Two layers of a convolutional network, float32, both directions: a small one
(N=1, 16 -> 8 channels, 64x64, 3x3 kernel, stride 2) and a wide one (N=8, 64 -> 32
channels, 32x32, 4x4 kernel, stride 2, the DCGAN shape).  ``conv`` uses padding 1;
``conv_transpose`` uses padding 1 (and output_padding 1 for the 3x3 kernel), so it
upsamples by exactly 2, as such layers do.  PyTorch runs under ``torch.no_grad()`` with
``torch.set_num_threads`` equal to the benchmark's thread count; ``--quick`` halves the
batch and image sizes.

PyTorch's Intel OpenMP threads spin for 200 ms after each call by default
(``KMP_BLOCKTIME``), taking the cores from whatever runs next in this process (the
next implementation, and PyTorch's own second thread pool); this module sets
``KMP_BLOCKTIME=0`` (unless already set) before PyTorch is imported, so both libraries
are timed on idle cores.
"""
import os

import numpy as np

from bench.registry import Case, Impl, compiled_backends, peer

# Must happen before torch (and its OpenMP runtime) is loaded; the suites are imported
# before any case runs.  Only Intel's OpenMP reads it (PyTorch's MKL); see above.
os.environ.setdefault("KMP_BLOCKTIME", "0")

LAYERS = (
    # label, N, C_in, C_out, size, kernel, stride, padding, output_padding
    ("N=1, 16→8, 64×64, 3×3, stride 2", 1, 16, 8, 64, 3, 2, 1, 1),
    ("N=8, 64→32, 32×32, 4×4, stride 2", 8, 64, 32, 32, 4, 2, 1, 0),
)


def _torch(threads):
    torch = peer("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    return torch


def _conv(n, cin, cout, size, k, stride, padding, threads):
    rng = np.random.default_rng(12345)
    x = rng.standard_normal((n, cin, size, size)).astype(np.float32)
    w = rng.standard_normal((cout, cin, k, k)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    impls = _nn_impls("conv2d", lambda f, be: f(x, w, b, stride, padding, backend=be))
    torch = _torch(threads)
    if torch is not None:
        tx, tw, tb = (torch.from_numpy(a) for a in (x, w, b))

        def run():
            with torch.no_grad():
                return torch.nn.functional.conv2d(tx, tw, tb, stride, padding).numpy()
        impls.append(Impl("torch.nn.functional.conv2d", run, direct=True))
    return impls


def _conv_transpose(n, cin, cout, size, k, stride, padding, output_padding, threads):
    rng = np.random.default_rng(12345)
    x = rng.standard_normal((n, cin, size, size)).astype(np.float32)
    w = rng.standard_normal((cin, cout, k, k)).astype(np.float32)
    b = rng.standard_normal(cout).astype(np.float32)
    impls = _nn_impls("conv_transpose2d",
                      lambda f, be: f(x, w, b, stride, padding, output_padding, backend=be))
    torch = _torch(threads)
    if torch is not None:
        tx, tw, tb = (torch.from_numpy(a) for a in (x, w, b))

        def run():
            with torch.no_grad():
                return torch.nn.functional.conv_transpose2d(
                    tx, tw, tb, stride, padding, output_padding).numpy()
        impls.append(Impl("torch.nn.functional.conv_transpose2d", run, direct=True))
    return impls


def _nn_impls(name, call):
    """fastdeconv.nn's ``name`` on each compiled backend (``call(f, backend)`` runs it).

    Like ``registry.fastdeconv_impls``, but the function is looked up in
    ``fastdeconv.nn``, where it lives whether or not the package re-exports it.
    """
    try:
        from fastdeconv import nn
    except ImportError:
        return []
    f = getattr(nn, name)
    return [Impl(f"fastdeconv.nn.{name}[{b}]", lambda b=b: call(f, b), direct=True,
                 fastdeconv=True) for b in compiled_backends()]


def cases(opts):
    """The conv / conv_transpose cases (batch and image halved with ``opts.quick``).

    Parameters
    ----------
    opts : bench.registry.Options

    Returns
    -------
    list of bench.registry.Case
    """
    out = []
    for label, n, cin, cout, size, k, stride, padding, opad in LAYERS:
        if opts.quick:
            n, size = max(1, n // 2), size // 2
            label = f"N={n}, {cin}→{cout}, {size}×{size}, {k}×{k}, stride {stride}"
        osize = (size + 2 * padding - k) // stride + 1
        out.append(Case(
            "conv2d (torch.nn.functional.conv2d semantics), float32", label,
            lambda a=(n, cin, cout, size, k, stride, padding): _conv(*a, opts.threads),
            flops=2.0 * n * cout * cin * k * k * osize * osize, dtype="float32"))
        out.append(Case(
            "conv_transpose2d (torch semantics), float32", label,
            lambda a=(n, cin, cout, size, k, stride, padding, opad):
                _conv_transpose(*a, opts.threads),
            flops=2.0 * n * cout * cin * k * k * size * size, dtype="float32"))
    return out
