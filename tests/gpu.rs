//! GPU kernels against the f64 reference, on every adapter the machine offers.

use wgpu_activations::{Activation, Context, Error, Mode, cpu};

use crate::support;
use crate::support::{
    SPECIALS, adapters, assert_accurate, dense_grid, describe, grad_for, ops_under_test,
    random_sweep, run, tiered_adapters,
};

/// Every op and mode over `x` on every adapter, in both precision tiers,
/// each within its tier's target.
fn check_all_modes(x: &[f32]) {
    let grad = grad_for(x);
    for (ctx, _) in &tiered_adapters() {
        for act in ops_under_test() {
            for mode in Mode::ALL {
                let got = run(ctx, act, mode, x, &grad);
                assert_accurate(ctx, act, mode, x, &grad, &got);
            }
        }
    }
}

#[test]
fn seeded_random_sweep() {
    check_all_modes(&random_sweep(0x5eed, 300_000));
}

#[test]
fn dense_grid_over_minus_20_to_20() {
    check_all_modes(&dense_grid());
}

#[test]
fn special_values_against_reference() {
    check_all_modes(&SPECIALS);
}

#[test]
fn lengths_around_workgroup_boundaries() {
    let sweep = random_sweep(0x1e9, 1024);
    for len in [1, 3, 4, 255, 256, 257, 1000] {
        check_all_modes(&sweep[..len]);
    }
}

#[test]
fn empty_input_gives_empty_output() {
    for ctx in adapters() {
        for &act in Activation::ALL {
            assert!(ctx.forward(act, &[0.0_f32; 0]).unwrap().is_empty());
            assert!(ctx.derivative(act, &[0.0_f32; 0]).unwrap().is_empty());
            assert!(ctx.backward(act, &[0.0_f32; 0], &[]).unwrap().is_empty());
        }
    }
}

#[test]
fn seed_values_on_gpu() {
    let x = [-3.0, 0.0, 3.0];
    for ctx in adapters() {
        let s = ctx.forward(Activation::Sigmoid, &x).unwrap();
        let t = ctx.forward(Activation::Tanh, &x).unwrap();
        for (got, want) in s.iter().zip([0.0474, 0.5, 0.9526]) {
            assert!(
                (got - want).abs() < 0.5e-4,
                "sigmoid on {}: {s:?}",
                describe(ctx)
            );
        }
        for (got, want) in t.iter().zip([-0.9951, 0.0, 0.9951]) {
            assert!(
                (got - want).abs() < 0.5e-4,
                "tanh on {}: {t:?}",
                describe(ctx)
            );
        }
    }
}

/// The SEMANTICS.md rules, checked one by one with the expected bits written out.
#[test]
fn semantic_rules_hold_on_every_backend() {
    for (ctx, precision) in &tiered_adapters() {
        let failures = support::broken_semantic_rules_at(*precision, |act, x| {
            (
                ctx.forward(act, &[x]).unwrap()[0],
                ctx.derivative(act, &[x]).unwrap()[0],
            )
        });
        assert!(
            failures.is_empty(),
            "{} ({precision}) breaks SEMANTICS.md:\n{}",
            describe(ctx),
            failures.join("\n")
        );
    }
}

/// More elements than 65,535 workgroups of 256 can cover in x: the dispatch
/// must spill into y. Bit-exact ops make any indexing fault visible.
#[test]
fn past_the_65535_workgroup_limit() {
    let n = 65_535 * 256 + 1_001;
    let x: Vec<f32> = (0..n).map(|i| (i as f32 - (n / 2) as f32) * 0.5).collect();
    let grad: Vec<f32> = (0..n).map(|i| 1.0 + (i % 1024) as f32).collect();
    let leaky = Activation::LeakyRelu {
        negative_slope: 0.25,
    };
    for ctx in adapters() {
        let y = ctx.forward(leaky, &x).unwrap();
        let want = cpu::forward(leaky, &x).unwrap();
        let bad = support::first_mismatch(&y, &want);
        assert_eq!(
            bad,
            None,
            "leaky_relu forward on {}: first mismatch at index",
            describe(ctx)
        );
        let dx = ctx.backward(leaky, &x, &grad).unwrap();
        let want = cpu::backward(leaky, &x, &grad).unwrap();
        let bad = support::first_mismatch(&dx, &want);
        assert_eq!(
            bad,
            None,
            "leaky_relu backward on {}: first mismatch at index",
            describe(ctx)
        );
        // A smooth op over the same length, judged with its tolerance.
        let small: Vec<f32> = x.iter().map(|v| v * 1e-6).collect();
        let s = ctx.forward(Activation::Sigmoid, &small).unwrap();
        assert_accurate(ctx, Activation::Sigmoid, Mode::Forward, &small, &[], &s);
    }
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    for ctx in adapters() {
        let mismatch = ctx.backward(Activation::Tanh, &[1.0, 2.0, 3.0], &[1.0]);
        assert!(
            matches!(
                mismatch,
                Err(Error::LengthMismatch {
                    what: "grad_output",
                    expected: 3,
                    actual: 1
                })
            ),
            "{mismatch:?}"
        );
        for slope in [f32::NAN, f32::INFINITY] {
            let bad = Activation::LeakyRelu {
                negative_slope: slope,
            };
            assert!(matches!(
                ctx.forward(bad, &[1.0]),
                Err(Error::InvalidParameter { .. })
            ));
            assert!(matches!(
                ctx.derivative(bad, &[1.0]),
                Err(Error::InvalidParameter { .. })
            ));
            assert!(matches!(
                ctx.backward(bad, &[1.0], &[1.0]),
                Err(Error::InvalidParameter { .. })
            ));
        }
    }
}

#[test]
fn parameters_do_not_need_new_pipelines_and_give_different_results() {
    for ctx in adapters() {
        let x = [-4.0, -1.0, 2.0];
        for slope in [0.01, 0.5, -2.0] {
            let y = ctx
                .forward(
                    Activation::LeakyRelu {
                        negative_slope: slope,
                    },
                    &x,
                )
                .unwrap();
            assert_eq!(y, [-4.0 * slope, -slope, 2.0], "on {}", describe(ctx));
        }
    }
}

#[test]
fn context_is_send_sync_and_shares_across_threads() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Context>();
    let ctx = adapters()[0].clone();
    std::thread::scope(|s| {
        for t in 0..4 {
            let ctx = ctx.clone();
            s.spawn(move || {
                let x: Vec<f32> = (0..1000)
                    .map(|i| (i + t * 1000) as f32 * 0.01 - 20.0)
                    .collect();
                let y = ctx.forward(Activation::Tanh, &x).unwrap();
                assert_accurate(&ctx, Activation::Tanh, Mode::Forward, &x, &[], &y);
            });
        }
    });
}

/// CI sets WGPU_ACTIVATIONS_EXPECT_BACKENDS (e.g. "vulkan,gl") so that a
/// backend disappearing from the machine fails the run instead of shrinking it.
#[test]
fn expected_backends_are_present() {
    let Ok(expected) = std::env::var("WGPU_ACTIVATIONS_EXPECT_BACKENDS") else {
        assert!(!adapters().is_empty());
        return;
    };
    let present: Vec<String> = adapters()
        .iter()
        .map(|c| format!("{:?}", c.backend()).to_lowercase())
        .collect();
    for want in expected.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        assert!(
            present.iter().any(|p| p == &want.to_lowercase()),
            "backend {want} expected, adapters: {present:?}"
        );
    }
}

/// 2^26 f32 (256 MiB): past lavapipe's 128 MiB storage-binding limit, so the
/// kernels bind successive windows. Bit-exact op, every element checked.
#[test]
fn two_to_the_26_elements() {
    let n = 1usize << 26;
    let x: Vec<f32> = (0..n).map(|i| (i % 1_000_003) as f32 - 500_000.0).collect();
    let act = Activation::LeakyRelu {
        negative_slope: 0.125,
    };
    let want = cpu::forward(act, &x).unwrap();
    for ctx in adapters() {
        let y = ctx.forward(act, &x).unwrap();
        let bad = support::first_mismatch(&y, &want);
        assert_eq!(
            bad,
            None,
            "2^26 leaky_relu on {}: first mismatch at index",
            describe(ctx)
        );
    }
}
