//! Where the smooth ops spend their instructions: the arithmetic cost of each
//! op's forward, ours against the naive built-in kernel of
//! `shaders/baselines.wgsl`, with memory taken out.
//!
//! A kernel evaluates the op `R` times per element (on `x + j * 0`, the 0 a
//! uniform, so nothing folds; the loop count is a uniform too, so nothing
//! unrolls) and sums the results; the same kernel with the identity gives
//! the loop and memory cost, which is subtracted. Kernels run in turns
//! (copy, then naive and ours for each op), each timed by the wall clock
//! around two dispatches submitted and waited for; per kernel the fastest of
//! the rounds is kept. On CPU adapters (lavapipe, llvmpipe), where the smooth
//! ops are bound by arithmetic, this shows each op's cost without the memory
//! time and the noise that hide it at 2^24 in `bench`.
//!
//! ```sh
//! cargo run --release --example compute_cost                       # every op with a naive kernel
//! cargo run --release --example compute_cost -- sigmoid gelu_tanh --repeat 16 --rounds 9
//! WGPU_BACKEND=gl cargo run --release --example compute_cost       # the GL adapter
//! ```
//!
//! Inputs: `--range A` (default 10) spreads them over [-A, A], like the
//! bench's [-10, 10].

use std::time::Instant;

use wgpu::util::DeviceExt;
use wgpu_activations::Activation;

#[path = "../src/api_timing.rs"]
mod api_timing;
#[path = "../src/baselines.rs"]
mod baselines;
#[path = "../src/json.rs"]
mod json;

use baselines::{BASELINE_WGSL, naive_ops};

const USAGE: &str = "usage: compute_cost [OP...] [--repeat R] [--rounds K] [--range A]";
const N: usize = 1 << 22;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}\n{USAGE}");
        std::process::exit(2);
    }
}

/// The naive functions of baselines.wgsl, text only: from `naive_erf` (the
/// helper) to the end of `naive_op`, where `override NAIVE_OP` begins. An
/// op's `case` index is its position in [`naive_ops`].
fn naive_function() -> &'static str {
    let start = BASELINE_WGSL
        .find("fn naive_erf")
        .expect("naive_erf in baselines.wgsl");
    let end = BASELINE_WGSL
        .find("override NAIVE_OP")
        .expect("NAIVE_OP in baselines.wgsl");
    &BASELINE_WGSL[start..end]
}

/// A kernel that sums `R` evaluations of `expression` (of a vec4 `x`).
fn module(expression: &str) -> String {
    format!(
        "{library}\n{naive}\n\
         @group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;\n\
         @group(0) @binding(1) var<storage, read_write> o: array<vec4<f32>>;\n\
         @group(0) @binding(2) var<uniform> prm: vec4<f32>;\n\
         fn op(x: vec4<f32>) -> vec4<f32> {{ return {expression}; }}\n\
         @compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3<u32>) {{\n\
             let i = g.x;\n\
             if i < arrayLength(&o) {{\n\
                 var acc = vec4<f32>(0.0);\n\
                 for (var j = 0u; j < u32(prm.y); j++) {{ acc += op(a[i] + f32(j) * prm.x); }}\n\
                 o[i] = acc;\n\
             }}\n\
         }}\n",
        library = wgpu_activations::wgsl::library(),
        naive = naive_function(),
    )
}

/// Our forward of `act` over a vec4, as a WGSL expression.
fn ours(act: &Activation) -> String {
    let params: String = act
        .param_values()
        .iter()
        .map(|v| format!(", f32({v:?})"))
        .collect();
    let lane = |c: &str| format!("wa_{}_forward(x.{c}{params})", act.name());
    format!(
        "vec4<f32>({}, {}, {}, {})",
        lane("x"),
        lane("y"),
        lane("z"),
        lane("w")
    )
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut names = Vec::new();
    let (mut repeat, mut rounds, mut range) = (8u32, 7usize, 10.0f32);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--repeat" => repeat = value()?.parse()?,
            "--rounds" => rounds = value()?.parse()?,
            "--range" => range = value()?.parse()?,
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            _ => names.push(arg),
        }
    }
    if repeat == 0 || rounds == 0 {
        return Err("--repeat and --rounds must be at least 1".into());
    }
    let cases = naive_ops();
    if names.is_empty() {
        names = cases.iter().map(|n| n.to_string()).collect();
    }
    // (label, WGSL expression) per kernel: the copy first.
    let mut kernels = vec![("copy".to_string(), "x".to_string())];
    for name in &names {
        let index = cases
            .iter()
            .position(|n| n == name)
            .ok_or(format!("{name} has no naive kernel in baselines.wgsl"))?;
        let act = Activation::parse_list(name)?[0];
        kernels.push((format!("naive {name}"), format!("naive_op({index}u, x)")));
        kernels.push((format!("ours {name}"), ours(&act)));
    }

    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))?;
    let (device, queue) = pollster::block_on(adapter.request_device(&Default::default()))?;
    let info = adapter.get_info();
    println!(
        "{} ({:?}), {} f32, {repeat} evaluations each, fastest of {rounds} rounds in turns",
        info.name, info.backend, N
    );
    // The bench's inputs over [-10, 10], stretched to [-range, range].
    let data: Vec<f32> = api_timing::inputs(N)
        .into_iter()
        .map(|x| x * (range / 10.0))
        .collect();
    let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("compute_cost input"),
        contents: bytemuck::cast_slice(&data),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let output = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("compute_cost output"),
        size: (N * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE,
        mapped_at_creation: false,
    });
    let uniform = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("compute_cost uniform"),
        contents: bytemuck::cast_slice(&[0.0f32, repeat as f32, 0.0, 0.0]),
        usage: wgpu::BufferUsages::UNIFORM,
    });
    let pipelines: Vec<_> = kernels
        .iter()
        .map(|(label, expression)| {
            let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(label),
                source: wgpu::ShaderSource::Wgsl(module(expression).into()),
            });
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(label),
                layout: None,
                module: &shader,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some(label),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: input.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: output.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: uniform.as_entire_binding(),
                    },
                ],
            });
            (pipeline, bind_group)
        })
        .collect();
    let mut best = vec![f64::MAX; kernels.len()];
    for _ in 0..rounds {
        for (k, (pipeline, bind_group)) in pipelines.iter().enumerate() {
            let start = Instant::now();
            let mut encoder = device.create_command_encoder(&Default::default());
            for _ in 0..2 {
                let mut pass = encoder.begin_compute_pass(&Default::default());
                pass.set_pipeline(pipeline);
                pass.set_bind_group(0, bind_group, &[]);
                pass.dispatch_workgroups((N / 4 / 256) as u32, 1, 1);
            }
            queue.submit([encoder.finish()]);
            device.poll(wgpu::PollType::wait_indefinitely())?;
            best[k] = best[k].min(start.elapsed().as_secs_f64() / 2.0);
        }
    }
    let copy = best[0];
    println!(
        "copy (loop and memory): {:.2} ms; per op: ms per {repeat} evaluations beyond it",
        copy * 1e3
    );
    println!(
        "{:<14} {:>10} {:>10} {:>12}",
        "op", "naive", "ours", "ours/naive"
    );
    for (i, name) in names.iter().enumerate() {
        let naive = (best[1 + 2 * i] - copy) * 1e3;
        let ours = (best[2 + 2 * i] - copy) * 1e3;
        println!(
            "{name:<14} {naive:>10.2} {ours:>10.2} {:>11.2}x",
            ours / naive.max(1e-3)
        );
    }
    Ok(())
}
