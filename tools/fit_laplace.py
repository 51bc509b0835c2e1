#!/usr/bin/env python3
"""Fits the Mills-ratio polynomial of Laplace's forward (shaders/activations.wgsl,
wa_laplace_mills) and prints it as a WGSL expression.

    python3 tools/fit_laplace.py

Laplace is Phi((x - mu) / sigma); with the default mu = 0.707107 and
sigma = 0.282095 the inputs near x = 0, where the condition number vanishes,
put z near -2.5, in the left tail Q(a) = e^(-a^2/2) G(a), a = |z|, that
normal.wgsl serves with a rational G good to 2-5 ULPs (enough for GELU, whose
condition number there is about a^2). This fits G on [MID_START, MID_END] as
a polynomial in t = a - MID_CENTER, with the same method as tools/fit_normal.py
(near-minimax relative error, coefficients rounded to f32 one at a time), and
reports the worst f32 Horner error in ULPs of the exact G.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fit_normal import F, cheb_points, fit_rounded, horner, horner32, lit, mills  # noqa: E402

MID_START, MID_END, MID_CENTER = 1.8, 3.8, 2.8
DEGREE = 9


def main():
    # G(a) = (c0_hi + c0_lo) + t P(t): the constant in two parts (its f32
    # rounding alone would be half an ULP), the rest fitted to G - c0.
    c0 = float(mills(np.float64(MID_CENTER)))
    c0_hi = F(c0)
    c0_lo = F(c0 - float(c0_hi))
    a = cheb_points(MID_START, MID_END)
    g = mills(a)
    t = a - MID_CENTER
    basis = np.stack([t ** j for j in range(1, DEGREE + 1)], axis=1)
    rest = g - (float(c0_hi) + float(c0_lo))
    cs, err = fit_rounded(basis / t[:, None], rest / t, np.abs(t) / g)
    check = np.linspace(MID_START, MID_END, 200001).astype(np.float32)
    tc = F(check - F(MID_CENTER))
    got = F(c0_hi + F(c0_lo + F(horner32(cs, tc) * tc))).astype(np.float64)
    exact = mills(check.astype(np.float64))
    ulps = np.max(np.abs(got - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64))
    print(f"// G(a), a in [{MID_START}, {MID_END}], t = a - {MID_CENTER}: fit error {err:.2e} relative, f32 evaluation {ulps:.2f} ULP")
    print(f"{lit(c0_hi)} + ({lit(c0_lo)} + t * ({horner('t', cs)}))")


if __name__ == "__main__":
    main()
