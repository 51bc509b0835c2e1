//! Gated activations (the GLU family): the CPU reference against values
//! written from the definitions (and PyTorch's), the GPU against the CPU
//! reference on every adapter (separate and packed layouts, odd sizes,
//! specials), and bad input.

use wgpu_activations::accuracy::{GatedPart, Judgement, judge_gated, strided_inputs};
use wgpu_activations::{Error, Gated, Precision, cpu};

use crate::support::{Rng, SPECIALS, adapters, describe, tiered_adapters};

/// PyTorch 2.x values (`F.glu`, `x * F.silu(g)`, `x * F.gelu(g)`, `x *
/// F.gelu(g, approximate="tanh")`, `x * F.relu(g)`), to 7 significant digits.
#[test]
fn cpu_reference_matches_known_values() {
    let close = |got: f32, want: f32| (got - want).abs() <= 1e-6 * want.abs().max(1.0);
    let cases: [(Gated, f32, f32, f32); 9] = [
        (Gated::Glu, 1.0, 0.5, 0.622_459_3),
        (Gated::Glu, 2.0, -1.0, 0.537_882_8),
        (Gated::Swiglu, 2.0, 1.0, 1.462_117_2),
        (Gated::Geglu, 1.0, 1.0, 0.841_344_7),
        (Gated::Geglu, -2.0, 0.5, -0.691_462_5),
        (Gated::GegluTanh, 1.0, 1.0, 0.841_192),
        (Gated::Reglu, 3.0, -1.0, 0.0),
        (Gated::Reglu, 3.0, 2.0, 6.0),
        (Gated::Swiglu, -1.5, 0.0, -0.0),
    ];
    for (kind, a, b, want) in cases {
        let got = cpu::gated_forward(kind, &[a], &[b]).unwrap()[0];
        assert!(close(got, want), "{kind}({a}, {b}) = {got}, want {want}");
    }
    // swiglu backward at value 2, gate 1, dy 1: silu(1) and 2 silu'(1).
    let (dv, dg) = cpu::gated_backward(Gated::Swiglu, &[2.0], &[1.0], &[1.0]).unwrap();
    assert!(
        close(dv[0], 0.731_058_6) && close(dg[0], 1.855_341),
        "{dv:?} {dg:?}"
    );
    // GLU backward: d_value = sigmoid(b), d_gate = a sigmoid(b)(1 - sigmoid(b)).
    let (dv, dg) = cpu::gated_backward(Gated::Glu, &[3.0], &[0.0], &[2.0]).unwrap();
    assert_eq!((dv[0], dg[0]), (1.0, 1.5));
    // Packed rows [value | gate] equal the separate form.
    let packed = cpu::gated_forward_packed(Gated::Glu, &[1.0, 2.0, 0.5, -1.0], 4).unwrap();
    assert_eq!(
        packed,
        cpu::gated_forward(Gated::Glu, &[1.0, 2.0], &[0.5, -1.0]).unwrap()
    );
}

#[test]
fn names_parse_and_display() {
    for kind in Gated::ALL {
        assert_eq!(kind.name().parse::<Gated>().unwrap(), kind);
        assert_eq!(kind.to_string(), kind.name());
    }
    assert_eq!("GeGLU-tanh".parse::<Gated>().unwrap(), Gated::GegluTanh);
    let error = "swish_glu".parse::<Gated>().unwrap_err();
    assert!(error.to_string().contains("swiglu"), "{error}");
    assert_eq!(Gated::Swiglu.gate(), wgpu_activations::Activation::Silu);
}

/// Gate inputs: every 2^16-th bit pattern (both signs, subnormals, NaN,
/// infinities) and the specials; values and grad_outputs drawn from [-4, 4)
/// with a few specials among them.
fn inputs() -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut gate = strided_inputs(16);
    gate.extend(SPECIALS);
    gate.extend([-10.01, -88.7, 1.3, -0.75, 20.0, -20.0]);
    let mut rng = Rng::new(0x6a7e);
    let mut draw = |i: usize| -> f32 {
        match i % 97 {
            0 => 0.0,
            1 => -0.0,
            2 => f32::NAN,
            3 => 1e-30,
            _ => (rng.unit() * 8.0 - 4.0) as f32,
        }
    };
    let value: Vec<f32> = (0..gate.len()).map(&mut draw).collect();
    let grad: Vec<f32> = (0..gate.len()).map(|i| draw(i + 5)).collect();
    (value, gate, grad)
}

fn check(
    failures: &mut Vec<String>,
    (what, precision): (&str, Precision),
    kind: Gated,
    part: GatedPart,
    (a, b, g): (f32, f32, f32),
    got: f32,
) {
    let j: Judgement = judge_gated(kind, part, a, b, g, got);
    if (j.broken_rule.is_some() || j.scaled > part.target_at(precision)) && failures.len() < 20 {
        failures.push(format!(
            "{what}: {kind} {part:?} at value {a:e}, gate {b:e}, dy {g:e}: got {got:e} \
             ({:#010x}); {} ULPs, {:.2} scaled, {:?}",
            got.to_bits(),
            j.ulps,
            j.scaled,
            j.broken_rule
        ));
    }
}

#[test]
fn gpu_gated_meets_the_targets_on_every_adapter() {
    let (value, gate, grad) = inputs();
    let n = gate.len();
    let mut failures = Vec::new();
    for (ctx, precision) in &tiered_adapters() {
        let on = format!("{} ({precision})", describe(ctx));
        let on = (on.as_str(), *precision);
        for kind in Gated::ALL {
            let y = ctx.gated_forward(kind, &value, &gate).unwrap();
            let (dv, dg) = ctx.gated_backward(kind, &value, &gate, &grad).unwrap();
            assert_eq!((y.len(), dv.len(), dg.len()), (n, n, n));
            for i in 0..n {
                let at = (value[i], gate[i], grad[i]);
                check(&mut failures, on, kind, GatedPart::Forward, at, y[i]);
                check(&mut failures, on, kind, GatedPart::DValue, at, dv[i]);
                check(&mut failures, on, kind, GatedPart::DGate, at, dg[i]);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Packed rows give exactly the separate form's bits, for row lengths from
/// 2 on (odd halves, halves around the workgroup size) and odd row counts.
#[test]
fn gpu_packed_rows_equal_the_separate_form() {
    let mut rng = Rng::new(0x9a7);
    for ctx in adapters() {
        for (rows, row_len) in [(1, 2), (3, 6), (7, 510), (2, 512), (5, 514), (1000, 8)] {
            let x: Vec<f32> = (0..rows * row_len)
                .map(|_| (rng.unit() * 16.0 - 8.0) as f32)
                .collect();
            let half = row_len / 2;
            let (mut value, mut gate) = (Vec::new(), Vec::new());
            for row in x.chunks(row_len) {
                value.extend_from_slice(&row[..half]);
                gate.extend_from_slice(&row[half..]);
            }
            let dy: Vec<f32> = (0..rows * half)
                .map(|_| (rng.unit() * 4.0 - 2.0) as f32)
                .collect();
            for kind in Gated::ALL {
                let packed = ctx.gated_forward_packed(kind, &x, row_len).unwrap();
                let separate = ctx.gated_forward(kind, &value, &gate).unwrap();
                assert_eq!(bits(&packed), bits(&separate), "{kind} {rows}x{row_len}");
                let dx = ctx.gated_backward_packed(kind, &x, row_len, &dy).unwrap();
                let (dv, dg) = ctx.gated_backward(kind, &value, &gate, &dy).unwrap();
                let mut joined = Vec::new();
                for r in 0..rows {
                    joined.extend_from_slice(&dv[r * half..(r + 1) * half]);
                    joined.extend_from_slice(&dg[r * half..(r + 1) * half]);
                }
                assert_eq!(bits(&dx), bits(&joined), "{kind} backward {rows}x{row_len}");
                let cpu_dx = cpu::gated_backward_packed(kind, &x, row_len, &dy).unwrap();
                assert_eq!(cpu_dx.len(), dx.len());
            }
        }
    }
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn gated_bad_input_is_an_error() {
    let ctx = &adapters()[0];
    let k = Gated::Swiglu;
    assert!(matches!(
        ctx.gated_forward(k, &[1.0, 2.0], &[1.0]),
        Err(Error::LengthMismatch { what: "gate", .. })
    ));
    assert!(matches!(
        ctx.gated_backward(k, &[1.0], &[1.0], &[1.0, 2.0]),
        Err(Error::LengthMismatch {
            what: "grad_output",
            ..
        })
    ));
    assert!(matches!(
        ctx.gated_forward_packed(k, &[1.0, 2.0, 3.0], 3),
        Err(Error::ShapeMismatch {
            what: "row_len",
            ..
        })
    ));
    assert!(matches!(
        ctx.gated_forward_packed(k, &[1.0, 2.0, 3.0], 2),
        Err(Error::ShapeMismatch { what: "x", .. })
    ));
    assert!(matches!(
        ctx.gated_forward_packed(k, &[1.0, 2.0], 0),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        ctx.gated_backward_packed(k, &[1.0, 2.0], 2, &[1.0, 2.0]),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        cpu::gated_forward_packed(k, &[1.0, 2.0, 3.0], 3),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(ctx.gated_forward(k, &[0.0_f32; 0], &[]).unwrap().is_empty());
    // Still usable afterwards.
    assert_eq!(
        ctx.gated_forward(Gated::Reglu, &[2.0], &[3.0]).unwrap(),
        [6.0]
    );
}
