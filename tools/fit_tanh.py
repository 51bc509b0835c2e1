"""Derives the small-|x| polynomial of wa_tanh (shaders/math.wgsl).

tanh x = x + x z P(z), z = x^2, for 0 <= x < log(3)/2: P is a weighted
least-squares fit of (tanh x - x) / x^3 on Chebyshev nodes in z (weight z, so
the fit minimises the error relative to tanh x), with coefficients rounded to
f32. Prints the coefficients and the worst relative fit error in ULPs.
Needs numpy and mpmath.
"""
import mpmath
import numpy as np

mpmath.mp.dps = 40
X = float(mpmath.log(3) / 2)
DEGREE = 5

z = np.cos(np.linspace(0, np.pi, 400)) * 0.5 * X * X + 0.5 * X * X
z = z[z > 1e-12]
g = np.array([float((mpmath.tanh(mpmath.sqrt(v)) - mpmath.sqrt(v)) / (mpmath.sqrt(v) * v)) for v in z])
vander = np.vander(z, DEGREE + 1, increasing=True)
coefficients, *_ = np.linalg.lstsq(vander * z[:, None], g * z, rcond=None)
c32 = np.array(coefficients, dtype=np.float32)

xs = np.linspace(1e-4, X, 401)
t = xs + xs * xs * xs * np.polyval(c32[::-1].astype(np.float64), xs * xs)
ref = np.array([float(mpmath.tanh(v)) for v in xs])
print("coefficients (z^0 ..):", [repr(float(c)) for c in c32])
print("worst relative fit error: %.3f ULP" % (np.max(np.abs(t - ref) / ref) / 2.0**-24))
