//! Soak run: many small calls and many large ones in a loop, on every
//! adapter, watching what a long-running program cares about: the process's
//! resident memory (RSS), the GPU buffers the context creates (its pool's
//! counters) and, where wgpu's allocator reports it, the GPU memory
//! allocated.
//!
//! ```sh
//! cargo run --release --example soak                      # 100,000 small calls, 200 of 2^24
//! cargo run --release --example soak -- --small 10000 --big 20 --adapter vulkan
//! ```
//!
//! Small calls are host-slice `forward`s of 1,024 f32 (a new `Vec` per call,
//! dropped), cycling through forward, derivative and backward of a few ops.
//! Large calls alternate a host-slice `forward_into` of 2^24 f32 into one
//! reused output and a resident `apply` + `read` of 2^24. After a warm-up
//! (which fills the pool), RSS, the pool's buffer count and the allocator's
//! bytes are sampled ten times per phase; a phase passes when RSS ends within
//! 10% of where it began (plus 4 MiB for the allocator's own noise) and no
//! GPU buffer was created after the warm-up. Exit status 1 if any phase fails.

use std::error::Error;
use std::time::Instant;

use wgpu_activations::{Activation, Context, Mode};

type Res<T> = Result<T, Box<dyn Error>>;

/// Resident set size of this process in bytes (Linux: /proc/self/statm).
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1 << 20) as f64
}

struct Sample {
    rss: u64,
    created: u64,
    allocated: Option<u64>,
}

fn sample(ctx: &Context) -> Sample {
    Sample {
        rss: rss_bytes(),
        created: ctx.pool_stats().created,
        allocated: ctx
            .device()
            .generate_allocator_report()
            .map(|r| r.total_allocated_bytes),
    }
}

/// Runs `calls` calls of `call(i)`, sampling ten times; prints a row and
/// returns whether the phase passed.
fn phase(
    ctx: &Context,
    name: &str,
    calls: usize,
    mut call: impl FnMut(usize) -> Res<()>,
) -> Res<bool> {
    let start = sample(ctx);
    let mut max_rss = start.rss;
    let mut max_allocated = start.allocated;
    let started = Instant::now();
    let every = (calls / 10).max(1);
    for i in 0..calls {
        call(i)?;
        if (i + 1) % every == 0 {
            let s = sample(ctx);
            max_rss = max_rss.max(s.rss);
            max_allocated = max_allocated.max(s.allocated);
        }
    }
    let end = sample(ctx);
    let seconds = started.elapsed().as_secs_f64();
    let rss_ok = end.rss as f64 <= start.rss as f64 * 1.10 + 4.0 * (1 << 20) as f64;
    let pool_ok = end.created == start.created;
    let allocated = match (start.allocated, end.allocated, max_allocated) {
        (Some(a), Some(b), Some(m)) => {
            format!("{:.1} -> {:.1} (max {:.1})", mib(a), mib(b), mib(m))
        }
        _ => "not reported".to_string(),
    };
    println!(
        "{name:<34} {calls:>7} calls {seconds:>7.1} s  RSS {:>7.1} -> {:>7.1} MiB (max {:>7.1}, {:+.1}%)  \
         buffers created {} -> {}  GPU allocator MiB {allocated}  {}",
        mib(start.rss),
        mib(end.rss),
        mib(max_rss),
        (end.rss as f64 / start.rss.max(1) as f64 - 1.0) * 100.0,
        start.created,
        end.created,
        if rss_ok && pool_ok { "PASS" } else { "FAIL" },
    );
    Ok(rss_ok && pool_ok)
}

fn main() -> Res<()> {
    let mut small = 100_000usize;
    let mut big = 200usize;
    let mut adapter: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--small" => small = args.next().ok_or("--small N")?.parse()?,
            "--big" => big = args.next().ok_or("--big N")?.parse()?,
            "--adapter" => adapter = Some(args.next().ok_or("--adapter TEXT")?.to_lowercase()),
            "-h" | "--help" => {
                println!(
                    "usage: cargo run --release --example soak -- [--small N] [--big N] [--adapter TEXT]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown option {other}").into()),
        }
    }
    let mut all_ok = true;
    for ctx in Context::all_adapters()? {
        let label = format!("{} ({:?})", ctx.adapter_name(), ctx.backend());
        if let Some(wanted) = &adapter
            && !label.to_lowercase().contains(wanted)
        {
            continue;
        }
        println!("== {label}");
        let ops = [
            Activation::Gelu,
            Activation::Silu,
            Activation::Relu,
            Activation::Tanh,
        ];
        let modes = [Mode::Forward, Mode::Derivative, Mode::Backward];
        let x_small: Vec<f32> = (0..1024).map(|i| i as f32 * 0.01 - 5.0).collect();
        let n = 1 << 24;
        let x_big: Vec<f32> = (0..n).map(|i| (i % 2001) as f32 * 0.005 - 5.0).collect();
        let mut out_big = vec![0.0f32; n];
        let t_big = ctx.upload(&x_big)?;
        let small_call = |i: usize| -> Res<()> {
            let act = ops[i % ops.len()];
            let y = match modes[(i / ops.len()) % 3] {
                Mode::Forward => ctx.forward(act, &x_small)?,
                Mode::Derivative => ctx.derivative(act, &x_small)?,
                Mode::Backward => ctx.backward(act, &x_small, &x_small)?,
            };
            assert_eq!(y.len(), x_small.len());
            Ok(())
        };
        let mut big_call = |i: usize| -> Res<()> {
            if i.is_multiple_of(2) {
                ctx.forward_into(Activation::Gelu, &x_big, &mut out_big)?;
            } else {
                let y = ctx.apply(Activation::Silu, &t_big)?;
                assert_eq!(ctx.read(&y)?.len(), n);
            }
            Ok(())
        };
        // Warm-up: the pool fills with what the loops will reuse.
        for i in 0..(3 * ops.len() * 4) {
            small_call(i)?;
        }
        for i in 0..4 {
            big_call(i)?;
        }
        all_ok &= phase(&ctx, "small: host calls of 1,024 f32", small, small_call)?;
        all_ok &= phase(
            &ctx,
            "large: forward_into / apply+read 2^24",
            big,
            &mut big_call,
        )?;
    }
    if !all_ok {
        std::process::exit(1);
    }
    Ok(())
}
