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
    let mut data = vec![0.0; (bytes / 4) as usize];
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
        bytemuck::cast_slice::<u8, f32>(&view).to_vec()
    };
    staging.unmap();
    Ok(data)
}
