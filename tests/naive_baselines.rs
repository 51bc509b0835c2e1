//! The bench's naive kernels (`shaders/baselines.wgsl`, the "vs naive"
//! column) compute the op they are named after, on every adapter: a ratio
//! to a kernel of some other function would mean nothing. They promise no
//! accuracy, so the check is loose (1e-3 relative, or absolute below 1),
//! far above the built-ins' approximation error and far below what a wrong
//! formula or a wrong `case` index gives.

#[path = "../cli/src/baselines.rs"]
mod baselines;

use wgpu_activations::cpu;

use crate::support::{adapters, describe};

#[test]
fn every_naive_kernel_computes_its_op() {
    // [-10, 10] (the bench's range) in 4096 steps, a multiple of 4 (vec4s).
    let x: Vec<f32> = (0..4096)
        .map(|i| -10.0 + 20.0 * i as f32 / 4095.0)
        .collect();
    let ops = baselines::naive_activations();
    assert_eq!(
        ops.len(),
        baselines::naive_ops().len(),
        "a naive kernel per op: {ops:?}"
    );
    assert!(ops.len() >= 13, "naive kernels: {ops:?}");
    for ctx in adapters() {
        let kernels = baselines::Baselines::new(ctx.device());
        for act in &ops {
            let name = act.name();
            let naive = kernels.naive_of(act).expect("listed by naive_activations");
            let got = kernels
                .run_naive(ctx, naive, &x)
                .unwrap_or_else(|e| panic!("{}: naive {name}: {e}", describe(ctx)));
            for (&xi, &yi) in x.iter().zip(&got) {
                let want = cpu::forward_f64(*act, f64::from(xi));
                let error = (f64::from(yi) - want).abs() / want.abs().max(1.0);
                assert!(
                    error < 1e-3,
                    "{}: naive {name}({xi}) = {yi}, reference {want}",
                    describe(ctx)
                );
            }
        }
    }
}
