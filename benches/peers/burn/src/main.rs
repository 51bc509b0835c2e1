//! The Burn peer of `cli/examples/bench.rs --api`: Burn's activations timed
//! exactly as that mode times ours, with the same inputs, sizes, statistic,
//! table and JSON (`cli/src/api_timing.rs`, included below).
//!
//! Each call is what a Burn user writes: `activation::op(x.clone())` on a
//! tensor created once on the device, then `Device::sync` (submit and wait
//! for everything queued), then the result dropped, so that the next call's
//! output comes from Burn's memory pool. Nothing is read back (neither is
//! anything in ours). Burn is 0.22.1 with its default features plus `wgpu`:
//! the cubecl backend wrapped in fusion, with autotune, compiling WGSL.
//!
//! ```sh
//! cd benches/peers/burn
//! cargo run --release -- --backend vulkan              # lavapipe where there is no GPU
//! cargo run --release -- --backend gl --sizes 2^10,2^24 --ops relu,gelu --json
//! ./compare.sh --backend vulkan --rounds 3             # both libraries in turns, one table
//! ```
//!
//! A crate of its own (its own `[workspace]`, not built by the main crate or
//! CI): Burn takes 20-35 minutes to build cold on two cores.

use burn::tensor::wgpu::WgpuBackend;
use burn::tensor::{Device, Tensor, TensorData};

#[path = "../../../../cli/src/api_timing.rs"]
mod api_timing;
#[path = "../../../../cli/src/json.rs"]
mod json;
// Burn's activation for each of our names, shared with integrations/burn.
mod burn_ops;
use burn_ops::burn_op;

/// The Burn version in Cargo.toml (pinned there with `=`).
const BURN: &str = "burn 0.22.1 (default features + wgpu: fusion, autotune; WGSL)";

const USAGE: &str = "\
usage: cargo run --release -- [options]

  --backend API   vulkan or gl (default vulkan): the graphics API Burn's wgpu
                  runtime is pinned to
  --ops LIST      comma-separated, among: relu, sigmoid, tanh, gelu, gelu_tanh,
                  silu, mish, softplus, log_sigmoid, elu, celu, selu,
                  leaky_relu, hardsigmoid, hardswish, softsign, relu6,
                  hardtanh, tanhshrink, softshrink, hardshrink, threshold
                  (default: all; parameters are PyTorch's defaults, as ours)
  --sizes LIST    element counts, e.g. 1024,1048576 or 2^10,2^20
                  (default: 2^10,2^16,2^20,2^24)
  --json          one JSON object on stdout instead of the table
  --check         after timing each (op, N), read one result back and print
                  (to stderr) its largest error against an f64 reference of
                  the op with the parameters above: that Burn computed the
                  same function as ours
  -h, --help      this text

CUBECL_WGPU_DEFAULT_DEVICE (e.g. Cpu, DiscreteGpu(0)) picks the adapter.";

struct Options {
    backend: WgpuBackend,
    ops: Vec<String>,
    sizes: Vec<usize>,
    json: bool,
    check: bool,
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Option<Options>, String> {
    let mut options = Options {
        backend: WgpuBackend::Vulkan,
        ops: api_timing::OPS.iter().map(|s| s.to_string()).collect(),
        sizes: api_timing::DEFAULT_SIZES.to_vec(),
        json: false,
        check: false,
    };
    let list = |text: &str| -> Vec<String> {
        text.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    };
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value)),
            _ => (arg.clone(), None),
        };
        let mut value = || {
            inline
                .map(str::to_string)
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--backend" => {
                options.backend = match value()?.to_lowercase().as_str() {
                    "vulkan" => WgpuBackend::Vulkan,
                    "gl" | "opengl" | "gles" => WgpuBackend::Gl,
                    other => return Err(format!("--backend: {other:?} is not vulkan or gl")),
                }
            }
            "--ops" => {
                options.ops = list(&value()?);
                if let Some(bad) = options.ops.iter().find(|op| burn_op(op).is_none()) {
                    return Err(format!("--ops: {bad:?} is not one of the shared ops"));
                }
            }
            "--sizes" => {
                options.sizes = list(&value()?)
                    .iter()
                    .map(|s| api_timing::parse_size(s))
                    .collect::<Result<_, _>>()?
            }
            "--json" if inline.is_none() => options.json = true,
            "--check" if inline.is_none() => options.check = true,
            "-h" | "--help" => return Ok(None),
            _ => return Err(format!("unknown option {arg:?}")),
        }
    }
    if options.ops.is_empty() || options.sizes.is_empty() {
        return Err("--ops and --sizes need at least one entry".into());
    }
    Ok(Some(options))
}

fn run(options: &Options) -> Result<(), String> {
    let (device, setup) = Device::wgpu_options()
        .graphics_api(options.backend)
        .init_with_setup()
        .map_err(|e| format!("Burn's wgpu runtime on {:?}: {e}", options.backend))?;
    let info = setup.adapter.get_info();
    let backend = format!("{:?}", info.backend);
    let sync = |device: &Device| device.sync().map_err(|e| format!("sync: {e:?}"));
    let detail = format!("{BURN}; driver {} {}", info.driver, info.driver_info);
    if !options.json {
        api_timing::print_header("Burn", &info.name, &backend, &detail);
    }
    let mut rows = Vec::new();
    for &n in &options.sizes {
        let inputs = api_timing::inputs(n);
        let x = Tensor::<1>::from_data(TensorData::new(inputs.clone(), [n]), &device);
        sync(&device)?;
        for name in &options.ops {
            let op = burn_op(name).expect("checked by parse_options");
            let call: &mut api_timing::Call<'_, String> = &mut || {
                let y = op(x.clone());
                // Before the drop: a result dropped unsynchronised may be
                // fused away.
                sync(&device)?;
                drop(y);
                Ok(())
            };
            let [timing] = api_timing::time_in_turns([call])?;
            let row = api_timing::Row {
                op: name.clone(),
                n,
                api: "burn",
                timing,
            };
            if !options.json {
                api_timing::print_row(&row);
            }
            rows.push(row);
            if options.check {
                let y: Vec<f32> = op(x.clone())
                    .into_data()
                    .try_to_vec::<f32>()
                    .map_err(|e| format!("readback: {e:?}"))?;
                let worst = inputs
                    .iter()
                    .zip(&y)
                    .map(|(&x, &y)| {
                        let want = reference(name, f64::from(x));
                        (f64::from(y) - want).abs() / want.abs().max(1.0)
                    })
                    .fold(0.0_f64, f64::max);
                eprintln!("check {name} N={n}: largest error {worst:.2e} (relative above 1)");
            }
        }
    }
    if options.json {
        let report = api_timing::Report {
            adapter: info.name.clone(),
            backend,
            detail,
            rows,
        };
        println!("{}", api_timing::json("burn", &[report]));
    }
    Ok(())
}

/// The ops of [`burn_op`] in f64, for `--check`.
fn reference(name: &str, x: f64) -> f64 {
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let softplus = |x: f64| if x > 20.0 { x } else { x.exp().ln_1p() };
    let elu = |x: f64| if x > 0.0 { x } else { x.exp_m1() };
    match name {
        "relu" => x.max(0.0),
        "sigmoid" => sigmoid(x),
        "tanh" => x.tanh(),
        "gelu" => 0.5 * x * (1.0 + erf(x / std::f64::consts::SQRT_2)),
        "gelu_tanh" => {
            let k = (2.0 / std::f64::consts::PI).sqrt();
            0.5 * x * (1.0 + (k * (x + 0.044715 * x * x * x)).tanh())
        }
        "silu" => x * sigmoid(x),
        "mish" => x * softplus(x).tanh(),
        "softplus" => softplus(x),
        "log_sigmoid" => -softplus(-x),
        "elu" | "celu" => elu(x),
        "selu" => {
            1.050_700_987_355_480_5
                * if x > 0.0 {
                    x
                } else {
                    1.673_263_242_354_377_3 * x.exp_m1()
                }
        }
        "leaky_relu" => {
            if x > 0.0 {
                x
            } else {
                0.01 * x
            }
        }
        "hardsigmoid" => (x / 6.0 + 0.5).clamp(0.0, 1.0),
        "hardswish" => x * (x + 3.0).clamp(0.0, 6.0) / 6.0,
        "softsign" => x / (1.0 + x.abs()),
        "relu6" => x.clamp(0.0, 6.0),
        "hardtanh" => x.clamp(-1.0, 1.0),
        "tanhshrink" => x - x.tanh(),
        "softshrink" => {
            if x > 0.5 {
                x - 0.5
            } else if x < -0.5 {
                x + 0.5
            } else {
                0.0
            }
        }
        "hardshrink" => {
            if x.abs() > 0.5 {
                x
            } else {
                0.0
            }
        }
        "threshold" => {
            if x > f64::from(0.1_f32) {
                x
            } else {
                20.0
            }
        }
        _ => f64::NAN,
    }
}

/// erf to about 1e-7 (Abramowitz and Stegun 7.1.26), enough to check f32.
fn erf(x: f64) -> f64 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    (1.0 - poly * (-x * x).exp()).copysign(x)
}

fn main() {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("{message}\n\n{USAGE}");
            std::process::exit(2);
        }
    };
    if let Err(message) = run(&options) {
        eprintln!("burn_peer: {message}");
        std::process::exit(1);
    }
}
