//! GPU-resident tensors, batches and the lower layer over caller buffers, on
//! every adapter.

use wgpu::util::DeviceExt;
use wgpu_activations::{Activation, BufferRegion, Context, Error, GpuTensor, Mode};

use crate::support::{adapters, describe, grad_for, ops_under_test, random_sweep};

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// A caller-owned buffer of `len` f32 filled with `fill(i)`.
fn caller_buffer(
    ctx: &Context,
    len: usize,
    fill: impl Fn(usize) -> f32,
    usage: wgpu::BufferUsages,
) -> wgpu::Buffer {
    let data: Vec<f32> = (0..len).map(fill).collect();
    ctx.device()
        .create_buffer_init(&wgpu::util::BufferInitDescriptor {
            label: Some("test.caller"),
            contents: bytemuck::cast_slice(&data),
            usage,
        })
}

const CALLER_USAGE: wgpu::BufferUsages = wgpu::BufferUsages::STORAGE
    .union(wgpu::BufferUsages::COPY_SRC)
    .union(wgpu::BufferUsages::COPY_DST);

/// Reads a whole caller buffer through a tensor view.
fn read_all(ctx: &Context, buffer: &wgpu::Buffer) -> Vec<f32> {
    let view = GpuTensor::from_buffer(buffer.clone(), 0, (buffer.size() / 4) as usize).unwrap();
    ctx.read(&view).unwrap()
}

#[test]
fn upload_read_round_trip_keeps_every_bit() {
    let x = random_sweep(7, 5000);
    for ctx in adapters() {
        let t = ctx.upload(&x).unwrap();
        assert_eq!(t.len(), x.len());
        assert_eq!(
            bits(&ctx.read(&t).unwrap()),
            bits(&x),
            "on {}",
            describe(ctx)
        );
        let empty = ctx.upload(&[0.0_f32; 0]).unwrap();
        assert!(empty.is_empty() && ctx.read(&empty).unwrap().is_empty());
        let async_read = pollster::block_on(ctx.read_async(&t)).unwrap();
        assert_eq!(bits(&async_read), bits(&x));
    }
}

#[test]
fn resident_ops_equal_the_host_api_bit_for_bit() {
    let x = random_sweep(11, 3001);
    let g = grad_for(&x);
    for ctx in adapters() {
        let xt = ctx.upload(&x).unwrap();
        let gt = ctx.upload(&g).unwrap();
        for act in ops_under_test() {
            let y = ctx.read(&ctx.apply(act, &xt).unwrap()).unwrap();
            assert_eq!(
                bits(&y),
                bits(&ctx.forward(act, &x).unwrap()),
                "{act} forward on {}",
                describe(ctx)
            );
            let d = ctx.read(&ctx.apply_derivative(act, &xt).unwrap()).unwrap();
            assert_eq!(
                bits(&d),
                bits(&ctx.derivative(act, &x).unwrap()),
                "{act} derivative on {}",
                describe(ctx)
            );
            let b = ctx
                .read(&ctx.apply_backward(act, &xt, &gt).unwrap())
                .unwrap();
            assert_eq!(
                bits(&b),
                bits(&ctx.backward(act, &x, &g).unwrap()),
                "{act} backward on {}",
                describe(ctx)
            );
        }
    }
}

#[test]
fn in_place_gives_the_same_bits_as_out_of_place() {
    let x = random_sweep(13, 2049);
    let g = grad_for(&x);
    for ctx in adapters() {
        for act in ops_under_test() {
            let xt = ctx.upload(&x).unwrap();
            let out_of_place = ctx.read(&ctx.apply(act, &xt).unwrap()).unwrap();
            let mut t = ctx.upload(&x).unwrap();
            ctx.apply_in_place(act, &mut t).unwrap();
            assert_eq!(
                bits(&ctx.read(&t).unwrap()),
                bits(&out_of_place),
                "{act} on {}",
                describe(ctx)
            );

            // Derivative and backward in place through the lower layer.
            let mut encoder = ctx.device().create_command_encoder(&Default::default());
            let d = ctx.upload(&x).unwrap();
            let dy = ctx.upload(&g).unwrap();
            ctx.kernels()
                .record(
                    &mut encoder,
                    act,
                    Mode::Derivative,
                    d.region(),
                    None,
                    d.region(),
                )
                .unwrap();
            ctx.kernels()
                .record(
                    &mut encoder,
                    act,
                    Mode::Backward,
                    xt.region(),
                    Some(dy.region()),
                    dy.region(),
                )
                .unwrap();
            ctx.queue().submit([encoder.finish()]);
            assert_eq!(
                bits(&ctx.read(&d).unwrap()),
                bits(&ctx.derivative(act, &x).unwrap()),
                "{act}' in place"
            );
            assert_eq!(
                bits(&ctx.read(&dy).unwrap()),
                bits(&ctx.backward(act, &x, &g).unwrap()),
                "{act} dx over dy"
            );
        }
    }
}

#[test]
fn a_chain_is_one_submission_and_equals_the_step_by_step_host_api() {
    let x = random_sweep(17, 4000);
    let g = grad_for(&x);
    for ctx in adapters() {
        let xt = ctx.upload(&x).unwrap();
        let gt = ctx.upload(&g).unwrap();
        let mut batch = ctx.batch();
        let h = batch.apply(Activation::Gelu, &xt).unwrap();
        let _y = batch.apply(Activation::Tanh, &h).unwrap();
        let dh = batch.apply_backward(Activation::Tanh, &h, &gt).unwrap();
        let dx = batch.apply_backward(Activation::Gelu, &xt, &dh).unwrap();
        let chained = batch.read(&dx).unwrap();

        let h_host = ctx.forward(Activation::Gelu, &x).unwrap();
        let dh_host = ctx.backward(Activation::Tanh, &h_host, &g).unwrap();
        let dx_host = ctx.backward(Activation::Gelu, &x, &dh_host).unwrap();
        assert_eq!(bits(&chained), bits(&dx_host), "on {}", describe(ctx));
        let async_chain = {
            let mut batch = ctx.batch();
            let h = batch.apply(Activation::Gelu, &xt).unwrap();
            pollster::block_on(batch.read_async(&h)).unwrap()
        };
        assert_eq!(bits(&async_chain), bits(&h_host));
    }
}

#[test]
fn sub_ranges_of_caller_buffers_leave_the_rest_untouched() {
    for ctx in adapters() {
        let align = ctx.device().limits().min_storage_buffer_offset_alignment as usize / 4;
        let total = align * 8;
        let sentinel = |i: usize| -1000.0 - i as f32;
        let buffer = caller_buffer(ctx, total, sentinel, CALLER_USAGE);
        let (start, len) = (align * 2, align * 3 + 7);
        // The region holds inputs; everything else is a sentinel.
        let inputs: Vec<f32> = (0..len).map(|i| i as f32 * 0.05 - 3.0).collect();
        ctx.queue()
            .write_buffer(&buffer, (start * 4) as u64, bytemuck::cast_slice(&inputs));
        let mut t = GpuTensor::from_buffer(buffer.clone(), (start * 4) as u64, len).unwrap();
        ctx.apply_in_place(Activation::Silu, &mut t).unwrap();
        let after = read_all(ctx, &buffer);
        let want = ctx.forward(Activation::Silu, &inputs).unwrap();
        for (i, v) in after.iter().enumerate() {
            if (start..start + len).contains(&i) {
                assert_eq!(
                    v.to_bits(),
                    want[i - start].to_bits(),
                    "inside at {i} on {}",
                    describe(ctx)
                );
            } else {
                assert_eq!(
                    v.to_bits(),
                    sentinel(i).to_bits(),
                    "outside at {i} changed on {}",
                    describe(ctx)
                );
            }
        }
        // Out of place from one caller buffer into a region of another.
        let out = caller_buffer(ctx, total, sentinel, CALLER_USAGE);
        let mut encoder = ctx.device().create_command_encoder(&Default::default());
        ctx.kernels()
            .record(
                &mut encoder,
                Activation::Relu6,
                Mode::Forward,
                BufferRegion::new(&buffer, (start * 4) as u64, len),
                None,
                BufferRegion::new(&out, (align * 4) as u64, len),
            )
            .unwrap();
        ctx.queue().submit([encoder.finish()]);
        let out_data = read_all(ctx, &out);
        let want = ctx
            .forward(Activation::Relu6, &after[start..start + len])
            .unwrap();
        for (i, v) in out_data.iter().enumerate() {
            if (align..align + len).contains(&i) {
                assert_eq!(v.to_bits(), want[i - align].to_bits(), "inside at {i}");
            } else {
                assert_eq!(v.to_bits(), sentinel(i).to_bits(), "outside at {i} changed");
            }
        }
    }
}

/// Recognises the expected error variant.
type ErrorCheck = fn(&Error) -> bool;

/// Every invalid use is an error, raised before anything is recorded, and
/// leaves the caller's buffers as they were.
#[test]
fn invalid_uses_are_errors_and_leave_buffers_intact() {
    for ctx in adapters() {
        let align = u64::from(ctx.device().limits().min_storage_buffer_offset_alignment);
        let n = 1024;
        let fill = |i: usize| i as f32 * 0.25 - 7.0;
        let a = caller_buffer(ctx, n, fill, CALLER_USAGE);
        let b = caller_buffer(ctx, n, fill, CALLER_USAGE);
        let no_storage = caller_buffer(
            ctx,
            n,
            fill,
            wgpu::BufferUsages::COPY_SRC | wgpu::BufferUsages::COPY_DST,
        );
        let k = ctx.kernels();
        let mut encoder = ctx.device().create_command_encoder(&Default::default());
        let mut record = |mode, input, grad, output| {
            k.record(&mut encoder, Activation::Gelu, mode, input, grad, output)
        };
        let whole = |buf| BufferRegion::new(buf, 0, 256);
        let cases: Vec<(&str, Result<(), Error>, ErrorCheck)> = vec![
            (
                "misaligned offset",
                record(Mode::Forward, BufferRegion::new(&a, 4, 16), None, whole(&b)),
                |e| matches!(e, Error::Misaligned { .. } | Error::LengthMismatch { .. }),
            ),
            (
                "misaligned offset, same length",
                record(
                    Mode::Forward,
                    BufferRegion::new(&a, 4, 256),
                    None,
                    whole(&b),
                ),
                |e| matches!(e, Error::Misaligned { what: "input", .. }),
            ),
            (
                "past the end",
                record(
                    Mode::Forward,
                    BufferRegion::new(&a, align, n),
                    None,
                    BufferRegion::new(&b, 0, n),
                ),
                |e| matches!(e, Error::OutOfRange { what: "input", .. }),
            ),
            (
                "no STORAGE usage",
                record(Mode::Forward, whole(&no_storage), None, whole(&b)),
                |e| matches!(e, Error::BufferUsage { what: "input", .. }),
            ),
            (
                "length mismatch",
                record(Mode::Forward, BufferRegion::new(&a, 0, 10), None, whole(&b)),
                |e| {
                    matches!(
                        e,
                        Error::LengthMismatch {
                            what: "input",
                            expected: 256,
                            actual: 10
                        }
                    )
                },
            ),
            (
                "overlapping regions of one buffer",
                record(
                    Mode::Forward,
                    BufferRegion::new(&a, 0, 256),
                    None,
                    BufferRegion::new(&a, align, 256),
                ),
                |e| matches!(e, Error::Aliasing { .. }),
            ),
            (
                "backward writing into x",
                record(Mode::Backward, whole(&a), Some(whole(&b)), whole(&a)),
                |e| matches!(e, Error::Aliasing { .. }),
            ),
            (
                "backward without grad_output",
                record(Mode::Backward, whole(&a), None, whole(&b)),
                |e| matches!(e, Error::MissingGradOutput),
            ),
            (
                "forward with grad_output",
                record(Mode::Forward, whole(&a), Some(whole(&a)), whole(&b)),
                |e| matches!(e, Error::UnexpectedGradOutput { .. }),
            ),
        ];
        for (what, result, expected) in cases {
            match result {
                Err(e) if expected(&e) => {}
                other => panic!("{what} on {}: got {other:?}", describe(ctx)),
            }
        }
        let bad = Activation::Hardtanh {
            min_val: 1.0,
            max_val: 0.0,
        };
        assert!(matches!(
            k.record(&mut encoder, bad, Mode::Forward, whole(&a), None, whole(&b)),
            Err(Error::InvalidParameter { .. })
        ));
        // Nothing was recorded: submitting the encoder changes nothing.
        ctx.queue().submit([encoder.finish()]);
        let original: Vec<u32> = (0..n).map(|i| fill(i).to_bits()).collect();
        assert_eq!(
            bits(&read_all(ctx, &a)),
            original,
            "buffer a changed on {}",
            describe(ctx)
        );
        assert_eq!(
            bits(&read_all(ctx, &b)),
            original,
            "buffer b changed on {}",
            describe(ctx)
        );

        // Tensor-level errors.
        assert!(matches!(
            GpuTensor::from_buffer(no_storage.clone(), 0, 4),
            Err(Error::BufferUsage { .. })
        ));
        assert!(matches!(
            GpuTensor::from_buffer(a.clone(), 2, 4),
            Err(Error::Misaligned { .. })
        ));
        assert!(matches!(
            GpuTensor::from_buffer(a.clone(), 0, n + 1),
            Err(Error::OutOfRange { .. })
        ));
        let storage_only = caller_buffer(ctx, 16, fill, wgpu::BufferUsages::STORAGE);
        let t = GpuTensor::from_buffer(storage_only, 0, 16).unwrap();
        assert!(matches!(
            ctx.read(&t),
            Err(Error::BufferUsage {
                what: "tensor to read",
                ..
            })
        ));
        let x = ctx.upload(&[1.0, 2.0]).unwrap();
        let g = ctx.upload(&[1.0]).unwrap();
        assert!(matches!(
            ctx.apply_backward(Activation::Tanh, &x, &g),
            Err(Error::LengthMismatch { .. })
        ));
        let mut unaligned = GpuTensor::from_buffer(a.clone(), 4, 8).unwrap();
        assert!(matches!(
            ctx.apply_in_place(Activation::Tanh, &mut unaligned),
            Err(Error::Misaligned { .. })
        ));
        assert_eq!(
            bits(&read_all(ctx, &a)),
            original,
            "buffer a changed by a failed in-place call"
        );
    }
}

#[test]
fn pipelines_are_built_once_per_op_and_mode() {
    for shared in adapters() {
        // A context of its own, so no other test compiles into its cache.
        let ctx = &Context::from_device(shared.device().clone(), shared.queue().clone());
        let x = ctx.upload(&[0.5; 64]).unwrap();
        assert_eq!(ctx.kernels().pipeline_count(), 0);
        ctx.apply(Activation::Softsign, &x).unwrap();
        let after_first = ctx.kernels().pipeline_count();
        for slope in [0.5, 1.5] {
            ctx.apply(Activation::Softsign, &x).unwrap();
            ctx.apply(Activation::Elu { alpha: slope }, &x).unwrap();
        }
        // Softsign compiled nothing new; ELU compiled exactly its forward once.
        assert_eq!(
            ctx.kernels().pipeline_count(),
            after_first + 1,
            "on {}",
            describe(ctx)
        );
    }
}

/// Host-slice calls and reads of a resident tensor, repeated at one size,
/// take every buffer from the pool.
#[test]
fn repeated_host_calls_of_one_size_create_no_buffers() {
    let x = random_sweep(23, 100_003);
    let g = grad_for(&x);
    for shared in adapters() {
        let ctx = &Context::from_device(shared.device().clone(), shared.queue().clone());
        // A resident tensor, read back through the pool's staging buffers:
        // the first read creates one, the next ones reuse it.
        let resident = ctx.upload(&x).unwrap();
        let before = ctx.pool_stats().created;
        ctx.read(&resident).unwrap();
        assert_eq!(ctx.pool_stats().created, before + 1, "on {}", describe(ctx));
        ctx.read(&resident).unwrap();
        assert_eq!(ctx.pool_stats().created, before + 1, "on {}", describe(ctx));
        // Warm up: the first calls fill the pool (and compile the pipelines).
        for _ in 0..2 {
            ctx.forward(Activation::Gelu, &x).unwrap();
            ctx.backward(Activation::Gelu, &x, &g).unwrap();
            ctx.read(&resident).unwrap();
            pollster::block_on(ctx.read_async(&resident)).unwrap();
        }
        let warm = ctx.pool_stats();
        let first = ctx.forward(Activation::Gelu, &x).unwrap();
        for _ in 0..5 {
            assert_eq!(
                bits(&ctx.forward(Activation::Gelu, &x).unwrap()),
                bits(&first)
            );
            ctx.derivative(Activation::Gelu, &x).unwrap();
            ctx.backward(Activation::Gelu, &x, &g).unwrap();
            // A smaller call reuses buffers up to twice its size.
            ctx.forward(Activation::Relu, &x[..60_000]).unwrap();
            assert_eq!(bits(&ctx.read(&resident).unwrap()), bits(&x));
            let read = pollster::block_on(ctx.read_async(&resident)).unwrap();
            assert_eq!(bits(&read), bits(&x));
        }
        assert_eq!(
            ctx.pool_stats().created,
            warm.created,
            "new buffers on {}",
            describe(ctx)
        );
        assert!(ctx.pool_stats().free > 0);
    }
}

/// Devices without immediates (uniform path) and with a 1 MiB binding limit
/// (windows) give the same bits as the default devices, for lengths with and
/// without a scalar tail, out of place and in place.
#[test]
fn uniform_path_and_binding_windows_give_the_same_bits() {
    let n = (1 << 20) + 3; // four 1 MiB windows and a 3-element tail
    let x = random_sweep(29, n);
    let g = grad_for(&x);
    for (constrained, ctx) in crate::support::constrained_contexts()
        .iter()
        .zip(adapters())
    {
        assert_eq!(constrained.backend(), ctx.backend());
        assert!(
            !constrained
                .device()
                .features()
                .contains(wgpu::Features::IMMEDIATES)
        );
        // Same body width as the default context (packed on lavapipe).
        assert_eq!(
            constrained.kernels().body_width(),
            ctx.kernels().body_width(),
            "{}",
            describe(ctx)
        );
        for act in [
            Activation::Gelu,
            Activation::hardtanh(),
            Activation::Softplus {
                beta: 2.0,
                threshold: 10.0,
            },
        ] {
            for len in [n, n - 3, 5] {
                let (x, g) = (&x[..len], &g[..len]);
                let want_f = ctx.forward(act, x).unwrap();
                assert_eq!(
                    bits(&constrained.forward(act, x).unwrap()),
                    bits(&want_f),
                    "{act} forward len {len}"
                );
                let want_b = ctx.backward(act, x, g).unwrap();
                assert_eq!(
                    bits(&constrained.backward(act, x, g).unwrap()),
                    bits(&want_b),
                    "{act} backward len {len}"
                );
                let mut t = constrained.upload(x).unwrap();
                constrained.apply_in_place(act, &mut t).unwrap();
                assert_eq!(
                    bits(&constrained.read(&t).unwrap()),
                    bits(&want_f),
                    "{act} in place len {len}"
                );
            }
        }
    }
}

#[test]
fn into_variants_fill_the_callers_slice_and_check_its_length() {
    let x = random_sweep(31, 10_001);
    let g = grad_for(&x);
    for ctx in adapters() {
        let mut out = vec![0.0; x.len()];
        ctx.forward_into(Activation::Mish, &x, &mut out).unwrap();
        assert_eq!(
            bits(&out),
            bits(&ctx.forward(Activation::Mish, &x).unwrap())
        );
        ctx.derivative_into(Activation::Mish, &x, &mut out).unwrap();
        assert_eq!(
            bits(&out),
            bits(&ctx.derivative(Activation::Mish, &x).unwrap())
        );
        ctx.backward_into(Activation::Mish, &x, &g, &mut out)
            .unwrap();
        assert_eq!(
            bits(&out),
            bits(&ctx.backward(Activation::Mish, &x, &g).unwrap())
        );
        let mut short = vec![0.0; 10];
        assert!(matches!(
            ctx.forward_into(Activation::Mish, &x, &mut short),
            Err(Error::LengthMismatch { what: "output", .. })
        ));
    }
}

/// Runs `mode` of `act` through `kernels` (on `ctx`'s device) over fresh
/// caller buffers and reads the result back.
fn run_with_kernels(
    ctx: &Context,
    kernels: &wgpu_activations::Kernels,
    act: Activation,
    mode: Mode,
    x: &[f32],
    g: &[f32],
) -> Vec<f32> {
    let input = caller_buffer(ctx, x.len(), |i| x[i], CALLER_USAGE);
    let grad = caller_buffer(ctx, g.len(), |i| g[i], CALLER_USAGE);
    let output = caller_buffer(ctx, x.len(), |_| 0.0, CALLER_USAGE);
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    kernels
        .record(
            &mut encoder,
            act,
            mode,
            BufferRegion::whole(&input),
            (mode == Mode::Backward).then(|| BufferRegion::whole(&grad)),
            BufferRegion::whole(&output),
        )
        .unwrap();
    ctx.queue().submit([encoder.finish()]);
    read_all(ctx, &output)
}

/// Two kernel sets give the same bits for every op in `acts`, mode, and
/// prefix length of `x` (and `g`, the gradient for backward).
fn assert_same_bits(
    ctx: &Context,
    [first, second]: [&wgpu_activations::Kernels; 2],
    acts: &[Activation],
    lengths: &[usize],
    x: &[f32],
    g: &[f32],
) {
    for &act in acts {
        for mode in [Mode::Forward, Mode::Derivative, Mode::Backward] {
            for &len in lengths {
                let (x, g) = (&x[..len], &g[..len]);
                let a = run_with_kernels(ctx, first, act, mode, x, g);
                let b = run_with_kernels(ctx, second, act, mode, x, g);
                assert_eq!(
                    crate::support::first_mismatch(&a, &b),
                    None,
                    "{act} {mode:?} len {len} on {}",
                    describe(ctx)
                );
            }
        }
    }
}

/// The packed body (eight f32 as `vec4<u64>`, used on llvmpipe-based CPU
/// adapters with 64-bit integers) and the `vec4<f32>` body give the same
/// bits, for every tail length (0-7 scalars after the body) and a
/// multi-workgroup length; lavapipe uses the packed body by default.
#[test]
fn packed_and_vec4_bodies_give_the_same_bits() {
    for ctx in adapters() {
        let device = ctx.device();
        let has_int64 = device.features().contains(wgpu::Features::SHADER_INT64);
        let llvmpipe = ctx.adapter_info().device_type == wgpu::DeviceType::Cpu
            && ctx.adapter_info().name.contains("llvmpipe");
        if std::env::var_os("WGPU_ACTIVATIONS_PACKED").is_none() {
            assert_eq!(
                ctx.kernels().tuning().packed,
                llvmpipe && has_int64,
                "{}",
                describe(ctx)
            );
        }
        let base = wgpu_activations::Tuning::for_device(device);
        let with = |packed| {
            wgpu_activations::Kernels::with_tuning(
                device,
                wgpu_activations::Tuning { packed, ..base },
            )
        };
        let (packed, plain) = (with(true), with(false));
        assert_eq!(
            packed.body_width() == wgpu_activations::wgsl::Width::Packed,
            has_int64
        );
        assert_eq!(plain.body_width(), wgpu_activations::wgsl::Width::Vec4);
        let x = random_sweep(37, 100_005);
        let g = grad_for(&x);
        let mut lengths: Vec<usize> = (1..=17).collect();
        lengths.extend([1024, 100_005]);
        let acts = [
            Activation::Sigmoid,
            Activation::Gelu,
            Activation::hardshrink(),
            Activation::Mish,
        ];
        assert_same_bits(ctx, [&packed, &plain], &acts, &lengths, &x, &g);
    }
}

/// One storage element per invocation (the CPU setting: entry points without
/// a loop) and several (the GPU setting: a loop over `ITEMS`, here 3 so that
/// the last invocations run partly past the end) give the same bits, for
/// lengths around the workgroup and item boundaries, with the device's body
/// width.
#[test]
fn one_and_several_items_per_invocation_give_the_same_bits() {
    for ctx in adapters() {
        let device = ctx.device();
        let base = wgpu_activations::Tuning::for_device(device);
        let with = |items_per_invocation| {
            wgpu_activations::Kernels::with_tuning(
                device,
                wgpu_activations::Tuning {
                    items_per_invocation,
                    ..base
                },
            )
        };
        let (one, three) = (with(1), with(3));
        assert_eq!(one.tuning().items_per_invocation, 1);
        assert_eq!(three.tuning().items_per_invocation, 3);
        let x = random_sweep(41, 200_003);
        let g = grad_for(&x);
        let lanes = one.body_width().lanes();
        let group = base.workgroup_size as usize * lanes;
        let mut lengths = vec![1, 7, lanes, lanes + 1, group - 1, group, group + 1];
        lengths.extend([3 * group - 1, 3 * group + lanes + 3, 200_003]);
        let acts = [
            Activation::Gelu,
            Activation::LeakyRelu {
                negative_slope: 0.2,
            },
        ];
        assert_same_bits(ctx, [&one, &three], &acts, &lengths, &x, &g);
    }
}

/// Results of `apply` and `Batch` come from the context's pool and go back
/// to it on drop: repeated calls of one size create no new buffer, and the
/// results are right every time (a reused buffer is fully overwritten).
#[test]
fn repeated_apply_reuses_pooled_results() {
    for shared in adapters() {
        // A context of its own on the same device: other tests running at
        // the same time use the shared contexts' pools and batches.
        let ctx = &Context::from_device(shared.device().clone(), shared.queue().clone());
        let on = describe(ctx);
        let x: Vec<f32> = (0..10_000).map(|i| i as f32 * 0.01 - 50.0).collect();
        let want_gelu = ctx.forward(Activation::Gelu, &x).unwrap();
        let want_tanh = ctx.forward(Activation::Tanh, &x).unwrap();
        let t = ctx.upload(&x).unwrap();
        // Warm: one result buffer and one readback staging buffer in the pool.
        let y = ctx.apply(Activation::Gelu, &t).unwrap();
        assert!(ctx.read(&y).unwrap() == want_gelu, "{on}");
        drop(y);
        let before = ctx.pool_stats();
        for i in 0..10 {
            let act = if i % 2 == 0 {
                Activation::Tanh
            } else {
                Activation::Gelu
            };
            let y = ctx.apply(act, &t).unwrap();
            let want = if i % 2 == 0 { &want_tanh } else { &want_gelu };
            assert!(ctx.read(&y).unwrap() == *want, "call {i} on {on}");
        }
        let mut batch = ctx.batch();
        let h = batch.apply(Activation::Gelu, &t).unwrap();
        drop(h);
        batch.submit().unwrap();
        let after = ctx.pool_stats();
        assert_eq!(
            after.created, before.created,
            "no new buffer on {on}: {before:?} -> {after:?}"
        );
        assert!(
            after.free >= 1 && after.free_bytes <= after.budget_bytes,
            "{after:?}"
        );
    }
}

/// A result dropped while a batch is open is not handed to another result
/// before that batch is submitted: the batch, submitted later, would
/// overwrite it (as output) or read the other data (as input).
#[test]
fn a_result_dropped_under_an_open_batch_is_not_reused_early() {
    for shared in adapters() {
        // A context of its own on the same device: other tests running at
        // the same time use the shared contexts' pools and batches.
        let ctx = &Context::from_device(shared.device().clone(), shared.queue().clone());
        let on = describe(ctx);
        let x: Vec<f32> = (0..4096).map(|i| i as f32 * 0.01 - 20.0).collect();
        let t = ctx.upload(&x).unwrap();
        // As an output of the open batch.
        let mut batch = ctx.batch();
        let y = batch.apply(Activation::Gelu, &t).unwrap();
        drop(y);
        let z = ctx.apply(Activation::Relu, &t).unwrap();
        batch.submit().unwrap();
        assert_eq!(
            ctx.read(&z).unwrap(),
            ctx.forward(Activation::Relu, &x).unwrap(),
            "{on}"
        );
        // As an input of the open batch.
        let y = ctx.apply(Activation::Sigmoid, &t).unwrap();
        let mut batch = ctx.batch();
        let w = batch.apply(Activation::Tanh, &y).unwrap();
        drop(y);
        let z = ctx.apply(Activation::Relu, &t).unwrap();
        let w = batch.read(&w).unwrap();
        let sigmoid = ctx.forward(Activation::Sigmoid, &x).unwrap();
        assert_eq!(w, ctx.forward(Activation::Tanh, &sigmoid).unwrap(), "{on}");
        assert_eq!(
            ctx.read(&z).unwrap(),
            ctx.forward(Activation::Relu, &x).unwrap(),
            "{on}"
        );
    }
}

/// A result whose buffer or region was handed out may be in the caller's
/// own encoder: it leaves the pool, and so does one taken with
/// `into_buffer`.
#[test]
fn exposed_results_leave_the_pool() {
    for shared in adapters() {
        let ctx = &Context::from_device(shared.device().clone(), shared.queue().clone());
        let t = ctx.upload(&[1.0_f32; 1000]).unwrap();
        drop(ctx.apply(Activation::Relu, &t).unwrap());
        let free = ctx.pool_stats().free;
        let y = ctx.apply(Activation::Relu, &t).unwrap(); // takes the free one
        let _ = y.region();
        drop(y);
        assert_eq!(ctx.pool_stats().free, free - 1, "{}", describe(ctx));
        let y = ctx.apply(Activation::Relu, &t).unwrap();
        let buffer = y.into_buffer();
        assert!(buffer.size() >= 4000);
        assert_eq!(ctx.pool_stats().free, free - 1, "{}", describe(ctx));
    }
}
