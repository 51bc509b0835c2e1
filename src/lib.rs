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
//! ```no_run
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

#![deny(missing_docs)]

pub mod accuracy;
mod activation;
pub mod browser;
mod context;
pub mod cpu;
mod dtype;
mod error;
mod family;
mod gated;
mod kernels;
mod pool;
mod prelu;
mod readback;
mod rowwise;
mod tensor;
pub mod wgsl;

pub use activation::{Activation, Mode, ParseActivationError, SELU_ALPHA, SELU_SCALE};
pub use context::{Batch, Context, DEFAULT_POLL_TIMEOUT, recommended_features};
pub use dtype::{Dtype, Element};
pub use error::Error;
pub use gated::{Gated, GatedKernels, ParseGatedError};
pub use kernels::{BufferRegion, Kernels, Tuning};
pub use pool::PoolStats;
pub use prelu::{MAX_PER_CHANNEL, PreluKernels};
pub use rowwise::{RowKernels, RowOp};
pub use tensor::GpuTensor;
