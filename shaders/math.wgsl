// wgpu-activations: portable f32 helpers shared by every activation.
//
// WGSL built-ins are not trusted here: drivers differ in how they treat NaN
// (`max(NaN, 0.0)` is 0 on llvmpipe), signed zeros (`tanh(-0.0)` is +0 on GL)
// and tiny inputs (`tanh(1e-8)` is 2.98e-8 on llvmpipe), and `exp` may be
// lowered to `exp2(x * log2(e))`, whose error grows with |x|. Classification is
// therefore done on the bit pattern, and `exp`/`expm1` are ports of the
// FreeBSD/musl single-precision routines (< 1 ULP, only IEEE +, -, *, /;
// wa_exp with a polynomial of our own).
// Every helper is prefixed `wa_` so it can be spliced into a caller's shader.
//
// Portability (checked in Chromium's WebGPU, Tint on SwiftShader, besides
// naga on Mesa): no constant expression may evaluate to inf or NaN (WGSL
// makes that a shader-creation error; naga does not evaluate `bitcast` and
// lets `bitcast<f32>(0x7f800000u)` through, Tint rejects it), so infinities
// and NaNs are built from a runtime operand's bits or passed through from
// the input. And no result may hang on a subnormal intermediate where the
// result itself is normal: WebGPU lets a device flush f32 subnormals to zero
// (SwiftShader does, as do several GPUs), so an e^x that may fall below
// 2^-126 is carried scaled (see "Scaled values") until the last step.
//
// wa_exp and wa_expm1 are ports of FreeBSD msun e_expf.c and s_expm1f.c,
// which carry this notice:
//   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
//   Developed at SunPro, a Sun Microsystems, Inc. business.
//   Permission to use, copy, modify, and distribute this software is freely
//   granted, provided that this notice is preserved.

// The precision tier (src/precision.rs). The composer (wgsl::library_with)
// sets it to true for Precision::Fast, whose bounds are 4 scaled ULPs
// forward and 8 derivative and backward instead of 2, 4 and 5. The helpers
// below branch on it where the fast tier takes a cheaper primitive (the
// device's `exp` on an argument this file has already reduced, clamped and
// checked; plain products instead of exact ones); every special value,
// limit, signed zero and scaled value is handled the same way in both
// tiers. A branch on a constant: compilers keep one side.
const WA_FAST: bool = false;

// True for every NaN bit pattern (never optimised away, unlike `x != x`).
fn wa_is_nan(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}

// True for +inf and -inf.
fn wa_is_inf(x: f32) -> bool {
    return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u;
}

// x > 0 (subnormals included, NaN excluded), decided on the bits so that a
// backend that flushes subnormals in comparisons still sees 1e-40 > 0.
fn wa_gt_zero(x: f32) -> bool {
    return bitcast<u32>(x) - 1u < 0x7f800000u;
}

// x < 0 (subnormals included, -0.0 and NaN excluded), decided on the bits.
fn wa_lt_zero(x: f32) -> bool {
    return bitcast<u32>(x) - 0x80000001u < 0x7f800000u;
}

// |x| by clearing the sign bit (exact for NaN, inf, -0.0 and subnormals).
fn wa_abs(x: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(x) & 0x7fffffffu);
}

// |magnitude| with the sign bit of `sign`.
fn wa_copysign(magnitude: f32, sign: f32) -> f32 {
    return bitcast<f32>((bitcast<u32>(magnitude) & 0x7fffffffu) | (bitcast<u32>(sign) & 0x80000000u));
}

// Returns x when x is NaN, `value` otherwise: NaN in -> NaN out.
fn wa_keep_nan(x: f32, value: f32) -> f32 {
    return select(value, x, wa_is_nan(x));
}

// ln 2 in two parts (Cody-Waite): LN2_HI has 15 significant bits, so
// k LN2_HI is exact for |k| <= 256; LN2_LO is the rest.
const WA_LN2_HI: f32 = 6.9314575195e-01; // 0x3f317200
const WA_LN2_LO: f32 = 1.4286067653e-06; // 0x35bfbe8e
const WA_INV_LN2: f32 = 1.4426950216e+00;

// 2^k as f32 for -126 <= k <= 127, built from the exponent bits.
fn wa_pow2i(k: i32) -> f32 {
    return bitcast<f32>(u32(k + 127) << 23u);
}

// v 2^k for -252 <= k <= 254, in two steps of normal powers of two: exact
// unless the result is subnormal (then only the last step rounds) or
// overflows.
fn wa_ldexp(v: f32, k: i32) -> f32 {
    let k1 = k / 2;
    return (v * wa_pow2i(k1)) * wa_pow2i(k - k1);
}

// ---- Scaled values ------------------------------------------------------
// A value that may be subnormal is carried in two factors, vec2(m, s), the
// value being m s with s a power of two (1, or 2^-64 or, from the
// exponentials, 2^-92 where the value is tiny) and m never subnormal unless the value is 0 to f32 precision. A
// product P m s whose value is normal is then formed as (P m) s and comes out
// right on devices that flush subnormal intermediates to zero (WebGPU allows
// it: SwiftShader and several GPUs do), and where everything is normal
// (P m) s is exactly P (m s): scaling by a power of two is exact.
const WA_SCALE_DOWN: f32 = 5.421010862427522e-20; // 2^-64

// The value m s of a scaled pair (rounded once, to a subnormal if it is one).
fn wa_unscaled(v: vec2<f32>) -> f32 {
    return v.x * v.y;
}

// 2^k for an integral f32 k in [-127, 128]: 0 at -127, +inf at 128, with no
// float-to-integer conversion (WGSL's i32() saturates, and that clamp costs
// as much as the rest of an exponential on lavapipe): 2^23 + 127 + k is
// exact and holds k + 127 in its low bits, which the shift moves into the
// exponent field. (Any other k gives some finite power of two or garbage
// bits: callers clamp k, and a NaN k is multiplied by a NaN.)
fn wa_pow2f(k: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(k + 8388735.0) << 23u);
}

// The scale of the scaled values that wa_exp_scaled and
// wa_exp_nonpositive_scaled give: 2^-92 below x = -64. There m = e^x 2^92
// lies in [2^-126, 0.8] from -151.4 to -64, and above -64 m = e^x is at
// least 2^-92.3, so a factor down to 2^-34 (alpha, 1/2, ...) keeps m normal:
// one power of two covers every m, no two-step ldexp. A scaled m is not
// small: sums such as 1 + e^x take the unscaled value m s.
const WA_EXP_SCALE: f32 = 2.0194839173657902e-28; // 2^-92

// What both scaled exponentials share: e^xc = 2^k (1 + m) for xc, x clamped
// by the caller, with x's scale applied: vec3(1 + m, k, s), k raised by 92
// where s = 2^-92 (below -64) and at least -127 (wa_pow2f's 0).
fn wa_exp_scale_parts(x: f32, xc: f32, exact: bool) -> vec3<f32> {
    let tiny = x < -64.0;
    if WA_FAST && !exact {
        // The device's exp, of xc + 92 ln 2 where the value is scaled: the
        // sum's rounding (|xc| 2^-24 at most) is an error that e^x's
        // condition number, |x|, covers.
        let e = exp(select(xc, xc + 63.76954393, tiny));
        return vec3<f32>(e, 0.0, select(1.0, WA_EXP_SCALE, tiny));
    }
    let p = wa_exp_reduce_parts(xc);
    let k = max(p.x + select(0.0, 92.0, tiny), -127.0);
    return vec3<f32>(1.0 + (p.y - p.z), k, select(1.0, WA_EXP_SCALE, tiny));
}

// e^x scaled for x <= 0 (or NaN): vec2(m, s), m s = e^x, s = 1 or 2^-92
// (WA_EXP_SCALE), m normal (< 1 ULP, wa_exp_reduce's polynomial) and 0 from
// -151.4 down, where e^x is 0 to f32 precision, also at -inf; m is x itself
// for NaN (tested on the bits: GL's compilers do not carry a NaN through
// the clamps). No branch, no integer conversion.
fn wa_exp_nonpositive_scaled(x: f32) -> vec2<f32> {
    return wa_exp_nonpositive_scaled_with(x, false);
}

// wa_exp_nonpositive_scaled in both tiers with this file's own polynomial
// (`exact`): for sums that cancel at a root of the result (SiLU's
// derivative), where the device's few-ULP exp would cost tens of ULPs.
fn wa_exp_nonpositive_scaled_with(x: f32, exact: bool) -> vec2<f32> {
    let e = wa_exp_scale_parts(x, select(x, -160.0, x < -160.0), exact);
    return vec2<f32>(wa_keep_nan(x, e.x * wa_pow2f(e.y)), e.z);
}

// `e`, or x itself where x is NaN or +inf.
// (+inf as `x > f32::MAX`: on llvmpipe a float compare here is measurably
// cheaper than testing the bits, tanh's forward 37 -> 30 ms at 2^24.)
fn wa_exp_special(x: f32, e: f32) -> f32 {
    return select(e, x, wa_is_nan(x) || x > 3.4028234663852886e38);
}

// e^x, < 1 ULP (the reduction of FreeBSD e_expf.c, see wa_exp_reduce), written
// without branches: GPUs and CPU drivers run divergent branches one after the
// other, so every input takes the general path x = k ln2 + r (exact for small
// x too, where k = 0): overflow to +inf above 88.72, gradual underflow below
// -87.3 (rounded once; 0 on a device that flushes subnormals: where a product
// with e^x must survive that, use wa_exp_scaled), exp(-inf) = 0,
// exp(+inf) = +inf, exp(NaN) = NaN.
fn wa_exp(x: f32) -> f32 {
    return wa_unscaled(wa_exp_scaled(x));
}

// e^x scaled (see WA_EXP_SCALE) for any x: m s = e^x with s = 2^-92 below
// -64 and 1 otherwise, m normal, 0 from -151.4 down and at -inf, +inf above
// 88.72 and at +inf, NaN for NaN. x is clamped to [-160, 89] (k stays in
// wa_pow2f's range; 2^128, for x in (88.03, 89], as 2 (1 + m) 2^127).
fn wa_exp_scaled(x: f32) -> vec2<f32> {
    return wa_exp_scaled_with(x, false);
}

// wa_exp_scaled with this file's own polynomial in both tiers (`exact`; see
// wa_exp_nonpositive_scaled_with).
fn wa_exp_scaled_with(x: f32, exact: bool) -> vec2<f32> {
    let e = wa_exp_scale_parts(x, select(select(x, 89.0, x > 89.0), -160.0, x < -160.0), exact);
    let m = (e.x * select(1.0, 2.0, e.y > 127.0)) * wa_pow2f(min(e.y, 127.0));
    return vec2<f32>(wa_exp_special(x, m), e.z);
}

// e^x = 2^k (1 + m) for finite |x| <= 150: vec2(k, m), k an exact integer,
// |m| < 0.42. Callers that add something to e^x can do it before the last
// rounding, e.g. 1 + e^x = (1 + 2^k) + 2^k m. FreeBSD e_expf.c's reduction
// x = k ln2 + (hi - lo) (ln 2 in two parts), with k = round(x / ln2) and
// e^r - 1 = r + r^2 Q(r), Q a degree-4 fit (tools/fit_exp.py, error of
// 1 + m below 0.07 ULP) instead of e_expf.c's rational form: no division
// and fewer operations. Every op stays within its accuracy bounds (sweep of
// every 2^6-th f32, lavapipe).
fn wa_exp_reduce(x: f32) -> vec2<f32> {
    if WA_FAST {
        // The device's exp of the reduced argument: e^r - 1 is exact
        // (Sterbenz: e^r lies in [0.7, 1.5]).
        let t = round(WA_INV_LN2 * x);
        let r = (x - t * WA_LN2_HI) - t * WA_LN2_LO;
        return vec2<f32>(t, exp(r) - 1.0);
    }
    let p = wa_exp_reduce_parts(x);
    return vec2<f32>(p.x, p.y - p.z);
}

// wa_exp_reduce before its last subtraction: vec3(k, hi, c) with
// e^x = 2^k (1 + (hi - c)), hi = x - k ln2_hi exact (x itself for k = 0)
// and c = k ln2_lo - r^2 Q(r) the small rest, |c| < 0.061.
fn wa_exp_reduce_parts(x: f32) -> vec3<f32> {
    let t = round(WA_INV_LN2 * x);
    let hi = x - t * WA_LN2_HI;
    let lo = t * WA_LN2_LO;
    let r = hi - lo;
    let q = 0.49999988079071045 + r * (0.166665181517601 + r * (0.04166953265666962
        + r * (0.008368936367332935 + r * 0.0013751594815403223)));
    return vec3<f32>(t, hi, lo - (r * r) * q);
}

// e^x - 1 for -150 <= x <= 0 as an unevaluated sum hi + lo, for sums whose
// terms cancel (xIELU): with e^x = 2^k (1 + (hi - c)) (wa_exp_reduce_parts),
// e^x - 1 = (2^k - 1) + 2^k hi - 2^k c, where 2^k - 1 is exact for
// k >= -24, 2^k hi is an exact scaling, and their TwoSum is exact: only c's
// rounding (a small fraction of an ULP of the result) remains. Below
// k = -24 it is -1 + e^x, the pair (-1, e^x) with e^x rounded once (to a
// subnormal, or 0, from -87.3 on).
fn wa_expm1_pair(x: f32) -> vec2<f32> {
    let p = wa_exp_reduce_parts(x);
    let k = i32(p.x);
    let s = wa_pow2i(max(k, -24));
    let e = wa_two_sum(s - 1.0, s * p.y);
    let near = vec2<f32>(e.x, e.y - s * p.z);
    let far = vec2<f32>(-1.0, wa_ldexp(1.0 + (p.y - p.z), k));
    return select(near, far, k < -24);
}

// e^x - 1, < 1 ULP (FreeBSD/musl s_expm1f.c): accurate for tiny x where
// `exp(x) - 1` would cancel. expm1(-inf) = -1, expm1(+inf) = +inf.
fn wa_expm1(x_in: f32) -> f32 {
    var x = x_in;
    let bits = bitcast<u32>(x);
    let hx = bits & 0x7fffffffu;
    let negative = (bits >> 31u) != 0u;
    if hx >= 0x4195b844u {
        // |x| >= 27 ln2: NaN, or e^x - 1 is -1 or e^x.
        if hx > 0x7f800000u {
            return x;
        }
        if negative {
            return -1.0;
        }
        if hx > 0x42b17180u {
            // x > 88.72: overflow. +inf from x's bits: a constant inf
            // (`bitcast<f32>(0x7f800000u)`) is a shader-creation error in
            // WGSL (Tint rejects it; naga does not), see the file header.
            return bitcast<f32>((bits & 0x80000000u) | 0x7f800000u);
        }
    }
    var k = 0;
    var c = 0.0;
    if hx > 0x3eb17218u {
        // |x| > 0.5 ln2: reduce x = k ln2 + r.
        let ln2_hi = 6.9313812256e-01; // 0x3f317180
        let ln2_lo = 9.0580006145e-06; // 0x3717f7d1
        var hi = 0.0;
        var lo = 0.0;
        if hx < 0x3f851592u {
            // |x| < 1.5 ln2
            if negative {
                hi = x + ln2_hi;
                lo = -ln2_lo;
                k = -1;
            } else {
                hi = x - ln2_hi;
                lo = ln2_lo;
                k = 1;
            }
        } else {
            k = i32(1.4426950216e+00 * x + select(0.5, -0.5, negative));
            let t = f32(k);
            hi = x - t * ln2_hi;
            lo = t * ln2_lo;
        }
        x = hi - lo;
        c = (hi - x) - lo;
    } else if hx < 0x33000000u {
        // |x| < 2^-25 (subnormals included): e^x - 1 = x exactly rounded.
        return x;
    }
    let hfx = 0.5 * x;
    let hxs = x * hfx;
    let r1 = 1.0 + hxs * (-3.3333212137e-2 + hxs * 1.5807170421e-3);
    let t = 3.0 - r1 * hfx;
    var e = hxs * ((r1 - t) / (6.0 - x * t));
    if k == 0 {
        return x - (x * e - hxs);
    }
    e = x * (e - c) - c;
    e = e - hxs;
    if k == -1 {
        return 0.5 * (x - e) - 0.5;
    }
    if k == 1 {
        if x < -0.25 {
            return -2.0 * (e - (x + 0.5));
        }
        return 1.0 + 2.0 * (x - e);
    }
    if k < 0 || k > 56 {
        var y = x - e + 1.0;
        if k == 128 {
            y = y * 2.0 * 1.7014118346e+38;
        } else {
            y = y * wa_pow2i(k);
        }
        return y - 1.0;
    }
    let two_pk = wa_pow2i(k);
    let two_mk = wa_pow2i(-k);
    if k < 23 {
        return (x - e + (1.0 - two_mk)) * two_pk;
    }
    return (x - (e + two_mk) + 1.0) * two_pk;
}

// e^x and e^x - 1 for x <= 0 from one reduction, as vec2(e, u), without
// branches; x below -20 is taken at -20 (there e^x - 1 rounds to -1, and
// every caller's e^x vanishes beside its other terms). With
// e^x = 2^k (1 + f) (wa_exp_reduce_parts, f = hi - c):
// e = 2^k + 2^k f, rounded once, and u = (2^k - 1) + 2^k f, where 2^k - 1
// is exact (k >= -29) and only the last term and the sum round: both below
// 1 ULP, no subnormal. For k = 0 (|x| < ln(2)/2) u is x + x^2 Q(x) rounded
// once. Callers that must give NaN or a signed zero test x themselves (GL's
// compilers may turn the clamp into a max, which drops NaN; hi - c turns
// -0.0 into +0.0).
fn wa_exp_expm1_nonpositive(x: f32) -> vec2<f32> {
    let p = wa_exp_reduce_parts(select(x, -20.0, x < -20.0));
    let s = wa_pow2f(p.x);
    let f = p.y - p.z;
    return vec2<f32>(s + s * f, (s - 1.0) + s * f);
}

// e^x - 1 for x <= 0 (what ELU, SELU and CELU need), below 1 ULP
// (wa_exp_expm1_nonpositive). -1 at -inf, keeps -0.0 and subnormals (zeros
// pass through), NaN for NaN.
fn wa_expm1_nonpositive(x: f32) -> f32 {
    return select(wa_exp_expm1_nonpositive(x).y, x, x == 0.0 || wa_is_nan(x));
}

// tanh x without branches, from one reduction of -2|x|: e = e^-2|x| and
// u = e - 1 (wa_exp_expm1_nonpositive; at -2|x| <= -20 tanh rounds to 1).
// For |x| < log(3)/2, tanh |x| = -u / (2 + u): u is below 1 ULP and 2 + u
// does not cancel (u > -2/3); beyond, 1 - 2e / (1 + e). One division for
// both (numerator and denominator picked first). Odd: keeps the sign of
// -0.0, returns subnormal inputs unchanged (u = -2|x| exactly there), +-1
// at +-inf, NaN for NaN.
fn wa_tanh(x: f32) -> f32 {
    let a = wa_abs(x);
    let eu = wa_exp_expm1_nonpositive(-2.0 * a);
    let e = eu.x;
    let u = eu.y;
    let small = a < 0.5493061443;
    let q = select(e + e, -u, small) / select(1.0 + e, 2.0 + u, small);
    let t = select(1.0 - q, q, small);
    return select(wa_copysign(t, x), x, wa_is_nan(x));
}

// Order key of a non-NaN f32: a < b exactly when wa_key(a) < wa_key(b), with
// -0.0 and +0.0 equal. Comparing keys instead of floats keeps threshold tests
// right for subnormals on backends that flush them in comparisons.
fn wa_key(x: f32) -> i32 {
    let bits = bitcast<u32>(x);
    let magnitude = i32(bits & 0x7fffffffu);
    return select(magnitude, -magnitude, (bits >> 31u) != 0u);
}

// ln(1 + f) for f in [sqrt(1/2) - 1, 1/2]. With s = f / (2 + f),
// ln(1 + f) = 2 atanh(s) = 2s + s R(s^2), R(z) = 2z/3 + 2z^2/5 + ... (|s| <= 0.2,
// so five terms leave < 2^-31 relative), and 2s = f - s f, hence ln(1 + f) = f - s (f - R):
// f is exact and the correction is small, which keeps the error below 1 ULP.
fn wa_log1p_reduced(f: f32) -> f32 {
    let s = f / (2.0 + f);
    let z = s * s;
    let r = z * (0.6666666666666666 + z * (0.4 + z * (0.2857142857142857 + z * (0.2222222222222222 + z * 0.1818181818181818))));
    return f - s * (f - r);
}

// ln(1 + x) for 0 <= x <= 1 (softplus and log-sigmoid take it of e^-|z|),
// without branches, as vec2(a, b) with ln(1 + x) = a + b: x itself is the
// reduced argument below 1/2 (a = 0, b the series), and above,
// 1 + x = 2 (1 + f) with f = (x - 1) / 2 exact (Sterbenz), a = ln2_hi and b
// the series plus ln2_lo. The reduced argument is picked first, so one
// series is evaluated. NaN for NaN (both arguments are arithmetic on x, so
// whichever a compiler picks for NaN carries it); tiny and subnormal x give
// b = x.
fn wa_log1p_unit_parts(x: f32) -> vec2<f32> {
    let near_zero = x < 0.5;
    let reduced = wa_log1p_reduced(select((x - 1.0) * 0.5, x, near_zero));
    return select(vec2<f32>(WA_LN2_HI, reduced + WA_LN2_LO), vec2<f32>(0.0, reduced), near_zero);
}

// ln(1 + x) for 0 <= x <= 1, rounded once from wa_log1p_unit_parts.
fn wa_log1p_unit(x: f32) -> f32 {
    let p = wa_log1p_unit_parts(x);
    return p.x + p.y;
}

// ln(1 + x) without the cancellation of log(1 + x) for tiny x, and without
// error-free transformations such as c = x - ((1 + x) - 1): Mesa's NIR
// (lavapipe, llvmpipe) folds those to 0. Instead 1 + x = 2^k (1 + f) with
// f = (x - (2^k - 1)) 2^-k, a difference that is exact (Sterbenz) for every k
// chosen here, and ln(1 + x) = k ln 2 + ln(1 + f). Near 0 (k = 0) f = x.
// log1p(-1) = -inf, NaN below -1, log1p(+inf) = +inf, log1p(-0.0) = -0.0.
fn wa_log1p(x: f32) -> f32 {
    let bits = bitcast<u32>(x);
    let hx = bits & 0x7fffffffu;
    if hx > 0x7f800000u || bits == 0x7f800000u {
        return x; // NaN, +inf
    }
    if hx < 0x33800000u {
        return x; // |x| < 2^-24 (subnormals and -0.0 included): ln(1 + x) rounds to x
    }
    if bits >= 0xbf800000u {
        // x <= -1: -inf at -1, NaN below, from x's bits (not constants).
        return select(bitcast<f32>(bits | 0x7fc00000u), bitcast<f32>(bits | 0x7f800000u), bits == 0xbf800000u);
    }
    if x > -0.2928932 && x < 0.5 {
        return wa_log1p_reduced(x); // k = 0, f = x exactly
    }
    // 1 + x = 2^k (1 + f), k from the exponent of the rounded 1 + x (of x
    // itself from 2^23 on, where the 1 is below x's rounding and
    // ln(1 + x) = ln(x) to f32), moved up by one when the mantissa exceeds
    // sqrt(2), so that 1 + f lies in about [sqrt(1/2), sqrt(2)].
    let large = x >= 8388608.0;
    let ubits = select(bitcast<u32>(1.0 + x), bits, large);
    var k = i32(ubits >> 23u) - 127;
    let above_sqrt2 = (ubits & 0x007fffffu) > 0x003504f3u;
    if above_sqrt2 {
        k = k + 1;
    }
    var f = 0.0;
    if large {
        // f straight from x's mantissa (k may reach 128, beyond wa_pow2i).
        f = bitcast<f32>((bits & 0x007fffffu) | select(0x3f800000u, 0x3f000000u, above_sqrt2)) - 1.0;
    } else {
        f = (x - (wa_pow2i(k) - 1.0)) * wa_pow2i(-k);
    }
    let kf = f32(k);
    return kf * WA_LN2_HI + (wa_log1p_reduced(f) + kf * WA_LN2_LO);
}

// ---- Extra precision (unevaluated sums hi + lo) --------------------------
// Error-free transformations need every rounding to happen as written, but
// Mesa's NIR (lavapipe, llvmpipe) simplifies float algebra such as
// (a + b) - a -> b, which erases the error terms. wa_opaque(v) is v, passed
// through an operation the optimiser does not see through.
fn wa_opaque(v: f32) -> f32 {
    return min(v, 3.0e38);
}

// v with its low 12 significand bits cleared.
fn wa_split_hi(v: f32) -> f32 {
    return bitcast<f32>(bitcast<u32>(v) & 0xfffff000u);
}

// v rounded to 12 significant bits (v - wa_round_hi(v) is exact and has at
// most 12 significant bits too); finite |v| < 2^127.
fn wa_round_hi(v: f32) -> f32 {
    return bitcast<f32>((bitcast<u32>(v) + 0x800u) & 0xfffff000u);
}

// a * b = p + e exactly (Dekker's product, no fma; |a b| < 2^100): vec2(p, e);
// in the fast tier vec2(a * b, 0), whose bounds do not need the rounding
// error (wa_two_prod_exact keeps it in both tiers).
fn wa_two_prod(a: f32, b: f32) -> vec2<f32> {
    if WA_FAST {
        return vec2<f32>(a * b, 0.0);
    }
    return wa_two_prod_exact(a, b);
}

// Dekker's product a * b = p + e in both tiers.
fn wa_two_prod_exact(a: f32, b: f32) -> vec2<f32> {
    let p = wa_opaque(a * b);
    let ah = wa_split_hi(a);
    let al = a - ah;
    let bh = wa_split_hi(b);
    let bl = b - bh;
    return vec2<f32>(p, (((ah * bh - p) + ah * bl) + al * bh) + al * bl);
}

// a + b = s + e exactly (Knuth's TwoSum): vec2(s, e). For finite
// operands whose sum stays below 3e38 (wa_opaque's min clamps above it, and
// turns NaN into 3e38 on llvmpipe); wa_two_sum_any takes any.
fn wa_two_sum(a: f32, b: f32) -> vec2<f32> {
    let s = wa_opaque(a + b);
    let bb = wa_opaque(s - a);
    return vec2<f32>(s, (a - (s - bb)) + (b - bb));
}

// wa_two_sum for any operands: a NaN, an infinity or a sum of 3e38 or more
// gives vec2(a + b, 0), the plain sum, so that sums of data (reductions)
// keep NaN and inf as IEEE arithmetic would.
fn wa_two_sum_any(a: f32, b: f32) -> vec2<f32> {
    let s = a + b;
    return select(vec2<f32>(s, 0.0), wa_two_sum(a, b), wa_abs(s) < 3.0e38);
}
