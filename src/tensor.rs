//! GPU-resident data: a region of a storage buffer and its length.

use crate::{BufferRegion, Error};

/// `len` f32 values resident on a device: a region of a storage buffer
/// (this crate's own, from [`Context::upload`](crate::Context::upload) or
/// [`Context::apply`](crate::Context::apply), or the caller's, wrapped with
/// [`GpuTensor::from_buffer`] without a copy). Not `Clone`: two handles to one
/// region would let an in-place op change data behind the other's back.
#[derive(Debug)]
pub struct GpuTensor {
    buffer: wgpu::Buffer,
    offset: u64,
    len: usize,
}

impl GpuTensor {
    /// Wraps `len` f32 values starting `offset` bytes into the caller's
    /// `buffer`, without copying. The buffer needs `STORAGE` usage (and
    /// `COPY_SRC` to be read back); `offset` must be a multiple of 4 here and,
    /// when an activation runs on it, of the device's
    /// `min_storage_buffer_offset_alignment` (usually 256).
    pub fn from_buffer(buffer: wgpu::Buffer, offset: u64, len: usize) -> Result<GpuTensor, Error> {
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
        let bytes = (len as u64).saturating_mul(4);
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
        })
    }

    /// Number of f32 values.
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

    /// Size in bytes.
    pub fn byte_len(&self) -> u64 {
        self.len as u64 * 4
    }

    /// The tensor as a region for the lower layer ([`Kernels`](crate::Kernels)).
    pub fn region(&self) -> BufferRegion<'_> {
        BufferRegion::new(&self.buffer, self.offset, self.len)
    }

    /// Gives the buffer back.
    pub fn into_buffer(self) -> wgpu::Buffer {
        self.buffer
    }
}
