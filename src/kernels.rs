//! The layer that owns nothing: pipelines for one device, recorded into a
//! caller's command encoder over caller-provided buffers.

use std::collections::HashMap;
use std::sync::Mutex;

use wgpu::util::DeviceExt;

use crate::{Activation, Error, Mode, shader};

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

/// A range of f32 elements in a storage buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Region<'a> {
    pub buffer: &'a wgpu::Buffer,
    /// Byte offset of the first element.
    pub offset: u64,
    /// Number of f32 elements.
    pub len: u64,
}

impl<'a> Region<'a> {
    fn window(self, start: u64, len: u64) -> wgpu::BindingResource<'a> {
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: self.buffer,
            offset: self.offset + start * 4,
            size: wgpu::BufferSize::new(len * 4),
        })
    }
}

/// Compiled activation pipelines for one device, built on first use and cached.
pub(crate) struct Kernels {
    device: wgpu::Device,
    unary_layout: wgpu::BindGroupLayout,
    binary_layout: wgpu::BindGroupLayout,
    unary_pipeline_layout: wgpu::PipelineLayout,
    binary_pipeline_layout: wgpu::PipelineLayout,
    workgroup_size: u32,
    max_workgroups_per_dimension: u32,
    /// Most elements bound in one dispatch (storage binding limit, aligned).
    window_len: u64,
    modules: Mutex<HashMap<&'static str, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<(&'static str, Mode), wgpu::ComputePipeline>>,
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
    /// Creates the layouts for `device`; pipelines are compiled lazily.
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
        let unary_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("wgpu-activations.unary"),
            entries: &[
                uniform_entry,
                storage_entry(1, true),
                storage_entry(2, false),
            ],
        });
        let binary_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("wgpu-activations.binary"),
            entries: &[
                uniform_entry,
                storage_entry(1, true),
                storage_entry(2, false),
                storage_entry(3, true),
            ],
        });
        let pipeline_layout = |label, layout| {
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(label),
                bind_group_layouts: &[Some(layout)],
                immediate_size: 0,
            })
        };
        let unary_pipeline_layout = pipeline_layout("wgpu-activations.unary", &unary_layout);
        let binary_pipeline_layout = pipeline_layout("wgpu-activations.binary", &binary_layout);
        let workgroup_size = 256
            .min(limits.max_compute_workgroup_size_x)
            .min(limits.max_compute_invocations_per_workgroup);
        let align = u64::from(limits.min_storage_buffer_offset_alignment).max(4);
        let window_bytes = limits.max_storage_buffer_binding_size / align * align;
        Kernels {
            device: device.clone(),
            unary_layout,
            binary_layout,
            unary_pipeline_layout,
            binary_pipeline_layout,
            workgroup_size,
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            // Cap so that element indices stay well inside u32 in the shader.
            window_len: (window_bytes / 4).min(1 << 30),
            modules: Mutex::new(HashMap::new()),
            pipelines: Mutex::new(HashMap::new()),
        }
    }

    /// The cached pipeline of `act` in `mode`, compiling it on first use.
    /// Shader or pipeline validation failures come back as `Error::Gpu`.
    pub fn pipeline(&self, act: &Activation, mode: Mode) -> Result<wgpu::ComputePipeline, Error> {
        let key = (act.name(), mode);
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
                        source: wgpu::ShaderSource::Wgsl(shader::elementwise_module(act).into()),
                    })
            })
            .clone();
        let layout = match mode {
            Mode::Forward | Mode::Derivative => &self.unary_pipeline_layout,
            Mode::Backward => &self.binary_pipeline_layout,
        };
        let label = format!("{LABEL}.{}.{}", act.name(), mode.entry_point());
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: Some(layout),
                module: &module,
                entry_point: Some(mode.entry_point()),
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

    /// Records `mode` of `act` over `input` (and `grad_output` for
    /// [`Mode::Backward`]) into `output`. All regions have `output.len`
    /// elements and offsets aligned to `min_storage_buffer_offset_alignment`.
    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        act: &Activation,
        mode: Mode,
        input: Region<'_>,
        grad_output: Option<Region<'_>>,
        output: Region<'_>,
    ) -> Result<(), Error> {
        let pipeline = self.pipeline(act, mode)?;
        let len = output.len;
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
                    binding: 1,
                    resource: input.window(start, window),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: output.window(start, window),
                },
            ];
            let layout = match (mode, grad_output) {
                (Mode::Backward, Some(grad)) => {
                    entries.push(wgpu::BindGroupEntry {
                        binding: 3,
                        resource: grad.window(start, window),
                    });
                    &self.binary_layout
                }
                _ => &self.unary_layout,
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
