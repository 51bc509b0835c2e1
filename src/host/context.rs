//! The owning convenience: a device, its queue and the cached kernels.

use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use crate::gpu::device::scoped;
use crate::gpu::pool::{Pool, PoolStats, Role};
use crate::{
    Activation, BufferRegion, Dtype, Element, Error, GatedKernels, GpuTensor, Kernels, Mode,
    Precision, PreluKernels, RowKernels,
};

/// How long a readback waits for the GPU before reporting `Error::Poll`.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(120);

/// A GPU device with compiled activation kernels. `Send + Sync`; cloning is
/// cheap and shares the device and the pipeline cache.
///
/// ```
/// use wgpu_activations::{Activation, Context};
///
/// let ctx = Context::new()?;
/// let y = ctx.forward(Activation::Sigmoid, &[-3.0, 0.0, 3.0])?;
/// assert!((y[0] - 0.0474).abs() < 1e-4);
/// let dx = ctx.backward(Activation::Tanh, &[0.5, 1.0], &[1.0, 2.0])?;
/// assert_eq!(dx.len(), 2);
/// # Ok::<(), wgpu_activations::Error>(())
/// ```
#[derive(Clone)]
pub struct Context {
    inner: Arc<Inner>,
    poll_timeout: Duration,
    /// The tier of every op this handle runs; `None`: each dtype's default.
    precision: Option<Precision>,
}

struct Inner {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    kernels: Kernels,
    /// The gated family's kernels (compiled on first use).
    gated: GatedKernels,
    /// The row-wise family's kernels (compiled on first use).
    rowwise: RowKernels,
    /// PReLU's and RReLU-training's kernels (compiled on first use).
    prelu: PreluKernels,
    /// Buffers of the host-slice API, reused across calls.
    pool: Arc<Pool>,
    /// Kernels may bind mappable buffers (unified memory): no staging copies.
    mapped_storage: bool,
    /// Set once the device is lost (or a readback timed out).
    lost: Arc<Lost>,
    /// This context's id (shared by its clones), marked on the tensors it
    /// makes.
    id: u64,
}

/// Ids of contexts, one per [`Context::from_device`] call.
static NEXT_CONTEXT_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

/// Whether a context's device is lost, and why: the first reason given,
/// set once (reading it is lock-free, as every call checks it).
#[derive(Default)]
struct Lost {
    reason: OnceLock<String>,
}

impl Lost {
    fn mark(&self, reason: String) {
        // A later reason (the callback after a timed-out wait) keeps the first.
        let _ = self.reason.set(reason);
    }

    fn is_lost(&self) -> bool {
        self.reason.get().is_some()
    }

    /// `result`, marking the device lost where it is an error that only a
    /// lost or hung device gives: a failed or timed-out wait for the GPU, or
    /// a buffer of this crate's own that cannot be mapped.
    fn watch<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        match &result {
            Err(Error::Poll(e)) => self.mark(format!("waiting for the GPU failed: {e}")),
            Err(Error::Map(e)) => self.mark(format!("mapping a readback buffer failed: {e}")),
            Err(Error::MapRange(e)) => {
                self.mark(format!("mapping a buffer of this crate's failed: {e}"))
            }
            _ => {}
        }
        result
    }

    fn check(&self) -> Result<(), Error> {
        match self.reason.get() {
            None => Ok(()),
            Some(reason) => Err(Error::DeviceLost {
                reason: reason.clone(),
            }),
        }
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("adapter", &self.inner.info.name)
            .field("backend", &self.inner.info.backend)
            .finish_non_exhaustive()
    }
}

fn instance() -> wgpu::Instance {
    // Honours WGPU_BACKEND (and wgpu's other instance variables).
    wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env())
}

fn backends_from_env() -> wgpu::Backends {
    wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all())
}

/// CPU adapters (lavapipe, llvmpipe, WARP) and integrated GPUs share the
/// host's memory.
fn unified_memory(device_type: wgpu::DeviceType) -> bool {
    matches!(
        device_type,
        wgpu::DeviceType::Cpu | wgpu::DeviceType::IntegratedGpu
    )
}

/// The optional features this crate makes use of, among those `adapter`
/// has: request them (with any of your own) when you open a device for
/// [`Context::from_device`] or [`Kernels::new`](crate::Kernels::new).
/// Immediates carry each dispatch's length and parameters without a buffer;
/// pipeline caches skip recompilation on the next start; on unified memory,
/// mappable storage buffers spare the host-slice API its staging copies (on
/// discrete GPUs they would be slow); on CPU adapters, 64-bit integers let
/// the kernels move packed f32 pairs ([`crate::wgsl::Width::Packed`]);
/// subgroup operations shorten the row-wise kernels' reductions; WGSL's
/// `f16` type converts f16 data natively ([`crate::wgsl::Storage::F16`]);
/// the adapter's own texture format features let the texture kernels write
/// `R16Float` and `Rg16Float` and work in place where it allows
/// ([`Kernels::texture_formats`](crate::Kernels::texture_formats)).
pub fn recommended_features(adapter: &wgpu::Adapter) -> wgpu::Features {
    let device_type = adapter.get_info().device_type;
    let mut features = wgpu::Features::IMMEDIATES | wgpu::Features::PIPELINE_CACHE;
    if unified_memory(device_type) {
        features |= wgpu::Features::MAPPABLE_PRIMARY_BUFFERS;
    }
    if device_type == wgpu::DeviceType::Cpu {
        features |= wgpu::Features::SHADER_INT64;
    }
    // The row-wise kernels' reductions (RowKernels).
    features |= wgpu::Features::SUBGROUP;
    // f16 data through WGSL's f16 type (Storage::F16).
    features |= wgpu::Features::SHADER_F16;
    // The adapter's own texture format features: R16Float and Rg16Float
    // storage textures and read-write (in place) storage textures for the
    // texture kernels (src/texture.rs) where the adapter has them.
    features |= wgpu::Features::TEXTURE_ADAPTER_SPECIFIC_FORMAT_FEATURES;
    features & adapter.features()
}

async fn open(adapter: &wgpu::Adapter) -> Result<Context, Error> {
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("wgpu-activations"),
            required_features: recommended_features(adapter),
            // The adapter's own limits: bigger buffers and bindings than the defaults.
            required_limits: adapter.limits(),
            ..Default::default()
        })
        .await?;
    // Errors of this crate's own calls are caught by error scopes and returned;
    // anything else is reported instead of aborting the process.
    device.on_uncaptured_error(Arc::new(|error| {
        eprintln!("wgpu-activations: uncaptured wgpu error: {error}");
    }));
    let ctx = Context::from_device(device, queue);
    // The device is this context's own: its loss is the context's to report.
    let lost = ctx.inner.lost.clone();
    ctx.inner
        .device
        .set_device_lost_callback(move |reason, message| {
            lost.mark(format!("{reason:?}: {message}"));
        });
    Ok(ctx)
}

impl Context {
    /// Opens the best adapter. Honours `WGPU_BACKEND` (e.g. `vulkan`, `gl`),
    /// `WGPU_ADAPTER_NAME` (case-insensitive substring) and `WGPU_POWER_PREF`
    /// (`low`, `high`, `none`).
    pub fn new() -> Result<Context, Error> {
        pollster::block_on(Self::new_async())
    }

    /// Async form of [`Context::new`].
    pub async fn new_async() -> Result<Context, Error> {
        let instance = instance();
        let adapter = if let Ok(wanted) = std::env::var("WGPU_ADAPTER_NAME") {
            let wanted = wanted.to_lowercase();
            let adapters = instance.enumerate_adapters(backends_from_env()).await;
            let names: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
            adapters
                .into_iter()
                .find(|a| a.get_info().name.to_lowercase().contains(&wanted))
                .ok_or_else(|| Error::NoAdapter {
                    detail: format!(
                        "WGPU_ADAPTER_NAME={wanted:?} matches none of the adapters found ({names:?})"
                    ),
                })?
        } else {
            instance
                .request_adapter(&wgpu::RequestAdapterOptions {
                    power_preference: wgpu::PowerPreference::from_env().unwrap_or_default(),
                    ..Default::default()
                })
                .await
                .map_err(|e| Error::NoAdapter {
                    detail: format!("{e} (backends: {:?})", backends_from_env()),
                })?
        };
        open(&adapter).await
    }

    /// One context per usable adapter on every backend (restricted by
    /// `WGPU_BACKEND` and `WGPU_ADAPTER_NAME` when set). Errors with
    /// [`Error::NoAdapter`] when there is none.
    pub fn all_adapters() -> Result<Vec<Context>, Error> {
        pollster::block_on(async {
            let instance = instance();
            let wanted = std::env::var("WGPU_ADAPTER_NAME")
                .ok()
                .map(|s| s.to_lowercase());
            let mut contexts = Vec::new();
            let mut failures = Vec::new();
            for adapter in instance.enumerate_adapters(backends_from_env()).await {
                let info = adapter.get_info();
                if let Some(wanted) = &wanted
                    && !info.name.to_lowercase().contains(wanted)
                {
                    continue;
                }
                match open(&adapter).await {
                    Ok(ctx) => contexts.push(ctx),
                    Err(e) => failures.push(format!("{} ({:?}): {e}", info.name, info.backend)),
                }
            }
            if contexts.is_empty() {
                return Err(Error::NoAdapter {
                    detail: format!(
                        "no adapter on backends {:?}{}{}",
                        backends_from_env(),
                        wanted
                            .map(|w| format!(" matching WGPU_ADAPTER_NAME={w:?}"))
                            .unwrap_or_default(),
                        if failures.is_empty() {
                            String::new()
                        } else {
                            format!("; failed: {}", failures.join("; "))
                        }
                    ),
                });
            }
            Ok(contexts)
        })
    }

    /// Wraps a device the caller already owns; pipelines are compiled on it
    /// as needed. The caller's uncaptured-error handler and device-lost
    /// callback are left alone: wgpu keeps one of each per device, so this
    /// context learns of a loss only from a readback that fails or times out,
    /// or when told with [`Context::notify_device_lost`] (call it from your
    /// own `set_device_lost_callback` closure).
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Context {
        let info = device.adapter_info();
        let kernels = Kernels::new(&device);
        let gated = GatedKernels::new(&device);
        let rowwise = RowKernels::new(&device);
        let prelu = PreluKernels::new(&device);
        let pool = Pool::new(&device, POOL_BUDGET);
        let mapped_storage = device
            .features()
            .contains(wgpu::Features::MAPPABLE_PRIMARY_BUFFERS)
            && unified_memory(info.device_type);
        Context {
            inner: Arc::new(Inner {
                device,
                queue,
                info,
                kernels,
                gated,
                rowwise,
                prelu,
                pool,
                mapped_storage,
                lost: Arc::new(Lost::default()),
                id: NEXT_CONTEXT_ID.fetch_add(1, Ordering::Relaxed),
            }),
            poll_timeout: DEFAULT_POLL_TIMEOUT,
            precision: None,
        }
    }

    /// True once the device is lost ([`Error::DeviceLost`]) or a readback
    /// timed out ([`Error::Poll`]): every call fails at once from then on.
    /// A context opened by [`Context::new`] or [`Context::all_adapters`]
    /// follows its device's lost callback; one made by
    /// [`Context::from_device`] learns of a loss from a failed or timed-out
    /// readback, or from [`Context::notify_device_lost`].
    ///
    /// ```
    /// use wgpu_activations::{Activation, Context, Error};
    ///
    /// let ctx = Context::new()?;
    /// ctx.device().destroy(); // what a driver reset looks like
    /// assert!(ctx.is_lost());
    /// assert!(matches!(ctx.forward(Activation::Relu, &[1.0]), Err(Error::DeviceLost { .. })));
    /// let fresh = Context::new()?; // a new device works
    /// # let _ = fresh;
    /// # Ok::<(), Error>(())
    /// ```
    pub fn is_lost(&self) -> bool {
        // wgpu reports a loss from its next maintenance, which a
        // non-blocking poll runs.
        let _ = self.inner.device.poll(wgpu::PollType::Poll);
        self.inner.lost.is_lost()
    }

    /// Tells the context that its device is lost (for contexts over the
    /// caller's device, [`Context::from_device`]): every later call fails
    /// with [`Error::DeviceLost`] and `reason`.
    pub fn notify_device_lost(&self, reason: &str) {
        self.inner.lost.mark(reason.to_string());
    }

    /// `Ok` while the device is usable, [`Error::DeviceLost`] after.
    pub(crate) fn usable(&self) -> Result<(), Error> {
        self.inner.lost.check()
    }

    /// A readback's result: a failed or timed-out wait for the GPU means a
    /// lost or hung device, after which the context is not used again.
    fn watch<T>(&self, result: Result<T, Error>) -> Result<T, Error> {
        self.inner.lost.watch(result)
    }

    /// The same context with a different limit on how long a readback waits
    /// for the GPU (default [`DEFAULT_POLL_TIMEOUT`]).
    pub fn with_poll_timeout(&self, timeout: Duration) -> Context {
        Context {
            poll_timeout: timeout,
            ..self.clone()
        }
    }

    /// The same context (device, queue, kernels, pool) computing every op at
    /// `precision`, for every dtype, on every layer (host slices, resident
    /// tensors and batches, the families, textures). Without it a context
    /// uses [`Precision::default_for`] each dtype: `Precise` for f32,
    /// `Fast` for f16 and bf16.
    pub fn with_precision(&self, precision: Precision) -> Context {
        Context {
            precision: Some(precision),
            ..self.clone()
        }
    }

    /// The tier this context computes data of `dtype` at.
    pub fn precision_for(&self, dtype: Dtype) -> Precision {
        self.precision
            .unwrap_or_else(|| Precision::default_for(dtype))
    }

    /// The wgpu device.
    pub fn device(&self) -> &wgpu::Device {
        &self.inner.device
    }

    /// The wgpu queue.
    pub fn queue(&self) -> &wgpu::Queue {
        &self.inner.queue
    }

    /// The backend the device runs on (Vulkan, Gl, Metal, Dx12, ...).
    pub fn backend(&self) -> wgpu::Backend {
        self.inner.info.backend
    }

    /// The adapter's name, e.g. `"llvmpipe (LLVM 15.0.6, 256 bits)"`.
    pub fn adapter_name(&self) -> String {
        self.inner.info.name.clone()
    }

    /// The adapter's full description.
    pub fn adapter_info(&self) -> &wgpu::AdapterInfo {
        &self.inner.info
    }

    /// The lower layer on this context's device (record into your own encoder).
    pub fn kernels(&self) -> &Kernels {
        &self.inner.kernels
    }

    /// The gated family's lower layer on this context's device.
    pub fn gated_kernels(&self) -> &GatedKernels {
        &self.inner.gated
    }

    /// The row-wise family's lower layer on this context's device.
    pub fn row_kernels(&self) -> &RowKernels {
        &self.inner.rowwise
    }

    /// PReLU's and RReLU-training's lower layer on this context's device.
    pub fn prelu_kernels(&self) -> &PreluKernels {
        &self.inner.prelu
    }

    /// `f(x)` element-wise on the GPU, for `f32`, `half::f16` or
    /// `half::bf16` data (16-bit data is computed in f32 and rounded once to
    /// its type).
    ///
    /// ```
    /// use half::f16;
    /// use wgpu_activations::{Activation, Context};
    ///
    /// let ctx = Context::new()?;
    /// let x = [-3.0, 0.0, 3.0].map(f16::from_f32);
    /// let y: Vec<f16> = ctx.forward(Activation::Sigmoid, &x)?; // [0.04742, 0.5, 0.9526]
    /// # let _ = y;
    /// # Ok::<(), wgpu_activations::Error>(())
    /// ```
    pub fn forward<T: Element>(&self, act: Activation, x: &[T]) -> Result<Vec<T>, Error> {
        self.run(act, Mode::Forward, x, None)
    }

    /// `f'(x)` element-wise on the GPU (PyTorch's value at kinks).
    pub fn derivative<T: Element>(&self, act: Activation, x: &[T]) -> Result<Vec<T>, Error> {
        self.run(act, Mode::Derivative, x, None)
    }

    /// `grad_output * f'(x)` element-wise on the GPU: the gradient with respect
    /// to `x` given the gradient of the loss with respect to `f(x)`.
    pub fn backward<T: Element>(
        &self,
        act: Activation,
        x: &[T],
        grad_output: &[T],
    ) -> Result<Vec<T>, Error> {
        self.run(act, Mode::Backward, x, Some(grad_output))
    }

    /// Host slices in, `Vec` out.
    fn run<T: Element>(
        &self,
        act: Activation,
        mode: Mode,
        x: &[T],
        grad_output: Option<&[T]>,
    ) -> Result<Vec<T>, Error> {
        // Size first, so a too-large input errs before a host allocation.
        self.checked_bytes_of(x.len(), T::DTYPE)?;
        let mut out = crate::gpu::readback::output_vec::<T>(x.len());
        self.run_into(act, mode, x, grad_output, &mut out)?;
        Ok(out)
    }

    /// Host slices in, results into `out`: upload, dispatch and readback in
    /// one submission, through pooled buffers (upload staging kept mapped
    /// between calls), so repeated calls of similar size allocate nothing new
    /// on the GPU. On unified-memory adapters (CPU and integrated, with
    /// `Features::MAPPABLE_PRIMARY_BUFFERS`) the kernel reads and writes
    /// mapped buffers directly, without the two staging copies.
    fn run_into<T: Element>(
        &self,
        act: Activation,
        mode: Mode,
        x: &[T],
        grad_output: Option<&[T]>,
        out: &mut [T],
    ) -> Result<(), Error> {
        self.usable()?;
        act.validate()?;
        for (what, len) in [
            ("grad_output", grad_output.map(<[T]>::len)),
            ("output", Some(out.len())),
        ] {
            if let Some(len) = len.filter(|len| *len != x.len()) {
                return Err(Error::LengthMismatch {
                    what,
                    expected: x.len(),
                    actual: len,
                });
            }
        }
        if x.is_empty() {
            return Ok(());
        }
        self.checked_bytes_of(x.len(), T::DTYPE)?;
        let device = &self.inner.device;
        let mut staging = HostStaging::new(self);
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("wgpu-activations.host"),
        });
        let bytes = T::DTYPE.bound_bytes(x.len() as u64);
        let readable = scoped(device, || -> Result<(Role, wgpu::Buffer), Error> {
            let input = staging.upload(&mut encoder, bytemuck::cast_slice(x))?;
            let grad = grad_output
                .map(|g| staging.upload(&mut encoder, bytemuck::cast_slice(g)))
                .transpose()?;
            let output = staging.output(bytes);
            let region = |buffer| BufferRegion::typed(buffer, 0, x.len(), T::DTYPE);
            self.inner.kernels.record_at(
                &mut encoder,
                act,
                mode,
                self.precision_for(T::DTYPE),
                (region(&input), grad.as_ref().map(region), region(&output)),
            )?;
            Ok(staging.readable(&mut encoder, output, bytes))
        })??;
        let submission = scoped(device, || self.inner.queue.submit([encoder.finish()]))?;
        scoped(device, || staging.submitted())?;
        let (role, buffer) = readable;
        self.watch(crate::gpu::readback::read_into(
            device,
            &buffer,
            submission,
            self.poll_timeout,
            bytemuck::cast_slice_mut(out),
        ))?;
        self.inner.pool.give(role, buffer);
        staging.finish();
        Ok(())
    }

    /// [`Context::forward`] into the caller's slice (same length as `x`): no
    /// allocation, and no page faults when `out` is reused across calls.
    pub fn forward_into<T: Element>(
        &self,
        act: Activation,
        x: &[T],
        out: &mut [T],
    ) -> Result<(), Error> {
        self.run_into(act, Mode::Forward, x, None, out)
    }

    /// [`Context::derivative`] into the caller's slice.
    pub fn derivative_into<T: Element>(
        &self,
        act: Activation,
        x: &[T],
        out: &mut [T],
    ) -> Result<(), Error> {
        self.run_into(act, Mode::Derivative, x, None, out)
    }

    /// [`Context::backward`] into the caller's slice.
    pub fn backward_into<T: Element>(
        &self,
        act: Activation,
        x: &[T],
        grad_output: &[T],
        out: &mut [T],
    ) -> Result<(), Error> {
        self.run_into(act, Mode::Backward, x, Some(grad_output), out)
    }

    /// The context's buffer pool: the host-slice API's staging and storage,
    /// reads' staging, and the results of `apply`, `apply_*` and `Batch`,
    /// which go back to it when their `GpuTensor` is dropped (see its
    /// `Drop`). Free buffers kept for reuse (at most
    /// [`PoolStats::budget_bytes`], 512 MiB unless set), their bytes, and
    /// buffers created so far: repeated calls of similar size create none.
    pub fn pool_stats(&self) -> PoolStats {
        self.inner.pool.stats()
    }

    /// Sets the most bytes of free buffers the pool keeps (0 keeps none:
    /// every call allocates, as without a pool); the oldest go first.
    pub fn set_pool_budget(&self, bytes: u64) {
        self.inner.pool.set_budget(bytes);
    }

    /// Copies `x` (f32, `half::f16` or `half::bf16`) into a new GPU tensor
    /// of that dtype (usable as input and output of every unary op, and
    /// readable).
    pub fn upload<T: Element>(&self, x: &[T]) -> Result<GpuTensor, Error> {
        self.checked_bytes_of(x.len(), T::DTYPE)?;
        let device = &self.inner.device;
        let bytes: &[u8] = bytemuck::cast_slice(x);
        scoped(device, || {
            // Padded to whole words (an odd number of 16-bit values ends in
            // half a word, the other half zero).
            let buffer = self.watch(crate::gpu::readback::buffer_with(
                device,
                "wgpu-activations.tensor",
                TENSOR_USAGE,
                bytes,
            ))?;
            Ok(GpuTensor::from_buffer_typed(buffer, 0, x.len(), T::DTYPE)?.made_by(self.inner.id))
        })?
    }

    /// Reads an f32 tensor back to the host (waits for the GPU, at most the
    /// poll timeout), through a pooled staging buffer. A tensor of another
    /// dtype is [`Error::DtypeMismatch`]: read it with [`Context::read_as`].
    pub fn read(&self, t: &GpuTensor) -> Result<Vec<f32>, Error> {
        self.batch().read(t)
    }

    /// Reads a tensor of element type `T` back to the host
    /// (`ctx.read_as::<half::f16>(&t)`); [`Error::DtypeMismatch`] where `T`
    /// is not the tensor's dtype.
    pub fn read_as<T: Element>(&self, t: &GpuTensor) -> Result<Vec<T>, Error> {
        self.batch().read_as(t)
    }

    /// Async form of [`Context::read`]: the wait for the GPU happens on a
    /// helper thread, so an async runtime is not blocked.
    pub async fn read_async(&self, t: &GpuTensor) -> Result<Vec<f32>, Error> {
        self.batch().read_async(t).await
    }

    /// `f(x)` into a new tensor, submitted at once; nothing is read back.
    pub fn apply(&self, act: Activation, x: &GpuTensor) -> Result<GpuTensor, Error> {
        let mut batch = self.batch();
        let y = batch.apply(act, x)?;
        batch.submit()?;
        Ok(y)
    }

    /// `x = f(x)` in place (the same bits as [`Context::apply`]), submitted at once.
    pub fn apply_in_place(&self, act: Activation, x: &mut GpuTensor) -> Result<(), Error> {
        let mut batch = self.batch();
        batch.apply_in_place(act, x)?;
        batch.submit()?;
        Ok(())
    }

    /// `f'(x)` into a new tensor, submitted at once.
    pub fn apply_derivative(&self, act: Activation, x: &GpuTensor) -> Result<GpuTensor, Error> {
        let mut batch = self.batch();
        let y = batch.apply_derivative(act, x)?;
        batch.submit()?;
        Ok(y)
    }

    /// `grad_output * f'(x)` into a new tensor, submitted at once.
    pub fn apply_backward(
        &self,
        act: Activation,
        x: &GpuTensor,
        grad_output: &GpuTensor,
    ) -> Result<GpuTensor, Error> {
        let mut batch = self.batch();
        let y = batch.apply_backward(act, x, grad_output)?;
        batch.submit()?;
        Ok(y)
    }

    /// One batch of `record`, submitted at once (the kernel families'
    /// resident forms on the context).
    pub(crate) fn submit_batch<T>(
        &self,
        record: impl FnOnce(&mut Batch<'_>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let mut batch = self.batch();
        let value = record(&mut batch)?;
        batch.submit()?;
        Ok(value)
    }

    /// Starts a batch: any number of ops recorded into one command encoder,
    /// submitted once (a chain `x -> gelu -> tanh -> backward` is one submit
    /// and, with [`Batch::read`], one readback).
    pub fn batch(&self) -> Batch<'_> {
        let encoder = self
            .inner
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wgpu-activations.batch"),
            });
        self.inner.pool.open_batch();
        Batch {
            ctx: self,
            encoder: Some(encoder),
        }
    }

    /// The host-slice path of the kernel families beyond the unary ops:
    /// uploads `inputs` (through the pool's mapped staging buffers), lets
    /// `record` record its dispatches over them and over one fresh storage
    /// region per entry of `output_lens`, reads every output back, one
    /// submission in all. Lengths of zero are allowed (regions of length 0
    /// that `record` must not dispatch over).
    pub(crate) fn run_host<T: Element, const N: usize>(
        &self,
        inputs: &[&[T]],
        output_lens: &[usize; N],
        record: impl FnOnce(
            &mut wgpu::CommandEncoder,
            &[BufferRegion<'_>],
            &[BufferRegion<'_>],
        ) -> Result<(), Error>,
    ) -> Result<[Vec<T>; N], Error> {
        self.usable()?;
        for len in inputs
            .iter()
            .map(|x| x.len())
            .chain(output_lens.iter().copied())
        {
            self.checked_bytes_of(len, T::DTYPE)?;
        }
        let device = &self.inner.device;
        let mut staging = HostStaging::new(self);
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("wgpu-activations.host"),
        });
        let readables = scoped(device, || -> Result<Vec<(Role, wgpu::Buffer)>, Error> {
            let storage_in = inputs
                .iter()
                .map(|data| staging.upload(&mut encoder, bytemuck::cast_slice(data)))
                .collect::<Result<Vec<_>, Error>>()?;
            let storage_out: Vec<wgpu::Buffer> = output_lens
                .iter()
                .map(|&len| staging.output(T::DTYPE.bound_bytes(len as u64)))
                .collect();
            {
                let in_regions: Vec<BufferRegion<'_>> = storage_in
                    .iter()
                    .zip(inputs)
                    .map(|(b, x)| BufferRegion::typed(b, 0, x.len(), T::DTYPE))
                    .collect();
                let out_regions: Vec<BufferRegion<'_>> = storage_out
                    .iter()
                    .zip(output_lens)
                    .map(|(b, &len)| BufferRegion::typed(b, 0, len, T::DTYPE))
                    .collect();
                record(&mut encoder, &in_regions, &out_regions)?;
            }
            Ok(storage_out
                .into_iter()
                .zip(output_lens)
                .map(|(buffer, &len)| {
                    staging.readable(&mut encoder, buffer, T::DTYPE.bound_bytes(len as u64))
                })
                .collect())
        })??;
        let submission = scoped(device, || self.inner.queue.submit([encoder.finish()]))?;
        scoped(device, || staging.submitted())?;
        let mut outputs: [Vec<T>; N] = std::array::from_fn(|_| Vec::new());
        for (((role, buffer), &len), out) in
            readables.into_iter().zip(output_lens).zip(&mut outputs)
        {
            *out = crate::gpu::readback::output_vec::<T>(len);
            if len > 0 {
                self.watch(crate::gpu::readback::read_into(
                    device,
                    &buffer,
                    submission.clone(),
                    self.poll_timeout,
                    bytemuck::cast_slice_mut(out.as_mut_slice()),
                ))?;
            }
            self.inner.pool.give(role, buffer);
        }
        staging.finish();
        Ok(outputs)
    }

    /// A storage buffer for a result of `bytes`, from the pool: no new
    /// buffer (and no zero-filling of one) when a free one of a similar size
    /// is there.
    fn result_buffer(&self, bytes: u64) -> wgpu::Buffer {
        self.inner.pool.take(Role::Storage, bytes)
    }

    /// The bytes of a buffer of `len` elements of `dtype` (whole words), or
    /// [`Error::TooLarge`] beyond the device's `max_buffer_size`.
    fn checked_bytes_of(&self, len: usize, dtype: Dtype) -> Result<u64, Error> {
        self.usable()?;
        let max_bytes = self.inner.device.limits().max_buffer_size;
        let bytes = (len as u64)
            .checked_mul(dtype.size() as u64)
            .map_or(u64::MAX, |b| b.next_multiple_of(4));
        if bytes > max_bytes {
            return Err(Error::TooLarge {
                len,
                bytes,
                max_bytes,
            });
        }
        Ok(bytes)
    }
}

/// The pool buffers of one host-slice call: inputs written from the host
/// and outputs read back by it, bound directly where kernels may bind
/// mappable buffers (unified memory), else through staging copies. Written
/// buffers go back to the pool once mapped again, the others after the
/// readback ([`HostStaging::finish`]).
struct HostStaging {
    pool: Arc<Pool>,
    /// The context's loss state: a staging buffer that cannot be mapped
    /// means a lost device.
    lost: Arc<Lost>,
    direct: bool,
    /// Buffers the host wrote, to map for writing again after the submission.
    remap: Vec<(Role, wgpu::Buffer)>,
    /// Buffers to hand back to the pool after the readback.
    give_back: Vec<(Role, wgpu::Buffer)>,
}

impl HostStaging {
    fn new(context: &Context) -> Self {
        HostStaging {
            pool: context.inner.pool.clone(),
            lost: context.inner.lost.clone(),
            direct: context.inner.mapped_storage,
            remap: Vec::new(),
            give_back: Vec::new(),
        }
    }

    /// A storage buffer holding `data`: written directly, or staged and
    /// copied by `encoder`.
    fn upload(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        data: &[u8],
    ) -> Result<wgpu::Buffer, Error> {
        // Whole words: an odd number of 16-bit values ends in half a word.
        let bytes = (data.len() as u64).next_multiple_of(4);
        if data.is_empty() {
            let storage = self.pool.take(Role::Storage, bytes);
            self.give_back.push((Role::Storage, storage.clone()));
            return Ok(storage);
        }
        let role = if self.direct {
            Role::MappedInput
        } else {
            Role::Upload
        };
        let mapped = self.pool.take(role, bytes);
        self.lost
            .watch(crate::gpu::readback::write_mapped(&mapped, data))?;
        mapped.unmap();
        self.remap.push((role, mapped.clone()));
        if self.direct {
            return Ok(mapped);
        }
        let storage = self.pool.take(Role::Storage, bytes);
        encoder.copy_buffer_to_buffer(&mapped, 0, &storage, 0, bytes);
        self.give_back.push((Role::Storage, storage.clone()));
        Ok(storage)
    }

    /// A storage buffer for an output of `bytes` (whole words).
    fn output(&self, bytes: u64) -> wgpu::Buffer {
        let role = if self.direct {
            Role::MappedOutput
        } else {
            Role::Storage
        };
        self.pool.take(role, bytes)
    }

    /// The buffer to read `output`'s first `bytes` (whole words) from, with
    /// its pool role: `output` itself, or a readback buffer `encoder` copies
    /// it into.
    fn readable(
        &mut self,
        encoder: &mut wgpu::CommandEncoder,
        output: wgpu::Buffer,
        bytes: u64,
    ) -> (Role, wgpu::Buffer) {
        if self.direct {
            return (Role::MappedOutput, output);
        }
        let readback = self.pool.take(Role::Readback, bytes);
        if bytes > 0 {
            encoder.copy_buffer_to_buffer(&output, 0, &readback, 0, bytes);
        }
        self.give_back.push((Role::Storage, output));
        (Role::Readback, readback)
    }

    /// After the submission: written buffers go back to the pool once mapped
    /// again (that happens during the readback's wait).
    fn submitted(&mut self) {
        for (role, buffer) in self.remap.drain(..) {
            let pool = self.pool.clone();
            buffer
                .clone()
                .slice(..)
                .map_async(wgpu::MapMode::Write, move |mapped| {
                    if mapped.is_ok() {
                        pool.give(role, buffer);
                    }
                });
        }
    }

    /// After the readback: the other buffers back to the pool.
    fn finish(self) {
        for (role, buffer) in self.give_back {
            self.pool.give(role, buffer);
        }
    }
}

/// Most bytes of free buffers the host-slice API keeps for reuse.
const POOL_BUDGET: u64 = 512 << 20;

/// Usage of the buffers this crate creates for tensors.
const TENSOR_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// [`Error::DtypeMismatch`] unless `t` holds `expected` elements.
fn check_dtype(what: &'static str, expected: Dtype, t: &GpuTensor) -> Result<(), Error> {
    if t.dtype() == expected {
        Ok(())
    } else {
        Err(Error::DtypeMismatch {
            what,
            expected,
            actual: t.dtype(),
        })
    }
}

/// Ops recorded into one command encoder and submitted together. Created by
/// [`Context::batch`]; finish with [`Batch::submit`] or [`Batch::read`]
/// (dropping it discards what was recorded).
///
/// ```
/// use wgpu_activations::{Activation, Context};
///
/// let ctx = Context::new()?;
/// let x = ctx.upload(&[-1.0, 0.5, 2.0])?;
/// let dy = ctx.upload(&[1.0, 1.0, 1.0])?;
/// let mut batch = ctx.batch();
/// let h = batch.apply(Activation::Gelu, &x)?;
/// let y = batch.apply(Activation::Tanh, &h)?;
/// let dh = batch.apply_backward(Activation::Tanh, &h, &dy)?;
/// let dh = batch.read(&dh)?; // one submission, one readback
/// # let _ = (y, dh);
/// # Ok::<(), wgpu_activations::Error>(())
/// ```
pub struct Batch<'c> {
    ctx: &'c Context,
    /// Taken by [`Batch::submit`].
    encoder: Option<wgpu::CommandEncoder>,
}

impl Drop for Batch<'_> {
    /// Submitted or discarded: result buffers given back to the pool while
    /// the batch was open may be reused once no batch is open.
    fn drop(&mut self) {
        self.ctx.inner.pool.close_batch();
    }
}

impl std::fmt::Debug for Batch<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("ctx", self.ctx)
            .finish_non_exhaustive()
    }
}

impl<'c> Batch<'c> {
    /// The context this batch records for.
    pub fn context(&self) -> &'c Context {
        self.ctx
    }
}

impl Batch<'_> {
    /// The encoder, to record the caller's own passes between ours.
    pub fn encoder(&mut self) -> &mut wgpu::CommandEncoder {
        self.encoder
            .as_mut()
            .expect("a batch has its encoder until submitted")
    }

    /// Records `mode` into a new tensor.
    fn run(
        &mut self,
        act: Activation,
        mode: Mode,
        x: &GpuTensor,
        grad: Option<&GpuTensor>,
    ) -> Result<GpuTensor, Error> {
        // Kernels::record checks lengths, regions and dtypes (an output taken
        // for a call that fails goes back to the pool); parameters are
        // checked here as well only so that a bad one takes no output buffer.
        act.validate()?;
        let ctx = self.ctx;
        ctx.usable()?;
        x.check_owner("x", ctx.inner.id)?;
        if let Some(grad) = grad {
            grad.check_owner("grad_output", ctx.inner.id)?;
        }
        let bytes = ctx.checked_bytes_of(x.len(), x.dtype())?;
        let output = scoped(ctx.device(), || ctx.result_buffer(bytes))?;
        let output = GpuTensor::pooled(
            output,
            x.len(),
            x.dtype(),
            ctx.inner.pool.clone(),
            ctx.inner.id,
        )?;
        let encoder = self
            .encoder
            .as_mut()
            .expect("a batch has its encoder until submitted");
        // Kernels::record scopes its own device work.
        ctx.inner.kernels.record_at(
            encoder,
            act,
            mode,
            ctx.precision_for(x.dtype()),
            (
                x.batch_region(),
                grad.map(GpuTensor::batch_region),
                output.batch_region(),
            ),
        )?;
        Ok(output)
    }

    /// Records `f(x)` into a new tensor.
    pub fn apply(&mut self, act: Activation, x: &GpuTensor) -> Result<GpuTensor, Error> {
        self.run(act, Mode::Forward, x, None)
    }

    /// Records `x = f(x)` in place.
    pub fn apply_in_place(&mut self, act: Activation, x: &mut GpuTensor) -> Result<(), Error> {
        let ctx = self.ctx;
        ctx.usable()?;
        x.check_owner("x", ctx.inner.id)?;
        let encoder = self
            .encoder
            .as_mut()
            .expect("a batch has its encoder until submitted");
        ctx.inner.kernels.record_at(
            encoder,
            act,
            Mode::Forward,
            ctx.precision_for(x.dtype()),
            (x.batch_region(), None, x.batch_region()),
        )
    }

    /// Records `f'(x)` into a new tensor.
    pub fn apply_derivative(&mut self, act: Activation, x: &GpuTensor) -> Result<GpuTensor, Error> {
        self.run(act, Mode::Derivative, x, None)
    }

    /// Records `grad_output * f'(x)` into a new tensor.
    pub fn apply_backward(
        &mut self,
        act: Activation,
        x: &GpuTensor,
        grad_output: &GpuTensor,
    ) -> Result<GpuTensor, Error> {
        self.run(act, Mode::Backward, x, Some(grad_output))
    }

    /// Records into new tensors of `lens` elements (the kernel families'
    /// resident forms): `record` gets the encoder and their regions.
    pub(crate) fn record_into_new<const N: usize>(
        &mut self,
        inputs: &[(&'static str, &GpuTensor)],
        dtype: Dtype,
        lens: &[usize; N],
        record: impl FnOnce(&mut wgpu::CommandEncoder, &[BufferRegion<'_>]) -> Result<(), Error>,
    ) -> Result<[GpuTensor; N], Error> {
        let ctx = self.ctx;
        ctx.usable()?;
        for (what, t) in inputs {
            t.check_owner(what, ctx.inner.id)?;
        }
        let mut outputs = Vec::with_capacity(N);
        for &len in lens {
            let bytes = ctx.checked_bytes_of(len, dtype)?;
            let buffer = scoped(ctx.device(), || ctx.result_buffer(bytes))?;
            outputs.push(GpuTensor::pooled(
                buffer,
                len,
                dtype,
                ctx.inner.pool.clone(),
                ctx.inner.id,
            )?);
        }
        let regions: Vec<BufferRegion<'_>> = outputs.iter().map(GpuTensor::batch_region).collect();
        let encoder = self
            .encoder
            .as_mut()
            .expect("a batch has its encoder until submitted");
        // The families' lower layers scope their own device work.
        record(encoder, &regions)?;
        // One tensor per length, so the conversion cannot fail.
        outputs
            .try_into()
            .map_err(|_| unreachable!("record_into_new made one tensor per length"))
    }

    /// Submits what was recorded.
    pub fn submit(mut self) -> Result<wgpu::SubmissionIndex, Error> {
        let ctx = self.ctx;
        ctx.usable()?;
        let encoder = self
            .encoder
            .take()
            .expect("a batch has its encoder until submitted");
        let submission = scoped(ctx.device(), || ctx.queue().submit([encoder.finish()]))?;
        // wgpu drops the errors of a lost device's calls (its lost callback
        // reports the loss instead, from the next maintenance): a
        // non-blocking poll runs that maintenance, so a submit on a lost
        // device is an error here rather than a silent no-op.
        let _ = ctx.device().poll(wgpu::PollType::Poll);
        ctx.usable()?;
        Ok(submission)
    }

    /// Records a copy of `t` (an f32 tensor) to a staging buffer, submits
    /// everything and reads `t` back: the whole batch costs one submission
    /// and one readback. Tensors of other dtypes: [`Batch::read_as`].
    pub fn read(self, t: &GpuTensor) -> Result<Vec<f32>, Error> {
        Ok(self.read_all(&[t])?.pop().unwrap_or_default())
    }

    /// [`Batch::read`] for a tensor of element type `T`
    /// ([`Error::DtypeMismatch`] where that is not its dtype).
    pub fn read_as<T: Element>(self, t: &GpuTensor) -> Result<Vec<T>, Error> {
        check_dtype("tensor to read", T::DTYPE, t)?;
        let ctx = self.ctx;
        let (staging, _, submission) = self.submit_with_readback(&[t])?;
        let Some(staging) = staging else {
            return Ok(Vec::new());
        };
        let data = ctx.watch(crate::gpu::readback::read_vec::<T>(
            ctx.device(),
            &staging,
            t.len(),
            submission,
            ctx.poll_timeout,
        ))?;
        ctx.inner.pool.give(Role::Readback, staging);
        Ok(data)
    }

    /// [`Batch::read`] for several f32 tensors: one submission, one staging
    /// buffer, one map.
    pub fn read_all(self, tensors: &[&GpuTensor]) -> Result<Vec<Vec<f32>>, Error> {
        for t in tensors {
            check_dtype("tensor to read", Dtype::F32, t)?;
        }
        let ctx = self.ctx;
        let (staging, bytes, submission) = self.submit_with_readback(tensors)?;
        let Some(staging) = staging else {
            return Ok(tensors.iter().map(|_| Vec::new()).collect());
        };
        let mut all = ctx.watch(crate::gpu::readback::read_vec::<f32>(
            ctx.device(),
            &staging,
            (bytes / 4) as usize,
            submission,
            ctx.poll_timeout,
        ))?;
        ctx.inner.pool.give(Role::Readback, staging);
        // Split from the back: each later piece is copied into a fresh
        // output (huge pages for large ones), the first keeps `all`.
        let mut pieces: Vec<Vec<f32>> = Vec::with_capacity(tensors.len());
        for t in tensors[1..].iter().rev() {
            let at = all.len() - t.len();
            pieces.push(crate::gpu::readback::output_copy(bytemuck::cast_slice(
                &all[at..],
            )));
            all.truncate(at);
        }
        pieces.push(all);
        pieces.reverse();
        Ok(pieces)
    }

    /// Async form of [`Batch::read`].
    pub async fn read_async(self, t: &GpuTensor) -> Result<Vec<f32>, Error> {
        check_dtype("tensor to read", Dtype::F32, t)?;
        let ctx = self.ctx;
        let (staging, bytes, submission) = self.submit_with_readback(&[t])?;
        let Some(staging) = staging else {
            return Ok(Vec::new());
        };
        let data = ctx.watch(
            crate::gpu::readback::read_f32_async(
                ctx.device(),
                &staging,
                bytes,
                submission,
                ctx.poll_timeout,
            )
            .await,
        )?;
        ctx.inner.pool.give(Role::Readback, staging);
        Ok(data)
    }

    /// Copies `tensors` one after the other into one staging buffer from the
    /// pool (none if all are empty; the caller gives it back once read) and
    /// submits the batch.
    fn submit_with_readback(
        mut self,
        tensors: &[&GpuTensor],
    ) -> Result<(Option<wgpu::Buffer>, u64, wgpu::SubmissionIndex), Error> {
        let ctx = self.ctx;
        ctx.usable()?;
        for t in tensors {
            t.check_owner("tensor to read", ctx.inner.id)?;
            if !t.is_empty() && !t.handle().usage().contains(wgpu::BufferUsages::COPY_SRC) {
                return Err(Error::BufferUsage {
                    what: "tensor to read",
                    required: wgpu::BufferUsages::COPY_SRC,
                    actual: t.handle().usage(),
                });
            }
        }
        // Whole words per tensor (a 16-bit tensor of odd length ends in half a word).
        let bytes: u64 = tensors.iter().map(|t| t.bound_len()).sum();
        let staging = if bytes == 0 {
            None
        } else {
            let encoder = self
                .encoder
                .as_mut()
                .expect("a batch has its encoder until submitted");
            Some(scoped(ctx.device(), || {
                // From the pool: a fresh 64 MiB staging buffer cost ~30 ms
                // of page faults per read on lavapipe.
                let staging = ctx.inner.pool.take(Role::Readback, bytes);
                let mut offset = 0;
                for t in tensors.iter().filter(|t| !t.is_empty()) {
                    encoder.copy_buffer_to_buffer(
                        t.handle(),
                        t.offset(),
                        &staging,
                        offset,
                        t.bound_len(),
                    );
                    offset += t.bound_len();
                }
                staging
            })?)
        };
        let submission = self.submit()?;
        Ok((staging, bytes, submission))
    }
}
