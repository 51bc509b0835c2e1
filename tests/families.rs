//! The kernel families' GPU-resident forms (`Batch`, `Context::apply_*`):
//! the same bits as the host-slice forms, chains in one submission, and
//! errors before anything is recorded.

use wgpu_activations::{Error, Gated, Mode, RowOp};

use crate::support::{Rng, adapters, describe};

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn resident_forms_equal_the_host_forms() {
    let mut rng = Rng::new(0xfa);
    for ctx in adapters() {
        let on = describe(ctx);
        let (rows, row_len) = (37, 2 * 45);
        let x: Vec<f32> = (0..rows * row_len)
            .map(|_| (rng.unit() * 8.0 - 4.0) as f32)
            .collect();
        let dy: Vec<f32> = (0..rows * row_len / 2)
            .map(|_| (rng.unit() * 2.0 - 1.0) as f32)
            .collect();
        let tx = ctx.upload(&x).unwrap();
        let tdy = ctx.upload(&dy).unwrap();
        // A chain in one submission: SwiGLU over packed rows, then a softmax
        // over its rows, then the softmax's backward; one readback.
        let mut batch = ctx.batch();
        let h = batch.gated_packed(Gated::Swiglu, &tx, row_len).unwrap();
        let y = batch.row_forward(RowOp::Softmax, &h, row_len / 2).unwrap();
        let dh = batch
            .row_backward(RowOp::Softmax, &y, &tdy, row_len / 2)
            .unwrap();
        let read = batch.read_all(&[&h, &y, &dh]).unwrap();
        let host_h = ctx
            .gated_forward_packed(Gated::Swiglu, &x, row_len)
            .unwrap();
        let host_y = ctx.softmax(&host_h, row_len / 2).unwrap();
        let host_dh = ctx.softmax_backward(&host_y, &dy, row_len / 2).unwrap();
        assert_eq!(bits(&read[0]), bits(&host_h), "{on}: gated");
        assert_eq!(bits(&read[1]), bits(&host_y), "{on}: softmax");
        assert_eq!(bits(&read[2]), bits(&host_dh), "{on}: softmax backward");
        // Separate value and gate, and the backward's two outputs.
        let (value, gate) = (&x[..dy.len()], &x[dy.len()..]);
        let (tv, tg) = (ctx.upload(value).unwrap(), ctx.upload(gate).unwrap());
        let (dv, dg) = ctx
            .apply_gated_backward(Gated::Geglu, &tv, &tg, &tdy)
            .unwrap();
        let (host_dv, host_dg) = ctx.gated_backward(Gated::Geglu, value, gate, &dy).unwrap();
        assert_eq!(
            bits(&ctx.read(&dv).unwrap()),
            bits(&host_dv),
            "{on}: d_value"
        );
        assert_eq!(
            bits(&ctx.read(&dg).unwrap()),
            bits(&host_dg),
            "{on}: d_gate"
        );
        // PReLU and RReLU.
        let shape = [rows, 3, row_len / 3];
        let slopes = [0.1f32, -0.2, 0.3];
        let ts = ctx.upload(&slopes).unwrap();
        let py = ctx.apply_prelu(&tx, &ts, shape).unwrap();
        assert_eq!(
            bits(&ctx.read(&py).unwrap()),
            bits(&ctx.prelu(&x, &slopes, shape).unwrap())
        );
        let tdx = ctx.upload(&x).unwrap();
        let (pdx, pds) = ctx.apply_prelu_backward(&tx, &ts, &tdx, shape).unwrap();
        let (host_pdx, host_pds) = ctx.prelu_backward(&x, &slopes, &x, shape).unwrap();
        assert_eq!(
            bits(&ctx.read(&pdx).unwrap()),
            bits(&host_pdx),
            "{on}: prelu dx"
        );
        assert_eq!(
            bits(&ctx.read(&pds).unwrap()),
            bits(&host_pds),
            "{on}: prelu d_slopes"
        );
        let (ry, rn) = ctx.apply_rrelu_train(&tx, 0.1, 0.3, 5).unwrap();
        let (host_ry, host_rn) = ctx.rrelu_train(&x, 0.1, 0.3, 5).unwrap();
        assert_eq!(
            bits(&ctx.read(&ry).unwrap()),
            bits(&host_ry),
            "{on}: rrelu y"
        );
        assert_eq!(
            bits(&ctx.read(&rn).unwrap()),
            bits(&host_rn),
            "{on}: rrelu noise"
        );
        // Errors come before anything is recorded or allocated.
        assert!(matches!(
            ctx.apply_gated_packed(Gated::Glu, &tx, 7),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            ctx.apply_row(RowOp::LogSoftmax, &tx, 0),
            Err(Error::ShapeMismatch { .. })
        ));
        assert!(matches!(
            ctx.apply_gated(Gated::Glu, &tx, &tdy),
            Err(Error::LengthMismatch { .. })
        ));
        let y_again = ctx.apply_row(RowOp::Softmax, &h, row_len / 2).unwrap();
        assert_eq!(bits(&ctx.read(&y_again).unwrap()), bits(&host_y));
    }
}

/// The lower layer refuses an output that shares a buffer with another
/// region of the call (the kernels read and write whole regions in parallel:
/// no family runs in place), names the call's direction, and records
/// nothing: the caller's buffer keeps its values.
#[test]
fn lower_layer_refuses_aliased_outputs() {
    for ctx in adapters() {
        let on = describe(ctx);
        let x: Vec<f32> = (0..512).map(|i| i as f32 * 0.01 - 2.0).collect();
        let t = ctx.upload(&x).unwrap();
        let other = ctx.upload(&x).unwrap();
        let spare = ctx.upload(&x).unwrap();
        fn half(
            t: &wgpu_activations::GpuTensor,
            second: bool,
        ) -> wgpu_activations::BufferRegion<'_> {
            wgpu_activations::BufferRegion::new(t.buffer(), if second { 1024 } else { 0 }, 256)
        }
        // a, b: the halves of t; c, d: of other; e: half of spare.
        let (a, b) = (half(&t, false), half(&t, true));
        let (c, d) = (half(&other, false), half(&other, true));
        let e = half(&spare, false);
        let mut encoder = ctx
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        let gated = ctx.gated_kernels();
        let rows = ctx.row_kernels();
        let prelu = ctx.prelu_kernels();
        let results = [
            (
                "gated forward: output over the gate's buffer",
                gated.record_forward(&mut encoder, Gated::Swiglu, c, a, b),
                Mode::Forward,
            ),
            (
                "gated backward: d_gate over grad_output's buffer",
                gated.record_backward(&mut encoder, Gated::Glu, c, d, a, e, b),
                Mode::Backward,
            ),
            (
                "gated backward: d_value and d_gate in one buffer",
                gated.record_backward(&mut encoder, Gated::Glu, c, d, c, a, b),
                Mode::Backward,
            ),
            (
                "softmax: output over the input's buffer",
                rows.record_forward(&mut encoder, RowOp::Softmax, a, 16, b),
                Mode::Forward,
            ),
            (
                "softmax backward: dx over grad_output's buffer",
                rows.record_backward(&mut encoder, RowOp::Softmax, c, a, 16, b),
                Mode::Backward,
            ),
            (
                "rrelu: noise over x's buffer",
                prelu.record_rrelu_train(&mut encoder, a, 0.1, 0.3, 1, e, b),
                Mode::Forward,
            ),
        ];
        for (what, result, mode) in results {
            match result {
                Err(Error::Aliasing { mode: m, .. }) => assert_eq!(m, mode, "{on}: {what}"),
                other => panic!("{on}: {what}: {other:?}"),
            }
        }
        ctx.queue().submit([encoder.finish()]);
        assert_eq!(
            bits(&ctx.read(&t).unwrap()),
            bits(&x),
            "{on}: buffer changed"
        );
        for t in [&other, &spare] {
            assert_eq!(
                bits(&ctx.read(t).unwrap()),
                bits(&x),
                "{on}: buffer changed"
            );
        }
    }
}
