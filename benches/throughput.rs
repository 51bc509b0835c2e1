//! Criterion benchmarks on the default adapter (`Context::new()`).
//!
//! ```sh
//! cargo bench --bench throughput                                   # short run
//! WGPU_ACTIVATIONS_BENCH_FULL=1 cargo bench --bench throughput     # every op, four sizes
//! cargo bench --bench throughput -- --test                         # one pass of each, no timing
//! ```
//!
//! Groups (labels `op/mode/N`, throughput in bytes moved: 8 per element for
//! forward and derivative, 12 for backward):
//! - `copy_kernel`: baselines, a WGSL vec4 copy (`copy/1in1out`), a vec4
//!   two-in-one-out copy `out = a + b` (`add/2in1out`) and
//!   `copy_buffer_to_buffer` (the device's memcpy);
//! - `resident`: every op and mode on GPU-resident buffers in both precision
//!   tiers (labels `op/mode/tier/N`), one record + submit + wait per
//!   iteration;
//! - `host_slice`: `ctx.forward` from a slice to a `Vec` (upload, dispatch,
//!   readback), and the f64 CPU reference on the same input;
//! - `dtype`: the forward of each op on resident f32, f16 and bf16 data
//!   (labels `op/forward/dtype/N`), throughput in elements per second so the
//!   three compare directly.
//!
//! By default only N = 2^20 and sigmoid, relu, gelu and mish run;
//! `WGPU_ACTIVATIONS_BENCH_FULL=1` runs all ops at 2^10, 2^16, 2^20 and 2^24.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use wgpu_activations::{Activation, BufferRegion, Context, Dtype, GpuTensor, Mode, Precision, cpu};
#[path = "../cli/src/baselines.rs"]
mod baselines;
use baselines::{Baselines, bytes_moved, upload_as};

const FULL_VAR: &str = "WGPU_ACTIVATIONS_BENCH_FULL";

fn full() -> bool {
    std::env::var(FULL_VAR).is_ok_and(|v| v == "1")
}

fn sizes() -> Vec<usize> {
    if full() {
        vec![1 << 10, 1 << 16, 1 << 20, 1 << 24]
    } else {
        vec![1 << 20]
    }
}

fn ops() -> Vec<Activation> {
    if full() {
        Activation::ALL.to_vec()
    } else {
        vec![
            Activation::Sigmoid,
            Activation::Relu,
            Activation::Gelu,
            Activation::Mish,
        ]
    }
}

fn context() -> Context {
    Context::new().unwrap_or_else(|e| panic!("no wgpu adapter for the benchmarks: {e}"))
}

/// Deterministic inputs over [-10, 10].
fn inputs(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i % 2001) as f32 * 0.01 - 10.0).collect()
}

/// x, grad_output and a preallocated output, resident on the device.
struct Resident {
    x: GpuTensor,
    grad: GpuTensor,
    out: GpuTensor,
}

impl Resident {
    fn new(ctx: &Context, n: usize) -> Resident {
        let grad: Vec<f32> = (0..n).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();
        Resident {
            x: ctx.upload(&inputs(n)).expect("upload x"),
            grad: ctx.upload(&grad).expect("upload grad_output"),
            out: ctx.upload(&vec![0.0; n]).expect("upload output"),
        }
    }
}

/// Wall time of `iters` calls, each recorded into its own encoder, submitted
/// and waited for, so the clock stops only when the GPU is done.
fn timed_calls(
    ctx: &Context,
    iters: u64,
    mut record: impl FnMut(&mut wgpu::CommandEncoder),
) -> Duration {
    let start = Instant::now();
    for _ in 0..iters {
        let mut encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("bench"),
            });
        record(&mut encoder);
        ctx.queue().submit([encoder.finish()]);
        ctx.device()
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("poll");
    }
    start.elapsed()
}

fn copy_kernel(c: &mut Criterion) {
    let ctx = context();
    let device = ctx.device();
    let baselines = Baselines::new(device);
    let mut group = c.benchmark_group("copy_kernel");
    for n in sizes() {
        let data = Resident::new(&ctx, n);
        if n as u64 * 4 <= device.limits().max_storage_buffer_binding_size {
            let kernels = [
                (
                    "copy/1in1out",
                    &baselines.copy,
                    Mode::Forward,
                    vec![data.x.buffer()],
                ),
                (
                    "add/2in1out",
                    &baselines.add,
                    Mode::Backward,
                    vec![data.x.buffer(), data.grad.buffer()],
                ),
            ];
            for (label, pipeline, bytes_like, inputs) in kernels {
                let kernel = baselines.bind(device, pipeline, &inputs, data.out.buffer(), n / 4);
                group.throughput(Throughput::Bytes(bytes_moved(bytes_like, n)));
                group.bench_function(format!("{label}/{n}"), |b| {
                    b.iter_custom(|iters| timed_calls(&ctx, iters, |e| kernel.record(e)))
                });
            }
        } else {
            eprintln!("copy_kernel: N = {n} exceeds the storage binding limit, kernels skipped");
        }
        group.throughput(Throughput::Bytes(bytes_moved(Mode::Forward, n)));
        group.bench_function(format!("copy_buffer_to_buffer/1in1out/{n}"), |b| {
            b.iter_custom(|iters| {
                timed_calls(&ctx, iters, |e| {
                    e.copy_buffer_to_buffer(
                        data.x.buffer(),
                        0,
                        data.out.buffer(),
                        0,
                        data.x.byte_len(),
                    )
                })
            })
        });
    }
    group.finish();
}

fn resident(c: &mut Criterion) {
    let ctx = context();
    let mut group = c.benchmark_group("resident");
    for n in sizes() {
        let data = Resident::new(&ctx, n);
        for act in ops() {
            for (mode, precision) in Mode::ALL
                .into_iter()
                .flat_map(|m| Precision::ALL.map(|p| (m, p)))
            {
                let grad = (mode == Mode::Backward).then(|| data.grad.region());
                let record = |encoder: &mut wgpu::CommandEncoder| {
                    ctx.kernels()
                        .with_precision(precision)
                        .record(encoder, act, mode, data.x.region(), grad, data.out.region())
                        .unwrap_or_else(|e| panic!("{act} {mode:?} {precision}: {e}"));
                };
                group.throughput(Throughput::Bytes(bytes_moved(mode, n)));
                let name = format!("{}/{}/{precision}/{n}", act.name(), mode.entry_point());
                group.bench_function(name, |b| {
                    b.iter_custom(|iters| timed_calls(&ctx, iters, record))
                });
            }
        }
    }
    group.finish();
}

fn host_slice(c: &mut Criterion) {
    let ctx = context();
    let n = if full() { 1 << 24 } else { 1 << 20 };
    let x = inputs(n);
    let act = Activation::Sigmoid;
    let mut group = c.benchmark_group("host_slice");
    group.throughput(Throughput::Bytes(bytes_moved(Mode::Forward, n)));
    group.bench_function(format!("{}/forward/{n}", act.name()), |b| {
        b.iter(|| ctx.forward(act, black_box(&x)).expect("forward"))
    });
    group.bench_function(format!("cpu_reference_{}/forward/{n}", act.name()), |b| {
        b.iter(|| cpu::forward(act, black_box(&x)).expect("cpu forward"))
    });
    group.finish();
}

/// The forward of each op over f32, f16 and bf16 copies of the same values.
fn dtype(c: &mut Criterion) {
    let ctx = context();
    let mut group = c.benchmark_group("dtype");
    for n in sizes() {
        let values = inputs(n);
        let upload = |dtype| upload_as(&ctx, &values, dtype);
        for dtype in Dtype::ALL {
            let x = upload(dtype).expect("upload x");
            let out = upload(dtype).expect("upload output");
            for act in ops() {
                // At each dtype's default tier (precise f32, fast 16-bit).
                ctx.kernels().prepare_dtype(act, dtype).expect("compile");
                let (input, output) = (
                    BufferRegion::typed(x.buffer(), 0, n, dtype),
                    BufferRegion::typed(out.buffer(), 0, n, dtype),
                );
                let record = |encoder: &mut wgpu::CommandEncoder| {
                    ctx.kernels()
                        .record(encoder, act, Mode::Forward, input, None, output)
                        .unwrap_or_else(|e| panic!("{act} {dtype}: {e}"));
                };
                group.throughput(Throughput::Elements(n as u64));
                group.bench_function(
                    format!("{}/forward/{}/{n}", act.name(), dtype.name()),
                    |b| b.iter_custom(|iters| timed_calls(&ctx, iters, record)),
                );
            }
        }
    }
    group.finish();
}

fn config() -> Criterion {
    Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
}

criterion_group! {
    name = benches;
    config = config();
    targets = copy_kernel, resident, host_slice, dtype
}
criterion_main!(benches);
