//! A bounded pool of the buffers the host-slice API uses, so that repeated
//! calls of similar size allocate nothing new on the GPU.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// What a pooled buffer is for (its usage flags and map state).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// `STORAGE | COPY_SRC | COPY_DST`: kernel inputs and outputs.
    Storage,
    /// `MAP_WRITE | COPY_SRC`, kept mapped while in the pool: upload staging.
    Upload,
    /// `MAP_READ | COPY_DST`, unmapped: readback staging.
    Readback,
    /// `STORAGE | MAP_WRITE`, kept mapped while in the pool: a kernel input
    /// written directly from the host (unified-memory adapters).
    MappedInput,
    /// `STORAGE | MAP_READ | COPY_DST`, unmapped: a kernel output read
    /// directly by the host (unified-memory adapters); `COPY_DST` for
    /// outputs a call clears rather than computes (PReLU's slope gradient
    /// over an empty input).
    MappedOutput,
}

impl Role {
    fn usage(self) -> wgpu::BufferUsages {
        match self {
            Role::Storage => {
                wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::COPY_SRC
                    | wgpu::BufferUsages::COPY_DST
            }
            Role::Upload => wgpu::BufferUsages::MAP_WRITE | wgpu::BufferUsages::COPY_SRC,
            Role::Readback => wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            Role::MappedInput => wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::MAP_WRITE,
            Role::MappedOutput => {
                wgpu::BufferUsages::STORAGE
                    | wgpu::BufferUsages::MAP_READ
                    | wgpu::BufferUsages::COPY_DST
            }
        }
    }

    fn label(self) -> &'static str {
        match self {
            Role::Storage => "wgpu-activations.pool.storage",
            Role::Upload => "wgpu-activations.pool.upload",
            Role::Readback => "wgpu-activations.pool.readback",
            Role::MappedInput => "wgpu-activations.pool.mapped-input",
            Role::MappedOutput => "wgpu-activations.pool.mapped-output",
        }
    }
}

/// Free buffers, newest last; at most `budget` bytes are kept.
pub(crate) struct Pool {
    device: wgpu::Device,
    free: Mutex<VecDeque<(Role, wgpu::Buffer)>>,
    budget: u64,
    /// Buffers created so far (for checks that reuse works).
    created: AtomicU64,
}

impl Pool {
    /// A pool keeping at most `budget` bytes of free buffers.
    pub fn new(device: &wgpu::Device, budget: u64) -> Arc<Pool> {
        Arc::new(Pool {
            device: device.clone(),
            free: Mutex::new(VecDeque::new()),
            budget,
            created: AtomicU64::new(0),
        })
    }

    /// A buffer of `role` with room for `bytes` (at most twice that, so a
    /// small request does not pin a huge buffer): from the pool, or new
    /// (upload buffers new ones come mapped).
    pub fn take(&self, role: Role, bytes: u64) -> wgpu::Buffer {
        let bytes = bytes.max(4).next_multiple_of(wgpu::COPY_BUFFER_ALIGNMENT);
        {
            let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
            let found = free
                .iter()
                .rposition(|(r, b)| *r == role && b.size() >= bytes && b.size() <= bytes * 2);
            if let Some(i) = found {
                return free.remove(i).expect("index from rposition").1;
            }
        }
        self.created.fetch_add(1, Ordering::Relaxed);
        self.device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(role.label()),
            size: bytes,
            usage: role.usage(),
            mapped_at_creation: matches!(role, Role::Upload | Role::MappedInput),
        })
    }

    /// Returns a buffer (`Upload` and `MappedInput` ones must be mapped again,
    /// the others unmapped). The oldest free buffers go when over budget.
    pub fn give(&self, role: Role, buffer: wgpu::Buffer) {
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        free.push_back((role, buffer));
        let mut total: u64 = free.iter().map(|(_, b)| b.size()).sum();
        while total > self.budget {
            match free.pop_front() {
                Some((_, b)) => total -= b.size(),
                None => break,
            }
        }
    }

    /// Free buffers held now, and buffers created so far.
    pub fn stats(&self) -> PoolStats {
        PoolStats {
            free: self.free.lock().unwrap_or_else(|p| p.into_inner()).len(),
            created: self.created.load(Ordering::Relaxed),
        }
    }
}

/// Counts of the host-slice API's buffer pool ([`Context::pool_stats`](crate::Context::pool_stats)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Free buffers kept for reuse now.
    pub free: usize,
    /// GPU buffers the pool has created since the context was made.
    pub created: u64,
}
