"""Derives the polynomial of wa_exp_reduce (shaders/math.wgsl).

e^r = 1 + m, m = r + r^2 Q(r) for |r| <= ln(2)/2: Q (degree 4) is an
iteratively reweighted least-squares fit (towards minimax) of
(e^r - 1 - r) / r^2 on Chebyshev nodes, weighted by r^2 / e^r so that the
error is measured relative to e^r = 1 + m, with coefficients rounded to f32.
Prints the coefficients and the worst error of 1 + m in ULPs. Needs numpy
and mpmath.
"""
import mpmath
import numpy as np

mpmath.mp.dps = 40
L = float(mpmath.log(2) / 2) * 1.0001
DEGREE = 4

x = np.cos(np.linspace(0, np.pi, 800)) * L
x = x[np.abs(x) > 1e-7]
q = np.array([float((mpmath.exp(v) - 1 - v) / (v * v)) for v in x])
w = np.array([float(v * v / mpmath.exp(v)) for v in x])
vander = np.vander(x, DEGREE + 1, increasing=True)
c, *_ = np.linalg.lstsq(vander * w[:, None], q * w, rcond=None)
for _ in range(30):
    extra = np.abs((vander @ c - q) * w) ** 0.5 + 1e-30
    c, *_ = np.linalg.lstsq(vander * (w * extra)[:, None], q * w * extra, rcond=None)
c32 = np.array(c, dtype=np.float32).astype(np.float64)

t = np.linspace(-L, L, 20001)
ref = np.array([float(mpmath.exp(v)) for v in t])
m = t + t * t * np.polyval(c32[::-1], t)
print("coefficients (r^0 ..):", [repr(float(v)) for v in np.array(c, dtype=np.float32)])
print("worst error of 1 + m: %.4f ULP" % (np.max(np.abs(1 + m - ref) / ref) / 2.0**-24))
