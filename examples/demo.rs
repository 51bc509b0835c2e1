//! The main job: runs every activation on the default adapter, prints the
//! seed check values and the worst error against the f64 CPU reference.
//!
//! `cargo run --release --example demo` (choose an adapter with
//! `WGPU_BACKEND=vulkan|gl` or `WGPU_ADAPTER_NAME=...`).

use wgpu_activations::accuracy::Worst;
use wgpu_activations::{Activation, Context, Mode, cpu};

fn main() -> Result<(), wgpu_activations::Error> {
    let ctx = Context::new()?;
    println!("adapter: {} ({:?})", ctx.adapter_name(), ctx.backend());

    let seed = [-3.0_f32, 0.0, 3.0];
    for act in [Activation::Sigmoid, Activation::Tanh] {
        let y = ctx.forward(act, &seed)?;
        println!(
            "{}({seed:?}) = [{:.4}, {:.4}, {:.4}]",
            act.name(),
            y[0],
            y[1],
            y[2]
        );
    }

    // A dense grid over [-20, 20] plus the special values of SEMANTICS.md.
    let mut x: Vec<f32> = (0..=40_000).map(|i| -20.0 + i as f32 * 1e-3).collect();
    x.extend([
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        1e-40,
        -1e-40,
        1e-8,
        -1e-8,
        88.0,
        -88.0,
        100.0,
        -100.0,
        1e30,
        -1e30,
    ]);
    let grad_output: Vec<f32> = x
        .iter()
        .enumerate()
        .map(|(i, _)| 0.5 + (i % 7) as f32 * 0.25)
        .collect();

    println!(
        "\n{:<12} {:<10} {:>12} {:>10} {:>12} {:>6}",
        "op", "mode", "max ULP", "scaled", "at x", "rules"
    );
    for &act in Activation::ALL {
        for mode in Mode::ALL {
            let got = match mode {
                Mode::Forward => ctx.forward(act, &x)?,
                Mode::Derivative => ctx.derivative(act, &x)?,
                Mode::Backward => ctx.backward(act, &x, &grad_output)?,
            };
            let mut worst = Worst::default();
            worst.add_all(act, mode, &x, &grad_output, &got);
            println!(
                "{:<12} {:<10} {:>12} {:>10.2} {:>12.5e} {:>6}",
                act.name(),
                format!("{mode:?}").to_lowercase(),
                worst.ulps,
                worst.scaled,
                worst.scaled_at,
                worst.broken_rules
            );
        }
    }
    let reference = cpu::forward(Activation::Sigmoid, &seed)?;
    println!("\ncpu reference sigmoid({seed:?}) = {reference:?}");
    Ok(())
}
