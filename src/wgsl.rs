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
/// The template's element functions for `f32` and `vec4<f32>` storage.
pub const ELEMENT_FLOAT_WGSL: &str = include_str!("../shaders/element_float.wgsl");
/// The template's element functions for packed storage ([`Width::Packed`]).
pub const ELEMENT_PACKED_WGSL: &str = include_str!("../shaders/element_packed.wgsl");

/// The WGSL function library: math helpers followed by every activation's
/// forward and derivative, ready to be spliced into a caller's own shader.
pub fn library() -> String {
    format!("{MATH_WGSL}\n{NORMAL_WGSL}\n{ACTIVATIONS_WGSL}")
}

/// One entry point of the element-wise template.
pub const ENTRY_TEMPLATE_WGSL: &str = include_str!("../shaders/entry.wgsl");

/// The entry points of every element-wise module: name and per-element body.
pub(crate) const ENTRY_POINTS: [(&str, &str); 6] = [
    ("forward", "output[j] = element_forward(input[j]);"),
    ("derivative", "output[j] = element_derivative(input[j]);"),
    (
        "backward",
        "output[j] = element_backward(grad_output[j], input[j]);",
    ),
    (
        "forward_in_place",
        "output[j] = element_forward(output[j]);",
    ),
    (
        "derivative_in_place",
        "output[j] = element_derivative(output[j]);",
    ),
    (
        "backward_in_place",
        "output[j] = element_backward(output[j], input[j]);",
    ),
];

/// How a kernel module receives its per-dispatch data (`Dispatch`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DispatchData {
    /// `var<immediate>`: no buffer at all (needs `Features::IMMEDIATES`).
    Immediate,
    /// A uniform buffer at `@group(0) @binding(0)`.
    Uniform,
}

/// The element type a kernel module loads and stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Width {
    /// `vec4<f32>`: the main body of a buffer (GPUs, and adapters without
    /// 64-bit integers).
    Vec4,
    /// `vec4<u64>` holding eight f32, two per u64: the main body on CPU
    /// adapters, where it halves the per-component cost of storage access.
    /// Needs `wgpu::Features::SHADER_INT64` (naga: `Capabilities::SHADER_INT64`).
    Packed,
    /// `f32`: the last elements, fewer than one body element.
    Scalar,
}

impl Width {
    /// f32 values in one storage element: 4, 8 or 1.
    pub fn lanes(self) -> usize {
        match self {
            Width::Vec4 => 4,
            Width::Packed => 8,
            Width::Scalar => 1,
        }
    }
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

/// The complete kernel module for `act` at `width` (entry points `forward`,
/// `derivative`, `backward` and their `_in_place` forms), each invocation
/// handling `items_per_invocation` (at least 1) storage elements. Depends
/// only on the op's kind, not on its parameter values.
///
/// With one item per invocation the entry points have no loop at all: on
/// lavapipe a loop of one iteration still made GELU's forward ~25% slower.
pub fn elementwise_module(
    act: &Activation,
    width: Width,
    data: DispatchData,
    items_per_invocation: u32,
) -> String {
    const VEC4_MAP: &str = "vec4<f32>(F(v.x), F(v.y), F(v.z), F(v.w))";
    let (element, functions, map) = match width {
        Width::Vec4 => ("vec4<f32>", ELEMENT_FLOAT_WGSL, VEC4_MAP),
        Width::Packed => ("vec4<u64>", ELEMENT_PACKED_WGSL, VEC4_MAP),
        Width::Scalar => ("f32", ELEMENT_FLOAT_WGSL, "F(v)"),
    };
    let dispatch = match data {
        DispatchData::Immediate => "var<immediate> dispatch: Dispatch;",
        DispatchData::Uniform => "@group(0) @binding(0) var<uniform> dispatch: Dispatch;",
    };
    let items = items_per_invocation.max(1);
    let each_item = if items == 1 {
        "let k = 0u;"
    } else {
        "for (var k = 0u; k < ITEMS; k++)"
    };
    let entry_points: Vec<String> = ENTRY_POINTS
        .iter()
        .map(|(name, body)| {
            ENTRY_TEMPLATE_WGSL
                .replace("{{NAME}}", name)
                .replace("{{EACH_ITEM}}", each_item)
                .replace("{{BODY}}", body)
        })
        .collect();
    let kernel = ELEMENTWISE_TEMPLATE_WGSL
        .replace("{{ENTRY_POINTS}}", &entry_points.join("\n"))
        .replace("{{ELEMENT_FUNCTIONS}}", functions)
        .replace("{{DISPATCH}}", dispatch)
        .replace("{{ITEMS}}", &items.to_string())
        .replace("{{ELEMENT}}", element)
        .replace(
            "{{MAP:activation_forward}}",
            &map.replace('F', "activation_forward"),
        )
        .replace(
            "{{MAP:activation_derivative}}",
            &map.replace('F', "activation_derivative"),
        )
        .replace("{{FORWARD}}", &call(act, "forward"))
        .replace("{{DERIVATIVE}}", &call(act, "derivative"));
    format!("{}\n{kernel}", library())
}

/// Invocations per workgroup of [`portable_module`]'s kernels (the default
/// of their `WORKGROUP_SIZE` override: WebGPU's default limits allow 256).
pub const PORTABLE_WORKGROUP_SIZE: u32 = 256;

/// The two modules of one op for a plain WebGPU device (see
/// [`portable_module`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortableModule {
    /// Over `array<vec4<f32>>`: the body of a tensor, four f32 per element.
    pub body: String,
    /// Over `array<f32>`: the last `len % 4` values (or any length at all,
    /// one f32 per invocation).
    pub tail: String,
}

/// `act`'s element-wise kernels for any WebGPU implementation (a browser's
/// `navigator.gpu`, Dawn, wgpu without optional features): no immediates, no
/// 64-bit integers, the per-dispatch data in a uniform, one element per
/// invocation, [`PORTABLE_WORKGROUP_SIZE`] invocations per workgroup. The
/// same math as every other kernel of this crate; compiled and checked in
/// Chromium's WebGPU (Tint, SwiftShader) by the test suite.
///
/// Each module has the entry points `forward`, `derivative`, `backward`,
/// `forward_in_place`, `derivative_in_place` and `backward_in_place`, and
/// these bindings in group 0 (with `layout: 'auto'` a pipeline holds only
/// those its entry point uses):
///
/// | binding | what | used by |
/// |---|---|---|
/// | 0 | uniform, 32 bytes: `len: u32, base: u32, 0u, 0u, param: vec4<f32>` | all |
/// | 1 | `input`, read-only storage | all but `forward_in_place`, `derivative_in_place` |
/// | 2 | `output`, read-write storage | all (in place: read and written) |
/// | 3 | `grad_output`, read-only storage | `backward` |
///
/// A dispatch covers elements `base .. base + len` (vec4 elements in
/// `body`, f32 in `tail`) of the bound buffers; `param` holds
/// [`Activation::param_values`] in order, zero-padded; dispatch
/// `ceil(len / 256)` workgroups (an x-by-y grid works too: the workgroup
/// index is `y * num_workgroups.x + x`, and invocations past `len` do
/// nothing). `backward_in_place` overwrites `grad_output`, bound as
/// `output`, with the gradient. For a length `n` not a multiple of 4,
/// dispatch `body` with `len = n / 4` and `tail` with `base = n - n % 4`,
/// `len = n % 4` over the same buffers bound as `array<f32>`.
///
/// ```js
/// // JavaScript: GELU's forward over n = 4k floats already in `input`.
/// const module = device.createShaderModule({ code: bodyWgsl }); // PortableModule::body
/// const pipeline = device.createComputePipeline({
///   layout: 'auto', compute: { module, entryPoint: 'forward' } });
/// const uniform = device.createBuffer({ size: 32,
///   usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
/// const data = new ArrayBuffer(32);
/// new Uint32Array(data, 0, 2).set([n / 4, 0]);    // len (vec4 elements), base
/// new Float32Array(data, 16, 4).set([0, 0, 0, 0]); // GELU has no parameters
/// device.queue.writeBuffer(uniform, 0, data);
/// const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0),
///   entries: [{ binding: 0, resource: { buffer: uniform } },
///             { binding: 1, resource: { buffer: input } },
///             { binding: 2, resource: { buffer: output } }] });
/// const encoder = device.createCommandEncoder();
/// const pass = encoder.beginComputePass();
/// pass.setPipeline(pipeline);
/// pass.setBindGroup(0, bindGroup);
/// pass.dispatchWorkgroups(Math.ceil(n / 4 / 256));
/// pass.end();
/// device.queue.submit([encoder.finish()]);
/// ```
///
/// `cargo run --example wgsl -- gelu` writes both modules of an op to files.
pub fn portable_module(act: &Activation) -> PortableModule {
    PortableModule {
        body: elementwise_module(act, Width::Vec4, DispatchData::Uniform, 1),
        tail: elementwise_module(act, Width::Scalar, DispatchData::Uniform, 1),
    }
}
