//! Per-call timing of the resident API, shared by `bench --api` (the CLI's
//! and `examples/bench.rs`'s: `bench.rs` beside this file) and the Burn peer
//! (`benches/peers/burn`, which includes this file with `#[path]`), so that
//! both time, and print, in exactly the same way.
//!
//! The statistic is the one a user of either library would see: the median
//! of [`CALLS`] calls, each submitted and waited for and timed by the wall
//! clock on its own, after [`WARMUP_CALLS`] untimed calls (pipeline
//! compilation, Burn's fusion and autotune, first touch of the memory pools).
//! Things measured together are timed call by call in turns
//! ([`time_in_turns`]), so that a noisy spell of the machine lands on all of
//! them. This file depends on nothing but `std` and `json.rs` beside it (which
//! every includer declares as `mod json` next to this one).

#![allow(dead_code)] // each includer uses its own part

use std::time::Instant;

use super::json::json_string;

/// Timed calls per measurement.
pub const CALLS: usize = 21;
/// Untimed calls before them.
pub const WARMUP_CALLS: usize = 5;
/// Element counts measured by default.
pub const DEFAULT_SIZES: [usize; 4] = [1 << 10, 1 << 16, 1 << 20, 1 << 24];
/// Bytes moved per element of an f32 forward (read x, write y).
pub const BYTES_PER_ELEMENT: u64 = 8;

/// The statistic, in words (printed above the table and in the JSON).
pub fn statistic() -> String {
    format!(
        "median of {CALLS} calls, each submitted and waited for (wall clock), \
         after {WARMUP_CALLS} warm-up calls"
    )
}

/// The unary ops both wgpu-activations and Burn 0.22 have, by our names
/// (`Activation::name`), each with PyTorch's default parameters (as in
/// `Activation::ALL`; `threshold` with `threshold=0.1, value=20`), which
/// are also the parameters the Burn peer passes:
/// leaky_relu slope 0.01, elu/celu alpha 1, softplus beta 1 threshold 20,
/// hardsigmoid x/6 + 1/2, hardtanh [-1, 1], soft/hardshrink lambda 0.5.
pub const OPS: [&str; 22] = [
    "relu",
    "sigmoid",
    "tanh",
    "gelu",
    "gelu_tanh",
    "silu",
    "mish",
    "softplus",
    "log_sigmoid",
    "elu",
    "celu",
    "selu",
    "leaky_relu",
    "hardsigmoid",
    "hardswish",
    "softsign",
    "relu6",
    "hardtanh",
    "tanhshrink",
    "softshrink",
    "hardshrink",
    "threshold",
];

/// Deterministic inputs over [-10, 10] (the same as every table of
/// `examples/bench.rs`).
pub fn inputs(n: usize) -> Vec<f32> {
    (0..n).map(|i| (i % 2001) as f32 * 0.01 - 10.0).collect()
}

/// Seconds per call: the median, fastest and slowest of the timed calls.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    pub median: f64,
    pub min: f64,
    pub max: f64,
}

impl Timing {
    fn of(mut seconds: Vec<f64>) -> Timing {
        seconds.sort_by(f64::total_cmp);
        Timing {
            median: seconds[seconds.len() / 2],
            min: seconds[0],
            max: seconds[seconds.len() - 1],
        }
    }
}

/// One synchronous call: submit, wait until done, drop the result.
pub type Call<'a, E> = dyn FnMut() -> Result<(), E> + 'a;

/// [`Timing`] of each of `calls`: [`WARMUP_CALLS`] untimed calls of each,
/// then [`CALLS`] rounds of one timed call of each in turn.
pub fn time_in_turns<E, const K: usize>(
    mut calls: [&mut Call<'_, E>; K],
) -> Result<[Timing; K], E> {
    for call in calls.iter_mut() {
        for _ in 0..WARMUP_CALLS {
            call()?;
        }
    }
    let mut seconds: [Vec<f64>; K] = std::array::from_fn(|_| Vec::with_capacity(CALLS));
    for _ in 0..CALLS {
        for (call, seconds) in calls.iter_mut().zip(seconds.iter_mut()) {
            let start = Instant::now();
            call()?;
            seconds.push(start.elapsed().as_secs_f64());
        }
    }
    Ok(seconds.map(Timing::of))
}

/// One measurement: `api` is `apply` or `kernel` (ours) or `burn`.
#[derive(Clone, Debug)]
pub struct Row {
    pub op: String,
    pub n: usize,
    pub api: &'static str,
    pub timing: Timing,
}

impl Row {
    pub fn bytes(&self) -> u64 {
        BYTES_PER_ELEMENT * self.n as u64
    }
    /// GB/s at the median time.
    pub fn gbps(&self) -> f64 {
        self.bytes() as f64 / self.timing.median / 1e9
    }
}

/// `2^20` for powers of two, the number otherwise.
pub fn size_label(n: usize) -> String {
    if n.is_power_of_two() {
        format!("2^{}", n.trailing_zeros())
    } else {
        n.to_string()
    }
}

/// The lines above one adapter's table (`detail`: versions, driver).
pub fn print_header(tool: &str, adapter: &str, backend: &str, detail: &str) {
    println!("\n== {tool} on {adapter} ({backend})");
    println!("{detail}");
    println!("timing: {}", statistic());
    println!(
        "{:<12}  {:>5}  {:<6}  {:>11}  {:>11}  {:>11}  {:>8}",
        "op", "N", "api", "median ms", "min ms", "max ms", "GB/s"
    );
}

/// One line of the table.
pub fn print_row(row: &Row) {
    println!(
        "{:<12}  {:>5}  {:<6}  {:>11.4}  {:>11.4}  {:>11.4}  {:>8.3}",
        row.op,
        size_label(row.n),
        row.api,
        row.timing.median * 1e3,
        row.timing.min * 1e3,
        row.timing.max * 1e3,
        row.gbps(),
    );
}

fn json_number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

/// One adapter's results.
pub struct Report {
    pub adapter: String,
    pub backend: String,
    /// Free-form details (driver, library version, features).
    pub detail: String,
    pub rows: Vec<Row>,
}

/// The JSON object printed by `--json`: `{"tool", "statistic", "calls",
/// "warmup_calls", "adapters": [{"adapter", "backend", "detail", "rows":
/// [{"op", "n", "api", "bytes", "median_s", "min_s", "max_s", "gbps"}]}]}`.
pub fn json(tool: &str, reports: &[Report]) -> String {
    let adapters: Vec<String> = reports
        .iter()
        .map(|r| {
            let rows: Vec<String> = r
                .rows
                .iter()
                .map(|row| {
                    format!(
                        "{{\"op\": {}, \"n\": {}, \"api\": {}, \"bytes\": {}, \"median_s\": {}, \
                         \"min_s\": {}, \"max_s\": {}, \"gbps\": {}}}",
                        json_string(&row.op),
                        row.n,
                        json_string(row.api),
                        row.bytes(),
                        json_number(row.timing.median),
                        json_number(row.timing.min),
                        json_number(row.timing.max),
                        json_number(row.gbps()),
                    )
                })
                .collect();
            format!(
                "{{\"adapter\": {}, \"backend\": {}, \"detail\": {}, \"rows\": [\n   {}\n  ]}}",
                json_string(&r.adapter),
                json_string(&r.backend),
                json_string(&r.detail),
                rows.join(",\n   ")
            )
        })
        .collect();
    format!(
        "{{\"tool\": {}, \"statistic\": {}, \"calls\": {CALLS}, \"warmup_calls\": {WARMUP_CALLS}, \
         \"bytes_per_element\": {BYTES_PER_ELEMENT},\n \"adapters\": [\n  {}\n ]}}",
        json_string(tool),
        json_string(&statistic()),
        adapters.join(",\n  ")
    )
}

/// `--sizes` values: `1048576`, `1_048_576` or `2^20`.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let clean = text.replace('_', "");
    let size = match clean.split_once('^') {
        Some((base, exp)) => base
            .parse::<usize>()
            .ok()
            .zip(exp.parse::<u32>().ok())
            .and_then(|(b, e)| b.checked_pow(e)),
        None => clean.parse::<usize>().ok(),
    };
    size.filter(|&n| n > 0)
        .ok_or_else(|| format!("bad size {text:?} (e.g. 1048576 or 2^20)"))
}
