"""Built-in test data and the ``fastdeconv demo`` command.

Everything is generated in code (no files, no downloads):

- :func:`demo_image`: a synthetic scene in [0, 1] with a gradient background, a
  sector star, bar groups of decreasing width (a resolution chart), discs, squares and
  point sources of several brightnesses;
- :func:`demo_signal`: an audio-like signal (clicks, a chirp, a decaying tone);
- :func:`room_ir`: a causal, non-negative, room-like impulse response (direct sound,
  early reflections, an exponentially decaying diffuse tail), centred for 'same'
  convolution so that it delays nothing.

:func:`run` blurs both with known PSFs and noise, restores them with Wiener,
Richardson–Lucy and accelerated RL, prints PSNR and timings (and scikit-image's where it
is installed) and saves a before/after figure.
"""
import os
import struct
import sys
import time
import zlib

import numpy as np

__all__ = ["demo_image", "demo_signal", "room_ir", "psnr", "run"]

FIGURE_NAME = "fastdeconv_demo.png"


def demo_image(n=256):
    """Synthetic ``n x n`` float64 test scene with values in [0, 1].

    Parameters
    ----------
    n : int
        Side length (at least 32).

    Returns
    -------
    ndarray
        The scene: fine bars and points show resolution, discs and squares show edges
        and ringing, the gradient shows the treatment of smooth regions.
    """
    if n < 32:
        raise ValueError(f"n must be at least 32, got {n}")
    yy, xx = np.mgrid[0:n, 0:n] / n
    img = 0.1 + 0.25 * xx + 0.1 * yy                       # smooth background
    # sector star (top left): 24 spokes, resolution falls towards the centre
    cy, cx, r = 0.27, 0.27, 0.2
    dy, dx = yy - cy, xx - cx
    rad = np.hypot(dy, dx)
    spokes = np.sin(12 * np.arctan2(dy, dx)) > 0
    img[(rad < r) & spokes] = 0.85
    img[(rad < r) & ~spokes] = 0.05
    # bar groups (top right): three bars each, widths 4, 3, 2, 1 pixels at n = 256
    x0 = int(0.58 * n)
    for g, w in enumerate((4, 3, 2, 1)):
        w = max(1, round(w * n / 256))
        top, bottom = int((0.07 + 0.11 * g) * n), int((0.15 + 0.11 * g) * n)
        for b in range(3):
            left = x0 + 2 * b * w
            img[top:bottom, left:left + w] = 0.95
        # the same bars rotated (horizontal), to the right
        left = int(0.82 * n)
        for b in range(3):
            t = top + 2 * b * w
            img[t:t + w, left:left + int(0.12 * n)] = 0.95
    # discs and squares of several contrasts (bottom left)
    for i, (val, rr) in enumerate(((0.9, 0.07), (0.6, 0.05), (0.3, 0.035))):
        cy, cx = 0.68, 0.12 + 0.17 * i
        img[np.hypot(yy - cy, xx - cx) < rr] = val
        s0, s1 = int((0.82) * n), int((0.82 + 2 * rr) * n)
        c0 = int((cx - rr) * n)
        img[s0:s1, c0:c0 + (s1 - s0)] = 1.0 - val
    # point sources (bottom right): single pixels of decreasing brightness
    rng = np.random.default_rng(7)
    ys = rng.integers(int(0.58 * n), int(0.95 * n), 24)
    xs = rng.integers(int(0.58 * n), int(0.95 * n), 24)
    img[ys, xs] = np.linspace(1.0, 0.4, 24)
    return np.clip(img, 0.0, 1.0)


def demo_signal(n=8000, fs=8000):
    """Audio-like float64 signal in [-1, 1]: clicks, a chirp and a decaying tone.

    Parameters
    ----------
    n : int
        Number of samples.
    fs : float
        Sample rate in Hz.
    """
    t = np.arange(n) / fs
    dur = n / fs
    x = np.zeros(n)
    # a chirp from 150 Hz to fs/5 in the middle 50 % with a smooth envelope
    t0, t1 = 0.25 * dur, 0.75 * dur
    inside = (t >= t0) & (t < t1)
    tau = (t[inside] - t0) / (t1 - t0)
    f0, f1 = 150.0, fs / 5
    phase = 2 * np.pi * (f0 * tau + 0.5 * (f1 - f0) * tau ** 2) * (t1 - t0)
    x[inside] += 0.35 * np.sin(phase) * np.sin(np.pi * tau) ** 2
    # a decaying 440 Hz tone near the start
    start = int(0.05 * n)
    tt = t[start:] - t[start]
    x[start:] += 0.3 * np.sin(2 * np.pi * 440 * tt) * np.exp(-tt / (0.04 * dur))
    # clicks of both signs
    for pos, amp in ((0.15, 0.8), (0.2, -0.6), (0.82, 0.7), (0.9, -0.9), (0.93, 0.5)):
        x[int(pos * n)] += amp
    return np.clip(x, -1.0, 1.0)


def room_ir(fs=8000, length_s=0.03, rng=None):
    """Non-negative, room-like impulse response summing to 1, causal under 'same'
    convolution (zeros before the direct sound, so the blur delays nothing).

    Parameters
    ----------
    fs : float
        Sample rate in Hz.
    length_s : float
        Length of the response in seconds.
    rng : numpy.random.Generator, optional
        Randomness of the diffuse tail (default: fixed seed).
    """
    rng = np.random.default_rng(3) if rng is None else rng
    m = max(8, int(length_s * fs))
    h = np.zeros(m)
    h[0] = 1.0                                           # direct sound
    for delay_s, gain in ((0.0021, 0.55), (0.0043, 0.4), (0.0071, 0.3), (0.011, 0.2)):
        h[min(m - 1, int(delay_s * fs))] += gain         # early reflections
    k = np.arange(m)
    h += 0.12 * np.abs(rng.standard_normal(m)) * np.exp(-k / (0.25 * m))  # diffuse tail
    h /= h.sum()
    return np.concatenate([np.zeros(m - 1), h])


def psnr(estimate, truth):
    """Peak signal-to-noise ratio in dB, the peak being ``max(abs(truth))``."""
    mse = float(np.mean((np.asarray(estimate, np.float64) - truth) ** 2))
    peak = float(np.max(np.abs(truth)))
    return float("inf") if mse == 0 else 10 * np.log10(peak ** 2 / mse)


def _timed(func, repeat):
    """(result, seconds of the first call, median seconds of ``repeat`` more calls)."""
    t = time.perf_counter()
    result = func()
    first = time.perf_counter() - t
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        func()
        times.append(time.perf_counter() - t)
    return result, first, (float(np.median(times)) if times else first)


def _fmt_time(s):
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


class _Table:
    def __init__(self, out):
        self.out = out
        self.rows = []

    def add(self, name, quality="", time_s=None, note=""):
        self.rows.append((name, quality, _fmt_time(time_s) if time_s is not None else "",
                          note))

    def flush(self, title):
        self.out.write(f"\n{title}\n")
        widths = [max(len(r[i]) for r in self.rows + [("method", "PSNR", "time", "")])
                  for i in range(4)]
        head = ("method", "PSNR", "time", "")
        for row in [head] + self.rows:
            line = "  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
            self.out.write("  " + line + "\n")
        self.out.flush()
        self.rows = []


def _skimage_restoration():
    try:
        import warnings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from skimage import restoration
        return restoration
    except ImportError:
        return None


def run(out_dir=".", quick=False, stream=None):
    """Run the demo: restore the built-in image and signal, print, save the figure.

    Parameters
    ----------
    out_dir : str
        Folder of the figure ``fastdeconv_demo.png``.
    quick : bool
        Smaller data and fewer repeats (a few seconds).
    stream : file, optional
        Where the report goes (default stdout).

    Returns
    -------
    int
        0.
    """
    import fastdeconv as fd

    out = stream if stream is not None else sys.stdout
    if not os.path.isdir(out_dir):
        raise ValueError(f"--out folder {out_dir!r} does not exist")
    rng = np.random.default_rng(2024)
    n = 128 if quick else 256
    repeat = 1 if quick else 3
    rl_iter, biggs_iter = (20, 10) if quick else (30, 15)
    sk = _skimage_restoration()
    t_start = time.perf_counter()
    out.write(f"fastdeconv {fd.__version__} demo: backend {fd.get_backend()},"
              f" {fd.get_num_threads()} thread(s); first calls include compilation"
              f" (Numba JIT, cached on disk after the first run)\n")

    # ---------------------------------------------------------------- the image
    truth = demo_image(n).astype(np.float32)
    sigma = 2.0
    psf = fd.psf.gaussian(13, sigma, dtype=np.float32)
    blurred = fd.convolve(truth, psf, mode="same", boundary="symm")
    photons = 5000.0
    noisy = rng.poisson(np.clip(blurred, 0, None) * photons) / photons
    noisy = (noisy + rng.normal(0, 0.003, noisy.shape)).astype(np.float32)
    table = _Table(out)
    table.add("blurred + noisy input", f"{psnr(noisy, truth):.2f} dB")
    balance = 0.005
    wien, first, t = _timed(lambda: fd.wiener(noisy, psf, balance), repeat)
    table.add(f"Wiener (balance {balance})", f"{psnr(wien, truth):.2f} dB", t,
              f"first call {_fmt_time(first)}")
    rl, first, t_rl = _timed(lambda: fd.richardson_lucy(noisy, psf, rl_iter), repeat)
    table.add(f"Richardson-Lucy, {rl_iter} it", f"{psnr(rl, truth):.2f} dB", t_rl,
              f"first call {_fmt_time(first)}")
    acc, first, t = _timed(lambda: np.clip(fd.richardson_lucy(
        noisy, psf, biggs_iter, acceleration="biggs", boundary="noncirculant",
        clip=False), 0, 1), repeat)
    table.add(f"RL Biggs + noncirculant, {biggs_iter} it", f"{psnr(acc, truth):.2f} dB",
              t, f"first call {_fmt_time(first)}")
    if sk is not None:
        sk_rl, _, t_sk = _timed(lambda: sk.richardson_lucy(noisy, psf, rl_iter), repeat)
        table.add(f"skimage richardson_lucy, {rl_iter} it",
                  f"{psnr(sk_rl, truth):.2f} dB", t_sk,
                  f"fastdeconv {t_sk / t_rl:.1f}x faster,"
                  f" max difference {float(np.max(np.abs(sk_rl - rl))):.1e}")
        sk_w, _, t_skw = _timed(lambda: sk.wiener(noisy, psf, balance), repeat)
        table.add("skimage wiener", f"{psnr(sk_w, truth):.2f} dB", t_skw)
    else:
        table.add("(scikit-image not installed: no comparison)")
    table.flush(f"Image {n}x{n}, Gaussian PSF (sigma {sigma:g}, 13x13), Poisson"
                f" ({photons:g} photons at peak) + read noise; PSNR against the truth")

    # --------------------------------------------------------------- the signal
    fs = 8000
    samples = 4000 if quick else 16000
    clean = demo_signal(samples, fs)
    ir = room_ir(fs, 0.03)
    wet = fd.convolve(clean, ir, mode="same")
    wet_noisy = wet + rng.normal(0, 0.002, wet.shape)
    table.add("reverberant + noisy input", f"{psnr(wet_noisy, clean):.2f} dB")
    dry_w, first, t = _timed(lambda: fd.wiener(wet_noisy, ir, None, nsr=1e-3, clip=False),
                             repeat)
    table.add("Wiener (nsr 1e-3)", f"{psnr(dry_w, clean):.2f} dB", t,
              f"first call {_fmt_time(first)}")
    offset = 1.0  # RL models non-negative data: restore the signal shifted up by 1

    def rl_audio():
        return fd.richardson_lucy(wet_noisy + offset, ir, rl_iter, boundary="nearest",
                                  acceleration="biggs", clip=False) - offset
    dry_rl, first, t = _timed(rl_audio, repeat)
    table.add(f"RL Biggs, {rl_iter} it (offset by +1)", f"{psnr(dry_rl, clean):.2f} dB", t,
              f"first call {_fmt_time(first)}")
    conv, _, t_conv = _timed(lambda: fd.convolve(clean, ir, mode="same"), repeat)
    try:
        import scipy.signal as ss
        _, _, t_sc = _timed(lambda: ss.convolve(clean, ir, mode="same"), repeat)
        table.add("fastdeconv.convolve (the blur)", "", t_conv,
                  f"scipy.signal.convolve {_fmt_time(t_sc)}: {t_sc / t_conv:.1f}x")
    except ImportError:
        pass
    table.flush(f"Signal {samples} samples at {fs} Hz, room-like impulse response"
                f" ({len(ir) // 2 + 1} taps) + noise; PSNR against the dry signal")

    # ---------------------------------------------------------------- the figure
    path = os.path.join(out_dir, FIGURE_NAME)
    how = _figure(path, truth, noisy, wien, rl, acc, clean, wet_noisy, dry_rl, fs,
                  (rl_iter, biggs_iter))
    out.write(f"\nfigure: {path} ({how}); total {time.perf_counter() - t_start:.1f} s\n")
    out.flush()
    return 0


def _figure(path, truth, noisy, wien, rl, acc, clean, wet, dry, fs, iters):
    """Save the before/after figure; matplotlib if installed, else a plain mosaic."""
    images = [("truth", truth), ("blurred + noise", noisy), ("Wiener", wien),
              (f"Richardson-Lucy ({iters[0]} it)", rl),
              (f"RL Biggs, noncirculant ({iters[1]} it)", acc)]
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        mosaic = np.concatenate([np.clip(im, 0, 1) for _, im in images], axis=1)
        _write_gray_png(path, mosaic)
        return "image mosaic; install matplotlib for the full figure"
    fig = Figure(figsize=(15, 6.4), dpi=100)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(2, len(images), height_ratios=(1.25, 1))
    for i, (title, im) in enumerate(images):
        ax = fig.add_subplot(grid[0, i])
        ax.imshow(np.clip(im, 0, 1), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(title if i == 0 else f"{title}\nPSNR {psnr(im, truth):.1f} dB",
                     fontsize=9)
        ax.set_axis_off()
    t_ms = np.arange(clean.size) / fs * 1e3
    click = int(np.argmax(np.abs(clean[: clean.size // 4])))
    chirp = int(0.6 * clean.size)
    windows = (("a click: reverb removed", click - int(0.004 * fs), click + int(0.03 * fs)),
               ("the chirp", chirp, chirp + int(0.012 * fs)))
    split = (len(images) + 1) // 2
    spans = (slice(0, split), slice(split, len(images)))
    for j, (title, lo, hi) in enumerate(windows):
        ax = fig.add_subplot(grid[1, spans[j]])
        sl = slice(max(lo, 0), min(hi, clean.size))
        ax.plot(t_ms[sl], wet[sl], lw=0.9, color="0.6",
                label=f"reverberant + noise ({psnr(wet, clean):.1f} dB)")
        ax.plot(t_ms[sl], clean[sl], lw=1.2, color="k", label="dry")
        ax.plot(t_ms[sl], dry[sl], lw=0.9, color="C3", ls="--",
                label=f"restored, RL Biggs ({psnr(dry, clean):.1f} dB)")
        ax.set_xlabel("time (ms)")
        ax.set_title(f"audio-like signal: {title}", fontsize=9)
        if j == 0:
            ax.legend(loc="upper right", fontsize=7)
    fig.suptitle("fastdeconv demo: before and after", fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    return "matplotlib"


def _write_gray_png(path, image):
    """A greyscale 8-bit PNG from floats in [0, 1], with zlib only."""
    data = np.rint(np.clip(image, 0, 1) * 255).astype(np.uint8)
    raw = b"".join(b"\x00" + row.tobytes() for row in data)

    def chunk(kind, payload):
        return (struct.pack(">I", len(payload)) + kind + payload
                + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))
    header = struct.pack(">IIBBBBB", data.shape[1], data.shape[0], 8, 0, 0, 0, 0)
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
