// wgpu-activations: one op's functions over f32, the same in every kernel.
// `src/wgsl.rs` (`op_functions`) fills the slots (written «NAME» here,
// double-braced in the code) and splices the result into the kernel
// templates (elementwise.wgsl, texture.wgsl) at their «OP_FUNCTIONS»; the
// module declares `dispatch` with the op's parameters in `param: vec4<f32>`.
//   «FORWARD»      one op's call, e.g. `wa_leaky_relu_forward(x, param.x)`
//   «DERIVATIVE»   likewise for f'(x)
//   «BACKWARD»     grad * f'(x): the op's own wa_<name>_backward where it has
//                  one, else `(grad * d.x) * d.y` from the op's
//                  `wa_<name>_derivative_scaled` where it has one

fn activation_forward(x: f32) -> f32 {
    let param = dispatch.param;
    return {{FORWARD}};
}

fn activation_derivative(x: f32) -> f32 {
    let param = dispatch.param;
    return {{DERIVATIVE}};
}

// grad * f'(x), with f'(x) as a scaled pair where the op has one (a
// subnormal f'(x) times a large grad is not lost where subnormals flush).
fn activation_backward(grad: f32, x: f32) -> f32 {
    let param = dispatch.param;
    {{BACKWARD}}
}
