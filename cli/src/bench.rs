//! `wgpu-activations bench` (and `examples/bench.rs`, which includes this
//! file with `#[path]` and runs it): throughput of the activation kernels on
//! every adapter, against copy kernels measured in the same run.
//!
//! ```sh
//! wgpu-activations bench                     # or: cargo run --release --example bench
//! wgpu-activations bench --sizes 2^20,2^24 --ops sigmoid,relu,gelu
//! wgpu-activations bench --adapter vulkan --modes forward --json
//! wgpu-activations bench --api --adapter vulkan --sizes 2^10,2^24
//! ```
//!
//! Bytes moved per element: 8 for forward and derivative (read x, write y),
//! 12 for backward (read x and grad_output, write grad_input). GB/s is bytes
//! moved / time per call. The ratio column compares with the WGSL copy kernel
//! (`out = in`, one vec4 per invocation) for forward and derivative and with
//! the two-in-one-out copy kernel (`out = a + b`) for backward, both measured
//! at the same N on the same device.
//!
//! Kernel timing uses GPU timestamps written around a batch of calls recorded
//! into one encoder where the adapter supports `TIMESTAMP_QUERY` and
//! `TIMESTAMP_QUERY_INSIDE_ENCODERS`; otherwise wall time, one submit and
//! wait per call. Round trips and the host-slice `forward` are always wall
//! time. Each figure is the fastest of up to five batches of calls (other
//! processes on a shared machine only ever add time), after a warm-up call.
//!
//! `--api` instead times what a user of the resident API sees, per op and N
//! (f32 forward): `ctx.apply(op, &x)` (result from the context's pool,
//! submitted and waited for, then dropped) and the kernel alone
//! (`Kernels::record` into an encoder over a fixed output, submitted and
//! waited for), each the median of 21 calls after a warm-up, timed and
//! printed by `api_timing.rs` (beside this file), which the Burn peer
//! (`benches/peers/burn`) shares so that the two compare like for like.
//!
//! A progress bar over the measurements goes to stderr where it is a
//! terminal (`progress.rs`); the tables go to stdout above it.

use std::error::Error;
use std::sync::Arc;
use std::time::Instant;

use wgpu_activations::{
    Activation, BufferRegion, Context, Dtype, Gated, GpuTensor, Kernels, Mode, Precision, RowOp,
    WithPrecision,
};

use super::api_timing::{self, size_label};
use super::args::{OpList, no_adapter_matches, parse_dtype, parse_mode, parse_ops};
use super::baselines::{Baselines, bytes_moved, upload_as};
use super::json::json_string;
use super::progress::Progress;

type Res<T> = Result<T, Box<dyn Error>>;

/// Throughput of the kernels on every adapter against copy kernels of the
/// same run (`--api`: the resident API's per-call times instead).
#[derive(clap::Parser)]
#[command(
    name = "bench",
    after_help = "Honours WGPU_BACKEND and WGPU_ADAPTER_NAME like the library."
)]
pub struct BenchArgs {
    /// Activations, comma-separated, e.g. sigmoid,gelu,leaky_relu(0.2) [default: all; with
    /// --api, those Burn also has].
    #[arg(long, value_parser = parse_ops)]
    ops: Option<OpList>,
    /// Modes, comma-separated.
    #[arg(long, value_delimiter = ',', value_parser = parse_mode, default_value = "forward,derivative,backward")]
    modes: Vec<Mode>,
    /// Element counts, e.g. 1024,1048576 or 2^10,2^20.
    #[arg(long, value_delimiter = ',', value_parser = api_timing::parse_size, default_value = "2^10,2^16,2^20,2^24")]
    sizes: Vec<usize>,
    /// Element types: f32,f16,bf16; each 16-bit row also shows its elements/s over f32's of
    /// the same run.
    #[arg(long = "dtype", visible_alias = "dtypes", value_delimiter = ',', value_parser = parse_dtype, default_value = "f32")]
    dtypes: Vec<Dtype>,
    /// Only adapters whose name or backend contains TEXT (case-insensitive).
    #[arg(long, value_name = "TEXT")]
    adapter: Option<String>,
    /// Calls per measurement [default: enough for ~0.2 s each].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    iters: Option<u32>,
    /// Wall-clock timing even where timestamp queries are supported.
    #[arg(long)]
    wall: bool,
    /// One JSON object on stdout instead of the tables.
    #[arg(long)]
    json: bool,
    /// Time the resident API instead, f32 forward per op and N: ctx.apply (pooled result) and
    /// the kernel alone (record into an encoder over a fixed output), each submitted and waited
    /// for, median of 21 calls after 5 warm-up calls (--modes, --dtype, --iters, --wall do not
    /// apply).
    #[arg(long)]
    api: bool,
    /// Precision tiers, comma-separated: fast,precise; each tier's rows are labelled with it
    /// [default: each dtype's default, precise for f32 and fast for f16 and bf16].
    #[arg(long, value_delimiter = ',')]
    precision: Vec<Precision>,
}

/// Wall time one measurement aims at when `--iters` is not given.
const TARGET_SECONDS: f64 = 0.2;
/// A measurement is the fastest of this many batches (fewer when calls are fewer).
const SAMPLES: u32 = 5;
/// Fewest timed calls per measurement (besides the warm-up call): one per
/// batch, so that even the slowest measurement is the fastest of `SAMPLES`
/// (with two, a 2^24 host-slice call now and then measured twice its usual
/// time on this shared machine).
const MIN_CALLS: u32 = SAMPLES;
const MAX_CALLS: u32 = 20_000;
/// Size of the `apply` round trip.
const ROUND_TRIP_N: usize = 1024;

// ---------------------------------------------------------------- options

/// The arguments resolved, and the progress bar of the run.
struct Options {
    ops: Vec<Activation>,
    modes: Vec<Mode>,
    sizes: Vec<usize>,
    iters: Option<u32>,
    json: bool,
    /// `--api`: the resident-API table instead of the kernel tables.
    api: bool,
    dtypes: Vec<Dtype>,
    /// On stderr; every line of the tables goes above it.
    progress: Progress,
}

impl Options {
    /// `args` resolved, with a progress bar over the steps of a run on
    /// `adapters` adapters.
    fn of(args: &BenchArgs, adapters: usize) -> Options {
        let ops = match (&args.ops, args.api) {
            (Some(list), _) => list.0.clone(),
            (None, false) => Activation::ALL.to_vec(),
            // The ops the Burn peer has too.
            (None, true) => Activation::ALL
                .iter()
                .copied()
                .filter(|a| api_timing::OPS.contains(&a.name()))
                .collect(),
        };
        // Per adapter and N: `--api`, one step per op; otherwise the
        // baselines, each op, mode and dtype, and the families; then (not
        // `--api`) the round trips.
        let steps = if args.api {
            args.sizes.len() * ops.len()
        } else {
            args.sizes.len() * (2 + ops.len() * args.modes.len() * args.dtypes.len()) + 1
        };
        Options {
            ops,
            modes: args.modes.clone(),
            sizes: args.sizes.clone(),
            iters: args.iters,
            json: args.json,
            api: args.api,
            dtypes: args.dtypes.clone(),
            progress: Progress::new((adapters * steps) as u64),
        }
    }

    /// `line` on stdout, above the progress bar.
    fn println(&self, line: impl std::fmt::Display) {
        self.progress.println(line);
    }
}

// ---------------------------------------------------------------- devices

/// One adapter opened for benchmarking.
struct Bench {
    ctx: Context,
    clock: Clock,
    /// The tier `ctx` computes at where `--precision` named one (rows are
    /// labelled with it).
    tier: Option<Precision>,
}

impl Bench {
    /// The row label of `act`: with the tier where one was named.
    fn label(&self, act: &Activation) -> String {
        match self.tier {
            Some(p) => format!("{act} [{p}]"),
            None => act.to_string(),
        }
    }

    /// The element-wise kernels at the tier `ctx` computes `dtype` at.
    fn kernels(&self, dtype: Dtype) -> WithPrecision<'_, Kernels> {
        self.ctx
            .kernels()
            .with_precision(self.ctx.precision_for(dtype))
    }
}

/// How kernel time is measured.
enum Clock {
    /// Timestamps around a batch of calls in one encoder.
    Gpu(GpuClock),
    /// Submit and wait per call.
    Wall,
}

struct GpuClock {
    queries: wgpu::QuerySet,
    resolve: wgpu::Buffer,
    readback: wgpu::Buffer,
    /// Nanoseconds per timestamp tick.
    period_ns: f64,
    /// Batches whose timestamps made no sense (replaced by wall time).
    fallbacks: std::cell::Cell<u32>,
}

impl Clock {
    fn describe(&self) -> String {
        match self {
            Clock::Gpu(gpu) => format!(
                "GPU timestamps around a batch of calls in one encoder ({} ns/tick)",
                gpu.period_ns
            ),
            Clock::Wall => "wall time, one submit + wait per call".into(),
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Clock::Gpu(_) => "gpu_timestamps",
            Clock::Wall => "wall",
        }
    }
}

/// Every adapter (matching `filter` and the WGPU_* variables), each on a
/// device of our own with timestamp queries where supported (unless `wall`).
fn open_adapters(filter: Option<&str>, wall: bool) -> Res<Vec<Bench>> {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all());
    let env_name = std::env::var("WGPU_ADAPTER_NAME")
        .ok()
        .map(|s| s.to_lowercase());
    let mut benches = Vec::new();
    let mut found = Vec::new();
    for adapter in pollster::block_on(instance.enumerate_adapters(backends)) {
        let info = adapter.get_info();
        found.push(format!("{} ({:?})", info.name, info.backend));
        let name = info.name.to_lowercase();
        let backend = format!("{:?}", info.backend).to_lowercase();
        if env_name.as_ref().is_some_and(|w| !name.contains(w))
            || filter.is_some_and(|f| !name.contains(f) && !backend.contains(f))
        {
            continue;
        }
        let timestamps =
            wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS;
        let has_timestamps = adapter.features().contains(timestamps);
        if !has_timestamps && !wall {
            eprintln!(
                "{} ({:?}): no timestamp queries, timing by wall clock",
                info.name, info.backend
            );
        }
        let has_timestamps = has_timestamps && !wall;
        let opened = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("bench"),
            // What the library's own contexts ask for, plus timestamps.
            required_features: wgpu_activations::recommended_features(&adapter)
                | if has_timestamps {
                    timestamps
                } else {
                    wgpu::Features::empty()
                },
            required_limits: adapter.limits(),
            ..Default::default()
        }));
        let (device, queue) = match opened {
            Ok(pair) => pair,
            Err(e) => {
                eprintln!("skipping {} ({:?}): {e}", info.name, info.backend);
                continue;
            }
        };
        device.on_uncaptured_error(Arc::new(|error| {
            eprintln!("bench: uncaptured wgpu error: {error}");
        }));
        let clock = if has_timestamps {
            Clock::Gpu(GpuClock::new(&device, &queue))
        } else {
            Clock::Wall
        };
        benches.push(Bench {
            ctx: Context::from_device(device, queue),
            clock,
            tier: None,
        });
    }
    if benches.is_empty() {
        return Err(match (filter, &env_name) {
            (Some(wanted), None) => no_adapter_matches(wanted, &found),
            _ => format!(
                "no adapter on backends {backends:?} matches the filters (--adapter {filter:?}, \
                 WGPU_ADAPTER_NAME {env_name:?}; found: {})",
                found.join(", ")
            ),
        }
        .into());
    }
    Ok(benches)
}

impl GpuClock {
    fn new(device: &wgpu::Device, queue: &wgpu::Queue) -> GpuClock {
        let buffer = |label, usage| {
            device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: 2 * wgpu::QUERY_SIZE as u64,
                usage,
                mapped_at_creation: false,
            })
        };
        GpuClock {
            queries: device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("bench.timestamps"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            }),
            resolve: buffer(
                "bench.resolve",
                wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            ),
            readback: buffer(
                "bench.readback",
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            ),
            period_ns: f64::from(queue.get_timestamp_period()),
            fallbacks: std::cell::Cell::new(0),
        }
    }

    /// The two timestamps of the last submitted batch (waits for the GPU).
    fn read_ticks(&self, device: &wgpu::Device) -> Res<[u64; 2]> {
        self.readback.map_async(wgpu::MapMode::Read, .., |result| {
            if let Err(e) = result {
                eprintln!("bench: timestamp readback failed: {e}");
            }
        });
        device.poll(wgpu::PollType::wait_indefinitely())?;
        let ticks = {
            let bytes = self.readback.get_mapped_range(..)?;
            let tick = |i: usize| u64::from_le_bytes(bytes[i * 8..i * 8 + 8].try_into().unwrap());
            [tick(0), tick(1)]
        };
        self.readback.unmap();
        Ok(ticks)
    }
}

// ---------------------------------------------------------------- timing

/// Work recorded into an encoder: one call of a kernel.
type Record<'a> = dyn FnMut(&mut wgpu::CommandEncoder) -> Res<()> + 'a;

fn encoder(ctx: &Context) -> wgpu::CommandEncoder {
    ctx.device()
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("bench"),
        })
}

fn wait(ctx: &Context) -> Res<()> {
    ctx.device().poll(wgpu::PollType::wait_indefinitely())?;
    Ok(())
}

/// Wall seconds per call of `calls` synchronous calls of `call`.
fn wall_per_call(calls: u32, call: &mut dyn FnMut() -> Res<()>) -> Res<f64> {
    let start = Instant::now();
    for _ in 0..calls {
        call()?;
    }
    Ok(start.elapsed().as_secs_f64() / f64::from(calls))
}

/// Seconds per call of `calls` calls of `record`: GPU time between
/// timestamps around all of them in one encoder, or wall time with a submit
/// and wait per call.
fn time_batch(bench: &Bench, calls: u32, record: &mut Record<'_>) -> Res<f64> {
    let ctx = &bench.ctx;
    let Clock::Gpu(gpu) = &bench.clock else {
        return wall_per_call(calls, &mut || {
            let mut encoder = encoder(ctx);
            record(&mut encoder)?;
            ctx.queue().submit([encoder.finish()]);
            wait(ctx)
        });
    };
    let mut encoder = encoder(ctx);
    encoder.write_timestamp(&gpu.queries, 0);
    for _ in 0..calls {
        record(&mut encoder)?;
    }
    encoder.write_timestamp(&gpu.queries, 1);
    encoder.resolve_query_set(&gpu.queries, 0..2, &gpu.resolve, 0);
    encoder.copy_buffer_to_buffer(&gpu.resolve, 0, &gpu.readback, 0, gpu.resolve.size());
    let start = Instant::now();
    ctx.queue().submit([encoder.finish()]);
    let [t0, t1] = gpu.read_ticks(ctx.device())?;
    let wall = start.elapsed().as_secs_f64();
    let seconds = t1.wrapping_sub(t0) as f64 * gpu.period_ns * 1e-9;
    // Timestamps can only be trusted inside the wall time of the submission.
    if t1 <= t0 || seconds > wall * 1.05 {
        gpu.fallbacks.set(gpu.fallbacks.get() + 1);
        return Ok(wall / f64::from(calls));
    }
    Ok(seconds / f64::from(calls))
}

/// Seconds per call of the fastest of up to `SAMPLES` batches of
/// `batch(k)` (which times `k` calls). The fastest, not the median: on a
/// shared machine other processes only ever add time. One timed warm-up call
/// sizes the batches (unless `iters` is given).
fn measure(iters: Option<u32>, batch: &mut dyn FnMut(u32) -> Res<f64>) -> Res<f64> {
    let [seconds] = measure_in_turn(iters, [batch])?;
    Ok(seconds)
}

/// [`measure`] for several things at once, their batches taken in turn (one
/// batch of each, then the next round), so that a noisy spell of the machine
/// does not land on one of them; the slowest warm-up call sizes the batches.
fn measure_in_turn<const N: usize>(
    iters: Option<u32>,
    mut batches: [&mut dyn FnMut(u32) -> Res<f64>; N],
) -> Res<[f64; N]> {
    let mut slowest = 1e-7_f64;
    for batch in batches.iter_mut() {
        let start = Instant::now();
        batch(1)?; // also the first touch of the buffers
        slowest = slowest.max(start.elapsed().as_secs_f64());
    }
    let calls = iters.unwrap_or(((TARGET_SECONDS / slowest) as u32).clamp(MIN_CALLS, MAX_CALLS));
    let samples = calls.min(SAMPLES);
    let mut best = [f64::INFINITY; N];
    for i in 0..samples {
        // The calls shared as evenly as possible between the batches.
        let calls_now = calls / samples + u32::from(i < calls % samples);
        for (batch, best) in batches.iter_mut().zip(best.iter_mut()) {
            *best = best.min(batch(calls_now)?);
        }
    }
    Ok(best)
}

fn measure_kernel(bench: &Bench, iters: Option<u32>, record: &mut Record<'_>) -> Res<f64> {
    measure(iters, &mut |calls| time_batch(bench, calls, record))
}

fn measure_round_trip(iters: Option<u32>, call: &mut dyn FnMut() -> Res<()>) -> Res<f64> {
    measure(iters, &mut |calls| wall_per_call(calls, call))
}

// ---------------------------------------------------------------- baselines

/// Which baseline a kernel is compared with.
#[derive(Clone, Copy)]
enum Baseline {
    Copy,
    Add,
}

impl Baseline {
    fn of(mode: Mode) -> Baseline {
        match mode {
            Mode::Backward => Baseline::Add,
            Mode::Forward | Mode::Derivative => Baseline::Copy,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Baseline::Copy => "copy",
            Baseline::Add => "a+b",
        }
    }
}

// ---------------------------------------------------------------- results

fn gbps(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / seconds / 1e9
}

/// Seconds per call of the baselines at one N (`None`: not bindable).
struct BaselineRow {
    n: usize,
    /// Elements the copy kernels move (N rounded up to whole vec4s).
    elements: usize,
    copy: Option<f64>,
    add: Option<f64>,
    memcpy: f64,
}

impl BaselineRow {
    fn copy_gbps(&self) -> Option<f64> {
        self.copy
            .map(|s| gbps(bytes_moved(Mode::Forward, self.elements), s))
    }
    fn add_gbps(&self) -> Option<f64> {
        self.add
            .map(|s| gbps(bytes_moved(Mode::Backward, self.elements), s))
    }
    fn memcpy_gbps(&self) -> f64 {
        gbps(bytes_moved(Mode::Forward, self.elements), self.memcpy)
    }
    fn gbps_of(&self, baseline: Baseline) -> Option<f64> {
        match baseline {
            Baseline::Copy => self.copy_gbps(),
            Baseline::Add => self.add_gbps(),
        }
    }
}

struct Row {
    op: String,
    mode: Mode,
    dtype: Dtype,
    /// Elements per second over those of the f32 row of the same op, mode
    /// and N in this run (where f32 was measured).
    vs_f32: Option<f64>,
    /// The naive built-in kernel's time over ours (above 1: ours is
    /// faster), for the f32 forward of the smooth ops with one.
    vs_naive: Option<f64>,
    n: usize,
    seconds: f64,
    baseline: Baseline,
    /// GB/s of this kernel over GB/s of its baseline at the same N.
    ratio: Option<f64>,
}

impl Row {
    fn bytes(&self) -> u64 {
        bytes_moved(self.mode, self.n) * self.dtype.size() as u64 / 4
    }
    fn gbps(&self) -> f64 {
        gbps(self.bytes(), self.seconds)
    }
}

struct Report {
    adapter: String,
    backend: String,
    timing: &'static str,
    timing_detail: String,
    timestamp_fallbacks: u32,
    baselines: Vec<BaselineRow>,
    rows: Vec<Row>,
    empty_dispatch: f64,
    /// The copy kernel over N = 1024 (bindings, 256 invocations), submitted
    /// and waited for: what any real dispatch costs on the adapter.
    copy_round_trip: f64,
    apply_round_trip: f64,
    /// (N, seconds per `ctx.forward` call).
    host_forward: (usize, f64),
}

// ---------------------------------------------------------------- the run

fn run_adapter(bench: &Bench, options: &Options) -> Res<Report> {
    let ctx = &bench.ctx;
    let device = ctx.device();
    let baselines = Baselines::new(device);
    // Compile every pipeline up front, so that no measurement includes it.
    for act in options.ops.iter().chain([&Activation::Sigmoid]) {
        for &dtype in options.dtypes.iter().chain([&Dtype::F32]) {
            ctx.kernels()
                .prepare_at(*act, dtype, ctx.precision_for(dtype))?;
        }
    }
    let op_width = options
        .ops
        .iter()
        .map(|a| a.to_string().len())
        .max()
        .unwrap_or(0)
        .max(10);
    if !options.json {
        options.println(format_args!(
            "\n== {} ({:?})\ntiming: {}; fastest of up to {SAMPLES} batches\nkernels: {:?}",
            ctx.adapter_name(),
            ctx.backend(),
            bench.clock.describe(),
            ctx.kernels().tuning()
        ));
        options.println(format_args!(
            "{:<op_width$}  {:<10}  {:<8}  {:>8}  {:>9}  {:>12}  {:>11}  {:>7}  {:>8}",
            "op", "mode", "dtype", "N", "GB/s", "vs baseline", "time/call", "vs f32", "vs naive"
        ));
    }
    let mut report = Report {
        adapter: ctx.adapter_name(),
        backend: format!("{:?}", ctx.backend()),
        timing: bench.clock.name(),
        timing_detail: bench.clock.describe(),
        timestamp_fallbacks: 0,
        baselines: Vec::new(),
        rows: Vec::new(),
        empty_dispatch: 0.0,
        copy_round_trip: 0.0,
        apply_round_trip: 0.0,
        host_forward: (0, 0.0),
    };
    for &n in &options.sizes {
        let baseline = run_size(bench, &baselines, options, n, op_width, &mut report.rows)?;
        report.baselines.push(baseline);
    }

    options
        .progress
        .set_message(format_args!("{} round trips", ctx.adapter_name()));
    // Round trips: an empty dispatch, a copy kernel and `apply` on a small
    // resident tensor, measured in turns (batch by batch) so that a noisy
    // spell of the machine does not favour one of them.
    let x = ctx.upload(&inputs(ROUND_TRIP_N))?;
    let y = ctx.upload(&inputs(ROUND_TRIP_N))?;
    let copy = baselines.bind(
        device,
        &baselines.copy,
        &[x.buffer()],
        y.buffer(),
        ROUND_TRIP_N / 4,
    );
    let [empty, copy, apply] = measure_in_turn(
        options.iters,
        [
            &mut |calls| {
                wall_per_call(calls, &mut || {
                    let mut encoder = encoder(ctx);
                    baselines.empty_kernel().record(&mut encoder);
                    ctx.queue().submit([encoder.finish()]);
                    wait(ctx)
                })
            },
            &mut |calls| {
                wall_per_call(calls, &mut || {
                    let mut encoder = encoder(ctx);
                    copy.record(&mut encoder);
                    ctx.queue().submit([encoder.finish()]);
                    wait(ctx)
                })
            },
            &mut |calls| {
                wall_per_call(calls, &mut || {
                    let y = ctx.apply(Activation::Sigmoid, &x)?;
                    wait(ctx)?;
                    drop(y);
                    Ok(())
                })
            },
        ],
    )?;
    report.empty_dispatch = empty;
    report.copy_round_trip = copy;
    report.apply_round_trip = apply;

    // Host slices in and out at the largest N.
    let n = options.sizes.iter().copied().max().unwrap_or(ROUND_TRIP_N);
    let x = inputs(n);
    report.host_forward = (
        n,
        measure_round_trip(options.iters, &mut || {
            let y = ctx.forward(Activation::Sigmoid, &x)?;
            std::hint::black_box(y);
            Ok(())
        })?,
    );
    if let Clock::Gpu(gpu) = &bench.clock {
        report.timestamp_fallbacks = gpu.fallbacks.get();
    }
    options.progress.inc(1);
    if !options.json {
        print_summary(&report, options);
    }
    Ok(report)
}

/// The kernel alone, as a caller of the lower layer runs it: the forward of
/// `act` over the first `n` values of `x` recorded into a fresh encoder over
/// the fixed output `out`, submitted and waited for.
fn kernel_alone(
    ctx: &Context,
    act: Activation,
    x: &GpuTensor,
    out: &GpuTensor,
    n: usize,
) -> Res<()> {
    let mut encoder = encoder(ctx);
    let kernels = ctx.kernels().with_precision(ctx.precision_for(Dtype::F32));
    kernels.record(
        &mut encoder,
        act,
        Mode::Forward,
        region(x, n),
        None,
        region(out, n),
    )?;
    ctx.queue().submit([encoder.finish()]);
    wait(ctx)
}

/// The first `n` elements of `t`.
fn region(t: &GpuTensor, n: usize) -> BufferRegion<'_> {
    BufferRegion::typed(t.buffer(), t.offset(), n, t.dtype())
}

/// Deterministic inputs over [-10, 10] (shared with `--api` and the Burn peer).
fn inputs(n: usize) -> Vec<f32> {
    api_timing::inputs(n)
}

/// The baselines and every (op, mode) at one N; rows are appended to `rows`.
fn run_size(
    bench: &Bench,
    baselines: &Baselines,
    options: &Options,
    n: usize,
    op_width: usize,
    rows: &mut Vec<Row>,
) -> Res<BaselineRow> {
    let ctx = &bench.ctx;
    let device = ctx.device();
    options.progress.set_message(format_args!(
        "{} baselines, N={}",
        ctx.adapter_name(),
        size_label(n)
    ));
    // Whole vec4s, so that the copy kernels can bind the same buffers.
    let padded = n.next_multiple_of(4);
    let x = ctx.upload(&inputs(padded))?;
    let grad: Vec<f32> = (0..padded).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();
    let grad = ctx.upload(&grad)?;
    let out = ctx.upload(&vec![0.0; padded])?;

    // Baselines over the same buffers.
    let bindable = padded as u64 * 4 <= device.limits().max_storage_buffer_binding_size;
    let kernel_baseline =
        |pipeline: &wgpu::ComputePipeline, inputs: &[&GpuTensor]| -> Res<Option<f64>> {
            if !bindable {
                return Ok(None);
            }
            let buffers: Vec<&wgpu::Buffer> = inputs.iter().map(|t| t.buffer()).collect();
            let kernel = baselines.bind(device, pipeline, &buffers, out.buffer(), padded / 4);
            measure_kernel(bench, options.iters, &mut |encoder| {
                kernel.record(encoder);
                Ok(())
            })
            .map(Some)
        };
    let copy = kernel_baseline(&baselines.copy, &[&x])?;
    let add = kernel_baseline(&baselines.add, &[&x, &grad])?;
    let memcpy = measure_kernel(bench, options.iters, &mut |encoder| {
        encoder.copy_buffer_to_buffer(x.buffer(), 0, out.buffer(), 0, x.byte_len());
        Ok(())
    })?;
    let baseline = BaselineRow {
        n,
        elements: padded,
        copy,
        add,
        memcpy,
    };
    if !options.json {
        options.println(format_args!(
            "-- N={}: copy kernel {}, a+b copy kernel {}, copy_buffer_to_buffer {} ({}/call)",
            size_label(n),
            opt_gbps(baseline.copy_gbps()),
            opt_gbps(baseline.add_gbps()),
            opt_gbps(Some(baseline.memcpy_gbps())),
            duration_label(memcpy),
        ));
    }
    options.progress.inc(1);

    // What a user calls: `apply` (a pooled result, submitted and waited
    // for) against the kernel alone recorded into the caller's encoder over
    // a fixed output, submitted and waited for the same way, and `apply`
    // with the pool switched off (a fresh result buffer per call), in turns.
    if !options.json {
        let act = options.ops[0];
        let budget = ctx.pool_stats().budget_bytes;
        let [kernel, apply, fresh] = measure_in_turn(
            options.iters,
            [
                &mut |calls| wall_per_call(calls, &mut || kernel_alone(ctx, act, &x, &out, n)),
                &mut |calls| {
                    wall_per_call(calls, &mut || {
                        let y = ctx.apply(act, &x)?;
                        wait(ctx)?;
                        drop(y);
                        Ok(())
                    })
                },
                &mut |calls| {
                    ctx.set_pool_budget(0);
                    let seconds = wall_per_call(calls, &mut || {
                        let y = ctx.apply(act, &x)?;
                        wait(ctx)?;
                        drop(y);
                        Ok(())
                    });
                    ctx.set_pool_budget(budget);
                    // Untimed: a result back in the pool for the pooled calls.
                    let y = ctx.apply(act, &x)?;
                    wait(ctx)?;
                    drop(y);
                    seconds
                },
            ],
        )?;
        options.println(format_args!(
            "-- N={}: {act} apply {} per call = {:.2}x the kernel alone ({}, submitted and waited for); \
             without the result pool {} ({:.2}x)",
            size_label(n),
            duration_label(apply),
            apply / kernel,
            duration_label(kernel),
            duration_label(fresh),
            fresh / kernel,
        ));
    }

    // The same values in each 16-bit dtype asked for.
    let mut typed = Vec::new();
    for &dtype in &options.dtypes {
        typed.push(if dtype == Dtype::F32 {
            None
        } else {
            let grad_values: Vec<f32> = (0..padded).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();
            Some((
                upload_as(ctx, &inputs(padded), dtype)?,
                upload_as(ctx, &grad_values, dtype)?,
                upload_as(ctx, &vec![0.0; padded], dtype)?,
            ))
        });
    }
    for &act in &options.ops {
        for &mode in &options.modes {
            let mut f32_seconds = None;
            for (&dtype, tensors) in options.dtypes.iter().zip(&typed) {
                options.progress.set_message(format_args!(
                    "{act} {} {}, N={}",
                    mode.entry_point(),
                    dtype.name(),
                    size_label(n)
                ));
                let (x, grad, out) = match tensors {
                    Some((x, grad, out)) => (x, grad, out),
                    None => (&x, &grad, &out),
                };
                let grad_region = (mode == Mode::Backward).then(|| region(grad, n));
                let seconds = measure_kernel(bench, options.iters, &mut |encoder| {
                    bench.kernels(dtype).record(
                        encoder,
                        act,
                        mode,
                        region(x, n),
                        grad_region,
                        region(out, n),
                    )?;
                    Ok(())
                })?;
                if dtype == Dtype::F32 {
                    f32_seconds = Some(seconds);
                }
                // The naive built-in kernel of the op (default parameters),
                // over the same buffers, measured right after.
                let naive = baselines
                    .naive_of(&act)
                    .filter(|_| dtype == Dtype::F32 && mode == Mode::Forward && bindable)
                    .map(|pipeline| {
                        let kernel = baselines.bind(
                            device,
                            pipeline,
                            &[x.buffer()],
                            out.buffer(),
                            padded / 4,
                        );
                        measure_kernel(bench, options.iters, &mut |encoder| {
                            kernel.record(encoder);
                            Ok(())
                        })
                    })
                    .transpose()?;
                let kind = Baseline::of(mode);
                let mut row = Row {
                    op: bench.label(&act),
                    mode,
                    dtype,
                    vs_f32: f32_seconds
                        .filter(|_| dtype != Dtype::F32)
                        .map(|f| f / seconds),
                    vs_naive: naive.map(|naive| naive / seconds),
                    n,
                    seconds,
                    baseline: kind,
                    ratio: None,
                };
                row.ratio = baseline.gbps_of(kind).map(|base| row.gbps() / base);
                if !options.json {
                    options.println(format_args!(
                        "{:<op_width$}  {:<10}  {:<8}  {:>8}  {:>9.3}  {:>12}  {:>11}  {:>7}  {:>8}",
                        row.op,
                        mode.entry_point(),
                        dtype.name(),
                        size_label(n),
                        row.gbps(),
                        row.ratio
                            .map_or("n/a".into(), |r| format!("{r:.2} {}", kind.label())),
                        duration_label(seconds),
                        row.vs_f32.map_or(String::new(), |r| format!("{r:.2}x")),
                        row.vs_naive.map_or(String::new(), |r| format!("{r:.2}x")),
                    ));
                }
                rows.push(row);
                options.progress.inc(1);
            }
        }
    }
    if !options.json {
        options
            .progress
            .set_message(format_args!("families, N={}", size_label(n)));
        run_families(bench, options, n, &baseline)?;
    }
    options.progress.inc(1);
    Ok(baseline)
}

/// Rows of the kernel families at N input elements, beside the unary ops:
/// GB/s over the bytes each must move at least (inputs read once, outputs
/// written once) and the ratio to the copy kernel (or `a + b` where the
/// kernel reads two or more inputs) of the same N.
fn run_families(bench: &Bench, options: &Options, n: usize, baseline: &BaselineRow) -> Res<()> {
    const ROW: usize = 1024;
    if n < ROW || !n.is_multiple_of(ROW) {
        return Ok(());
    }
    let ctx = &bench.ctx;
    let x = ctx.upload(&inputs(n))?;
    let half = ctx.upload(&inputs(n / 2))?;
    let dy = ctx.upload(&vec![0.5; n])?;
    let out = ctx.upload(&vec![0.0; n])?;
    let slopes = ctx.upload(&[0.25; 64])?;
    fn r(t: &GpuTensor, len: usize) -> BufferRegion<'_> {
        BufferRegion::new(t.buffer(), t.offset(), len)
    }
    let gated = ctx
        .gated_kernels()
        .with_precision(ctx.precision_for(Dtype::F32));
    let rows = ctx
        .row_kernels()
        .with_precision(ctx.precision_for(Dtype::F32));
    let prelu = ctx.prelu_kernels();
    type Case<'a> = (&'a str, &'a str, u64, Baseline, Box<Record<'a>>);
    let cases: Vec<Case<'_>> = vec![
        (
            "swiglu (packed rows of 1024)",
            "forward",
            (n + n / 2) as u64 * 4,
            Baseline::Copy,
            Box::new(|e| {
                Ok(gated.record_forward_packed(e, Gated::Swiglu, r(&x, n), ROW, r(&out, n / 2))?)
            }),
        ),
        (
            "swiglu (packed rows of 1024)",
            "backward",
            (n + n / 2 + n) as u64 * 4,
            Baseline::Add,
            Box::new(|e| {
                Ok(gated.record_backward_packed(
                    e,
                    Gated::Swiglu,
                    r(&x, n),
                    ROW,
                    r(&half, n / 2),
                    r(&out, n),
                )?)
            }),
        ),
        (
            "softmax (rows of 1024)",
            "forward",
            2 * n as u64 * 4,
            Baseline::Copy,
            Box::new(|e| Ok(rows.record_forward(e, RowOp::Softmax, r(&x, n), ROW, r(&out, n))?)),
        ),
        (
            "softmax (rows of 1024)",
            "backward",
            3 * n as u64 * 4,
            Baseline::Add,
            Box::new(|e| {
                Ok(rows.record_backward(e, RowOp::Softmax, r(&x, n), r(&dy, n), ROW, r(&out, n))?)
            }),
        ),
        (
            "softmax (rows of 4)",
            "forward",
            2 * n as u64 * 4,
            Baseline::Copy,
            Box::new(|e| Ok(rows.record_forward(e, RowOp::Softmax, r(&x, n), 4, r(&out, n))?)),
        ),
        (
            "prelu (64 channels)",
            "forward",
            2 * n as u64 * 4,
            Baseline::Copy,
            Box::new(|e| {
                Ok(prelu.record_prelu(
                    e,
                    r(&x, n),
                    r(&slopes, 64),
                    [n / ROW / 64, 64, ROW],
                    r(&out, n),
                )?)
            }),
        ),
    ];
    for (name, mode, bytes, kind, mut record) in cases {
        if n / ROW < 64 && name.starts_with("prelu") {
            continue;
        }
        let seconds = measure_kernel(bench, options.iters, &mut *record)?;
        let rate = gbps(bytes, seconds);
        let ratio = baseline.gbps_of(kind).map(|base| rate / base);
        options.println(format_args!(
            "{name:<30}  {mode:<10}  {:>8}  {rate:>9.3}  {:>12}  {:>11}",
            size_label(n),
            ratio.map_or("n/a".into(), |r| format!("{r:.2} {}", kind.label())),
            duration_label(seconds),
        ));
    }
    Ok(())
}

fn print_summary(r: &Report, options: &Options) {
    let largest = r.baselines.iter().max_by_key(|b| b.n);
    let (n, fwd_s) = r.host_forward;
    options.println(format_args!(
        "summary {} ({}): copy kernel {}, a+b copy kernel {}, copy_buffer_to_buffer {} (at N={}); \
         empty dispatch round trip {}; copy kernel round trip (N={ROUND_TRIP_N}) {}; \
         apply(sigmoid, N={ROUND_TRIP_N}) round trip {} ({:.2}x empty dispatch, {:.2}x copy \
         kernel); forward(sigmoid) host slice N={}: {} ({}/call, bytes \
         uploaded + read back)",
        r.adapter,
        r.backend,
        opt_gbps(largest.and_then(BaselineRow::copy_gbps)),
        opt_gbps(largest.and_then(BaselineRow::add_gbps)),
        opt_gbps(largest.map(BaselineRow::memcpy_gbps)),
        largest.map_or("-".into(), |b| size_label(b.n)),
        duration_label(r.empty_dispatch),
        duration_label(r.copy_round_trip),
        duration_label(r.apply_round_trip),
        r.apply_round_trip / r.empty_dispatch,
        r.apply_round_trip / r.copy_round_trip,
        size_label(n),
        opt_gbps(Some(gbps(bytes_moved(Mode::Forward, n), fwd_s))),
        duration_label(fwd_s),
    ));
    if r.timestamp_fallbacks > 0 {
        options.println(format_args!(
            "note: {} batch(es) had unusable timestamps and were timed by wall clock",
            r.timestamp_fallbacks
        ));
    }
}

fn opt_gbps(value: Option<f64>) -> String {
    value.map_or("n/a".into(), |v| format!("{v:.3} GB/s"))
}

fn duration_label(seconds: f64) -> String {
    match seconds {
        s if s >= 1.0 => format!("{s:.3} s"),
        s if s >= 1e-3 => format!("{:.3} ms", s * 1e3),
        s if s >= 1e-6 => format!("{:.2} us", s * 1e6),
        s => format!("{:.0} ns", s * 1e9),
    }
}

// ---------------------------------------------------------------- JSON

fn json_number(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v}"),
        _ => "null".into(),
    }
}

fn json(reports: &[Report]) -> String {
    let mut rows = Vec::new();
    let mut adapters = Vec::new();
    for r in reports {
        for row in &r.rows {
            rows.push(format!(
                "{{\"adapter\": {}, \"backend\": {}, \"op\": {}, \"mode\": {}, \"dtype\": {}, \
                 \"n\": {}, \"bytes\": {}, \"seconds_per_call\": {}, \"gbps\": {}, \"baseline\": {}, \
                 \"ratio_to_baseline\": {}, \"elements_per_second_vs_f32\": {}, \"naive_time_over_ours\": {}}}",
                json_string(&r.adapter),
                json_string(&r.backend),
                json_string(&row.op),
                json_string(row.mode.entry_point()),
                json_string(row.dtype.name()),
                row.n,
                row.bytes(),
                json_number(Some(row.seconds)),
                json_number(Some(row.gbps())),
                json_string(match row.baseline {
                    Baseline::Copy => "copy_kernel",
                    Baseline::Add => "add_kernel",
                }),
                json_number(row.ratio),
                json_number(row.vs_f32),
                json_number(row.vs_naive),
            ));
        }
        let baselines: Vec<String> = r
            .baselines
            .iter()
            .map(|b| {
                format!(
                    "{{\"n\": {}, \"elements_copied\": {}, \"copy_kernel_gbps\": {}, \
                     \"add_kernel_gbps\": {}, \"copy_buffer_to_buffer_gbps\": {}}}",
                    b.n,
                    b.elements,
                    json_number(b.copy_gbps()),
                    json_number(b.add_gbps()),
                    json_number(Some(b.memcpy_gbps())),
                )
            })
            .collect();
        let (n, fwd_s) = r.host_forward;
        adapters.push(format!(
            "{{\"adapter\": {}, \"backend\": {}, \"timing\": {}, \"timing_detail\": {}, \
             \"timestamp_fallbacks\": {}, \"baselines\": [{}], \
             \"empty_dispatch_round_trip_s\": {}, \"apply_round_trip_n\": {ROUND_TRIP_N}, \
             \"copy_round_trip_s\": {}, \"apply_round_trip_s\": {}, \
             \"apply_ratio_to_empty_dispatch\": {}, \"apply_ratio_to_copy\": {}, \
             \"host_forward\": {{\"op\": \"sigmoid\", \"n\": {n}, \"bytes\": {}, \
             \"seconds_per_call\": {}, \"gbps\": {}}}}}",
            json_string(&r.adapter),
            json_string(&r.backend),
            json_string(r.timing),
            json_string(&r.timing_detail),
            r.timestamp_fallbacks,
            baselines.join(", "),
            json_number(Some(r.empty_dispatch)),
            json_number(Some(r.copy_round_trip)),
            json_number(Some(r.apply_round_trip)),
            json_number(Some(r.apply_round_trip / r.empty_dispatch)),
            json_number(Some(r.apply_round_trip / r.copy_round_trip)),
            bytes_moved(Mode::Forward, n),
            json_number(Some(fwd_s)),
            json_number(Some(gbps(bytes_moved(Mode::Forward, n), fwd_s))),
        ));
    }
    format!(
        "{{\"bytes_per_element\": {{\"forward\": 8, \"derivative\": 8, \"backward\": 12}},\n \
         \"statistic\": \"fastest of up to {SAMPLES} batches\",\n \
         \"rows\": [\n  {}\n ],\n \"adapters\": [\n  {}\n ]}}",
        rows.join(",\n  "),
        adapters.join(",\n  ")
    )
}

// ---------------------------------------------------------------- --api

/// The `--api` mode: `apply` and the kernel alone per op and N on every
/// adapter, timed in turns call by call (see `support/api_timing.rs`).
fn run_api(benches: &[Bench], options: &Options) -> Res<()> {
    let ops = &options.ops;
    let progress = &options.progress;
    let mut reports = Vec::new();
    for bench in benches {
        let ctx = &bench.ctx;
        for &act in ops {
            ctx.kernels()
                .prepare_at(act, Dtype::F32, ctx.precision_for(Dtype::F32))?;
        }
        let info = ctx.adapter_info();
        let backend = format!("{:?}", ctx.backend());
        let detail = format!(
            "wgpu-activations {}; driver {} {}",
            env!("CARGO_PKG_VERSION"),
            info.driver,
            info.driver_info
        );
        if !options.json {
            progress.suspend(|| {
                api_timing::print_header("wgpu-activations", &ctx.adapter_name(), &backend, &detail)
            });
        }
        let mut rows = Vec::new();
        for &n in &options.sizes {
            let x = ctx.upload(&api_timing::inputs(n))?;
            let out = ctx.upload(&vec![0.0_f32; n])?;
            for &act in ops {
                progress.set_message(format_args!("{act} apply, N={}", size_label(n)));
                let apply: &mut api_timing::Call<'_, Box<dyn Error>> = &mut || {
                    let y = ctx.apply(act, &x)?;
                    wait(ctx)?;
                    drop(y);
                    Ok(())
                };
                let kernel: &mut api_timing::Call<'_, Box<dyn Error>> =
                    &mut || kernel_alone(ctx, act, &x, &out, n);
                let [apply, kernel] = api_timing::time_in_turns([apply, kernel])?;
                // The bare name where the parameters are the defaults both
                // libraries share, so that rows match the Burn peer's.
                let op = if Activation::ALL.contains(&act) {
                    act.name().to_string()
                } else {
                    act.to_string()
                };
                for (api, timing) in [("apply", apply), ("kernel", kernel)] {
                    let row = api_timing::Row {
                        op: op.clone(),
                        n,
                        api,
                        timing,
                    };
                    if !options.json {
                        progress.suspend(|| api_timing::print_row(&row));
                    }
                    rows.push(row);
                }
                progress.inc(1);
            }
        }
        reports.push(api_timing::Report {
            adapter: ctx.adapter_name(),
            backend,
            detail,
            rows,
        });
    }
    options.progress.finish();
    if options.json {
        println!("{}", api_timing::json("wgpu-activations", &reports));
    }
    Ok(())
}

// ---------------------------------------------------------------- run

/// Runs the benchmark `args` asks for, printing the tables (or JSON) on
/// stdout and a progress bar on stderr.
pub fn run(args: &BenchArgs) -> Res<()> {
    let filter = args.adapter.as_ref().map(|a| a.to_lowercase());
    // `--api`: wall time only, no timestamp queries on these devices.
    let mut benches = open_adapters(filter.as_deref(), args.wall || args.api)?;
    // Each named tier in turn (each dtype's default where none is named).
    let tiers: Vec<Option<Precision>> = if args.precision.is_empty() {
        vec![None]
    } else {
        args.precision.iter().copied().map(Some).collect()
    };
    let options = Options::of(args, benches.len() * tiers.len());
    let bases: Vec<Context> = benches.iter().map(|b| b.ctx.clone()).collect();
    let at = |benches: &mut [Bench], tier: Option<Precision>| {
        for (bench, base) in benches.iter_mut().zip(&bases) {
            bench.ctx = tier.map_or_else(|| base.clone(), |p| base.with_precision(p));
            bench.tier = tier;
        }
    };
    if options.api {
        for &tier in &tiers {
            at(&mut benches, tier);
            run_api(&benches, &options)?;
        }
        return Ok(());
    }
    let mut reports = Vec::new();
    for &tier in &tiers {
        at(&mut benches, tier);
        for bench in &benches {
            reports.push(run_adapter(bench, &options)?);
        }
    }
    drop(options.progress);
    if options.json {
        println!("{}", json(&reports));
    }
    Ok(())
}
