//! The CPU reference: the yardstick the GPU kernels are measured against.
//!
//! Every op is computed independently of the shaders, in f64 with std/`libm`
//! math and PyTorch's kink rules, and rounded once to f32. Per-op functions
//! mirror the WGSL names (`sigmoid_forward`, `sigmoid_derivative`, ...).

use crate::{Activation, Error};

/// `f(x)` for each element, computed in f64 and rounded once to f32.
pub fn forward(act: Activation, x: &[f32]) -> Result<Vec<f32>, Error> {
    act.validate()?;
    Ok(x.iter()
        .map(|&v| forward_f64(act, f64::from(v)) as f32)
        .collect())
}

/// `f'(x)` for each element (PyTorch's value at kinks), rounded once to f32.
pub fn derivative(act: Activation, x: &[f32]) -> Result<Vec<f32>, Error> {
    act.validate()?;
    Ok(x.iter()
        .map(|&v| derivative_f64(act, f64::from(v)) as f32)
        .collect())
}

/// `grad_output * f'(x)` for each element, the product taken in f64 and
/// rounded once to f32.
pub fn backward(act: Activation, x: &[f32], grad_output: &[f32]) -> Result<Vec<f32>, Error> {
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
        .map(|(&v, &g)| (f64::from(g) * derivative_f64(act, f64::from(v))) as f32)
        .collect())
}

/// `f(x)` in f64, unrounded. Parameters are taken at their f32 values.
pub fn forward_f64(act: Activation, x: f64) -> f64 {
    match act {
        Activation::Sigmoid => sigmoid_forward(x),
        Activation::Tanh => tanh_forward(x),
        Activation::Relu => relu_forward(x),
        Activation::LeakyRelu { negative_slope } => {
            leaky_relu_forward(x, f64::from(negative_slope))
        }
    }
}

/// `f'(x)` in f64, unrounded, with PyTorch's kink rules and NaN for NaN.
pub fn derivative_f64(act: Activation, x: f64) -> f64 {
    if x.is_nan() {
        return x;
    }
    match act {
        Activation::Sigmoid => sigmoid_derivative(x),
        Activation::Tanh => tanh_derivative(x),
        Activation::Relu => relu_derivative(x),
        Activation::LeakyRelu { negative_slope } => {
            leaky_relu_derivative(x, f64::from(negative_slope))
        }
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

/// `sigma(x) * (1 - sigma(x))`, as `sigma(x) * sigma(-x)` to keep both tails exact.
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

/// `x < 0 ? 0 : x` (keeps -0.0 and NaN).
pub fn relu_forward(x: f64) -> f64 {
    if x < 0.0 { 0.0 } else { x }
}

/// `x > 0 ? 1 : 0`.
pub fn relu_derivative(x: f64) -> f64 {
    if x > 0.0 { 1.0 } else { 0.0 }
}

/// `x > 0 ? x : negative_slope * x`.
pub fn leaky_relu_forward(x: f64, negative_slope: f64) -> f64 {
    if x > 0.0 { x } else { negative_slope * x }
}

/// `x > 0 ? 1 : negative_slope`.
pub fn leaky_relu_derivative(x: f64, negative_slope: f64) -> f64 {
    if x > 0.0 { 1.0 } else { negative_slope }
}
