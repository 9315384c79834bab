"""1-D polynomial division: ``deconvolve`` with scipy.signal.deconvolve's semantics.

The quotient is the impulse response of the rational filter ``signal(z) / divisor(z)``
truncated to ``len(signal) - len(divisor) + 1`` samples, computed by
``scipy.signal.lfilter`` (a compiled direct-form recursion) exactly as scipy does, so
results agree bit for bit; the remainder is what that quotient leaves over.
"""
import numpy as np

from .._validation import as_numeric

__all__ = ["deconvolve"]


def _as_1d(a, name):
    arr = np.atleast_1d(as_numeric(a, name))
    if not (arr.ndim == 1 and arr.size > 0):
        # scipy's message, word for word (API.md: same type and message).
        raise ValueError(f"Parameter {name} must be non-empty 1d array, "
                         f"but its shape is {arr.shape}!")
    return arr


def deconvolve(signal, divisor):
    r"""Deconvolve ``divisor`` out of ``signal`` by polynomial long division.

    Returns the quotient and remainder such that
    ``signal = convolve(divisor, quotient) + remainder``, with the semantics, dtypes
    and errors of :func:`scipy.signal.deconvolve`.

    Parameters
    ----------
    signal : (N,) array_like
        Signal data, typically a recorded signal (the dividend's coefficients,
        highest power first). A scalar counts as a length-1 array.
    divisor : (D,) array_like
        Divisor data, typically the impulse response that was applied to the
        original signal. ``divisor[0]`` must not be 0 when ``D <= N``.

    Returns
    -------
    quotient : ndarray or list
        ``(N - D + 1,)`` float64 (complex128 if an input is complex) quotient, the
        recovered original signal. When ``D > N`` it is an empty list ``[]``, as in
        scipy.
    remainder : ndarray
        ``(N,)`` remainder, ``signal - convolve(divisor, quotient)``: float64 (or
        complex128). When ``D > N`` it is ``signal`` itself as an array (a copy, in
        ``signal``'s dtype).

    Raises
    ------
    ValueError
        If ``signal`` or ``divisor`` is empty or not 1-D (scipy's messages), or if
        ``divisor[0] == 0`` while ``D <= N``.
    TypeError
        If an input does not hold numbers.

    See Also
    --------
    scipy.signal.deconvolve : the reference implementation.
    numpy.polydiv : the same division on polynomial coefficients.
    fastdeconv.convolve : its inverse, ``convolve(quotient, divisor)``.

    Notes
    -----
    With ``a = divisor`` and ``b = signal``, the quotient ``q`` solves the
    triangular recursion

    .. math:: q_n = \frac{1}{a_0}\Big(b_n - \sum_{k=1}^{\min(n, D-1)} a_k q_{n-k}\Big),
              \qquad n = 0, \dots, N-D,

    i.e. the first ``N - D + 1`` samples of the impulse response of
    :math:`B(z)/A(z)`. It is the exact inverse of ``convolve(quotient, divisor)``,
    but as an IIR recursion it amplifies noise when the divisor has roots outside
    the unit circle (not minimum phase): for noisy data use :func:`wiener` or
    :func:`tikhonov` instead.

    Unlike the restoration functions, NaN and Inf are not refused here: as in scipy
    they propagate into the outputs.

    Examples
    --------
    >>> import numpy as np
    >>> from fastdeconv.restoration._polynomial import deconvolve
    >>> original = [0, 1, 0, 0, 1, 1, 0, 0]
    >>> impulse_response = [2, 1]
    >>> recorded = np.convolve(impulse_response, original)
    >>> recorded
    array([0, 2, 1, 0, 2, 3, 1, 0, 0])
    >>> recovered, remainder = deconvolve(recorded, impulse_response)
    >>> recovered
    array([0., 1., 0., 0., 1., 1., 0., 0.])
    >>> remainder
    array([0., 0., 0., 0., 0., 0., 0., 0., 0.])
    """
    num = _as_1d(signal, "signal")
    den = _as_1d(divisor, "divisor")
    n, d = num.shape[0], den.shape[0]
    if d > n:
        # scipy returns the dividend object itself; a copy gives the same values
        # without aliasing the caller's array.
        return [], num.copy()
    from scipy.signal import lfilter  # heavy import, deferred to first use

    impulse = np.zeros(n - d + 1, dtype=np.float64)
    impulse[0] = 1
    quot = lfilter(num, den, impulse)
    rem = num - np.convolve(den, quot)
    return quot, rem
