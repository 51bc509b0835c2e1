//! The WGSL sources: the function library, for splicing activations into
//! your own shaders, and the composer that builds one kernel module per op.
//!
//! ```
//! // A caller's own compute shader that applies GELU in its inner loop.
//! let source = format!(
//!     "{}\n@group(0) @binding(0) var<storage, read_write> data: array<f32>;\n\
//!      @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) id: vec3<u32>) {{\n\
//!          if id.x < arrayLength(&data) {{ data[id.x] = gelu_forward(data[id.x]); }}\n\
//!      }}",
//!     wgpu_activations::wgsl::library()
//! );
//! # let _ = source;
//! ```

use crate::Activation;

/// Portable f32 helpers (`wa_exp`, `wa_expm1`, `wa_tanh`, NaN and sign tests).
pub const MATH_WGSL: &str = include_str!("../shaders/math.wgsl");
/// The standard normal CDF and density (`wa_normal_cdf`, `wa_normal_pdf`) for GELU.
pub const NORMAL_WGSL: &str = include_str!("../shaders/normal.wgsl");
/// The activations' math: `<name>_forward` and `<name>_derivative` per op.
pub const ACTIVATIONS_WGSL: &str = include_str!("../shaders/activations.wgsl");
/// The element-wise kernel template with `{{FORWARD}}` / `{{DERIVATIVE}}` slots.
pub const ELEMENTWISE_TEMPLATE_WGSL: &str = include_str!("../shaders/elementwise.wgsl");

/// The WGSL function library: math helpers followed by every activation's
/// forward and derivative, ready to be spliced into a caller's own shader.
pub fn library() -> String {
    format!("{MATH_WGSL}\n{NORMAL_WGSL}\n{ACTIVATIONS_WGSL}")
}

/// The WGSL call of `act`'s function for one direction (`"forward"` or
/// `"derivative"`), with parameters read from the kernel's `param` vec4.
fn call(act: &Activation, direction: &str) -> String {
    const COMPONENTS: [&str; 4] = ["x", "y", "z", "w"];
    let mut args = String::from("x");
    for component in COMPONENTS.iter().take(act.param_names().len()) {
        args.push_str(", param.");
        args.push_str(component);
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
