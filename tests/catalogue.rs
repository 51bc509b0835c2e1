//! The catalogue's rows (src/activation.rs, one per op) against the values
//! the crate had before they were rows: every op's bound at both tiers,
//! which ops are piecewise linear and exact, the spellings.

use wgpu_activations::accuracy::{target, target_at};
use wgpu_activations::{Activation, Mode, Precision};

/// The piecewise-linear ops, as listed before the catalogue had rows.
const PIECEWISE_LINEAR: [&str; 8] = [
    "relu",
    "leaky_relu",
    "rrelu",
    "hardtanh",
    "relu6",
    "softshrink",
    "hardshrink",
    "threshold",
];

#[test]
fn every_op_keeps_its_bound_at_both_tiers() {
    for act in Activation::ALL {
        let linear = PIECEWISE_LINEAR.contains(&act.name());
        let exact = linear || matches!(act.name(), "relu_squared" | "identity");
        assert_eq!(act.is_piecewise_linear(), linear, "{act}");
        assert_eq!(act.is_exact(), exact, "{act}");
        for mode in Mode::ALL {
            let (precise, fast) = if exact {
                (None, None)
            } else {
                match mode {
                    Mode::Forward => (Some(2.0), Some(4.0)),
                    Mode::Derivative => (Some(4.0), Some(8.0)),
                    Mode::Backward => (Some(5.0), Some(8.0)),
                }
            };
            assert_eq!(target(*act, mode), precise, "{act} {mode:?}");
            assert_eq!(
                target_at(*act, mode, Precision::Precise),
                precise,
                "{act} {mode:?}"
            );
            assert_eq!(
                target_at(*act, mode, Precision::Fast),
                fast,
                "{act} {mode:?}"
            );
        }
    }
}

#[test]
fn every_spelling_names_one_op() {
    // Every ACT2FN key but prelu parses, and no name is two ops'.
    let mut seen = std::collections::HashMap::new();
    for key in Activation::ACT2FN_KEYS.iter().filter(|k| **k != "prelu") {
        let act: Activation = key.parse().unwrap();
        assert!(seen.insert(*key, act.name()).is_none(), "{key} twice");
    }
    for act in Activation::ALL {
        if let Some(other) = seen.get(act.name()) {
            assert_eq!(*other, act.name(), "{} names another op", act.name());
        }
    }
    assert_eq!(Activation::ACT2FN_KEYS.len(), 24);
    assert_eq!("logsigmoid".parse(), Ok(Activation::LogSigmoid));
    assert_eq!("leakyrelu".parse(), Ok(Activation::leaky_relu()));
}
