# Scalar types of the compiled kernels, declared once for every csrc/*.pyx.
#
# The kernels are called with float32, float64, complex64, complex128 and int64 arrays
# (the last for exact integer correlation); each function using ``scalar_t`` is
# specialised for all five and dispatched on the buffer dtype at call time.

ctypedef fused scalar_t:
    float
    double
    float complex
    double complex
    long long
