//! GPU-resident data: a region of a storage buffer, its length and dtype.

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
        })
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

    /// The underlying buffer.
    pub fn buffer(&self) -> &wgpu::Buffer {
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
    pub fn region(&self) -> BufferRegion<'_> {
        BufferRegion::typed(&self.buffer, self.offset, self.len, self.dtype)
    }

    /// Gives the buffer back.
    pub fn into_buffer(self) -> wgpu::Buffer {
        self.buffer
    }
}
