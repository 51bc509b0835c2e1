//! What the kernel families beyond the unary ops share (gated, row-wise,
//! ...): a pipeline cache keyed by module and entry point, and dispatches
//! over caller regions with the per-dispatch data in a small uniform.
//! Each family's WGSL (its own template on the one function library, so no
//! activation's math is written twice) comes from `crate::wgsl::families`,
//! by the module name in a [`Plan`]; its kinds and shape checks from
//! `crate::catalogue`.

pub(crate) mod gated;
pub(crate) mod prelu;
pub(crate) mod rowwise;

use std::collections::HashMap;
use std::sync::Mutex;

use crate::gpu::device::{LABEL, lock};
use crate::wgsl::families::{module_source, written_bindings};
use crate::{BufferRegion, Error};

/// The per-dispatch data of every family kernel (`Dispatch` in their
/// templates): four u32 (lengths, strides) and four f32 (parameters).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, bytemuck::Pod, bytemuck::Zeroable)]
pub(crate) struct FamilyDispatch {
    pub(crate) counts: [u32; 4],
    pub(crate) param: [f32; 4],
}

/// One dispatch of a family kernel, apart from its buffers: which module
/// and entry point, the per-dispatch data and the number of workgroups.
/// The GPU path ([`FamilyPipelines::run`]) and the browser path
/// (`crate::browser`) run the same plans.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// `"rowwise"`, `"prelu"`, or a gated kind's name.
    pub(crate) module: String,
    pub(crate) entry: String,
    pub(crate) data: FamilyDispatch,
    /// Workgroups, spread over an x-by-y grid by the dispatch.
    pub(crate) groups: u64,
    /// An explicit x, y, z grid instead (`groups` is then its product).
    pub(crate) grid: Option<[u32; 3]>,
}

/// Pipelines of one family on one device, compiled on first use and cached.
pub(crate) struct FamilyPipelines {
    device: wgpu::Device,
    family: &'static str,
    max_workgroups_per_dimension: u32,
    offset_alignment: u64,
    max_binding_bytes: u64,
    /// Shader modules by name, each compiled once for all its entry points.
    modules: Mutex<HashMap<String, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<(String, String), wgpu::ComputePipeline>>,
}

impl FamilyPipelines {
    pub(crate) fn new(device: &wgpu::Device, family: &'static str) -> Self {
        let limits = device.limits();
        FamilyPipelines {
            device: device.clone(),
            family,
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            offset_alignment: u64::from(limits.min_storage_buffer_offset_alignment).max(4),
            max_binding_bytes: limits.max_storage_buffer_binding_size,
            modules: Mutex::new(HashMap::new()),
            pipelines: Mutex::new(HashMap::new()),
        }
    }

    /// Pipelines compiled so far.
    pub(crate) fn count(&self) -> usize {
        lock(&self.pipelines).len()
    }

    /// The pipeline of `entry` in the module named `module` (its WGSL from
    /// [`module_source`], compiled once for all its entry points), with the
    /// layout WGSL derives from the entry point. Shader and pipeline errors
    /// come back as [`Error::Gpu`].
    fn pipeline(&self, module: &str, entry: &str) -> Result<wgpu::ComputePipeline, Error> {
        let key = (module.to_string(), entry.to_string());
        if let Some(pipeline) = lock(&self.pipelines).get(&key) {
            return Ok(pipeline.clone());
        }
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let label = format!("{LABEL}.{}.{module}", self.family);
        let shader = lock(&self.modules)
            .entry(module.to_string())
            .or_insert_with(|| {
                self.device
                    .create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(&label),
                        source: wgpu::ShaderSource::Wgsl(module_source(module).into()),
                    })
            })
            .clone();
        let label = format!("{label}.{entry}");
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: None,
                module: &shader,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[],
                    zero_initialize_workgroup_memory: false,
                },
                cache: None,
            });
        if let Some(error) = pollster::block_on(scope.pop()) {
            // Compile the module again next time rather than keep a bad one.
            lock(&self.modules).remove(module);
            return Err(error.into());
        }
        lock(&self.pipelines).insert(key, pipeline.clone());
        Ok(pipeline)
    }

    /// Records `plan` over `bindings`. 16-bit regions (all of a call have
    /// one dtype: [`FamilyPipelines::check_call`]) go through f32 scratch
    /// buffers: each read one is widened into its own first, the kernel
    /// runs on the scratch, each written one is narrowed back (rounded once;
    /// the other half of an odd region's last word keeps its bits).
    pub(crate) fn run(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        plan: &Plan,
        bindings: &[(u32, &BufferRegion<'_>)],
    ) -> Result<(), Error> {
        // The library's own device work (scratch and uniform buffers, bind
        // groups) inside error scopes: a validation error comes back as
        // `Error::Gpu`, never through the uncaptured-error handler.
        crate::gpu::device::scoped(&self.device, || {
            let dtype = bindings
                .iter()
                .map(|(_, r)| r.dtype)
                .find(|d| *d != crate::Dtype::F32);
            if let Some(dtype) = dtype {
                return self.run_through_f32(encoder, plan, bindings, dtype);
            }
            let pipeline = self.pipeline(&plan.module, &plan.entry)?;
            self.dispatch(
                encoder,
                &pipeline,
                &plan.data,
                bindings,
                plan.groups,
                plan.grid,
            )
        })?
    }

    /// [`FamilyPipelines::run`] for 16-bit regions.
    fn run_through_f32(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        plan: &Plan,
        bindings: &[(u32, &BufferRegion<'_>)],
        dtype: crate::Dtype,
    ) -> Result<(), Error> {
        let written = written_bindings(&plan.module);
        let scratch: Vec<wgpu::Buffer> = bindings
            .iter()
            .map(|(_, region)| {
                self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some("wgpu-activations.family.f32-scratch"),
                    size: (region.len.div_ceil(2) as u64 * 8).max(8),
                    usage: wgpu::BufferUsages::STORAGE,
                    mapped_at_creation: false,
                })
            })
            .collect();
        for ((binding, region), buffer) in bindings.iter().zip(&scratch) {
            if !written.contains(binding) {
                self.convert(encoder, "widen", dtype, region, buffer)?;
            }
        }
        let f32_regions: Vec<BufferRegion<'_>> = bindings
            .iter()
            .zip(&scratch)
            .map(|((_, region), buffer)| BufferRegion::new(buffer, 0, region.len))
            .collect();
        let f32_bindings: Vec<(u32, &BufferRegion<'_>)> = bindings
            .iter()
            .zip(&f32_regions)
            .map(|((binding, _), region)| (*binding, region))
            .collect();
        let pipeline = self.pipeline(&plan.module, &plan.entry)?;
        self.dispatch(
            encoder,
            &pipeline,
            &plan.data,
            &f32_bindings,
            plan.groups,
            plan.grid,
        )?;
        for ((binding, region), buffer) in bindings.iter().zip(&scratch) {
            if written.contains(binding) {
                self.convert(encoder, "narrow", dtype, region, buffer)?;
            }
        }
        Ok(())
    }

    /// Records `direction` (`"widen"`: `region` into `scratch` as f32;
    /// `"narrow"`: `scratch` back into `region`, rounded once) over the
    /// words of the 16-bit `region`.
    fn convert(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        direction: &str,
        dtype: crate::Dtype,
        region: &BufferRegion<'_>,
        scratch: &wgpu::Buffer,
    ) -> Result<(), Error> {
        let words = region.len.div_ceil(2);
        if words == 0 {
            return Ok(());
        }
        let module = if dtype == crate::Dtype::F16 {
            "convert_f16"
        } else {
            "convert_bf16"
        };
        let pipeline = self.pipeline(module, direction)?;
        let data = FamilyDispatch {
            counts: [words as u32, (region.len % 2) as u32, 0, 0],
            param: [0.0; 4],
        };
        // The 16-bit region as whole words, the scratch as f32 pairs.
        let as_words = BufferRegion::new(region.buffer, region.offset, words);
        let floats = BufferRegion::new(scratch, 0, words * 2);
        let bindings = if direction == "widen" {
            [(1, &as_words), (2, &floats)]
        } else {
            [(3, &floats), (4, &as_words)]
        };
        self.dispatch(
            encoder,
            &pipeline,
            &data,
            &bindings,
            (words as u64).div_ceil(256),
            None,
        )
    }

    /// Sets a 16-bit `region` to +0.0 (its last word's other half kept), as
    /// `clear_buffer` cannot where the region ends in half a word.
    pub(crate) fn clear_16_bit(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        region: &BufferRegion<'_>,
    ) -> Result<(), Error> {
        // In error scopes, as `run`: this is the lower layer's own work.
        crate::gpu::device::scoped(&self.device, || {
            let zeros = self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("wgpu-activations.family.f32-scratch"),
                size: (region.len.div_ceil(2) as u64 * 8).max(8),
                usage: wgpu::BufferUsages::STORAGE,
                mapped_at_creation: false,
            });
            self.convert(encoder, "narrow", region.dtype, region, &zeros)
        })?
    }

    /// Checks the regions of one call before anything is recorded: each
    /// bound whole (at most the storage binding limit), then usage,
    /// alignment and bounds as the unary kernels check them; then
    /// [`Error::Aliasing`] where a written region shares a buffer with any
    /// other region of the call (`mode`: the call's direction, for the
    /// error).
    pub(crate) fn check_call(
        &self,
        mode: crate::Mode,
        written: &[(&'static str, &BufferRegion<'_>)],
        read: &[(&'static str, &BufferRegion<'_>)],
    ) -> Result<(), Error> {
        let dtype = written.first().or(read.first()).map(|(_, r)| r.dtype);
        for (what, region) in written.iter().chain(read) {
            if let Some(expected) = dtype.filter(|d| *d != region.dtype) {
                return Err(Error::DtypeMismatch {
                    what,
                    expected,
                    actual: region.dtype,
                });
            }
            // 16-bit regions are bound as f32 scratch: 4 bytes per value.
            let bytes = region.len as u64 * 4;
            if bytes > self.max_binding_bytes {
                return Err(Error::TooLarge {
                    len: region.len,
                    bytes,
                    max_bytes: self.max_binding_bytes,
                });
            }
            crate::gpu::kernels::check_region(what, region, self.offset_alignment)?;
        }
        for (i, (_, w)) in written.iter().enumerate() {
            let others = written[i + 1..].iter().chain(read);
            if others.into_iter().any(|(_, r)| r.buffer == w.buffer) {
                return Err(Error::Aliasing {
                    what: "an output shares a buffer with another region of the call",
                    mode,
                });
            }
        }
        Ok(())
    }

    /// Records one dispatch of `pipeline` in its own compute pass: `data` in
    /// a uniform at binding 0, `bindings` at their binding numbers, `groups`
    /// workgroups spread over an x-by-y grid (the kernels index workgroups
    /// as `y * num_workgroups.x + x`).
    pub(crate) fn dispatch(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        pipeline: &wgpu::ComputePipeline,
        data: &FamilyDispatch,
        bindings: &[(u32, &BufferRegion<'_>)],
        groups: u64,
        grid: Option<[u32; 3]>,
    ) -> Result<(), Error> {
        let uniform = crate::gpu::readback::buffer_with(
            &self.device,
            "wgpu-activations.family.dispatch",
            wgpu::BufferUsages::UNIFORM,
            bytemuck::bytes_of(data),
        )?;
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 0,
            resource: uniform.as_entire_binding(),
        }];
        for (binding, region) in bindings {
            entries.push(wgpu::BindGroupEntry {
                binding: *binding,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: region.buffer,
                    offset: region.offset,
                    size: wgpu::BufferSize::new((region.len as u64 * 4).max(4)),
                }),
            });
        }
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("wgpu-activations.family.dispatch"),
            layout: &pipeline.get_bind_group_layout(0),
            entries: &entries,
        });
        let groups = groups.max(1);
        let x = groups.min(u64::from(self.max_workgroups_per_dimension));
        let y = groups.div_ceil(x);
        let [x, y, z] = grid.unwrap_or([x as u32, y as u32, 1]);
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
            label: Some("wgpu-activations.family.pass"),
            timestamp_writes: None,
        });
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(x, y, z);
        Ok(())
    }
}
