// wgpu-activations: the standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2 and
// density phi(x) = e^(-x^2/2) / sqrt(2 pi) in f32, for GELU (WGSL has no
// erf), without branches: every piece is computed and one kept with selects
// (on CPU adapters, whose SIMD lanes run every side of a branch, that is
// several times faster; on GPUs it avoids divergence).
//
// Method:
//  * e^(-a^2/2), a = |x| <= 14.6: a = hi + lo with hi = a rounded to 12
//    significant bits, so a^2/2 = hi^2/2 + hi lo + lo^2/2, all three exact.
//    With k = round(-a^2/2 / ln2), -hi^2/2 - k ln2_hi is exact (Cody-Waite,
//    ln2 in two parts); a TwoSum adds the small rest (-hi lo - lo^2/2 -
//    k ln2_lo), giving the reduced argument exactly as r + err, and
//    e^(-a^2/2) = 2^k (1 + r + w), w = e^(r+err) - 1 - r from a degree-7
//    fit of (e^r - 1 - r) / r^2 on |r| <= 0.347 (tools/fit_normal.py).
//    The 2^k is applied last, in two exact steps, so products with it
//    (x phi(x), x Phi(x)) never underflow early.
//    GELU's forward has no need of that precision (where it uses the tail,
//    its condition number is at least 1.3 and grows like a^2) and takes
//    e^(-a^2/2) from math.wgsl's wa_exp_reduce of the rounded -a^2/2.
//  * |x| < 1.3: Phi(x) = 0.5 + x C12 + x T(x^2), T a degree-7 fit, with the
//    leading product exact and the sum compensated.
//  * 1.3 <= |x|: Q(a) = 1 - Phi(a) = e^(-a^2/2) G(a), G(a) = P(u) / (1 + u R(u)),
//    u = a - 1.3, a rational fit of degrees 3 and 4 with positive
//    coefficients on [1.3, 14.6]; for the derivative below 1.8 a polynomial
//    (tools/fit_normal.py). Phi(-a) = Q(a) (left tail: no cancellation),
//    Phi(a) = 1 - Q(a).
// Accuracy: the GELU kernels built on these meet the project's targets
// (src/accuracy.rs; measured by examples/accuracy.rs on every adapter). No
// exp or fma built-in; the only built-ins are min and select.
// Helpers are prefixed wa_normal_; wa_opaque, wa_round_hi, wa_exp_reduce,
// wa_ldexp and the ln 2 constants come from math.wgsl.

// 1/sqrt(2 pi) to 12 significant bits (tools/fit_normal.py).
const WA_NORMAL_C12: f32 = 3.9892578125e-01;

// e^(-a^2/2) = 2^k (1 + r + w) for 0 <= a <= 14.6: returns vec3(k, r, w),
// k an integer in [-154, 0], |r| <= 0.3466, |w| < 0.068.
// In the fast tier, unless `exact` (Laplace, whose z near x = 0 sits in
// the tail with a small condition number), from the rounded -a^2/2 and the
// device's exp.
fn wa_normal_exp_half_sq(a: f32, exact: bool) -> vec3<f32> {
    if WA_FAST && !exact {
        // -a^2/2 rounded (an error of a^2 2^-25, which GELU's condition
        // number there, about a^2, covers), reduced, and the device's exp:
        // e^r - 1 is exact (Sterbenz).
        let y = -0.5 * (a * a);
        let t = round(y * WA_INV_LN2);
        let r = (y - t * WA_LN2_HI) - t * WA_LN2_LO;
        return vec3<f32>(t, exp(r) - 1.0, 0.0);
    }
    // hi = a rounded to 12 significant bits, lo = a - hi (exact, <= 12 bits).
    let hi = wa_round_hi(a);
    let lo = a - hi;
    let y = -0.5 * (hi * hi); // exact
    let d1 = hi * lo;         // exact
    let d2 = 0.5 * (lo * lo); // exact (or negligible)
    // k = round((y - d1) / ln2) (no float-to-integer conversion: WGSL's
    // saturating i32() costs more than the rest of the reduction on lavapipe).
    let k = round((y - d1) * WA_INV_LN2);
    let rh = wa_opaque(y - k * WA_LN2_HI); // exact: k * LN2_HI has <= 23 bits
    let c = -(d1 + (d2 + k * WA_LN2_LO));
    // TwoSum: r + err = rh + c exactly.
    let r = wa_opaque(rh + c);
    let bv = wa_opaque(r - rh);
    let err = (rh - (r - bv)) + (c - bv);
    // e^(r + err) - 1 - r = r^2 q(r) + err (1 + r) to f32 precision.
    let q = 5.0000000000e-01 + r * (1.6666665673e-01 + r * (4.1666492820e-02 + r * (8.3335433155e-03 + r * (1.3932347065e-03 + r * (1.9764257013e-04)))));
    let w = (r * r) * q + (err + err * r);
    return vec3<f32>(k, r, w);
}

// Most significant |x| the pieces below serve: beyond, Phi(-|x|), phi(x)
// and x Phi(-|x|) are below the subnormal range.
const WA_NORMAL_END: f32 = 14.6;
const WA_NORMAL_CENTER: f32 = 1.3;
const WA_NORMAL_SQRT2PI_INV: f32 = 3.9894228040e-01;

// Phi(x) for |x| < 1.3: 0.5 + x C + x T(x^2) with C = C12 + T(0), C12 =
// 1/sqrt(2 pi) to 12 significant bits: with x = x_hi + x_lo (x_hi: x to 12
// bits), x_hi C12 is exact and its sum with 0.5 is corrected (Fast2Sum, as
// |x_hi C12| < 0.52 has 0.5's exponent); the small rest x_lo C12 + x T(x^2)
// rounds once. Result in (0.096, 0.904).
fn wa_normal_center(x: f32) -> f32 {
    let z = x * x;
    let tz = 1.6499096091e-05 + z * (-6.6490381956e-02 + z * (9.9735734984e-03 + z * (-1.1873738840e-03 + z * (1.1548915791e-04 + z * (-9.4686383818e-06 + z * (6.6024261969e-07 + z * (-3.2698945773e-08)))))));
    let x_hi = wa_round_hi(x);
    let p = x_hi * WA_NORMAL_C12; // exact
    let s = wa_opaque(0.5 + p);
    return s + ((p - (s - 0.5)) + ((x - x_hi) * WA_NORMAL_C12 + x * tz));
}

// G(a) = Q(a) e^(a^2/2) for 1.3 <= a <= 14.6 (Mills' ratio times phi's
// constant) as P(u) / (1 + u R(u)), u = a - 1.3, all terms positive: at
// a = 1.3 it is p0 up to a rounding or two; its f32 evaluation errs by a few
// ULPs further out, where GELU's condition number (about a^2) absorbs it.
fn wa_normal_mills_rational(a: f32) -> f32 {
    let u = a - WA_NORMAL_CENTER;
    let p = 2.2534938157e-01 + u * (1.5653452277e-01 + u * (4.2503807694e-02 + u * (4.4643268920e-03)));
    let r = 1.1649577618e+00 + u * (5.4224193096e-01 + u * (1.2107984722e-01 + u * (1.1190606281e-02)));
    return p / (1.0 + u * r);
}

// G(a) for the derivative: below 1.8 a polynomial in t = a - 1.55 (exact)
// instead of the rational, whose f32 evaluation errs by about 1 ULP rather
// than 2-3: GELU's derivative has condition number 0 at a = sqrt 2 and
// needs it.
fn wa_normal_mills(a: f32) -> f32 {
    let t = a - 1.55;
    let near = 2.0135353506e-01 + t * (-8.6844302714e-02 + t * (3.3371575177e-02 + t * (-1.1705759913e-02 + t * (3.8747100625e-03 + t * (-1.1605230393e-03 + t * (-1.3726776233e-03 + t * (-7.8218610724e-05 + t * (1.3528854586e-02))))))));
    return select(wa_normal_mills_rational(a), near, a < 1.8);
}

// The pieces of Phi and phi at x, shared by GELU's forward and derivative.
struct WaNormal {
    // min(|x|, 14.6) (NaN stays NaN or becomes 14.6: callers test x itself).
    a: f32,
    // e^(-a^2/2) = e 2^k.
    e: f32,
    // An integral f32 in [-154, 0].
    k: f32,
    // Q(max(a, 1.3)) = q 2^k (the tail, meaningful from a = 1.3 on).
    q: f32,
    // Phi(x) for |x| < 1.3.
    center: f32,
    // e = 1 + (r + w) (wa_normal_exp_half_sq), for sums that keep r and w apart.
    r: f32,
    w: f32,
}

fn wa_normal(x: f32) -> WaNormal {
    return wa_normal_with(x, false);
}

// wa_normal with e^(-a^2/2) from the exact square in both tiers (`exact`).
fn wa_normal_with(x: f32, exact: bool) -> WaNormal {
    let a = min(wa_abs(x), WA_NORMAL_END);
    let ekrw = wa_normal_exp_half_sq(a, exact);
    let e = 1.0 + (ekrw.y + ekrw.z);
    let q = wa_normal_mills(max(a, WA_NORMAL_CENTER)) * e;
    let center = wa_normal_center(select(0.0, x, a < WA_NORMAL_CENTER));
    return WaNormal(a, e, ekrw.x, q, center, ekrw.y, ekrw.z);
}

// Phi(x), the standard normal CDF. Phi(+inf) = 1, Phi(-inf) = 0 (and 0 below
// -14.6, where Phi(x) < 2^-149), NaN in -> NaN out.
fn wa_normal_cdf(x: f32) -> f32 {
    let n = wa_normal(x);
    let q = wa_ldexp(n.q, i32(n.k));
    let tail = select(1.0 - q, q, x < 0.0);
    let y = select(tail, n.center, n.a < WA_NORMAL_CENTER);
    return select(select(y, 0.0, x < -WA_NORMAL_END), x, wa_is_nan(x));
}

// phi(x), the standard normal density: 0 at +-inf, NaN in -> NaN out.
fn wa_normal_pdf(x: f32) -> f32 {
    let n = wa_normal(x);
    let y = wa_ldexp(WA_NORMAL_SQRT2PI_INV * n.e, i32(n.k));
    return select(select(y, 0.0, wa_abs(x) > WA_NORMAL_END), x, wa_is_nan(x));
}
