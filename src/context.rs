//! The owning convenience: a device, its queue and the cached kernels.

use std::sync::Arc;
use std::time::Duration;

use wgpu::util::DeviceExt;

use crate::kernels::{Kernels, Region};
use crate::{Activation, Error, Mode};

/// How long a readback waits for the GPU before reporting `Error::Poll`.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(120);

/// A GPU device with compiled activation kernels. `Send + Sync`; cloning is
/// cheap and shares the device and the pipeline cache.
///
/// ```no_run
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
}

struct Inner {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: wgpu::AdapterInfo,
    kernels: Kernels,
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

async fn open(adapter: &wgpu::Adapter) -> Result<Context, Error> {
    let (device, queue) = adapter
        .request_device(&wgpu::DeviceDescriptor {
            label: Some("wgpu-activations"),
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
    Ok(Context::from_device(device, queue))
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
                if let Some(wanted) = &wanted {
                    if !info.name.to_lowercase().contains(wanted) {
                        continue;
                    }
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
    /// as needed. The caller's uncaptured-error handler is left alone.
    pub fn from_device(device: wgpu::Device, queue: wgpu::Queue) -> Context {
        let info = device.adapter_info();
        let kernels = Kernels::new(&device);
        Context {
            inner: Arc::new(Inner {
                device,
                queue,
                info,
                kernels,
            }),
            poll_timeout: DEFAULT_POLL_TIMEOUT,
        }
    }

    /// The same context with a different limit on how long a readback waits
    /// for the GPU (default [`DEFAULT_POLL_TIMEOUT`]).
    pub fn with_poll_timeout(&self, timeout: Duration) -> Context {
        Context {
            inner: self.inner.clone(),
            poll_timeout: timeout,
        }
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

    /// `f(x)` element-wise on the GPU.
    pub fn forward(&self, act: Activation, x: &[f32]) -> Result<Vec<f32>, Error> {
        self.run(act, Mode::Forward, x, None)
    }

    /// `f'(x)` element-wise on the GPU (PyTorch's value at kinks).
    pub fn derivative(&self, act: Activation, x: &[f32]) -> Result<Vec<f32>, Error> {
        self.run(act, Mode::Derivative, x, None)
    }

    /// `grad_output * f'(x)` element-wise on the GPU: the gradient with respect
    /// to `x` given the gradient of the loss with respect to `f(x)`.
    pub fn backward(
        &self,
        act: Activation,
        x: &[f32],
        grad_output: &[f32],
    ) -> Result<Vec<f32>, Error> {
        if grad_output.len() != x.len() {
            return Err(Error::LengthMismatch {
                what: "grad_output",
                expected: x.len(),
                actual: grad_output.len(),
            });
        }
        self.run(act, Mode::Backward, x, Some(grad_output))
    }

    /// Upload, dispatch, read back.
    fn run(
        &self,
        act: Activation,
        mode: Mode,
        x: &[f32],
        grad_output: Option<&[f32]>,
    ) -> Result<Vec<f32>, Error> {
        act.validate()?;
        if x.is_empty() {
            return Ok(Vec::new());
        }
        let device = &self.inner.device;
        let bytes = self.checked_bytes(x.len())?;
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let oom_scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let upload = |label, data: &[f32]| {
            device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
                label: Some(label),
                contents: bytemuck::cast_slice(data),
                usage: wgpu::BufferUsages::STORAGE,
            })
        };
        let input = upload("wgpu-activations.input", x);
        let grad = grad_output.map(|g| upload("wgpu-activations.grad_output", g));
        let output = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wgpu-activations.output"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("wgpu-activations.staging"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let len = x.len() as u64;
        let region = |buffer| Region {
            buffer,
            offset: 0,
            len,
        };
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("wgpu-activations.encoder"),
        });
        let recorded = self.inner.kernels.record(
            &mut encoder,
            &act,
            mode,
            region(&input),
            grad.as_ref().map(region),
            region(&output),
        );
        encoder.copy_buffer_to_buffer(&output, 0, &staging, 0, bytes);
        let oom = pollster::block_on(oom_scope.pop());
        let validation = pollster::block_on(scope.pop());
        recorded?;
        if let Some(error) = oom.or(validation) {
            return Err(error.into());
        }
        let submission = self.inner.queue.submit([encoder.finish()]);
        let data = crate::readback::read_f32(device, &staging, submission, self.poll_timeout)?;
        Ok(data)
    }

    fn checked_bytes(&self, len: usize) -> Result<u64, Error> {
        let max_bytes = self.inner.device.limits().max_buffer_size;
        let bytes = (len as u64).saturating_mul(4);
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
