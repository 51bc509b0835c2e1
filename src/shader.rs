//! WGSL sources and the composer that builds one kernel module per op.

use crate::Activation;

/// Portable f32 helpers (`wa_exp`, `wa_expm1`, `wa_tanh`, NaN and sign tests).
pub const MATH_WGSL: &str = include_str!("../shaders/math.wgsl");
/// The activations' math: `<name>_forward` and `<name>_derivative` per op.
pub const ACTIVATIONS_WGSL: &str = include_str!("../shaders/activations.wgsl");
/// The element-wise kernel template with `{{FORWARD}}` / `{{DERIVATIVE}}` slots.
pub const ELEMENTWISE_TEMPLATE_WGSL: &str = include_str!("../shaders/elementwise.wgsl");

/// The WGSL function library: math helpers followed by every activation's
/// forward and derivative, ready to be spliced into a caller's own shader.
pub fn library() -> String {
    format!("{MATH_WGSL}\n{ACTIVATIONS_WGSL}")
}

/// The WGSL call of `act`'s function for one direction (`"forward"` or
/// `"derivative"`), with parameters read from the kernel's `param` vec4.
fn call(act: &Activation, direction: &str) -> String {
    const COMPONENTS: [&str; 4] = ["x", "y", "z", "w"];
    let mut args = String::from("x");
    for (i, _) in act.params().iter().enumerate() {
        args.push_str(", param.");
        args.push_str(COMPONENTS[i]);
    }
    format!("{}_{direction}({args})", act.name())
}

/// The complete kernel module for `act` (entry points `forward`, `derivative`,
/// `backward`). Depends only on the op's kind, not on its parameter values.
pub fn elementwise_module(act: &Activation) -> String {
    let kernel = ELEMENTWISE_TEMPLATE_WGSL
        .replace("{{FORWARD}}", &call(act, "forward"))
        .replace("{{DERIVATIVE}}", &call(act, "derivative"));
    format!("{}\n{kernel}", library())
}
