//! The reference kernels every throughput figure is compared with
//! (`shaders/baselines.wgsl`), shared by the CLI's `bench`
//! (`bench.rs` beside this file, which `examples/bench.rs` runs) and
//! the library's `benches/throughput.rs`, `tests/naive_baselines.rs` and this
//! crate's `examples/compute_cost.rs` (which include this file with `#[path]`).

#![allow(dead_code)] // each includer uses its own part

use wgpu_activations::{Activation, Context, Dtype, Element, Error, GpuTensor, Mode};

/// The naive one-vec4-per-invocation copy, the two-in-one-out copy (`a + b`)
/// and an empty kernel (for the dispatch round trip).
pub const BASELINE_WGSL: &str = include_str!("../../shaders/baselines.wgsl");

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

/// The activations the naive kernels compute: the ops of [`naive_ops`]
/// with their default parameters (as [`Activation::ALL`] holds them).
pub fn naive_activations() -> Vec<Activation> {
    let names = naive_ops();
    Activation::ALL
        .iter()
        .copied()
        .filter(|act| names.contains(&act.name()))
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

    /// The naive kernel of `act`, if it has one: the kernels compute the
    /// default parameters, so `elu(alpha=2)` has none.
    pub fn naive_of(&self, act: &Activation) -> Option<&wgpu::ComputePipeline> {
        if !Activation::ALL.contains(act) {
            return None;
        }
        self.naive
            .iter()
            .find(|(n, _)| *n == act.name())
            .map(|(_, p)| p)
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
    /// padded with zeros to whole vec4s) on `ctx`'s device, read back with
    /// `ctx.read`: what the naive kernels compute, for `accuracy --naive`
    /// and tests/naive_baselines.rs.
    pub fn run_naive(
        &self,
        ctx: &Context,
        pipeline: &wgpu::ComputePipeline,
        x: &[f32],
    ) -> Result<Vec<f32>, Error> {
        let mut padded = x.to_vec();
        padded.resize(x.len().div_ceil(4).max(1) * 4, 0.0);
        // Uploads are buffers of exactly their data's size, as the kernel's
        // `arrayLength` bound needs.
        let input = ctx.upload(&padded)?;
        let output = ctx.upload(&vec![0.0f32; padded.len()])?;
        let kernel = self.bind(
            ctx.device(),
            pipeline,
            &[input.buffer()],
            output.buffer(),
            padded.len() / 4,
        );
        let mut encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("bench.naive"),
            });
        kernel.record(&mut encoder);
        ctx.queue().submit([encoder.finish()]);
        let mut values = ctx.read(&output)?;
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
