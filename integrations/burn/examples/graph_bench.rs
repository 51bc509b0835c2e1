//! Our activation inside a Burn graph against Burn's own, in the same graph:
//!
//! ```text
//! cargo run --release -p wgpu-activations-burn --example graph_bench -- [--backend vulkan|gl]
//!     [--sizes 2^10,2^24] [--ops gelu,silu] [--precision precise|fast]
//! ```
//!
//! Per op and size, timed in turns (the median of 21 calls after 5 warm-up
//! calls, each call submitted and waited for with `Device::sync`):
//! - `graph`: `act(x * 2 + 1) * 0.5`, with Burn's activation and with ours;
//! - `alone`: the activation alone on a resident tensor, Burn's and ours;
//! - `kernel`: our kernel alone on wgpu buffers of the same device
//!   (`Kernels::record`, submit, wait).
//!
//! Ratios: Burn/ours for the graph and alone (above 1: ours is faster), and
//! ours-in-Burn / kernel alone, the cost of crossing into our kernel (the
//! contiguity check, CubeCL's buffers and flush, our submission).

use std::time::{Duration, Instant};

use burn::tensor::wgpu::WgpuBackend;
use burn::tensor::{Device, Tensor, TensorData, activation as burn_act};
use wgpu_activations::{Activation, BufferRegion, Mode, Precision};
use wgpu_activations_burn::Activations;

const CALLS: usize = 21;
const WARMUP: usize = 5;

type BurnOp = fn(Tensor<1>) -> Tensor<1>;

fn burn_op(name: &str) -> Option<BurnOp> {
    Some(match name {
        "relu" => burn_act::relu,
        "sigmoid" => burn_act::sigmoid,
        "tanh" => burn_act::tanh,
        "gelu" => burn_act::gelu,
        "gelu_tanh" => burn_act::gelu_approximate,
        "silu" => burn_act::silu,
        "mish" => burn_act::mish,
        "softplus" => |x| burn_act::softplus(x, 1.0),
        "log_sigmoid" => burn_act::log_sigmoid,
        "elu" => |x| burn_act::elu(x, 1.0),
        "selu" => burn_act::selu,
        "leaky_relu" => |x| burn_act::leaky_relu(x, 0.01),
        "hardswish" => burn_act::hard_swish,
        "softsign" => burn_act::softsign,
        _ => return None,
    })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times each of `runs` `CALLS` times in turns, after `WARMUP` rounds.
fn time_in_turns<const K: usize>(runs: [&mut dyn FnMut(); K]) -> [Duration; K] {
    let mut runs = runs;
    for _ in 0..WARMUP {
        for run in runs.iter_mut() {
            run();
        }
    }
    let mut times: [Vec<Duration>; K] = std::array::from_fn(|_| Vec::new());
    for _ in 0..CALLS {
        for (k, run) in runs.iter_mut().enumerate() {
            let start = Instant::now();
            run();
            times[k].push(start.elapsed());
        }
    }
    times.map(median)
}

fn parse_size(text: &str) -> usize {
    match text.strip_prefix("2^") {
        Some(exp) => 1usize << exp.parse::<u32>().expect("size"),
        None => text.parse().expect("size"),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn main() {
    let mut backend = WgpuBackend::Vulkan;
    let mut sizes = vec![1 << 10, 1 << 24];
    let mut ops: Vec<String> = [
        "relu",
        "sigmoid",
        "gelu",
        "gelu_tanh",
        "silu",
        "mish",
        "softplus",
    ]
    .map(String::from)
    .to_vec();
    let mut precision = Precision::Precise;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--backend" => {
                backend = match value.as_str() {
                    "gl" => WgpuBackend::Gl,
                    _ => WgpuBackend::Vulkan,
                }
            }
            "--sizes" => sizes = value.split(',').map(parse_size).collect(),
            "--ops" => ops = value.split(',').map(String::from).collect(),
            "--precision" => precision = value.parse().expect("precise or fast"),
            other => panic!("unknown argument {other}"),
        }
        i += 2;
    }

    let (device, setup) = Device::wgpu_options()
        .graphics_api(backend)
        .init_with_setup()
        .expect("Burn's wgpu runtime");
    let acts = Activations::register(&device, &setup).expect("register");
    let info = setup.adapter.get_info();
    println!(
        "# {} ({:?}), driver {} {}; burn 0.22.1 (fusion, autotune); precision {precision:?}",
        info.name, info.backend, info.driver, info.driver_info
    );
    println!(
        "# each time: median of {CALLS} calls, each submitted and waited for, after {WARMUP} warm-up calls, in turns"
    );
    println!(
        "| op | N | graph Burn ms | graph ours ms | Burn/ours | alone Burn ms | alone ours ms | Burn/ours | kernel ms | ours/kernel |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let gpu = &setup.device;
    for &n in &sizes {
        let xs: Vec<f32> = (0..n)
            .map(|i| -8.0 + 16.0 * (i % 65536) as f32 / 65536.0)
            .collect();
        let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [n]), &device);
        // The kernel alone: our own buffers on Burn's wgpu device.
        let input = wgpu::util::DeviceExt::create_buffer_init(
            gpu,
            &wgpu::util::BufferInitDescriptor {
                label: Some("graph_bench input"),
                contents: bytemuck::cast_slice(&xs),
                usage: wgpu::BufferUsages::STORAGE,
            },
        );
        let output = gpu.create_buffer(&wgpu::BufferDescriptor {
            label: Some("graph_bench output"),
            size: (n * 4) as u64,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        for name in &ops {
            let Some(theirs) = burn_op(name) else {
                eprintln!("{name}: Burn has no such activation; skipped");
                continue;
            };
            let act: Activation = name.parse().expect("op");
            let kernels = acts.kernels().with_precision(precision);
            let sync = |d: &Device| d.sync().expect("sync");
            let mut graph_burn = || {
                let y = theirs(x.clone().mul_scalar(2.0).add_scalar(1.0)).mul_scalar(0.5);
                sync(&device);
                drop(y);
            };
            let mut graph_ours = || {
                let y = wgpu_activations_burn::activation_at(
                    x.clone().mul_scalar(2.0).add_scalar(1.0),
                    act,
                    precision,
                )
                .unwrap()
                .mul_scalar(0.5);
                sync(&device);
                drop(y);
            };
            let mut alone_burn = || {
                let y = theirs(x.clone());
                sync(&device);
                drop(y);
            };
            let mut alone_ours = || {
                let y = wgpu_activations_burn::activation_at(x.clone(), act, precision).unwrap();
                sync(&device);
                drop(y);
            };
            let mut kernel = || {
                let mut encoder = gpu.create_command_encoder(&Default::default());
                kernels
                    .record(
                        &mut encoder,
                        act,
                        Mode::Forward,
                        BufferRegion::new(&input, 0, n),
                        None,
                        BufferRegion::new(&output, 0, n),
                    )
                    .unwrap();
                setup.queue.submit([encoder.finish()]);
                gpu.poll(wgpu::PollType::wait_indefinitely()).unwrap();
            };
            let [gb, go, ab, ao, k] = time_in_turns([
                &mut graph_burn,
                &mut graph_ours,
                &mut alone_burn,
                &mut alone_ours,
                &mut kernel,
            ]);
            let r = |a: Duration, b: Duration| a.as_secs_f64() / b.as_secs_f64();
            println!(
                "| {name} | 2^{} | {} | {} | {:.2}x | {} | {} | {:.2}x | {} | {:.2}x |",
                n.trailing_zeros(),
                ms(gb),
                ms(go),
                r(gb, go),
                ms(ab),
                ms(ao),
                r(ab, ao),
                ms(k),
                r(ao, k)
            );
        }
    }
}
