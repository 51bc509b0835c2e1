//! The layer that owns nothing: pipelines for one device, recorded into a
//! caller's command encoder over caller-provided buffers; the caller submits.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::gpu::device::{LABEL, lock};
use crate::wgsl::{self, DispatchData, Storage, Width};
use crate::{Activation, Dtype, Error, Mode, Precision, WithPrecision};

/// The data each dispatch reads (layout of `Dispatch` in `elementwise.wgsl`),
/// as immediates or, on devices without them, a uniform.
#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct DispatchData32 {
    len: u32,
    base: u32,
    keep_high: u32,
    _pad: u32,
    param: [f32; 4],
}

/// Launch shape of the element-wise kernels on one adapter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tuning {
    /// Invocations per workgroup (the `WORKGROUP_SIZE` override).
    pub workgroup_size: u32,
    /// Body elements (vec4, or eight packed f32) per invocation (the
    /// kernel module's `ITEMS` constant).
    pub items_per_invocation: u32,
    /// Move the main body as [`Width::Packed`] (eight f32 per invocation as
    /// `vec4<u64>`) instead of `vec4<f32>`. Ignored where the device lacks
    /// `Features::SHADER_INT64`.
    pub packed: bool,
    /// Convert f16 data with WGSL's `f16` type ([`Storage::F16`]) rather
    /// than on u32 words ([`Storage::F16Packed`]). Ignored where the device
    /// lacks `Features::SHADER_F16`.
    pub shader_f16: bool,
}

impl Tuning {
    /// The shape for a device: 256 invocations per workgroup (64 halves
    /// throughput on lavapipe; 256 suits desktop GPUs), each doing one body
    /// element on CPU adapters and two on GPUs, capped by the device limits; packed
    /// storage on Mesa's llvmpipe-based adapters (used only where the device
    /// has `Features::SHADER_INT64`, see [`Tuning::packed`]). The
    /// environment variables `WGPU_ACTIVATIONS_WORKGROUP_SIZE`,
    /// `WGPU_ACTIVATIONS_ITEMS` and `WGPU_ACTIVATIONS_PACKED` (0 or 1)
    /// override them, for experiments. f16 data goes through WGSL's `f16`
    /// type on GPUs and through u32 words on CPU adapters (where that was
    /// measured faster); `WGPU_ACTIVATIONS_F16=native` or `=packed`
    /// overrides [`Tuning::shader_f16`].
    pub fn for_device(device: &wgpu::Device) -> Tuning {
        let limits = device.limits();
        let env = |name: &str| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.parse::<u32>().ok())
                .filter(|v| *v > 0)
        };
        let workgroup_size = env("WGPU_ACTIVATIONS_WORKGROUP_SIZE")
            .unwrap_or(256)
            .min(limits.max_compute_workgroup_size_x)
            .min(limits.max_compute_invocations_per_workgroup);
        // On CPU adapters (lavapipe, llvmpipe, WARP) invocations already run
        // as SIMD lanes and unrolled work only grows the JIT-compiled code:
        // one vec4 each is fastest there (measured: sigmoid 1.5 vs 1.2 GB/s
        // at 1 vs 4). GPUs get 2 vec4 per invocation to cut launch overhead.
        let cpu = device.adapter_info().device_type == wgpu::DeviceType::Cpu;
        let items_per_invocation = env("WGPU_ACTIVATIONS_ITEMS")
            .unwrap_or(if cpu { 1 } else { 2 })
            .min(64);
        // Mesa's lavapipe and llvmpipe (22.x) load and store storage buffers
        // one component per SIMD lane at a time, so 64-bit components halve
        // the memory work (measured on lavapipe, 2^24 f32: a copy kernel
        // 1.8 GB/s with vec4<f32>, 3.1 GB/s with vec4<u64>). GPUs move
        // 128 bits per invocation natively and keep vec4<f32>, and so do
        // other CPU adapters (WARP, SwiftShader), where it was not measured.
        // (Kernels::with_tuning drops it where the device lacks SHADER_INT64.)
        let llvmpipe = cpu && device.adapter_info().name.contains("llvmpipe");
        let packed = match std::env::var("WGPU_ACTIVATIONS_PACKED").as_deref() {
            Ok("0") => false,
            Ok("1") => true,
            _ => llvmpipe,
        };
        // f16 through WGSL's f16 type on GPUs; on CPU adapters the u32-word
        // conversions (measured on lavapipe, 2^24, forward, elements/s over
        // f32's in the same run: WGSL f16 relu 0.39x, sigmoid 0.59x, gelu
        // 0.85x; words 0.89x, 1.22x, 1.46x: its f16 storage is accessed one
        // 16-bit component at a time).
        // WGPU_ACTIVATIONS_F16=native or =packed overrides.
        let shader_f16 = match std::env::var("WGPU_ACTIVATIONS_F16").as_deref() {
            Ok("packed") => false,
            Ok("native") => true,
            _ => !cpu,
        };
        Tuning {
            workgroup_size,
            items_per_invocation,
            packed,
            shader_f16,
        }
    }
}

/// `len` elements of type `dtype` in a storage buffer, starting `offset`
/// bytes in.
///
/// 16-bit regions (f16, bf16) are bound in whole 4-byte words: a region of
/// odd length ends in half a word, and that word must lie inside the buffer
/// (buffers this crate creates are sized so). Kernels read its other half
/// and write it back unchanged (no other work of the same submission can
/// touch it in between: wgpu orders every use of a written buffer).
#[derive(Clone, Copy, Debug)]
pub struct BufferRegion<'a> {
    /// The buffer (needs `STORAGE` usage).
    pub buffer: &'a wgpu::Buffer,
    /// Byte offset of the first element: a multiple of the device's
    /// `min_storage_buffer_offset_alignment` (256 on most devices), for
    /// every dtype.
    pub offset: u64,
    /// Number of elements.
    pub len: usize,
    /// The element type ([`Dtype::F32`] from [`BufferRegion::new`]).
    pub dtype: Dtype,
}

impl<'a> BufferRegion<'a> {
    /// `len` f32 elements starting `offset` bytes into `buffer`.
    pub fn new(buffer: &'a wgpu::Buffer, offset: u64, len: usize) -> Self {
        Self::typed(buffer, offset, len, Dtype::F32)
    }

    /// `len` elements of `dtype` starting `offset` bytes into `buffer`.
    pub fn typed(buffer: &'a wgpu::Buffer, offset: u64, len: usize, dtype: Dtype) -> Self {
        BufferRegion {
            buffer,
            offset,
            len,
            dtype,
        }
    }

    /// The whole buffer as f32 elements (`size / 4` of them).
    pub fn whole(buffer: &'a wgpu::Buffer) -> Self {
        Self::whole_typed(buffer, Dtype::F32)
    }

    /// The whole buffer as elements of `dtype` (`size / dtype.size()`).
    pub fn whole_typed(buffer: &'a wgpu::Buffer, dtype: Dtype) -> Self {
        Self::typed(
            buffer,
            0,
            (buffer.size() / dtype.size() as u64) as usize,
            dtype,
        )
    }

    /// Byte size of the region's elements.
    pub fn byte_len(&self) -> u64 {
        self.len as u64 * self.dtype.size() as u64
    }

    /// Bytes a binding of the region covers: [`BufferRegion::byte_len`]
    /// rounded up to whole 4-byte words.
    pub fn bound_len(&self) -> u64 {
        self.dtype.bound_bytes(self.len as u64)
    }

    /// The binding of elements `[start, start + len)` of the region (`start`
    /// on a word boundary), in whole words.
    fn window(self, start: u64, len: u64) -> wgpu::BindingResource<'a> {
        let size = self.dtype.size() as u64;
        wgpu::BindingResource::Buffer(wgpu::BufferBinding {
            buffer: self.buffer,
            offset: self.offset + start * size,
            size: wgpu::BufferSize::new(self.dtype.bound_bytes(len)),
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

/// What identifies a compiled pipeline: op, entry point, width, storage.
type PipelineKey = (&'static str, Entry, Width, Storage, Precision);
/// A compiled module: one op at one storage width, storage and tier.
type ModuleKey = (&'static str, Width, Storage, Precision);

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

/// Which storage bindings an entry point uses (plus binding 0, the uniform,
/// on devices without immediates).
#[derive(Clone, Copy)]
enum Layout {
    /// 1 input, 2 output.
    Unary,
    /// 1 input, 2 output, 3 grad_output.
    Binary,
    /// 2 data.
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
/// parameters travel as immediates (a small uniform on devices without
/// them), so new values never recompile.
///
/// ```
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
    tuning: Tuning,
    dispatch_data: DispatchData,
    max_workgroups_per_dimension: u32,
    offset_alignment: u64,
    /// Most bytes bound in one dispatch (storage binding limit, aligned).
    window_bytes: u64,
    pipeline_cache: Option<PipelineCacheFile>,
    modules: Mutex<HashMap<ModuleKey, wgpu::ShaderModule>>,
    pipelines: Mutex<HashMap<PipelineKey, wgpu::ComputePipeline>>,
    /// The texture kernels' formats, layouts and pipelines (src/texture.rs).
    pub(crate) textures: crate::gpu::texture_cache::TextureCache,
}

impl std::fmt::Debug for Kernels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kernels")
            .field("tuning", &self.tuning)
            .field("dispatch_data", &self.dispatch_data)
            .field("window_bytes", &self.window_bytes)
            .field("pipelines", &lock(&self.pipelines).len())
            .finish_non_exhaustive()
    }
}

/// A driver pipeline cache backed by a file, so that a second process does
/// not recompile every pipeline (Vulkan, where the device has
/// `Features::PIPELINE_CACHE`). Saved when the [`Kernels`] are dropped, or by
/// [`Kernels::save_pipeline_cache`].
struct PipelineCacheFile {
    cache: wgpu::PipelineCache,
    path: PathBuf,
    /// New pipelines were compiled since the file was read.
    dirty: AtomicBool,
}

/// Where pipeline caches live: `WGPU_ACTIVATIONS_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/wgpu-activations`, else `$HOME/.cache/wgpu-activations`.
/// `WGPU_ACTIVATIONS_CACHE_DIR=off` disables the cache.
fn pipeline_cache_dir() -> Option<PathBuf> {
    match std::env::var_os("WGPU_ACTIVATIONS_CACHE_DIR") {
        Some(dir) if dir == "off" => None,
        Some(dir) => Some(PathBuf::from(dir)),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache")))
            .map(|dir| dir.join("wgpu-activations")),
    }
}

impl PipelineCacheFile {
    fn open(device: &wgpu::Device) -> Option<PipelineCacheFile> {
        if !device.features().contains(wgpu::Features::PIPELINE_CACHE) {
            return None;
        }
        let key = wgpu::util::pipeline_cache_key(&device.adapter_info())?;
        let path = pipeline_cache_dir()?.join(key);
        let data = std::fs::read(&path).ok();
        // SAFETY: the data was written by `PipelineCache::get_data` for an
        // adapter with the same key (vendor and device); the driver validates
        // it again and `fallback` replaces anything it rejects with an empty cache.
        let cache = unsafe {
            device.create_pipeline_cache(&wgpu::PipelineCacheDescriptor {
                label: Some("wgpu-activations.pipeline-cache"),
                data: data.as_deref(),
                fallback: true,
            })
        };
        Some(PipelineCacheFile {
            cache,
            path,
            dirty: AtomicBool::new(false),
        })
    }

    fn save(&self) -> std::io::Result<()> {
        if !self.dirty.swap(false, Ordering::AcqRel) {
            return Ok(());
        }
        let Some(data) = self.cache.get_data() else {
            return Ok(());
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let temp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&temp, &data)?;
        std::fs::rename(&temp, &self.path)
    }
}

impl Drop for Kernels {
    fn drop(&mut self) {
        // Best effort: a cache that cannot be written only costs start-up time.
        if let Some(cache) = &self.pipeline_cache {
            let _ = cache.save();
        }
    }
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl Kernels {
    /// Creates the bind-group and pipeline layouts for `device`, with the
    /// launch shape of [`Tuning::for_device`]; pipelines are compiled lazily
    /// (or ahead of time with [`Kernels::prepare`]). Per-dispatch data travels
    /// as immediates where the device has `Features::IMMEDIATES` (no buffer
    /// per dispatch), in a small uniform buffer otherwise.
    pub fn new(device: &wgpu::Device) -> Self {
        Self::with_tuning(device, Tuning::for_device(device))
    }

    /// [`Kernels::new`] with an explicit launch shape.
    pub fn with_tuning(device: &wgpu::Device, mut tuning: Tuning) -> Self {
        let limits = device.limits();
        tuning.packed &= device.features().contains(wgpu::Features::SHADER_INT64);
        tuning.shader_f16 &= device.features().contains(wgpu::Features::SHADER_F16);
        let dispatch_data = if device.features().contains(wgpu::Features::IMMEDIATES)
            && limits.max_immediate_size as usize >= size_of::<DispatchData32>()
        {
            DispatchData::Immediate
        } else {
            DispatchData::Uniform
        };
        let uniform_entry = wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::COMPUTE,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: wgpu::BufferSize::new(size_of::<DispatchData32>() as u64),
            },
            count: None,
        };
        let bind_group_layout = |label, storage: &[wgpu::BindGroupLayoutEntry]| {
            let mut entries = storage.to_vec();
            if dispatch_data == DispatchData::Uniform {
                entries.insert(0, uniform_entry);
            }
            device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                label: Some(label),
                entries: &entries,
            })
        };
        let unary_layout = bind_group_layout(
            "wgpu-activations.unary",
            &[storage_entry(1, true), storage_entry(2, false)],
        );
        let binary_layout = bind_group_layout(
            "wgpu-activations.binary",
            &[
                storage_entry(1, true),
                storage_entry(2, false),
                storage_entry(3, true),
            ],
        );
        let in_place_layout =
            bind_group_layout("wgpu-activations.in_place", &[storage_entry(2, false)]);
        let immediate_size = match dispatch_data {
            DispatchData::Immediate => size_of::<DispatchData32>() as u32,
            DispatchData::Uniform => 0,
        };
        let pipeline_layout = |label, layout| {
            device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
                label: Some(label),
                bind_group_layouts: &[Some(layout)],
                immediate_size,
            })
        };
        let unary_pipeline_layout = pipeline_layout("wgpu-activations.unary", &unary_layout);
        let binary_pipeline_layout = pipeline_layout("wgpu-activations.binary", &binary_layout);
        let in_place_pipeline_layout =
            pipeline_layout("wgpu-activations.in_place", &in_place_layout);
        // Windows are whole body elements (up to 32 bytes) and keep every
        // bound offset aligned.
        let align = u64::from(limits.min_storage_buffer_offset_alignment).max(32);
        let window_bytes = limits.max_storage_buffer_binding_size / align * align;
        Kernels {
            device: device.clone(),
            unary_layout,
            binary_layout,
            in_place_layout,
            unary_pipeline_layout,
            binary_pipeline_layout,
            in_place_pipeline_layout,
            tuning,
            dispatch_data,
            max_workgroups_per_dimension: limits.max_compute_workgroups_per_dimension,
            offset_alignment: u64::from(limits.min_storage_buffer_offset_alignment).max(4),
            window_bytes,
            pipeline_cache: PipelineCacheFile::open(device),
            modules: Mutex::new(HashMap::new()),
            pipelines: Mutex::new(HashMap::new()),
            textures: Default::default(),
        }
    }

    /// How per-dispatch data reaches these kernels' modules.
    pub(crate) fn dispatch_data(&self) -> DispatchData {
        self.dispatch_data
    }

    /// The driver pipeline cache for a pipeline about to be compiled (it is
    /// then saved on drop), where the device has one.
    pub(crate) fn driver_pipeline_cache(&self) -> Option<&wgpu::PipelineCache> {
        self.pipeline_cache.as_ref().map(|cache| {
            cache.dirty.store(true, Ordering::Release);
            &cache.cache
        })
    }

    /// Writes the driver's pipeline cache to disk now (it is also written when
    /// the kernels are dropped). Does nothing where there is no cache or
    /// nothing new was compiled.
    pub fn save_pipeline_cache(&self) -> std::io::Result<()> {
        self.pipeline_cache
            .as_ref()
            .map_or(Ok(()), PipelineCacheFile::save)
    }

    /// The launch shape in use.
    pub fn tuning(&self) -> Tuning {
        self.tuning
    }

    /// The device these kernels run on.
    pub fn device(&self) -> &wgpu::Device {
        &self.device
    }

    /// Compiled pipelines so far (each (op, entry point) compiles once).
    pub fn pipeline_count(&self) -> usize {
        lock(&self.pipelines).len()
    }

    /// Compiles the out-of-place f32 pipelines of `act` for every mode now,
    /// so that the first `record` does not pay for it.
    pub fn prepare(&self, act: Activation) -> Result<(), Error> {
        self.prepare_dtype(act, Dtype::F32)
    }

    /// [`Kernels::prepare`] for data of `dtype` (at its default
    /// [`Precision`]).
    pub fn prepare_dtype(&self, act: Activation, dtype: Dtype) -> Result<(), Error> {
        self.prepare_at(act, dtype, Precision::default_for(dtype))
    }

    /// [`Kernels::prepare_dtype`] at `precision`.
    pub fn prepare_at(
        &self,
        act: Activation,
        dtype: Dtype,
        precision: Precision,
    ) -> Result<(), Error> {
        act.validate()?;
        let storage = self.storage(dtype);
        for entry in [Entry::Forward, Entry::Derivative, Entry::Backward] {
            for width in [storage.body_width(self.body_width()), Width::Scalar] {
                self.pipeline(&act, entry, width, storage, precision)?;
            }
        }
        Ok(())
    }

    /// These kernels recording at `precision` instead of each dtype's
    /// default ([`Precision::default_for`]): the same methods, `record`,
    /// `record_texture` and `record_texture_with_alpha`. Each tier's
    /// pipelines are compiled once and cached here.
    pub fn with_precision(&self, precision: Precision) -> WithPrecision<'_, Kernels> {
        WithPrecision {
            kernels: self,
            precision,
        }
    }

    /// How data of `dtype` is stored by these kernels' modules: f16 through
    /// WGSL's `f16` where the device and [`Tuning::shader_f16`] allow it,
    /// on u32 words otherwise.
    pub fn storage(&self, dtype: Dtype) -> Storage {
        match dtype {
            Dtype::F32 => Storage::F32,
            Dtype::F16 if self.tuning.shader_f16 => Storage::F16,
            Dtype::F16 => Storage::F16Packed,
            Dtype::Bf16 => Storage::Bf16,
        }
    }

    /// The cached pipeline of `act` for `entry` at `width`, compiling it on
    /// first use. Shader or pipeline validation failures come back as
    /// `Error::Gpu`.
    fn pipeline(
        &self,
        act: &Activation,
        entry: Entry,
        width: Width,
        storage: Storage,
        precision: Precision,
    ) -> Result<wgpu::ComputePipeline, Error> {
        let key = (act.name(), entry, width, storage, precision);
        if let Some(pipeline) = lock(&self.pipelines).get(&key) {
            return Ok(pipeline.clone());
        }
        let scope = self.device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = lock(&self.modules)
            .entry((act.name(), width, storage, precision))
            .or_insert_with(|| {
                let label = format!("{LABEL}.{}.{width:?}.{storage:?}.{precision}", act.name());
                let source = wgsl::elementwise_module_with(
                    act,
                    width,
                    storage,
                    self.dispatch_data,
                    self.tuning.items_per_invocation,
                    precision,
                );
                self.device
                    .create_shader_module(wgpu::ShaderModuleDescriptor {
                        label: Some(&label),
                        source: wgpu::ShaderSource::Wgsl(source.into()),
                    })
            })
            .clone();
        let layout = match entry.layout() {
            Layout::Unary => &self.unary_pipeline_layout,
            Layout::Binary => &self.binary_pipeline_layout,
            Layout::InPlace => &self.in_place_pipeline_layout,
        };
        let label = format!(
            "{LABEL}.{}.{}.{width:?}.{storage:?}.{precision}",
            act.name(),
            entry.name()
        );
        let pipeline = self
            .device
            .create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(&label),
                layout: Some(layout),
                module: &module,
                entry_point: Some(entry.name()),
                compilation_options: wgpu::PipelineCompilationOptions {
                    constants: &[("WORKGROUP_SIZE", f64::from(self.tuning.workgroup_size))],
                    zero_initialize_workgroup_memory: false,
                },
                cache: self.pipeline_cache.as_ref().map(|c| &c.cache),
            });
        if let Some(cache) = &self.pipeline_cache {
            cache.dirty.store(true, Ordering::Release);
        }
        if let Some(error) = pollster::block_on(scope.pop()) {
            lock(&self.modules).remove(&(act.name(), width, storage, precision));
            return Err(error.into());
        }
        lock(&self.pipelines).insert(key, pipeline.clone());
        Ok(pipeline)
    }

    /// Checks one region: usage, alignment and bounds.
    fn check_region(&self, what: &'static str, region: &BufferRegion<'_>) -> Result<(), Error> {
        check_region(what, region, self.offset_alignment)
    }

    /// Records `mode` of `act` into `encoder`: `output = f(input)`,
    /// `output = f'(input)`, or for [`Mode::Backward`]
    /// `output = grad_output * f'(input)`. All regions have the same length
    /// and the same [`Dtype`] (their `dtype` field): f32 data is computed in
    /// f32; f16 and bf16 data is widened to f32, computed the same way and
    /// rounded once (to nearest even) to its type. Offsets follow the same
    /// rule for every dtype (a multiple of the device's
    /// `min_storage_buffer_offset_alignment`).
    ///
    /// In place is supported where a kernel can do it: `output` equal to
    /// `input` (forward, derivative), or equal to `grad_output` (backward, dx
    /// over dy). Any other sharing of a buffer between the written region and
    /// a read one is [`Error::Aliasing`]. Everything (parameters, lengths,
    /// usage flags, alignment, bounds, aliasing) is checked before anything is
    /// recorded; on error the encoder and the buffers are untouched.
    ///
    /// The smooth ops compute at the data's default [`Precision`]
    /// (`Precise` for f32, `Fast` for f16 and bf16);
    /// [`Kernels::with_precision`] records at another.
    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        act: Activation,
        mode: Mode,
        input: BufferRegion<'_>,
        grad_output: Option<BufferRegion<'_>>,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let precision = Precision::default_for(output.dtype);
        self.record_at(encoder, act, mode, precision, (input, grad_output, output))
    }

    /// [`Kernels::record`] at `precision`.
    pub(crate) fn record_at(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        act: Activation,
        mode: Mode,
        precision: Precision,
        (input, grad_output, output): (
            BufferRegion<'_>,
            Option<BufferRegion<'_>>,
            BufferRegion<'_>,
        ),
    ) -> Result<(), Error> {
        act.validate()?;
        let entry = self.plan(mode, &input, grad_output.as_ref(), &output)?;
        if output.len == 0 {
            return Ok(());
        }
        let storage = self.storage(output.dtype);
        let body_width = storage.body_width(self.body_width());
        let lanes = storage.lanes(body_width) as u64;
        // Elements per scalar (tail) storage element: 1, or 2 per word.
        let scalar_lanes = storage.lanes(Width::Scalar) as u64;
        let body_pipeline = self.pipeline(&act, entry, body_width, storage, precision)?;
        let len = output.len as u64;
        let tail_pipeline = if !len.is_multiple_of(lanes) {
            Some(self.pipeline(&act, entry, Width::Scalar, storage, precision)?)
        } else {
            None
        };
        // Whole body elements per window, and element indices well inside u32.
        let window_len = (self.window_bytes / output.dtype.size() as u64).min(1 << 30);
        let (param, _) = act.params();
        let regions = (input, grad_output, output);
        // Bind groups are the library's own device work: a validation error
        // there (a destroyed buffer, one of another device) comes back as
        // `Error::Gpu` instead of reaching the uncaptured-error handler.
        crate::gpu::device::scoped(&self.device, || {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("wgpu-activations.pass"),
                timestamp_writes: None,
            });
            let mut start = 0;
            while start < len {
                // A window of whole body elements, then (in the last window
                // only) the few scalars left.
                let window = (len - start).min(window_len);
                let body = window / lanes;
                if body > 0 {
                    let data = DispatchData32 {
                        len: body as u32,
                        base: 0,
                        keep_high: 0,
                        _pad: 0,
                        param,
                    };
                    let bind_group = self.bind_group(entry, regions, start, body * lanes, &data)?;
                    let groups = body.div_ceil(self.elements_per_workgroup());
                    self.dispatch(&mut pass, &body_pipeline, &bind_group, &data, groups);
                }
                if let (Some(tail), true) = (&tail_pipeline, !window.is_multiple_of(lanes)) {
                    let rest = window % lanes;
                    let data = DispatchData32 {
                        len: rest.div_ceil(scalar_lanes) as u32,
                        base: (body * lanes / scalar_lanes) as u32,
                        keep_high: (rest % scalar_lanes) as u32,
                        _pad: 0,
                        param,
                    };
                    let bind_group = self.bind_group(entry, regions, start, window, &data)?;
                    self.dispatch(&mut pass, tail, &bind_group, &data, 1);
                }
                start += window;
            }
            Ok(())
        })?
    }

    /// The storage element of the main body: packed where the tuning asks
    /// for it (and the device allows), `vec4<f32>` otherwise.
    pub fn body_width(&self) -> Width {
        if self.tuning.packed {
            Width::Packed
        } else {
            Width::Vec4
        }
    }

    /// Elements (body or scalar) one workgroup covers.
    fn elements_per_workgroup(&self) -> u64 {
        u64::from(self.tuning.workgroup_size) * u64::from(self.tuning.items_per_invocation)
    }

    /// The uniform buffer holding one dispatch's data (`bytes`) on devices
    /// without immediates (binding 0 of the buffer and texture kernels);
    /// `None` where the data goes as immediates.
    pub(crate) fn dispatch_uniform(
        &self,
        label: &str,
        bytes: &[u8],
    ) -> Result<Option<wgpu::Buffer>, Error> {
        match self.dispatch_data {
            DispatchData::Uniform => Ok(Some(crate::gpu::readback::buffer_with(
                &self.device,
                label,
                wgpu::BufferUsages::UNIFORM,
                bytes,
            )?)),
            DispatchData::Immediate => Ok(None),
        }
    }

    /// The bind group of one dispatch: the windows `[start, start + len)` of
    /// the regions the entry point uses, and the uniform on devices without
    /// immediates.
    fn bind_group(
        &self,
        entry: Entry,
        (input, grad_output, output): (
            BufferRegion<'_>,
            Option<BufferRegion<'_>>,
            BufferRegion<'_>,
        ),
        start: u64,
        len: u64,
        data: &DispatchData32,
    ) -> Result<wgpu::BindGroup, Error> {
        let uniform =
            self.dispatch_uniform("wgpu-activations.dispatch", bytemuck::bytes_of(data))?;
        let mut entries = vec![wgpu::BindGroupEntry {
            binding: 2,
            resource: output.window(start, len),
        }];
        if let Some(uniform) = &uniform {
            entries.push(wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform.as_entire_binding(),
            });
        }
        let layout = match entry.layout() {
            Layout::InPlace => &self.in_place_layout,
            Layout::Unary => {
                entries.push(wgpu::BindGroupEntry {
                    binding: 1,
                    resource: input.window(start, len),
                });
                &self.unary_layout
            }
            Layout::Binary => {
                let grad = grad_output.expect("planned binary entry has grad_output");
                entries.push(wgpu::BindGroupEntry {
                    binding: 1,
                    resource: input.window(start, len),
                });
                entries.push(wgpu::BindGroupEntry {
                    binding: 3,
                    resource: grad.window(start, len),
                });
                &self.binary_layout
            }
        };
        Ok(self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("wgpu-activations.dispatch"),
            layout,
            entries: &entries,
        }))
    }

    /// One dispatch of `groups` workgroups, spread over x and y.
    fn dispatch(
        &self,
        pass: &mut wgpu::ComputePass<'_>,
        pipeline: &wgpu::ComputePipeline,
        bind_group: &wgpu::BindGroup,
        data: &DispatchData32,
        groups: u64,
    ) {
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, bind_group, &[]);
        if self.dispatch_data == DispatchData::Immediate {
            pass.set_immediates(0, bytemuck::bytes_of(data));
        }
        let (x, y) = self.workgroup_grid(groups);
        pass.dispatch_workgroups(x, y, 1);
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
        for (what, region) in [("input", Some(input)), ("grad_output", grad_output)] {
            if let Some(region) = region.filter(|r| r.dtype != output.dtype) {
                return Err(Error::DtypeMismatch {
                    what,
                    expected: output.dtype,
                    actual: region.dtype,
                });
            }
        }
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

    /// `groups` workgroups as an x-by-y grid: x is capped at the device's
    /// per-dimension limit and the rest spills into y.
    fn workgroup_grid(&self, groups: u64) -> (u32, u32) {
        let groups = groups.max(1);
        let x = groups.min(u64::from(self.max_workgroups_per_dimension));
        let y = groups.div_ceil(x);
        (x as u32, y as u32)
    }
}

/// Checks one region of any kernel: `STORAGE` usage, an offset that is a
/// multiple of `offset_alignment`, and bounds (of the words a binding of it
/// covers: [`BufferRegion::bound_len`]).
pub(crate) fn check_region(
    what: &'static str,
    region: &BufferRegion<'_>,
    offset_alignment: u64,
) -> Result<(), Error> {
    let usage = region.buffer.usage();
    if !usage.contains(wgpu::BufferUsages::STORAGE) {
        return Err(Error::BufferUsage {
            what,
            required: wgpu::BufferUsages::STORAGE,
            actual: usage,
        });
    }
    if !region.offset.is_multiple_of(offset_alignment) {
        return Err(Error::Misaligned {
            what,
            offset: region.offset,
            alignment: offset_alignment,
        });
    }
    let bytes = (region.len as u64)
        .checked_mul(region.dtype.size() as u64)
        .map(|_| region.bound_len());
    let end = bytes.and_then(|bytes| region.offset.checked_add(bytes));
    if end.is_none_or(|end| end > region.buffer.size()) {
        return Err(Error::OutOfRange {
            what,
            offset: region.offset,
            bytes: bytes.unwrap_or(u64::MAX),
            buffer_size: region.buffer.size(),
        });
    }
    Ok(())
}

impl WithPrecision<'_, Kernels> {
    /// [`Kernels::record`] at this tier.
    pub fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        act: Activation,
        mode: Mode,
        input: BufferRegion<'_>,
        grad_output: Option<BufferRegion<'_>>,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        self.kernels.record_at(
            encoder,
            act,
            mode,
            self.precision,
            (input, grad_output, output),
        )
    }
}
