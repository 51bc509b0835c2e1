//! Moving data between the host and mapped GPU buffers: reading a buffer back
//! (with a timeout), and the host-side copies, split over threads when large.

use std::time::Duration;

use crate::Error;

/// Maps the start of `staging` (MAP_READ) once `submission` has completed
/// and copies `len` elements of `T` out of it. Waits at most `timeout`, so a
/// lost or hung device becomes an `Error::Poll` instead of a hang.
pub(crate) fn read_vec<T: bytemuck::Pod>(
    device: &wgpu::Device,
    staging: &wgpu::Buffer,
    len: usize,
    submission: wgpu::SubmissionIndex,
    timeout: Duration,
) -> Result<Vec<T>, Error> {
    let mut data = output_vec::<T>(len);
    read_into(
        device,
        staging,
        submission,
        timeout,
        bytemuck::cast_slice_mut(&mut data),
    )?;
    Ok(data)
}

/// [`read_vec`] into the caller's bytes (their length gives the count; the
/// mapped range is that rounded up to whole words): no allocation, and no
/// page faults when the caller reuses `out`.
pub(crate) fn read_into(
    device: &wgpu::Device,
    staging: &wgpu::Buffer,
    submission: wgpu::SubmissionIndex,
    timeout: Duration,
    out: &mut [u8],
) -> Result<(), Error> {
    let slice = staging.slice(..(out.len() as u64).next_multiple_of(4));
    let (sender, receiver) = futures_intrusive::channel::shared::oneshot_channel();
    crate::gpu::device::scoped(device, || {
        slice.map_async(wgpu::MapMode::Read, move |result| {
            sender.send(result).ok();
        })
    })?;
    device.poll(wgpu::PollType::Wait {
        submission_index: Some(submission),
        timeout: Some(timeout),
    })?;
    // The map callback ran during the wait; an empty channel means it was dropped.
    let mapped = pollster::block_on(receiver.receive()).ok_or(wgpu::BufferAsyncError)?;
    mapped?;
    {
        let view = slice.get_mapped_range()?;
        copy_bytes(out, &view[..out.len()]);
    }
    staging.unmap();
    Ok(())
}

/// Async form of [`read_f32`]: a helper thread waits for the GPU (native
/// devices must be polled), and whichever of "mapped" or "poll failed"
/// happens first completes the future.
pub(crate) async fn read_f32_async(
    device: &wgpu::Device,
    staging: &wgpu::Buffer,
    bytes: u64,
    submission: wgpu::SubmissionIndex,
    timeout: Duration,
) -> Result<Vec<f32>, Error> {
    let (sender, receiver) = futures_intrusive::channel::shared::channel::<Result<(), Error>>(2);
    let on_mapped = sender.clone();
    let slice = staging.slice(..bytes);
    crate::gpu::device::scoped(device, || {
        slice.map_async(wgpu::MapMode::Read, move |result| {
            on_mapped.try_send(result.map_err(Error::from)).ok();
        })
    })?;
    let poller = device.clone();
    std::thread::spawn(move || {
        if let Err(e) = poller.poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: Some(timeout),
        }) {
            sender.try_send(Err(e.into())).ok();
        }
    });
    receiver
        .receive()
        .await
        .ok_or(Error::Map(wgpu::BufferAsyncError))??;
    let data = output_copy(&slice.get_mapped_range()?);
    staging.unmap();
    Ok(data)
}

/// The chunk size (whole pages) for splitting a copy of `len` bytes over
/// threads, or `None` when one thread should do it: one thread does not
/// saturate the memory bus, and the page faults of a fresh result are then
/// handled in parallel too. Measured on the 2-core VM of docs/speed.md: 64 MiB in
/// 8.7 ms on one thread, 5.5 ms on two.
fn parallel_chunk(len: usize) -> Option<usize> {
    // Below this a thread start (tens of µs) is not worth it.
    const PARALLEL_FROM: usize = 8 << 20;
    const MAX_THREADS: usize = 4;
    // Asked once per process (on Linux it reads the cgroup's CPU quota).
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    if len < PARALLEL_FROM {
        return None;
    }
    let threads = *THREADS.get_or_init(|| {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(MAX_THREADS)
    });
    (threads >= 2).then(|| len.div_ceil(threads).next_multiple_of(4096))
}

/// Copies `src` into `dst` (same length), split over threads when large
/// (readback from a mapped buffer into a result).
pub(crate) fn copy_bytes(dst: &mut [u8], src: &[u8]) {
    let Some(chunk) = parallel_chunk(src.len()) else {
        dst.copy_from_slice(src);
        return;
    };
    assert_eq!(dst.len(), src.len(), "copy_bytes: lengths differ");
    std::thread::scope(|scope| {
        for (to, from) in dst.chunks_mut(chunk).zip(src.chunks(chunk)) {
            scope.spawn(move || to.copy_from_slice(from));
        }
    });
}

/// A fresh result holding the f32 values in `bytes` ([`output_vec`] and
/// [`copy_bytes`]).
pub(crate) fn output_copy(bytes: &[u8]) -> Vec<f32> {
    let mut out = output_vec(bytes.len() / 4);
    copy_bytes(bytemuck::cast_slice_mut(&mut out), bytes);
    out
}

/// Writes `src` to the start of `buffer`, which is mapped for writing;
/// split over threads when large, each writing its own mapped range (wgpu's
/// write-only view of one range cannot be shared between threads). A
/// length that is not whole 4-byte words (an odd number of 16-bit values)
/// is padded with zero bytes to the next word, which must fit in `buffer`.
/// A new buffer of `usage` holding `contents` (padded with zeros to whole
/// words; 4 bytes at least). Mapped at creation and written here rather
/// than by `create_buffer_init`, which panics where mapping fails (a lost
/// device): this returns the error.
pub(crate) fn buffer_with(
    device: &wgpu::Device,
    label: &str,
    usage: wgpu::BufferUsages,
    contents: &[u8],
) -> Result<wgpu::Buffer, Error> {
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (contents.len() as u64).next_multiple_of(4).max(4),
        usage,
        mapped_at_creation: !contents.is_empty(),
    });
    if !contents.is_empty() {
        write_mapped(&buffer, contents)?;
        buffer.unmap();
    }
    Ok(buffer)
}

pub(crate) fn write_mapped(buffer: &wgpu::Buffer, src: &[u8]) -> Result<(), Error> {
    if !src.len().is_multiple_of(4) {
        // The last bytes from an 8-byte boundary (mapped ranges start at
        // multiples of MAP_ALIGNMENT), padded to whole words.
        let at = src.len() / 8 * 8;
        let rest = &src[at..];
        let mut last = [0u8; 8];
        last[..rest.len()].copy_from_slice(rest);
        let padded = rest.len().next_multiple_of(4);
        buffer
            .slice(at as u64..(at + padded) as u64)
            .get_mapped_range_mut()?
            .copy_from_slice(&last[..padded]);
        return write_mapped(buffer, &src[..at]);
    }
    let whole = src;
    if whole.is_empty() {
        return Ok(());
    }
    let Some(chunk) = parallel_chunk(whole.len()) else {
        buffer
            .slice(..whole.len() as u64)
            .get_mapped_range_mut()?
            .copy_from_slice(whole);
        return Ok(());
    };
    // Page-sized chunks keep every range's offset aligned (MAP_ALIGNMENT).
    let mut views = Vec::new();
    for (i, from) in whole.chunks(chunk).enumerate() {
        let start = (i * chunk) as u64;
        let view = buffer
            .slice(start..start + from.len() as u64)
            .get_mapped_range_mut()?;
        views.push((view, from));
    }
    std::thread::scope(|scope| {
        for (mut view, from) in views {
            scope.spawn(move || view.copy_from_slice(from));
        }
    });
    Ok(())
}

/// A zeroed `Vec` for `len` results of `T` (allocated zeroed, untouched). Fresh memory costs a page fault per page
/// on first write: for a 64 MiB output on Linux that was 16,384 faults and
/// about 40-50 ms, more than the copy itself. Large outputs therefore ask for
/// transparent huge pages (`madvise(MADV_HUGEPAGE)`, honoured where THP is
/// enabled for "madvise" or "always"): 32 faults for the same 64 MiB.
pub(crate) fn output_vec<T: bytemuck::Pod>(len: usize) -> Vec<T> {
    // `zeroed_vec` allocates zeroed memory (calloc, a fresh mapping for
    // large sizes) without touching it, so the advice comes before any fault.
    let out = bytemuck::zeroed_vec::<T>(len);
    #[cfg(target_os = "linux")]
    advise_huge_pages(&out);
    out
}

#[cfg(target_os = "linux")]
fn advise_huge_pages<T>(memory: &[T]) {
    const HUGE_PAGE: usize = 2 << 20;
    let start = memory.as_ptr() as usize;
    let end = start + std::mem::size_of_val(memory);
    let (first, last) = (
        start.next_multiple_of(HUGE_PAGE),
        end / HUGE_PAGE * HUGE_PAGE,
    );
    if last >= first + 4 * HUGE_PAGE {
        // SAFETY: [first, last) lies inside `memory`'s allocation;
        // MADV_HUGEPAGE changes how its pages are backed, never their
        // contents, and a failure (e.g. no THP support) is harmless.
        unsafe {
            libc::madvise(
                first as *mut libc::c_void,
                last - first,
                libc::MADV_HUGEPAGE,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::copy_bytes;

    /// Large copies are split over threads in page-sized chunks: every byte
    /// lands where it belongs, also for a length that is no multiple of the
    /// chunk or of a page, and small copies take the one-thread path.
    #[test]
    fn copy_bytes_copies_every_byte() {
        for len in [
            0,
            1,
            4095,
            (8 << 20) - 1,
            (8 << 20) + 4097,
            3 * (8 << 20) + 13,
        ] {
            let src: Vec<u8> = (0..len)
                .map(|i| (i % 251) as u8 ^ (i >> 12) as u8)
                .collect();
            let mut dst = vec![0xa5_u8; len];
            copy_bytes(&mut dst, &src);
            assert!(dst == src, "length {len}");
        }
    }
}
