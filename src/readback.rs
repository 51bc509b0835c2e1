//! Reading a GPU buffer back to the host.

use std::time::Duration;

use crate::Error;

/// Maps the first `bytes` of `staging` (MAP_READ) once `submission` has
/// completed and copies them out as f32. Waits at most `timeout`, so a lost
/// or hung device becomes an `Error::Poll` instead of a hang.
pub(crate) fn read_f32(
    device: &wgpu::Device,
    staging: &wgpu::Buffer,
    bytes: u64,
    submission: wgpu::SubmissionIndex,
    timeout: Duration,
) -> Result<Vec<f32>, Error> {
    let mut data = output_vec((bytes / 4) as usize);
    read_f32_into(device, staging, submission, timeout, &mut data)?;
    Ok(data)
}

/// [`read_f32`] into the caller's slice (its length gives the byte count):
/// no allocation, and no page faults when the caller reuses `out`.
pub(crate) fn read_f32_into(
    device: &wgpu::Device,
    staging: &wgpu::Buffer,
    submission: wgpu::SubmissionIndex,
    timeout: Duration,
    out: &mut [f32],
) -> Result<(), Error> {
    let slice = staging.slice(..out.len() as u64 * 4);
    let (sender, receiver) = futures_intrusive::channel::shared::oneshot_channel();
    slice.map_async(wgpu::MapMode::Read, move |result| {
        sender.send(result).ok();
    });
    device.poll(wgpu::PollType::Wait {
        submission_index: Some(submission),
        timeout: Some(timeout),
    })?;
    // The map callback ran during the wait; an empty channel means it was dropped.
    let mapped = pollster::block_on(receiver.receive()).ok_or(wgpu::BufferAsyncError)?;
    mapped?;
    {
        let view = slice.get_mapped_range()?;
        out.copy_from_slice(bytemuck::cast_slice::<u8, f32>(&view));
    }
    staging.unmap();
    Ok(())
}

/// Async form of [`read_f32`]: a helper thread waits for the GPU (native
/// devices must be polled), and whichever of "mapped" or "poll failed"
/// happens first completes the future.
pub(crate) async fn read_f32_async(
    device: &wgpu::Device,
    staging: wgpu::Buffer,
    submission: wgpu::SubmissionIndex,
    timeout: Duration,
) -> Result<Vec<f32>, Error> {
    let (sender, receiver) = futures_intrusive::channel::shared::channel::<Result<(), Error>>(2);
    let on_mapped = sender.clone();
    staging
        .slice(..)
        .map_async(wgpu::MapMode::Read, move |result| {
            on_mapped.try_send(result.map_err(Error::from)).ok();
        });
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
    let data = {
        let view = staging.slice(..).get_mapped_range()?;
        let values = bytemuck::cast_slice::<u8, f32>(&view);
        let mut data = output_vec(values.len());
        data.copy_from_slice(values);
        data
    };
    staging.unmap();
    Ok(data)
}

/// A zeroed `Vec` for `len` results. Fresh memory costs a page fault per page
/// on first write: for a 64 MiB output on Linux that was 16,384 faults and
/// about 40-50 ms, more than the copy itself. Large outputs therefore ask for
/// transparent huge pages (`madvise(MADV_HUGEPAGE)`, honoured where THP is
/// enabled for "madvise" or "always"): 32 faults for the same 64 MiB.
pub(crate) fn output_vec(len: usize) -> Vec<f32> {
    // `vec![0.0; n]` allocates zeroed memory (calloc, a fresh mapping for
    // large sizes) without touching it, so the advice comes before any fault.
    let out = vec![0.0_f32; len];
    #[cfg(target_os = "linux")]
    advise_huge_pages(&out);
    out
}

#[cfg(target_os = "linux")]
fn advise_huge_pages(memory: &[f32]) {
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
