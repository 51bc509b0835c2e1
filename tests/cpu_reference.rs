//! The f64 CPU reference against known values, closed forms, special values
//! and finite differences.

use approx::assert_abs_diff_eq;
use wgpu_activations::{Activation, Error, cpu};

use crate::support;

#[test]
fn seed_values_to_four_places() {
    // PyTorch: sigmoid([-3, 0, 3]) = [0.0474, 0.5000, 0.9526], tanh = [-0.9951, 0, 0.9951].
    let x = [-3.0, 0.0, 3.0];
    let s = cpu::forward(Activation::Sigmoid, &x).unwrap();
    for (got, want) in s.iter().zip([0.0474, 0.5000, 0.9526]) {
        assert_abs_diff_eq!(*got, want, epsilon = 0.5e-4);
    }
    let t = cpu::forward(Activation::Tanh, &x).unwrap();
    for (got, want) in t.iter().zip([-0.9951, 0.0, 0.9951]) {
        assert_abs_diff_eq!(*got, want, epsilon = 0.5e-4);
    }
}

#[test]
fn closed_forms() {
    for i in -400..=400 {
        let x = f64::from(i) * 0.05;
        let naive_sigmoid = 1.0 / (1.0 + (-x).exp());
        assert_abs_diff_eq!(cpu::sigmoid_forward(x), naive_sigmoid, epsilon = 1e-15);
        let naive_tanh = (x.exp() - (-x).exp()) / (x.exp() + (-x).exp());
        assert_abs_diff_eq!(cpu::tanh_forward(x), naive_tanh, epsilon = 1e-14);
        let s = naive_sigmoid;
        assert_abs_diff_eq!(cpu::sigmoid_derivative(x), s * (1.0 - s), epsilon = 1e-15);
        assert_abs_diff_eq!(
            cpu::tanh_derivative(x),
            1.0 - naive_tanh * naive_tanh,
            epsilon = 1e-14
        );
    }
    // Exact values.
    assert_eq!(cpu::sigmoid_forward(0.0), 0.5);
    assert_eq!(cpu::sigmoid_derivative(0.0), 0.25);
    assert_eq!(cpu::tanh_derivative(0.0), 1.0);
    assert_eq!(cpu::leaky_relu_forward(-2.0, 0.25), -0.5);
}

#[test]
fn semantic_rules() {
    let failures = support::broken_semantic_rules(|act, x| {
        (
            cpu::forward(act, &[x]).unwrap()[0],
            cpu::derivative(act, &[x]).unwrap()[0],
        )
    });
    assert!(
        failures.is_empty(),
        "CPU reference breaks SEMANTICS.md:\n{}",
        failures.join("\n")
    );
}

#[test]
fn derivatives_match_finite_differences_away_from_kinks() {
    for act in support::ops_under_test() {
        let kinks = support::kinks(act);
        for i in -2000..=2000 {
            let x = f64::from(i) * 0.01 + 0.003;
            if kinks.iter().any(|k| (x - k).abs() < 1e-3) {
                continue;
            }
            let h = 1e-6;
            let fd = (cpu::forward_f64(act, x + h) - cpu::forward_f64(act, x - h)) / (2.0 * h);
            let d = cpu::derivative_f64(act, x);
            assert!(
                (fd - d).abs() <= 1e-7 * (1.0 + d.abs()),
                "{act}'({x}) = {d}, central finite difference {fd}"
            );
        }
    }
}

#[test]
fn backward_is_grad_times_derivative() {
    let x = [-2.0, -0.5, 0.0, 0.5, 2.0];
    let dy = [1.0, -2.0, 3.0, 0.5, 0.25];
    for &act in Activation::ALL {
        let d = cpu::derivative(act, &x).unwrap();
        let b = cpu::backward(act, &x, &dy).unwrap();
        for i in 0..x.len() {
            assert_abs_diff_eq!(b[i], dy[i] * d[i], epsilon = 1e-6 * (dy[i] * d[i]).abs());
        }
    }
}

#[test]
fn empty_input_and_bad_input() {
    assert!(
        cpu::forward(Activation::Tanh, &[0.0_f32; 0])
            .unwrap()
            .is_empty()
    );
    assert!(matches!(
        cpu::backward(Activation::Tanh, &[1.0, 2.0], &[1.0]),
        Err(Error::LengthMismatch {
            expected: 2,
            actual: 1,
            ..
        })
    ));
    let bad = Activation::LeakyRelu {
        negative_slope: f32::NAN,
    };
    assert!(matches!(
        cpu::forward(bad, &[1.0]),
        Err(Error::InvalidParameter {
            parameter: "negative_slope",
            ..
        })
    ));
}

#[test]
fn names_are_pytorch_functional_names_and_parse_back() {
    let names: Vec<&str> = Activation::ALL.iter().map(|a| a.name()).collect();
    assert_eq!(
        names,
        [
            "sigmoid",
            "tanh",
            "relu",
            "leaky_relu",
            "elu",
            "selu",
            "celu",
            "gelu",
            "gelu_tanh",
            "silu",
            "mish",
            "softplus",
            "softsign",
            "hardtanh",
            "relu6",
            "hardsigmoid",
            "hardswish",
            "log_sigmoid",
            "tanhshrink",
            "softshrink",
            "hardshrink",
            "threshold",
            "rrelu",
            "quick_gelu",
            "relu_squared",
            "laplace",
            "clipped_gelu",
            "xielu",
            "identity",
            "sqrt_softplus"
        ]
    );
    for act in support::ops_under_test() {
        let text = act.to_string();
        assert_eq!(
            text.parse::<Activation>(),
            Ok(act),
            "{text} does not round-trip"
        );
    }
}

#[test]
fn parsing_takes_positional_named_and_default_parameters() {
    let parse = |s: &str| s.parse::<Activation>();
    assert_eq!(
        parse("leaky_relu(0.2)"),
        Ok(Activation::LeakyRelu {
            negative_slope: 0.2
        })
    );
    assert_eq!(parse("leaky_relu"), Ok(Activation::leaky_relu()));
    assert_eq!(
        parse("softplus(beta=2, threshold=10)"),
        Ok(Activation::Softplus {
            beta: 2.0,
            threshold: 10.0
        })
    );
    assert_eq!(
        parse("softplus(threshold=10)"),
        Ok(Activation::Softplus {
            beta: 1.0,
            threshold: 10.0
        })
    );
    assert_eq!(
        parse(" Hardtanh(-2, max_val = 3) "),
        Ok(Activation::Hardtanh {
            min_val: -2.0,
            max_val: 3.0
        })
    );
    assert_eq!(parse("swish"), Ok(Activation::Silu));
    assert_eq!(parse("gelu_tanh"), Ok(Activation::GeluTanh));
    assert_eq!(
        parse("threshold(0.5, -1)"),
        Ok(Activation::Threshold {
            threshold: 0.5,
            value: -1.0
        })
    );
    for bad in [
        "nope",
        "threshold",
        "threshold(0.5)",
        "leaky_relu(0.1, 0.2)",
        "leaky_relu(slope=0.1)",
        "softplus(beta=2, 3)",
        "elu(abc)",
        "elu(1",
        "softplus(beta=0)",
        "hardtanh(2, 1)",
        "softshrink(-1)",
        "leaky_relu(nan)",
    ] {
        assert!(parse(bad).is_err(), "{bad:?} parsed as {:?}", parse(bad));
    }
}

#[test]
fn invalid_parameters_are_errors() {
    let cases = [
        (
            Activation::LeakyRelu {
                negative_slope: f32::NAN,
            },
            "negative_slope",
        ),
        (
            Activation::Elu {
                alpha: f32::INFINITY,
            },
            "alpha",
        ),
        (Activation::Celu { alpha: 0.0 }, "alpha"),
        (
            Activation::Softplus {
                beta: 0.0,
                threshold: 20.0,
            },
            "beta",
        ),
        (
            Activation::Softplus {
                beta: 1.0,
                threshold: f32::NAN,
            },
            "threshold",
        ),
        (
            Activation::Hardtanh {
                min_val: 1.0,
                max_val: -1.0,
            },
            "min_val",
        ),
        (Activation::Softshrink { lambda: -0.5 }, "lambda"),
        (Activation::Hardshrink { lambda: -0.5 }, "lambda"),
        (
            Activation::Threshold {
                threshold: f32::NAN,
                value: 0.0,
            },
            "threshold",
        ),
        (
            Activation::Rrelu {
                lower: 0.5,
                upper: 0.1,
            },
            "lower",
        ),
    ];
    for (act, param) in cases {
        match cpu::forward(act, &[1.0]) {
            Err(Error::InvalidParameter { parameter, .. }) => {
                assert_eq!(parameter, param, "{act:?}")
            }
            other => panic!("{act:?}: expected InvalidParameter, got {other:?}"),
        }
    }
    for &act in Activation::ALL {
        assert!(act.validate().is_ok(), "{act:?}: defaults must be valid");
    }
}

#[test]
fn lists_split_only_outside_parentheses() {
    let ops =
        Activation::parse_list("gelu, softplus(beta=2, threshold=10),, leaky_relu(0.2)").unwrap();
    assert_eq!(
        ops,
        [
            Activation::Gelu,
            Activation::Softplus {
                beta: 2.0,
                threshold: 10.0
            },
            Activation::LeakyRelu {
                negative_slope: 0.2
            }
        ]
    );
    assert!(Activation::parse_list("gelu, nope").is_err());
}

/// The judge's subnormal rule: where the reference is below 2^-126, zero or a
/// tiny result with the right sign is right; a result above 2^-126 is judged
/// like any other, by ULPs / (1 + kappa).
#[test]
fn judge_near_the_subnormal_boundary() {
    use wgpu_activations::Mode;
    use wgpu_activations::accuracy::{Rule, judge};
    // gelu_tanh(-10.100637) = -1.1754932e-38, just below 2^-126; kappa ~ 270.
    let act = Activation::GeluTanh;
    let x = f32::from_bits(0xc121_9c36);
    let want = cpu::forward(act, &[x]).unwrap()[0];
    assert!(want < 0.0 && want.abs() < f32::MIN_POSITIVE, "{want:e}");
    for tiny in [-0.0, -1e-40, want] {
        let j = judge(act, Mode::Forward, x, 1.0, tiny);
        assert_eq!((j.scaled, j.broken_rule), (0.0, None), "{tiny:e}");
    }
    let j = judge(act, Mode::Forward, x, 1.0, 0.0);
    assert_eq!(j.broken_rule, Some(Rule::WrongSignedZero));
    // 41 ULPs past the boundary (relative error 5e-6), scaled by 1 + kappa.
    let above = f32::from_bits(0x8080_0021);
    let j = judge(act, Mode::Forward, x, 1.0, above);
    assert_eq!(j.ulps, 41.0);
    assert!(j.scaled > 0.1 && j.scaled < 0.2, "{}", j.scaled);
    // The same error on the wrong side of zero is far off.
    let j = judge(act, Mode::Forward, x, 1.0, -above);
    assert!(j.scaled > 1e4, "{}", j.scaled);
}

/// On a device that may flush subnormal inputs, a subnormal input's result is
/// also right when it is right for a zero of the input's sign, but a zero
/// result keeps the sign of the true result; on other devices only the input
/// itself counts.
#[test]
fn judge_on_a_device_that_flushes_subnormal_inputs() {
    use wgpu_activations::Mode;
    use wgpu_activations::accuracy::{Subnormals, judge_on};
    let ok = |j: wgpu_activations::accuracy::Judgement| j.broken_rule.is_none() && j.scaled == 0.0;
    // selu(-1.17e-38) = -2.06e-38 is normal; a flushed input gives -0.
    let x = f32::from_bits(0x807f_c000);
    assert!(ok(judge_on(
        Subnormals::MayFlush,
        Activation::Selu,
        Mode::Forward,
        x,
        1.0,
        -0.0
    )));
    assert!(!ok(judge_on(
        Subnormals::Kept,
        Activation::Selu,
        Mode::Forward,
        x,
        1.0,
        -0.0
    )));
    assert!(!ok(judge_on(
        Subnormals::MayFlush,
        Activation::Selu,
        Mode::Forward,
        x,
        1.0,
        0.0
    )));
    // sigmoid(1e-40) is 0.5 either way.
    assert!(ok(judge_on(
        Subnormals::Kept,
        Activation::Sigmoid,
        Mode::Forward,
        1e-40,
        1.0,
        0.5
    )));
    // tanhshrink(-1e-45) is a negative tiny: -0 is right, +0 (tanhshrink(-0.0)) is not.
    let t = Activation::Tanhshrink;
    assert!(ok(judge_on(
        Subnormals::MayFlush,
        t,
        Mode::Forward,
        -1e-45,
        1.0,
        -0.0
    )));
    assert!(!ok(judge_on(
        Subnormals::MayFlush,
        t,
        Mode::Forward,
        -1e-45,
        1.0,
        0.0
    )));
    // Normal inputs are judged as themselves only.
    assert!(!ok(judge_on(
        Subnormals::MayFlush,
        Activation::Selu,
        Mode::Forward,
        -1e-30,
        1.0,
        -0.0
    )));
}
