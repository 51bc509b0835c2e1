//! The main job: runs every activation (forward, derivative, backward) on the
//! default adapter and prints the seed check values and the worst error
//! against the f64 CPU reference, in ULPs and in ULPs scaled by the
//! condition number (SEMANTICS.md, "Accuracy").
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
        let r = cpu::forward(act, &seed)?;
        println!(
            "{}({seed:?}) = [{:.4}, {:.4}, {:.4}] (f64 reference: [{:.4}, {:.4}, {:.4}])",
            act.name(),
            y[0],
            y[1],
            y[2],
            r[0],
            r[1],
            r[2]
        );
    }

    // The same seed values stored as f16 and bf16 (computed in f32 inside,
    // rounded once to the type).
    let y16 = ctx.forward(Activation::Sigmoid, &seed.map(half::f16::from_f32))?;
    let r16 = cpu::forward(Activation::Sigmoid, &seed.map(half::f16::from_f32))?;
    let yb = ctx.forward(Activation::Sigmoid, &seed.map(half::bf16::from_f32))?;
    let rb = cpu::forward(Activation::Sigmoid, &seed.map(half::bf16::from_f32))?;
    println!("sigmoid as f16: {y16:?} (reference {r16:?}); as bf16: {yb:?} (reference {rb:?})");

    // Every 0.001 over [-20, 20], plus the special values of SEMANTICS.md.
    let mut x: Vec<f32> = (0..=40_000)
        .map(|i| (-20.0 + f64::from(i) * 1e-3) as f32)
        .collect();
    x.extend(wgpu_activations::accuracy::SPECIAL_VALUES);
    let grad_output: Vec<f32> = (0..x.len()).map(|i| 0.5 + (i % 7) as f32 * 0.25).collect();

    // Inputs stay on the GPU; each op's three kernels run in one submission
    // with one readback.
    let x_gpu = ctx.upload(&x)?;
    let dy_gpu = ctx.upload(&grad_output)?;
    println!(
        "\n{} inputs per op; worst error against the f64 reference:\n\n{:<42} {:<10} {:>9} {:>8} {:>14} {:>6}",
        x.len(),
        "op",
        "mode",
        "max ULP",
        "scaled",
        "at x",
        "rules"
    );
    for &act in Activation::ALL {
        let mut batch = ctx.batch();
        let y = batch.apply(act, &x_gpu)?;
        let d = batch.apply_derivative(act, &x_gpu)?;
        let dx = batch.apply_backward(act, &x_gpu, &dy_gpu)?;
        let results = batch.read_all(&[&y, &d, &dx])?;
        for (mode, got) in Mode::ALL.into_iter().zip(&results) {
            let mut worst = Worst::default();
            worst.add_all(act, mode, &x, &grad_output, got);
            println!(
                "{:<42} {:<10} {:>9} {:>8.2} {:>14.6e} {:>6}",
                act.to_string(),
                format!("{mode:?}").to_lowercase(),
                worst.ulps,
                worst.scaled,
                worst.scaled_at,
                worst.broken_rules
            );
        }
    }
    println!(
        "\n(ULP: plain distance to the reference rounded to f32; scaled: ULP / (1 + condition \
         number); rules: results breaking a SEMANTICS.md rule. Targets: 2 scaled forward, 4 \
         derivative, 5 backward, 0 ULP for piecewise-linear ops.)"
    );
    Ok(())
}
