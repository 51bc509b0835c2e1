//! The crate's one error type.

/// Everything that can go wrong in this crate. Bad input is reported here,
/// never by a panic, and never by a wrong answer.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No GPU adapter could be opened (none present, or none matching
    /// `WGPU_BACKEND` / `WGPU_ADAPTER_NAME`).
    #[error(
        "no usable GPU adapter: {detail}. On Linux without a GPU install a software one: \
         `apt-get install mesa-vulkan-drivers libvulkan1` (Vulkan, lavapipe); \
         OpenGL ES needs Mesa's EGL (`libegl1`, llvmpipe)"
    )]
    NoAdapter {
        /// What was tried and why it failed.
        detail: String,
    },

    /// Two inputs that must have the same length do not.
    #[error("length mismatch: {what} has {actual} elements, expected {expected}")]
    LengthMismatch {
        /// Which input is wrong, e.g. `"grad_output"`.
        what: &'static str,
        /// The length it must have.
        expected: usize,
        /// The length it has.
        actual: usize,
    },

    /// An activation parameter is outside its domain (NaN, infinite,
    /// `min_val > max_val`, ...).
    #[error("invalid parameter {parameter} = {value} for {activation}: {reason}")]
    InvalidParameter {
        /// The activation's name, e.g. `"leaky_relu"`.
        activation: &'static str,
        /// The parameter's name, e.g. `"negative_slope"`.
        parameter: &'static str,
        /// The value given.
        value: f32,
        /// What the value must satisfy.
        reason: &'static str,
    },

    /// The input does not fit in one buffer on this device.
    #[error(
        "{len} elements ({bytes} bytes) exceed this device's max_buffer_size of {max_bytes} bytes"
    )]
    TooLarge {
        /// Elements requested.
        len: usize,
        /// Bytes requested.
        bytes: u64,
        /// The device's limit.
        max_bytes: u64,
    },

    /// A buffer lacks a usage flag the operation needs.
    #[error("{what}: buffer usage {actual:?} lacks {required:?}")]
    BufferUsage {
        /// Which buffer.
        what: &'static str,
        /// The flags needed.
        required: wgpu::BufferUsages,
        /// The flags the buffer has.
        actual: wgpu::BufferUsages,
    },

    /// Lengths that do not fit the shape asked for: a tensor that is not
    /// `rows x cols`, an odd gated row, a zero number of columns, slopes
    /// that are neither one per channel nor one in all, ...
    #[error("shape mismatch: {what}: {detail}")]
    ShapeMismatch {
        /// Which input or parameter is wrong, e.g. `"row_len"`.
        what: &'static str,
        /// What it is and what it must be.
        detail: String,
    },

    /// A region's byte offset is not a multiple of the device's
    /// `min_storage_buffer_offset_alignment` (or of 4 for a tensor).
    #[error("{what}: offset {offset} is not a multiple of {alignment}")]
    Misaligned {
        /// Which buffer.
        what: &'static str,
        /// The offset given.
        offset: u64,
        /// The alignment required.
        alignment: u64,
    },

    /// A region does not fit in its buffer.
    #[error("{what}: {bytes} bytes at offset {offset} exceed the buffer's {buffer_size} bytes")]
    OutOfRange {
        /// Which buffer.
        what: &'static str,
        /// The region's byte offset.
        offset: u64,
        /// The region's size in bytes.
        bytes: u64,
        /// The buffer's size.
        buffer_size: u64,
    },

    /// The regions or tensors of one call hold different element types
    /// (e.g. an f16 `x` with an f32 `grad_output`); convert one of them first.
    #[error("dtype mismatch: {what} is {actual}, expected {expected} like the call's other data")]
    DtypeMismatch {
        /// Which region or tensor, e.g. `"grad_output"`.
        what: &'static str,
        /// The dtype of the call (its input's).
        expected: crate::Dtype,
        /// The dtype given.
        actual: crate::Dtype,
    },

    /// The output shares a buffer with an input in a way the kernel cannot
    /// do in place.
    #[error("aliasing in {mode:?}: {what}")]
    Aliasing {
        /// What is shared.
        what: &'static str,
        /// The mode requested.
        mode: crate::Mode,
    },

    /// A texture's format is not one the texture kernels take
    /// ([`TEXTURE_FORMATS`](crate::TEXTURE_FORMATS)), or, for an output,
    /// not one this device can bind as a storage texture.
    #[error("{what}: texture format {format:?} is not supported here; supported: {supported:?}")]
    TextureFormat {
        /// Which texture, e.g. `"output"`.
        what: &'static str,
        /// Its format.
        format: wgpu::TextureFormat,
        /// The formats this device takes in that place.
        supported: Vec<wgpu::TextureFormat>,
    },

    /// A texture read by the texture kernels has another number of
    /// channels than the output.
    #[error(
        "{what}: texture format {actual:?} has another number of channels than the output's {expected:?}"
    )]
    TextureFormatMismatch {
        /// Which texture, e.g. `"input"`.
        what: &'static str,
        /// The output's format.
        expected: wgpu::TextureFormat,
        /// This texture's format.
        actual: wgpu::TextureFormat,
    },

    /// A texture lacks a usage flag the operation needs (`STORAGE_BINDING`
    /// to be written, `TEXTURE_BINDING` to be read).
    #[error("{what}: texture usage {actual:?} lacks {required:?}")]
    TextureUsage {
        /// Which texture.
        what: &'static str,
        /// The flags needed.
        required: wgpu::TextureUsages,
        /// The flags the texture has.
        actual: wgpu::TextureUsages,
    },

    /// The textures of one call differ in size (width, height or layers)
    /// at their mip levels.
    #[error(
        "{what}: texture size {}x{}x{} differs from the output's {}x{}x{} (width x height x layers)",
        actual.width, actual.height, actual.depth_or_array_layers,
        expected.width, expected.height, expected.depth_or_array_layers
    )]
    TextureSize {
        /// Which texture, e.g. `"input"`.
        what: &'static str,
        /// The output's size at its mip level.
        expected: wgpu::Extent3d,
        /// This texture's size at its mip level.
        actual: wgpu::Extent3d,
    },

    /// A texture region names a mip level the texture does not have.
    #[error("{what}: mip level {mip_level} is past the texture's {mip_level_count} mip levels")]
    TextureMipLevel {
        /// Which texture.
        what: &'static str,
        /// The mip level asked for.
        mip_level: u32,
        /// The texture's mip levels.
        mip_level_count: u32,
    },

    /// A texture the texture kernels cannot bind as 2-D (array) views: not
    /// 2-D, multisampled, or (on OpenGL ES, where wgpu makes every square
    /// 2-D texture of a multiple of 6 layers a cube map) cube-compatible.
    #[error(
        "{what}: {reason} (a {dimension:?} texture of {layers} layers, {sample_count} samples)"
    )]
    TextureDimension {
        /// Which texture.
        what: &'static str,
        /// Its dimension.
        dimension: wgpu::TextureDimension,
        /// Its samples per texel.
        sample_count: u32,
        /// Its depth or array layers.
        layers: u32,
        /// What the kernels need.
        reason: &'static str,
    },

    /// In place on a texture needs read-write storage textures of its
    /// format, which this device does not have: write to another texture.
    #[error(
        "in place on {format:?} needs read-write storage textures of that format, which this device lacks (it has them for {supported:?}); write to another texture"
    )]
    TextureInPlace {
        /// The texture's format.
        format: wgpu::TextureFormat,
        /// The formats this device can work on in place.
        supported: Vec<wgpu::TextureFormat>,
    },

    /// `Mode::Backward` was recorded without a `grad_output`.
    #[error("Mode::Backward needs grad_output")]
    MissingGradOutput,

    /// A `grad_output` was given to a mode that does not read one.
    #[error("{mode:?} takes no grad_output")]
    UnexpectedGradOutput {
        /// The mode requested.
        mode: crate::Mode,
    },

    /// The device could not be opened on an adapter.
    #[error("requesting a device failed: {0}")]
    RequestDevice(#[from] wgpu::RequestDeviceError),

    /// A wgpu validation, out-of-memory or internal error caught by an error scope.
    #[error("GPU error: {0}")]
    Gpu(#[from] wgpu::Error),

    /// Mapping a buffer for readback failed (e.g. the device was lost).
    #[error("mapping a buffer failed: {0}")]
    Map(#[from] wgpu::BufferAsyncError),

    /// Reading a mapped range failed.
    #[error("reading a mapped buffer failed: {0}")]
    MapRange(#[from] wgpu::MapRangeError),

    /// Running kernels in a browser's WebGPU ([`crate::browser`]) failed: no
    /// Chromium, no WebGPU adapter, a shader or validation error reported by
    /// the browser, or no answer in time.
    #[error("browser WebGPU: {detail}")]
    Browser {
        /// What failed, with the browser's own message where it gave one.
        detail: String,
    },

    /// Waiting for the GPU failed or timed out (a lost or hung device). The
    /// context is unusable from then on ([`Error::DeviceLost`] for every
    /// later call): make a new [`Context`](crate::Context).
    #[error(
        "waiting for the GPU failed: {0}; this context is unusable from now on, \
         open a new Context (a longer poll timeout: Context::with_poll_timeout)"
    )]
    Poll(#[from] wgpu::PollError),

    /// The context's device was lost (destroyed, reset by the driver, or a
    /// readback timed out): every call on the context fails at once with
    /// this error. Its tensors are gone too; open a new
    /// [`Context`](crate::Context) and upload again.
    #[error(
        "the GPU device was lost ({reason}); this context is unusable: open a new Context \
         and upload the data again"
    )]
    DeviceLost {
        /// What wgpu or this crate said about the loss.
        reason: String,
    },

    /// A tensor made by one context was passed to another context's call
    /// (another device, or another [`Context`](crate::Context) over the same
    /// device: each context's pool and batches track only their own
    /// tensors). Use the context that made it (or a clone of it), or read it
    /// back and upload it here; on one device, `into_buffer` and
    /// `GpuTensor::from_buffer` hand a buffer over.
    #[error(
        "{what} was made by another Context: use the context that made it (or its clones), \
         or read it back and upload it here"
    )]
    ForeignTensor {
        /// Which tensor, e.g. `"x"`.
        what: &'static str,
    },
}

impl Error {
    /// `Ok` when `actual == expected`, else [`Error::LengthMismatch`] for
    /// `what`: the one length check of the kernel families, their CPU
    /// reference and the browser runner.
    pub(crate) fn check_len(
        what: &'static str,
        expected: usize,
        actual: usize,
    ) -> Result<(), Error> {
        if actual == expected {
            Ok(())
        } else {
            Err(Error::LengthMismatch {
                what,
                expected,
                actual,
            })
        }
    }
}
