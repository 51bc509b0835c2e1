// wgpu-activations: the one definition of each activation's math.
//
// For every op `<name>` there is `wa_<name>_forward(x, params...)` and
// `wa_<name>_derivative(x, params...)` (f'(x), PyTorch's value at kinks). Every
// kernel (forward, derivative, backward) is generated from these functions;
// nothing here depends on bindings, so the file can be spliced into any
// shader together with math.wgsl. Each function keeps the rules of
// SEMANTICS.md itself: NaN in -> NaN out, limits at +-inf, PyTorch's signed
// zeros, no overflow of an intermediate for finite x.
//
// A smooth op whose derivative can be subnormal (its tails) defines
// `wa_<name>_derivative_scaled` instead, f'(x) as a scaled pair (math.wgsl,
// "Scaled values"), so that the backward's grad_output * f'(x) is right
// where f'(x) is subnormal but the product is not, also on devices that
// flush subnormals; src/wgsl.rs generates `wa_<name>_derivative` from it.
// Likewise `wa_<name>_forward_scaled` for the gate activations of the gated
// kernels (sigmoid, SiLU, GELU, tanh-GELU), whose value * f(gate) must not
// lose a subnormal f(gate).

// ---- Sigmoid -------------------------------------------------------------
// sigma(z) = 1 / (1 + e^-z) scaled, with the branch chosen by sign so e^-|z|
// never overflows: e / (1 + e) for z < 0 (e = e^-|z| scaled), 1 / (1 + e)
// otherwise, one division rounded once.
fn wa_sigmoid_scaled(z: f32) -> vec2<f32> {
    let es = wa_exp_nonpositive_scaled(-wa_abs(z));
    let negative = z < 0.0;
    return vec2<f32>(select(1.0, es.x, negative) / (1.0 + wa_unscaled(es)), select(1.0, es.y, negative));
}

fn wa_sigmoid_forward_scaled(x: f32) -> vec2<f32> {
    return wa_sigmoid_scaled(x);
}

// sigma'(x) = e / (1 + e)^2 with e = e^-|x|: stable, computed from x (not
// from the rounded output), exact limit 0 at +-inf.
fn wa_sigmoid_derivative_scaled(x: f32) -> vec2<f32> {
    let es = wa_exp_nonpositive_scaled(-wa_abs(x));
    let d = 1.0 + wa_unscaled(es);
    return vec2<f32>(es.x / (d * d), es.y);
}

// ---- Tanh ----------------------------------------------------------------
fn wa_tanh_forward(x: f32) -> f32 {
    return wa_tanh(x);
}

// 1 - tanh^2 x = (1 - t)(1 + t) = 4e / (1 + e)^2 with e = e^-2|x|: no
// cancellation anywhere, and near 0 the result hardly depends on e's
// rounding (its derivative in e vanishes at e = 1). 0 at +-inf.
fn wa_tanh_derivative_scaled(x: f32) -> vec2<f32> {
    let es = wa_exp_nonpositive_scaled(-2.0 * wa_abs(x));
    let d = 1.0 + wa_unscaled(es);
    return vec2<f32>((4.0 * es.x) / (d * d), es.y);
}

// ---- ReLU ----------------------------------------------------------------
// x < 0 ? 0 : x, so relu(-0.0) = -0.0 and relu(NaN) = NaN.
fn wa_relu_forward(x: f32) -> f32 {
    return select(x, 0.0, wa_lt_zero(x));
}

// 1 for x > 0, 0 for x <= 0 (0 at the kink), NaN for NaN.
fn wa_relu_derivative(x: f32) -> f32 {
    return wa_keep_nan(x, select(0.0, 1.0, wa_gt_zero(x)));
}

// ---- LeakyReLU -----------------------------------------------------------
// x > 0 ? x : negative_slope * x (keeps -0.0 for a positive slope). A zero
// slope gives a zero of the product's sign, also at x = -inf (the limit;
// 0 * -inf would be NaN): found by the property test, PReLU weights and
// RReLU's (lower + upper) / 2 may well be 0.
fn wa_leaky_relu_forward(x: f32, negative_slope: f32) -> f32 {
    let negative = select(negative_slope * x, negative_slope * wa_copysign(1.0, x), negative_slope == 0.0);
    return wa_keep_nan(x, select(negative, x, wa_gt_zero(x)));
}

// 1 for x > 0, negative_slope for x <= 0 (slope at the kink), NaN for NaN.
fn wa_leaky_relu_derivative(x: f32, negative_slope: f32) -> f32 {
    return wa_keep_nan(x, select(negative_slope, 1.0, wa_gt_zero(x)));
}

// ---- ELU / SELU / CELU -----------------------------------------------------
// The exponential is taken of min(x, 0) (x itself for x <= 0 and NaN), so the
// masked branch never overflows.
fn wa_nonpositive_part(x: f32) -> f32 {
    return select(x, 0.0, wa_gt_zero(x));
}

// x > 0 ? x : alpha (e^x - 1); keeps -0.0.
fn wa_elu_forward(x: f32, alpha: f32) -> f32 {
    return select(alpha * wa_expm1_nonpositive(wa_nonpositive_part(x)), x, wa_gt_zero(x));
}

// x > 0 ? 1 : alpha e^x (alpha at 0), scaled.
fn wa_elu_derivative_scaled(x: f32, alpha: f32) -> vec2<f32> {
    let es = wa_exp_nonpositive_scaled(wa_nonpositive_part(x));
    return select(vec2<f32>(alpha * es.x, es.y), vec2<f32>(1.0, 1.0), wa_gt_zero(x));
}

const WA_SELU_SCALE: f32 = 1.0507009873554804934193349852946;
// scale * alpha, rounded once.
const WA_SELU_SCALE_ALPHA: f32 = 1.7580993408473768599402175208123;

// scale (x > 0 ? x : alpha (e^x - 1)).
fn wa_selu_forward(x: f32) -> f32 {
    return select(WA_SELU_SCALE_ALPHA * wa_expm1_nonpositive(wa_nonpositive_part(x)), WA_SELU_SCALE * x, wa_gt_zero(x));
}

// scale (x > 0 ? 1 : alpha e^x), scaled.
fn wa_selu_derivative_scaled(x: f32) -> vec2<f32> {
    let es = wa_exp_nonpositive_scaled(wa_nonpositive_part(x));
    return select(vec2<f32>(WA_SELU_SCALE_ALPHA * es.x, es.y), vec2<f32>(WA_SELU_SCALE, 1.0), wa_gt_zero(x));
}

// x > 0 ? x : alpha (e^(x / alpha) - 1); x itself where |x / alpha| < 2^-24
// (the result rounds to x there), so that a large alpha never makes the
// result hang on a subnormal x / alpha.
fn wa_celu_forward(x: f32, alpha: f32) -> f32 {
    let u = wa_nonpositive_part(x) / alpha;
    let tiny = (bitcast<u32>(u) & 0x7fffffffu) < 0x33800000u;
    return select(alpha * wa_expm1_nonpositive(u), x, wa_gt_zero(x) || tiny);
}

// x > 0 ? 1 : e^(x / alpha) (1 at 0), scaled.
fn wa_celu_derivative_scaled(x: f32, alpha: f32) -> vec2<f32> {
    return select(wa_exp_scaled(wa_nonpositive_part(x) / alpha), vec2<f32>(1.0, 1.0), wa_gt_zero(x));
}

// ---- Products that vanish in a tail -----------------------------------------
// x * t where t >= 0 vanishes as x -> -inf (x sigma(x), x Phi(x), ...): the
// product is a zero with x's sign once t underflows, never -inf * 0 = NaN.
fn wa_times_vanishing(x: f32, t: f32) -> f32 {
    return select(x * t, wa_copysign(0.0, x), t == 0.0);
}

// x sigma(v) for v = hi + lo (lo = 0 for a plain f32 v), as x / (1 + e^-v)
// (one rounding fewer than x * sigma(v)) while e^-v is finite (v > -80),
// with e^-v = 2^k (1 + m) (1 - lo) and the denominator
// (1 + 2^k) + 2^k (m - lo (1 + m)) rounded once: next to a minimum of
// x sigma(v) (condition number 0) every rounding counts. Beyond -80, 1 + e^v
// rounds to 1 and it is x e^v = (x h) h with h = e^(v/2): e^v itself would
// be subnormal (v < -87.3) and lose the digits that x e^v needs; below
// v = -174 it is a zero with x's sign (also at x = -inf). One exponential
// reduction, no branch; NaN in, NaN out.
// Scaled (math.wgsl, "Scaled values"): x itself carries 2^64 where
// |x| < 2^-100 (the result, about x / 2, would be subnormal), and the far
// left's second h carries 2^64 (the result is subnormal from v = -174.7 on,
// while h >= 2^-126).
// No subnormal intermediate on either side of the select where inputs are
// ordinary (lavapipe spends on the order of 100 cycles on each operation
// that meets one, taken side or not): -v is clamped at -60 on the near side
// (from v = 60 on e^-v < 2^-86 and x / (1 + e^-v) rounds to x either way;
// lo, up to 2^-24 v, is dropped there with it), and the far side forms
// x h 2^64 before the last factor h.
fn wa_times_sigmoid_scaled(x: f32, v_in: vec2<f32>) -> vec2<f32> {
    let big = v_in.x > 60.0;
    let v = vec2<f32>(v_in.x, select(v_in.y, 0.0, big));
    let far = v.x <= -80.0;
    let arg = select(select(-v.x, -60.0, big), 0.5 * v.x, far);
    var km = vec2<f32>(0.0, 0.0);
    var p = 0.0;
    if WA_FAST {
        // The device's exp of the argument itself: e^arg = p (1 + 0).
        p = exp(select(arg, -87.0, arg < -87.0));
    } else {
        km = wa_exp_reduce(select(arg, -87.0, arg < -87.0));
        p = wa_pow2f(km.x);
    }
    let tiny = wa_abs(x) < 7.888609052210118e-31; // 2^-100
    let xs = x * select(1.0, 1.8446744073709552e19, tiny);
    let near = xs / ((1.0 + p) + p * (km.y - v.y * (1.0 + km.y)));
    let h = p * (1.0 + km.y);
    let hs = h * 1.8446744073709552e19;
    let y_far = select((x * (hs + hs * (0.5 * v.y))) * h, wa_copysign(0.0, x), arg < -87.0);
    return vec2<f32>(select(near, y_far, far), select(1.0, WA_SCALE_DOWN, far || tiny));
}

// ---- GELU ------------------------------------------------------------------
// x Phi(x), Phi the standard normal CDF (normal.wgsl, branch-free). For
// |x| >= 1.3, x Q(a) = x G(a) 2^k (1 + m) with e^(-a^2/2) = 2^k (1 + m) from
// the rounded -a^2/2 (GELU's condition number there, about a^2, absorbs that
// rounding); x Q(a) is formed before the 2^k, so it stays accurate where
// Q(a) itself is already subnormal (-14.6 < x < -13). It is x Phi(x) on the
// left and x - x Q(a) on the right (one rounding). Below -14.6 it is a zero
// with x's sign (the limit), also at -inf; +inf stays +inf.
// Scaled: on the left, where 2^k < 2^-64, x Q(a) is formed times 2^64 (it
// is subnormal from -13 on), and in the centre a tiny x (|x| < 2^-100, the
// result about x / 2) carries 2^64.
// x Q(a) = x G(a) e^(-a^2/2) for the tail, as vec2(value, 1 where it is
// formed times 2^64 on the far left, else 0).
fn wa_gelu_tail(x: f32, a: f32, g: f32) -> vec2<f32> {
    let xc = clamp(x, -WA_NORMAL_END, WA_NORMAL_END);
    if WA_FAST {
        // The device's exp of -a^2/2, raised by 64 ln 2 on the far left
        // (the sum's rounding, about 2^-19 absolute, is far inside GELU's
        // condition number there, about a^2).
        let y = -0.5 * (a * a);
        let scaled = x < 0.0 && y < -44.361419555836;
        let e = exp(select(y, y + 44.361419555836, scaled));
        return vec2<f32>(xc * (g * e), select(0.0, 1.0, scaled));
    }
    let km = wa_exp_reduce(-0.5 * (a * a));
    let scaled = x < 0.0 && km.x < -64.0;
    // One power of two (no two-step ldexp): 2^k is normal where it matters
    // (k >= -90 scaled on the left), and on the right, where it is not,
    // x Q(a) vanishes beside x anyway.
    let k = max(km.x + select(0.0, 64.0, scaled), -127.0);
    return vec2<f32>((xc * (g + g * km.y)) * wa_pow2f(k), select(0.0, 1.0, scaled));
}

fn wa_gelu_forward_scaled(x: f32) -> vec2<f32> {
    let a = min(wa_abs(x), WA_NORMAL_END);
    let g = wa_normal_mills_rational(max(a, WA_NORMAL_CENTER));
    let t = wa_gelu_tail(x, a, g);
    let xq = t.x;
    let left_scaled = t.y != 0.0;
    let tail = select(x - xq, xq, x < 0.0);
    let tiny = a < 7.888609052210118e-31; // 2^-100
    let xs = x * select(1.0, 1.8446744073709552e19, tiny);
    let center = xs * wa_normal_center(select(0.0, x, a < WA_NORMAL_CENTER));
    let in_center = a < WA_NORMAL_CENTER;
    let y = select(tail, center, in_center);
    let value = select(select(y, wa_copysign(0.0, x), x < -WA_NORMAL_END), x, wa_is_nan(x));
    let scaled = select(left_scaled, tiny, in_center) && !wa_is_nan(x);
    return vec2<f32>(value, select(1.0, WA_SCALE_DOWN, scaled));
}

// Phi(x) + x phi(x). For |x| >= 1.3 both sides come from
// d = Q(a) - a phi(a) = (G(a) - a C e) 2^k (e 2^k = e^(-a^2/2)) under one
// scale factor: it is d on the left and 1 - d on the right. In the centre
// 2^k is 1 or 1/2. Beyond 14.6 it is 1 on the right and a zero with x's
// sign (the limit) on the left. Scaled: on the left, where 2^k < 2^-64, d
// is formed times 2^64.
fn wa_gelu_derivative_scaled(x: f32) -> vec2<f32> {
    // e^(-x^2/2) from the exact square in both tiers: Phi(x) + x phi(x)
    // cancels at its root, x = -0.7518 (the fast tier's rounded square and
    // device exp measured 107 scaled ULPs there, over all 2^32 inputs).
    let n = wa_normal_with(x, true);
    let ce = WA_NORMAL_SQRT2PI_INV * n.e;
    let scaled = x < 0.0 && n.k < -64.0;
    // One power of two, as in the forward: d vanishes beside 1 on the right
    // where 2^k is below the normal range.
    let d = (n.q - n.a * ce) * wa_pow2f(max(n.k + select(0.0, 64.0, scaled), -127.0));
    let tail = select(1.0 - d, d, x < 0.0);
    let center = n.center + x * (ce * wa_pow2f(max(n.k, -126.0)));
    let y = select(tail, center, n.a < WA_NORMAL_CENTER);
    let far = select(1.0, wa_copysign(0.0, x), x < 0.0);
    let value = select(select(y, far, wa_abs(x) > WA_NORMAL_END), x, wa_is_nan(x));
    return vec2<f32>(value, select(1.0, WA_SCALE_DOWN, scaled));
}

// ---- GELU, tanh approximation ----------------------------------------------
// With v = 2 sqrt(2/pi) (x + 0.044715 x^3): 0.5 (1 + tanh(v / 2)) = sigma(v),
// so gelu_tanh(x) = x sigma(v): no cancellation of 1 + tanh for negative x.
// sigma(v) has relative condition |v| sigma(-v), so v is formed as hi + lo
// (constants in two parts, exact products): an f32 v would cost ~|v| ULPs.
const WA_GELU_C1_HI: f32 = 1.595703125;            // 2 sqrt(2/pi) to 12 significant bits
const WA_GELU_C1_LO: f32 = 6.599660573081145e-05;   // the rest
const WA_GELU_C3: f32 = 0.07135481387376785;        // 2 sqrt(2/pi) 0.044715

// v = c1 x + c3 x^3 and x v' = c1 x + 3 c3 x^3, each as hi + lo, for |x| <= 16.
struct WaGeluTanhArgs {
    v: vec2<f32>,
    x_dv: vec2<f32>,
}

// c1 x = c1_hi x_hi + (c1_hi x_lo + c1_lo x) with x_hi = x to 12 significant
// bits: both c1_hi products are exact (12 by 12 bits), without Dekker's
// product (about a quarter of tanh-GELU's forward on lavapipe); the small
// rest (c1_hi x_lo + c1_lo x, below 2^-11 of v, and the cubic term, below
// a tenth of v for |x| < 1.5, where GELU's condition number is small) is
// added in plain f32, and TwoSum renormalises each pair. Far out, where the
// cubic term dominates, v is good to about 2 ULP, which sigma's and GELU's
// condition numbers there absorb.
fn wa_gelu_tanh_args(x: f32) -> WaGeluTanhArgs {
    if WA_FAST {
        // Plain f32: about |v| ULPs in sigma(v), within the fast bounds.
        let x3 = x * (x * x);
        let c1 = WA_GELU_C1_HI + WA_GELU_C1_LO;
        return WaGeluTanhArgs(vec2<f32>(c1 * x + WA_GELU_C3 * x3, 0.0),
                              vec2<f32>(c1 * x + (3.0 * WA_GELU_C3) * x3, 0.0));
    }
    let x_hi = wa_split_hi(x);
    let hi = WA_GELU_C1_HI * x_hi;
    let x3 = x * (x * x);
    let linear_lo = WA_GELU_C1_HI * (x - x_hi) + WA_GELU_C1_LO * x;
    let v = wa_two_sum(hi, linear_lo + WA_GELU_C3 * x3);
    let xd = wa_two_sum(hi, linear_lo + (3.0 * WA_GELU_C3) * x3);
    return WaGeluTanhArgs(v, xd);
}

// e^-|v| for v = hi + lo: e^-|hi| (1 -+ lo) in (0, 1], never overflows;
// in two factors as wa_exp_scaled gives them (e^-|v| = .x .y, .x never
// subnormal).
fn wa_exp_neg_abs2(v: vec2<f32>) -> vec2<f32> {
    let negative = v.x < 0.0;
    let es = wa_exp_nonpositive_scaled(select(-v.x, v.x, negative));
    return vec2<f32>(es.x - es.x * select(v.y, -v.y, negative), es.y);
}

// x sigma(v) (wa_times_sigmoid, with v in two parts: sigma's condition
// number |v| sigma(-v) would turn an f32 v's rounding into ~|v| ULPs). For
// |x| > 16 sigma(v) is 0 or 1 to f32 precision (|v| > 317): x itself, or a
// zero with x's sign (also at +-inf).
fn wa_gelu_tanh_forward_scaled(x: f32) -> vec2<f32> {
    let y = wa_times_sigmoid_scaled(x, wa_gelu_tanh_args(x).v);
    return select(y, vec2<f32>(select(wa_copysign(0.0, x), x, x > 0.0), 1.0), wa_abs(x) > 16.0);
}

// d/dx [x sigma(v)] = sigma(v) + x v' sigma'(v), with e = e^-|v|,
// sigma'(v) = e / (1 + e)^2, over the one denominator w^2, w = 1 + e. For
// x >= 0 the numerator w + x v' e has two positive terms. For x < 0 it is
// e (1 + e + x v') (sigma(v) = e / w there), whose terms cancel (the root is
// at -0.75), so it is summed in double-f32: only the root itself loses
// digits. One division for both sides. Scaled: on the left e is carried
// scaled into the product (normal down to x = -10.2, e only to -10.01).
fn wa_gelu_tanh_derivative_scaled(x: f32) -> vec2<f32> {
    let args = wa_gelu_tanh_args(x);
    let es = wa_exp_neg_abs2(args.v);
    let e = wa_unscaled(es);
    let w = wa_two_sum(1.0, e);
    let n = wa_two_sum(w.x, args.x_dv.x);
    let left = es.x * (n.x + (n.y + (w.y + args.x_dv.y)));
    let right = w.x + args.x_dv.x * e;
    let y = select(right, left, x < 0.0) / (w.x * w.x);
    // Far out on the left everything underflows: keep the sign of the limit.
    let y_signed = select(y, wa_copysign(0.0, x), y == 0.0 && x < 0.0);
    // |x| > 16: sigma'(v) underflows: 1 on the right, a vanishing negative
    // number on the left.
    let far = wa_keep_nan(x, select(wa_copysign(0.0, x), 1.0, x > 0.0));
    return select(vec2<f32>(y_signed, select(1.0, es.y, x < 0.0)), vec2<f32>(far, 1.0), wa_abs(x) > 16.0);
}

// ---- SiLU ------------------------------------------------------------------
fn wa_silu_forward_scaled(x: f32) -> vec2<f32> {
    return wa_times_sigmoid_scaled(x, vec2<f32>(x, 0.0));
}

// sigma(x) (1 + x (1 - sigma(x))) with e = e^-|x|, w = 1 + e. For x >= 0
// that is (1 + x e / w) / w, with no cancellation. For x < 0, sigma = e / w
// and 1 - sigma = 1 / w: from -1/2 to 0 that is (e / w)(1 + x / w), again
// without cancellation; below -1/2 it is e ((1 + x) + e) / w^2, where
// 1 + x is exact, so only the root at x = -1.278 loses digits (w^2 as
// 1 + e (2 + e): fewer roundings than squaring a rounded w). Scaled: e is
// carried scaled into the far left's product.
// The exponential of this crate in both tiers: the sum cancels at the root
// (x = -1.2785), where the device's exp measured 8.39 scaled ULPs.
fn wa_silu_derivative_scaled(x: f32) -> vec2<f32> {
    let es = wa_exp_nonpositive_scaled_with(-wa_abs(x), true);
    let e = wa_unscaled(es);
    let w = 1.0 + e;
    // Rounds to -0 far out (the limit, with its sign), also where e 2^64 underflows.
    let w2 = 1.0 + e * (2.0 + e);
    let far_left = select((es.x * ((1.0 + x) + e)) / w2, wa_copysign(0.0, x), es.x == 0.0);
    let near_left = (e / w) * (1.0 + x / w);
    let right = select((1.0 + x * (e / w)) / w, 1.0, e == 0.0);
    let y = select(select(right, near_left, wa_lt_zero(x)), far_left, x <= -0.5);
    return vec2<f32>(y, select(1.0, es.y, x <= -0.5));
}

// ---- Mish ------------------------------------------------------------------
// tanh(softplus(x)) = n / (n + 2) with n = e^x (e^x + 2) = 2e^x + e^2x (2e^x
// exact, e^2x the smaller term for x < 0: one rounding fewer than e (e + 2);
// wa_opaque keeps Mesa from factoring it back into e (2 + e)); it rounds to 1
// for x > 9, so e^x is taken of min(x, 20) and never overflows. Below
// x = -64, n / (n + 2) = e^x to f32 precision and the result is x e^x from
// e^x scaled (wa_exp_scaled): it is normal down to x = -92, e^x only down
// to -87.3.
fn wa_mish_forward(x: f32) -> f32 {
    let es = wa_exp_scaled(select(20.0, x, x < 20.0));
    // es.x is e^x itself except below -64, where n / (n + 2) is not used.
    let e = es.x;
    let n = wa_opaque(2.0 * e) + e * e;
    return wa_times_vanishing(x, select(n / (n + 2.0), e, x < -64.0)) * es.y;
}

// t + x sigma(x) (1 - t^2), t = tanh(softplus(x)) = n / (n + 2) = 1 - 2 / d,
// 1 - t^2 = 4 w^2 / d^2, with e = e^x, w = 1 + e, n = e (e + 2), d = n + 2,
// and d^2 formed as 4 + n (4 + n) (fewer roundings than squaring a rounded d).
// For x > -1/2: n / d + 4 x e w / d^2 (two positive terms for x >= 0, a small
// negative one down to -1/2; n / d rather than 1 - 2 / d: 5 ULPs -> 4 at
// x = -0.18 in a sweep of every f32). For x <= -1/2, over one denominator:
// e P / d^2, P = 4 (1 + x) + e ((6 + 4x) + e (4 + e)), whose leading term is
// exact for x <= -1/2, so only the root at x = -1.19 loses digits. Exactly 1
// to f32 precision for x > 20; -0 (the limit, with its sign) once e
// underflows. Scaled: e is carried scaled into e P.
// This crate's exponential in both tiers, as SiLU's derivative: the sum
// cancels at the root, x = -1.1924.
fn wa_mish_derivative_scaled(x: f32) -> vec2<f32> {
    let es = wa_exp_scaled_with(select(20.0, x, x < 20.0), true);
    // e^x itself in the sums (below -64, where es.x is scaled, it vanishes
    // beside the terms it is added to), es.x in the product e P.
    let e = wa_unscaled(es);
    let w = 1.0 + e;
    let n = e * (e + 2.0);
    let d = n + 2.0;
    let p = 4.0 * (1.0 + x) + e * ((6.0 + 4.0 * x) + e * (4.0 + e));
    let d2 = 4.0 + n * (4.0 + n);
    let left = select((es.x * p) / d2, wa_copysign(0.0, x), es.x == 0.0);
    let right = n / d + 4.0 * x * e * w / d2;
    let y = select(right, left, x <= -0.5);
    return vec2<f32>(wa_keep_nan(x, select(y, 1.0, x > 20.0)), select(1.0, es.y, x <= -0.5));
}

// ---- Softplus --------------------------------------------------------------
// log(1 + e^z) / beta with z = beta x, as (max(z, 0) + log1p(e^-|z|)) / beta;
// x itself where z > threshold (PyTorch's test on the rounded product).
// Below z = -64 log1p(e^z) = e^z to f32 precision, and e^z / beta is taken
// from e^z scaled: for beta < 1 it is normal where e^z is not.
// For beta != 1 the sum is kept as hi + lo (TwoSum of max(z, 0) and ln2_hi,
// then the small rest) and divided with one correction of the quotient,
// q + ((hi - q beta) + lo) / beta with q beta exact (Dekker): a plain
// sum / beta adds its rounding to the sum's and reached 2.3 scaled ULPs
// for beta = 1e-3 and 1e-6.
fn wa_softplus_forward(x: f32, beta: f32, threshold: f32) -> f32 {
    let z = beta * x;
    let positive_part = select(0.0, z, wa_gt_zero(z));
    let es = wa_exp_nonpositive_scaled(-wa_abs(z));
    // Beyond z = -64 es.x is the result's scaled factor (es.y is 2^-92
    // exactly there).
    let far_left = z < -64.0;
    let lp = wa_log1p_unit_parts(wa_unscaled(es));
    var sum = select(positive_part + (lp.x + lp.y), es.x, far_left);
    // A branch on the parameter (uniform across the dispatch): the default
    // beta = 1 skips the division (lavapipe runs a divergent-free branch's
    // untaken side not at all).
    if beta != 1.0 {
        let head = wa_two_sum(positive_part, lp.x);
        let q = head.x / beta;
        let qb = wa_two_prod(q, beta);
        let r = ((head.x - qb.x) - qb.y) + (head.y + lp.y);
        // Where q overflows (beta tiny) the correction would be inf - inf.
        let corrected = select(q + r / beta, q, wa_is_inf(q));
        sum = select(corrected, es.x / beta, far_left);
    }
    let y = sum * select(1.0, es.y, far_left);
    return select(y, x, z > threshold);
}

// z > threshold ? 1 : sigma(beta x), scaled.
fn wa_softplus_derivative_scaled(x: f32, beta: f32, threshold: f32) -> vec2<f32> {
    let z = beta * x;
    return select(wa_sigmoid_scaled(z), vec2<f32>(1.0, 1.0), z > threshold);
}

// ---- Softsign --------------------------------------------------------------
// x / (1 + |x|), +-1 at +-inf.
fn wa_softsign_forward(x: f32) -> f32 {
    return select(x / (1.0 + wa_abs(x)), wa_copysign(1.0, x), wa_is_inf(x));
}

// 1 / (1 + |x|)^2, scaled: from |x| = 2^32 on as 1 / (d 2^-32)^2 times
// 2^-64 (1 / d^2 is subnormal above 2^63).
fn wa_softsign_derivative_scaled(x: f32) -> vec2<f32> {
    let d = 1.0 + wa_abs(x);
    let big = d > 4294967296.0;
    let ds = d * select(1.0, 2.3283064365386963e-10, big);
    return vec2<f32>(1.0 / (ds * ds), select(1.0, WA_SCALE_DOWN, big));
}

// ---- Hardtanh / ReLU6 ------------------------------------------------------
// clamp(x, min_val, max_val); keeps -0.0 inside the range, NaN for NaN.
fn wa_hardtanh_forward(x: f32, min_val: f32, max_val: f32) -> f32 {
    let k = wa_key(x);
    let clamped = select(select(x, max_val, k > wa_key(max_val)), min_val, k < wa_key(min_val));
    return wa_keep_nan(x, clamped);
}

// min_val < x < max_val ? 1 : 0 (0 at both ends).
fn wa_hardtanh_derivative(x: f32, min_val: f32, max_val: f32) -> f32 {
    let k = wa_key(x);
    return wa_keep_nan(x, select(0.0, 1.0, k > wa_key(min_val) && k < wa_key(max_val)));
}

fn wa_relu6_forward(x: f32) -> f32 {
    return wa_hardtanh_forward(x, 0.0, 6.0);
}

fn wa_relu6_derivative(x: f32) -> f32 {
    return wa_hardtanh_derivative(x, 0.0, 6.0);
}

// ---- Hardsigmoid / Hardswish -----------------------------------------------
// clamp(x + 3, 0, 6) / 6, as PyTorch computes it.
fn wa_hardsigmoid_forward(x: f32) -> f32 {
    return wa_hardtanh_forward(x + 3.0, 0.0, 6.0) / 6.0;
}

// -3 < x < 3 ? 1/6 : 0.
fn wa_hardsigmoid_derivative(x: f32) -> f32 {
    return wa_hardtanh_derivative(x, -3.0, 3.0) * (1.0 / 6.0);
}

// x clamp(x + 3, 0, 6) / 6: -0.0 for x <= -3 (also -inf), x for x >= 3.
fn wa_hardswish_forward(x: f32) -> f32 {
    let k = wa_key(x);
    let middle = x * (x + 3.0) / 6.0;
    let y = select(select(middle, x, k >= wa_key(3.0)), wa_copysign(0.0, x), k <= wa_key(-3.0));
    return wa_keep_nan(x, y);
}

// x <= -3 ? 0 : x >= 3 ? 1 : x/3 + 1/2 (computed as (2x + 3) / 6, exact
// around the root at -1.5).
fn wa_hardswish_derivative(x: f32) -> f32 {
    let k = wa_key(x);
    let y = select(select((2.0 * x + 3.0) / 6.0, 1.0, k >= wa_key(3.0)), 0.0, k <= wa_key(-3.0));
    return wa_keep_nan(x, y);
}

// ---- LogSigmoid ------------------------------------------------------------
// min(x, 0) - log1p(e^-|x|), written -(log1p(e^-|x|) - min(x, 0)) so that a
// vanishing result for large x is -0.0 (it is negative), not +0.0.
fn wa_log_sigmoid_forward(x: f32) -> f32 {
    let negative_part = select(0.0, x, wa_lt_zero(x));
    // e^-|x| rounded once, to a subnormal where it is one (for x > 87.3 the
    // result is -e^-x itself, which f16/bf16 and non-flushing devices keep).
    return -(wa_log1p_unit(wa_unscaled(wa_exp_nonpositive_scaled(-wa_abs(x)))) - negative_part);
}

// 1 - sigma(x) = sigma(-x), scaled.
fn wa_log_sigmoid_derivative_scaled(x: f32) -> vec2<f32> {
    return wa_sigmoid_scaled(-x);
}

// ---- Tanhshrink ------------------------------------------------------------
// x - tanh x. For |x| < 1.5 Lambert's continued fraction
// tanh x = x / (1 + q), q = z / (3 + z / (5 + ... z / 17)), z = x^2, gives
// x - tanh x = x q / (1 + q) without the cancellation of the difference
// (x^3/3 for small x). With q = P(z) / Q(z) (the fraction's convergent,
// exact integer coefficients scaled by 1 / 34459425 = 1 / (3 5 ... 17))
// that is x P / (P + Q): positive coefficients, one division.
// From 1.5 on, with e = e^-2|x|, tanh |x| = 1 - 2e / (1 + e) and
// |x| - tanh |x| = ((|x| - 1)(1 + e) + 2e) / (1 + e), a sum of two positive
// terms over the same denominator.
// tanhshrink(+-0) = +0 as in PyTorch. Both sides are computed (no branch).
fn wa_tanhshrink_forward(x: f32) -> f32 {
    let a = wa_abs(x);
    let z = a * a;
    let p = z * (3.3333333333e-01 + z * (2.3529411765e-02 + z * (3.7348272642e-04 + z * 1.2768640220e-06)));
    let pq = 1.0 + z * (4.7058823529e-01 + z * (2.7450980392e-02 + z * (4.0221216692e-04 + z * 1.3058836588e-06)));
    // e^-2|x| (at |x| >= 10, e^-20: it vanishes beside |x| - 1 either way).
    let e = wa_exp_expm1_nonpositive(-2.0 * a).x;
    let w = 1.0 + e;
    // One division for both sides (Part 9: two cost Tanhshrink ~0.7x Burn's
    // x - tanh(x) at 2^24 on lavapipe): near a P / (P + Q), far
    // ((a - 1) w + 2e) / w, where a - 1 is exact and both terms are positive.
    let near = a < 1.5;
    let numerator = select((a - 1.0) * w + 2.0 * e, a * p, near);
    let y = wa_copysign(numerator / select(w, pq, near), x);
    // +0 for +-0 only: a subnormal x keeps its sign (a == 0.0 would be true
    // for it on a device that flushes subnormals in comparisons).
    return select(y, 0.0, bitcast<u32>(a) == 0u);
}

// tanh^2 x, scaled: below |t| = 2^-32 as (t 2^32)^2 times 2^-64 (t^2 is
// subnormal below 2^-63).
fn wa_tanhshrink_derivative_scaled(x: f32) -> vec2<f32> {
    let t = wa_tanh(x);
    let small = wa_abs(t) < 2.3283064365386963e-10;
    let ts = t * select(1.0, 4294967296.0, small);
    return vec2<f32>(ts * ts, select(1.0, WA_SCALE_DOWN, small));
}

// ---- Softshrink / Hardshrink -----------------------------------------------
// x > lambda ? x - lambda : x < -lambda ? x + lambda : +0 (PyTorch returns a
// literal 0 in the dead zone, so softshrink(-0.0) = +0.0). A NaN's key lies
// beyond every lambda's (above for a positive NaN, below for a negative
// one), so it takes x -+ lambda: NaN. (A separate NaN test cost Hardshrink
// 60% at 2^24 on lavapipe.)
fn wa_softshrink_forward(x: f32, lambda: f32) -> f32 {
    let k = wa_key(x);
    return select(select(0.0, x + lambda, k < wa_key(-lambda)), x - lambda, k > wa_key(lambda));
}

// |x| > lambda ? 1 : 0.
fn wa_softshrink_derivative(x: f32, lambda: f32) -> f32 {
    return wa_keep_nan(x, select(0.0, 1.0, wa_key(wa_abs(x)) > wa_key(lambda)));
}

// |x| > lambda ? x : +0, compared on the keys (the key of |x| is its bits);
// a NaN's bits exceed every finite or infinite lambda's key: NaN stays NaN.
fn wa_hardshrink_forward(x: f32, lambda: f32) -> f32 {
    return select(0.0, x, bitcast<i32>(bitcast<u32>(x) & 0x7fffffffu) > wa_key(lambda));
}

// |x| > lambda ? 1 : 0.
fn wa_hardshrink_derivative(x: f32, lambda: f32) -> f32 {
    return wa_softshrink_derivative(x, lambda);
}

// ---- Threshold -------------------------------------------------------------
// x > threshold ? x : value.
fn wa_threshold_forward(x: f32, threshold: f32, value: f32) -> f32 {
    return wa_keep_nan(x, select(value, x, wa_key(x) > wa_key(threshold)));
}

// x > threshold ? 1 : 0.
fn wa_threshold_derivative(x: f32, threshold: f32, value: f32) -> f32 {
    return wa_keep_nan(x, select(0.0, 1.0, wa_key(x) > wa_key(threshold)));
}

// ---- RReLU (evaluation mode) -----------------------------------------------
// LeakyReLU with slope (lower + upper) / 2 (rounded once, as PyTorch's f64
// mean cast to f32).
fn wa_rrelu_forward(x: f32, lower: f32, upper: f32) -> f32 {
    return wa_leaky_relu_forward(x, 0.5 * (lower + upper));
}

fn wa_rrelu_derivative(x: f32, lower: f32, upper: f32) -> f32 {
    return wa_leaky_relu_derivative(x, 0.5 * (lower + upper));
}

// ---- QuickGELU -------------------------------------------------------------
// x sigma(alpha x) (CLIP's quick_gelu), SiLU's machinery with v = alpha x.
// v = 0 at x = +-inf where alpha = 0 (x / 2, instead of 0 * inf).
fn wa_quick_gelu_arg(x: f32, alpha: f32) -> f32 {
    return select(alpha * x, 0.0, alpha == 0.0 && wa_is_inf(x));
}

// The forward takes v exactly, as hi + lo (Dekker's product; the plain v
// beyond 1e30, where sigma is 0 or 1): v's rounding alone would cost up to
// half a scaled ULP (a sweep of every 2^6-th f32 found 1.98 with it).
fn wa_quick_gelu_forward_scaled(x: f32, alpha: f32) -> vec2<f32> {
    let v = wa_quick_gelu_arg(x, alpha);
    let exact = select(vec2<f32>(v, 0.0), wa_two_prod(alpha, x), wa_abs(v) < 1e30 && !wa_is_inf(x));
    return wa_times_sigmoid_scaled(x, exact);
}

// d/dx x sigma(alpha x) = sigma(v) + v sigma(v)(1 - sigma(v)) = silu'(v),
// with v rounded once: a relative change of x inside silu', which the
// derivative's condition number absorbs (under half a scaled ULP).
fn wa_quick_gelu_derivative_scaled(x: f32, alpha: f32) -> vec2<f32> {
    return wa_silu_derivative_scaled(wa_quick_gelu_arg(x, alpha));
}

// ---- ReLU squared ------------------------------------------------------------
// relu(x)^2 (relu2): x^2 for x > 0, +0 otherwise (square(relu(-0.0)) is
// +0.0), NaN for NaN. One rounding: correctly rounded.
fn wa_relu_squared_forward(x: f32) -> f32 {
    return wa_keep_nan(x, select(0.0, x * x, wa_gt_zero(x)));
}

// 2 relu(x): 2x for x > 0, +0 for x <= 0 (PyTorch's ReLU backward writes a
// literal 0), NaN for NaN.
fn wa_relu_squared_derivative(x: f32) -> f32 {
    return wa_keep_nan(x, select(0.0, 2.0 * x, wa_gt_zero(x)));
}

// grad * 2 relu(x), rounded once (src/wgsl.rs uses an op's
// wa_<name>_backward where it has one): (2 grad) x, or grad (2x) where
// 2 grad would overflow (then 2x overflows only where the product does).
// grad = +-0 gives a zero of grad's sign, also at x = +inf (the f64
// product's limit, not 0 * inf).
fn wa_relu_squared_backward(grad: f32, x: f32) -> f32 {
    let r = select(0.0, x, wa_gt_zero(x));
    let p = select((2.0 * grad) * r, grad * (2.0 * r), wa_abs(grad) >= 1.7014118346046923e38);
    let grad_zero = (bitcast<u32>(grad) & 0x7fffffffu) == 0u;
    return wa_keep_nan(x, select(p, grad, grad_zero));
}

// ---- Laplace -----------------------------------------------------------------
// Phi(z), z = (x - mu) / sigma (MEGA's laplace: 0.5 (1 + erf((x - mu) /
// (sigma sqrt 2)))). z is formed as hi + lo: x - mu exactly (TwoSum) and the
// quotient's remainder exactly (Dekker's product), so that near x = 0, where
// the condition number vanishes but z is about -2.5, the rounding of z costs
// nothing; Phi(hi + lo) = Phi(hi) + phi(hi) lo. x is first clamped to
// mu +- 40 sigma (Phi is 0 or 1 and phi 0 to f32 precision beyond 14.6).
// Exact in both tiers: a rounded z costs up to 9 ULPs here.
fn wa_laplace_z(x: f32, mu: f32, sigma: f32) -> vec2<f32> {
    let reach = 40.0 * sigma;
    let xc = select(select(x, mu + reach, x > mu + reach), mu - reach, x < mu - reach);
    let d = wa_two_sum(xc, -mu);
    let hi = d.x / sigma;
    let p = wa_two_prod_exact(hi, sigma);
    return vec2<f32>(hi, (((d.x - p.x) - p.y) + d.y) / sigma);
}

// G(a) = Q(a) e^(a^2/2) for 1.8 <= a <= 3.8 as WA_LAPLACE_G0 + wa_laplace_mills_rest(a),
// the rest within about half an ULP of G in f32 (tools/fit_laplace.py):
// the default parameters put x = 0, where the condition number vanishes, at
// z = -2.5, where normal.wgsl's rational G errs by 2-5 ULPs (plenty for
// GELU). The constant stays apart so that Q = G e^(-a^2/2) rounds once.
const WA_LAPLACE_G0: f32 = 1.2877970934e-01;

fn wa_laplace_mills_rest(a: f32) -> f32 {
    let t = a - 2.8;
    return -4.2196486305e-09 + t * (-3.8359105587e-02 + t * (1.0687098838e-02 + t * (-2.8117424808e-03 + t * (7.0361222606e-04 + t * (-1.6834821145e-04 + t * (3.8530677557e-05 + t * (-8.5610099632e-06 + t * (2.0320044314e-06 + t * (-4.1114216742e-07)))))))));
}

fn wa_laplace_forward(x: f32, mu: f32, sigma: f32) -> f32 {
    let z = wa_laplace_z(x, mu, sigma);
    let n = wa_normal_with(z.x, true);
    let scale = wa_pow2f(max(n.k, -126.0));
    // phi(hi) lo, in units of 2^k.
    let slope = (WA_NORMAL_SQRT2PI_INV * n.e) * z.y;
    let center = n.center + slope * scale;
    // Q(hi -+ lo) 2^-k: from 1.8 to 3.8 as G0 (1 + r + w) + rest e -+ slope
    // (e^(-a^2/2) = 2^k (1 + r + w)) with one last rounding.
    let mid = n.a >= 1.8 && n.a <= 3.8;
    let rest = select(0.0, wa_laplace_mills_rest(n.a) * n.e, mid);
    let g0 = select(0.0, WA_LAPLACE_G0, mid);
    let q = select(n.q, 0.0, mid);
    let left_side = z.x < 0.0;
    let tail = wa_ldexp(g0 + (g0 * n.r + (((g0 * n.w + rest) + q) + select(-slope, slope, left_side))), i32(n.k));
    let y = select(select(1.0 - tail, tail, left_side), center, n.a < WA_NORMAL_CENTER);
    let far = select(1.0, 0.0, z.x < 0.0);
    return wa_keep_nan(x, select(y, far, wa_abs(z.x) > WA_NORMAL_END));
}

// The rest of 1/sqrt(2 pi) after its f32 value WA_NORMAL_SQRT2PI_INV.
const WA_LAPLACE_SQRT2PI_INV_LO: f32 = -1.1335170136e-08;

// phi(z) / sigma = C (1 + d) / sigma with C = 1/sqrt(2 pi) in two parts and
// 1 + d = e^(-hi^2/2) 2^-k (1 - hi lo) = (1 + r + w)(1 - hi lo), so that the
// numerator rounds once (near x = 0 the condition number vanishes).
// Scaled: where 2^k < 2^-64 the value is formed times 2^64 (it is subnormal
// from |z| = 13.2 on).
fn wa_laplace_derivative_scaled(x: f32, mu: f32, sigma: f32) -> vec2<f32> {
    let z = wa_laplace_z(x, mu, sigma);
    let n = wa_normal_with(z.x, true);
    let rho = n.r + n.w;
    let d = rho - (z.x * z.y) * n.e;
    let numerator = WA_NORMAL_SQRT2PI_INV + (WA_NORMAL_SQRT2PI_INV * d + WA_LAPLACE_SQRT2PI_INV_LO * (1.0 + d));
    let scaled = n.k < -64.0;
    let m = wa_ldexp(numerator / sigma, i32(n.k) + select(0, 64, scaled));
    let value = select(m, 0.0, wa_abs(z.x) > WA_NORMAL_END);
    return vec2<f32>(wa_keep_nan(x, value), select(1.0, WA_SCALE_DOWN, scaled));
}

// ---- Clipped GELU --------------------------------------------------------------
// clamp(gelu(x), min_val, max_val) (gelu_10: -10, 10), the exact GELU, as
// PyTorch's clip sees it: GELU's result rounded to f32. Where that is a
// signed zero (x <= -14.356069, or x = -2^-149), clamp keeps it (-0.0 with a
// zero bound, as torch 2.15 gives); where it is a negative subnormal (every
// other x < 0), it is below a zero bound, also on a device that flushes it,
// or x, to -0.0 (decided on x's bits).
fn wa_clipped_gelu_forward(x: f32, min_val: f32, max_val: f32) -> f32 {
    let y = wa_gelu_forward(x);
    let k = wa_key(y);
    let low = wa_key(min_val);
    let flushed_negative = k == 0 && wa_lt_zero(x) && x > -14.356069 && bitcast<u32>(x) != 0x80000001u;
    let below = k < low || (flushed_negative && low == 0);
    let clamped = select(select(y, max_val, k > wa_key(max_val)), min_val, below);
    return wa_keep_nan(x, clamped);
}

// The order key (wa_key) of gelu(x) rounded to f32 as PyTorch's clamp sees
// it, from the scaled value, so that a device that flushes subnormals still
// sees a subnormal gelu(x) as nonzero: below 2^-126 (|m| < 2^-62 for
// m 2^-64) it is 0 where |m| <= 2^-86 (the value rounds to a zero) and +-1
// otherwise (a subnormal: the same comparisons with normal or zero bounds).
fn wa_clipped_gelu_key(x: f32) -> i32 {
    let y = wa_gelu_forward_scaled(x);
    let tiny = select(0, select(1, -1, y.x < 0.0), wa_abs(y.x) > 1.2924697e-26);
    let subnormal = y.y != 1.0 && wa_abs(y.x) < 2.1684043e-19;
    return select(wa_key(y.x * y.y), tiny, subnormal);
}

// gelu'(x) where min_val < gelu(x) < max_val, 0 where clamped and at both
// bounds (PyTorch's clamp tests its f32 input and gives 0 at exactly min and
// max, measured on torch 2.15, as Hardtanh does); scaled as GELU's.
fn wa_clipped_gelu_derivative_scaled(x: f32, min_val: f32, max_val: f32) -> vec2<f32> {
    let k = wa_clipped_gelu_key(x);
    let inside = k > wa_key(min_val) && k < wa_key(max_val);
    let d = select(vec2<f32>(0.0, 1.0), wa_gelu_derivative_scaled(x), inside);
    return vec2<f32>(wa_keep_nan(x, d.x), d.y);
}

// ---- xIELU -------------------------------------------------------------------
// With the effective parameters: x > 0 ? alpha_p x^2 + beta x :
// alpha_n (expm1(min(x, eps)) - x) + beta x. The negative side subtracts
// terms of similar size (at x = -1 with the defaults, 0.29 - 0.5), so it is
// summed in double-f32: e^m - 1 as hi + lo (wa_expm1_pair, m = min(x, eps)
// clamped to -150, where e^m is 0 in f32), D = (e^m - 1) - x
// by TwoSum, alpha_n D and beta x by Dekker's product, one TwoSum and the
// low parts; a single rounding at the end. Below -2^40 the value is
// (beta - alpha_n) x - alpha_n to f32 precision and is formed so (no
// inf - inf at -inf; -alpha_n where beta = alpha_n).
fn wa_xielu_exp_arg(x: f32, eps: f32) -> f32 {
    let m = select(x, eps, x >= eps);
    return select(select(m, -150.0, m < -150.0), 0.0, !(m <= 0.0));
}

fn wa_xielu_forward(x: f32, alpha_p: f32, alpha_n: f32, beta: f32, eps: f32) -> f32 {
    let positive = x * (alpha_p * x + beta);
    let e = wa_expm1_pair(wa_xielu_exp_arg(x, eps));
    let xs = select(x, 0.0, !(x > -1.0995116e12 && x <= 0.0));
    let d = wa_two_sum(e.x, -xs);
    // Exact in both tiers: the sum cancels at the root (x = -2.4267 with the
    // defaults), where plain products measured 113 scaled ULPs.
    let p1 = wa_two_prod_exact(alpha_n, d.x);
    let p2 = wa_two_prod_exact(beta, xs);
    let s = wa_two_sum(p1.x, p2.x);
    let near = s.x + (s.y + ((p1.y + p2.y) + alpha_n * (d.y + e.y)));
    let c = wa_two_sum(beta, -alpha_n);
    let c_lo_x = select(c.y * x, 0.0, c.y == 0.0);
    let far = select(c.x * x + (c_lo_x - alpha_n), -alpha_n, c.x == 0.0);
    let negative = select(near, far, x <= -1.0995116e12);
    return wa_keep_nan(x, select(negative, positive, wa_gt_zero(x)));
}

// 2 alpha_p x + beta for x > 0; alpha_n W + beta otherwise, with
// W = d/dx expm1(min(x, eps)) - 1: e^x - 1 below eps (as hi + lo), -1 above,
// and at x = eps e^eps / 2 - 1 (PyTorch's minimum gives each of two equal
// operands half the gradient). One rounding at the end, as above.
fn wa_xielu_derivative(x: f32, alpha_p: f32, alpha_n: f32, beta: f32, eps: f32) -> f32 {
    let positive = (2.0 * alpha_p) * x + beta;
    let e = wa_expm1_pair(wa_xielu_exp_arg(x, eps));
    let half = wa_two_sum(0.5 * e.x, -0.5);
    let tie = vec2<f32>(half.x, half.y + 0.5 * e.y);
    let w = select(select(vec2<f32>(-1.0, 0.0), tie, x == eps), e, x < eps);
    let p = wa_two_prod(alpha_n, w.x);
    let s = wa_two_sum(p.x, beta);
    let negative = s.x + (s.y + (p.y + alpha_n * w.y));
    return wa_keep_nan(x, select(negative, positive, wa_gt_zero(x)));
}

// grad * f'(x) (src/wgsl.rs uses an op's wa_<name>_backward): f'(x)
// overflows for x > 2^127 / alpha_p while grad f'(x) may not, so there it
// is (grad x)(2 alpha_p) + grad beta; grad = +-0 gives a zero with the
// sign of grad f'(x) (also at +inf, not 0 * inf).
fn wa_xielu_backward(grad: f32, x: f32, alpha_p: f32, alpha_n: f32, beta: f32, eps: f32) -> f32 {
    let d = wa_xielu_derivative(x, alpha_p, alpha_n, beta, eps);
    // Where 2 alpha_p x overflows, 2 alpha_p > 1: grad x first.
    let far = (grad * x) * (2.0 * alpha_p) + grad * beta;
    let p = select(grad * d, far, wa_is_inf(d));
    let grad_zero = (bitcast<u32>(grad) & 0x7fffffffu) == 0u;
    return wa_keep_nan(x, select(p, grad * wa_copysign(1.0, d), grad_zero && !wa_is_nan(d)));
}

// ---- Identity ----------------------------------------------------------------
// x (nn.Identity, transformers' linear); derivative 1, NaN for NaN.
fn wa_identity_forward(x: f32) -> f32 {
    return x;
}

fn wa_identity_derivative(x: f32) -> f32 {
    return wa_keep_nan(x, 1.0);
}

// ---- sqrt(softplus) ------------------------------------------------------------
// sqrt(softplus(x)) with softplus's defaults (sqrt x above 20; DeepSeek V4's
// router scores, transformers' sqrtsoftplus). Below -30 softplus(x) = e^x
// to f32 precision and the root is e^(x/2), which stays normal down to -174
// where e^x itself is long subnormal: it is taken so. WGSL's sqrt is
// measured against the reference on every backend (tests), not trusted.
fn wa_sqrt_softplus_forward(x: f32) -> f32 {
    let far_left = x < -30.0;
    let root = sqrt(wa_softplus_forward(select(x, 0.0, far_left), 1.0, 20.0));
    return wa_keep_nan(x, select(root, wa_exp(0.5 * x), far_left));
}

// sigma(x) / (2 sqrt(softplus(x))), 1 / (2 sqrt x) above 20 (softplus's
// identity branch); below -30, e^(x/2) / 2, scaled: from -128 on as
// (e^(x/2) 2^64) / 2 times 2^-64.
fn wa_sqrt_softplus_derivative_scaled(x: f32) -> vec2<f32> {
    let far_left = x < -30.0;
    let xc = select(x, 0.0, far_left);
    let near = wa_unscaled(wa_sigmoid_scaled(xc)) / (2.0 * sqrt(wa_softplus_forward(xc, 1.0, 20.0)));
    let right = 0.5 / sqrt(x);
    let tail = wa_exp_scaled(0.5 * x);
    let y = select(select(near, right, x > 20.0), 0.5 * tail.x, far_left);
    return vec2<f32>(wa_keep_nan(x, y), select(1.0, tail.y, far_left));
}
