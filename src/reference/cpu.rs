//! The CPU reference: the yardstick the GPU kernels are measured against.
//!
//! Every op is computed independently of the shaders, in f64 with std/`libm`
//! math and PyTorch's kink rules, and rounded once to the element type:
//! every function takes `f32`, `half::f16` or `half::bf16` slices
//! ([`crate::Element`]; 16-bit inputs widen exactly). Per-op functions
//! mirror the WGSL names without their `wa_` prefix (`wa_sigmoid_forward` is
//! `cpu::sigmoid_forward`, ...).
//! Where a textbook f64 formula would itself lose the digits that f32 needs
//! (`1 + tanh` in a tail, `x - tanh x` near 0), a stable f64 form is used.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use crate::{Activation, Element, Error, Gated, RowOp, SELU_ALPHA, SELU_SCALE};

/// `f(x)` for each element, computed in f64 and rounded once to the
/// element type (`f32`, `half::f16` or `half::bf16`; to nearest, ties to
/// even).
pub fn forward<T: Element>(act: Activation, x: &[T]) -> Result<Vec<T>, Error> {
    act.validate()?;
    Ok(x.iter()
        .map(|&v| T::round_from_f64(forward_f64(act, v.to_f64())))
        .collect())
}

/// `f'(x)` for each element (PyTorch's value at kinks), rounded once to the
/// element type.
pub fn derivative<T: Element>(act: Activation, x: &[T]) -> Result<Vec<T>, Error> {
    act.validate()?;
    Ok(x.iter()
        .map(|&v| T::round_from_f64(derivative_f64(act, v.to_f64())))
        .collect())
}

/// `grad_output * f'(x)` for each element, the product taken in f64 and
/// rounded once to the element type.
pub fn backward<T: Element>(act: Activation, x: &[T], grad_output: &[T]) -> Result<Vec<T>, Error> {
    act.validate()?;
    if grad_output.len() != x.len() {
        return Err(Error::LengthMismatch {
            what: "grad_output",
            expected: x.len(),
            actual: grad_output.len(),
        });
    }
    Ok(x.iter()
        .zip(grad_output)
        .map(|(&v, &g)| T::round_from_f64(g.to_f64() * derivative_f64(act, v.to_f64())))
        .collect())
}

/// A derivative that underflows to zero even in f64 far out in the negative
/// tail (silu', gelu', gelu_tanh', mish') is negative there: keep that sign.
fn negative_tail_zero(value: f64, x: f64) -> f64 {
    if value == 0.0 && x < 0.0 { -0.0 } else { value }
}

/// Stands in for +-inf: the limits at +-inf are the values at +-1e300, far
/// beyond f32's range, where every op here has settled (and where the f64
/// formulas do not meet inf * 0).
fn at_limit(x: f64) -> f64 {
    if x.is_infinite() {
        1e300f64.copysign(x)
    } else {
        x
    }
}

/// `f(x)` in f64, unrounded. Parameters are taken at their f32 values. NaN
/// for NaN; at +-inf the mathematical limit.
pub fn forward_f64(act: Activation, x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let x = at_limit(x);
    match act {
        Activation::Sigmoid => sigmoid_forward(x),
        Activation::Tanh => tanh_forward(x),
        Activation::Relu => relu_forward(x),
        Activation::LeakyRelu { negative_slope } => {
            leaky_relu_forward(x, f64::from(negative_slope))
        }
        Activation::Elu { alpha } => elu_forward(x, f64::from(alpha)),
        Activation::Selu => selu_forward(x),
        Activation::Celu { alpha } => celu_forward(x, f64::from(alpha)),
        Activation::Gelu => gelu_forward(x),
        Activation::GeluTanh => gelu_tanh_forward(x),
        Activation::Silu => silu_forward(x),
        Activation::Mish => mish_forward(x),
        Activation::Softplus { beta, threshold } => softplus_forward(x, beta, threshold),
        Activation::Softsign => softsign_forward(x),
        Activation::Hardtanh { min_val, max_val } => {
            hardtanh_forward(x, f64::from(min_val), f64::from(max_val))
        }
        Activation::Relu6 => relu6_forward(x),
        Activation::Hardsigmoid => hardsigmoid_forward(x),
        Activation::Hardswish => hardswish_forward(x),
        Activation::LogSigmoid => log_sigmoid_forward(x),
        Activation::Tanhshrink => tanhshrink_forward(x),
        Activation::Softshrink { lambda } => softshrink_forward(x, f64::from(lambda)),
        Activation::Hardshrink { lambda } => hardshrink_forward(x, f64::from(lambda)),
        Activation::Threshold { threshold, value } => {
            threshold_forward(x, f64::from(threshold), f64::from(value))
        }
        Activation::Rrelu { lower, upper } => leaky_relu_forward(x, rrelu_slope(lower, upper)),
        Activation::QuickGelu { alpha } => quick_gelu_forward(x, f64::from(alpha)),
        Activation::ReluSquared => relu_squared_forward(x),
        Activation::Laplace { mu, sigma } => laplace_forward(x, f64::from(mu), f64::from(sigma)),
        Activation::ClippedGelu { min_val, max_val } => {
            clipped_gelu_forward(x, f64::from(min_val), f64::from(max_val))
        }
        Activation::Xielu {
            alpha_p,
            alpha_n,
            beta,
            eps,
        } => xielu_forward(x, [alpha_p, alpha_n, beta, eps].map(f64::from)),
        Activation::Identity => identity_forward(x),
        Activation::SqrtSoftplus => sqrt_softplus_forward(x),
    }
}

/// `f'(x)` in f64, unrounded, with PyTorch's kink rules; NaN for NaN; at
/// +-inf the mathematical limit.
pub fn derivative_f64(act: Activation, x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    let x = at_limit(x);
    match act {
        Activation::Sigmoid => sigmoid_derivative(x),
        Activation::Tanh => tanh_derivative(x),
        Activation::Relu => relu_derivative(x),
        Activation::LeakyRelu { negative_slope } => {
            leaky_relu_derivative(x, f64::from(negative_slope))
        }
        Activation::Elu { alpha } => elu_derivative(x, f64::from(alpha)),
        Activation::Selu => selu_derivative(x),
        Activation::Celu { alpha } => celu_derivative(x, f64::from(alpha)),
        Activation::Gelu => gelu_derivative(x),
        Activation::GeluTanh => gelu_tanh_derivative(x),
        Activation::Silu => silu_derivative(x),
        Activation::Mish => mish_derivative(x),
        Activation::Softplus { beta, threshold } => softplus_derivative(x, beta, threshold),
        Activation::Softsign => softsign_derivative(x),
        Activation::Hardtanh { min_val, max_val } => {
            hardtanh_derivative(x, f64::from(min_val), f64::from(max_val))
        }
        Activation::Relu6 => relu6_derivative(x),
        Activation::Hardsigmoid => hardsigmoid_derivative(x),
        Activation::Hardswish => hardswish_derivative(x),
        Activation::LogSigmoid => log_sigmoid_derivative(x),
        Activation::Tanhshrink => tanhshrink_derivative(x),
        Activation::Softshrink { lambda } => softshrink_derivative(x, f64::from(lambda)),
        Activation::Hardshrink { lambda } => hardshrink_derivative(x, f64::from(lambda)),
        Activation::Threshold { threshold, value } => {
            threshold_derivative(x, f64::from(threshold), f64::from(value))
        }
        Activation::Rrelu { lower, upper } => leaky_relu_derivative(x, rrelu_slope(lower, upper)),
        Activation::QuickGelu { alpha } => quick_gelu_derivative(x, f64::from(alpha)),
        Activation::ReluSquared => relu_squared_derivative(x),
        Activation::Laplace { mu, sigma } => laplace_derivative(x, f64::from(mu), f64::from(sigma)),
        Activation::ClippedGelu { min_val, max_val } => {
            clipped_gelu_derivative(x, f64::from(min_val), f64::from(max_val))
        }
        Activation::Xielu {
            alpha_p,
            alpha_n,
            beta,
            eps,
        } => xielu_derivative(x, [alpha_p, alpha_n, beta, eps].map(f64::from)),
        Activation::Identity => identity_derivative(x),
        Activation::SqrtSoftplus => sqrt_softplus_derivative(x),
    }
}

/// `1 / (1 + e^-x)`.
pub fn sigmoid_forward(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// `sigma(x) (1 - sigma(x))`, as `sigma(x) sigma(-x)` to keep both tails exact.
pub fn sigmoid_derivative(x: f64) -> f64 {
    sigmoid_forward(x) * sigmoid_forward(-x)
}

/// `tanh x`.
pub fn tanh_forward(x: f64) -> f64 {
    x.tanh()
}

/// `1 - tanh^2 x`, as `1 / cosh^2 x` (no cancellation in the tails).
pub fn tanh_derivative(x: f64) -> f64 {
    let c = x.cosh();
    1.0 / (c * c)
}

/// `x < 0 ? 0 : x` (keeps -0.0).
pub fn relu_forward(x: f64) -> f64 {
    if x < 0.0 { 0.0 } else { x }
}

/// `x > 0 ? 1 : 0`.
pub fn relu_derivative(x: f64) -> f64 {
    if x > 0.0 { 1.0 } else { 0.0 }
}

/// `x > 0 ? x : negative_slope x`.
pub fn leaky_relu_forward(x: f64, negative_slope: f64) -> f64 {
    if x > 0.0 { x } else { negative_slope * x }
}

/// `x > 0 ? 1 : negative_slope`.
pub fn leaky_relu_derivative(x: f64, negative_slope: f64) -> f64 {
    if x > 0.0 { 1.0 } else { negative_slope }
}

/// `x > 0 ? x : alpha (e^x - 1)`.
pub fn elu_forward(x: f64, alpha: f64) -> f64 {
    if x > 0.0 { x } else { alpha * x.exp_m1() }
}

/// `x > 0 ? 1 : alpha e^x`.
pub fn elu_derivative(x: f64, alpha: f64) -> f64 {
    if x > 0.0 { 1.0 } else { alpha * x.exp() }
}

/// `scale elu(x, alpha)` with SELU's constants.
pub fn selu_forward(x: f64) -> f64 {
    SELU_SCALE * elu_forward(x, SELU_ALPHA)
}

/// `scale elu'(x, alpha)`.
pub fn selu_derivative(x: f64) -> f64 {
    SELU_SCALE * elu_derivative(x, SELU_ALPHA)
}

/// `x > 0 ? x : alpha (e^(x/alpha) - 1)`.
pub fn celu_forward(x: f64, alpha: f64) -> f64 {
    if x > 0.0 {
        x
    } else {
        alpha * (x / alpha).exp_m1()
    }
}

/// `x > 0 ? 1 : e^(x/alpha)`.
pub fn celu_derivative(x: f64, alpha: f64) -> f64 {
    if x > 0.0 { 1.0 } else { (x / alpha).exp() }
}

/// The standard normal CDF `Phi(x) = erfc(-x / sqrt 2) / 2` (accurate in the left tail).
fn normal_cdf(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// The standard normal density `e^(-x^2/2) / sqrt(2 pi)`.
fn normal_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

/// `x Phi(x)`.
pub fn gelu_forward(x: f64) -> f64 {
    x * normal_cdf(x)
}

/// `Phi(x) + x phi(x)`.
pub fn gelu_derivative(x: f64) -> f64 {
    negative_tail_zero(normal_cdf(x) + x * normal_pdf(x), x)
}

/// `sqrt(2/pi)`.
const GELU_TANH_BETA: f64 = 0.797_884_560_802_865_4;
/// The cubic coefficient of the tanh approximation.
const GELU_TANH_KAPPA: f64 = 0.044715;

/// `0.5 x (1 + tanh(u))`, `u = sqrt(2/pi)(x + 0.044715 x^3)`, as `x sigma(2u)`
/// (the same number; `1 + tanh u` would cancel for negative x even in f64).
pub fn gelu_tanh_forward(x: f64) -> f64 {
    let u = GELU_TANH_BETA * (x + GELU_TANH_KAPPA * x * x * x);
    x * sigmoid_forward(2.0 * u)
}

/// `0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) u'`, written with
/// `0.5 (1 + tanh u) = sigma(2u)` and `1 - tanh^2 u = 4 sigma(2u) sigma(-2u)`.
pub fn gelu_tanh_derivative(x: f64) -> f64 {
    let u = GELU_TANH_BETA * (x + GELU_TANH_KAPPA * x * x * x);
    let du = GELU_TANH_BETA * (1.0 + 3.0 * GELU_TANH_KAPPA * x * x);
    let ds = sigmoid_derivative(2.0 * u);
    if ds == 0.0 {
        // Far tails: the second term vanishes (no inf * 0).
        return negative_tail_zero(sigmoid_forward(2.0 * u), x);
    }
    negative_tail_zero(sigmoid_forward(2.0 * u) + 2.0 * x * ds * du, x)
}

/// `x sigma(x)`.
pub fn silu_forward(x: f64) -> f64 {
    x * sigmoid_forward(x)
}

/// `sigma(x) (1 + x (1 - sigma(x)))`, with `1 - sigma(x) = sigma(-x)`.
pub fn silu_derivative(x: f64) -> f64 {
    negative_tail_zero(sigmoid_forward(x) * (1.0 + x * sigmoid_forward(-x)), x)
}

/// `log(1 + e^x)`, as `max(x, 0) + log1p(e^-|x|)`.
fn softplus_f64(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `x tanh(softplus(x))`.
pub fn mish_forward(x: f64) -> f64 {
    x * softplus_f64(x).tanh()
}

/// `t + x sigma(x) (1 - t^2)`, `t = tanh(softplus(x))`, `1 - t^2 = 1 / cosh^2`.
pub fn mish_derivative(x: f64) -> f64 {
    let sp = softplus_f64(x);
    let c = sp.cosh();
    negative_tail_zero(sp.tanh() + x * sigmoid_forward(x) / (c * c), x)
}

/// `beta x > threshold ? x : log(1 + e^(beta x)) / beta`. The switch tests the
/// product rounded to f32, as PyTorch's f32 kernel does; the value is exact.
pub fn softplus_forward(x: f64, beta: f32, threshold: f32) -> f64 {
    if (x as f32) * beta > threshold {
        return x;
    }
    softplus_f64(x * f64::from(beta)) / f64::from(beta)
}

/// `beta x > threshold ? 1 : sigma(beta x)`.
pub fn softplus_derivative(x: f64, beta: f32, threshold: f32) -> f64 {
    if (x as f32) * beta > threshold {
        return 1.0;
    }
    sigmoid_forward(x * f64::from(beta))
}

/// `x / (1 + |x|)`.
pub fn softsign_forward(x: f64) -> f64 {
    x / (1.0 + x.abs())
}

/// `1 / (1 + |x|)^2`.
pub fn softsign_derivative(x: f64) -> f64 {
    let d = 1.0 + x.abs();
    1.0 / (d * d)
}

/// `clamp(x, min_val, max_val)`.
pub fn hardtanh_forward(x: f64, min_val: f64, max_val: f64) -> f64 {
    if x < min_val {
        min_val
    } else if x > max_val {
        max_val
    } else {
        x
    }
}

/// `min_val < x < max_val ? 1 : 0`.
pub fn hardtanh_derivative(x: f64, min_val: f64, max_val: f64) -> f64 {
    if x > min_val && x < max_val { 1.0 } else { 0.0 }
}

/// `clamp(x, 0, 6)`.
pub fn relu6_forward(x: f64) -> f64 {
    hardtanh_forward(x, 0.0, 6.0)
}

/// `0 < x < 6 ? 1 : 0`.
pub fn relu6_derivative(x: f64) -> f64 {
    hardtanh_derivative(x, 0.0, 6.0)
}

/// `clamp(x/6 + 1/2, 0, 1)`.
pub fn hardsigmoid_forward(x: f64) -> f64 {
    (x / 6.0 + 0.5).clamp(0.0, 1.0)
}

/// `-3 < x < 3 ? 1/6 : 0`.
pub fn hardsigmoid_derivative(x: f64) -> f64 {
    if x > -3.0 && x < 3.0 { 1.0 / 6.0 } else { 0.0 }
}

/// `x clamp(x + 3, 0, 6) / 6` (`-0.0` for `x <= -3`).
pub fn hardswish_forward(x: f64) -> f64 {
    x * (x + 3.0).clamp(0.0, 6.0) / 6.0
}

/// `x <= -3 ? 0 : x >= 3 ? 1 : x/3 + 1/2`.
pub fn hardswish_derivative(x: f64) -> f64 {
    if x <= -3.0 {
        0.0
    } else if x >= 3.0 {
        1.0
    } else {
        x / 3.0 + 0.5
    }
}

/// `min(x, 0) - log1p(e^-|x|)`, written `-(log1p(e^-|x|) - min(x, 0))` so
/// that a result that underflows keeps its (negative) sign.
pub fn log_sigmoid_forward(x: f64) -> f64 {
    -((-x.abs()).exp().ln_1p() - x.min(0.0))
}

/// `sigma(-x)`.
pub fn log_sigmoid_derivative(x: f64) -> f64 {
    sigmoid_forward(-x)
}

/// `x - tanh x`; its Taylor series below 0.1, where the difference would
/// cancel even in f64; `+0` at `+-0` as in PyTorch.
pub fn tanhshrink_forward(x: f64) -> f64 {
    if x == 0.0 {
        return 0.0;
    }
    if x.abs() < 0.1 {
        // x - tanh x = x^3/3 - 2x^5/15 + 17x^7/315 - 62x^9/2835 + 1382x^11/155925 - ...
        let z = x * x;
        let series = 1.0 / 3.0
            + z * (-2.0 / 15.0
                + z * (17.0 / 315.0
                    + z * (-62.0 / 2835.0 + z * (1382.0 / 155925.0 + z * (-21844.0 / 6081075.0)))));
        return x * z * series;
    }
    x - x.tanh()
}

/// `tanh^2 x`.
pub fn tanhshrink_derivative(x: f64) -> f64 {
    let t = x.tanh();
    t * t
}

/// `x > lambda ? x - lambda : x < -lambda ? x + lambda : +0` (PyTorch returns
/// a literal 0 in the dead zone: `softshrink(-0.0)` is `+0.0`); NaN for NaN.
pub fn softshrink_forward(x: f64, lambda: f64) -> f64 {
    if x > lambda {
        x - lambda
    } else if x < -lambda {
        x + lambda
    } else if x.is_nan() {
        x
    } else {
        0.0
    }
}

/// `|x| > lambda ? 1 : 0`.
pub fn softshrink_derivative(x: f64, lambda: f64) -> f64 {
    if x.abs() > lambda { 1.0 } else { 0.0 }
}

/// `|x| > lambda ? x : +0`.
pub fn hardshrink_forward(x: f64, lambda: f64) -> f64 {
    if x.abs() > lambda { x } else { 0.0 }
}

/// `|x| > lambda ? 1 : 0`.
pub fn hardshrink_derivative(x: f64, lambda: f64) -> f64 {
    softshrink_derivative(x, lambda)
}

/// `x > threshold ? x : value`.
pub fn threshold_forward(x: f64, threshold: f64, value: f64) -> f64 {
    if x > threshold { x } else { value }
}

/// `x > threshold ? 1 : 0`.
pub fn threshold_derivative(x: f64, threshold: f64, _value: f64) -> f64 {
    if x > threshold { 1.0 } else { 0.0 }
}

/// RReLU's evaluation slope `(lower + upper) / 2`, taken in f64 and rounded to
/// f32 as PyTorch passes it to its f32 kernel.
pub fn rrelu_slope(lower: f32, upper: f32) -> f64 {
    f64::from(((f64::from(lower) + f64::from(upper)) / 2.0) as f32)
}

/// `x sigma(alpha x)`.
pub fn quick_gelu_forward(x: f64, alpha: f64) -> f64 {
    x * sigmoid_forward(alpha * x)
}

/// `sigma(v) + v sigma(v) (1 - sigma(v))` with `v = alpha x`: SiLU's
/// derivative at `alpha x`.
pub fn quick_gelu_derivative(x: f64, alpha: f64) -> f64 {
    silu_derivative(alpha * x)
}

/// `relu(x)^2`: `+0` for `x <= 0` (`(-0)^2` is `+0`).
pub fn relu_squared_forward(x: f64) -> f64 {
    let r = relu_forward(x);
    r * r
}

/// `2 relu(x)`, `+0` for `x <= 0` (PyTorch's ReLU backward writes a literal 0).
pub fn relu_squared_derivative(x: f64) -> f64 {
    if x > 0.0 { 2.0 * x } else { 0.0 }
}

/// `Phi((x - mu) / sigma)`.
pub fn laplace_forward(x: f64, mu: f64, sigma: f64) -> f64 {
    normal_cdf((x - mu) / sigma)
}

/// `phi((x - mu) / sigma) / sigma`.
pub fn laplace_derivative(x: f64, mu: f64, sigma: f64) -> f64 {
    normal_pdf((x - mu) / sigma) / sigma
}

/// `clamp(gelu(x), min_val, max_val)`, clamping GELU's value as PyTorch's
/// `clip` sees it, rounded to f32: where that rounding gives a signed zero,
/// the clamp keeps it (`-0.0` for `x <= -14.356069` with a zero bound); a
/// negative subnormal is below a zero bound.
pub fn clipped_gelu_forward(x: f64, min_val: f64, max_val: f64) -> f64 {
    let y = gelu_forward(x);
    let rounded = y as f32;
    let y = if rounded == 0.0 {
        f64::from(rounded)
    } else {
        y
    };
    hardtanh_forward(y, min_val, max_val)
}

/// `gelu'(x)` where `min_val < gelu(x) < max_val`, else 0: PyTorch's
/// `clamp` backward tests its f32 input, GELU's result rounded to f32, and
/// gives 0 at exactly either bound (torch 2.15, as `hardtanh`).
pub fn clipped_gelu_derivative(x: f64, min_val: f64, max_val: f64) -> f64 {
    let y = f64::from(gelu_forward(x) as f32);
    if y > min_val && y < max_val {
        gelu_derivative(x)
    } else {
        0.0
    }
}

/// xIELU with effective parameters `[alpha_p, alpha_n, beta, eps]`:
/// `alpha_p x^2 + beta x` for `x > 0`; `alpha_n (expm1(min(x, eps)) - x) +
/// beta x` otherwise, written `alpha_n expm1(x) + (beta - alpha_n) x` below
/// `eps` (the same number; no `inf - inf` at the limit).
pub fn xielu_forward(x: f64, [alpha_p, alpha_n, beta, eps]: [f64; 4]) -> f64 {
    if x > 0.0 {
        alpha_p * x * x + beta * x
    } else if x < eps {
        alpha_n * x.exp_m1() + (beta - alpha_n) * x
    } else {
        alpha_n * (eps.exp_m1() - x) + beta * x
    }
}

/// `2 alpha_p x + beta` for `x > 0`, `alpha_n expm1(x) + beta` below `eps`,
/// `beta - alpha_n` on `(eps, 0]`, and at `x = eps` the mean of both sides'
/// `expm1` term (PyTorch's `minimum` gives each of two equal operands half
/// the gradient): `alpha_n (e^eps / 2 - 1) + beta`.
pub fn xielu_derivative(x: f64, [alpha_p, alpha_n, beta, eps]: [f64; 4]) -> f64 {
    // (beta - alpha_n) + alpha_n e^x rather than alpha_n expm1(x) + beta:
    // the same number, without rounding e^x against 1 (beta - alpha_n is
    // exact in f64).
    if x > 0.0 {
        2.0 * alpha_p * x + beta
    } else if x < eps {
        (beta - alpha_n) + alpha_n * x.exp()
    } else if x == eps {
        (beta - alpha_n) + 0.5 * alpha_n * eps.exp()
    } else {
        beta - alpha_n
    }
}

/// `x`.
pub fn identity_forward(x: f64) -> f64 {
    x
}

/// `1`.
pub fn identity_derivative(_x: f64) -> f64 {
    1.0
}

/// `sqrt(softplus(x))`, softplus with beta 1 and threshold 20.
pub fn sqrt_softplus_forward(x: f64) -> f64 {
    softplus_forward(x, 1.0, 20.0).sqrt()
}

/// `sigma(x) / (2 sqrt(softplus(x)))`; `1 / (2 sqrt x)` where softplus is
/// `x` (above 20); `e^(x/2) / 2` below -40 (the same number to 1e-17
/// relative, where `e^x` underflows in f64 at last).
pub fn sqrt_softplus_derivative(x: f64) -> f64 {
    if (x as f32) > 20.0 {
        0.5 / x.sqrt()
    } else if x < -40.0 {
        0.5 * (0.5 * x).exp()
    } else {
        sigmoid_forward(x) / (2.0 * softplus_f64(x).sqrt())
    }
}

// ---- Gated activations ------------------------------------------------------

/// `value * act(gate)` in f64 ([`Gated::gate`]'s f64 reference), unrounded.
pub fn gated_forward_f64(kind: Gated, value: f64, gate: f64) -> f64 {
    value * forward_f64(kind.gate(), gate)
}

/// `(d_value, d_gate) = (dy act(gate), dy value act'(gate))` in f64, unrounded.
pub fn gated_backward_f64(kind: Gated, value: f64, gate: f64, grad_output: f64) -> (f64, f64) {
    let act = kind.gate();
    (
        grad_output * forward_f64(act, gate),
        grad_output * value * derivative_f64(act, gate),
    )
}

/// `value * act(gate)` element-wise, each rounded once to f32.
pub fn gated_forward<T: Element>(kind: Gated, value: &[T], gate: &[T]) -> Result<Vec<T>, Error> {
    Error::check_len("gate", value.len(), gate.len())?;
    Ok(value
        .iter()
        .zip(gate)
        .map(|(&a, &b)| T::round_from_f64(gated_forward_f64(kind, a.to_f64(), b.to_f64())))
        .collect())
}

/// `(d_value, d_gate)` element-wise, each rounded once to f32.
pub fn gated_backward<T: Element>(
    kind: Gated,
    value: &[T],
    gate: &[T],
    grad_output: &[T],
) -> Result<(Vec<T>, Vec<T>), Error> {
    Error::check_len("gate", value.len(), gate.len())?;
    Error::check_len("grad_output", value.len(), grad_output.len())?;
    Ok(value
        .iter()
        .zip(gate)
        .zip(grad_output)
        .map(|((&a, &b), &g)| {
            let (da, db) = gated_backward_f64(kind, a.to_f64(), b.to_f64(), g.to_f64());
            (T::round_from_f64(da), T::round_from_f64(db))
        })
        .unzip())
}

/// Half of a packed row after the checks of every path.
fn packed_half(len: usize, row_len: usize) -> Result<usize, Error> {
    crate::catalogue::gated::packed_half(len, row_len).map(|half| half as usize)
}

/// `x` is `[rows, row_len]`, rows `[value | gate]`: `[rows, row_len / 2]`.
pub fn gated_forward_packed<T: Element>(
    kind: Gated,
    x: &[T],
    row_len: usize,
) -> Result<Vec<T>, Error> {
    let half = packed_half(x.len(), row_len)?;
    Ok(x.chunks(row_len.max(1))
        .flat_map(|row| {
            let (a, b) = row.split_at(half);
            a.iter()
                .zip(b)
                .map(|(&a, &b)| T::round_from_f64(gated_forward_f64(kind, a.to_f64(), b.to_f64())))
        })
        .collect())
}

/// The gradient `[rows, row_len]` (rows `[d_value | d_gate]`) for
/// `grad_output` `[rows, row_len / 2]`.
pub fn gated_backward_packed<T: Element>(
    kind: Gated,
    x: &[T],
    row_len: usize,
    grad_output: &[T],
) -> Result<Vec<T>, Error> {
    let half = packed_half(x.len(), row_len)?;
    Error::check_len("grad_output", x.len() / 2, grad_output.len())?;
    let mut dx = vec![T::default(); x.len()];
    for (r, row) in x.chunks(row_len.max(1)).enumerate() {
        for j in 0..half {
            let g = grad_output[r * half + j].to_f64();
            let (da, db) = gated_backward_f64(kind, row[j].to_f64(), row[half + j].to_f64(), g);
            dx[r * row_len + j] = T::round_from_f64(da);
            dx[r * row_len + half + j] = T::round_from_f64(db);
        }
    }
    Ok(dx)
}

// ---- Row-wise activations ---------------------------------------------------

/// `op` over one row in f64, unrounded: max-subtracted; a row holding NaN or
/// +inf (after softmin's negation), or of -inf only, is all NaN (PyTorch);
/// -inf entries of other rows give 0 (log-softmax: -inf).
pub fn row_forward_f64(op: RowOp, row: &[f32]) -> Vec<f64> {
    let v: Vec<f64> = row
        .iter()
        .map(|&x| {
            let x = f64::from(x);
            if op.negates() { -x } else { x }
        })
        .collect();
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if v.iter().any(|x| x.is_nan() || *x == f64::INFINITY) || max == f64::NEG_INFINITY {
        return vec![f64::NAN; v.len()];
    }
    // sum = 1 + rest, the 1 from one maximal element, so that log(sum) is
    // log1p(rest): ln(1 + rest) would lose rest's digits where rest is below
    // f64's epsilon, as for a dominant element of log-softmax.
    let first_max = v.iter().position(|x| *x == max).expect("a maximum");
    let rest: f64 = v
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != first_max)
        .map(|(_, x)| (x - max).exp())
        .sum();
    let sum = 1.0 + rest;
    let log_sum = rest.ln_1p();
    // With another finite entry, log_sum is positive even where `rest`
    // underflows in f64: a maximal entry's log-softmax, -log(1 + rest), is
    // then negative below every float, -0.0.
    let others = v.iter().filter(|x| x.is_finite()).count() >= 2;
    v.iter()
        .map(|x| {
            if op.is_log() {
                let y = (x - max) - log_sum;
                if y == 0.0 && others { -0.0 } else { y }
            } else {
                (x - max).exp() / sum
            }
        })
        .collect()
}

/// The backward over one row in f64 from the forward's output `y` (log-softmax:
/// its output) and `dy`, unrounded.
pub fn row_backward_f64(op: RowOp, y: &[f32], dy: &[f32]) -> Vec<f64> {
    let y: Vec<f64> = y.iter().map(|&v| f64::from(v)).collect();
    let dy: Vec<f64> = dy.iter().map(|&v| f64::from(v)).collect();
    if op.is_log() {
        let s: f64 = dy.iter().sum();
        y.iter().zip(&dy).map(|(ly, g)| g - ly.exp() * s).collect()
    } else {
        let s: f64 = y.iter().zip(&dy).map(|(a, g)| a * g).sum();
        let sign = if op.negates() { -1.0 } else { 1.0 };
        y.iter().zip(&dy).map(|(a, g)| sign * a * (g - s)).collect()
    }
}

fn rows(len: usize, cols: usize) -> Result<(), Error> {
    crate::catalogue::rowwise::rows_of(len, cols).map(|_| ())
}

/// The values as f32, exactly (16-bit values widen without rounding).
fn widened<T: Element>(v: &[T]) -> Vec<f32> {
    v.iter().map(|e| e.to_f64() as f32).collect()
}

fn row_forward<T: Element>(op: RowOp, x: &[T], cols: usize) -> Result<Vec<T>, Error> {
    rows(x.len(), cols)?;
    Ok(x.chunks(cols)
        .flat_map(|row| {
            row_forward_f64(op, &widened(row))
                .into_iter()
                .map(T::round_from_f64)
        })
        .collect())
}

fn row_backward<T: Element>(op: RowOp, y: &[T], dy: &[T], cols: usize) -> Result<Vec<T>, Error> {
    rows(y.len(), cols)?;
    Error::check_len("grad_output", y.len(), dy.len())?;
    Ok(y.chunks(cols)
        .zip(dy.chunks(cols))
        .flat_map(|(y, dy)| {
            row_backward_f64(op, &widened(y), &widened(dy))
                .into_iter()
                .map(T::round_from_f64)
        })
        .collect())
}

/// Softmax over the last dimension of `[rows, cols]`, rounded once.
pub fn softmax<T: Element>(x: &[T], cols: usize) -> Result<Vec<T>, Error> {
    row_forward(RowOp::Softmax, x, cols)
}

/// Log-softmax over the last dimension of `[rows, cols]`, rounded once.
pub fn log_softmax<T: Element>(x: &[T], cols: usize) -> Result<Vec<T>, Error> {
    row_forward(RowOp::LogSoftmax, x, cols)
}

/// Softmin over the last dimension of `[rows, cols]`, rounded once.
pub fn softmin<T: Element>(x: &[T], cols: usize) -> Result<Vec<T>, Error> {
    row_forward(RowOp::Softmin, x, cols)
}

/// `y (dy - sum(dy y))` per row, rounded once.
pub fn softmax_backward<T: Element>(
    y: &[T],
    grad_output: &[T],
    cols: usize,
) -> Result<Vec<T>, Error> {
    row_backward(RowOp::Softmax, y, grad_output, cols)
}

/// `dy - e^y sum(dy)` per row (`log_y` the log-softmax), rounded once.
pub fn log_softmax_backward<T: Element>(
    log_y: &[T],
    grad_output: &[T],
    cols: usize,
) -> Result<Vec<T>, Error> {
    row_backward(RowOp::LogSoftmax, log_y, grad_output, cols)
}

/// `-y (dy - sum(dy y))` per row (`y` the softmin), rounded once.
pub fn softmin_backward<T: Element>(
    y: &[T],
    grad_output: &[T],
    cols: usize,
) -> Result<Vec<T>, Error> {
    row_backward(RowOp::Softmin, y, grad_output, cols)
}

// ---- PReLU and RReLU in training ---------------------------------------------

/// LeakyReLU with the slope `slope` (an f32, f16 or bf16 value, so exact
/// in f32), by [`forward_f64`]'s rules: NaN for NaN, the limit at +-inf (a
/// zero slope gives a signed zero at -inf, not 0 * -inf = NaN).
fn leaky_relu_with(x: f64, slope: f64) -> f64 {
    forward_f64(
        Activation::LeakyRelu {
            negative_slope: slope as f32,
        },
        x,
    )
}

/// Its derivative by [`derivative_f64`]'s rules (NaN for NaN).
fn leaky_relu_derivative_with(x: f64, slope: f64) -> f64 {
    derivative_f64(
        Activation::LeakyRelu {
            negative_slope: slope as f32,
        },
        x,
    )
}

/// PReLU over `x` of `shape = [n, c, inner]`: `x > 0 ? x : slope * x` with
/// the channel's slope (or the one slope), rounded once; NaN for NaN and
/// the limit at +-inf, as the unary ops.
pub fn prelu<T: Element>(x: &[T], slopes: &[T], shape: [usize; 3]) -> Result<Vec<T>, Error> {
    let (channels, inner) = crate::catalogue::prelu::prelu_layout(x.len(), slopes.len(), shape)?;
    let slope = |i: usize| slopes[(i / inner as usize) % channels as usize].to_f64();
    Ok(x.iter()
        .enumerate()
        .map(|(i, &v)| T::round_from_f64(leaky_relu_with(v.to_f64(), slope(i))))
        .collect())
}

/// `(dx, d_slopes)` of [`prelu`]: `dx = dy * (x > 0 ? 1 : slope)`, each
/// rounded once; `d_slopes` the per-channel sums of `x * dy` where x is not
/// > 0, in f64, rounded once.
pub fn prelu_backward<T: Element>(
    x: &[T],
    slopes: &[T],
    grad_output: &[T],
    shape: [usize; 3],
) -> Result<(Vec<T>, Vec<T>), Error> {
    let (channels, inner) = crate::catalogue::prelu::prelu_layout(x.len(), slopes.len(), shape)?;
    Error::check_len("grad_output", x.len(), grad_output.len())?;
    let channel = |i: usize| (i / inner as usize) % channels as usize;
    let mut sums = vec![0.0f64; slopes.len()];
    let dx = x
        .iter()
        .zip(grad_output)
        .enumerate()
        .map(|(i, (&v, &g))| {
            let (v, g) = (v.to_f64(), g.to_f64());
            let c = channel(i);
            if v.is_nan() || v <= 0.0 {
                sums[c] += v * g;
            }
            T::round_from_f64(g * leaky_relu_derivative_with(v, slopes[c].to_f64()))
        })
        .collect();
    Ok((dx, sums.into_iter().map(T::round_from_f64).collect()))
}

/// lowbias32, the 32-bit integer hash of RReLU's generator.
fn hash32(v: u32) -> u32 {
    let mut x = v;
    x ^= x >> 16;
    x = x.wrapping_mul(0x7feb_352d);
    x ^= x >> 15;
    x = x.wrapping_mul(0x846c_a68b);
    x ^= x >> 16;
    x
}

/// The uniform in [0, 1) (24 random bits) that RReLU's training draws for
/// element `index` under `seed`: the same on every device
/// (`shaders/prelu.wgsl`, `uniform_of`).
pub fn rrelu_uniform(seed: u64, index: u32) -> f32 {
    let key = hash32(seed as u32 ^ hash32((seed >> 32) as u32 ^ 0x9e37_79b9));
    (hash32(index ^ key) >> 8) as f32 * 5.960_464_5e-8
}

/// The slope RReLU's training draws for element `index`: `lower + (upper -
/// lower) u` in f32, as the kernel computes it (no fused multiply-add).
pub fn rrelu_train_slope(lower: f32, upper: f32, seed: u64, index: u32) -> f32 {
    lower + (upper - lower) * rrelu_uniform(seed, index)
}

/// RReLU in training: `(y, noise)` with the kernel's slopes
/// ([`rrelu_train_slope`]): `noise` is 1 where x > 0 and the slope elsewhere (NaN
/// for NaN), `y = x * noise` rounded once (at x = -inf with a zero slope the
/// limit, a zero, as LeakyReLU gives it).
pub fn rrelu_train<T: Element>(
    x: &[T],
    lower: f32,
    upper: f32,
    seed: u64,
) -> Result<(Vec<T>, Vec<T>), Error> {
    crate::catalogue::prelu::check_rrelu_train(x.len(), lower, upper)?;
    Ok(x.iter()
        .enumerate()
        .map(|(i, &v)| {
            let slope = f64::from(rrelu_train_slope(lower, upper, seed, i as u32));
            let v = v.to_f64();
            (
                T::round_from_f64(leaky_relu_with(v, slope)),
                T::round_from_f64(leaky_relu_derivative_with(v, slope)),
            )
        })
        .unzip())
}
