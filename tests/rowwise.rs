//! Softmax, log-softmax and softmin: the CPU reference against values
//! written from the definitions (PyTorch's), the GPU against the CPU
//! reference on every adapter over row lengths from 1 to 2^20 (both kernel
//! shapes: one invocation per short row, one workgroup per longer row),
//! many short rows, PyTorch's specials, and bad input.

use wgpu_activations::accuracy::judge_value;
use wgpu_activations::wgsl::SHORT_ROW;
use wgpu_activations::{Context, Dtype, Error, Precision, RowKernels, RowOp, cpu};

use crate::support::{Rng, adapters, describe, row_backward_bounds, tiered_adapters};

/// `op` through explicit kernels: one invocation per row up to `limit`
/// columns, one workgroup per row beyond, its reductions on subgroup
/// operations where `subgroups` and the device has them.
fn run_forward_with(
    ctx: &Context,
    (limit, subgroups): (usize, bool),
    op: RowOp,
    x: &[f32],
    cols: usize,
) -> Vec<f32> {
    let kernels = RowKernels::with_shape(ctx.device(), limit, subgroups);
    let tx = ctx.upload(x).unwrap();
    let out = ctx.upload(&vec![0.0; x.len()]).unwrap();
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    kernels
        .with_precision(ctx.precision_for(Dtype::F32))
        .record_forward(&mut encoder, op, tx.region(), cols, out.region())
        .unwrap();
    ctx.queue().submit([encoder.finish()]);
    ctx.read(&out).unwrap()
}

/// `op`'s backward through explicit kernels (see [`run_forward_with`]).
fn run_backward_with(
    ctx: &Context,
    (limit, subgroups): (usize, bool),
    op: RowOp,
    (y, dy): (&[f32], &[f32]),
    cols: usize,
) -> Vec<f32> {
    let kernels = RowKernels::with_shape(ctx.device(), limit, subgroups);
    let (ty, tdy) = (ctx.upload(y).unwrap(), ctx.upload(dy).unwrap());
    let out = ctx.upload(&vec![0.0; y.len()]).unwrap();
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    kernels
        .with_precision(ctx.precision_for(Dtype::F32))
        .record_backward(
            &mut encoder,
            op,
            ty.region(),
            tdy.region(),
            cols,
            out.region(),
        )
        .unwrap();
    ctx.queue().submit([encoder.finish()]);
    ctx.read(&out).unwrap()
}

fn run_forward(ctx: &Context, op: RowOp, x: &[f32], cols: usize) -> Vec<f32> {
    match op {
        RowOp::Softmax => ctx.softmax(x, cols),
        RowOp::LogSoftmax => ctx.log_softmax(x, cols),
        RowOp::Softmin => ctx.softmin(x, cols),
        _ => unreachable!("every RowOp is listed"),
    }
    .unwrap_or_else(|e| panic!("{op} over rows of {cols} on {}: {e}", describe(ctx)))
}

fn run_backward(ctx: &Context, op: RowOp, y: &[f32], dy: &[f32], cols: usize) -> Vec<f32> {
    match op {
        RowOp::Softmax => ctx.softmax_backward(y, dy, cols),
        RowOp::LogSoftmax => ctx.log_softmax_backward(y, dy, cols),
        RowOp::Softmin => ctx.softmin_backward(y, dy, cols),
        _ => unreachable!("every RowOp is listed"),
    }
    .unwrap_or_else(|e| panic!("{op} backward, rows of {cols} on {}: {e}", describe(ctx)))
}

/// PyTorch 2.x: `F.softmax(torch.tensor([1., 2., 3.]), -1)` and friends.
#[test]
fn cpu_reference_matches_known_values() {
    let close = |got: &[f32], want: &[f32]| {
        got.len() == want.len()
            && got
                .iter()
                .zip(want)
                .all(|(g, w)| (g - w).abs() <= 1e-6 * w.abs().max(1.0))
    };
    let x = [1.0, 2.0, 3.0];
    let softmax = [0.090_030_57, 0.244_728_47, 0.665_240_96];
    assert!(close(&cpu::softmax(&x, 3).unwrap(), &softmax));
    assert!(close(
        &cpu::log_softmax(&x, 3).unwrap(),
        &[-2.407_606, -1.407_606, -0.407_606]
    ));
    assert!(close(
        &cpu::softmin(&x, 3).unwrap(),
        &[0.665_240_96, 0.244_728_47, 0.090_030_57]
    ));
    // softmax backward from y with dy = e_0: y_0 (1 - y_0), -y_0 y_j.
    let dx = cpu::softmax_backward(&softmax, &[1.0, 0.0, 0.0], 3).unwrap();
    assert!(
        close(&dx, &[0.081_925_07, -0.022_033_04, -0.059_892_02]),
        "{dx:?}"
    );
    // Specials, as PyTorch gives them.
    let inf = f32::INFINITY;
    assert!(
        cpu::softmax(&[inf, 1.0], 2)
            .unwrap()
            .iter()
            .all(|v| v.is_nan())
    );
    assert!(
        cpu::softmax(&[f32::NAN, 1.0], 2)
            .unwrap()
            .iter()
            .all(|v| v.is_nan())
    );
    assert!(
        cpu::softmax(&[-inf, -inf], 2)
            .unwrap()
            .iter()
            .all(|v| v.is_nan())
    );
    assert_eq!(cpu::softmax(&[0.0, -inf], 2).unwrap(), [1.0, 0.0]);
    assert_eq!(cpu::log_softmax(&[0.0, -inf], 2).unwrap(), [0.0, -inf]);
    assert_eq!(cpu::softmin(&[0.0, inf], 2).unwrap(), [1.0, 0.0]);
    assert_eq!(cpu::softmax(&[1e30, -1e30], 2).unwrap(), [1.0, 0.0]);
}

/// Rows of `cols` values: mostly in [-20, 20], some far out (underflowing
/// terms), a -inf now and then.
fn rows(rng: &mut Rng, rows: usize, cols: usize) -> Vec<f32> {
    (0..rows * cols)
        .map(|i| match i % 53 {
            7 => f32::NEG_INFINITY,
            11 => (rng.unit() * 200.0 - 100.0) as f32,
            _ => (rng.unit() * 40.0 - 20.0) as f32,
        })
        .collect()
}

/// Forward within 4 ULPs of the f64 reference per element (zero or tiny with
/// the right sign where the reference is below 2^-126), every op, rows from
/// 1 column to 2^20, through the context's kernels and through both kernel
/// shapes explicitly (one invocation per row, one workgroup per row).
#[test]
fn gpu_forward_within_4_ulps_on_every_adapter() {
    let shapes = [
        (5, 1),
        (3, 2),
        (4, 3),
        (7, SHORT_ROW - 1),
        (9, SHORT_ROW),
        (6, SHORT_ROW + 1),
        (3, 255),
        (2, 256),
        (3, 257),
        (2, 1000),
        (2, 4096),
        (1 << 20, 4),
        (1, 1 << 20),
    ];
    let mut failures = Vec::new();
    let mut rng = Rng::new(0x50f7);
    for (ctx, precision) in &tiered_adapters() {
        for (r, cols) in shapes {
            let x = rows(&mut rng, r, cols);
            let has_subgroups = ctx.device().features().contains(wgpu::Features::SUBGROUP);
            for (op, path) in RowOp::ALL.into_iter().flat_map(|op| {
                [
                    (op, "context"),
                    (op, "short"),
                    (op, "workgroup, tree"),
                    (op, "workgroup, subgroups"),
                ]
            }) {
                let got = match path {
                    "context" => run_forward(ctx, op, &x, cols),
                    "short" if cols <= 65_000 => {
                        run_forward_with(ctx, (usize::MAX, false), op, &x, cols)
                    }
                    "workgroup, tree" if r <= 4096 => {
                        run_forward_with(ctx, (0, false), op, &x, cols)
                    }
                    "workgroup, subgroups" if r <= 4096 && has_subgroups => {
                        run_forward_with(ctx, (0, true), op, &x, cols)
                    }
                    _ => continue,
                };
                assert_eq!(got.len(), x.len());
                let mut worst = 0.0f64;
                for (row, (xr, gr)) in x.chunks(cols).zip(got.chunks(cols)).enumerate() {
                    let want = cpu::row_forward_f64(op, xr);
                    // The fast tier's exponential errs in proportion to its
                    // argument x - max, and every entry depends on every
                    // exponential of its row (through the sum): judged in
                    // ULPs over 1 + the row's finite range, the largest such
                    // argument (the precise tier: plain ULPs).
                    let finite = xr.iter().filter(|v| v.is_finite());
                    let (lo, hi) =
                        finite.fold((f32::MAX, f32::MIN), |(l, h), &v| (l.min(v), h.max(v)));
                    let kappa = match precision {
                        Precision::Precise => 0.0,
                        Precision::Fast => (f64::from(hi) - f64::from(lo)).max(0.0),
                    };
                    for (j, (&w, &g)) in want.iter().zip(gr).enumerate() {
                        let judged = judge_value(w, g, false, || kappa);
                        worst = worst.max(judged.scaled);
                        if (judged.broken_rule.is_some() || judged.scaled > 4.0)
                            && failures.len() < 12
                        {
                            failures.push(format!(
                                "{} {op} ({path}) {r}x{cols}, row {row} col {j}: x {:e}, got \
                                 {g:e}, want {w:e}: {} ULPs {:?}",
                                describe(ctx),
                                xr[j],
                                judged.ulps,
                                judged.broken_rule
                            ));
                        }
                    }
                }
                eprintln!(
                    "{} {op} ({path}) {r}x{cols}: worst {worst} ULPs",
                    describe(ctx)
                );
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// PyTorch's specials on the GPU: a row with +inf or NaN is all NaN, a row
/// of -inf only is all NaN, a -inf entry gives exactly 0 (log-softmax -inf);
/// huge finite inputs do not overflow.
#[test]
fn gpu_specials_follow_pytorch() {
    let inf = f32::INFINITY;
    for ctx in adapters() {
        for cols in [2usize, 300] {
            let row = |values: &[f32]| -> Vec<f32> {
                let mut r = vec![0.5f32; cols];
                r[..values.len()].copy_from_slice(values);
                r
            };
            let x: Vec<f32> = [
                row(&[inf, 1.0]),
                row(&[f32::NAN, 1.0]),
                vec![-inf; cols],
                row(&[0.0, -inf]),
                row(&[3e38, -3e38]),
            ]
            .concat();
            let y = ctx.softmax(&x, cols).unwrap();
            let ly = ctx.log_softmax(&x, cols).unwrap();
            let on = describe(ctx);
            for r in 0..3 {
                let nan = |v: &[f32]| v[r * cols..(r + 1) * cols].iter().all(|v| v.is_nan());
                assert!(
                    nan(&y) && nan(&ly),
                    "{on}: row {r} of {cols} should be all NaN"
                );
            }
            assert_eq!(y[3 * cols + 1].to_bits(), 0, "{on}: softmax(-inf) is +0");
            assert_eq!(ly[3 * cols + 1], -inf, "{on}: log_softmax(-inf) is -inf");
            assert!(
                y[4 * cols..].iter().all(|v| v.is_finite()),
                "{on}: no overflow"
            );
            let want = cpu::softmax(&x, cols).unwrap();
            for (i, (g, w)) in y.iter().zip(&want).enumerate().skip(3 * cols) {
                assert!(
                    (g - w).abs() <= 4.0 * f32::EPSILON * w.abs(),
                    "{on}: [{i}] {g} vs {w}"
                );
            }
            // A NaN in dy makes the row's sum NaN, and every dx of the row
            // with it; an inf in dy gives what IEEE arithmetic gives.
            let y = ctx.softmax(&vec![0.25f32; 2 * cols], cols).unwrap();
            let mut dy = vec![1.0f32; 2 * cols];
            dy[1] = f32::NAN;
            dy[cols + 1] = inf;
            for dx in [
                ctx.softmax_backward(&y, &dy, cols).unwrap(),
                ctx.log_softmax_backward(&y, &dy, cols).unwrap(),
            ] {
                assert!(dx[..cols].iter().all(|v| v.is_nan()), "{on}: NaN in dy");
                assert!(dx[cols..].iter().all(|v| v.is_nan() || v.is_infinite()));
            }
            let got = ctx.softmax_backward(&y, &dy, cols).unwrap();
            let want = cpu::softmax_backward(&y, &dy, cols).unwrap();
            for (g, w) in got[cols..].iter().zip(&want[cols..]) {
                let same = g.to_bits() == w.to_bits() || (g.is_nan() && w.is_nan());
                assert!(same, "{on}: {g} vs {w}");
            }
        }
    }
}

/// Backward from the forward's output: within 4 ULPs of the terms' scale
/// (`|y| (|dy| + |sum|)`, log-softmax `|dy| + e^y |sum|`), the f64
/// reference taken from the same `y` and `dy`.
#[test]
fn gpu_backward_matches_the_reference() {
    let mut rng = Rng::new(0xbac);
    let mut failures = Vec::new();
    for (ctx, precision) in &tiered_adapters() {
        for (r, cols) in [
            (5, 1),
            (7, 13),
            (3, SHORT_ROW + 1),
            (2, 257),
            (2, 4096),
            (4096, 4),
        ] {
            let x = rows(&mut rng, r, cols);
            let dy: Vec<f32> = (0..x.len())
                .map(|_| (rng.unit() * 4.0 - 2.0) as f32)
                .collect();
            let shapes: [(&str, Option<(usize, bool)>); 4] = [
                ("context", None),
                ("short", Some((usize::MAX, false))),
                ("workgroup, tree", Some((0, false))),
                ("workgroup, subgroups", Some((0, true))),
            ];
            for (op, (path, shape)) in RowOp::ALL
                .into_iter()
                .flat_map(|op| shapes.iter().map(move |s| (op, *s)))
            {
                let y = run_forward(ctx, op, &x, cols);
                let got = match shape {
                    None => run_backward(ctx, op, &y, &dy, cols),
                    Some(shape) => run_backward_with(ctx, shape, op, (&y, &dy), cols),
                };
                for (row, ((yr, dr), gr)) in y
                    .chunks(cols)
                    .zip(dy.chunks(cols))
                    .zip(got.chunks(cols))
                    .enumerate()
                {
                    let want = cpu::row_backward_f64(op, yr, dr);
                    let bounds = row_backward_bounds(op, *precision, yr, dr);
                    for j in 0..cols {
                        let bound = bounds[j];
                        let error = (f64::from(gr[j]) - want[j]).abs();
                        let both_nan = want[j].is_nan() && gr[j].is_nan();
                        let within = error <= bound;
                        if !both_nan && !within && failures.len() < 12 {
                            failures.push(format!(
                                "{} {op} backward ({path}) {r}x{cols}, row {row} col {j}: got \
                                 {:e}, want {:e} (bound {bound:e})",
                                describe(ctx),
                                gr[j],
                                want[j]
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rowwise_bad_input_is_an_error() {
    let ctx = &adapters()[0];
    assert!(matches!(
        ctx.softmax(&[1.0, 2.0], 0),
        Err(Error::ShapeMismatch { what: "cols", .. })
    ));
    assert!(matches!(
        ctx.log_softmax(&[1.0, 2.0, 3.0], 2),
        Err(Error::ShapeMismatch { what: "x", .. })
    ));
    assert!(matches!(
        ctx.softmax_backward(&[0.5, 0.5], &[1.0], 2),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        cpu::softmin(&[1.0], 0),
        Err(Error::ShapeMismatch { .. })
    ));
    assert!(matches!(
        ctx.softmax(&[0.0_f32; 0], wgpu_activations::wgsl::MAX_COLS + 1),
        Err(Error::ShapeMismatch { what: "cols", .. })
    ));
    assert!(ctx.softmax(&[0.0_f32; 0], 3).unwrap().is_empty());
    assert_eq!(ctx.softmax(&[7.0], 1).unwrap(), [1.0]);
}
