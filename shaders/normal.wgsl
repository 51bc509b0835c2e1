// wgpu-activations: the standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2 and
// density phi(x) = e^(-x^2/2) / sqrt(2 pi) in f32, for GELU (WGSL has no erf).
//
// Method (all coefficients are fits of tools/fit_normal.py, which also
// simulates this file op by op in numpy float32 and measures it with mpmath):
//  * e^(-a^2/2), a = |x| <= 13.2: a = hi + lo with hi = a rounded to 12
//    significant bits, so a^2/2 = hi^2/2 + hi lo + lo^2/2, all three exact.
//    With k = round(-a^2/2 / ln2), -hi^2/2 - k ln2_hi is exact (Cody-Waite,
//    ln2 in two parts); a TwoSum adds the small rest (-hi lo - lo^2/2 -
//    k ln2_lo), giving the reduced argument exactly as r + err, and
//    e^(-a^2/2) = 2^k (1 + r + w), w = e^(r+err) - 1 - r from a degree-7
//    fit of (e^r - 1 - r) / r^2 on |r| <= 0.347.
//  * phi(x) = 2^k (C_hi + C_lo)(1 + r + w), C = 1/sqrt(2 pi) in two parts.
//  * Phi(x), |x| < 0.5: 0.5 + x C_hi + x T(x^2), T a degree-4 fit.
//  * Phi(x), 0.5 <= |x|: from Q(a) = 1 - Phi(a) = e^(-a^2/2) G(a), where
//    G(a) = Q(a) e^(a^2/2) = g0 + g1 z + n(z), z = a - a0, is fitted on eight
//    pieces of [0.5, 13.1708], each inside one binade (so z is exact);
//    Phi(-a) = Q(a) (left tail: no cancellation), Phi(a) = 1 - Q(a).
//  * The large products (g1 z, G r, C_hi r) are formed exactly (Dekker's
//    product with 12-bit halves) and the sums kept as unevaluated hi + lo
//    pairs, so only the last rounding is large. No division, no exp/fma
//    built-in; the only built-in is min (wa_normal_opaque).
// Accuracy (tools/fit_normal.py: 3e6 points vs mpmath, plus every f32 with
// 0.25 <= |x| <= 13.2), against the exact value rounded to f32:
//    wa_normal_cdf: at most 1 ulp (at most 0.79 ulp from the exact value),
//    wa_normal_pdf: at most 1 ulp (at most 0.68 ulp from the exact value),
// also when every a*b + c is fused into an fma, and on llvmpipe. Results
// below 2^-126 are 0 or subnormal. Phi(+inf) = 1, Phi(-inf) = 0,
// phi(+-inf) = 0, NaN in -> NaN out; a*a is only formed for |x| <= 13.2.
// Helpers are prefixed wa_normal_.

const WA_NORMAL_LN2_HI: f32 = 6.9314575195e-01;
const WA_NORMAL_LN2_LO: f32 = 1.4286067653e-06;
const WA_NORMAL_INV_LN2: f32 = 1.4426950216e+00;
const WA_NORMAL_SQRT2PI_INV_HI: f32 = 3.9894229174e-01;
const WA_NORMAL_SQRT2PI_INV_LO: f32 = -1.1335170136e-08;

// 2^k as f32 for -126 <= k <= 0 (k given as an exact f32 integer).
fn wa_normal_pow2(k: f32) -> f32 {
    return bitcast<f32>(u32(i32(k) + 127) << 23u);
}

// v itself, through an operation the optimiser cannot see through. Some
// backends simplify float algebra ((a + b) - a -> b, regrouping of sums:
// Mesa's llvmpipe does, Metal with fast math may), which would erase the
// error terms below; min(v, 3e38) is v for every value used here.
fn wa_normal_opaque(v: f32) -> f32 {
    return min(v, 3.0e38);
}

// v with the low 12 significand bits cleared (a 12-bit upper half of v).
fn wa_normal_split(v: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(v) & 0xfffff000u);
}

// a * b = p + e, p = fl(a * b), e its rounding error (Dekker's product with
// 12-bit halves, no fma): returns vec2(p, e).
fn wa_normal_two_prod(a: f32, b: f32) -> vec2<f32> {
    let p = a * b;
    let ah = wa_normal_split(a);
    let al = a - ah;
    let bh = wa_normal_split(b);
    let bl = b - bh;
    return vec2<f32>(p, (((ah * bh - p) + ah * bl) + al * bh) + al * bl);
}

// e^(-a^2/2) = 2^k (1 + r + w) for 0 <= a <= 13.2: returns vec3(k, r, w),
// k an integer in [-126, 0], |r| <= 0.3466, |w| < 0.068.
fn wa_normal_exp_half_sq(a: f32) -> vec3<f32> {
    // hi = a rounded to 12 significant bits, lo = a - hi (exact, <= 12 bits).
    let hi = bitcast<f32>((bitcast<u32>(a) + 0x800u) & 0xfffff000u);
    let lo = a - hi;
    let y = -0.5 * (hi * hi); // exact
    let d1 = hi * lo;         // exact
    let d2 = 0.5 * (lo * lo); // exact (or negligible)
    // k = round((y - d1) / ln2); y - d1 <= 0 and i32() truncates toward 0.
    let k = f32(i32((y - d1) * WA_NORMAL_INV_LN2 - 0.5));
    let rh = wa_normal_opaque(y - k * WA_NORMAL_LN2_HI); // exact: k * LN2_HI has <= 23 bits
    let c = -(d1 + (d2 + k * WA_NORMAL_LN2_LO));
    // TwoSum: r + err = rh + c exactly.
    let r = wa_normal_opaque(rh + c);
    let bv = wa_normal_opaque(r - rh);
    let err = (rh - (r - bv)) + (c - bv);
    // e^(r + err) - 1 - r = r^2 q(r) + err (1 + r) to f32 precision.
    let q = 5.0000000000e-01 + r * (1.6666665673e-01 + r * (4.1666492820e-02 + r * (8.3335433155e-03 + r * (1.3932347065e-03 + r * (1.9764257013e-04)))));
    let w = (r * r) * q + (err + err * r);
    return vec3<f32>(k, r, w);
}

// (gh + gl)(1 + r + w) as an unevaluated sum vec2(mh, ml), e = vec3(k, r, w)
// from wa_normal_exp_half_sq, |gl| << |gh|: gh r is formed exactly.
fn wa_normal_times_exp(gh: f32, gl: f32, e: vec3<f32>) -> vec2<f32> {
    let r = e.y;
    let w = e.z;
    let p = wa_normal_two_prod(gh, r);
    let mh = wa_normal_opaque(gh + p.x); // |p.x| < |gh|: Fast2Sum
    let ml = (p.x - (mh - gh)) + (p.y + (gh * w + gl * (1.0 + (r + w))));
    return vec2<f32>(mh, ml);
}

// G(a) = Q(a) e^(a^2/2) (Q = 1 - Phi) for 0.5 <= a <= 13.1708, as an
// unevaluated sum vec2(gh, gl): G = g0 + g1 z + n(z), z = a - a0 exact,
// g0 = G(a0) and g1 = G'(a0) rounded, n(z) fitted (its two low coefficients
// are tiny: they correct the rounding of g0 and g1); |n| < 0.045 G.
fn wa_normal_tail_factor(a: f32) -> vec2<f32> {
    // One piece per binade-aligned interval (0.5..1, 1..2, 2..3, 3..4, 4..6, 6..8,
    // 8..10.5, 10.5..13.1708); its coefficients are picked with selects, not
    // branches, so lanes of one SIMD group in different pieces evaluate a single
    // polynomial (shorter ones padded with zero coefficients: the same roundings).
    let z = a - select(select(select(select(select(select(select(7.5000000000e-01, 1.5000000000e+00, a >= 1.0), 2.5000000000e+00, a >= 2.0), 3.5000000000e+00, a >= 3.0), 5.0000000000e+00, a >= 4.0), 7.0000000000e+00, a >= 6.0), 9.2500000000e+00, a >= 8.0), 1.1835399628e+01, a >= 10.5);
    let g0 = select(select(select(select(select(select(select(3.0023247004e-01, 2.0578067005e-01, a >= 1.0), 1.4133132994e-01, a >= 2.0), 1.0634515435e-01, a >= 3.0), 7.6919302344e-02, a >= 4.0), 5.5893480778e-02, a >= 6.0), 4.2641550303e-02, a >= 8.0), 3.3471889794e-02, a >= 10.5);
    let g1 = select(select(select(select(select(select(select(-1.7376793921e-01, -9.0271279216e-02, a >= 1.0), -4.5613951981e-02, a >= 2.0), -2.6734242216e-02, a >= 3.0), -1.4345755801e-02, a >= 4.0), -7.6879034750e-03, a >= 6.0), -4.5079481788e-03, a >= 8.0), -2.7891069185e-03, a >= 10.5);
    let n0 = select(select(select(select(select(select(select(-7.6586479381e-09, -3.0746256652e-09, a >= 1.0), 1.3378262942e-09, a >= 2.0), -7.2771433324e-10, a >= 3.0), 2.6294617594e-09, a >= 4.0), 1.6261092473e-09, a >= 6.0), -8.8244273000e-10, a >= 8.0), -1.5669918696e-09, a >= 10.5);
    let n1 = select(select(select(select(select(select(select(-9.2749585789e-09, 2.3755275524e-10, a >= 1.0), -2.2496494251e-11, a >= 2.0), -4.7201420550e-10, a >= 3.0), 5.7699456324e-10, a >= 4.0), 1.5775208917e-10, a >= 6.0), 1.3635784168e-10, a >= 8.0), 3.7679651066e-11, a >= 10.5);
    let n2 = select(select(select(select(select(select(select(8.4953248501e-02, 3.5186875612e-02, a >= 1.0), 1.3648238964e-02, a >= 2.0), 6.3876542263e-03, a >= 3.0), 2.5952637661e-03, a >= 4.0), 1.0390807875e-03, a >= 6.0), 4.7151552280e-04, a >= 8.0), 2.3084694112e-04, a >= 10.5);
    let n3 = select(select(select(select(select(select(select(-3.6682426929e-02, -1.2497041374e-02, a >= 1.0), -3.8311297540e-03, a >= 2.0), -1.4591536019e-03, a >= 3.0), -4.5648310333e-04, a >= 4.0), -1.3811545796e-04, a >= 6.0), -4.8811409215e-05, a >= 8.0), -1.8980745153e-05, a >= 10.5);
    let n4 = select(select(select(select(select(select(select(1.4359952882e-02, 4.1103074327e-03, a >= 1.0), 1.0173374321e-03, a >= 2.0), 3.2011175063e-04, a >= 3.0), 7.8216915426e-05, a >= 4.0), 1.8062159143e-05, a >= 6.0), 5.0008757171e-06, a >= 8.0), 1.5502862425e-06, a >= 10.5);
    let n5 = select(select(select(select(select(select(select(-5.2437474951e-03, -1.2655589962e-03, a >= 1.0), -2.5738609838e-04, a >= 2.0), -6.7716791818e-05, a >= 3.0), -1.3064254745e-05, a >= 4.0), -2.3271920782e-06, a >= 6.0), -5.0755119219e-07, a >= 8.0), -1.2584341391e-07, a >= 10.5);
    let n6 = select(select(select(select(select(select(select(1.7581464490e-03, 3.6863776040e-04, a >= 1.0), 6.4006533648e-05, a >= 2.0), 1.4121847926e-05, a >= 3.0), 2.1363223368e-06, a >= 4.0), 3.0488095604e-07, a >= 6.0), 5.2652367799e-08, a >= 8.0), 1.0390093230e-08, a >= 10.5);
    let n7 = select(select(select(select(select(select(select(0.0, -1.0584012489e-04, a >= 1.0), -1.4833605746e-05, a >= 2.0), -2.7943572150e-06, a >= 3.0), -3.6086956356e-07, a >= 4.0), -3.8083001641e-08, a >= 6.0), -5.2397637340e-09, a >= 8.0), -8.3207529755e-10, a >= 10.5);
    let n8 = select(select(select(select(select(select(select(0.0, 2.7257210604e-05, a >= 1.0), 0.0, a >= 2.0), 0.0, a >= 3.0), 5.5828433432e-08, a >= 4.0), 0.0, a >= 6.0), 0.0, a >= 8.0), 0.0, a >= 10.5);
    let n = n0 + z * (n1 + z * (n2 + z * (n3 + z * (n4 + z * (n5 + z * (n6 + z * (n7 + z * (n8))))))));
    let p = wa_normal_two_prod(g1, z);
    let gh = wa_normal_opaque(g0 + p.x); // |p.x| < |g0|: Fast2Sum
    return vec2<f32>(gh, (p.x - (gh - g0)) + (p.y + n));
}

// Phi(x), the standard normal CDF.
fn wa_normal_cdf(x: f32) -> f32 {
    if wa_is_nan(x) {
        return x;
    }
    let a = wa_abs(x);
    if a < 0.5 {
        // |x| < 0.5: 0.5 + x C_hi + x T(x^2), x C_hi exact as p.x + p.y,
        // result in (0.3, 0.7) (no cancellation; +-0 and subnormals give 0.5).
        let z = x * x;
        let tz = -1.1352621954e-08 + z * (-6.6490374506e-02 + z * (9.9733909592e-03 + z * (-1.1856778292e-03 + z * (1.0880890477e-04))));
        let p = wa_normal_two_prod(x, WA_NORMAL_SQRT2PI_INV_HI);
        let s = wa_normal_opaque(0.5 + p.x);
        return s + ((p.x - (s - 0.5)) + (p.y + x * tz));
    }
    if x >= 5.42 {
        // 1 - Phi(x) < 2^-25: Phi rounds to 1 (also +inf).
        return 1.0;
    }
    if x < -13.1708 {
        // Phi(x) < 6.5e-40 and x Phi(x) > -2^-126 (also -inf; a*a is never
        // formed for huge |x|). Phi(x) < 2^-126 already for x < -12.95, but
        // down to here it is still computed, into the subnormal range (or
        // flushed to 0 by the last multiply on some GPUs), for x Phi(x).
        return 0.0;
    }
    // Q(a) = 2^k (mh + ml), 0.5 <= a <= 13.1708.
    let e = wa_normal_exp_half_sq(a);
    let g = wa_normal_tail_factor(a);
    let m = wa_normal_times_exp(g.x, g.y, e);
    let scale = wa_normal_pow2(e.x);
    if x < 0.0 {
        // Left tail: Phi(x) = Q(a), directly.
        return (m.x + m.y) * scale;
    }
    // Right side: Phi(x) = 1 - Q(a), Q <= 0.31; 1 - qh = s + (-qh - (s - 1))
    // exactly (Fast2Sum), then the low part of Q.
    let qh = m.x * scale;
    let s = wa_normal_opaque(1.0 - qh);
    return s + ((-qh - (s - 1.0)) - m.y * scale);
}

// phi(x), the standard normal density.
fn wa_normal_pdf(x: f32) -> f32 {
    if wa_is_nan(x) {
        return x;
    }
    let a = wa_abs(x);
    if a > 13.1467 {
        // phi(x) < 2^-126 (also +-inf; a*a is never formed for huge |x|).
        return 0.0;
    }
    let e = wa_normal_exp_half_sq(a);
    let m = wa_normal_times_exp(WA_NORMAL_SQRT2PI_INV_HI, WA_NORMAL_SQRT2PI_INV_LO, e);
    return (m.x + m.y) * wa_normal_pow2(e.x);
}
