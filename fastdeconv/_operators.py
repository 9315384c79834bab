"""Blur operators for iterative restoration: planned once, applied many times.

A plan computes one window of the linear convolution of an array of fixed shape with a
fixed kernel (the windows and boundaries of ``_direct``/``_fft``), with everything that
does not depend on the data done at construction: the kernel's spectrum (FFT plans),
the separable factors, flat term offsets, padded buffers with their constant borders
(direct plans).  Iterative methods (Richardson–Lucy, Landweber) hold a forward and an
adjoint plan and call them every iteration.
"""
import math

import numpy as np

from . import _direct, _fft
from ._backends import get_num_threads, kernels
from .convolution import estimate_costs


class _Spectra:
    """Preallocated real and complex buffers of one FFT shape, in-place ducc0 passes.

    A transform of ``x`` (shape ``inner``) zero-padded to ``fshape``: the real buffer's
    padding is zero once and for all; the last axis is transformed only over the rows
    ``x`` occupies, each earlier axis after zeroing the part of the spectrum the padding
    would give (it holds the previous call's data).  The inverse keeps only the window's
    rows after each axis.  The ``1 / prod(fshape)`` normalisation is folded into the
    kernel's spectrum, so no pass is spent on it.
    """

    def __init__(self, fshape, dtype):
        self.fshape = tuple(fshape)
        self.real = np.zeros(self.fshape, dtype)
        cdtype = np.result_type(dtype, np.complex64)
        self.spec = np.empty(self.fshape[:-1] + (self.fshape[-1] // 2 + 1,), cdtype)

    def forward(self, inner, threads):
        import ducc0
        d = len(self.fshape)
        head = tuple(slice(0, n) for n in inner[:-1])
        ducc0.fft.r2c(self.real[head], axes=[d - 1], out=self.spec[head], nthreads=threads)
        for a in range(d - 2, -1, -1):
            if inner[a] < self.fshape[a]:
                self.spec[head[:a] + (slice(inner[a], None),)] = 0
            view = self.spec[head[:a]]
            ducc0.fft.c2c(view, axes=[a], out=view, nthreads=threads)

    def inverse(self, windows, out_real, threads):
        """Window of the inverse transform into ``out_real`` (shape: the window's lengths
        on the leading axes, ``fshape[-1]`` on the last)."""
        import ducc0
        d = len(self.fshape)
        keep = ()
        for a in range(d - 1):
            view = self.spec[keep]
            ducc0.fft.c2c(view, axes=[a], forward=False, out=view, nthreads=threads)
            s, length = windows[a]
            keep = keep + (slice(s, s + length),)
        ducc0.fft.c2r(self.spec[keep], axes=[d - 1], lastsize=self.fshape[-1],
                      forward=False, out=out_real, nthreads=threads,
                      allow_overwriting_input=True)


def _spectra(pool, fshape, dtype, inner):
    # keyed on the written region too: a plan writing a larger region would leave data
    # in another plan's zero padding
    key = ("spectra", tuple(fshape), np.dtype(dtype).str, tuple(inner))
    if pool is None:
        return _Spectra(fshape, dtype)
    if key not in pool:
        pool[key] = _Spectra(fshape, dtype)
    return pool[key]


class FFTPlan:
    """``y = window(x * k)`` by real FFTs; ``pad_mode`` other than zero fill pads ``x``.

    With the ducc0 engine a call allocates nothing (buffers in ``_Spectra``, shared
    through ``pool`` with plans that never run at the same time); with scipy.fft it
    goes through ``_fft.forward``/``inverse_window``.
    """

    kind = "fft"

    def __init__(self, kernel, xshape, windows, pad_mode="constant", pool=None):
        self.kernel = kernel
        self.xshape = tuple(xshape)
        self.pad_mode = pad_mode
        kshape = kernel.shape
        if pad_mode == "constant":
            self.windows = list(windows)
            self.user_windows = None
            self.inner = self.xshape
        else:
            # pad x by exactly what the window reads, then take the valid part
            self.user_windows = list(windows)
            self.windows = [(kk - 1, length) for kk, (_, length) in zip(kshape, windows)]
            self.inner = tuple(length + kk - 1 for kk, (_, length) in zip(kshape, windows))
        self.fshape = _fft.fft_lengths(self.inner, kshape, self.windows, True)
        self.axes = list(range(len(xshape)))
        self.out_shape = tuple(length for _, length in windows)
        self.inplace = _fft.fft_engine() == "ducc0"
        if self.inplace:
            scale = 1.0 / math.prod(self.fshape)
            k = np.asarray(kernel, np.float64) * scale  # normalisation folded in, in f64
            self.kspec = np.ascontiguousarray(
                _fft.forward(k, self.fshape, self.axes, True).astype(
                    np.result_type(kernel.dtype, np.complex64)))
            self._bufs = _spectra(pool, self.fshape, kernel.dtype, self.inner)
            self._region = tuple(slice(0, n) for n in self.inner)
            s, length = self.windows[-1]
            self._last = slice(s, s + length)
            self._ybuf = np.empty(self.out_shape[:-1] + (self.fshape[-1],), kernel.dtype)
            self._out = np.empty(self.out_shape, kernel.dtype)
        else:
            self.kspec = _fft.forward(kernel, self.fshape, self.axes, True)

    def __call__(self, x):
        """Apply the plan; with ducc0 the result is an internal buffer, valid until the
        next call."""
        if self.user_windows is not None:
            x = _direct.pad_for_window(x, self.kernel.shape, self.user_windows,
                                       self.pad_mode, 0, 0)
        if not self.inplace:
            spec = _fft.forward(x, self.fshape, self.axes, True)
            _fft.multiply_spectra(spec, self.kspec)
            return _fft.inverse_window(spec, self.fshape, self.axes, self.windows, True)
        threads = get_num_threads()
        b = self._bufs
        b.real[self._region] = x
        b.forward(self.inner, threads)
        _fft.multiply_spectra(b.spec, self.kspec)
        b.inverse(self.windows, self._ybuf, threads)
        np.copyto(self._out, self._ybuf[..., self._last])
        return self._out


class PeriodicPlan:
    """Circular convolution on the array's own grid (``boundary='periodic'``).

    ``y = convolve(x, k, 'same', boundary='wrap')``: the kernel is folded onto the grid
    (so kernels larger than the array stay exact) and shifted so its 'same' centre
    lands on the origin.
    """

    kind = "fft"

    def __init__(self, kernel, xshape, same_starts, pool=None):
        self.xshape = tuple(xshape)
        folded = np.zeros(self.xshape, dtype=np.float64)
        index = np.ix_(*[(np.arange(kk) - s) % n
                         for kk, s, n in zip(kernel.shape, same_starts, self.xshape)])
        np.add.at(folded, index, kernel)
        self.axes = list(range(len(xshape)))
        self.out_shape = self.xshape
        self.windows = [(0, n) for n in self.xshape]
        self.inplace = _fft.fft_engine() == "ducc0"
        cdtype = np.result_type(kernel.dtype, np.complex64)
        if self.inplace:
            folded /= math.prod(self.xshape)  # normalisation folded in
            self._bufs = _spectra(pool, self.xshape, kernel.dtype, self.xshape)
            self._out = np.empty(self.xshape, kernel.dtype)
        self.kspec = np.ascontiguousarray(
            _fft.forward(folded, list(self.xshape), self.axes, True).astype(cdtype))

    def __call__(self, x):
        """Apply the plan; with ducc0 the result is an internal buffer, valid until the
        next call."""
        if not self.inplace:
            spec = _fft.forward(x, list(self.xshape), self.axes, True)
            _fft.multiply_spectra(spec, self.kspec)
            return _fft.inverse_window(spec, list(self.xshape), self.axes, self.windows, True)
        threads = get_num_threads()
        b = self._bufs
        b.real[...] = x
        b.forward(self.xshape, threads)
        _fft.multiply_spectra(b.spec, self.kspec)
        b.inverse(self.windows, self._out, threads)
        return self._out


# A stride that is a multiple of 4 KiB maps every row a pass reads to the same L1
# cache sets: a 31-tap vertical pass over 512-wide float64 rows ran at half speed
# (0.94 vs 0.49 ms; 1024-wide float32 0.69 vs 0.35 ms).
_ALIAS_BYTES = 4096


def aliasing_free_zeros(shape, dtype):
    """A zeroed view of ``shape`` inside a larger contiguous array whose strides (but
    the last) are not multiples of 4 KiB; ``_base(view)`` is that array."""
    dtype = np.dtype(dtype)
    ext = list(shape)
    if len(ext) >= 2 and 0 not in ext:
        if (ext[-1] * dtype.itemsize) % _ALIAS_BYTES == 0:
            ext[-1] += max(1, 64 // dtype.itemsize)  # one cache line more per row
        stride = ext[-1] * dtype.itemsize
        for a in range(len(ext) - 2, 0, -1):
            if (ext[a] * stride) % _ALIAS_BYTES == 0:
                ext[a] += 1
            stride *= ext[a]
    base = np.zeros(ext, dtype)
    return base[tuple(slice(0, n) for n in shape)]


def _base(view):
    """The contiguous array a buffer view lives in (the array itself if contiguous)."""
    return view if view.flags.c_contiguous else view.base


class _Separable2D:
    """A 2-D separable window without any padded copy of the image.

    The vertical factor runs as one ``_direct.Window2D`` call straight from ``x`` (the
    sweep kernel for tall factors) over the window's rows and over every column the
    horizontal factor reads, boundary columns included: the index maps apply the
    boundary on both axes (extensions act per axis, so extending the columns before or
    after the vertical filter is the same).  The horizontal factor is then one valid
    row-kernel pass over that contiguous intermediate.  No copy of the image per call
    (the copy-in was a sixth of an RL iteration's memory traffic), no border refresh.
    Measured in RL against padded per-axis passes (float32 Gaussian, median of 5, 1 / 2
    threads): 512^2 31^2 20 it 35.1 / 20.5 -> 32.7 / 20.4 ms; 1024^2 163 / 110 -> 141 /
    85 ms; 2048^2 659 / 414 -> 606 / 355 ms; 4096^2 15^2 4 it 464 / 302 -> 373 / 273 ms;
    1024^2 'symm' 4 it 44.7 / 28.9 -> 30.2 / 18.4 ms.
    """

    @staticmethod
    def fits(xshape, kshape, windows):
        """Whether some output columns read only inside the image (else: padded passes,
        which are faster when the kernel is as wide as the image)."""
        (s1, ow), kw, W = windows[1], kshape[1], xshape[1]
        lo = min(max(0, kw - 1 - s1), ow)
        return min(ow, W - s1) > lo

    def __init__(self, factors, xshape, windows, pad_mode, backend, dtype, out, tmp=None):
        fv, fh = (np.asarray(v, dtype=dtype) for v in factors)
        kh, kw = len(fv), len(fh)
        (s0, oh), (s1, ow) = windows
        self.out_shape = (oh, ow)
        cols = (s1 - (kw - 1), ow + kw - 1)  # every column the horizontal factor reads
        self.vertical = _direct.Window2D(xshape, np.ascontiguousarray(fv.reshape(kh, 1)),
                                         [(s0, oh), cols], pad_mode, 0, backend, dtype)
        # H and H^T of one problem share the intermediate (``tmp``, from the plans'
        # pool): it is written before it is read on every call
        self.tmp = np.empty((oh, cols[1]), dtype) if tmp is None else tmp
        self.out = out  # contiguous, (oh, ow)
        stencil = _direct._Stencil(np.ascontiguousarray(fh.reshape(1, kw)), 0, False)
        self._plan = _direct.row_plan(self.tmp, self.tmp, stencil, out, out, 0)
        self._mod = kernels(backend)

    def __call__(self, x):
        """The window of contiguous ``x``, in ``out`` (valid until the next call)."""
        self.vertical(x, self.tmp)
        _direct.run_plan(self._mod, self.tmp.reshape(-1), self.out.reshape(-1), self._plan)
        return self.out


class DirectPlan:
    """``y = window(x * k)`` by the direct kernels, one pass per separable factor.

    Each pass reads a preallocated buffer holding its input plus the borders its window
    reads along the pass's axes (zero borders are written once; other boundary modes
    refresh them from the interior on each call) and writes its result straight into
    the interior of the next pass's buffer, so a call allocates nothing.
    """

    kind = "direct"

    def __init__(self, kernel, xshape, windows, pad_mode="constant", backend="numba",
                 factors=None, pool=None):
        self.xshape = tuple(xshape)
        self.pad_mode = pad_mode
        # Plans that never run at the same time (an operator and its adjoint) may share
        # buffers through ``pool``: borders are only ever written with the same values
        # (zeros, or refreshed on every call), interiors are overwritten before use.
        pool = {} if pool is None else pool

        def buffer(shape, pads, kind):
            key = (kind, shape, tuple(pads), self.dtype.str)
            if key not in pool:
                pool[key] = (aliasing_free_zeros(shape, self.dtype) if kind == "pass"
                             else np.zeros(shape, self.dtype))
            return pool[key]

        self.dtype = kernel.dtype
        d = len(xshape)
        self.window2d = self.sep2d = None
        if factors is None and d == 2:
            # a whole 2-D window in one call of the tuned 2-D kernels (mapped or sweep),
            # boundary through index maps: no padded buffers.  Zero taps are skipped:
            # restoration's operands are finite.
            self.window2d = _direct.Window2D(self.xshape, np.ascontiguousarray(np.flip(kernel)),
                                             windows, pad_mode, 0, backend, self.dtype,
                                             drop=not np.all(kernel))
            self.out_shape = self.window2d.out_shape
            self._final = buffer(self.out_shape, (), "final")
            return
        if (factors is not None and d == 2 and min(len(v) for v in factors) > 1
                and _Separable2D.fits(self.xshape, [len(v) for v in factors], windows)):
            self.out_shape = tuple(length for _, length in windows)
            self._final = buffer(self.out_shape, (), "final")
            kw = len(factors[1])
            tmp = buffer((self.out_shape[0], self.out_shape[1] + kw - 1), (), "sep2d")
            self.sep2d = _Separable2D(factors, self.xshape, windows, pad_mode, backend,
                                      self.dtype, self._final, tmp)
            return
        if factors is None:
            stencils = [np.flip(kernel)]
        else:  # factors of the flipped kernel: one pass per axis with a factor > 1
            stencils = []
            scale = 1
            for a, v in enumerate(factors):
                if len(v) == 1:
                    scale *= v[0]
                    continue
                shape = [1] * d
                shape[a] = len(v)
                stencils.append(np.asarray(v, dtype=self.dtype).reshape(shape))
            stencils[-1] = stencils[-1] * self.dtype.type(scale)
        self.passes = []
        cur = self.xshape
        for kp in stencils:
            wins = [(s, length) if kk > 1 or factors is None else (0, n)
                    for (s, length), kk, n in zip(windows, kp.shape, cur)]
            pads = [(max(0, kk - 1 - s), max(0, s + length - n))
                    for kk, (s, length), n in zip(kp.shape, wins, cur)]
            # zero-fill windows always read whole axes, so the buffer is x plus pads;
            # a window starting inside x (valid) is an offset into the buffer
            starts = [max(0, s - (kk - 1)) for kk, (s, _) in zip(kp.shape, wins)]
            buf = buffer(tuple(b + n + e for (b, e), n in zip(pads, cur)), pads, "pass")
            interior = tuple(slice(b, b + n) for (b, _), n in zip(pads, cur))
            out_shape = tuple(length for _, length in wins)
            view = buf[tuple(slice(st, st + o + kk - 1)
                             for st, o, kk in zip(starts, out_shape, kp.shape))]
            self.passes.append(dict(buf=buf, interior=interior, pads=pads, in_shape=cur,
                                    out_shape=out_shape, view=view,
                                    stencil=_direct._Stencil(kp, 0, False)))
            cur = out_shape
        self.out_shape = cur
        self._final = buffer(self.out_shape, (), "final")
        for i, p in enumerate(self.passes):
            last = i + 1 == len(self.passes)
            dst_base = self._final if last else self.passes[i + 1]["buf"]
            dst_view = self._final if last else dst_base[self.passes[i + 1]["interior"]]
            p["base"] = _base(p["buf"]).reshape(-1)
            p["dst"] = _base(dst_base).reshape(-1)
            p["plan"] = _direct.row_plan(_base(p["buf"]), p["view"], p["stencil"],
                                         _base(dst_base), dst_view, 0)
        self._mod = kernels(backend)

    def _refresh_borders(self, p):
        # fill the borders from the interior, axis after axis (corners included); only
        # the border slices are written (a whole-buffer take cost a full copy per axis)
        buf = p["buf"]
        for a, (before, after) in enumerate(p["pads"]):
            n = p["in_shape"][a]
            head = (slice(None),) * a
            for lo, hi in ((-before, 0), (n, n + after)):
                if hi > lo:
                    idx = _direct.boundary_index(np.arange(lo, hi), n, self.pad_mode) + before
                    buf[head + (slice(lo + before, hi + before),)] = np.take(buf, idx, axis=a)

    def __call__(self, x):
        """Apply the plan; returns an internal buffer, valid until the next call."""
        if self.window2d is not None:
            return self.window2d(np.ascontiguousarray(x, self.dtype), self._final)
        if self.sep2d is not None:
            return self.sep2d(np.ascontiguousarray(x, self.dtype))
        first = self.passes[0]
        first["buf"][first["interior"]] = x
        for p in self.passes:
            if self.pad_mode != "constant":
                self._refresh_borders(p)
            _direct.run_plan(self._mod, p["base"], p["dst"], p["plan"])
        return self._final


def plan_convolution(kernel, xshape, windows, pad_mode="constant", backend="numba",
                     method="auto", pool=None):
    """Choose and build a plan for ``window(x * kernel)`` with ``x`` of ``xshape``."""
    dtype = kernel.dtype
    kshape = kernel.shape
    factors = None
    if _direct.separable_pays(kshape):
        factors = _direct.separable_factors(np.flip(kernel), 0, dtype)
    costs = estimate_costs(xshape, kshape, windows, dtype, factors is not None)
    direct_cost, fft_cost = costs["direct"], costs["fft"]
    if method == "auto":
        method = "direct" if direct_cost <= fft_cost else "fft"
    if method == "direct":
        return DirectPlan(kernel, xshape, windows, pad_mode, backend, factors, pool)
    return FFTPlan(kernel, xshape, windows, pad_mode, pool)
