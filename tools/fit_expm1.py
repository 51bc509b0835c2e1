"""Derives the polynomial of wa_expm1_nonpositive (shaders/math.wgsl).

expm1(x) = x + x^2 Q(x) for |x| <= ln(2)/2: Q is a weighted least-squares fit
of (expm1(x) - x) / x^2 on Chebyshev nodes (weight |x|, i.e. relative to
expm1(x)), with coefficients rounded to f32. Prints the coefficients and the
worst relative fit error in ULPs. Needs numpy and mpmath.
"""
import mpmath
import numpy as np

mpmath.mp.dps = 40
L = float(mpmath.log(2) / 2)
DEGREE = 5

x = np.cos(np.linspace(0, np.pi, 600)) * L
x = x[np.abs(x) > 1e-9]
q = np.array([float((mpmath.expm1(v) - v) / (v * v)) for v in x])
vander = np.vander(x, DEGREE + 1, increasing=True)
coefficients, *_ = np.linalg.lstsq(vander * np.abs(x)[:, None], q * np.abs(x), rcond=None)
c32 = np.array(coefficients, dtype=np.float32)

t = np.linspace(-L, L, 1001)
t = t[np.abs(t) > 1e-6]
approx = t + t * t * np.polyval(c32[::-1].astype(np.float64), t)
ref = np.array([float(mpmath.expm1(v)) for v in t])
print("coefficients (x^0 ..):", [repr(float(c)) for c in c32])
print("worst relative fit error: %.3f ULP" % (np.max(np.abs(approx - ref) / np.abs(ref)) / 2.0**-24))
