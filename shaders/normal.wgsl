// wgpu-activations: the standard normal CDF Phi(x) = erfc(-x / sqrt 2) / 2 and
// density phi(x) = e^(-x^2/2) / sqrt(2 pi) in f32, for GELU (WGSL has no erf).
//
// Method (coefficients fitted by tools/fit_normal.py, which also simulates
// this file bit-exactly in numpy float32 and checks it against mpmath):
//  * e^(-a^2/2), a = |x|: a = hi + lo with hi = a rounded to 12 significant
//    bits, so a^2/2 = hi^2/2 + hi lo + lo^2/2 with all three products exact.
//    Then -a^2/2 = k ln2 + r (Cody-Waite, ln2 in two parts; r kept exactly
//    as r + err by a TwoSum) and e^(-a^2/2) = 2^k (1 + r + w), where
//    w = e^r - 1 - r (+ err) comes from a degree-7 fit of (e^r - 1 - r) / r^2
//    on |r| <= 0.347. No division, no built-in exp/fma anywhere.
//  * phi(x) = 2^k (C_hi + C_lo)(1 + r + w), C = 1/sqrt(2 pi) in two parts.
//  * Phi(x), |x| < 0.5: 0.5 + x C_hi + x T(x^2), T a degree-4 fit.
//  * Phi(x) otherwise from the tail Q(a) = 1 - Phi(a) = e^(-a^2/2) G(a), with
//    G(a) = Q(a) e^(a^2/2) = g0 + g1 z + N(z), z = a - a0, fitted per binade
//    of a (0.5..1, 1..2, 2..4, 4..8, 8..13.1708; z is then exact);
//    Phi(-a) = Q(a), Phi(a) = 1 - Q(a): no cancellation in the left tail.
//  * The large products (g1 z, (g0 + g1 z) r, C_hi r) are formed exactly
//    (Dekker's product with 12-bit halves) and summed as unevaluated hi + lo
//    pairs, so the only large rounding is the final one.
// Measured (tools/fit_normal.py: every x in [-1, 1] step 2^-16, 2e6 uniform
// in [-20, 20], 3e5 log-spaced |x| in [1e-45, 1e30], 5e5 in [-13.2, -5],
// +-2000 ulps around every branch point, specials) against the exact value
// rounded to f32: wa_normal_cdf max MAXCDF, wa_normal_pdf max MAXPDF
// (always one of the two f32 neighbours of the exact value). Results below
// 2^-126 are 0 or subnormal. Phi(+inf) = 1, Phi(-inf) = 0, phi(+-inf) = 0,
// NaN in -> NaN out; a*a is only formed for |x| <= 13.2 (never overflows).
// Relies on correctly rounded f32 +, -, * (a backend that fuses a*b + c is
// only more accurate); helpers are prefixed wa_normal_.

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
// unevaluated sum vec2(gh, gl): G = g0 + g1 z + n(z), z = a - a0 exact.
fn wa_normal_tail_factor(a: f32) -> vec2<f32> {
    var z = 0.0;
    var g0 = 0.0;
    var g1 = 0.0;
    var n = 0.0;
    if a < 1.0 {
        // [0.5, 1)
        z = a - 7.5000000000e-01;
        g0 = 3.0023247004e-01;
        g1 = -1.7376793921e-01;
        n = -7.6586479381e-09 + z * (-9.2749585789e-09 + z * (8.4953248501e-02 + z * (-3.6682426929e-02 + z * (1.4359952882e-02 + z * (-5.2437474951e-03 + z * (1.7581464490e-03))))));
    } else if a < 2.0 {
        // [1, 2)
        z = a - 1.5000000000e+00;
        g0 = 2.0578067005e-01;
        g1 = -9.0271279216e-02;
        n = -3.0746256652e-09 + z * (2.3755275524e-10 + z * (3.5186875612e-02 + z * (-1.2497041374e-02 + z * (4.1103074327e-03 + z * (-1.2655589962e-03 + z * (3.6863776040e-04 + z * (-1.0584012489e-04 + z * (2.7257210604e-05))))))));
    } else if a < 4.0 {
        // [2, 4)
        z = a - 3.0000000000e+00;
        g0 = 1.2151394784e-01;
        g1 = -3.4400437027e-02;
        n = 6.1590843536e-10 + z * (1.7624369741e-09 + z * (9.1563155875e-03 + z * (-2.3104907013e-03 + z * (5.5625685491e-04 + z * (-1.2837517716e-04 + z * (2.8394368201e-05 + z * (-6.0990441852e-06 + z * (1.4059648947e-06 + z * (-2.7977429795e-07)))))))));
    } else if a < 8.0 {
        // [4, 8)
        z = a - 6.0000000000e+00;
        g0 = 6.4779311419e-02;
        g1 = -1.0266394354e-02;
        n = 2.9108964128e-09 + z * (-5.6066984389e-10 + z * (1.5904738102e-03 + z * (-2.4118159490e-04 + z * (3.5842418583e-05 + z * (-5.2288360166e-06 + z * (7.4847207543e-07 + z * (-1.0346173696e-07 + z * (1.4355405753e-08 + z * (-2.4199351412e-09 + z * (3.2056968191e-10))))))))));
    } else {
        // [8, 13.1708]
        z = a - 1.0585399628e+01;
        g0 = 3.7360254675e-02;
        g1 = -3.4690566827e-03;
        n = -1.7804538399e-10 + z * (-6.5308515540e-11 + z * (3.1945094815e-04 + z * (-2.9179251214e-05 + z * (2.6445816275e-06 + z * (-2.3780036429e-07 + z * (2.1081234536e-08 + z * (-1.8681827196e-09 + z * (1.8817696013e-10 + z * (-1.6377397702e-11)))))))));
    }
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
        // Phi(x) < 2^-126 (also -inf; a*a is never formed for huge |x|).
        return 0.0;
    }
    // Q(a) = 2^k (mh + ml), 0.5 <= a <= 13.1708.
    let e = wa_normal_exp_half_sq(a);
    let g = wa_normal_tail_factor(a);
    let m = wa_normal_times_exp(g.x, g.y, e);
    let scale = wa_normal_pow2(e.x);
    if x < 0.0 {
        // Left tail: Phi(x) = Q(a), directly (subnormal below 2^-126).
        return (m.x + m.y) * scale;
    }
    // Right side: Phi(x) = 1 - Q(a), Q <= 0.31, with 1 - qh exact as s + t.
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
