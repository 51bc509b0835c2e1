// wgpu-activations: the one definition of each activation's math.
//
// For every op `<name>` there is `<name>_forward(x, params...)` and
// `<name>_derivative(x, params...)` (f'(x), PyTorch's value at kinks). Every
// kernel (forward, derivative, backward) is generated from these functions;
// nothing here depends on bindings, so the file can be spliced into any
// shader together with math.wgsl. Each function keeps the rules of
// SEMANTICS.md itself: NaN in -> NaN out, limits at +-inf, PyTorch's signed
// zeros, no overflow of an intermediate for finite x.

// ---- Sigmoid -------------------------------------------------------------
// 1 / (1 + e^-x), with the branch chosen by sign so e^-|x| never overflows.
fn sigmoid_forward(x: f32) -> f32 {
    let e = wa_exp(-wa_abs(x));
    let s = 1.0 / (1.0 + e);
    return select(e * s, s, !wa_lt_zero(x));
}

// sigma'(x) = e / (1 + e)^2 with e = e^-|x|: stable, computed from x (not
// from the rounded output), exact limit 0 at +-inf.
fn sigmoid_derivative(x: f32) -> f32 {
    let e = wa_exp(-wa_abs(x));
    let d = 1.0 + e;
    return e / (d * d);
}

// ---- Tanh ----------------------------------------------------------------
fn tanh_forward(x: f32) -> f32 {
    return wa_tanh(x);
}

// 1 - tanh^2 x: computed as such where tanh^2 x < 1/4 (no cancellation), and
// as 4e / (1 + e)^2 with e = e^-2|x| beyond, where 1 - tanh^2 would cancel.
fn tanh_derivative(x: f32) -> f32 {
    let a = wa_abs(x);
    if a < 0.5493 {
        let t = wa_tanh(a);
        return 1.0 - t * t;
    }
    let e = wa_exp(-2.0 * a);
    let d = 1.0 + e;
    return 4.0 * e / (d * d);
}

// ---- ReLU ----------------------------------------------------------------
// x < 0 ? 0 : x, so relu(-0.0) = -0.0 and relu(NaN) = NaN.
fn relu_forward(x: f32) -> f32 {
    return select(x, 0.0, wa_lt_zero(x));
}

// 1 for x > 0, 0 for x <= 0 (0 at the kink), NaN for NaN.
fn relu_derivative(x: f32) -> f32 {
    return wa_keep_nan(x, select(0.0, 1.0, wa_gt_zero(x)));
}

// ---- LeakyReLU -----------------------------------------------------------
// x > 0 ? x : negative_slope * x (keeps -0.0 for a positive slope).
fn leaky_relu_forward(x: f32, negative_slope: f32) -> f32 {
    return wa_keep_nan(x, select(negative_slope * x, x, wa_gt_zero(x)));
}

// 1 for x > 0, negative_slope for x <= 0 (slope at the kink), NaN for NaN.
fn leaky_relu_derivative(x: f32, negative_slope: f32) -> f32 {
    return wa_keep_nan(x, select(negative_slope, 1.0, wa_gt_zero(x)));
}
