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

/// Open batches, and result buffers waiting for them to close
/// ([`Pool::give_result`]).
#[derive(Default)]
struct Results {
    open: usize,
    waiting: Vec<wgpu::Buffer>,
}

/// Free buffers, newest last; at most `budget` bytes are kept.
pub(crate) struct Pool {
    device: wgpu::Device,
    free: Mutex<VecDeque<(Role, wgpu::Buffer)>>,
    budget: AtomicU64,
    /// Open batches and the results given back while any was open.
    results: Mutex<Results>,
    /// Buffers created so far (for checks that reuse works).
    created: AtomicU64,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("stats", &self.stats())
            .finish()
    }
}

impl Pool {
    /// A pool keeping at most `budget` bytes of free buffers.
    pub fn new(device: &wgpu::Device, budget: u64) -> Arc<Pool> {
        Arc::new(Pool {
            device: device.clone(),
            free: Mutex::new(VecDeque::new()),
            budget: AtomicU64::new(budget),
            results: Mutex::new(Results::default()),
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
        let budget = self.budget.load(Ordering::Relaxed);
        while total > budget {
            match free.pop_front() {
                Some((_, b)) => total -= b.size(),
                None => break,
            }
        }
    }

    /// Sets the most bytes of free buffers kept (dropping the oldest free
    /// ones now if over it).
    pub fn set_budget(&self, budget: u64) {
        self.budget.store(budget, Ordering::Relaxed);
        let mut free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        let mut total: u64 = free.iter().map(|(_, b)| b.size()).sum();
        while total > budget {
            match free.pop_front() {
                Some((_, b)) => total -= b.size(),
                None => break,
            }
        }
    }

    /// A batch (an encoder of this context's own) is open: results given
    /// back from now on wait until every open batch is closed.
    pub fn open_batch(&self) {
        self.lock_results().open += 1;
    }

    /// A batch was submitted or dropped: when it was the last open one, the
    /// results given back meanwhile become free for reuse.
    pub fn close_batch(&self) {
        let done = {
            let mut results = self.lock_results();
            results.open = results.open.saturating_sub(1);
            if results.open == 0 {
                std::mem::take(&mut results.waiting)
            } else {
                Vec::new()
            }
        };
        for buffer in done {
            self.give(Role::Storage, buffer);
        }
    }

    /// A result tensor's buffer, given back on drop. While a batch is open
    /// it may still record a use of the buffer (the tensor was an input or
    /// output of it), to run after anything submitted meanwhile: reusing
    /// the buffer then would let the batch overwrite, or read, another
    /// result's data. So it waits until no batch is open.
    pub fn give_result(&self, buffer: wgpu::Buffer) {
        {
            let mut results = self.lock_results();
            if results.open > 0 {
                results.waiting.push(buffer);
                return;
            }
        }
        self.give(Role::Storage, buffer);
    }

    fn lock_results(&self) -> std::sync::MutexGuard<'_, Results> {
        self.results.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Free buffers held now, their bytes, the budget, and buffers created
    /// so far.
    pub fn stats(&self) -> PoolStats {
        let free = self.free.lock().unwrap_or_else(|p| p.into_inner());
        PoolStats {
            free: free.len(),
            free_bytes: free.iter().map(|(_, b)| b.size()).sum(),
            budget_bytes: self.budget.load(Ordering::Relaxed),
            created: self.created.load(Ordering::Relaxed),
        }
    }
}

/// Counts of the context's buffer pool ([`Context::pool_stats`](crate::Context::pool_stats)):
/// the host-slice API's staging and storage, and the results of `apply` and
/// `Batch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Free buffers kept for reuse now.
    pub free: usize,
    /// Their bytes.
    pub free_bytes: u64,
    /// The most bytes of free buffers kept ([`Context::set_pool_budget`](crate::Context::set_pool_budget)).
    pub budget_bytes: u64,
    /// GPU buffers the pool has created since the context was made.
    pub created: u64,
}
