"""fastdeconv: fast convolution and deconvolution of signals, images and volumes on a CPU.

Importing this package compiles nothing and imports neither Numba nor the compiled
extensions; the first call that needs a kernel loads (and, for Numba, compiles or
reloads from cache) it.
"""
from ._backends import backends, get_backend, get_num_threads, set_backend, set_num_threads
from . import nn, psf, stream
from .convolution import (choose_conv_method, convolve, convolve2d, correlate,
                          correlate2d, fftconvolve, oaconvolve)
from .nn import (conv, conv1d, conv2d, conv3d, conv_transpose, conv_transpose1d,
                 conv_transpose2d, conv_transpose3d)
from .stream import StreamingConvolver, StreamingDeconvolver, inverse_filter_design
from .restoration import (blind_richardson_lucy, deconvolve, inverse_filter, landweber,
                          richardson_lucy, tikhonov, unsupervised_wiener, wiener)

__version__ = "0.1.0"

__all__ = [
    "backends", "get_backend", "set_backend", "get_num_threads", "set_num_threads",
    "convolve", "correlate", "convolve2d", "correlate2d", "fftconvolve", "oaconvolve",
    "choose_conv_method", "deconvolve", "inverse_filter", "wiener", "unsupervised_wiener",
    "tikhonov", "richardson_lucy", "landweber", "blind_richardson_lucy", "psf",
    "stream", "StreamingConvolver", "StreamingDeconvolver", "inverse_filter_design",
    "nn", "conv", "conv_transpose", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
    "conv_transpose2d", "conv_transpose3d",
]
