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

use burn::tensor::wgpu::WgpuBackend;
use burn::tensor::{Device, Tensor, TensorData};
use wgpu_activations::{Activation, BufferRegion, Mode, Precision};
use wgpu_activations_burn::Activations;

// The timing of `bench --api` and of the Burn peer (the same statistic), and
// the peer's table of Burn's activations.
#[path = "../../../cli/src/api_timing.rs"]
mod api_timing;
#[path = "../../../benches/peers/burn/src/burn_ops.rs"]
mod burn_ops;
#[path = "../../../cli/src/json.rs"]
mod json;

use api_timing::{CALLS, WARMUP_CALLS, parse_size, time_in_turns};

fn ms(seconds: f64) -> String {
    format!("{:.3}", seconds * 1e3)
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
            "--sizes" => {
                sizes = value
                    .split(',')
                    .map(|size| parse_size(size).expect("size"))
                    .collect()
            }
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
        "# each time: median of {CALLS} calls, each submitted and waited for, after {WARMUP_CALLS} warm-up calls, in turns"
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
            let Some(theirs) = burn_ops::burn_op(name) else {
                eprintln!("{name}: Burn has no such activation; skipped");
                continue;
            };
            let act: Activation = name.parse().expect("op");
            let kernels = acts.kernels().with_precision(precision);
            let sync = |d: &Device| d.sync().map_err(|e| format!("sync: {e:?}"));
            let mut graph_burn = || {
                let _y = theirs(x.clone().mul_scalar(2.0).add_scalar(1.0)).mul_scalar(0.5);
                sync(&device)
            };
            let mut graph_ours = || {
                let _y = wgpu_activations_burn::activation_at(
                    x.clone().mul_scalar(2.0).add_scalar(1.0),
                    act,
                    precision,
                )
                .unwrap()
                .mul_scalar(0.5);
                sync(&device)
            };
            let mut alone_burn = || {
                let _y = theirs(x.clone());
                sync(&device)
            };
            let mut alone_ours = || {
                let _y = wgpu_activations_burn::activation_at(x.clone(), act, precision).unwrap();
                sync(&device)
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
                    .map_err(|e| e.to_string())?;
                setup.queue.submit([encoder.finish()]);
                gpu.poll(wgpu::PollType::wait_indefinitely())
                    .map(drop)
                    .map_err(|e| format!("poll: {e}"))
            };
            let [gb, go, ab, ao, k] = time_in_turns::<String, 5>([
                &mut graph_burn,
                &mut graph_ours,
                &mut alone_burn,
                &mut alone_ours,
                &mut kernel,
            ])
            .expect("a timed call")
            .map(|timing| timing.median);
            let r = |a: f64, b: f64| a / b;
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
