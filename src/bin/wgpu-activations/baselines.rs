//! The reference kernels every throughput figure is compared with
//! (`shaders/baselines.wgsl`), shared by the CLI's `bench`
//! (`bench.rs` beside this file, which `examples/bench.rs` runs) and
//! `benches/throughput.rs` (which includes this file with `#[path]`).

#![allow(dead_code)] // each includer uses its own part

use wgpu_activations::{Context, Dtype, Element, Error, GpuTensor, Mode};

/// The naive one-vec4-per-invocation copy, the two-in-one-out copy (`a + b`)
/// and an empty kernel (for the dispatch round trip).
pub const BASELINE_WGSL: &str = include_str!("../../../shaders/baselines.wgsl");

/// Bytes a call moves: every element read from each input and written once
/// (8 per element, 12 for backward's two inputs).
pub fn bytes_moved(mode: Mode, n: usize) -> u64 {
    let per_element = match mode {
        Mode::Backward => 12,
        Mode::Forward | Mode::Derivative => 8,
    };
    per_element * n as u64
}

/// The baseline pipelines, compiled once per device.
pub struct Baselines {
    /// `out = a`, one vec4 per invocation, workgroup 256.
    pub copy: wgpu::ComputePipeline,
    /// `out = a + b`, one vec4 per invocation, workgroup 256.
    pub add: wgpu::ComputePipeline,
    /// Does nothing (workgroup 1, no bindings).
    pub empty: wgpu::ComputePipeline,
    /// The naive forward of each op in [`naive_ops`] (`out = f(a)` with
    /// WGSL built-ins), by the op's name.
    pub naive: Vec<(&'static str, wgpu::ComputePipeline)>,
}

/// The ops with a naive built-in kernel, read from `naive_op` in
/// baselines.wgsl (one `case` per op, in order, each ending in a `// name`
/// comment), so the list and the kernel cannot disagree. GELU's takes erf
/// from the Abramowitz and Stegun formula (WGSL has no erf built-in).
pub fn naive_ops() -> Vec<&'static str> {
    BASELINE_WGSL
        .lines()
        .map(str::trim_start)
        .filter(|line| line.starts_with("case ") || line.starts_with("default:"))
        .filter_map(|line| line.rsplit("// ").next())
        .map(str::trim)
        .collect()
}

/// `values` uploaded as `dtype` (rounded once to 16 bits).
pub fn upload_as(ctx: &Context, values: &[f32], dtype: Dtype) -> Result<GpuTensor, Error> {
    fn typed<T: Element>(values: &[f32]) -> Vec<T> {
        values
            .iter()
            .map(|&v| T::round_from_f64(f64::from(v)))
            .collect()
    }
    match dtype {
        Dtype::F32 => ctx.upload(values),
        Dtype::F16 => ctx.upload(&typed::<half::f16>(values)),
        _ => ctx.upload(&typed::<half::bf16>(values)),
    }
}

impl Baselines {
    /// The pipelines on `device`.
    pub fn new(device: &wgpu::Device) -> Baselines {
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("bench.baselines"),
            source: wgpu::ShaderSource::Wgsl(BASELINE_WGSL.into()),
        });
        let pipeline = |entry| {
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            })
        };
        let naive = naive_ops()
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(name),
                    layout: None,
                    module: &module,
                    entry_point: Some("naive"),
                    compilation_options: wgpu::PipelineCompilationOptions {
                        constants: &[("NAIVE_OP", i as f64)],
                        zero_initialize_workgroup_memory: false,
                    },
                    cache: None,
                });
                (name, pipeline)
            })
            .collect();
        Baselines {
            copy: pipeline("copy"),
            add: pipeline("add"),
            empty: pipeline("empty"),
            naive,
        }
    }

    /// The naive kernel of the op named `name`, if it has one.
    pub fn naive_of(&self, name: &str) -> Option<&wgpu::ComputePipeline> {
        self.naive.iter().find(|(n, _)| *n == name).map(|(_, p)| p)
    }

    /// `pipeline` (copy or add) bound to `inputs` (bindings 0, 1) and `out`
    /// (binding 2), dispatched over `vec4s` invocations.
    pub fn bind(
        &self,
        device: &wgpu::Device,
        pipeline: &wgpu::ComputePipeline,
        inputs: &[&wgpu::Buffer],
        out: &wgpu::Buffer,
        vec4s: usize,
    ) -> BaselineKernel {
        let mut entries: Vec<_> = inputs
            .iter()
            .enumerate()
            .map(|(i, buffer)| wgpu::BindGroupEntry {
                binding: i as u32,
                resource: buffer.as_entire_binding(),
            })
            .collect();
        entries.push(wgpu::BindGroupEntry {
            binding: 2,
            resource: out.as_entire_binding(),
        });
        let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("bench.baseline"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let groups = vec4s.div_ceil(256).max(1) as u64;
        let x = groups.min(u64::from(
            device.limits().max_compute_workgroups_per_dimension,
        ));
        BaselineKernel {
            pipeline: pipeline.clone(),
            bind_group: Some(bind_group),
            grid: (x as u32, groups.div_ceil(x) as u32),
        }
    }

    /// A naive kernel (from [`Baselines::naive_of`]) over `x` (any length:
    /// padded with zeros to whole vec4s), read back: what the naive kernels
    /// compute, for `accuracy --naive` and tests/naive_baselines.rs.
    pub fn run_naive(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        pipeline: &wgpu::ComputePipeline,
        x: &[f32],
    ) -> Result<Vec<f32>, Error> {
        use wgpu::util::DeviceExt;
        let mut padded = x.to_vec();
        padded.resize(x.len().div_ceil(4).max(1) * 4, 0.0);
        let bytes = std::mem::size_of_val(padded.as_slice()) as u64;
        let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("bench.naive.input"),
            contents: bytemuck::cast_slice(&padded),
            usage: wgpu::BufferUsages::STORAGE,
        });
        let output = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("bench.naive.output"),
            size: bytes,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let staging = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("bench.naive.staging"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let kernel = self.bind(device, pipeline, &[&input], &output, padded.len() / 4);
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("bench.naive"),
        });
        kernel.record(&mut encoder);
        encoder.copy_buffer_to_buffer(&output, 0, &staging, 0, bytes);
        let submission = queue.submit([encoder.finish()]);
        let (sender, receiver) = std::sync::mpsc::channel();
        staging
            .slice(..)
            .map_async(wgpu::MapMode::Read, move |r| drop(sender.send(r)));
        device.poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: Some(std::time::Duration::from_secs(120)),
        })?;
        receiver.recv().map_err(|_| wgpu::BufferAsyncError)??;
        let mut values: Vec<f32> =
            bytemuck::cast_slice(&staging.slice(..).get_mapped_range()?).to_vec();
        staging.unmap();
        values.truncate(x.len());
        Ok(values)
    }

    /// One workgroup of the empty kernel.
    pub fn empty_kernel(&self) -> BaselineKernel {
        BaselineKernel {
            pipeline: self.empty.clone(),
            bind_group: None,
            grid: (1, 1),
        }
    }
}

/// A baseline pipeline with its bindings and grid.
pub struct BaselineKernel {
    pipeline: wgpu::ComputePipeline,
    bind_group: Option<wgpu::BindGroup>,
    grid: (u32, u32),
}

impl BaselineKernel {
    /// One compute pass with one dispatch.
    pub fn record(&self, encoder: &mut wgpu::CommandEncoder) {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("bench.baseline"),
            timestamp_writes: None,
        });
        pass.set_pipeline(&self.pipeline);
        if let Some(bind_group) = &self.bind_group {
            pass.set_bind_group(0, bind_group, &[]);
        }
        pass.dispatch_workgroups(self.grid.0, self.grid.1, 1);
    }
}
