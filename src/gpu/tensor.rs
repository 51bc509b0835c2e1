//! GPU-resident data: a region of a storage buffer, its length and dtype.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::gpu::pool::Pool;
use crate::{BufferRegion, Dtype, Error};

/// `len` values of one [`Dtype`] resident on a device: a region of a storage buffer
/// (this crate's own, from [`Context::upload`](crate::Context::upload) or
/// [`Context::apply`](crate::Context::apply), or the caller's, wrapped with
/// [`GpuTensor::from_buffer`] without a copy). Not `Clone`: two handles to one
/// region would let an in-place op change data behind the other's back.
#[derive(Debug)]
pub struct GpuTensor {
    buffer: wgpu::Buffer,
    offset: u64,
    len: usize,
    dtype: Dtype,
    /// The context's pool the buffer goes back to on drop (results of
    /// `apply` and `Batch`), or none (uploads, the caller's buffers).
    pool: Option<Arc<Pool>>,
    /// The buffer or a region of it was handed out ([`GpuTensor::buffer`],
    /// [`GpuTensor::region`]): it may be in an encoder of the caller's, so
    /// it never goes back to the pool.
    exposed: AtomicBool,
    /// The context that made the tensor (uploads and results; none for the
    /// caller's own buffers), so that another context's call can refuse it
    /// ([`Error::ForeignTensor`]). (Not the `wgpu::Device`: wgpu compares
    /// devices by an id that repeats across instances.)
    owner: Option<u64>,
}

impl Drop for GpuTensor {
    /// A result of `apply` or `Batch` gives its buffer back to the
    /// context's pool for a later result of a similar size: at once, or,
    /// while one of the context's batches is open (it may still record a
    /// use of the buffer), when the last open batch is submitted or
    /// dropped. A buffer whose handle or region was handed out
    /// ([`GpuTensor::buffer`], [`GpuTensor::region`]) is not reused.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take()
            && !self.exposed.load(Ordering::Relaxed)
        {
            pool.give_result(self.buffer.clone());
        }
    }
}

impl GpuTensor {
    /// Wraps `len` f32 values starting `offset` bytes into the caller's
    /// `buffer`, without copying. The buffer needs `STORAGE` usage (and
    /// `COPY_SRC` to be read back); `offset` must be a multiple of 4 here and,
    /// when an activation runs on it, of the device's
    /// `min_storage_buffer_offset_alignment` (usually 256).
    pub fn from_buffer(buffer: wgpu::Buffer, offset: u64, len: usize) -> Result<GpuTensor, Error> {
        Self::from_buffer_typed(buffer, offset, len, Dtype::F32)
    }

    /// [`GpuTensor::from_buffer`] for `len` values of `dtype`. A 16-bit
    /// tensor of odd length ends in half a 4-byte word; that whole word must
    /// lie inside the buffer (kernels and reads move whole words, and leave
    /// the other half as it was).
    pub fn from_buffer_typed(
        buffer: wgpu::Buffer,
        offset: u64,
        len: usize,
        dtype: Dtype,
    ) -> Result<GpuTensor, Error> {
        if !buffer.usage().contains(wgpu::BufferUsages::STORAGE) {
            return Err(Error::BufferUsage {
                what: "tensor",
                required: wgpu::BufferUsages::STORAGE,
                actual: buffer.usage(),
            });
        }
        if !offset.is_multiple_of(4) {
            return Err(Error::Misaligned {
                what: "tensor",
                offset,
                alignment: 4,
            });
        }
        let bytes = (len as u64)
            .checked_mul(dtype.size() as u64)
            .map_or(u64::MAX, |b| b.next_multiple_of(4));
        if offset
            .checked_add(bytes)
            .is_none_or(|end| end > buffer.size())
        {
            return Err(Error::OutOfRange {
                what: "tensor",
                offset,
                bytes,
                buffer_size: buffer.size(),
            });
        }
        Ok(GpuTensor {
            buffer,
            offset,
            len,
            dtype,
            pool: None,
            exposed: AtomicBool::new(false),
            owner: None,
        })
    }

    /// The tensor, marked as made by the context `owner` (its id).
    pub(crate) fn made_by(mut self, owner: u64) -> GpuTensor {
        self.owner = Some(owner);
        self
    }

    /// [`Error::ForeignTensor`] for `what` when the tensor was made by
    /// another context than `owner` (the caller's own buffers, wrapped with
    /// [`GpuTensor::from_buffer`], are left to wgpu's validation, which this
    /// crate's error scopes turn into [`Error::Gpu`]).
    pub(crate) fn check_owner(&self, what: &'static str, owner: u64) -> Result<(), Error> {
        match self.owner {
            Some(own) if own != owner => Err(Error::ForeignTensor { what }),
            _ => Ok(()),
        }
    }

    /// The element type.
    pub fn dtype(&self) -> Dtype {
        self.dtype
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the tensor holds no values.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The underlying buffer. A result of `apply` or `Batch` whose buffer
    /// was asked for this way is not reused by the context's pool after the
    /// tensor is dropped (the handle may be in the caller's encoder).
    pub fn buffer(&self) -> &wgpu::Buffer {
        self.exposed.store(true, Ordering::Relaxed);
        &self.buffer
    }

    /// The buffer, for this crate's own recording into its batches (the
    /// tensor stays reusable).
    pub(crate) fn handle(&self) -> &wgpu::Buffer {
        &self.buffer
    }

    /// Byte offset of the first value in [`GpuTensor::buffer`].
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Size of the values in bytes.
    pub fn byte_len(&self) -> u64 {
        self.len as u64 * self.dtype.size() as u64
    }

    /// [`GpuTensor::byte_len`] rounded up to whole 4-byte words: what a
    /// copy or binding of the tensor moves.
    pub fn bound_len(&self) -> u64 {
        self.dtype.bound_bytes(self.len as u64)
    }

    /// The tensor as a region for the lower layer ([`Kernels`](crate::Kernels)).
    /// As with [`GpuTensor::buffer`], a pooled result's buffer is then not
    /// reused after the tensor is dropped.
    pub fn region(&self) -> BufferRegion<'_> {
        self.exposed.store(true, Ordering::Relaxed);
        self.batch_region()
    }

    /// [`GpuTensor::region`] for this crate's own batches (the tensor stays
    /// reusable: the context knows when its batches are submitted).
    pub(crate) fn batch_region(&self) -> BufferRegion<'_> {
        BufferRegion::typed(&self.buffer, self.offset, self.len, self.dtype)
    }

    /// Gives the buffer back; it leaves the context's pool for good (a
    /// pooled result's buffer may be larger than the tensor: the pool hands
    /// out buffers of up to twice the bytes asked for).
    pub fn into_buffer(mut self) -> wgpu::Buffer {
        self.pool = None;
        self.buffer.clone()
    }

    /// A result tensor over a buffer of `pool`, which gets it back on drop.
    pub(crate) fn pooled(
        buffer: wgpu::Buffer,
        len: usize,
        dtype: Dtype,
        pool: Arc<Pool>,
        owner: u64,
    ) -> Result<GpuTensor, Error> {
        let mut t = GpuTensor::from_buffer_typed(buffer, 0, len, dtype)?.made_by(owner);
        t.pool = Some(pool);
        Ok(t)
    }
}
