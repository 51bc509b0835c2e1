//! The f64 CPU reference against known values, closed forms, special values
//! and finite differences.

use approx::assert_abs_diff_eq;
use wgpu_activations::{Activation, Error, cpu};

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

/// (op, x, forward, derivative); NaN means "must be NaN"; zeros are compared
/// with their sign.
fn special_table() -> Vec<(Activation, f32, f32, f32)> {
    let inf = f32::INFINITY;
    let nan = f32::NAN;
    let leaky = Activation::leaky_relu();
    vec![
        (Activation::Sigmoid, inf, 1.0, 0.0),
        (Activation::Sigmoid, -inf, 0.0, 0.0),
        (Activation::Sigmoid, nan, nan, nan),
        (Activation::Sigmoid, -0.0, 0.5, 0.25),
        // e^-100 is 26.55 units of 2^-149: rounds to the subnormal 27 * 2^-149.
        (Activation::Sigmoid, 100.0, 1.0, f32::from_bits(27)),
        (Activation::Tanh, inf, 1.0, 0.0),
        (Activation::Tanh, -inf, -1.0, 0.0),
        (Activation::Tanh, nan, nan, nan),
        (Activation::Tanh, -0.0, -0.0, 1.0),
        (Activation::Tanh, 1e-40, 1e-40, 1.0),
        (Activation::Tanh, 1e-8, 1e-8, 1.0),
        (Activation::Relu, -0.0, -0.0, 0.0),
        (Activation::Relu, 0.0, 0.0, 0.0),
        (Activation::Relu, -5.0, 0.0, 0.0),
        (Activation::Relu, 1e-40, 1e-40, 1.0),
        (Activation::Relu, inf, inf, 1.0),
        (Activation::Relu, -inf, 0.0, 0.0),
        (Activation::Relu, nan, nan, nan),
        (leaky, 0.0, 0.0, 0.01),
        (leaky, -0.0, -0.0, 0.01),
        (leaky, -2.0, -0.02, 0.01),
        (leaky, inf, inf, 1.0),
        (leaky, -inf, -inf, 0.01),
        (leaky, nan, nan, nan),
    ]
}

pub fn same(got: f32, want: f32) -> bool {
    (got.is_nan() && want.is_nan()) || got.to_bits() == want.to_bits()
}

#[test]
fn special_values() {
    for (act, x, fwd, der) in special_table() {
        let got_f = cpu::forward(act, &[x]).unwrap()[0];
        let got_d = cpu::derivative(act, &[x]).unwrap()[0];
        assert!(
            same(got_f, fwd),
            "{}({x:e}) = {got_f:e}, want {fwd:e}",
            act.name()
        );
        assert!(
            same(got_d, der),
            "{}'({x:e}) = {got_d:e}, want {der:e}",
            act.name()
        );
    }
}

#[test]
fn derivatives_match_finite_differences_away_from_kinks() {
    let ops = [
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::leaky_relu(),
        Activation::LeakyRelu {
            negative_slope: 0.3,
        },
    ];
    for act in ops {
        for i in -2000..=2000 {
            let x = f64::from(i) * 0.01 + 0.005; // never exactly on the kink at 0
            let h = 1e-6;
            let fd = (cpu::forward_f64(act, x + h) - cpu::forward_f64(act, x - h)) / (2.0 * h);
            let d = cpu::derivative_f64(act, x);
            assert!(
                (fd - d).abs() <= 1e-7 * (1.0 + d.abs()),
                "{}'({x}) = {d}, finite difference {fd}",
                act.name()
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
    assert!(cpu::forward(Activation::Tanh, &[]).unwrap().is_empty());
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
