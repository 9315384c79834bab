"""Reference kernels of ``fastdeconv.nn``: naive loops straight from the definitions.

Two kinds of functions, sharing no code with the compiled kernels; slow by design (the
tests give them tiny inputs):

- ``conv_direct`` and ``conv_transpose_scatter`` follow PyTorch's definitions on
  ``(N, C, D, H, W)`` arrays (1-D and 2-D problems use size-1 leading spatial axes).
  They are what ``backend='python'`` runs, so that backend is independent of the
  polyphase planning in ``fastdeconv/nn.py`` as well as of the compiled loops.
- ``phase_correlate`` and ``phase_pack`` are the compiled kernels' twins: same names,
  same arguments, same contract (``kernels/numba/transposed.py`` states it), written
  from that contract's formulas.  The kernel tests run them against the Numba and
  Cython versions.

Contract of the definition functions: ``x``, ``weight``, ``bias`` and ``out`` are
ndarrays of one float dtype, ``out`` is preallocated with the output shape (which fixes
the upper ends, hence ``output_padding`` and asymmetric paddings), ``stride``,
``padding`` (the zero padding before the first sample of each axis), ``dilation`` are
3-tuples of ints; nothing is checked.
"""

__all__ = ["conv_direct", "conv_transpose_scatter", "phase_correlate",
           "phase_correlate_parallel", "phase_pack", "phase_pack_parallel"]


def conv_direct(x, weight, bias, stride, padding, dilation, groups, out):
    """``out[n, co, o] = bias[co] + sum_{ci, k} weight[co, ci, k] * x[n, g*CIG + ci,
    o*stride + k*dilation - padding]`` (zero outside ``x``), ``g = co // (CO/groups)``.

    Every tap is multiplied, a padding zero included, as PyTorch does: an infinite
    weight that meets the padding makes the output NaN (``inf * 0``).
    """
    n_batch, cin = x.shape[:2]
    cout, cig = weight.shape[:2]
    kshape = weight.shape[2:]
    cog = cout // groups
    zero = x.dtype.type(0)
    for n in range(n_batch):
        for co in range(cout):
            g = co // cog
            for od in range(out.shape[2]):
                for oh in range(out.shape[3]):
                    for ow in range(out.shape[4]):
                        total = bias[co]
                        for ci in range(cig):
                            c = g * cig + ci
                            for kd in range(kshape[0]):
                                i = od * stride[0] + kd * dilation[0] - padding[0]
                                in_d = 0 <= i < x.shape[2]
                                for kh in range(kshape[1]):
                                    j = oh * stride[1] + kh * dilation[1] - padding[1]
                                    in_h = in_d and 0 <= j < x.shape[3]
                                    for kw in range(kshape[2]):
                                        k = ow * stride[2] + kw * dilation[2] - padding[2]
                                        inside = in_h and 0 <= k < x.shape[4]
                                        v = x[n, c, i, j, k] if inside else zero
                                        total = total + weight[co, ci, kd, kh, kw] * v
                        out[n, co, od, oh, ow] = total


def conv_transpose_scatter(x, weight, bias, stride, padding, dilation, groups, out):
    """Scatter every input sample times the kernel: ``out[n, g*COG + co, i*stride +
    k*dilation - padding] += x[n, ci, i] * weight[ci, co, k]`` (contributions that fall
    outside ``out`` dropped), on top of ``bias``; ``g = ci // (C/groups)``.

    Only products of real samples are formed (PyTorch's definition): an infinite
    weight gives NaN only where it meets a zero or NaN sample, never padding.
    """
    n_batch, cin = x.shape[:2]
    cog = weight.shape[1]
    cig = cin // groups
    kshape = weight.shape[2:]
    for n in range(n_batch):
        for c in range(out.shape[1]):
            out[n, c] = bias[c]
        for ci in range(cin):
            g = ci // cig
            for i in range(x.shape[2]):
                for j in range(x.shape[3]):
                    for k in range(x.shape[4]):
                        v = x[n, ci, i, j, k]
                        for co in range(cog):
                            for kd in range(kshape[0]):
                                od = i * stride[0] + kd * dilation[0] - padding[0]
                                if not 0 <= od < out.shape[2]:
                                    continue
                                for kh in range(kshape[1]):
                                    oh = j * stride[1] + kh * dilation[1] - padding[1]
                                    if not 0 <= oh < out.shape[3]:
                                        continue
                                    for kw in range(kshape[2]):
                                        ow = k * stride[2] + kw * dilation[2] - padding[2]
                                        if not 0 <= ow < out.shape[4]:
                                            continue
                                        out[n, g * cog + co, od, oh, ow] += (
                                            v * weight[ci, co, kd, kh, kw])


def phase_correlate(x, offsets, term_ptr, weights, bias, geom, chunk_ptr, dims, out):
    """The compiled kernels' contract formula, one output sample at a time."""
    ng, nco, do_, ho, wo, sd, sh, sw, hq, wq, xg = (int(v) for v in dims[1:12])
    nterms = int(term_ptr[-1])
    for n in range(int(dims[0])):
        for g in range(ng):
            for co in range(nco):
                c = g * nco + co
                for f in range(len(term_ptr) - 1):
                    nd, nh, nw, od0, oh0, ow0 = (int(v) for v in geom[6 * f:6 * f + 6])
                    for ud in range(nd):
                        for uh in range(nh):
                            for uw in range(nw):
                                total = bias[c]
                                for t in range(term_ptr[f], term_ptr[f + 1]):
                                    total = total + weights[c * nterms + t] * x[
                                        (n * ng + g) * xg + offsets[t] + (ud * hq + uh) * wq
                                        + uw]
                                o = ((n * ng * nco + c) * do_ + od0 + sd * ud) * ho * wo \
                                    + (oh0 + sh * uh) * wo + ow0 + sw * uw
                                out[o] = total


def phase_pack(x, dims, out):
    """``out[c, rd, rh, rw, a, b, e] = x[c, a*SD + rd - LD, b*SH + rh - LH, e*SW + rw - LW]``
    (0 outside ``x``), one sample at a time."""
    nc, d, h, w, sd, sh, sw, dq, hq, wq, ld, lh, lw = (int(v) for v in dims)
    o = 0
    for c in range(nc):
        for rd in range(sd):
            for rh in range(sh):
                for rw in range(sw):
                    for a in range(dq):
                        for b in range(hq):
                            for e in range(wq):
                                i, j, k = a * sd + rd - ld, b * sh + rh - lh, e * sw + rw - lw
                                inside = 0 <= i < d and 0 <= j < h and 0 <= k < w
                                out[o] = x[((c * d + i) * h + j) * w + k] if inside else 0
                                o += 1


# The reference has no threads: the parallel entry points are the same loops.
phase_correlate_parallel = phase_correlate
phase_pack_parallel = phase_pack
