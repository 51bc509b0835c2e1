#!/usr/bin/env python3
"""Fits the coefficients of shaders/normal.wgsl (the standard normal CDF and
density behind GELU) and prints them as WGSL lines.

    python3 tools/fit_normal.py

Every coefficient is this script's own fit (near-minimax via Lawson's
iteratively reweighted least squares on the relative error, then rounded to
f32 one coefficient at a time, lowest order first, refitting the rest after
each rounding); nothing is taken from a libm:

  * e^(-a^2/2) = 2^k (1 + r + w): w = r^2 q(r) for the reduced argument
    |r| <= 0.347, q of degree 5 (the whole e^r - 1 fitted for relative error).
  * Centre, |x| < 1.3: Phi(x) = 0.5 + x C12 + x T(x^2), C12 = 1/sqrt(2 pi)
    rounded to 12 significant bits (so x_hi C12 is exact for x_hi = x
    rounded to 12 bits), T a degree-7 polynomial in z = x^2, fitted for the
    error of x T(z) relative to Phi(-|x|) (the smaller of the two values it
    serves).
  * Tail, 1.3 <= a <= 14.6: G(a) = Q(a) e^(a^2/2) = erfcx(a / sqrt 2) / 2
    (Q = 1 - Phi) as a rational function P(u) / (1 + u R(u)) of
    u = a - 1.3, degrees 3 and 4, all coefficients positive (so f32 Horner
    sums only positive terms, and at u = 0 G is p0 up to a rounding), by the
    linearised iteration P - G u R = G reweighted by 1 / (G D), rounding the
    coefficients to f32 one at a time and refitting the rest. Its f32
    evaluation errs by up to ~2 ULP near a = 1.3 and ~5 far out, which is
    enough for GELU's forward (condition number >= 1.3 there, growing like
    a^2) but not next to a = sqrt 2, where GELU's derivative has zero
    condition number, so for the derivative on [1.3, 1.8]
  * G(a) is also a degree-8 polynomial in t = a - 1.55 (|t| <= 0.25, the
    constant term dominates: about 1 ULP in f32), fitted like the centre.

It evaluates the centre and G in float32 (numpy, op by op as the WGSL writes
them), reports the worst error in f32 ULPs of the exact value, and checks
that every printed line appears, character for character, in
shaders/normal.wgsl. The kernels themselves are measured against the f64
reference by examples/accuracy.rs.
"""
import os
import sys

import numpy as np
import mpmath as mp
from scipy.special import erfcx

F = np.float32
WGSL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "shaders", "normal.wgsl")

EXPM1_RANGE = 0.347        # |r| <= 0.5 ln 2 (+ rounding) bounds the reduced argument
EXPM1_DEGREE = 7           # e^r - 1 = r + r^2 (q0 + q1 r + ... q5 r^5)
CENTER = 1.3
TAIL_END = 14.6
CENTER_DEGREE = 7
NEAR_END = 1.8             # G is a polynomial in a - NEAR_MID on [CENTER, NEAR_END]
NEAR_MID = 1.55
NEAR_DEGREE = 8
P_DEGREE, Q_DEGREE = 3, 4
# 1/sqrt(2 pi) rounded to 12 significant bits: x_hi C12 is exact for x_hi
# of 12 bits.
C12 = F(np.array([(F(float(1 / mp.sqrt(2 * mp.pi))).view(np.uint32) + 0x800) & 0xfffff000],
                 dtype=np.uint32).view(np.float32)[0])


def lawson(B, y, w, iters=60):
    """min_c max_i |w_i (B c - y)_i| approximately (Lawson's IRLS)."""
    scale = np.max(np.abs(B), axis=0)
    scale[scale == 0] = 1
    Bs = B / scale
    v = np.full(len(y), 1.0 / len(y))
    best, best_err = None, np.inf
    for _ in range(iters):
        sw = np.sqrt(v) * w
        c, *_ = np.linalg.lstsq(Bs * sw[:, None], y * sw, rcond=None)
        e = np.abs((Bs @ c - y) * w)
        if e.max() < best_err:
            best, best_err = c, e.max()
        v = v * e
        v /= v.sum()
    return best / scale, best_err


def fit_rounded(B, y, w):
    """Fit all columns, then round them to f32 one by one (column order),
    refitting the remaining free columns after each rounding."""
    m = B.shape[1]
    fixed = []
    for j in range(m):
        free = B[:, j:]
        resid = y - (B[:, :j] @ np.array(fixed, dtype=np.float64) if j else 0.0)
        c, _ = lawson(free, resid, w)
        fixed.append(float(F(c[0])))
    err = np.max(np.abs((B @ np.array(fixed) - y) * w))
    return [F(c) for c in fixed], err


def cheb_points(A, B, n=2500):
    t = np.cos(np.pi * (np.arange(n) + 0.5) / n)[::-1]
    return (A + B) / 2 + (B - A) / 2 * t


def lit(v):
    """An f32 literal whose decimal is within 5e-11 relative of v (safe from
    double rounding through f64), in the style of math.wgsl."""
    v = float(F(v))
    s = f"{v:.10e}"
    assert float(F(float(s))) == v
    return s


def horner(var, cs, literal=True):
    """cs[0] + var*(cs[1] + var*(...)) as WGSL text (cs are names when not literal)."""
    fmt = lit if literal else str
    s = fmt(cs[-1])
    for c in reversed(cs[:-1]):
        s = f"{fmt(c)} + {var} * ({s})"
    return s


def fit_expm1():
    mp.mp.dps = 30
    r = cheb_points(-EXPM1_RANGE, EXPM1_RANGE)
    r = r[np.abs(r) > 1e-6]
    em1 = np.array([float(mp.expm1(mp.mpf(t))) for t in r])
    basis = np.stack([r ** j for j in range(EXPM1_DEGREE - 1)], axis=1)
    return fit_rounded(basis, (em1 - r) / r ** 2, r ** 2 / np.abs(em1))


def fit_center():
    mp.mp.dps = 30
    z = cheb_points(0.0, CENTER ** 2 * 1.0001)
    z = z[z > 0]
    x = np.sqrt(z)
    p = np.array([float((mp.ncdf(mp.sqrt(t)) - mp.mpf(1) / 2) / mp.sqrt(t)) for t in z])
    left = np.array([float(mp.ncdf(-mp.sqrt(t))) for t in z])
    basis = np.stack([z ** j for j in range(CENTER_DEGREE + 1)], axis=1)
    cs, err = fit_rounded(basis, p - float(C12), x / left)
    return cs, err


def mills(a):
    return 0.5 * erfcx(a / np.sqrt(2))


def fit_tail():
    """G(a) = P(u) / (1 + u R(u)), u = a - CENTER >= 0, all coefficients
    positive. Lawson's iteration on the linearised error P - G u R - G,
    reweighted by 1 / (G D); the coefficients are rounded to f32 one at a
    time (lowest order first, alternating P and R), refitting the free ones
    after each rounding, so that the rounding costs little accuracy (most
    of all at u = 0, where G = p0 and GELU needs G's last digits)."""
    a = cheb_points(CENTER, TAIL_END, 6000)
    u = a - CENTER
    g = mills(a)
    bp = np.stack([u ** j for j in range(P_DEGREE + 1)], axis=1)
    bq = np.stack([u ** j for j in range(1, Q_DEGREE + 1)], axis=1)
    basis = np.hstack([bp, -g[:, None] * bq])
    order = []
    for j in range(max(P_DEGREE + 1, Q_DEGREE)):
        if j <= P_DEGREE:
            order.append(j)
        if j < Q_DEGREE:
            order.append(P_DEGREE + 1 + j)
    fixed = {}
    for col in order:
        free = [c for c in range(basis.shape[1]) if c not in fixed]
        resid = g - sum((basis[:, c] * v for c, v in fixed.items()), np.zeros_like(g))
        best = None
        d = np.ones_like(a)
        for _ in range(15):
            c, _ = lawson(basis[:, free], resid, 1 / (g * d), iters=40)
            full = np.zeros(basis.shape[1])
            for k, v in fixed.items():
                full[k] = v
            full[free] = c
            d = 1 + bq @ full[P_DEGREE + 1:]
            rel = np.max(np.abs(bp @ full[: P_DEGREE + 1] / d - g) / g)
            if best is None or rel < best[0]:
                best = (rel, full.copy())
        fixed[col] = float(F(best[1][col]))
    c = np.array([fixed[k] for k in range(basis.shape[1])])
    rel = np.max(np.abs(bp @ c[: P_DEGREE + 1] / (1 + bq @ c[P_DEGREE + 1:]) - g) / g)
    assert np.all(c > 0), "expected positive coefficients"
    return [F(v) for v in c[: P_DEGREE + 1]], [F(v) for v in c[P_DEGREE + 1:]], rel


def fit_near():
    a = cheb_points(CENTER, NEAR_END)
    g = mills(a)
    t = a - NEAR_MID
    basis = np.stack([t ** j for j in range(NEAR_DEGREE + 1)], axis=1)
    return fit_rounded(basis, g, 1 / g)


def horner32(cs, v):
    acc = F(cs[-1])
    for c in reversed(cs[:-1]):
        acc = F(F(acc * v) + c)
    return acc


def check_near(near):
    a = np.linspace(CENTER, NEAR_END, 100001).astype(np.float32)
    got = horner32(near, F(a - F(NEAR_MID))).astype(np.float64)
    exact = mills(a.astype(np.float64))
    return np.max(np.abs(got - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64))


def check(center, p, r):
    """Worst f32 error (ULPs of the exact value) of the two pieces."""
    one = F(1)
    xs = np.linspace(1e-3, CENTER, 20001).astype(np.float32)
    worst_c = 0.0
    for x in np.concatenate([xs, -xs]):
        x = F(x)
        tz = horner32(center, F(x * x))
        # x C12 = x_hi C12 + x_lo C12 with the first product exact and added
        # to 0.5 with its error recovered (Fast2Sum); modelled as one
        # rounding of the float64 total of 0.5 + x C12 and the rounded x tz.
        px = float(x) * float(C12)
        got = F(0.5 + px + float(F(x * tz)))
        exact = mp.ncdf(mp.mpf(float(x)))
        worst_c = max(worst_c, abs(float(got) - float(exact)) / float(np.spacing(F(float(exact)))))
    a = np.linspace(CENTER, TAIL_END, 200001).astype(np.float32)
    u = (a - F(CENTER)).astype(np.float32)
    num = horner32(p, u)
    den = F(F(horner32(r, u) * u) + one)
    got = (num / den).astype(np.float64)
    exact = mills(a.astype(np.float64))
    worst_t = np.max(np.abs(got - exact) / np.spacing(exact.astype(np.float32)).astype(np.float64))
    return worst_c, worst_t


def main():
    expm1, err_e = fit_expm1()
    center, err_c = fit_center()
    p, r, rel = fit_tail()
    near, err_n = fit_near()
    lines = [
        "let q = " + horner("r", expm1) + ";",
        "let tz = " + horner("z", center) + ";",
        "let near = " + horner("t", near) + ";",
        "let p = " + horner("u", p) + ";",
        "let r = " + horner("u", r) + ";",
    ]
    print(f"// e^r - 1 - r = r^2 q(r), |r| <= {EXPM1_RANGE}: fit error {err_e:.2e} relative")
    print(f"// centre T(z), degree {CENTER_DEGREE}: fit error {err_c:.2e} of Phi(-|x|)")
    print(f"// near G(a), a in [{CENTER}, {NEAR_END}], t = a - {NEAR_MID}: fit error {err_n:.2e} relative")
    print(f"// tail G(a) = P(u) / (1 + u R(u)), u = a - {CENTER}: fit error {rel:.2e} relative")
    print(f"// C12 = {lit(C12)}")
    for line in lines:
        print("    " + line)
    wc, wt = check(center, p, r)
    wn = check_near(near)
    print(f"// float32 evaluation: centre {wc:.2f} ULP of Phi, tail {wt:.2f} ULP of G, near {wn:.2f} ULP of G")
    text = open(WGSL).read()
    missing = [line for line in lines if line not in text]
    for line in missing:
        print("MISSING in normal.wgsl:", line)
    print(f"{len(lines) - len(missing)}/{len(lines)} lines found in shaders/normal.wgsl")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
