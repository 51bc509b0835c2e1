//! What every GPU-side module shares, at the bottom of the GPU layer: the
//! label prefix of the crate's wgpu resources, the lock that survives a
//! poisoned mutex, and the error scope around a device call.

use std::sync::Mutex;

use crate::Error;

/// Label prefix of every wgpu resource this crate creates.
pub(crate) const LABEL: &str = "wgpu-activations";

/// `mutex` locked, also after a panic elsewhere poisoned it (the caches it
/// guards stay consistent: entries are inserted whole). Shared by the
/// kernel families' and texture kernels' caches.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs `f` inside validation and out-of-memory error scopes, so wgpu errors
/// come back as `Error::Gpu` instead of reaching the uncaptured-error handler.
pub(crate) fn scoped<T>(device: &wgpu::Device, f: impl FnOnce() -> T) -> Result<T, Error> {
    let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let oom = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
    let value = f();
    let oom = pollster::block_on(oom.pop());
    let validation = pollster::block_on(validation.pop());
    match oom.or(validation) {
        Some(error) => Err(error.into()),
        None => Ok(value),
    }
}
