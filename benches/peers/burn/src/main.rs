//! README's "Against Burn": host slice in, `Vec` out per call, 2^22 f32 on
//! the Vulkan adapter (lavapipe where there is no GPU), wgpu-activations and
//! Burn interleaved in one run: ReLU, `value * silu(gate)` (SwiGLU over
//! separate buffers) and softmax over rows of 1024. Best of 5 x 4 calls
//! after a warm-up call, as `examples/bench.rs` times its host rows.

use std::time::Instant;

use burn::backend::wgpu::{Wgpu, WgpuDevice};
use burn::tensor::{activation, Tensor};
use wgpu_activations::{Activation, Context, Gated};

type B = Wgpu;

fn best_ms(mut f: impl FnMut()) -> f64 {
    f();
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..4 {
            f();
        }
        best = best.min(start.elapsed().as_secs_f64() / 4.0);
    }
    best * 1e3
}

fn main() {
    let n: usize = 1 << 22;
    let x: Vec<f32> = (0..n).map(|i| ((i % 1000) as f32 - 500.0) * 0.01).collect();
    let g: Vec<f32> = x.iter().rev().copied().collect();
    let ctx = Context::all_adapters()
        .expect("an adapter")
        .into_iter()
        .find(|c| c.backend() == wgpu::Backend::Vulkan)
        .expect("a Vulkan adapter (apt-get install -y mesa-vulkan-drivers libvulkan1)");
    // Burn's default device on Linux is its Vulkan backend's best adapter.
    let device = WgpuDevice::default();
    println!(
        "wgpu-activations on {}; Burn 0.18 (wgpu backend, default device)",
        ctx.adapter_name()
    );
    println!(
        "{:<22} {:>12} {:>12} {:>10}",
        "op (2^22 f32)", "ours ms", "Burn ms", "Burn/ours"
    );
    let rows: [(&str, Box<dyn Fn()>, Box<dyn Fn()>); 3] = [
        (
            "relu",
            Box::new(|| {
                ctx.forward(Activation::Relu, &x).unwrap();
            }),
            Box::new(|| {
                let t = Tensor::<B, 1>::from_floats(x.as_slice(), &device);
                let _: Vec<f32> = activation::relu(t).into_data().to_vec().unwrap();
            }),
        ),
        (
            "swiglu (separate)",
            Box::new(|| {
                ctx.gated_forward(Gated::Swiglu, &x, &g).unwrap();
            }),
            Box::new(|| {
                let a = Tensor::<B, 1>::from_floats(x.as_slice(), &device);
                let b = Tensor::<B, 1>::from_floats(g.as_slice(), &device);
                let _: Vec<f32> = (a * activation::silu(b)).into_data().to_vec().unwrap();
            }),
        ),
        (
            "softmax rows of 1024",
            Box::new(|| {
                ctx.softmax(&x, 1024).unwrap();
            }),
            Box::new(|| {
                let t =
                    Tensor::<B, 1>::from_floats(x.as_slice(), &device).reshape([n / 1024, 1024]);
                let _: Vec<f32> = activation::softmax(t, 1).into_data().to_vec().unwrap();
            }),
        ),
    ];
    for (name, ours, burn) in &rows {
        let ours = best_ms(ours);
        let burn = best_ms(burn);
        println!("{name:<22} {ours:>12.2} {burn:>12.2} {:>9.2}x", burn / ours);
    }
}
