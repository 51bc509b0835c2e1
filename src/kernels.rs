//! The layer that owns nothing: pipelines for one device, recorded into a
//! caller's command encoder over caller-provided buffers; the caller submits.

use std::collections::HashMap;
use std::sync::Mutex;

use wgpu::util::DeviceExt;

use crate::{Activation, Error, Mode, wgsl};

/// Label prefix of every wgpu resource this crate creates.
pub(crate) const LABEL: &str = "wgpu-activations";

/// The uniform each dispatch window reads (layout of `Dispatch` in
/// `elementwise.wgsl`).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct DispatchUniform {
    len: u32,
    _pad: [u32; 3],
    param: [f32; 4],
}

/// `len` f32 elements of a storage buffer starting `offset` bytes in.
#[derive(Clone, Copy, Debug)]
pub struct BufferRegion<'a> {
    /// The buffer (needs `STORAGE` usage).
    pub buffer: &'a wgpu::Buffer,
    /// Byte offset of the first element: a multiple of the device's
    /// `min_storage_buffer_offset_alignment` (256 on most devices).
    pub offset: u64,
    /// Number of f32 elements.
    pub len: usize,
}

impl<'a> BufferRegion<'a> {
    /// `len` elements starting `offset` bytes into `buffer`.
    pub fn new(buffer: &'a wgpu::Buffer, offset: u64, len: usize) -> Self {
        BufferRegion {
            buffer,
            offset,
            len,
        }
    }

    /// The whole buffer as f32 elements (`size / 4` of them).
    pub fn whole(buffer: &'a wgpu::Buffer) -> Self {
        BufferRegion {
            buffer,
            offset: 0,
            len: (buffer.size() / 4) as usize,
        }
    }

    /// Byte size of the region.
    pub fn byte_len(&self) -> u64 {
        self.len as u64 * 4
    }

    fn window(self, start: u64, len: u64) -> wgpu::BindingResource<'a> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: self.buffer,
            offset: self.offset + start * 4,
            size: wgpu::BufferSize::new(len * 4),
        })
    }

    fn same_buffer(&self, other: &BufferRegion<'_>) -> bool {
        self.buffer == other.buffer
    }

    fn overlaps(&self, other: &BufferRegion<'_>) -> bool {
        self.same_buffer(other)
            && self.offset < other.offset + other.byte_len()
            && other.offset < self.offset + self.byte_len()
    }
}

/// One compiled entry point of an op's module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Entry {
    Forward,
    Derivative,
    Backward,
    ForwardInPlace,
    DerivativeInPlace,
    /// grad_output's region is overwritten with grad_input.
    BackwardInPlace,
}

impl Entry {
    fn name(self) -> &'static str {
        match self {
            Entry::Forward => "forward",
            Entry::Derivative => "derivative",
            Entry::Backward => "backward",
            Entry::ForwardInPlace => "forward_in_place",
            Entry::DerivativeInPlace => "derivative_in_place",
            Entry::BackwardInPlace => "backward_in_place",
        }
    }
}

/// Which bindings an entry point uses.
#[derive(Clone, Copy)]
enum Layout {
    /// 0 uniform, 1 input, 2 output.
    Unary,
    /// 0 uniform, 1 input, 2 output, 3 grad_output.
    Binary,
    /// 0 uniform, 2 data.
    InPlace,
}

impl Entry {
    fn layout(self) -> Layout {
        match self {
            Entry::Forward | Entry::Derivative | Entry::BackwardInPlace => Layout::Unary,
            Entry::Backward => Layout::Binary,
            Entry::ForwardInPlace | Entry::DerivativeInPlace => Layout::InPlace,
        }
    }
}

/// Compiled activation kernels for one device: the lower layer, which owns no
/// data. Give it the caller's buffers and command encoder; it validates
/// everything first, records the dispatch(es) and returns; the caller
/// submits. Pipelines are compiled on first use of an (op, mode) and cached;
/// parameters travel in a uniform, so new values never recompile.
///
/// ```no_run
/// # fn demo(device: &wgpu::Device, queue: &wgpu::Queue, x: &wgpu::Buffer, y: &wgpu::Buffer) -> Result<(), wgpu_activations::Error> {
/// use wgpu_activations::{Activation, BufferRegion, Kernels, Mode};
///
/// let kernels = Kernels::new(device); // once, at start-up
/// let mut encoder = device.create_command_encoder(&Default::default());
/// // ... the caller's own passes ...
/// kernels.record(&mut encoder, Activation::Gelu, Mode::Forward,
///                BufferRegion::whole(x), None, BufferRegion::whole(y))?;
/// queue.submit([encoder.finish()]);
/// # Ok(()) }
/// ```
pub struct Kernels {
    device: wgpu::Device,
    unary_layout: wgpu::BindGroupLayout,
    binary_layout: wgpu::BindGroupLayout,
    in_place_layout: wgpu::BindGroupLayout,
    unary_pipeline_layout: wgpu::PipelineLayout,
    binary_pipeline_layout: wgpu::PipelineLayout,
    in_place_pipeline_layout: wgpu::PipelineLayout,
    workgroup_size: u32,
    max_workgroups_per_dimension: u32,
    offset_alignment: u64,
    /// Most elements bound in one dispatch (storage binding limit, aligned).
    window_len: u64,
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<(&'static str, Entry), wgpu::ComputePipeline>>,
}

impl std::fmt::Debug for Kernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernels")
            .field("workgroup_size", &self.workgroup_size)
            .field("window_len", &self.window_len)
            .field("pipelines", &lock(&self.pipelines).len())
            .finish_non_exhaustive()
    }
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: wgpu::BufferSize::new(4),
        },
        count: None,
    }
}

impl Kernels {
    /// Creates the bind-group and pipeline layouts for `device`; pipelines are
    /// compiled lazily (or ahead of time with [`Kernels::prepare`]).
    pub fn new(device: &wgpu::Device) -> Self {
        let limits = device.limits();
        let uniform_entry = wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: wgpu::BufferSize::new(size_of::<DispatchUniform>() as u64),
            },
            count: None,
        };
        let bind_group_layout = |label, entries: &[wgpu::BindGroupLayoutEntry]| {
            device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(label),
                entries,
            })
        };
        let unary_layout = bind_group_layout(
            "wgpu-activations.unary",
            &[
                uniform_entry,
                storage_entry(1, true),
                storage_entry(2, false),
            ],
        );
        let binary_layout = bind_group_layout(
            "wgpu-activations.binary",
            &[
                uniform_entry,
                storage_entry(1, true),
                storage_entry(2, false),
                storage_entry(3, true),
            ],
        );
        let in_place_layout = bind_group_layout(
            "wgpu-activations.in_place",
            &[uniform_entry, storage_entry(2, false)],
        );
        let pipeline_layout = |label, layout| {
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(label),
                bind_group_layouts: &[Some(layout)],
                immediate_size: 0,
            })
        };
        let unary_pipeline_layout = pipeline_layout("wgpu-activations.unary", &unary_layout);
        let binary_pipeline_layout = pipeline_layout("wgpu-activations.binary", &binary_layout);
        let in_place_pipeline_layout =
            pipeline_layout("wgpu-activations.in_place", &in_place_layout);
        let workgroup_size = 256
            .min(limits.max_compute_workgroup_size_x)
            .min(limits.max_compute_invocations_per_workgroup);
        let align = u64::from(limits.min_storage_buffer_offset_alignment).max(4);
        let window_bytes = limits.max_storage_buffer_binding_size / align * align;
        Kernels {
            device: device.clone(),
            unary_layout,
            binary_layout,
            in_place_layout,
            unary_pipeline_layout,
            binary_pipeline_layout,
            in_place_pipeline_layout,
            workgroup_size,
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            offset_alignment: align,
            // Cap so that element indices stay well inside u32 in the shader.
            window_len: (window_bytes / 4).min(1 << 30),
            modules: Mutex::new(HashMap::new()),
            pipelines: Mutex::new(HashMap::new()),
        }
    }

    /// The device these kernels run on.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// Compiled pipelines so far (each (op, entry point) compiles once).
    pub fn pipeline_count(&self) -> usize {
        lock(&self.pipelines).len()
    }

    /// Compiles the out-of-place pipelines of `act` for every mode now, so
    /// that the first `record` does not pay for it.
    pub fn prepare(&self, act: Activation) -> Result<(), Error> {
        act.validate()?;
        for entry in [Entry::Forward, Entry::Derivative, Entry::Backward] {
            self.pipeline(&act, entry)?;
        }
        Ok(())
    }

    /// The cached pipeline of `act` for `entry`, compiling it on first use.
    /// Shader or pipeline validation failures come back as `Error::Gpu`.
    fn pipeline(&self, act: &Activation, entry: Entry) -> Result<wgpu::ComputePipeline, Error> {
        let key = (act.name(), entry);
        if let Some(pipeline) = lock(&self.pipelines).get(&key) {
            return Ok(pipeline.clone());
        }
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = lock(&self.modules)
            .entry(act.name())
            .or_insert_with(|| {
                let label = format!("{LABEL}.{}", act.name());
                self.device
                    .create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(&label),
                        source: wgpu::ShaderSource::Wgsl(wgsl::elementwise_module(act).into()),
                    })
            })
            .clone();
        let layout = match entry.layout() {
            Layout::Unary => &self.unary_pipeline_layout,
            Layout::Binary => &self.binary_pipeline_layout,
            Layout::InPlace => &self.in_place_pipeline_layout,
        };
        let label = format!("{LABEL}.{}.{}", act.name(), entry.name());
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: Some(layout),
                module: &module,
                entry_point: Some(entry.name()),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[("WORKGROUP_SIZE", f64::from(self.workgroup_size))],
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
        if let Some(error) = pollster::block_on(scope.pop()) {
            lock(&self.modules).remove(act.name());
            return Err(error.into());
        }
        lock(&self.pipelines).insert(key, pipeline.clone());
        Ok(pipeline)
    }

    /// Checks one region: usage, alignment and bounds.
    fn check_region(&self, what: &'static str, region: &BufferRegion<'_>) -> Result<(), Error> {
        let usage = region.buffer.usage();
        if !usage.contains(wgpu::BufferUsages::STORAGE) {
            return Err(Error::BufferUsage {
                what,
                required: wgpu::BufferUsages::STORAGE,
                actual: usage,
            });
        }
        if !region.offset.is_multiple_of(self.offset_alignment) {
            return Err(Error::Misaligned {
                what,
                offset: region.offset,
                alignment: self.offset_alignment,
            });
        }
        let end = region.offset.checked_add(region.byte_len());
        if end.is_none_or(|end| end > region.buffer.size()) {
            return Err(Error::OutOfRange {
                what,
                offset: region.offset,
                bytes: region.byte_len(),
                buffer_size: region.buffer.size(),
            });
        }
        Ok(())
    }

    /// Records `mode` of `act` into `encoder`: `output = f(input)`,
    /// `output = f'(input)`, or for [`Mode::Backward`]
    /// `output = grad_output * f'(input)`. All regions have the same length.
    ///
    /// In place is supported where a kernel can do it: `output` equal to
    /// `input` (forward, derivative), or equal to `grad_output` (backward, dx
    /// over dy). Any other sharing of a buffer between the written region and
    /// a read one is [`Error::Aliasing`]. Everything (parameters, lengths,
    /// usage flags, alignment, bounds, aliasing) is checked before anything is
    /// recorded; on error the encoder and the buffers are untouched.
    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        act: Activation,
        mode: Mode,
        input: BufferRegion<'_>,
        grad_output: Option<BufferRegion<'_>>,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        act.validate()?;
        let entry = self.plan(mode, &input, grad_output.as_ref(), &output)?;
        if output.len == 0 {
            return Ok(());
        }
        let pipeline = self.pipeline(&act, entry)?;
        let len = output.len as u64;
        let mut start = 0;
        while start < len {
            let window = (len - start).min(self.window_len);
            let uniform = DispatchUniform {
                len: window as u32,
                _pad: [0; 3],
                param: act.packed_params(),
            };
            let uniform = self
                .device
                .create_buffer_init(&wgpu::util::BufferInitDescriptor {
                    label: Some("wgpu-activations.dispatch"),
                    contents: bytemuck::bytes_of(&uniform),
                    usage: wgpu::BufferUsages::UNIFORM,
                });
            let mut entries = vec![
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniform.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: output.window(start, window),
                },
            ];
            let layout = match entry.layout() {
                Layout::InPlace => &self.in_place_layout,
                Layout::Unary => {
                    entries.push(wgpu::BindGroupEntry {
                        binding: 1,
                        resource: input.window(start, window),
                    });
                    &self.unary_layout
                }
                Layout::Binary => {
                    let grad = grad_output.expect("planned binary entry has grad_output");
                    entries.push(wgpu::BindGroupEntry {
                        binding: 1,
                        resource: input.window(start, window),
                    });
                    entries.push(wgpu::BindGroupEntry {
                        binding: 3,
                        resource: grad.window(start, window),
                    });
                    &self.binary_layout
                }
            };
            let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("wgpu-activations.dispatch"),
                layout,
                entries: &entries,
            });
            let (x, y) = self.workgroup_grid(window);
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("wgpu-activations.pass"),
                timestamp_writes: None,
            });
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            pass.dispatch_workgroups(x, y, 1);
            drop(pass);
            start += window;
        }
        Ok(())
    }

    /// Validates the regions and picks the entry point.
    fn plan(
        &self,
        mode: Mode,
        input: &BufferRegion<'_>,
        grad_output: Option<&BufferRegion<'_>>,
        output: &BufferRegion<'_>,
    ) -> Result<Entry, Error> {
        let same_len = |what, region: &BufferRegion<'_>| {
            if region.len == output.len {
                Ok(())
            } else {
                Err(Error::LengthMismatch {
                    what,
                    expected: output.len,
                    actual: region.len,
                })
            }
        };
        same_len("input", input)?;
        self.check_region("input", input)?;
        self.check_region("output", output)?;
        let aliasing = |what| Error::Aliasing { what, mode };
        let exactly =
            |a: &BufferRegion<'_>, b: &BufferRegion<'_>| a.same_buffer(b) && a.offset == b.offset;
        match mode {
            Mode::Forward | Mode::Derivative => {
                if grad_output.is_some() {
                    return Err(Error::UnexpectedGradOutput { mode });
                }
                let in_place = if exactly(input, output) {
                    true
                } else if input.same_buffer(output) {
                    return Err(aliasing(
                        "input and output share a buffer but not the same region",
                    ));
                } else {
                    false
                };
                Ok(match (mode, in_place) {
                    (Mode::Forward, false) => Entry::Forward,
                    (Mode::Forward, true) => Entry::ForwardInPlace,
                    (_, false) => Entry::Derivative,
                    (_, true) => Entry::DerivativeInPlace,
                })
            }
            Mode::Backward => {
                let grad = grad_output.ok_or(Error::MissingGradOutput)?;
                same_len("grad_output", grad)?;
                self.check_region("grad_output", grad)?;
                if input.same_buffer(output) {
                    return Err(aliasing("backward cannot write into the buffer holding x"));
                }
                if exactly(grad, output) {
                    Ok(Entry::BackwardInPlace)
                } else if grad.same_buffer(output) {
                    Err(aliasing(
                        "grad_output and output share a buffer but not the same region",
                    ))
                } else {
                    debug_assert!(!grad.overlaps(output));
                    Ok(Entry::Backward)
                }
            }
        }
    }

    /// Workgroups in x and y covering `len` elements: x is capped at the
    /// device's per-dimension limit and the rest spills into y.
    fn workgroup_grid(&self, len: u64) -> (u32, u32) {
        let groups = len.div_ceil(u64::from(self.workgroup_size)).max(1);
        let x = groups.min(u64::from(self.max_workgroups_per_dimension));
        let y = groups.div_ceil(x);
        (x as u32, y as u32)
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
