//! `wgpu-activations accuracy` (and `examples/accuracy.rs`, which includes
//! this file with `#[path]` and runs it): the accuracy sweep over f32 bit
//! patterns: every op, forward and derivative (and backward with
//! `--backward`), on every adapter, against the f64 CPU reference.
//!
//! ```sh
//! wgpu-activations accuracy                       # every 2^10-th bit pattern (4,194,304 inputs)
//! wgpu-activations accuracy --stride-log2 16      # every 2^16-th (65,536 inputs)
//! wgpu-activations accuracy --exhaustive          # all 2^32 bit patterns
//! wgpu-activations accuracy --adapter vulkan --ops gelu,leaky_relu(0.2) --backward
//! wgpu-activations accuracy --browser             # Chromium's WebGPU (Tint, SwiftShader) too
//! wgpu-activations accuracy --json                # machine-readable, on stdout
//! wgpu-activations accuracy --markdown-out accuracy.md
//! wgpu-activations accuracy --half                # every f16 and bf16 pattern instead
//! wgpu-activations accuracy --naive --stride-log2 8  # the bench's naive built-in kernels instead
//! wgpu-activations accuracy --within 10           # only the inputs in [-10, 10] (the bench's range)
//! ```
//!
//! (`cargo run --release --example accuracy -- ARGS` runs the same.)
//!
//! # Inputs
//!
//! Input `i` has the raw bits `i << K` (`K` = `--stride-log2`, 10 by default,
//! 0 with `--exhaustive`): the sweep walks the bit patterns in order, so it
//! covers both signs, both zeros, subnormals, every binade, the infinities and
//! NaNs in proportion to how many bit patterns they have. The GPU gets the
//! inputs in calls of 2^22 elements (16 MiB per buffer), so memory stays
//! bounded even for `--exhaustive`; the judging runs on every CPU core.
//!
//! # The error measure
//!
//! As defined in SEMANTICS.md, section "Accuracy", and implemented by
//! [`wgpu_activations::accuracy::judge`]: take the f64 reference (std/libm
//! math, PyTorch's kink rules), round it to f32, count the ULPs between it and
//! the GPU's result, and divide by `1 + κ`, where `κ = |x·g'(x)/g(x)|` is the
//! condition number of the quantity `g` computed (`g = f` for the forward,
//! `g = f'` for the derivative and backward). Where the reference is below
//! 2^-126 a result is right when it is zero or tiny with the right sign
//! (backends may flush subnormals). As SEMANTICS.md asks, the plain ULP
//! figure (max and mean) is reported beside the scaled one.
//!
//! A result that breaks a SEMANTICS.md rule (NaN lost, NaN invented, wrong
//! limit at ±inf, wrong signed zero) gets no ULP figure; it is counted by
//! kind in the "rules broken" columns instead.
//!
//! Targets (SEMANTICS.md): piecewise-linear ops bit-exact (0 ULP); smooth ops
//! at most 2 scaled ULPs forward and 4 derivative (backward: 5, the
//! derivative's 4 plus the rounding of `grad_output * f'(x)`). A row PASSes
//! when no rule is broken and its error is within the target.
//!
//! # Options
//!
//! - `--stride-log2 K`: sweep every 2^K-th bit pattern (0..=32).
//! - `--exhaustive`: all 2^32 bit patterns (same as `--stride-log2 0`).
//! - `--adapter SUBSTRING`: only adapters whose name or backend contains it
//!   (case-insensitive); `WGPU_BACKEND` / `WGPU_ADAPTER_NAME` apply as well.
//! - `--browser`: also run the portable kernels in a headless Chromium's
//!   WebGPU (`wgpu_activations::browser`; backend "WebGPU", so
//!   `--browser --adapter webgpu` runs only there), judged as
//!   `Browser::subnormals` says (a zero's result accepted for a subnormal
//!   input where the device flushes them, as SEMANTICS.md allows).
//! - `--ops LIST`: comma-separated activations as `str::parse::<Activation>`
//!   reads them (`gelu,leaky_relu(0.2),softplus(beta=2, threshold=10)`);
//!   default `Activation::ALL`.
//! - `--backward`: also sweep the backward (with a `grad_output` in [-4, 4)
//!   hashed from each input's bits).
//! - `--json`: print JSON instead of the Markdown table.
//! - `--markdown-out FILE`: also write the Markdown table to FILE.
//! - `--half`: instead of the f32 sweep, every one of the 65,536 f16 and
//!   65,536 bf16 bit patterns through every op (`--ops`) in every mode, on
//!   every adapter and f16 path (WGSL f16 where the device has it, and u32
//!   words), judged against the reference rounded once to the type
//!   ([`wgpu_activations::accuracy::sweep_half`]): a Markdown table of the
//!   worst ULPs and the results 1 ULP off, per op, mode and column.
//! - `--naive`: instead of this crate's kernels, the bench's naive kernels
//!   (`shaders/baselines.wgsl`, forwards written with WGSL built-ins, the
//!   bench's "vs naive" column) on every wgpu adapter, forward only, judged
//!   the same way: what their speed costs in accuracy and in the
//!   SEMANTICS.md rules. `--ops` defaults to the ops that have one.
//! - `--within A`: only the swept inputs x with |x| <= A (no infinities or
//!   NaNs), e.g. the bench's [-10, 10].
//!
//! The Markdown report ends with a summary: one row per op and mode, one
//! column per implementation, worst scaled ULPs with the plain maximum in
//! brackets.
//!
//! A progress bar goes to stderr where it is a terminal (`progress.rs`).

use std::error::Error;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use wgpu_activations::accuracy::{
    self, SWEEP_CHUNK, Subnormals, SweepStats, strided_chunk, strided_len, sweep_with, target_at,
};
use wgpu_activations::browser::Browser;
use wgpu_activations::{Activation, Context, Mode, Precision};

use super::args::{OpList, no_adapter_matches, parse_ops};
use super::baselines::{Baselines, naive_activations};
use super::json::json_string;
use super::progress::Progress;

/// Sweeps f32 bit patterns through every op on every adapter and reports
/// the error in ULPs against the f64 reference, with the targets of
/// SEMANTICS.md.
#[derive(clap::Parser)]
#[command(name = "accuracy")]
pub struct AccuracyArgs {
    /// Sweep every 2^K-th f32 bit pattern.
    #[arg(long, value_name = "K", default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=32))]
    stride_log2: u32,
    /// All 2^32 bit patterns (--stride-log2 0).
    #[arg(long, conflicts_with = "stride_log2")]
    exhaustive: bool,
    /// Only adapters whose name or backend contains TEXT (case-insensitive); WGPU_BACKEND and
    /// WGPU_ADAPTER_NAME apply as well.
    #[arg(long, value_name = "TEXT")]
    adapter: Option<String>,
    /// Activations, comma-separated, e.g. gelu,leaky_relu(0.2) [default: all].
    #[arg(long, value_parser = parse_ops)]
    ops: Option<OpList>,
    /// Also sweep the backward (grad_output in [-4, 4) hashed from each input's bits).
    #[arg(long)]
    backward: bool,
    /// Also run the portable kernels in a headless Chromium's WebGPU (backend "WebGPU").
    #[arg(long)]
    browser: bool,
    /// JSON on stdout instead of the Markdown table.
    #[arg(long)]
    json: bool,
    /// Also write the Markdown table to FILE.
    #[arg(long, value_name = "FILE")]
    markdown_out: Option<String>,
    /// Instead of the f32 sweep, every f16 and bf16 bit pattern through every op in every
    /// mode, on every adapter and f16 path.
    #[arg(long)]
    half: bool,
    /// Instead of this crate's kernels, the bench's naive built-in kernels (forward only;
    /// --ops defaults to the ops that have one).
    #[arg(long, conflicts_with_all = ["half", "browser", "backward"])]
    naive: bool,
    /// Only the swept inputs x with |x| <= A (e.g. 10, the bench's range).
    #[arg(long, value_name = "A", conflicts_with = "half")]
    within: Option<f32>,
    /// The precision tier swept and judged, `fast` (targets 4 / 8 / 8 scaled ULPs) or
    /// `precise` (2 / 4 / 5) [default: precise; with --half, each dtype's default, fast].
    #[arg(long, conflicts_with = "naive")]
    precision: Option<Precision>,
}

/// The arguments resolved.
struct Options {
    stride_log2: u32,
    adapter: Option<String>,
    ops: Vec<Activation>,
    backward: bool,
    browser: bool,
    json: bool,
    markdown_out: Option<String>,
    half: bool,
    naive: bool,
    within: Option<f32>,
    precision: Option<Precision>,
}

impl Options {
    fn of(args: &AccuracyArgs) -> Options {
        Options {
            stride_log2: if args.exhaustive { 0 } else { args.stride_log2 },
            adapter: args.adapter.as_ref().map(|a| a.to_lowercase()),
            ops: match (&args.ops, args.naive) {
                (Some(list), _) => list.0.clone(),
                (None, true) => naive_activations(),
                (None, false) => Activation::ALL.to_vec(),
            },
            backward: args.backward,
            browser: args.browser,
            json: args.json,
            markdown_out: args.markdown_out.clone(),
            half: args.half,
            naive: args.naive,
            within: args.within,
            precision: args.precision,
        }
    }
}

/// Where the kernels run: a wgpu adapter, or a browser's WebGPU.
enum Implementation {
    Wgpu(Context),
    Browser(Box<Browser>),
    /// The bench's naive kernels on a wgpu adapter (`--naive`).
    Naive(Context, Box<Baselines>),
}

impl Implementation {
    fn adapter(&self) -> String {
        match self {
            Implementation::Wgpu(ctx) | Implementation::Naive(ctx, _) => ctx.adapter_name(),
            Implementation::Browser(b) => {
                let version = b
                    .user_agent()
                    .split_whitespace()
                    .find(|w| w.starts_with("HeadlessChrome/") || w.starts_with("Chrome/"))
                    .unwrap_or("Chromium");
                format!("{version} ({})", b.adapter())
            }
        }
    }

    fn backend(&self) -> String {
        match self {
            Implementation::Wgpu(ctx) => format!("{:?}", ctx.backend()),
            Implementation::Naive(ctx, _) => format!("{:?}, naive kernels", ctx.backend()),
            Implementation::Browser(_) => "WebGPU".into(),
        }
    }

    fn subnormals(&self) -> Subnormals {
        match self {
            Implementation::Wgpu(_) | Implementation::Naive(..) => Subnormals::Kept,
            Implementation::Browser(b) => b.subnormals(),
        }
    }

    fn run(
        &self,
        act: Activation,
        mode: Mode,
        x: &[f32],
        grad: &[f32],
    ) -> Result<Vec<f32>, wgpu_activations::Error> {
        match (self, mode) {
            (Implementation::Wgpu(ctx), Mode::Forward) => ctx.forward(act, x),
            (Implementation::Wgpu(ctx), Mode::Derivative) => ctx.derivative(act, x),
            (Implementation::Wgpu(ctx), Mode::Backward) => ctx.backward(act, x, grad),
            (Implementation::Browser(b), _) => b.run(act, mode, x, grad),
            // `run` admits only the forward and ops with a naive kernel.
            (Implementation::Naive(ctx, kernels), _) => {
                let pipeline = kernels
                    .naive_of(&act)
                    .expect("run checked that every op has a naive kernel");
                kernels.run_naive(ctx, pipeline, x)
            }
        }
    }
}

/// One row of the report.
struct Row {
    adapter: String,
    backend: String,
    act: Activation,
    mode: Mode,
    /// The tier the results were computed at and are judged for.
    precision: Precision,
    stats: SweepStats,
}

impl Row {
    fn target(&self) -> Option<f64> {
        target_at(self.act, self.mode, self.precision)
    }

    fn meets_target(&self) -> bool {
        self.stats
            .meets_target_at(self.act, self.mode, self.precision)
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Forward => "forward",
        Mode::Derivative => "derivative",
        Mode::Backward => "backward",
    }
}

fn target_text(row: &Row) -> String {
    match row.target() {
        None => "0 ULP (bit-exact)".into(),
        Some(limit) => format!("≤ {limit} scaled"),
    }
}

/// `x` for the "at x" columns: "–" when the error is 0 everywhere.
fn at_text(error: f64, x: f32) -> String {
    if error > 0.0 {
        format!("{x:e}")
    } else {
        "–".into()
    }
}

fn describe_inputs(stride_log2: u32, within: Option<f32>) -> String {
    let n = strided_len(stride_log2);
    let swept = if stride_log2 == 0 {
        format!("all 2^32 f32 bit patterns ({n} inputs)")
    } else {
        format!("every 2^{stride_log2}-th f32 bit pattern ({n} inputs)")
    };
    match within {
        Some(bound) => format!("{swept}, those in [-{bound}, {bound}] only"),
        None => swept,
    }
}

fn markdown(rows: &[Row], stride_log2: u32, within: Option<f32>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Inputs: {}; error in ULPs against the f64 reference rounded to f32, \
         scaled = ULPs / (1 + κ) (SEMANTICS.md, \"Accuracy\"); precision tier: {}.\n",
        describe_inputs(stride_log2, within),
        rows.first().map_or(Precision::Precise, |r| r.precision)
    );
    out.push_str(
        "| adapter | backend | op | mode | max scaled ULP | at x | max ULP | at x | mean ULP \
         | rules broken | NaN lost | NaN invented | wrong limit | wrong ±0 | target | result |\n",
    );
    out.push_str("|---|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|\n");
    for row in rows {
        let w = &row.stats.worst;
        let r = &row.stats.rules;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.3} | {} | {} | {} | {:.4} | {} | {} | {} | {} | {} | {} | {} |",
            row.adapter,
            row.backend,
            row.act,
            mode_name(row.mode),
            w.scaled,
            at_text(w.scaled, w.scaled_at),
            w.ulps,
            at_text(w.ulps, w.ulps_at),
            w.mean_ulps(),
            r.total(),
            r.nan_lost,
            r.nan_invented,
            r.wrong_limit,
            r.wrong_signed_zero,
            target_text(row),
            if row.meets_target() {
                "PASS"
            } else {
                "**MISS**"
            }
        );
    }
    out
}

/// One row per op and mode, one column per implementation: worst scaled
/// ULPs with the plain maximum in brackets ("bit-exact" for 0), a miss in
/// bold.
fn summary(rows: &[Row]) -> String {
    let mut columns: Vec<(String, String)> = Vec::new();
    for row in rows {
        let key = (row.adapter.clone(), row.backend.clone());
        if !columns.contains(&key) {
            columns.push(key);
        }
    }
    let mut out = String::from("\n| op | mode |");
    for (adapter, backend) in &columns {
        let _ = write!(out, " {adapter} ({backend}) |");
    }
    out.push_str("\n|---|---|");
    out.push_str(&"--:|".repeat(columns.len()));
    out.push('\n');
    let mut seen: Vec<(String, Mode)> = Vec::new();
    for row in rows {
        let key = (row.act.to_string(), row.mode);
        if seen.contains(&key) {
            continue;
        }
        seen.push(key);
        let _ = write!(out, "| {} | {} |", row.act, mode_name(row.mode));
        for (adapter, backend) in &columns {
            let cell = rows.iter().find(|r| {
                &r.adapter == adapter
                    && &r.backend == backend
                    && r.act.to_string() == row.act.to_string()
                    && r.mode == row.mode
            });
            let text = match cell {
                None => "–".to_string(),
                Some(r) => {
                    let w = &r.stats.worst;
                    let figure = if w.ulps == 0.0 && r.stats.rules.total() == 0 {
                        "bit-exact".to_string()
                    } else {
                        format!("{:.2} ({})", w.scaled, w.ulps)
                    };
                    if r.meets_target() {
                        figure
                    } else {
                        format!("**{figure}, {} rules broken**", r.stats.rules.total())
                    }
                }
            };
            let _ = write!(out, " {text} |");
        }
        out.push('\n');
    }
    out
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v:?}")
    } else {
        "null".into()
    }
}

fn json_sample(sample: Option<accuracy::Sample>, act: Activation, mode: Mode) -> String {
    match sample {
        None => "null".into(),
        Some(s) => {
            let want = s.want(act, mode);
            format!(
                "{{\"x\": {}, \"x_bits\": \"{:#010x}\", \"grad_output\": {}, \"got\": {}, \"got_bits\": \"{:#010x}\", \"want\": {}, \"want_bits\": \"{:#010x}\", \"ulps\": {}, \"scaled\": {}{}}}",
                json_number(f64::from(s.x)),
                s.x.to_bits(),
                json_number(f64::from(s.grad_output)),
                json_number(f64::from(s.got)),
                s.got.to_bits(),
                json_number(f64::from(want)),
                want.to_bits(),
                json_number(s.judgement.ulps),
                json_number(s.judgement.scaled),
                s.judgement
                    .broken_rule
                    .map(|r| format!(", \"rule\": {}", json_string(&r.to_string())))
                    .unwrap_or_default()
            )
        }
    }
}

fn json(rows: &[Row], stride_log2: u32, within: Option<f32>, seconds: f64) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "{{\n  \"stride_log2\": {stride_log2},\n  \"inputs\": {},\n  \"within\": {},\n  \"wall_seconds\": {:.1},\n  \"results\": [",
        strided_len(stride_log2),
        within.map_or("null".to_string(), |b| json_number(f64::from(b))),
        seconds
    );
    for (i, row) in rows.iter().enumerate() {
        let w = &row.stats.worst;
        let r = &row.stats.rules;
        let (act, mode) = (row.act, row.mode);
        let _ = write!(
            out,
            "{}\n    {{\"adapter\": {}, \"backend\": {}, \"op\": {}, \"mode\": \"{}\", \
             \"precision\": \"{}\", \"count\": {}, \"max_scaled_ulps\": {}, \"max_scaled_at\": {}, \"max_ulps\": {}, \
             \"max_ulps_at\": {}, \"mean_ulps\": {}, \"rules_broken\": {{\"total\": {}, \
             \"nan_lost\": {}, \"nan_invented\": {}, \"wrong_limit\": {}, \"wrong_signed_zero\": {}}}, \
             \"target_scaled_ulps\": {}, \"bit_exact\": {}, \"pass\": {}, \
             \"worst_scaled\": {}, \"worst_ulps\": {}, \"first_broken\": {}}}",
            if i == 0 { "" } else { "," },
            json_string(&row.adapter),
            json_string(&row.backend),
            json_string(&act.to_string()),
            mode_name(mode),
            row.precision,
            w.count,
            json_number(w.scaled),
            json_number(f64::from(w.scaled_at)),
            json_number(w.ulps),
            json_number(f64::from(w.ulps_at)),
            json_number(w.mean_ulps()),
            r.total(),
            r.nan_lost,
            r.nan_invented,
            r.wrong_limit,
            r.wrong_signed_zero,
            row.target().map_or("null".into(), json_number),
            row.target().is_none(),
            row.meets_target(),
            json_sample(row.stats.worst_scaled, act, mode),
            json_sample(row.stats.worst_ulps, act, mode),
            json_sample(row.stats.first_broken, act, mode),
        );
    }
    out.push_str("\n  ]\n}\n");
    out
}

fn hms(d: Duration) -> String {
    let s = d.as_secs();
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Sweeps every op and mode on one implementation, advancing `progress` by
/// one unit per input.
fn sweep_adapter(
    imp: &Implementation,
    options: &Options,
    modes: &[Mode],
    progress: &Progress,
) -> Result<Vec<Row>, wgpu_activations::Error> {
    let label = format!("{} ({})", imp.adapter(), imp.backend());
    let n = strided_len(options.stride_log2);
    let start = Instant::now();
    let mut rows = Vec::new();
    progress.eprintln(format_args!(
        "[{label}] sweeping {}",
        describe_inputs(options.stride_log2, options.within)
    ));
    for &act in &options.ops {
        for &mode in modes {
            progress.set_message(format_args!("{label}: {act} {}", mode_name(mode)));
            let mut stats = SweepStats::default();
            let mut first = 0u64;
            while first < n {
                let mut x = strided_chunk(options.stride_log2, first, SWEEP_CHUNK);
                let swept = x.len() as u64;
                if let Some(bound) = options.within {
                    x.retain(|v| v.abs() <= bound);
                }
                if !x.is_empty() {
                    let run = |x: &[f32], grad: &[f32]| imp.run(act, mode, x, grad);
                    stats.merge(&sweep_with(act, mode, &x, imp.subnormals(), run)?);
                }
                first += swept;
                progress.inc(swept);
            }
            rows.push(Row {
                adapter: imp.adapter(),
                backend: imp.backend(),
                act,
                mode,
                precision: options.precision.unwrap_or_default(),
                stats,
            });
        }
    }
    progress.eprintln(format_args!("[{label}] done in {}", hms(start.elapsed())));
    Ok(rows)
}

/// Runs the sweep `args` asks for: the report on stdout (Markdown or JSON),
/// a progress bar on stderr.
pub fn run(args: &AccuracyArgs) -> Result<(), Box<dyn Error>> {
    let options = Options::of(args);
    if options.half {
        return run_half(&options);
    }
    let started = Instant::now();
    if let Some(bound) = options.within
        && (bound.is_nan() || bound < 0.0)
    {
        return Err(format!("--within needs a bound of 0 or more, not {bound}").into());
    }
    if options.naive {
        let naive = naive_activations();
        let without: Vec<String> = options
            .ops
            .iter()
            .filter(|act| !naive.contains(act))
            .map(|act| act.to_string())
            .collect();
        if !without.is_empty() {
            let with: Vec<&str> = naive.iter().map(|act| act.name()).collect();
            return Err(format!(
                "--naive: no naive kernel for {} (there is one for {}, default parameters)",
                without.join(", "),
                with.join(", ")
            )
            .into());
        }
    }
    let mut implementations: Vec<Implementation> = Context::all_adapters()?
        .into_iter()
        .map(|ctx| {
            if options.naive {
                let kernels = Box::new(Baselines::new(ctx.device()));
                Implementation::Naive(ctx, kernels)
            } else {
                let tier = options.precision.unwrap_or_default();
                Implementation::Wgpu(ctx.with_precision(tier))
            }
        })
        .collect();
    if options.browser {
        let mut browser = Browser::launch()?;
        browser.set_precision(options.precision.unwrap_or_default());
        implementations.push(Implementation::Browser(Box::new(browser)));
    }
    let found: Vec<String> = implementations
        .iter()
        .map(|imp| format!("{} ({})", imp.adapter(), imp.backend()))
        .collect();
    implementations.retain(|imp| match &options.adapter {
        None => true,
        Some(wanted) => {
            imp.adapter().to_lowercase().contains(wanted)
                || imp.backend().to_lowercase().contains(wanted)
        }
    });
    if implementations.is_empty() {
        let wanted = options.adapter.as_deref().unwrap_or_default();
        return Err(no_adapter_matches(wanted, &found).into());
    }
    let mut modes = vec![Mode::Forward];
    if !options.naive {
        modes.push(Mode::Derivative);
    }
    if options.backward {
        modes.push(Mode::Backward);
    }

    let inputs = strided_len(options.stride_log2);
    let progress = Progress::new(
        implementations.len() as u64 * inputs * (options.ops.len() * modes.len()) as u64,
    );
    let mut rows = Vec::new();
    for imp in &implementations {
        rows.extend(sweep_adapter(imp, &options, &modes, &progress)?);
    }
    drop(progress);
    let elapsed = started.elapsed();

    let table = markdown(&rows, options.stride_log2, options.within) + &summary(&rows);
    if let Some(path) = &options.markdown_out {
        std::fs::write(path, &table)?;
        eprintln!("wrote {path}");
    }
    if options.json {
        print!(
            "{}",
            json(
                &rows,
                options.stride_log2,
                options.within,
                elapsed.as_secs_f64()
            )
        );
    } else {
        print!("{table}");
        let misses: Vec<String> = rows
            .iter()
            .filter(|r| !r.meets_target())
            .map(|r| {
                let worst = match r.target() {
                    None => r.stats.worst_ulps,
                    Some(_) => r.stats.worst_scaled,
                };
                let sample = r.stats.first_broken.or(worst);
                format!(
                    "- {} ({}) {} {}: {}",
                    r.adapter,
                    r.backend,
                    r.act,
                    mode_name(r.mode),
                    sample.map_or("?".into(), |s| s.describe(r.act, r.mode))
                )
            })
            .collect();
        if misses.is_empty() {
            println!("\nEvery op meets its target.");
        } else {
            println!("\nMissed targets (worst input):\n{}", misses.join("\n"));
        }
    }
    eprintln!("wall time {}", hms(elapsed));
    Ok(())
}

/// `--half`: the exhaustive f16 and bf16 sweep, one column per adapter,
/// dtype and f16 path; each cell the worst ULP and how many of the 65,536
/// results are 1 ULP off (a cell with wrong results says so).
fn run_half(options: &Options) -> Result<(), Box<dyn Error>> {
    use wgpu_activations::accuracy::sweep_half_at;
    use wgpu_activations::{Dtype, Kernels, Tuning};
    let started = Instant::now();
    let mut columns: Vec<(String, Context, Kernels, Dtype)> = Vec::new();
    let mut found = Vec::new();
    for ctx in Context::all_adapters()? {
        let name = format!("{} ({:?})", ctx.adapter_name(), ctx.backend());
        found.push(name.clone());
        if let Some(wanted) = &options.adapter
            && !name.to_lowercase().contains(wanted)
        {
            continue;
        }
        let base = ctx.kernels().tuning();
        let mut f16_paths = Vec::new();
        for shader_f16 in [false, true] {
            let kernels = Kernels::with_tuning(ctx.device(), Tuning { shader_f16, ..base });
            let storage = kernels.storage(Dtype::F16);
            if !f16_paths.contains(&storage) {
                f16_paths.push(storage);
                columns.push((
                    format!("{name} f16 {storage:?}"),
                    ctx.clone(),
                    kernels,
                    Dtype::F16,
                ));
            }
        }
        let kernels = Kernels::with_tuning(ctx.device(), base);
        columns.push((format!("{name} bf16"), ctx, kernels, Dtype::Bf16));
    }
    if columns.is_empty() {
        let wanted = options.adapter.as_deref().unwrap_or_default();
        return Err(no_adapter_matches(wanted, &found).into());
    }
    let mut table = String::from("| op | mode |");
    for (label, ..) in &columns {
        let _ = write!(table, " {label} |");
    }
    table.push_str("\n|---|---|");
    table.push_str(&"--:|".repeat(columns.len()));
    table.push('\n');
    let mut wrong_total = 0u64;
    let progress = Progress::new((options.ops.len() * Mode::ALL.len() * columns.len()) as u64);
    for &act in &options.ops {
        for mode in Mode::ALL {
            let _ = write!(table, "| {act} | {} |", mode.entry_point());
            for (label, ctx, kernels, dtype) in &columns {
                progress.set_message(format_args!("{label}: {act} {}", mode_name(mode)));
                let tier = options
                    .precision
                    .unwrap_or_else(|| Precision::default_for(*dtype));
                let stats = match dtype {
                    Dtype::F16 => sweep_half_at::<half::f16>(ctx, kernels, act, mode, tier)?,
                    _ => sweep_half_at::<half::bf16>(ctx, kernels, act, mode, tier)?,
                };
                wrong_total += stats.wrong;
                for example in &stats.examples {
                    progress.eprintln(format_args!("{act} {mode:?} on {label}: {example}"));
                }
                progress.inc(1);
                let cell = if stats.wrong > 0 {
                    format!("**{} wrong**", stats.wrong)
                } else {
                    format!(
                        "{} ({:.2}%)",
                        stats.worst_ulps,
                        100.0 * stats.one_ulp_off as f64 / stats.count as f64
                    )
                };
                let _ = write!(table, " {cell} |");
            }
            table.push('\n');
        }
    }
    drop(progress);
    println!("{table}");
    println!(
        "(worst ULP against the f64 reference rounded once to the type, and the share of \
         results 1 ULP off; every 16-bit pattern, {} results wrong in all, {:.1} s)",
        wrong_total,
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = &options.markdown_out {
        std::fs::write(path, &table)?;
    }
    Ok(())
}
