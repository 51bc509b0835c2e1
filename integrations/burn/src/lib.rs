//! [wgpu-activations](wgpu_activations) on [Burn](https://burn.dev)'s wgpu
//! tensors: every element-wise activation of the crate (PyTorch's semantics,
//! the Hugging Face zoo: QuickGELU, xIELU, Laplace, ReLU², clipped GELU, ...)
//! and its gated family (GLU, SwiGLU, GEGLU, ReGLU), forward and backward,
//! on `Tensor<D>`s of Burn's wgpu runtime, f32, f16 and bf16, any rank, with
//! autodiff: on an autodiff device the backward pass runs this crate's
//! backward kernel.
//!
//! Tested with Burn 0.22.1 (its `wgpu` backend, fusion on) on wgpu 30.
//!
//! ```no_run
//! use burn::tensor::{Device, Tensor};
//! use wgpu_activations_burn::{Activation, Activations};
//!
//! // Once: bring up Burn's wgpu runtime through this crate, which keeps the
//! // runtime's wgpu device and queue for its kernels.
//! let gpu = Activations::init(Device::wgpu_options())?;
//! let device = gpu.device().autodiff();
//!
//! let x = Tensor::<2>::from_floats([[-1.0, 0.5], [2.0, 3.0]], &device).require_grad();
//! let act: Activation = "quick_gelu".parse()?;
//! let y = wgpu_activations_burn::activation(x.clone(), act)?;
//! let grads = y.sum().backward();
//! let dx = x.grad(&grads).unwrap(); // ran wgpu-activations' backward kernel
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How the kernels reach Burn's tensors
//!
//! Burn's wgpu runtime (CubeCL) owns a `wgpu::Device` and queue. This crate
//! registers that device once ([`Activations::init`] or
//! [`Activations::register`]) and builds its [`Kernels`] on it; each call then
//! takes the `wgpu::Buffer` behind each tensor from CubeCL
//! (`ComputeClient::get_resource`), flushes CubeCL's pending work to the
//! queue, and submits its own command buffer on the same queue, into a tensor
//! CubeCL allocated. The queue orders the two: whatever CubeCL records later
//! runs after our kernel. So the kernel is exactly the one `Kernels::record`
//! runs outside Burn (same WGSL module, same pipeline): the results equal the
//! host API's bit for bit. (The alternative, Burn's `SourceKernel` for raw
//! WGSL, would need this crate's modules rewritten to CubeCL's binding
//! layout, without the pipeline-overridable constants they are specialised
//! with.)
//!
//! The operations are a Burn backend extension ([`ActivationBackend`]):
//! with fusion on they take their place in the fusion stream as opaque
//! operations (the fused blocks around them stay fused); under autodiff their
//! backward is this crate's backward kernel.

use std::sync::{Arc, Mutex, OnceLock};

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, AutodiffBackend, Dispatch, DispatchDevice, backend_extension};
use burn::tensor::wgpu::{WgpuOptions, WgpuSetup};
use burn::tensor::{DType, Device, Tensor};
use burn_cubecl::CubeBackend;
use burn_cubecl::kernel::into_contiguous;
use burn_cubecl::ops::numeric::empty_device_contiguous_dtype;
use burn_cubecl::tensor::CubeTensor;
use cubecl::wgpu::{AutoCompiler, WgpuDevice, WgpuResource, WgpuServer};

pub use wgpu_activations::{Activation, Gated, Mode, Precision};
use wgpu_activations::{BufferRegion, Dtype, GatedKernels, Kernels};

mod layer;
pub use layer::{ActivationConfig, ActivationLayer, GatedLayer};

/// What can go wrong before a kernel is recorded. Every check runs before
/// anything reaches the GPU; nothing is left half done.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The tensor is not on a wgpu device of Burn's CubeCL backend.
    #[error("the tensor is on {0}, not on Burn's wgpu runtime")]
    NotWgpu(String),
    /// The tensor's wgpu device was not brought up through
    /// [`Activations::init`] or [`Activations::register`], so this crate does
    /// not know its `wgpu::Device` (Burn does not expose it afterwards).
    #[error(
        "the tensor's wgpu device ({0}) was not registered with wgpu-activations: create it with \
         Activations::init, or register Burn's setup with Activations::register"
    )]
    NotRegistered(String),
    /// The tensors of one call are on different devices.
    #[error("{what} is on {found}, the other tensors on {expected}")]
    DeviceMismatch {
        /// Which tensor.
        what: &'static str,
        /// Its device.
        found: String,
        /// The first tensor's device.
        expected: String,
    },
    /// An element type the kernels do not compute (they take f32, f16, bf16).
    #[error("{what} is {dtype:?}; wgpu-activations computes f32, f16 and bf16 tensors")]
    Dtype {
        /// Which tensor.
        what: &'static str,
        /// Its element type.
        dtype: DType,
    },
    /// The tensors of one call differ in element type or shape.
    #[error("{what}: {found}, expected {expected} (as the first tensor)")]
    Mismatch {
        /// Which tensor.
        what: &'static str,
        /// What it has.
        found: String,
        /// What the first tensor has.
        expected: String,
    },
    /// The gated family's split: the dimension is out of range or odd.
    #[error("cannot split dimension {dim} of shape {shape:?} into value and gate halves")]
    Split {
        /// The dimension asked for.
        dim: usize,
        /// The tensor's shape.
        shape: Vec<usize>,
    },
    /// [`unary`] runs forward and derivative; the backward mode needs the
    /// gradient: [`backward`].
    #[error("Mode::Backward needs the gradient: call backward(x, grad, act)")]
    BackwardMode,
    /// An invalid activation (a parameter out of range, a name that does
    /// not parse), or a call the kernels refuse.
    #[error(transparent)]
    Kernel(#[from] wgpu_activations::Error),
    /// An activation string that does not parse.
    #[error(transparent)]
    Parse(#[from] wgpu_activations::ParseActivationError),
    /// A gated-kind string that does not parse.
    #[error(transparent)]
    ParseGated(#[from] wgpu_activations::ParseGatedError),
    /// Burn's wgpu runtime could not be brought up.
    #[error("Burn's wgpu runtime: {0}")]
    Init(#[from] burn::tensor::wgpu::WgpuInitError),
}

/// One registered device: Burn's runtime identity, its wgpu handles and this
/// crate's kernels built on them.
struct Shared {
    id: WgpuDevice,
    queue: wgpu::Queue,
    kernels: Kernels,
    gated: GatedKernels,
}

fn registry() -> &'static Mutex<Vec<Arc<Shared>>> {
    static REGISTRY: OnceLock<Mutex<Vec<Arc<Shared>>>> = OnceLock::new();
    REGISTRY.get_or_init(Default::default)
}

fn lookup(id: &WgpuDevice) -> Option<Arc<Shared>> {
    let registry = registry().lock().unwrap_or_else(|e| e.into_inner());
    registry.iter().find(|shared| &shared.id == id).cloned()
}

/// The wgpu runtime identity of a Burn device, with or without autodiff.
fn wgpu_id(device: &Device) -> Result<WgpuDevice, Error> {
    let plain = device.clone().without_autodiff();
    match plain.as_dispatch() {
        DispatchDevice::Cube(cubecl::Device::Wgpu(id)) => Ok(id.clone()),
        _ => Err(Error::NotWgpu(format!("{device:?}"))),
    }
}

/// Burn's wgpu runtime on one device, with this crate's kernels on its
/// `wgpu::Device`. Create it once (it registers the device for every
/// function of this crate) and use [`Activations::device`] for tensors and
/// models; cloning it is cheap.
#[derive(Clone)]
pub struct Activations {
    device: Device,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Activations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Activations")
            .field("device", &self.device)
            .finish_non_exhaustive()
    }
}

impl Activations {
    /// Brings up Burn's wgpu runtime with `options` (adapter, graphics API,
    /// memory and task settings, as Burn's `Device::wgpu_options()` builds
    /// them) and registers it. Fails as Burn's `init` does, for example when
    /// that runtime was already brought up by an earlier tensor operation:
    /// then register its setup with [`Activations::register`] instead.
    pub fn init(options: WgpuOptions) -> Result<Activations, Error> {
        let (device, setup) = options.init_with_setup()?;
        Activations::register(&device, &setup)
    }

    /// Registers a Burn wgpu device whose handles you have: the `setup`
    /// Burn's `init_with_setup` returned with `device`, or the one you gave
    /// Burn through `WgpuOptions::setup`. Registering the same device again
    /// returns the first registration.
    pub fn register(device: &Device, setup: &WgpuSetup) -> Result<Activations, Error> {
        let id = wgpu_id(device)?;
        let mut registry = registry().lock().unwrap_or_else(|e| e.into_inner());
        let shared = match registry.iter().find(|shared| shared.id == id) {
            Some(shared) => shared.clone(),
            None => {
                let shared = Arc::new(Shared {
                    id,
                    queue: setup.queue.clone(),
                    kernels: Kernels::new(&setup.device),
                    gated: GatedKernels::new(&setup.device),
                });
                registry.push(shared.clone());
                shared
            }
        };
        Ok(Activations {
            device: device.clone().without_autodiff(),
            shared,
        })
    }

    /// The Burn device (without autodiff; `.autodiff()` gives the one that
    /// records gradients).
    pub fn device(&self) -> Device {
        self.device.clone()
    }

    /// This crate's element-wise kernels on the device (to prepare
    /// pipelines ahead of time with `Kernels::prepare`, or to record into
    /// your own encoder).
    pub fn kernels(&self) -> &Kernels {
        &self.shared.kernels
    }
}

/// Burn's backend extension for this crate's kernels: implemented for
/// CubeBackend (the kernels), Fusion (generated: a deferred operation in the
/// fusion stream) and Autodiff (the backward kernels). Use the functions of
/// this crate ([`activation`], [`gated`], ...), which check their input and
/// return [`Error`]s, rather than these methods, which assume checked input.
#[backend_extension(Cube, Fusion, Autodiff)]
pub trait ActivationBackend: burn::backend::Backend {
    /// `mode` (forward or derivative) of `act` at `precision`, element-wise.
    #[fusion(dtype = x, shape = x)]
    fn wa_unary(
        x: FloatTensor<Self>,
        act: Activation,
        mode: Mode,
        precision: Precision,
    ) -> FloatTensor<Self>;

    /// `grad * act'(x)`, element-wise.
    #[fusion(dtype = x, shape = x)]
    fn wa_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        act: Activation,
        precision: Precision,
    ) -> FloatTensor<Self>;

    /// `value * gate_act(gate)`, element-wise.
    #[fusion(dtype = value, shape = value)]
    fn wa_gated(
        value: FloatTensor<Self>,
        gate: FloatTensor<Self>,
        kind: Gated,
        precision: Precision,
    ) -> FloatTensor<Self>;

    /// `(grad * gate_act(gate), grad * value * gate_act'(gate))` in one pass.
    #[fusion(meta = |value, _gate, _grad, _kind, _precision| (value.clone(), value.clone()))]
    fn wa_gated_backward(
        value: FloatTensor<Self>,
        gate: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        kind: Gated,
        precision: Precision,
    ) -> (FloatTensor<Self>, FloatTensor<Self>);
}

fn dtype_of(dtype: DType) -> Option<Dtype> {
    match dtype {
        DType::F32 => Some(Dtype::F32),
        DType::F16 => Some(Dtype::F16),
        DType::BF16 => Some(Dtype::Bf16),
        _ => None,
    }
}

/// A contiguous tensor's buffer, pinned for the call.
struct Bound {
    tensor: CubeTensor,
    resource: cubecl_runtime::storage::ManagedResource<WgpuResource>,
    len: usize,
    dtype: Dtype,
}

impl Bound {
    fn buffer(&self) -> &wgpu::Buffer {
        &self.resource.resource().buffer
    }

    fn region(&self) -> BufferRegion<'_> {
        let resource = self.resource.resource();
        BufferRegion::typed(&resource.buffer, resource.offset, self.len, self.dtype)
    }
}

/// The checked-input contract of [`ActivationBackend`]'s CubeBackend
/// implementation failed: a bug of this crate (the public functions check
/// everything first), or CubeCL refusing a buffer.
fn broken(what: impl std::fmt::Display) -> ! {
    panic!("wgpu-activations-burn: {what} (the public functions check their input first)")
}

/// Runs `record` on the device of `inputs[0]` with `N` outputs shaped like
/// it (the input `in_place` names, where it can be overwritten, then fresh
/// tensors): the buffers are taken from CubeCL, CubeCL's pending work is
/// flushed to the queue, and ours submitted after it.
fn launch<const N: usize>(
    inputs: Vec<CubeTensor>,
    in_place: Option<usize>,
    record: impl FnOnce(
        &Shared,
        &mut wgpu::CommandEncoder,
        &[BufferRegion<'_>],
        &[BufferRegion<'_>; N],
    ) -> Result<(), wgpu_activations::Error>,
) -> [CubeTensor; N] {
    let first = &inputs[0];
    let cubecl::Device::Wgpu(id) = &first.device else {
        broken(format!("a tensor on {:?}", first.device))
    };
    let shared = lookup(id).unwrap_or_else(|| broken("a tensor on an unregistered device"));
    let dtype = dtype_of(first.dtype).unwrap_or_else(|| broken(format!("{:?}", first.dtype)));
    let shape = first.meta.shape().clone();
    let len = shape.num_elements();
    let (client, device) = (first.client.clone(), first.device.clone());
    let bind = |tensor: CubeTensor| -> Bound {
        let resource = tensor
            .client
            .get_resource::<WgpuServer<AutoCompiler>>(tensor.handle.clone())
            .unwrap_or_else(|e| broken(format!("CubeCL's buffer: {e:?}")));
        Bound {
            tensor,
            resource,
            len,
            dtype,
        }
    };
    let inputs: Vec<Bound> = inputs
        .into_iter()
        .map(|tensor| bind(into_contiguous(tensor)))
        .collect();
    // wgpu binds no buffer both read-only and writable in one dispatch, even
    // at disjoint ranges, and CubeCL's pools put many tensors in one buffer:
    // an output that lands in the buffer of an input (or of another output)
    // is allocated again, in a buffer of its own.
    let dtype_burn = inputs[0].tensor.dtype;
    let allocate =
        || empty_device_contiguous_dtype(client.clone(), device.clone(), shape.clone(), dtype_burn);
    let same_buffer = |a: &Bound, b: &Bound| a.buffer() == b.buffer();
    // First choice for the first output: the input the kernel can overwrite
    // (its region exactly, already bound), when no one else holds that
    // tensor (as Burn's own element-wise ops do) and no other input shares
    // its buffer.
    let in_place = in_place.filter(|&i| {
        inputs[i].tensor.can_mut()
            && !(inputs.iter().enumerate())
                .any(|(j, other)| j != i && same_buffer(&inputs[i], other))
    });
    let mut fresh: Vec<Bound> = Vec::with_capacity(N);
    for _ in usize::from(in_place.is_some())..N {
        let mut output = bind(allocate());
        if inputs
            .iter()
            .chain(&fresh)
            .any(|other| same_buffer(&output, other))
        {
            output = bind(client.memory_dedicated_allocation((), |()| allocate()));
        }
        fresh.push(output);
    }
    // Everything CubeCL recorded so far goes to the queue before our command
    // buffer: `get_resource` above already submitted the streams that
    // produced each buffer (CubeCL's scheduler flushes the binding's stream
    // and the caller's), and this flush covers what the caller's stream
    // recorded since.
    client
        .flush()
        .unwrap_or_else(|e| broken(format!("CubeCL's flush: {e:?}")));
    let device_wgpu = shared.kernels.device();
    let mut encoder = device_wgpu.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("wgpu-activations-burn"),
    });
    let input_regions: Vec<BufferRegion<'_>> = inputs.iter().map(Bound::region).collect();
    let mut regions =
        (in_place.map(|i| input_regions[i]).into_iter()).chain(fresh.iter().map(Bound::region));
    let output_regions: [BufferRegion<'_>; N] =
        std::array::from_fn(|_| regions.next().expect("N outputs"));
    record(&shared, &mut encoder, &input_regions, &output_regions)
        .unwrap_or_else(|e| broken(format!("recording: {e}")));
    shared.queue.submit([encoder.finish()]);
    let mut tensors = (in_place.map(|i| inputs[i].tensor.clone()).into_iter())
        .chain(fresh.into_iter().map(|bound| bound.tensor));
    std::array::from_fn(|_| tensors.next().expect("N outputs"))
}

impl ActivationBackend for CubeBackend {
    fn wa_unary(
        x: FloatTensor<Self>,
        act: Activation,
        mode: Mode,
        precision: Precision,
    ) -> FloatTensor<Self> {
        let [y] = launch(vec![x], Some(0), |shared, encoder, inputs, [output]| {
            shared
                .kernels
                .with_precision(precision)
                .record(encoder, act, mode, inputs[0], None, *output)
        });
        y
    }

    fn wa_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        act: Activation,
        precision: Precision,
    ) -> FloatTensor<Self> {
        let [dx] = launch(
            vec![x, grad],
            Some(1),
            |shared, encoder, inputs, [output]| {
                shared.kernels.with_precision(precision).record(
                    encoder,
                    act,
                    Mode::Backward,
                    inputs[0],
                    Some(inputs[1]),
                    *output,
                )
            },
        );
        dx
    }

    fn wa_gated(
        value: FloatTensor<Self>,
        gate: FloatTensor<Self>,
        kind: Gated,
        precision: Precision,
    ) -> FloatTensor<Self> {
        let [y] = launch(
            vec![value, gate],
            None,
            |shared, encoder, inputs, [output]| {
                shared
                    .gated
                    .with_precision(precision)
                    .record_forward(encoder, kind, inputs[0], inputs[1], *output)
            },
        );
        y
    }

    fn wa_gated_backward(
        value: FloatTensor<Self>,
        gate: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        kind: Gated,
        precision: Precision,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let [d_value, d_gate] = launch(
            vec![value, gate, grad],
            None,
            |shared, encoder, inputs, [d_value, d_gate]| {
                shared.gated.with_precision(precision).record_backward(
                    encoder, kind, inputs[0], inputs[1], inputs[2], *d_value, *d_gate,
                )
            },
        );
        (d_value, d_gate)
    }
}

impl<B: ActivationBackend, C: CheckpointStrategy> ActivationBackend for Autodiff<B, C> {
    fn wa_unary(
        x: FloatTensor<Self>,
        act: Activation,
        mode: Mode,
        precision: Precision,
    ) -> FloatTensor<Self> {
        /// `f(x)`'s backward: our backward kernel on the checkpointed input.
        #[derive(Debug)]
        struct UnaryBackward {
            act: Activation,
            precision: Precision,
        }

        impl<B: ActivationBackend> Backward<B, 1> for UnaryBackward {
            type State = burn::backend::autodiff::NodeId;

            fn backward(
                self,
                ops: Ops<Self::State, 1>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [parent] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let x: FloatTensor<B> = checkpointer.retrieve_node_output(ops.state);
                if let Some(parent) = parent {
                    let dx = B::wa_backward(x, grad, self.act, self.precision);
                    grads.register::<B>(parent.id, dx);
                }
            }
        }

        // The derivative itself is returned without a graph of its own
        // (second derivatives are not provided): untracked.
        if mode != Mode::Forward {
            return Autodiff::<B, C>::from_inner(B::wa_unary(
                Autodiff::<B, C>::inner(x),
                act,
                mode,
                precision,
            ));
        }
        match (UnaryBackward { act, precision })
            .prepare::<C>([x.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let state = prep.checkpoint(&x);
                prep.finish(state, B::wa_unary(x.into_primitive(), act, mode, precision))
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(B::wa_unary(x.into_primitive(), act, mode, precision))
            }
        }
    }

    fn wa_backward(
        x: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        act: Activation,
        precision: Precision,
    ) -> FloatTensor<Self> {
        Autodiff::<B, C>::from_inner(B::wa_backward(
            Autodiff::<B, C>::inner(x),
            Autodiff::<B, C>::inner(grad),
            act,
            precision,
        ))
    }

    fn wa_gated(
        value: FloatTensor<Self>,
        gate: FloatTensor<Self>,
        kind: Gated,
        precision: Precision,
    ) -> FloatTensor<Self> {
        /// The gated forward's backward: one pass of our gated backward
        /// kernel gives both inputs' gradients.
        #[derive(Debug)]
        struct GatedBackward {
            kind: Gated,
            precision: Precision,
        }

        impl<B: ActivationBackend> Backward<B, 2> for GatedBackward {
            type State = (
                burn::backend::autodiff::NodeId,
                burn::backend::autodiff::NodeId,
            );

            fn backward(
                self,
                ops: Ops<Self::State, 2>,
                grads: &mut Gradients,
                checkpointer: &mut Checkpointer,
            ) {
                let [value_node, gate_node] = ops.parents;
                let grad = grads.consume::<B>(&ops.node);
                let (value_state, gate_state) = ops.state;
                let value: FloatTensor<B> = checkpointer.retrieve_node_output(value_state);
                let gate: FloatTensor<B> = checkpointer.retrieve_node_output(gate_state);
                let (d_value, d_gate) =
                    B::wa_gated_backward(value, gate, grad, self.kind, self.precision);
                if let Some(node) = value_node {
                    grads.register::<B>(node.id, d_value);
                }
                if let Some(node) = gate_node {
                    grads.register::<B>(node.id, d_gate);
                }
            }
        }

        match (GatedBackward { kind, precision })
            .prepare::<C>([value.node(), gate.node()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(mut prep) => {
                let value_state = prep.checkpoint(&value);
                let gate_state = prep.checkpoint(&gate);
                let y = B::wa_gated(
                    value.into_primitive(),
                    gate.into_primitive(),
                    kind,
                    precision,
                );
                prep.finish((value_state, gate_state), y)
            }
            OpsKind::UnTracked(prep) => prep.finish(B::wa_gated(
                value.into_primitive(),
                gate.into_primitive(),
                kind,
                precision,
            )),
        }
    }

    fn wa_gated_backward(
        value: FloatTensor<Self>,
        gate: FloatTensor<Self>,
        grad: FloatTensor<Self>,
        kind: Gated,
        precision: Precision,
    ) -> (FloatTensor<Self>, FloatTensor<Self>) {
        let (d_value, d_gate) = B::wa_gated_backward(
            Autodiff::<B, C>::inner(value),
            Autodiff::<B, C>::inner(gate),
            Autodiff::<B, C>::inner(grad),
            kind,
            precision,
        );
        (
            Autodiff::<B, C>::from_inner(d_value),
            Autodiff::<B, C>::from_inner(d_gate),
        )
    }
}

/// Checks one call's tensors: on a registered wgpu device, of one float
/// type the kernels compute, of one shape; returns the precision to run at.
fn check<const D: usize>(
    tensors: &[(&'static str, &Tensor<D>)],
    precision: Option<Precision>,
) -> Result<Precision, Error> {
    let (_, first) = tensors[0];
    let device = first.device();
    let id = wgpu_id(&device)?;
    if lookup(&id).is_none() {
        return Err(Error::NotRegistered(format!("{device:?}")));
    }
    let dtype = first.dtype();
    let Some(element) = dtype_of(dtype) else {
        return Err(Error::Dtype {
            what: tensors[0].0,
            dtype,
        });
    };
    let shape = first.dims();
    for &(what, tensor) in &tensors[1..] {
        let other = tensor.device();
        if wgpu_id(&other).ok().as_ref() != Some(&id) {
            return Err(Error::DeviceMismatch {
                what,
                found: format!("{other:?}"),
                expected: format!("{device:?}"),
            });
        }
        if dtype_of(tensor.dtype()).is_none() {
            return Err(Error::Dtype {
                what,
                dtype: tensor.dtype(),
            });
        }
        if tensor.dtype() != dtype {
            return Err(Error::Mismatch {
                what,
                found: format!("{:?}", tensor.dtype()),
                expected: format!("{dtype:?}"),
            });
        }
        if tensor.dims() != shape {
            return Err(Error::Mismatch {
                what,
                found: format!("shape {:?}", tensor.dims()),
                expected: format!("shape {shape:?}"),
            });
        }
    }
    Ok(precision.unwrap_or(Precision::default_for(element)))
}

/// `act(x)`, element-wise, at the data's default precision (`Precise` for
/// f32, `Fast` for f16 and bf16). Differentiable: on an autodiff device the
/// backward runs this crate's backward kernel (`grad * act'(x)`).
pub fn activation<const D: usize>(x: Tensor<D>, act: Activation) -> Result<Tensor<D>, Error> {
    unary(x, act, Mode::Forward, None)
}

/// [`activation`] at `precision`.
pub fn activation_at<const D: usize>(
    x: Tensor<D>,
    act: Activation,
    precision: Precision,
) -> Result<Tensor<D>, Error> {
    unary(x, act, Mode::Forward, Some(precision))
}

/// `act'(x)`, element-wise (PyTorch's derivative at the kinks). Not itself
/// differentiable: the result carries no gradient graph.
pub fn derivative<const D: usize>(x: Tensor<D>, act: Activation) -> Result<Tensor<D>, Error> {
    unary(x, act, Mode::Derivative, None)
}

/// `grad * act'(x)`, element-wise, in one kernel: the backward pass of
/// [`activation`], for your own autodiff code.
pub fn backward<const D: usize>(
    x: Tensor<D>,
    grad: Tensor<D>,
    act: Activation,
) -> Result<Tensor<D>, Error> {
    backward_at_opt(x, grad, act, None)
}

/// [`backward`] at `precision`.
pub fn backward_at<const D: usize>(
    x: Tensor<D>,
    grad: Tensor<D>,
    act: Activation,
    precision: Precision,
) -> Result<Tensor<D>, Error> {
    backward_at_opt(x, grad, act, Some(precision))
}

/// `mode` of `act` (forward or derivative; [`backward`] takes the gradient),
/// at `precision` or the data's default.
pub fn unary<const D: usize>(
    x: Tensor<D>,
    act: Activation,
    mode: Mode,
    precision: Option<Precision>,
) -> Result<Tensor<D>, Error> {
    act.validate()?;
    if mode == Mode::Backward {
        return Err(Error::BackwardMode);
    }
    let precision = check(&[("x", &x)], precision)?;
    Ok(Tensor::from_dispatch(Dispatch::wa_unary(
        x.into_dispatch(),
        act,
        mode,
        precision,
    )))
}

fn backward_at_opt<const D: usize>(
    x: Tensor<D>,
    grad: Tensor<D>,
    act: Activation,
    precision: Option<Precision>,
) -> Result<Tensor<D>, Error> {
    act.validate()?;
    let precision = check(&[("x", &x), ("grad", &grad)], precision)?;
    Ok(Tensor::from_dispatch(Dispatch::wa_backward(
        x.into_dispatch(),
        grad.into_dispatch(),
        act,
        precision,
    )))
}

/// `value * act(gate)` of a gated kind (GLU's sigmoid, SwiGLU's SiLU,
/// GEGLU's GELU, ...), element-wise. Differentiable in both inputs through
/// this crate's gated backward kernel.
pub fn gated<const D: usize>(
    value: Tensor<D>,
    gate: Tensor<D>,
    kind: Gated,
) -> Result<Tensor<D>, Error> {
    gated_at_opt(value, gate, kind, None)
}

/// [`gated`] at `precision`.
pub fn gated_at<const D: usize>(
    value: Tensor<D>,
    gate: Tensor<D>,
    kind: Gated,
    precision: Precision,
) -> Result<Tensor<D>, Error> {
    gated_at_opt(value, gate, kind, Some(precision))
}

fn gated_at_opt<const D: usize>(
    value: Tensor<D>,
    gate: Tensor<D>,
    kind: Gated,
    precision: Option<Precision>,
) -> Result<Tensor<D>, Error> {
    let precision = check(&[("value", &value), ("gate", &gate)], precision)?;
    Ok(Tensor::from_dispatch(Dispatch::wa_gated(
        value.into_dispatch(),
        gate.into_dispatch(),
        kind,
        precision,
    )))
}

/// `(grad * act(gate), grad * value * act'(gate))`, the gradients of
/// [`gated`] with respect to `value` and `gate`, in one kernel.
pub fn gated_backward<const D: usize>(
    value: Tensor<D>,
    gate: Tensor<D>,
    grad: Tensor<D>,
    kind: Gated,
) -> Result<(Tensor<D>, Tensor<D>), Error> {
    let precision = check(&[("value", &value), ("gate", &gate), ("grad", &grad)], None)?;
    let (d_value, d_gate) = Dispatch::wa_gated_backward(
        value.into_dispatch(),
        gate.into_dispatch(),
        grad.into_dispatch(),
        kind,
        precision,
    );
    Ok((
        Tensor::from_dispatch(d_value),
        Tensor::from_dispatch(d_gate),
    ))
}

/// PyTorch's `F.glu(x, dim)` and its family: splits `x` in halves along
/// `dim`, the first the value and the second the gate, and returns
/// `value * act(gate)` ([`gated`]). `dim` must have an even size.
pub fn glu<const D: usize>(x: Tensor<D>, dim: usize, kind: Gated) -> Result<Tensor<D>, Error> {
    let dims = x.dims();
    if dim >= D || !dims[dim].is_multiple_of(2) {
        return Err(Error::Split {
            dim,
            shape: dims.to_vec(),
        });
    }
    let mut halves = x.chunk(2, dim);
    let gate = halves.pop().expect("two halves");
    let value = halves.pop().expect("two halves");
    gated(value, gate, kind)
}
