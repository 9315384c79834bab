"""The ``fastdeconv`` command end to end: ``python -m fastdeconv ...`` in a subprocess,
real files in ``tmp_path``.

Every subcommand runs once or a few times on small inputs; error cases must exit non-zero
with exactly one line on stderr (``fastdeconv: error: ...``) and no traceback.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import fastdeconv as fd
from fastdeconv import _io, cli

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(*args, cwd=None, timeout=120):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("FASTDECONV_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "fastdeconv", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or ROOT, env=env,
                          timeout=timeout)


def ok(result):
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def fails(result, *words):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("fastdeconv: error: "), lines[0]
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


def _scene(n=48):
    from fastdeconv._demo import demo_image
    return demo_image(64)[:n, :n]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Small blurred inputs in every format."""
    tifffile = pytest.importorskip("tifffile")
    iio = pytest.importorskip("imageio.v3")
    d = tmp_path_factory.mktemp("data")
    psf = fd.psf.gaussian(7, 1.2)
    img = np.clip(fd.convolve(_scene(), psf, "same", boundary="symm"), 0, 1)
    paths = {"psf": d / "psf.npy"}
    np.save(paths["psf"], psf)
    paths["tif"] = d / "in.tif"
    tifffile.imwrite(paths["tif"], img.astype(np.float32))
    paths["tif16"] = d / "in16.tif"
    tifffile.imwrite(paths["tif16"], np.rint(img * 65535).astype(np.uint16))
    paths["png"] = d / "in.png"
    iio.imwrite(paths["png"], np.rint(img * 255).astype(np.uint8))
    paths["rgb"] = d / "rgb.png"
    iio.imwrite(paths["rgb"], np.rint(np.stack([img, img ** 2, 1 - img], -1) * 255)
                .astype(np.uint8))
    paths["npy"] = d / "in.npy"
    np.save(paths["npy"], img)
    sig = np.zeros((600, 2))
    sig[100, 0], sig[300, 1], sig[450, 0] = 0.8, -0.7, 0.5
    ir = fd.psf.gaussian(15, 2.5, ndim=1)
    sig = np.stack([fd.convolve(sig[:, c], ir, "same") for c in range(2)], -1)
    paths["wav"] = d / "in.wav"
    _io.write(paths["wav"], sig, _io.Source("wav", np.dtype(np.int16), 8000, "PCM_16"))
    paths["bad"] = d / "corrupt.tif"
    paths["bad"].write_bytes(b"this is not a TIFF file at all")
    return paths


# --------------------------------------------------------------------------- demo, info

def test_demo_quick_writes_figure_and_psnr(tmp_path):
    r = ok(run("demo", "--quick", "--out", tmp_path, timeout=180))
    psnr_lines = [line for line in r.stdout.splitlines() if "dB" in line]
    assert len(psnr_lines) >= 6, r.stdout
    assert "Wiener" in r.stdout and "Richardson-Lucy" in r.stdout
    figure = tmp_path / "fastdeconv_demo.png"
    assert figure.exists() and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_info():
    r = ok(run("info"))
    for word in ("fastdeconv", "numpy", "backends", "default", "threads",
                 "threading layer", "FFT engine", "CPU", "SIMD"):
        assert word in r.stdout, word


def test_help_and_version():
    r = ok(run("--help"))
    for cmd in ("demo", "deconvolve", "convolve", "bench", "info"):
        assert cmd in r.stdout
    assert "gaussian:sigma" in ok(run("deconvolve", "--help")).stdout
    assert fd.__version__ in ok(run("--version")).stdout


# --------------------------------------------------------------------------- deconvolve

@pytest.mark.parametrize("kind,method,extra", [
    ("tif", "rl", ["--iterations", "15", "--acceleration", "biggs", "--boundary",
                   "noncirculant"]),
    ("tif16", "landweber", ["--iterations", "10"]),
    ("png", "wiener", ["--balance", "0.02"]),
    ("png", "rl", ["--iterations", "10", "--tv", "0.002"]),
    ("npy", "tikhonov", ["--lam", "0.01", "--boundary", "symm"]),
    ("npy", "inverse", ["--eps", "0.05"]),
    ("rgb", "blind", ["--iterations", "3"]),
    ("wav", "wiener", []),
    ("wav", "rl", ["--iterations", "10"]),
])
def test_deconvolve_round_trip(files, tmp_path, kind, method, extra):
    src = files[kind]
    out = tmp_path / ("out" + src.suffix)
    psf = files["psf"] if kind not in ("wav",) else "gaussian:sigma=2.5"
    if method == "blind":
        psf = "gaussian:sigma=1,size=7"
        extra = extra + ["--psf-out", tmp_path / "psf_est.npy"]
    r = ok(run("deconvolve", src, "-o", out, "--psf", psf, "--method", method, *extra))
    assert str(out) in r.stdout
    data_in, src_info = _io.read(src)
    data_out, out_info = _io.read(out)
    assert data_out.shape == data_in.shape
    assert out_info.dtype == src_info.dtype  # uint8 stays uint8, float32 stays float32...
    if kind == "wav":
        assert (out_info.rate, out_info.subtype) == (8000, "PCM_16")
    assert np.isfinite(data_out).all()
    if method == "blind":
        est = np.load(tmp_path / "psf_est.npy")
        assert est.shape == (7, 7) and abs(est.sum() - 1) < 1e-3


def test_deconvolve_restores(files, tmp_path):
    """The restored NPY is sharper: closer to the truth than the blurred input."""
    out = tmp_path / "sharp.npy"
    ok(run("deconvolve", files["npy"], "-o", out, "--psf", "gaussian:sigma=1.2,size=7",
           "--method", "rl", "--iterations", "30", "--boundary", "symm", "--no-progress"))
    truth = _scene()
    blurred = np.load(files["npy"])
    restored = np.load(out)
    assert restored.dtype == blurred.dtype
    assert np.abs(restored - truth).mean() < 0.8 * np.abs(blurred - truth).mean()


def test_convolve_formats(files, tmp_path):
    out = tmp_path / "conv.png"
    r = ok(run("convolve", files["png"], "-o", out, "--kernel", "disk:radius=2"))
    assert "conv.png" in r.stdout
    data, info = _io.read(out)
    assert info.dtype == np.uint8 and data.shape == (48, 48)
    out = tmp_path / "conv.npy"
    ok(run("convolve", files["npy"], "-o", out, "--kernel", files["psf"], "--mode", "full",
           "--boundary", "wrap", "--method", "direct"))
    expected = fd.convolve(np.load(files["npy"]), np.load(files["psf"]), "full",
                           boundary="wrap")
    np.testing.assert_allclose(np.load(out), expected, atol=1e-12)
    out = tmp_path / "conv.wav"
    ok(run("convolve", files["wav"], "-o", out, "--kernel", "gaussian:sigma=3"))
    assert _io.read(out)[0].shape == (600, 2)


def test_bench_quick_filtered():
    r = ok(run("bench", "--quick", "--suite", "convolution", "-k", "K=16 float32",
               "--no-memory", "--budget", "0.01", timeout=180))
    assert "Machine:" in r.stdout and "Total benchmark time" in r.stdout


# --------------------------------------------------------------------------- errors

@pytest.mark.parametrize("args,words", [
    (["deconvolve", "missing.tif", "-o", "x.tif", "--psf", "gaussian:sigma=2"],
     ["does not exist"]),
    (["deconvolve", "{npy}", "-o", "x.npy", "--psf", "gaussian:sigma=2", "--method",
      "magic"], ["invalid choice", "magic"]),
    (["deconvolve", "{npy}", "-o", "x.npy", "--psf", "gaussian:sigmaa=2"],
     ["bad PSF spec", "sigmaa"]),
    (["deconvolve", "{npy}", "-o", "x.npy", "--psf", "gaussian"],
     ["bad PSF spec", "sigma"]),
    (["deconvolve", "{npy}", "-o", "x.npy", "--psf", "blob:r=1"], ["bad --psf"]),
    (["deconvolve", "{npy}", "-o", "x.npy", "--psf", "disk:radius=abc"], ["not a number"]),
    (["deconvolve", "{npy}", "-o", "x.npy", "--psf", "disk:radius=-2"], ["bad PSF spec"]),
    (["deconvolve", "{bad}", "-o", "x.tif", "--psf", "gaussian:sigma=2"],
     ["cannot read", "TIFF"]),
    (["deconvolve", "{npy}", "-o", "x.bmp", "--psf", "gaussian:sigma=2"],
     ["unsupported file type", ".bmp"]),
    (["deconvolve", "{npy}", "-o", "x.npy", "--psf", "gaussian:sigma=2", "--balance",
      "0.1"], ["--balance", "wiener"]),
    (["deconvolve", "{npy}", "-o", "x.npy", "--psf", "gaussian:sigma=2", "--iterations",
      "many"], ["invalid int"]),
    (["deconvolve", "{wav}", "-o", "x.wav", "--psf", "motion:length=5"], ["2-D"]),
    (["deconvolve", "{npy}", "-o", "x.npy"], ["--psf"]),
    (["convolve", "{npy}", "-o", "x.npy", "--kernel", "{missing}"], ["does not exist"]),
    (["frobnicate"], ["invalid choice"]),
    ([], ["required"]),
])
def test_errors_are_one_line(files, tmp_path, args, words):
    mapping = {k: str(v) for k, v in files.items()}
    mapping["missing"] = str(tmp_path / "nope.npy")
    args = [a.format(**mapping) for a in args]
    fails(run(*args, cwd=tmp_path), *words)


def test_library_errors_are_one_line(files, tmp_path):
    # a PSF larger than the data: the library's ValueError, reported in one line
    big = tmp_path / "big.npy"
    np.save(big, np.ones((80, 80)))
    fails(run("deconvolve", files["npy"], "-o", tmp_path / "o.npy", "--psf", big,
              "--method", "wiener"), "psf")


# --------------------------------------------------------------------------- in process

def test_parse_psf_specs():
    g = cli.parse_psf("gaussian:sigma=2", 2)
    assert g.shape == (13, 13) and abs(g.sum() - 1) < 1e-12
    assert cli.parse_psf("gaussian:sigma=2,size=15", 2).shape == (15, 15)
    assert cli.parse_psf("gaussian:sigma=2x1", 2).shape == (13, 7)
    assert cli.parse_psf("gaussian:sigma=1", 3).shape == (7, 7, 7)
    assert cli.parse_psf("disk:radius=4", 2).shape == (9, 9)
    assert cli.parse_psf("motion:length=9,angle=30", 2).ndim == 2
    assert cli.parse_psf("airy:radius=3", 2).shape == (19, 19)
    assert cli.parse_psf("gaussian:sigma=2", 1).shape == (13,)
    assert cli.parse_psf("gaussian:sigma=1.5,size=9x9", 3).shape == (9, 9)  # per slice
    with pytest.raises(cli.CLIError, match="axes"):
        cli.parse_psf("gaussian:sigma=1x1x1,size=9x9", 3)
    with pytest.raises(cli.CLIError, match="size"):
        cli.parse_psf("gaussian:sigma=2,size=2.5", 2)


def test_io_round_trips(tmp_path):
    pytest.importorskip("tifffile")
    pytest.importorskip("imageio")
    rng = np.random.default_rng(0)
    for name, arr in [("a.npy", rng.random((5, 6)).astype(np.float64)),
                      ("b.npy", rng.integers(0, 65535, (5, 6)).astype(np.uint16)),
                      ("c.tif", rng.integers(0, 255, (3, 5, 6)).astype(np.uint8)),
                      ("d.png", rng.integers(0, 65535, (7, 6)).astype(np.uint16))]:
        path = tmp_path / name
        _io.write(path, _io._to_float(arr), _io.Source("npy", arr.dtype))
        back, info = _io.read(path)
        assert info.dtype == arr.dtype
        stored = np.load(path) if name.endswith("npy") else _io._from_float(back, arr.dtype)
        np.testing.assert_array_equal(stored, arr)
    # floats beyond the integer range are clipped, not wrapped
    path = tmp_path / "clip.png"
    _io.write(path, np.array([[-0.5, 0.5, 1.5]]), _io.Source("png", np.dtype(np.uint8)))
    np.testing.assert_array_equal(_io._from_float(_io.read(path)[0], np.uint8),
                                  [[0, 128, 255]])
