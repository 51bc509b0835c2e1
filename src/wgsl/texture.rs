//! The texture kernels' WGSL: which formats they take, what one kernel is
//! ([`TextureKernel`]) and its module ([`texture_module`]). The kernels
//! that record them are `crate::gpu::texture`'s.

use crate::wgsl::DispatchData;
use crate::{Activation, Dtype, Error, Mode, Precision};

/// The texture formats the texture kernels read (every one of them, through
/// a sampled binding) and write (those the device can bind as storage:
/// [`crate::Kernels::texture_formats`]). `Rgba32Float`, `Rgba16Float`, `R32Float`
/// and `Rg32Float` are storage formats on every WebGPU device; `R16Float`
/// and `Rg16Float` where the adapter allows them and the device was opened
/// with `Features::TEXTURE_ADAPTER_SPECIFIC_FORMAT_FEATURES` (which
/// [`crate::recommended_features`] asks for).
pub const TEXTURE_FORMATS: [wgpu::TextureFormat; 6] = [
    wgpu::TextureFormat::Rgba32Float,
    wgpu::TextureFormat::Rgba16Float,
    wgpu::TextureFormat::R32Float,
    wgpu::TextureFormat::Rg32Float,
    wgpu::TextureFormat::R16Float,
    wgpu::TextureFormat::Rg16Float,
];

/// Channels of one of [`TEXTURE_FORMATS`] and its WGSL storage format name.
pub(crate) fn format_info(format: wgpu::TextureFormat) -> Option<(usize, &'static str)> {
    use wgpu::TextureFormat as F;
    Some(match format {
        F::Rgba32Float => (4, "rgba32float"),
        F::Rgba16Float => (4, "rgba16float"),
        F::R32Float => (1, "r32float"),
        F::Rg32Float => (2, "rg32float"),
        F::R16Float => (1, "r16float"),
        F::Rg16Float => (2, "rg16float"),
        _ => return None,
    })
}

/// The element type of a texture format's channels (F16 for the 16-bit float
/// formats, F32 otherwise): the default [`Precision`] follows it.
pub(crate) fn format_dtype(format: wgpu::TextureFormat) -> Dtype {
    use wgpu::TextureFormat as F;
    match format {
        F::Rgba16Float | F::R16Float | F::Rg16Float => Dtype::F16,
        _ => Dtype::F32,
    }
}

/// What the texture kernels do with a four-channel format's alpha.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Alpha {
    /// Alpha is a channel like the others: the op is applied to it too.
    #[default]
    Apply,
    /// Alpha passes through unchanged: the output's alpha is x's alpha in
    /// forward and derivative, grad_output's in backward (so in place the
    /// texture's alpha is left as it was). No effect on formats without
    /// alpha.
    Keep,
}

/// What a device can do with one of [`TEXTURE_FORMATS`], as its validation
/// answers it (the kernels ask by creating a bind-group layout).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextureFormatSupport {
    /// The format.
    pub format: wgpu::TextureFormat,
    /// It can be an output (write-only storage texture).
    pub output: bool,
    /// It can be worked on in place (read-write storage texture).
    pub in_place: bool,
}

/// Which texture kernel: what a module depends on beyond the op.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TextureKernel {
    /// The mode.
    pub mode: Mode,
    /// The output is also read: x in forward and derivative, grad_output in
    /// backward (a `read_write` storage texture).
    pub in_place: bool,
    /// The output's format (one of [`TEXTURE_FORMATS`]).
    pub format: wgpu::TextureFormat,
    /// 2-D array views (`texture_2d_array`, `texture_storage_2d_array`)
    /// instead of 2-D views.
    pub layered: bool,
    /// Alpha applied or passed through.
    pub alpha: Alpha,
}

impl TextureKernel {
    /// x is read through a sampled binding (1): everywhere but forward and
    /// derivative in place, which read it from the output.
    pub(crate) fn samples_input(&self) -> bool {
        self.mode == Mode::Backward || !self.in_place
    }

    /// grad_output is read through a sampled binding (3): backward out of
    /// place (in place it is the output).
    pub(crate) fn samples_grad(&self) -> bool {
        self.mode == Mode::Backward && !self.in_place
    }
}

/// The WGSL module of one texture kernel of `act` (entry point `main`,
/// workgroups of `WORKGROUP_X` x `WORKGROUP_Y` x 1, overrides of default 8,
/// one invocation per texel, z over the layers),
/// composed from `shaders/texture.wgsl` and the same function library and
/// backward rule as the buffer kernels. Bindings: 0 the uniform (16 bytes,
/// the op's parameters) where `data` is [`DispatchData::Uniform`]; 1 x
/// (sampled, unless in place in forward and derivative); 2 the output
/// (storage); 3 grad_output (sampled; backward out of place). Errors with
/// [`Error::TextureFormat`] for a format not in [`TEXTURE_FORMATS`].
pub fn texture_module(
    act: &Activation,
    kernel: TextureKernel,
    data: DispatchData,
) -> Result<String, Error> {
    texture_module_with(act, kernel, data, Precision::Precise)
}

/// [`texture_module`] at `precision`.
pub fn texture_module_with(
    act: &Activation,
    kernel: TextureKernel,
    data: DispatchData,
    precision: Precision,
) -> Result<String, Error> {
    let (channels, storage_format) = format_info(kernel.format).ok_or(Error::TextureFormat {
        what: "output",
        format: kernel.format,
        supported: TEXTURE_FORMATS.to_vec(),
    })?;
    let (sampled, storage, coords) = if kernel.layered {
        (
            "texture_2d_array<f32>",
            "texture_storage_2d_array",
            "c.xy, c.z",
        )
    } else {
        ("texture_2d<f32>", "texture_storage_2d", "c.xy")
    };
    let access = if kernel.in_place {
        "read_write"
    } else {
        "write"
    };
    let backward = kernel.mode == Mode::Backward;
    let mut bindings = Vec::new();
    let x_sampled = kernel.samples_input();
    if x_sampled {
        bindings.push(format!("@group(0) @binding(1) var input: {sampled};"));
    }
    bindings.push(format!(
        "@group(0) @binding(2) var output: {storage}<{storage_format}, {access}>;"
    ));
    if kernel.samples_grad() {
        bindings.push(format!("@group(0) @binding(3) var grad_output: {sampled};"));
    }
    let sampled_load = |texture: &str| format!("textureLoad({texture}, {coords}, 0)");
    let storage_load = format!("textureLoad(output, {coords})");
    let x_load = if x_sampled {
        sampled_load("input")
    } else {
        storage_load.clone()
    };
    let mut loads = format!("let v = {x_load};");
    if backward {
        let grad_load = if kernel.in_place {
            storage_load
        } else {
            sampled_load("grad_output")
        };
        loads.push_str(&format!("\n    let g = {grad_load};"));
    }
    // The op on each channel the format has; the others are not stored.
    let lanes = ["x", "y", "z", "w"];
    let value: Vec<String> = lanes
        .iter()
        .enumerate()
        .map(|(i, lane)| {
            if i >= channels {
                "0.0".to_string()
            } else if i == 3 && kernel.alpha == Alpha::Keep {
                if backward {
                    "g.w".to_string()
                } else {
                    "v.w".to_string()
                }
            } else {
                match kernel.mode {
                    Mode::Forward => format!("activation_forward(v.{lane})"),
                    Mode::Derivative => format!("activation_derivative(v.{lane})"),
                    Mode::Backward => format!("activation_backward(g.{lane}, v.{lane})"),
                }
            }
        })
        .collect();
    let dispatch = match data {
        DispatchData::Immediate => "var<immediate> dispatch: Dispatch;",
        DispatchData::Uniform => "@group(0) @binding(0) var<uniform> dispatch: Dispatch;",
    };
    let (half_functions, round) = if format_dtype(kernel.format) == Dtype::F16 {
        (
            crate::wgsl::HALF_F16_PACKED_WGSL,
            "return half_widen(half_bits(v));",
        )
    } else {
        ("", "return v;")
    };
    let kernel_source = crate::wgsl::TEXTURE_TEMPLATE_WGSL
        .replace("{{HALF_FUNCTIONS}}", half_functions)
        .replace("{{ROUND}}", round)
        .replace("{{DISPATCH}}", dispatch)
        .replace("{{BINDINGS}}", &bindings.join("\n"))
        .replace("{{LOADS}}", &loads)
        .replace("{{COORDS}}", coords)
        .replace("{{VALUE}}", &format!("vec4<f32>({})", value.join(", ")))
        .replace("{{OP_FUNCTIONS}}", &crate::wgsl::op_functions(act));
    Ok(format!(
        "{}\n{kernel_source}",
        crate::wgsl::library_with(precision)
    ))
}
