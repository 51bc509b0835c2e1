//! `wgpu-activations`: the library's ops on NumPy `.npy` files (and raw
//! little-endian `.f32`) from the command line.
//!
//! ```sh
//! wgpu-activations apply --op gelu --mode backward --input x.npy --grad dy.npy --output dx.npy
//! wgpu-activations apply --op "softplus(beta=2)" --input x.npy --output y.npy --backend gl --dtype bf16
//! wgpu-activations list-ops
//! wgpu-activations adapters
//! wgpu-activations bench --ops relu,gelu --sizes 2^16,2^20 --modes forward
//! wgpu-activations accuracy --ops relu,sigmoid --stride-log2 16
//! ```
//!
//! Errors (a missing file, an unknown op, a dtype other than float32 or
//! float16, shapes of x and dy that differ, a file that is not `.npy`, an
//! adapter that is not there) print one line that says what to do and exit
//! with status 2.
//!
//! `bench` and `accuracy` are the code of this crate's `examples/bench.rs`
//! and `examples/accuracy.rs`, which include `bench.rs`, `accuracy.rs` and
//! the modules they use from this directory with `#[path]`.

mod accuracy;
mod api_timing;
mod args;
mod baselines;
mod bench;
mod json;
mod npy;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use args::parse_op;
use clap::{Parser, Subcommand, ValueEnum};
use half::{bf16, f16};
use npy::Kind;
use progress::Progress;
use std::io::Write;
use wgpu_activations::{Activation, Context, Element, Mode, Precision};

#[derive(Parser)]
#[command(
    name = "wgpu-activations",
    version,
    about = "PyTorch's activations on the GPU, on .npy files"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Applies an op to a .npy (or raw .f32) file: forward, derivative or backward.
    Apply {
        /// The op, as `str::parse::<Activation>` reads it: `gelu`, `leaky_relu(0.2)`,
        /// `softplus(beta=2, threshold=10)`.
        #[arg(long)]
        op: String,
        /// Which kernel: `forward` (f(x)), `derivative` (f'(x)), `backward` (dy * f'(x)).
        #[arg(long, value_enum, default_value = "forward")]
        mode: ModeArg,
        /// x: a .npy file of float32 or float16 (any shape, C or Fortran order) or raw .f32.
        #[arg(long)]
        input: PathBuf,
        /// dy for `--mode backward`, of x's shape.
        #[arg(long)]
        grad: Option<PathBuf>,
        /// Where the result goes (.npy, or .f32 for raw f32), in x's shape.
        #[arg(long)]
        output: PathBuf,
        /// The adapter's backend (default: the best adapter, or WGPU_BACKEND).
        #[arg(long, value_enum)]
        backend: Option<BackendArg>,
        /// The element type computed in (default: the input's). bf16 results are written as
        /// float32 (exactly: .npy has no bfloat16).
        #[arg(long, value_enum)]
        dtype: Option<DtypeArg>,
        /// The precision tier, `fast` or `precise` (default: precise for f32, fast for f16 and
        /// bf16).
        #[arg(long)]
        precision: Option<Precision>,
    },
    /// Lists every op: name, parameters with their defaults, formula.
    ListOps,
    /// Lists the adapters this machine offers, with the features and limits that matter here.
    Adapters,
    /// Measures throughput (GB/s) of the kernels on every adapter against copy kernels and the
    /// naive WGSL built-in of each op, in the same run.
    Bench(bench::BenchArgs),
    /// Sweeps f32 (or with --half, every f16 and bf16) bit patterns through the ops on every
    /// adapter and reports the ULP error against the f64 reference, with SEMANTICS.md's targets.
    Accuracy(accuracy::AccuracyArgs),
}

#[derive(Clone, Copy, ValueEnum)]
enum ModeArg {
    Forward,
    Derivative,
    Backward,
}

#[derive(Clone, Copy, ValueEnum)]
enum BackendArg {
    Vulkan,
    Gl,
    Metal,
    Dx12,
}

#[derive(Clone, Copy, PartialEq, ValueEnum)]
enum DtypeArg {
    F32,
    F16,
    Bf16,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Apply {
            op,
            mode,
            input,
            grad,
            output,
            backend,
            dtype,
            precision,
        } => apply(
            &op,
            mode,
            (&input, grad.as_deref(), &output),
            backend,
            (dtype, precision),
        ),
        Command::ListOps => {
            list_ops();
            Ok(())
        }
        Command::Adapters => adapters(),
        Command::Bench(args) => bench::run(&args).map_err(|e| e.to_string()),
        Command::Accuracy(args) => accuracy::run(&args).map_err(|e| e.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn context(backend: Option<BackendArg>) -> Result<Context, String> {
    let Some(backend) = backend else {
        return Context::new().map_err(|e| e.to_string());
    };
    let wanted = match backend {
        BackendArg::Vulkan => wgpu::Backend::Vulkan,
        BackendArg::Gl => wgpu::Backend::Gl,
        BackendArg::Metal => wgpu::Backend::Metal,
        BackendArg::Dx12 => wgpu::Backend::Dx12,
    };
    let contexts = Context::all_adapters().map_err(|e| e.to_string())?;
    let found: Vec<String> = contexts
        .iter()
        .map(|c| format!("{} ({:?})", c.adapter_name(), c.backend()))
        .collect();
    contexts
        .into_iter()
        .find(|c| c.backend() == wanted)
        .ok_or_else(|| {
            format!(
                "no {wanted:?} adapter on this machine (found: {})",
                found.join(", ")
            )
        })
}

/// The array's values as `T` (f32 and f16 data widen exactly; narrowing
/// rounds to nearest even).
fn values<T: Element>(kind: Kind, bytes: &[u8], convert: impl Fn(f32) -> T) -> Vec<T> {
    match kind {
        Kind::F32 => bytes
            .chunks_exact(4)
            .map(|b| convert(f32::from_le_bytes([b[0], b[1], b[2], b[3]])))
            .collect(),
        Kind::F16 => bytes
            .chunks_exact(2)
            .map(|b| convert(f16::from_le_bytes([b[0], b[1]]).to_f32()))
            .collect(),
    }
}

fn run<T: Element>(
    ctx: &Context,
    act: Activation,
    mode: Mode,
    x: &[T],
    grad: Option<&[T]>,
) -> Result<Vec<T>, String> {
    let result = match (mode, grad) {
        (Mode::Forward, _) => ctx.forward(act, x),
        (Mode::Derivative, _) => ctx.derivative(act, x),
        (Mode::Backward, Some(g)) => ctx.backward(act, x, g),
        (Mode::Backward, None) => unreachable!("checked before"),
    };
    result.map_err(|e| e.to_string())
}

fn apply(
    op: &str,
    mode: ModeArg,
    (input, grad, output): (&std::path::Path, Option<&std::path::Path>, &std::path::Path),
    backend: Option<BackendArg>,
    (dtype, precision): (Option<DtypeArg>, Option<Precision>),
) -> Result<(), String> {
    let act = parse_op(op)?;
    let mode = match mode {
        ModeArg::Forward => Mode::Forward,
        ModeArg::Derivative => Mode::Derivative,
        ModeArg::Backward => Mode::Backward,
    };
    let (x, mut x_file) = npy::open(input)?;
    let mut dy = match (mode, grad) {
        (Mode::Backward, Some(path)) => Some(npy::open(path)?),
        (Mode::Backward, None) => return Err("--mode backward needs --grad dy.npy".into()),
        (_, Some(_)) => return Err(format!("--grad is for --mode backward only, not {mode:?}")),
        (_, None) => None,
    };
    if let Some((dy, _)) = &dy
        && dy.shape != x.shape
    {
        return Err(format!(
            "shape mismatch: x is {:?}, dy is {:?}; they must be equal",
            x.shape, dy.shape
        ));
    }
    let dtype = dtype.unwrap_or(match x.kind {
        Kind::F32 => DtypeArg::F32,
        Kind::F16 => DtypeArg::F16,
    });
    let ctx = context(backend)?;
    let ctx = precision.map_or_else(|| ctx.clone(), |p| ctx.with_precision(p));
    // 2^24 values took 0.5 s (lavapipe) to 0.9 s (llvmpipe GL) end to end
    // on a 2-core VM, so a spinner from 2^25 on, where it can run past a
    // second.
    let spinner = (x.len() >= 1 << 25).then(|| {
        Progress::spinner(format_args!(
            "{act} {mode:?} of {} values on {}",
            x.len(),
            ctx.adapter_name()
        ))
    });
    // bf16 results are written as float32 (exactly: .npy has no bfloat16).
    let out_kind = match dtype {
        DtypeArg::F16 => Kind::F16,
        DtypeArg::F32 | DtypeArg::Bf16 => Kind::F32,
    };
    let mut out = npy::create(output, out_kind, &x.shape, x.fortran_order)?;
    // The file in windows of WINDOW values: read, converted, one GPU call,
    // written, so that memory stays flat whatever the file's size (the ops
    // are element-wise: the bits are those of one call over the whole).
    let n = x.len();
    let mut start = 0;
    while start < n {
        let len = WINDOW.min(n - start);
        let xb = x.read_window(&mut x_file, start, len)?;
        let gb = match &mut dy {
            Some((h, file)) => Some((h.kind, h.read_window(file, start, len)?)),
            None => None,
        };
        let bytes: Vec<u8> = match dtype {
            DtypeArg::F32 => {
                let xs = values(x.kind, &xb, |v| v);
                let gs = gb.map(|(k, b)| values(k, &b, |v| v));
                let y = run(&ctx, act, mode, &xs, gs.as_deref())?;
                bytemuck::cast_slice(&y).to_vec()
            }
            DtypeArg::F16 => {
                let xs = values(x.kind, &xb, f16::from_f32);
                let gs = gb.map(|(k, b)| values(k, &b, f16::from_f32));
                let y = run(&ctx, act, mode, &xs, gs.as_deref())?;
                bytemuck::cast_slice(&y).to_vec()
            }
            DtypeArg::Bf16 => {
                let xs = values(x.kind, &xb, bf16::from_f32);
                let gs = gb.map(|(k, b)| values(k, &b, bf16::from_f32));
                let y: Vec<f32> = run(&ctx, act, mode, &xs, gs.as_deref())?
                    .iter()
                    .map(|v| v.to_f32())
                    .collect();
                bytemuck::cast_slice(&y).to_vec()
            }
        };
        out.write_all(&bytes)
            .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
        start += len;
    }
    out.flush()
        .map_err(|e| format!("cannot write {}: {e}", output.display()))?;
    drop(spinner);
    eprintln!(
        "{} {mode:?} of {} values ({:?}) on {} ({:?}) -> {}",
        act,
        x.len(),
        x.shape,
        ctx.adapter_name(),
        ctx.backend(),
        output.display()
    );
    Ok(())
}

/// Values per window of `apply`: 2^22 (16 MiB of f32), small beside a
/// large file and large enough that each GPU call's fixed cost (about
/// 0.1 ms) vanishes beside its work.
const WINDOW: usize = 1 << 22;

fn list_ops() {
    let rows: Vec<(&str, String, &str)> = Activation::ALL
        .iter()
        .map(|act| {
            // Threshold has no defaults (as torch.nn.Threshold): its
            // parameters are listed as required, not with ALL's example.
            let required = act.name().parse::<Activation>().is_err();
            let params: Vec<String> = act
                .param_names()
                .iter()
                .zip(act.param_values())
                .map(|(n, v)| {
                    if required {
                        format!("{n} (required)")
                    } else {
                        format!("{n}={v}")
                    }
                })
                .collect();
            (act.name(), params.join(", "), act.formula())
        })
        .collect();
    let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(4);
    let params_width = rows.iter().map(|r| r.1.len()).max().unwrap_or(0).max(21);
    println!(
        "{:<name_width$} {:<params_width$} formula",
        "name", "parameters (defaults)"
    );
    for (name, params, formula) in rows {
        println!("{name:<name_width$} {params:<params_width$} {formula}");
    }
    println!(
        "(give parameters as `leaky_relu(0.2)` or `softplus(beta=2)`; every Hugging Face \
         ACT2FN name is accepted too: {})",
        Activation::ACT2FN_KEYS
            .iter()
            .filter(|k| **k != "prelu")
            .copied()
            .collect::<Vec<_>>()
            .join(", ")
    );
}

fn adapters() -> Result<(), String> {
    let contexts = Context::all_adapters().map_err(|e| e.to_string())?;
    for ctx in contexts {
        let info = ctx.adapter_info();
        let device = ctx.device();
        let limits = device.limits();
        let features = device.features();
        let wanted = [
            (wgpu::Features::SHADER_F16, "shader-f16"),
            (wgpu::Features::SHADER_INT64, "shader-int64"),
            (wgpu::Features::SUBGROUP, "subgroup"),
            (wgpu::Features::IMMEDIATES, "immediates"),
            (wgpu::Features::TIMESTAMP_QUERY, "timestamp-query"),
            (
                wgpu::Features::MAPPABLE_PRIMARY_BUFFERS,
                "mappable-primary-buffers",
            ),
        ];
        let present: Vec<&str> = wanted
            .iter()
            .filter(|(f, _)| features.contains(*f))
            .map(|(_, n)| *n)
            .collect();
        println!("{} ({:?}, {:?})", info.name, info.backend, info.device_type);
        println!("  driver: {} {}", info.driver, info.driver_info);
        println!(
            "  features used: {}",
            if present.is_empty() {
                "none".to_string()
            } else {
                present.join(", ")
            }
        );
        println!(
            "  limits: max_buffer_size {} B, max_storage_buffer_binding_size {} B, \
             max_compute_workgroups_per_dimension {}, min_storage_buffer_offset_alignment {}",
            limits.max_buffer_size,
            limits.max_storage_buffer_binding_size,
            limits.max_compute_workgroups_per_dimension,
            limits.min_storage_buffer_offset_alignment
        );
    }
    Ok(())
}
