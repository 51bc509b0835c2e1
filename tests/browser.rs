//! The portable kernels (`wgsl::portable_module`) in a real browser's
//! WebGPU: headless Chromium, whose shader compiler is Tint and whose driver
//! here is SwiftShader, a second compiler and driver beside naga on Mesa.
//! Every op (default and non-default parameters) in every mode over every
//! 2^14-th f32 bit pattern, the special values, each op's switch points and
//! kinks with their neighbours one ULP away, and the regression inputs,
//! judged by the same code and held to the same targets as on wgpu (with a
//! zero's result accepted for a subnormal input where the device flushes
//! subnormals, as SEMANTICS.md allows). A missing Chromium fails the test
//! with install instructions; it never skips.

use wgpu_activations::accuracy::{strided_inputs, sweep_with};
use wgpu_activations::browser::Browser;
use wgpu_activations::{Activation, Error, Mode, Precision};

use crate::support::{
    REGRESSION_INPUTS, SPECIALS, boundary_inputs, ops_under_test, target_miss_at,
};

/// Every 2^STRIDE_LOG2-th bit pattern, as in tests/accuracy_sweep.rs.
const STRIDE_LOG2: u32 = 14;

/// A Chromium for one test (0.6 s to start here). Not shared through a
/// static: statics are never dropped, and dropping the `Browser` is what
/// ends Chromium, also when the test panics.
fn browser() -> Browser {
    match Browser::launch() {
        Ok(browser) => {
            let (inputs, results) = browser.flushes_subnormals();
            eprintln!(
                "browser checks run on: {} ({}), WebGPU adapter {}; flushes subnormal operands: \
                 {inputs}, results: {results}; features: {}",
                browser.executable().display(),
                browser.user_agent(),
                browser.adapter(),
                browser.features().join(", ")
            );
            browser
        }
        Err(e) => panic!(
            "the browser tests need Chromium with WebGPU and could not start it: {e}\n\
             Install it with `apt-get install -y chromium` (Debian, Ubuntu; .ci/run does), or \
             point WGPU_ACTIVATIONS_CHROMIUM at a Chromium or Chrome executable. To run the \
             other tests without it: `cargo test --release -- --skip browser`."
        ),
    }
}

/// The inputs every op is judged at in the browser.
fn inputs(act: Activation) -> Vec<f32> {
    let mut x = strided_inputs(STRIDE_LOG2);
    x.extend(SPECIALS);
    x.push(-f32::NAN);
    x.extend(REGRESSION_INPUTS);
    x.extend(boundary_inputs(act));
    x
}

#[test]
fn browser_webgpu_meets_the_accuracy_targets() {
    let mut browser = browser();
    let subnormals = browser.subnormals();
    let mut failures = Vec::new();
    let mut judged = 0u64;
    for precision in Precision::ALL {
        browser.set_precision(precision);
        for act in ops_under_test() {
            let x = inputs(act);
            for mode in Mode::ALL {
                let run = |chunk: &[f32], grad: &[f32]| browser.run(act, mode, chunk, grad);
                let stats = sweep_with(act, mode, &x, subnormals, run).unwrap_or_else(|e| {
                    panic!("{act} {mode:?} ({precision}) in {}: {e}", browser.adapter())
                });
                assert_eq!(stats.worst.count, x.len() as u64, "every input judged");
                judged += stats.worst.count;
                failures.extend(target_miss_at(
                    act,
                    mode,
                    precision,
                    browser.adapter(),
                    &stats,
                ));
            }
        }
    }
    eprintln!(
        "browser accuracy: {judged} results judged in {} ({subnormals:?})",
        browser.adapter()
    );
    assert!(
        failures.is_empty(),
        "{} op/mode combinations miss SEMANTICS.md's accuracy targets in {}:\n{}",
        failures.len(),
        browser.adapter(),
        failures.join("\n")
    );
    let notes = browser.compilation_notes();
    assert!(
        notes.is_empty(),
        "Tint's compilation messages (portable WGSL should compile without any):\n{}",
        notes.join("\n")
    );
}

/// The `_in_place` entry points give the out-of-place bits, over lengths
/// that leave every tail size (0 to 3) and one that needs several
/// workgroups.
#[test]
fn browser_in_place_matches_out_of_place() {
    let browser = browser();
    let mut failures = Vec::new();
    for act in [
        Activation::Gelu,
        Activation::leaky_relu(),
        Activation::Softplus {
            beta: 2.0,
            threshold: 10.0,
        },
    ] {
        for len in [1usize, 2, 3, 4, 7, 1021, 4099] {
            let x: Vec<f32> = (0..len).map(|i| (i as f32 - 500.0) * 0.013).collect();
            let dy: Vec<f32> = (0..len).map(|i| 1.0 + (i % 7) as f32 * 0.25).collect();
            for mode in Mode::ALL {
                let grad: &[f32] = if mode == Mode::Backward { &dy } else { &[] };
                let out = browser.run(act, mode, &x, grad).unwrap();
                let in_place = browser.run_in_place(act, mode, &x, grad).unwrap();
                assert_eq!(out.len(), len);
                let differ = out
                    .iter()
                    .zip(&in_place)
                    .position(|(a, b)| a.to_bits() != b.to_bits());
                if let Some(i) = differ {
                    failures.push(format!(
                        "{act} {mode:?}, {len} elements: element {i}: {} out of place, {} in place",
                        out[i], in_place[i]
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Bad input is an error before anything reaches the page, as on wgpu; an
/// empty input is an empty result.
#[test]
fn browser_bad_input_is_an_error() {
    let browser = browser();
    let nan_slope = Activation::LeakyRelu {
        negative_slope: f32::NAN,
    };
    assert!(matches!(
        browser.run(nan_slope, Mode::Forward, &[1.0], &[]),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        browser.run(Activation::Gelu, Mode::Backward, &[1.0, 2.0], &[1.0]),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        browser.run(Activation::Gelu, Mode::Forward, &[1.0], &[1.0]),
        Err(Error::UnexpectedGradOutput { .. })
    ));
    assert_eq!(
        browser
            .run(Activation::Gelu, Mode::Forward, &[0.0_f32; 0], &[])
            .unwrap(),
        Vec::<f32>::new()
    );
    // And the device is still usable afterwards.
    let y = browser
        .run(Activation::Relu, Mode::Forward, &[-1.0, 2.0], &[])
        .unwrap();
    assert_eq!(y, [0.0, 2.0]);
}

/// The kernel families in the browser, judged as on wgpu: gated kinds
/// (separate and packed) within 2/3/5 scaled ULPs, softmax, log-softmax and
/// softmin within 4 ULPs over both kernel shapes, PReLU and RReLU against
/// the reference, and PReLU's slope gradients with the same bits as on
/// every wgpu adapter.
#[test]
fn browser_kernel_families_meet_the_targets() {
    use wgpu_activations::accuracy::{GatedPart, judge_gated_on, judge_value};
    use wgpu_activations::{Gated, RowOp, cpu};

    let browser = browser();
    let subnormals = browser.subnormals();
    let mut failures = Vec::new();
    let mut rng = crate::support::Rng::new(0xb40);
    // Gated: every 2^16-th bit pattern as the gate.
    let mut gate = strided_inputs(16);
    gate.extend(SPECIALS);
    let value: Vec<f32> = (0..gate.len())
        .map(|_| (rng.unit() * 8.0 - 4.0) as f32)
        .collect();
    let grad: Vec<f32> = (0..gate.len())
        .map(|_| (rng.unit() * 4.0 - 2.0) as f32)
        .collect();
    for kind in Gated::ALL {
        let y = browser.gated_forward(kind, &value, &gate).unwrap();
        let (dv, dg) = browser.gated_backward(kind, &value, &gate, &grad).unwrap();
        for i in 0..gate.len() {
            let at = (value[i], gate[i], grad[i]);
            for (part, got) in [
                (GatedPart::Forward, y[i]),
                (GatedPart::DValue, dv[i]),
                (GatedPart::DGate, dg[i]),
            ] {
                let j = judge_gated_on(subnormals, kind, part, at, got);
                if (j.broken_rule.is_some() || j.scaled > part.target()) && failures.len() < 20 {
                    failures.push(format!(
                        "{kind} {part:?} at {at:?}: got {got:e}, {} ULPs {:?}",
                        j.ulps, j.broken_rule
                    ));
                }
            }
        }
        let x: Vec<f32> = (0..6 * 514)
            .map(|_| (rng.unit() * 16.0 - 8.0) as f32)
            .collect();
        let packed = browser.gated_forward_packed(kind, &x, 514).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for row in x.chunks(514) {
            a.extend_from_slice(&row[..257]);
            b.extend_from_slice(&row[257..]);
        }
        let separate = browser.gated_forward(kind, &a, &b).unwrap();
        if packed
            .iter()
            .zip(&separate)
            .any(|(p, s)| p.to_bits() != s.to_bits())
        {
            failures.push(format!("{kind}: packed rows differ from the separate form"));
        }
        let dy: Vec<f32> = (0..x.len() / 2)
            .map(|_| (rng.unit() * 2.0 - 1.0) as f32)
            .collect();
        let dx = browser.gated_backward_packed(kind, &x, 514, &dy).unwrap();
        assert_eq!(dx.len(), x.len());
    }
    // Row-wise: both kernel shapes, short and long rows, with -inf entries.
    for (rows, cols) in [(7, 3), (5, 33), (3, 257), (2, 4096)] {
        let x: Vec<f32> = (0..rows * cols)
            .map(|i| {
                if i % 53 == 7 {
                    f32::NEG_INFINITY
                } else {
                    (rng.unit() * 40.0 - 20.0) as f32
                }
            })
            .collect();
        let dy: Vec<f32> = (0..x.len())
            .map(|_| (rng.unit() * 4.0 - 2.0) as f32)
            .collect();
        for op in RowOp::ALL {
            for limit in [0usize, 4096] {
                let y = browser.row_forward(op, &x, cols, limit).unwrap();
                for (r, (xr, yr)) in x.chunks(cols).zip(y.chunks(cols)).enumerate() {
                    for (j, (&w, &g)) in cpu::row_forward_f64(op, xr).iter().zip(yr).enumerate() {
                        let judged = judge_value(w, g, false, || 0.0);
                        if (judged.broken_rule.is_some() || judged.ulps > 4.0)
                            && failures.len() < 20
                        {
                            failures.push(format!("{op} (short up to {limit}) {rows}x{cols} [{r}][{j}]: got {g:e}, want {w:e}"));
                        }
                    }
                }
                let dx = browser.row_backward(op, &y, &dy, cols, limit).unwrap();
                let want = cpu::softmax_backward(&y, &dy, cols).unwrap();
                if op == RowOp::Softmax {
                    for (g, w) in dx.iter().zip(&want) {
                        let close =
                            (g - w).abs() <= 1e-5 * w.abs().max(1e-3) || (g.is_nan() && w.is_nan());
                        if !close && failures.len() < 20 {
                            failures.push(format!(
                                "{op} backward {rows}x{cols}: got {g:e}, want {w:e}"
                            ));
                        }
                    }
                }
            }
        }
    }
    // PReLU and RReLU; the slope gradients' bits as on every wgpu adapter.
    // Blocks of 300: the 3-D grid of PReLU's block kernels.
    let shape = [3, 5, 300];
    let len = 3 * 5 * 300;
    let x: Vec<f32> = (0..len).map(|_| (rng.unit() * 16.0 - 8.0) as f32).collect();
    let dy: Vec<f32> = (0..len).map(|_| (rng.unit() * 4.0 - 2.0) as f32).collect();
    let slopes = [0.1f32, -0.2, 0.3, 0.25, 1.5];
    let (y, dx, ds) = browser.prelu(&x, &slopes, &dy, shape).unwrap();
    let (y97, _, _) = browser
        .prelu(&x[..3 * 5 * 97], &slopes, &dy[..3 * 5 * 97], [3, 5, 97])
        .unwrap();
    assert_eq!(
        y97,
        cpu::prelu(&x[..3 * 5 * 97], &slopes, [3, 5, 97]).unwrap(),
        "prelu, blocks of 97"
    );
    assert_eq!(
        y,
        cpu::prelu(&x, &slopes, shape).unwrap(),
        "prelu in the browser"
    );
    let (want_dx, _) = cpu::prelu_backward(&x, &slopes, &dy, shape).unwrap();
    assert_eq!(dx, want_dx, "prelu dx in the browser");
    for ctx in crate::support::adapters() {
        let (_, wgpu_ds) = ctx.prelu_backward(&x, &slopes, &dy, shape).unwrap();
        let bits = |v: &[f32]| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(&ds),
            bits(&wgpu_ds),
            "d_slopes: browser vs {}",
            crate::support::describe(ctx)
        );
    }
    let (ry, noise) = browser.rrelu_train(&x, 0.125, 1.0 / 3.0, 42).unwrap();
    let (want_y, want_noise) = cpu::rrelu_train(&x, 0.125, 1.0 / 3.0, 42).unwrap();
    assert_eq!((ry, noise), (want_y, want_noise), "rrelu in the browser");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let notes = browser.compilation_notes();
    assert!(
        notes.is_empty(),
        "Tint's compilation messages:\n{}",
        notes.join("\n")
    );
}

/// f16 and bf16 in the browser: every one of the 65,536 patterns of each
/// type through every op in every mode, on the u32-word modules
/// (`wgsl::portable_module_typed`), within 1 ULP of the reference rounded to
/// the type. SwiftShader flushes f32 subnormals: f16's conversions have no
/// subnormal operand and its values are all normal in f32, so f16 is held
/// to the bound with no exception; bf16 subnormals are f32 subnormals, so
/// where the device flushes them a bf16 result may also be that of the
/// input's (or, backward, the grad's) signed zero where that is subnormal,
/// or a zero of the reference's sign where the reference is below 2^-126
/// before rounding, as SEMANTICS.md allows.
#[test]
fn browser_16_bit_data_is_within_one_ulp() {
    use half::{bf16, f16};
    use wgpu_activations::Element;
    use wgpu_activations::accuracy::{half_grad_outputs, half_inputs, half_ulps};
    fn check<T: Element>(browser: &Browser, failures: &mut Vec<String>) -> u64 {
        let (flush_inputs, flush_results) = browser.flushes_subnormals();
        let subnormal = |v: T| {
            let f = v.to_f64();
            f != 0.0 && f.abs() < f64::from(f32::MIN_POSITIVE)
        };
        let x = half_inputs::<T>();
        let grad = half_grad_outputs::<T>();
        let mut judged = 0;
        for &act in Activation::ALL {
            for mode in Mode::ALL {
                let g: &[T] = if mode == Mode::Backward { &grad } else { &[] };
                let got = browser
                    .run(act, mode, &x, g)
                    .unwrap_or_else(|e| panic!("{act} {mode:?} {:?}: {e}", T::DTYPE));
                let reference = |x: &[T]| {
                    match mode {
                        Mode::Forward => wgpu_activations::cpu::forward(act, x),
                        Mode::Derivative => wgpu_activations::cpu::derivative(act, x),
                        Mode::Backward => wgpu_activations::cpu::backward(act, x, &grad[..x.len()]),
                    }
                    .unwrap()
                };
                let want = reference(&x);
                let mut bad = 0;
                for i in 0..x.len() {
                    judged += 1;
                    if matches!(half_ulps(got[i], want[i]), Ok(0 | 1)) {
                        continue;
                    }
                    let zero_input = flush_inputs && subnormal(x[i]) && {
                        let z = T::round_from_f64(0.0f64.copysign(x[i].to_f64()));
                        let mut xi = x.clone();
                        xi[i] = z;
                        let w = reference(&xi[..=i]);
                        matches!(half_ulps(got[i], w[i]), Ok(0 | 1))
                    };
                    let zero_grad =
                        flush_inputs && mode == Mode::Backward && subnormal(grad[i]) && {
                            let z = T::round_from_f64(0.0f64.copysign(grad[i].to_f64()));
                            let w = wgpu_activations::cpu::backward(act, &x[i..=i], &[z]).unwrap();
                            matches!(half_ulps(got[i], w[0]), Ok(0 | 1))
                        };
                    // A reference below 2^-126 before rounding (it may round
                    // up to 2^-126 itself) came from an f32 subnormal.
                    let zero_result = flush_results
                        && (subnormal(want[i])
                            || want[i].to_f64().abs() == f64::from(f32::MIN_POSITIVE))
                        && got[i].to_f64() == 0.0
                        && got[i].to_f64().is_sign_negative()
                            == want[i].to_f64().is_sign_negative();
                    if !(zero_input || zero_grad || zero_result) {
                        bad += 1;
                        if bad <= 3 {
                            failures.push(format!(
                                "{act} {mode:?} {:?}: x = {} ({:#06x}): got {} ({:#06x}), want {} ({:#06x})",
                                T::DTYPE,
                                x[i],
                                x[i].to_bits_u32(),
                                got[i],
                                got[i].to_bits_u32(),
                                want[i],
                                want[i].to_bits_u32()
                            ));
                        }
                    }
                }
                if bad > 3 {
                    failures.push(format!("{act} {mode:?} {:?}: {bad} wrong in all", T::DTYPE));
                }
            }
        }
        judged
    }
    let browser = browser();
    let mut failures = Vec::new();
    let judged = check::<f16>(&browser, &mut failures) + check::<bf16>(&browser, &mut failures);
    eprintln!("browser 16-bit sweep: {judged} results judged");
    assert!(
        browser.compilation_notes().is_empty(),
        "{:?}",
        browser.compilation_notes()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // Odd lengths: the tail words and the kept high half.
    fn odd_lengths<T: Element>(browser: &Browser, act: Activation, start: usize) {
        for n in [1usize, 3, 7, 9, 17] {
            let x: Vec<T> = half_inputs::<T>()[start..start + n].to_vec();
            let got = browser.run(act, Mode::Derivative, &x, &[]).unwrap();
            let want = wgpu_activations::cpu::derivative(act, &x).unwrap();
            for (g, w) in got.iter().zip(&want) {
                let verdict = half_ulps(*g, *w);
                assert!(matches!(verdict, Ok(0 | 1)), "{act} n = {n}: {g} vs {w}");
            }
        }
    }
    odd_lengths::<f16>(&browser, Activation::Gelu, 0x3800);
    odd_lengths::<bf16>(&browser, Activation::Silu, 0x3f00);
}
