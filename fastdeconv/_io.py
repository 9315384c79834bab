"""Reading and writing data files for the command line: TIFF, PNG, NPY and WAV.

:func:`read` returns the data as floats ready for processing plus a :class:`Source`
that remembers how it was stored; :func:`write` stores a result the same way (or in the
format its file name asks for):

- integer data (uint8/uint16 images, integer NPY/TIFF) is scaled to [0, 1] (signed
  integers to [-1, 1]) for processing and written back in the same integer type,
  rounded and clipped to its range;
- float data stays float: float32 TIFF, NPY in the input's float type (float16 is
  widened to float32);
- WAV data is read as floats in [-1, 1] and written with the input's sample format
  (PCM_16, PCM_24, FLOAT...) and rate.  Multi-channel audio is ``(frames, channels)``.

Optional packages: ``tifffile`` (TIFF), ``imageio`` (PNG), ``soundfile`` (WAV; without
it ``scipy.io.wavfile`` reads and writes PCM and float WAV).  A missing package, a
missing or unreadable file raise :class:`DataFileError` with a message for the user.
"""
import dataclasses
import importlib
import os

import numpy as np

__all__ = ["DataFileError", "Source", "read", "write", "FORMATS"]

FORMATS = {".tif": "tiff", ".tiff": "tiff", ".png": "png", ".npy": "npy", ".wav": "wav"}
_NEEDS = {"tiff": ("tifffile", "tifffile"), "png": ("imageio.v3", "imageio")}


class DataFileError(Exception):
    """A data file that cannot be read or written; the message is for the user."""


@dataclasses.dataclass
class Source:
    """How the input was stored: what :func:`write` needs to store a result alike."""

    fmt: str
    dtype: np.dtype
    rate: int = None       # WAV sample rate
    subtype: str = None    # WAV sample format (soundfile's name)


def file_format(path):
    """``'tiff'``, ``'png'``, ``'npy'`` or ``'wav'`` from the file name's extension."""
    ext = os.path.splitext(str(path))[1].lower()
    try:
        return FORMATS[ext]
    except KeyError:
        raise DataFileError(
            f"unsupported file type {ext or '(no extension)'!r} for {str(path)!r}"
            f" (supported: {', '.join(sorted(set(FORMATS)))})") from None


def _module(fmt):
    name, package = _NEEDS[fmt]
    try:
        return importlib.import_module(name)
    except ImportError:
        raise DataFileError(f"{fmt.upper()} files need the {package} package: pip install"
                            f" {package} (or pip install 'fastdeconv[cli]')") from None


def _int_scale(dtype):
    """Divisor that maps ``dtype``'s range to [0, 1] (unsigned) or [-1, 1] (signed)."""
    info = np.iinfo(dtype)
    return float(info.max)


def _to_float(data):
    if data.dtype.kind == "b":
        return data.astype(np.float32)
    if data.dtype.kind in "iu":
        out_type = np.float32 if data.dtype.itemsize <= 2 else np.float64
        return (data / _int_scale(data.dtype)).astype(out_type)
    if data.dtype.kind == "f":
        return data.astype(np.float32) if data.dtype.itemsize < 4 else data
    raise DataFileError(f"the data has dtype {data.dtype}; fastdeconv processes real"
                        f" numbers (integers, floats)")


def _from_float(data, dtype):
    """Floats (scaled like :func:`_to_float`) back to ``dtype``, rounded and clipped."""
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return data >= 0.5
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        scaled = np.rint(np.asarray(data, np.float64) * _int_scale(dtype))
        return np.clip(scaled, info.min, info.max).astype(dtype)
    return np.asarray(data, dtype)


def read(path):
    """Read a data file.

    Returns
    -------
    data : ndarray
        float32 or float64, integer data scaled to [0, 1] ([-1, 1] if signed).
    source : Source
        The format, the stored dtype, and for WAV the rate and sample format.
    """
    path = str(path)
    fmt = file_format(path)
    if not os.path.exists(path):
        raise DataFileError(f"input file {path!r} does not exist")
    if os.path.isdir(path):
        raise DataFileError(f"{path!r} is a folder, not a data file")
    rate = subtype = None
    try:
        if fmt == "npy":
            data = np.load(path, allow_pickle=False)
        elif fmt == "tiff":
            data = _module("tiff").imread(path)
        elif fmt == "png":
            data = _module("png").imread(path)
        else:
            data, rate, subtype = _read_wav(path)
    except DataFileError:
        raise
    except Exception as exc:  # the readers raise many types for a corrupt file
        raise DataFileError(f"cannot read {path!r} as {fmt.upper()}:"
                            f" {_reason(exc)}") from None
    data = np.asarray(data)
    if data.size == 0:
        raise DataFileError(f"{path!r} holds no data (shape {data.shape})")
    if data.dtype.kind not in "biuf":
        raise DataFileError(f"{path!r} holds {data.dtype} data; fastdeconv processes real"
                            f" numbers (integers, floats)")
    source = Source(fmt, data.dtype, rate, subtype)
    if fmt == "wav":
        return data, source  # soundfile already gives floats in [-1, 1]
    return _to_float(data), source


def _reason(exc):
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _read_wav(path):
    try:
        import soundfile
    except ImportError:
        soundfile = None
    if soundfile is not None:
        info = soundfile.info(path)
        data, rate = soundfile.read(path, dtype="float64", always_2d=False)
        return data, rate, info.subtype
    from scipy.io import wavfile
    rate, data = wavfile.read(path)
    subtype = {"int16": "PCM_16", "int32": "PCM_32", "uint8": "PCM_U8",
               "float32": "FLOAT", "float64": "DOUBLE"}.get(data.dtype.name)
    if subtype is None:
        raise DataFileError(f"cannot read {path!r}: WAV samples of type {data.dtype}")
    if data.dtype == np.uint8:
        data = (data.astype(np.float64) - 128) / 128
    elif data.dtype.kind == "i":
        data = data / float(-np.iinfo(data.dtype).min)
    return np.asarray(data, np.float64), rate, subtype


def write(path, data, source=None):
    """Write ``data`` (floats, scaled as :func:`read` returns them) to ``path``.

    The format follows ``path``'s extension; the stored dtype follows ``source`` (the
    input's): integers back to their type, floats as float32 TIFF or NPY in the input's
    float type, WAV in the input's sample format and rate.  PNG stores uint8 or uint16
    only: float data becomes uint16.  Returns what was stored, e.g. ``'uint8'`` or
    ``'PCM_16 at 44100 Hz'``.
    """
    path = str(path)
    fmt = file_format(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise DataFileError(f"cannot write {path!r}: folder {folder!r} does not exist")
    data = np.asarray(data)
    in_dtype = np.dtype(source.dtype) if source is not None else data.dtype
    try:
        if fmt == "wav":
            return _write_wav(path, data, source)
        if fmt == "png":
            dtype = in_dtype if in_dtype in (np.uint8, np.uint16) else np.dtype(np.uint16)
            if data.ndim not in (2, 3) or (data.ndim == 3
                                           and data.shape[-1] not in (1, 3, 4)):
                raise DataFileError(f"cannot write {path!r}: PNG stores 2-D images"
                                    f" (optionally with 3 or 4 colour channels), the"
                                    f" result has shape {data.shape}")
            out = _from_float(data, dtype)
            _module("png").imwrite(path, out)
            return out.dtype.name
        if in_dtype.kind in "biu":
            out = _from_float(data, in_dtype)
        elif fmt == "tiff" or in_dtype.itemsize < 4:
            out = np.asarray(data, np.float32)
        else:
            out = np.asarray(data, in_dtype)
        if fmt == "npy":
            np.save(path, out)
        else:
            rgb = out.ndim >= 3 and out.shape[-1] in (3, 4)
            _module("tiff").imwrite(path, out, photometric="rgb" if rgb else "minisblack")
        return out.dtype.name
    except DataFileError:
        raise
    except OSError as exc:
        raise DataFileError(f"cannot write {path!r}:"
                            f" {exc.strerror or _reason(exc)}") from None


def _write_wav(path, data, source):
    if data.ndim not in (1, 2):
        raise DataFileError(f"cannot write {path!r}: WAV stores (frames,) or (frames,"
                            f" channels) audio, the result has shape {data.shape}")
    rate = source.rate if source is not None and source.rate else 44100
    subtype = source.subtype if source is not None and source.subtype else "FLOAT"
    if subtype not in ("FLOAT", "DOUBLE"):
        data = np.clip(data, -1.0, 1.0)  # PCM: no wrap-around on overflow
    try:
        import soundfile
    except ImportError:
        soundfile = None
    if soundfile is not None:
        soundfile.write(path, data, rate, subtype=subtype)
        return f"{subtype} at {rate} Hz"
    from scipy.io import wavfile
    dtype = np.dtype({"PCM_16": np.int16, "PCM_32": np.int32, "PCM_U8": np.uint8,
                      "DOUBLE": np.float64}.get(subtype, np.float32))
    if dtype == np.uint8:
        out = np.clip(np.rint(data * 128 + 128), 0, 255).astype(np.uint8)
    elif dtype.kind == "i":
        scale = float(-np.iinfo(dtype).min)
        out = np.clip(np.rint(data * scale), -scale, scale - 1).astype(dtype)
    else:
        out = np.asarray(data, dtype)
    wavfile.write(path, rate, out)
    return f"{dtype.name} at {rate} Hz"
