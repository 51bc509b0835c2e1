//! # wgpu-activations
//!
//! PyTorch-compatible neural-network activation functions as WGSL compute
//! shaders on [`wgpu`]: a forward, a derivative and a backward kernel per op,
//! correct on every backend (NaN, infinities, signed zeros and kinks as
//! `torch.nn` defines them), with an independent f64 CPU reference in [`cpu`].
//! Beyond element-wise: gated activations ([`Gated`]: GLU, SwiGLU, GeGLU,
//! ReGLU), softmax, log-softmax and softmin over rows ([`RowOp`]), PReLU with
//! learned slopes and RReLU in training, each with its backward, as host
//! slices ([`Context::gated_forward`], [`Context::softmax`],
//! [`Context::prelu`], [`Context::rrelu_train`]), resident tensors
//! ([`Batch`]) and in the caller's encoder ([`GatedKernels`],
//! [`RowKernels`], [`PreluKernels`]). Every op and family takes `f32`,
//! `half::f16` and `half::bf16` data ([`Element`], [`Dtype`]): computed in
//! f32, stored and rounded once to 16 bits (the unary ops within 1 ULP of
//! the f64 reference over every 16-bit pattern). The same WGSL runs in a browser's
//! WebGPU ([`wgsl::portable_module`]; checked in headless Chromium through
//! [`browser`]).
//!
//! ```
//! use wgpu_activations::{Activation, Context};
//!
//! let ctx = Context::new()?; // honours WGPU_BACKEND, WGPU_ADAPTER_NAME
//! let x = [-3.0_f32, 0.0, 3.0];
//! let y = ctx.forward(Activation::Sigmoid, &x)?; // [0.0474, 0.5, 0.9526]
//! let dy = ctx.derivative(Activation::leaky_relu(), &x)?; // [0.01, 0.01, 1.0]
//! let reference = wgpu_activations::cpu::forward(Activation::Sigmoid, &x)?;
//! # let _ = (y, dy, reference);
//! # Ok::<(), wgpu_activations::Error>(())
//! ```
//!
//! # Which layer to use
//!
//! | you have | use |
//! |---|---|
//! | slices on the host, a `Vec` back | [`Context::forward`], [`Context::derivative`], [`Context::backward`] (and `*_into` to reuse an output) |
//! | data that stays on the GPU | [`Context::upload`], [`Context::apply`] (results come from the context's pool), [`Context::read`]; [`Batch`] for a chain in one submission |
//! | your own device, buffers and encoder | [`Kernels::record`] (and [`GatedKernels`], [`RowKernels`], [`PreluKernels`]) over [`BufferRegion`]s; or [`Context::from_device`] around your device |
//! | textures your renderer made | [`Kernels::record_texture`] over [`TextureRegion`]s in your encoder; [`Context::apply_texture`] for a new texture |
//! | your own shader | [`wgsl::library()`]: every `wa_<op>_forward` / `wa_<op>_derivative`, all names prefixed |
//! | WebGPU in a browser | [`wgsl::portable_module`] (Tint accepts it); [`browser`] runs it in headless Chromium from Rust |
//! | a faster tier, looser bounds, the same rules | [`Precision::Fast`]: [`Context::with_precision`], [`Kernels::with_precision`], [`wgsl::library_with`] |
//!
//! # Integrating into an existing wgpu app
//!
//! Open your device with [`recommended_features`] added to your own (all
//! optional; each makes the kernels faster where the adapter has it), make
//! one [`Kernels`] at start-up, and record into your encoder between your
//! own passes. Nothing is submitted for you, nothing else of your device is
//! touched, and your uncaptured-error handler and device-lost callback stay
//! yours: validation errors of this crate's work come back as [`Error::Gpu`].
//!
//! ```
//! use wgpu::util::DeviceExt;
//! use wgpu_activations::{Activation, BufferRegion, Context, Kernels, Mode};
//!
//! # let ctx = Context::new()?;
//! # let (device, queue) = (ctx.device(), ctx.queue());
//! // Your device and queue, your buffers (STORAGE; COPY_SRC to read back).
//! let usage = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC;
//! let x = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
//!     label: Some("x"),
//!     contents: bytemuck::cast_slice(&[-1.0f32, 0.0, 2.0, 3.0]),
//!     usage,
//! });
//! let y = device.create_buffer(&wgpu::BufferDescriptor {
//!     label: Some("y"), size: 16, usage, mapped_at_creation: false,
//! });
//! let kernels = Kernels::new(device);
//! let mut encoder = device.create_command_encoder(&Default::default());
//! // ... your own passes ...
//! kernels.record(&mut encoder, Activation::Gelu, Mode::Forward,
//!                BufferRegion::whole(&x), None, BufferRegion::whole(&y))?;
//! queue.submit([encoder.finish()]);
//! # Ok::<(), wgpu_activations::Error>(())
//! ```
//!
//! # What each op computes
//!
//! PyTorch's `torch.nn` formulas, default parameters and derivatives at the
//! kinks ([`Activation`] lists them; [`Activation::formula`] gives each in
//! words), with these rules on every backend: NaN in gives NaN out; at
//! +-inf the mathematical limit (never NaN from inf/inf or 0 * inf); the
//! signed zeros PyTorch returns; no overflow of an intermediate for finite
//! x; subnormal inputs handled like other tiny values. Bad input is an
//! [`Error`], never a panic, a wrong answer or a changed buffer.
//!
//! A model config's activation string parses as it is: every key of Hugging
//! Face `transformers`' `ACT2FN` ([`Activation::ACT2FN_KEYS`]) gives the same
//! function, including the transformer-specific QuickGELU, ReLU², Laplace,
//! clipped GELU, xIELU, Identity and sqrt(softplus).
//!
//! ```
//! use wgpu_activations::Activation;
//!
//! let act: Activation = "gelu_pytorch_tanh".parse()?; // hidden_act of a config
//! assert_eq!(act, Activation::GeluTanh);
//! assert_eq!("relu2".parse::<Activation>()?, Activation::ReluSquared);
//! let typo = "quickgelu".parse::<Activation>().unwrap_err();
//! assert!(typo.to_string().contains("did you mean quick_gelu"));
//! # Ok::<(), wgpu_activations::ParseActivationError>(())
//! ```
//!
//! # Accuracy and speed
//!
//! Every result is measured against [`cpu`], an independent f64 reference
//! rounded once ([`accuracy`] has the judge): the piecewise-linear ops are
//! bit-exact; the smooth ops are within 2 scaled ULPs forward, 4 derivative
//! and 5 backward (scaled by the condition number, as `docs/accuracy.md` explains;
//! [`Precision::Fast`]: 4, 8 and 8),
//! checked over sweeps of the f32 bit patterns on every adapter, and 16-bit
//! data within 1 ULP over every f16 and bf16 value. Speed: the README's table and `docs/speed.md`'s
//! tables (ratios to Burn, to naive same-op kernels and to a copy kernel,
//! measured in the same run) and `cli/examples/bench.rs`.

#![deny(missing_docs)]

pub mod browser;
mod catalogue;
mod families;
mod gpu;
mod host;
mod reference;
pub mod wgsl;

pub use catalogue::activation::{
    Activation, Mode, ParseActivationError, SELU_ALPHA, SELU_SCALE, XIELU_ALPHA_N, XIELU_ALPHA_P,
    XIELU_EPS,
};
pub use catalogue::dtype::{Dtype, Element};
pub use catalogue::error::Error;
pub use catalogue::gated::{Gated, ParseGatedError};
pub use catalogue::precision::{ParsePrecisionError, Precision, WithPrecision};
pub use catalogue::prelu::MAX_PER_CHANNEL;
pub use catalogue::rowwise::RowOp;
pub use families::gated::GatedKernels;
pub use families::prelu::PreluKernels;
pub use families::rowwise::RowKernels;
pub use gpu::kernels::{BufferRegion, Kernels, Tuning};
pub use gpu::pool::PoolStats;
pub use gpu::tensor::GpuTensor;
pub use gpu::texture::TextureRegion;
pub use host::context::{Batch, Context, DEFAULT_POLL_TIMEOUT, recommended_features};
pub use reference::{accuracy, cpu};
pub use wgsl::texture::{Alpha, TEXTURE_FORMATS, TextureFormatSupport, TextureKernel};
