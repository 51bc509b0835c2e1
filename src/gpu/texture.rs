//! Activations on textures (Part 13): any op and mode applied to every
//! channel of every texel of a texture a renderer already has, in the
//! caller's command encoder ([`Kernels::record_texture`]) or as an owning
//! call that returns a new texture ([`Context::apply_texture`]).
//!
//! wgpu's [`wgpu::TextureView`] exposes nothing but its texture: not its
//! format, dimension, mip level or layers (neither does WebGPU's
//! `GPUTextureView`). These kernels must check all of them before anything
//! is recorded, so they take a [`TextureRegion`] (a texture and one of its
//! mip levels, all array layers) and make the views themselves.

use crate::gpu::device::{LABEL, lock};
use crate::gpu::texture_cache::LayoutKey;
use crate::wgsl::DispatchData;
use crate::wgsl::texture::{
    Alpha, TEXTURE_FORMATS, TextureFormatSupport, TextureKernel, format_dtype, format_info,
    texture_module_with,
};
use crate::{Activation, Error, Kernels, Mode, Precision, WithPrecision};

/// One mip level of a 2-D texture, all of its array layers: what the
/// texture kernels read or write.
///
/// The texture must be 2-D and single-sampled, of one of
/// [`TEXTURE_FORMATS`]. A texture with one layer is bound through 2-D views,
/// one with several through 2-D array views (OpenGL ES tells the two apart
/// by the texture, not the view).
#[derive(Clone, Copy, Debug)]
pub struct TextureRegion<'a> {
    /// The texture (`TEXTURE_BINDING` usage to be read, `STORAGE_BINDING`
    /// to be written).
    pub texture: &'a wgpu::Texture,
    /// The mip level, below the texture's `mip_level_count`.
    pub mip_level: u32,
}

impl<'a> TextureRegion<'a> {
    /// Mip level 0 of `texture`, all layers.
    pub fn new(texture: &'a wgpu::Texture) -> Self {
        Self::mip(texture, 0)
    }

    /// Mip level `mip_level` of `texture`, all layers.
    pub fn mip(texture: &'a wgpu::Texture, mip_level: u32) -> Self {
        TextureRegion { texture, mip_level }
    }

    /// Width, height and layers at the region's mip level (`None` past the
    /// texture's mip levels).
    pub fn size(&self) -> Option<wgpu::Extent3d> {
        (self.mip_level < self.texture.mip_level_count()).then(|| {
            self.texture
                .size()
                .mip_level_size(self.mip_level, self.texture.dimension())
        })
    }

    fn same(&self, other: &TextureRegion<'_>) -> bool {
        self.texture == other.texture && self.mip_level == other.mip_level
    }
}

impl<'a> From<&'a wgpu::Texture> for TextureRegion<'a> {
    fn from(texture: &'a wgpu::Texture) -> Self {
        TextureRegion::new(texture)
    }
}

/// The parameters of one dispatch (`Dispatch` in texture.wgsl).
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct TextureDispatch {
    param: [f32; 4],
}

fn view_dimension(layered: bool) -> wgpu::TextureViewDimension {
    if layered {
        wgpu::TextureViewDimension::D2Array
    } else {
        wgpu::TextureViewDimension::D2
    }
}

fn sampled_entry(binding: u32, layered: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Texture {
            // Unfilterable: every float format, f32 ones included.
            sample_type: wgpu::TextureSampleType::Float { filterable: false },
            view_dimension: view_dimension(layered),
            multisampled: false,
        },
        count: None,
    }
}

fn storage_entry(
    format: wgpu::TextureFormat,
    access: wgpu::StorageTextureAccess,
    layered: bool,
) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding: 2,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::StorageTexture {
            access,
            format,
            view_dimension: view_dimension(layered),
        },
        count: None,
    }
}

/// Everything one record_texture call needs, checked.
struct Plan {
    kernel: TextureKernel,
    size: wgpu::Extent3d,
}

impl Kernels {
    /// What this device can do with each of [`TEXTURE_FORMATS`]: be an
    /// output, be worked on in place. Asked of the device's validation once
    /// (by creating a bind-group layout of each format and access) and
    /// cached. Every format can be read.
    pub fn texture_formats(&self) -> &[TextureFormatSupport] {
        self.textures.support.get_or_init(|| {
            let device = self.device();
            let probe = |format, access| {
                let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
                let _layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: Some("wgpu-activations.texture.probe"),
                    entries: &[storage_entry(format, access, true)],
                });
                pollster::block_on(scope.pop()).is_none()
            };
            TEXTURE_FORMATS
                .iter()
                .map(|&format| {
                    let output = probe(format, wgpu::StorageTextureAccess::WriteOnly);
                    TextureFormatSupport {
                        format,
                        output,
                        in_place: output && probe(format, wgpu::StorageTextureAccess::ReadWrite),
                    }
                })
                .collect()
        })
    }

    /// The formats for which `keep` holds (for error messages).
    pub(crate) fn formats_where(
        &self,
        keep: impl Fn(&TextureFormatSupport) -> bool,
    ) -> Vec<wgpu::TextureFormat> {
        self.texture_formats()
            .iter()
            .filter(|s| keep(s))
            .map(|s| s.format)
            .collect()
    }

    /// Whether `format` is one for which `keep` holds (no allocation: this
    /// is on every call's path).
    pub(crate) fn format_is(
        &self,
        format: wgpu::TextureFormat,
        keep: impl Fn(&TextureFormatSupport) -> bool,
    ) -> bool {
        self.texture_formats()
            .iter()
            .any(|s| s.format == format && keep(s))
    }

    /// The texture kernels' workgroup shape: rows of 64 x 1 on CPU adapters
    /// (measured on lavapipe and llvmpipe, 1024 x 1024 Rgba32Float, back to
    /// back: 2.1-2.7x the texels/s of 8 x 8), 8 x 8 tiles on GPUs (not
    /// measured).
    fn texture_workgroup(&self) -> (u32, u32) {
        *self.textures.workgroup.get_or_init(|| {
            if self.device().adapter_info().device_type == wgpu::DeviceType::Cpu {
                (64, 1)
            } else {
                (8, 8)
            }
        })
    }

    /// `Ok` for a texture these kernels can bind through 2-D or 2-D array
    /// views: 2-D, single-sampled, and on OpenGL ES not cube-compatible
    /// (wgpu-hal's GL backend makes a square 2-D texture of 6n layers a
    /// cube map, and a 2-D array view of it reads zeros: measured on
    /// llvmpipe).
    pub(crate) fn check_shape(
        &self,
        what: &'static str,
        texture: &wgpu::Texture,
    ) -> Result<(), Error> {
        let error = |reason| Error::TextureDimension {
            what,
            dimension: texture.dimension(),
            sample_count: texture.sample_count(),
            layers: texture.depth_or_array_layers(),
            reason,
        };
        if texture.dimension() != wgpu::TextureDimension::D2 || texture.sample_count() != 1 {
            return Err(error("only single-sampled 2-D textures are supported"));
        }
        let gl = *self
            .textures
            .gl
            .get_or_init(|| self.device().adapter_info().backend == wgpu::Backend::Gl);
        if gl
            && texture.width() == texture.height()
            && texture.depth_or_array_layers().is_multiple_of(6)
        {
            return Err(error(
                "on OpenGL ES wgpu makes a square 2-D texture of a multiple of 6 layers a cube \
                 map, which cannot be bound as a 2-D array: use another layer count or size",
            ));
        }
        Ok(())
    }

    /// Compiled texture pipelines so far.
    pub fn texture_pipeline_count(&self) -> usize {
        self.textures.pipeline_count()
    }

    /// Records `mode` of `act` over a texture into `encoder`: `output =
    /// f(input)`, `f'(input)` or `grad_output * f'(input)` for every channel
    /// of every texel of every array layer of one mip level, computed in f32
    /// exactly as [`Kernels::record`] computes f32 buffers (the same bits),
    /// and rounded once to the output's format where that is 16-bit: to
    /// nearest, ties to even, infinity where the rounded value overflows,
    /// like `half::f16::from_f32` and the f16 buffer kernels. (The kernels
    /// round before the storage write, whose own conversion drivers round
    /// as they like: Mesa's lavapipe and llvmpipe truncate toward zero and
    /// saturate at 65504.) Alpha is a channel like the others
    /// ([`Kernels::record_texture_with_alpha`] can leave it alone).
    ///
    /// The textures are 2-D, single-sampled, of [`TEXTURE_FORMATS`], all of
    /// the same size at their mip levels (width, height and layers) and with
    /// the same number of channels (an Rgba16Float input may have an
    /// Rgba32Float output). The output needs `STORAGE_BINDING` usage and a
    /// format the device can write ([`Kernels::texture_formats`]); x and
    /// grad_output are read through sampled bindings and need
    /// `TEXTURE_BINDING`.
    ///
    /// In place: `output` the same region as `input` (forward, derivative)
    /// or as `grad_output` (backward), where the device has read-write
    /// storage textures of the format ([`TextureFormatSupport::in_place`];
    /// else [`Error::TextureInPlace`]); that texture then needs only
    /// `STORAGE_BINDING`. Any other use of the output's texture as an input
    /// is [`Error::Aliasing`]. Everything is checked before anything is
    /// recorded; on error the encoder and the textures are untouched.
    ///
    /// wgpu's `TextureView` does not tell its format, dimension, mip level
    /// or layers, so this takes [`TextureRegion`]s (a texture and a mip
    /// level; `(&texture).into()` for level 0) and makes its own views.
    ///
    /// ```
    /// # fn demo(device: &wgpu::Device, queue: &wgpu::Queue, image: &wgpu::Texture, out: &wgpu::Texture) -> Result<(), wgpu_activations::Error> {
    /// use wgpu_activations::{Activation, Kernels, Mode};
    ///
    /// let kernels = Kernels::new(device); // once, at start-up
    /// let mut encoder = device.create_command_encoder(&Default::default());
    /// // ... the caller's render passes into `image` ...
    /// kernels.record_texture(&mut encoder, Activation::Tanh, Mode::Forward,
    ///                        image.into(), None, out.into())?;
    /// queue.submit([encoder.finish()]);
    /// # Ok(()) }
    /// ```
    pub fn record_texture(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        act: Activation,
        mode: Mode,
        input: TextureRegion<'_>,
        grad_output: Option<TextureRegion<'_>>,
        output: TextureRegion<'_>,
    ) -> Result<(), Error> {
        self.record_texture_with_alpha(encoder, act, mode, input, grad_output, output, Alpha::Apply)
    }

    /// [`Kernels::record_texture`] with a choice of what happens to alpha
    /// ([`Alpha::Keep`]: passed through unchanged).
    ///
    /// The smooth ops compute at the default [`Precision`] of the output's
    /// channels (`Precise` for the 32-bit formats, `Fast` for the 16-bit
    /// ones, as for buffers); [`Kernels::with_precision`] records at
    /// another.
    #[allow(clippy::too_many_arguments)]
    pub fn record_texture_with_alpha(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        act: Activation,
        mode: Mode,
        input: TextureRegion<'_>,
        grad_output: Option<TextureRegion<'_>>,
        output: TextureRegion<'_>,
        alpha: Alpha,
    ) -> Result<(), Error> {
        let precision = Precision::default_for(format_dtype(output.texture.format()));
        self.record_texture_at(
            encoder,
            act,
            mode,
            precision,
            (input, grad_output, output),
            alpha,
        )
    }

    /// [`Kernels::record_texture_with_alpha`] at `precision`.
    pub(crate) fn record_texture_at(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        act: Activation,
        mode: Mode,
        precision: Precision,
        (input, grad_output, output): (
            TextureRegion<'_>,
            Option<TextureRegion<'_>>,
            TextureRegion<'_>,
        ),
        alpha: Alpha,
    ) -> Result<(), Error> {
        act.validate()?;
        let plan = self.plan_texture(mode, &input, grad_output.as_ref(), &output, alpha)?;
        let pipeline = self.texture_pipeline(&act, plan.kernel, precision)?;
        let (param, _) = act.params();
        let kernel = plan.kernel;
        let device = self.device();
        // Views, bind group and uniform first, in their own scope: an error
        // there (a destroyed texture, one of another device) leaves the
        // encoder untouched.
        let bind_group = crate::gpu::device::scoped(device, || {
            let view = |region: &TextureRegion<'_>, what: &str, usage| {
                region.texture.create_view(&wgpu::TextureViewDescriptor {
                    label: Some(&format!("{LABEL}.texture.{what}")),
                    format: Some(region.texture.format()),
                    dimension: Some(view_dimension(kernel.layered)),
                    usage: Some(usage),
                    aspect: wgpu::TextureAspect::All,
                    base_mip_level: region.mip_level,
                    mip_level_count: Some(1),
                    base_array_layer: 0,
                    array_layer_count: Some(plan.size.depth_or_array_layers),
                })
            };
            let sampled = wgpu::TextureUsages::TEXTURE_BINDING;
            let storage = wgpu::TextureUsages::STORAGE_BINDING;
            let mut views = vec![(2, view(&output, "output", storage))];
            if kernel.samples_input() {
                views.push((1, view(&input, "input", sampled)));
            }
            if let (Some(grad), true) = (&grad_output, kernel.samples_grad()) {
                views.push((3, view(grad, "grad_output", sampled)));
            }
            let uniform = self.dispatch_uniform(
                "wgpu-activations.texture.dispatch",
                bytemuck::bytes_of(&TextureDispatch { param }),
            )?;
            let mut entries: Vec<wgpu::BindGroupEntry<'_>> = views
                .iter()
                .map(|(binding, view)| wgpu::BindGroupEntry {
                    binding: *binding,
                    resource: wgpu::BindingResource::TextureView(view),
                })
                .collect();
            if let Some(uniform) = &uniform {
                entries.push(wgpu::BindGroupEntry {
                    binding: 0,
                    resource: uniform.as_entire_binding(),
                });
            }
            let layouts = lock(&self.textures.layouts);
            let (layout, _) = layouts
                .get(&LayoutKey::of(&kernel))
                .expect("texture_pipeline made the layout");
            Ok::<_, Error>(device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("wgpu-activations.texture.dispatch"),
                layout,
                entries: &entries,
            }))
        })??;
        crate::gpu::device::scoped(device, || {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("wgpu-activations.texture.pass"),
                timestamp_writes: None,
            });
            let (wx, wy) = self.texture_workgroup();
            pass.set_pipeline(&pipeline);
            pass.set_bind_group(0, &bind_group, &[]);
            if self.dispatch_data() == DispatchData::Immediate {
                pass.set_immediates(0, bytemuck::bytes_of(&TextureDispatch { param }));
            }
            pass.dispatch_workgroups(
                plan.size.width.div_ceil(wx),
                plan.size.height.div_ceil(wy),
                plan.size.depth_or_array_layers,
            );
        })
    }

    /// Checks the regions and picks the kernel.
    fn plan_texture(
        &self,
        mode: Mode,
        input: &TextureRegion<'_>,
        grad_output: Option<&TextureRegion<'_>>,
        output: &TextureRegion<'_>,
        alpha: Alpha,
    ) -> Result<Plan, Error> {
        match (mode, grad_output) {
            (Mode::Backward, None) => return Err(Error::MissingGradOutput),
            (Mode::Forward | Mode::Derivative, Some(_)) => {
                return Err(Error::UnexpectedGradOutput { mode });
            }
            _ => {}
        }
        let regions = [
            ("input", Some(input)),
            ("grad_output", grad_output),
            ("output", Some(output)),
        ];
        let regions = regions
            .iter()
            .filter_map(|(what, region)| region.map(|r| (*what, r)));
        // The shape of each texture: 2-D, single-sampled, the mip level there.
        for (what, region) in regions.clone() {
            let texture = region.texture;
            self.check_shape(what, texture)?;
            if region.mip_level >= texture.mip_level_count() {
                return Err(Error::TextureMipLevel {
                    what,
                    mip_level: region.mip_level,
                    mip_level_count: texture.mip_level_count(),
                });
            }
        }
        // Formats: every input of TEXTURE_FORMATS, the output one the
        // device can write, all with the output's channels.
        let format = output.texture.format();
        let out_channels = match format_info(format) {
            Some((channels, _)) if self.format_is(format, |s| s.output) => channels,
            _ => {
                return Err(Error::TextureFormat {
                    what: "output",
                    format,
                    supported: self.formats_where(|s| s.output),
                });
            }
        };
        for (what, region) in regions.clone() {
            let actual = region.texture.format();
            match format_info(actual) {
                None => {
                    return Err(Error::TextureFormat {
                        what,
                        format: actual,
                        supported: TEXTURE_FORMATS.to_vec(),
                    });
                }
                Some((channels, _)) if channels != out_channels => {
                    return Err(Error::TextureFormatMismatch {
                        what,
                        expected: format,
                        actual,
                    });
                }
                _ => {}
            }
        }
        // In place, and no other sharing of the output's texture.
        let aliasing = |what| Error::Aliasing { what, mode };
        let in_place = match mode {
            Mode::Forward | Mode::Derivative => {
                if input.same(output) {
                    true
                } else if input.texture == output.texture {
                    return Err(aliasing(
                        "input and output are different mip levels of one texture",
                    ));
                } else {
                    false
                }
            }
            Mode::Backward => {
                let grad = grad_output.expect("checked above");
                if input.texture == output.texture {
                    return Err(aliasing("backward cannot write into the texture holding x"));
                }
                if grad.same(output) {
                    true
                } else if grad.texture == output.texture {
                    return Err(aliasing(
                        "grad_output and output are different mip levels of one texture",
                    ));
                } else {
                    false
                }
            }
        };
        if in_place && !self.format_is(format, |s| s.in_place) {
            return Err(Error::TextureInPlace {
                format,
                supported: self.formats_where(|s| s.in_place),
            });
        }
        let kernel = TextureKernel {
            mode,
            in_place,
            format,
            // OpenGL ES binds a one-layer texture as 2-D only.
            layered: output.texture.depth_or_array_layers() > 1,
            alpha,
        };
        // Usage: the output is a storage binding; what is read through a
        // sampled binding needs TEXTURE_BINDING.
        let storage = wgpu::TextureUsages::STORAGE_BINDING;
        let sampled = wgpu::TextureUsages::TEXTURE_BINDING;
        let mut needs = vec![("output", output, storage)];
        if kernel.samples_input() {
            needs.push(("input", input, sampled));
        }
        if let (Some(grad), true) = (grad_output, kernel.samples_grad()) {
            needs.push(("grad_output", grad, sampled));
        }
        for (what, region, required) in needs {
            let actual = region.texture.usage();
            if !actual.contains(required) {
                return Err(Error::TextureUsage {
                    what,
                    required,
                    actual,
                });
            }
        }
        // Sizes at the mip levels, layers included.
        let size = output.size().expect("mip level checked");
        for (what, region) in regions {
            let actual = region.size().expect("mip level checked");
            if actual != size {
                return Err(Error::TextureSize {
                    what,
                    expected: size,
                    actual,
                });
            }
        }
        Ok(Plan { kernel, size })
    }

    /// The cached pipeline (and layout) of one texture kernel, made on
    /// first use; failures come back as `Error::Gpu`.
    fn texture_pipeline(
        &self,
        act: &Activation,
        kernel: TextureKernel,
        precision: Precision,
    ) -> Result<wgpu::ComputePipeline, Error> {
        let key = (act.name(), kernel, precision);
        if let Some(pipeline) = lock(&self.textures.pipelines).get(&key) {
            return Ok(pipeline.clone());
        }
        let device = self.device();
        let layout_key = LayoutKey::of(&kernel);
        let data = self.dispatch_data();
        let source = texture_module_with(act, kernel, data, precision)?;
        let (wx, wy) = self.texture_workgroup();
        let pipeline = crate::gpu::device::scoped(device, || {
            let pipeline_layout = lock(&self.textures.layouts)
                .entry(layout_key)
                .or_insert_with(|| {
                    let access = if kernel.in_place {
                        wgpu::StorageTextureAccess::ReadWrite
                    } else {
                        wgpu::StorageTextureAccess::WriteOnly
                    };
                    let mut entries = vec![storage_entry(kernel.format, access, kernel.layered)];
                    if kernel.samples_input() {
                        entries.push(sampled_entry(1, kernel.layered));
                    }
                    if kernel.samples_grad() {
                        entries.push(sampled_entry(3, kernel.layered));
                    }
                    if data == DispatchData::Uniform {
                        entries.push(wgpu::BindGroupLayoutEntry {
                            binding: 0,
                            visibility: wgpu::ShaderStages::COMPUTE,
                            ty: wgpu::BindingType::Buffer {
                                ty: wgpu::BufferBindingType::Uniform,
                                has_dynamic_offset: false,
                                min_binding_size: wgpu::BufferSize::new(
                                    size_of::<TextureDispatch>() as u64,
                                ),
                            },
                            count: None,
                        });
                    }
                    let label = format!("{LABEL}.texture.{layout_key:?}");
                    let bind_group_layout =
                        device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                            label: Some(&label),
                            entries: &entries,
                        });
                    let pipeline_layout =
                        device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                            label: Some(&label),
                            bind_group_layouts: &[Some(&bind_group_layout)],
                            immediate_size: match data {
                                DispatchData::Immediate => size_of::<TextureDispatch>() as u32,
                                DispatchData::Uniform => 0,
                            },
                        });
                    (bind_group_layout, pipeline_layout)
                })
                .1
                .clone();
            let label = format!(
                "{LABEL}.texture.{}.{:?}.{}{:?}.{}.{:?}",
                act.name(),
                kernel.mode,
                if kernel.in_place { "in_place." } else { "" },
                kernel.format,
                if kernel.layered { "array" } else { "2d" },
                kernel.alpha,
            );
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(&label),
                source: wgpu::ShaderSource::Wgsl(source.into()),
            });
            device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some("main"),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[
                        ("WORKGROUP_X", f64::from(wx)),
                        ("WORKGROUP_Y", f64::from(wy)),
                    ],
                    zero_initialize_workgroup_memory: false,
                },
                cache: self.driver_pipeline_cache(),
            })
        });
        let pipeline = pipeline?;
        lock(&self.textures.pipelines).insert(key, pipeline.clone());
        Ok(pipeline)
    }
}

impl WithPrecision<'_, Kernels> {
    /// [`Kernels::record_texture`] at this tier.
    pub fn record_texture(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        act: Activation,
        mode: Mode,
        input: TextureRegion<'_>,
        grad_output: Option<TextureRegion<'_>>,
        output: TextureRegion<'_>,
    ) -> Result<(), Error> {
        self.record_texture_with_alpha(encoder, act, mode, input, grad_output, output, Alpha::Apply)
    }

    /// [`Kernels::record_texture_with_alpha`] at this tier.
    #[allow(clippy::too_many_arguments)]
    pub fn record_texture_with_alpha(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        act: Activation,
        mode: Mode,
        input: TextureRegion<'_>,
        grad_output: Option<TextureRegion<'_>>,
        output: TextureRegion<'_>,
        alpha: Alpha,
    ) -> Result<(), Error> {
        let regions = (input, grad_output, output);
        self.kernels
            .record_texture_at(encoder, act, mode, self.precision, regions, alpha)
    }
}
