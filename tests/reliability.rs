//! Part 10: bad input, wgpu validation errors, device loss, timeouts and
//! concurrency: every failure is an `Error`, nothing is lost, no panic.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use half::f16;
use wgpu_activations::{
    Activation, BufferRegion, Context, Error, Gated, GpuTensor, Mode, RowOp, cpu,
    recommended_features,
};

use crate::support::{adapters, describe, random_sweep};

/// The wgpu adapter behind `ctx` (same name and backend), for devices of
/// the test's own.
fn adapter_of(ctx: &Context) -> wgpu::Adapter {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let info = ctx.adapter_info();
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .find(|a| a.get_info().name == info.name && a.get_info().backend == info.backend)
        .unwrap_or_else(|| panic!("the adapter of {} again", describe(ctx)))
}

/// A new device on `ctx`'s adapter with `limits` changed by `adjust`.
fn own_device(
    ctx: &Context,
    adjust: impl FnOnce(&mut wgpu::Limits),
) -> (wgpu::Device, wgpu::Queue) {
    let adapter = adapter_of(ctx);
    let mut limits = adapter.limits();
    adjust(&mut limits);
    pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("reliability-test"),
        required_features: recommended_features(&adapter),
        required_limits: limits,
        ..Default::default()
    }))
    .unwrap_or_else(|e| panic!("a device of our own on {}: {e}", describe(ctx)))
}

/// A device of the test's own whose uncaptured errors are counted (the
/// "caller's" handler): wgpu's default handler would panic.
fn counted_context(ctx: &Context) -> (Context, Arc<AtomicUsize>) {
    let (device, queue) = own_device(ctx, |_| {});
    let uncaptured = Arc::new(AtomicUsize::new(0));
    let count = uncaptured.clone();
    device.on_uncaptured_error(Arc::new(move |error| {
        eprintln!("caller's handler saw: {error}");
        count.fetch_add(1, Ordering::SeqCst);
    }));
    (Context::from_device(device, queue), uncaptured)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// Each `Error` variant the API can raise for bad input, from the layer that
/// raises it, on every adapter; the data involved is intact afterwards and
/// every message says what to do.
#[test]
fn every_bad_input_is_its_own_error_and_leaves_the_data_intact() {
    for shared in adapters() {
        let (ctx, uncaptured) = counted_context(shared);
        let on = describe(&ctx);
        let data: Vec<f32> = (0..1000).map(|i| i as f32 * 0.01 - 5.0).collect();
        let x = ctx.upload(&data).unwrap();
        let gelu = Activation::Gelu;
        let mut cases: Vec<(&str, Error)> = Vec::new();
        let mut expect = |name: &'static str, result: Result<(), Error>| match result {
            Err(e) => cases.push((name, e)),
            Ok(()) => panic!("{name}: no error on {on}"),
        };

        expect(
            "length mismatch (host)",
            ctx.backward(gelu, &data, &data[..10]).map(drop),
        );
        expect(
            "length mismatch (resident)",
            ctx.apply_backward(gelu, &x, &ctx.upload(&data[..10]).unwrap())
                .map(drop),
        );
        expect(
            "NaN parameter (host)",
            ctx.forward(Activation::Elu { alpha: f32::NAN }, &data)
                .map(drop),
        );
        expect(
            "reversed range (resident)",
            ctx.apply(
                Activation::Hardtanh {
                    min_val: 1.0,
                    max_val: -1.0,
                },
                &x,
            )
            .map(drop),
        );
        expect(
            "dtype mismatch",
            ctx.apply_backward(gelu, &ctx.upload(&[f16::ONE; 1000]).unwrap(), &x)
                .map(drop),
        );
        expect(
            "row length that does not divide",
            ctx.softmax(&data, 7).map(drop),
        );
        expect(
            "odd gated row",
            ctx.gated_forward_packed(Gated::Swiglu, &data, 5).map(drop),
        );
        let no_storage = ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("no-storage"),
            size: 4096,
            usage: wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        expect(
            "buffer without STORAGE",
            GpuTensor::from_buffer(no_storage, 0, 16).map(drop),
        );
        let storage_only = ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("storage-only"),
            size: 4096,
            usage: wgpu::BufferUsages::STORAGE,
            mapped_at_creation: false,
        });
        let unreadable = GpuTensor::from_buffer(storage_only.clone(), 0, 16).unwrap();
        expect(
            "tensor without COPY_SRC read back",
            ctx.read(&unreadable).map(drop),
        );
        expect(
            "tensor past its buffer's end",
            GpuTensor::from_buffer(storage_only.clone(), 0, 2000).map(drop),
        );
        expect(
            "tensor at an odd offset",
            GpuTensor::from_buffer(storage_only.clone(), 2, 4).map(drop),
        );
        let k = ctx.kernels();
        let mut encoder = ctx.device().create_command_encoder(&Default::default());
        let out = ctx.upload(&vec![7.0f32; 1000]).unwrap();
        expect(
            "misaligned region",
            k.record(
                &mut encoder,
                gelu,
                Mode::Forward,
                BufferRegion::new(x.buffer(), 4, 100),
                None,
                BufferRegion::new(out.buffer(), 0, 100),
            ),
        );
        expect(
            "backward without grad_output",
            k.record(
                &mut encoder,
                gelu,
                Mode::Backward,
                x.region(),
                None,
                out.region(),
            ),
        );
        expect(
            "forward with a grad_output",
            k.record(
                &mut encoder,
                gelu,
                Mode::Forward,
                x.region(),
                Some(x.region()),
                out.region(),
            ),
        );
        expect(
            "backward writing over x",
            k.record(
                &mut encoder,
                gelu,
                Mode::Backward,
                x.region(),
                Some(out.region()),
                x.region(),
            ),
        );
        // A tensor of another context (another device on the same adapter).
        let (other_device, other_queue) = own_device(&ctx, |_| {});
        let other = Context::from_device(other_device, other_queue);
        let foreign = other.upload(&data).unwrap();
        expect(
            "another context's tensor",
            ctx.apply(gelu, &foreign).map(drop),
        );
        expect(
            "another context's tensor in a batch",
            ctx.batch().apply_backward(gelu, &x, &foreign).map(drop),
        );
        expect(
            "another context's tensor read back",
            ctx.read(&foreign).map(drop),
        );
        expect(
            "another context's tensor in a family",
            ctx.apply_row(RowOp::Softmax, &foreign, 10).map(drop),
        );
        drop(encoder);

        let kinds: Vec<&str> = cases
            .iter()
            .map(|(name, e)| {
                let message = e.to_string();
                assert!(
                    message.len() > 20,
                    "{name}: terse message {message:?} on {on}"
                );
                match e {
                    Error::LengthMismatch { .. } => "LengthMismatch",
                    Error::InvalidParameter { .. } => "InvalidParameter",
                    Error::DtypeMismatch { .. } => "DtypeMismatch",
                    Error::ShapeMismatch { .. } => "ShapeMismatch",
                    Error::BufferUsage { .. } => "BufferUsage",
                    Error::OutOfRange { .. } => "OutOfRange",
                    Error::Misaligned { .. } => "Misaligned",
                    Error::MissingGradOutput => "MissingGradOutput",
                    Error::UnexpectedGradOutput { .. } => "UnexpectedGradOutput",
                    Error::Aliasing { .. } => "Aliasing",
                    Error::ForeignTensor { .. } => "ForeignTensor",
                    other => panic!("{name}: unexpected {other:?} on {on}"),
                }
            })
            .collect();
        let expected = [
            "LengthMismatch",
            "LengthMismatch",
            "InvalidParameter",
            "InvalidParameter",
            "DtypeMismatch",
            "ShapeMismatch",
            "ShapeMismatch",
            "BufferUsage",
            "BufferUsage",
            "OutOfRange",
            "Misaligned",
            "Misaligned",
            "MissingGradOutput",
            "UnexpectedGradOutput",
            "Aliasing",
            "ForeignTensor",
            "ForeignTensor",
            "ForeignTensor",
            "ForeignTensor",
        ];
        let names: Vec<&str> = cases.iter().map(|(n, _)| *n).collect();
        assert_eq!(kinds, expected, "cases {names:?} on {on}");
        // Nothing was lost or changed, and the context still works.
        assert_eq!(bits(&ctx.read(&x).unwrap()), bits(&data), "x on {on}");
        assert_eq!(ctx.read(&out).unwrap(), vec![7.0; 1000], "out on {on}");
        assert_eq!(bits(&other.read(&foreign).unwrap()), bits(&data), "on {on}");
        let y = ctx.read(&ctx.apply(gelu, &x).unwrap()).unwrap();
        assert_eq!(
            bits(&y),
            bits(&ctx.forward(gelu, &data).unwrap()),
            "on {on}"
        );
        assert_eq!(
            uncaptured.load(Ordering::SeqCst),
            0,
            "uncaptured errors on {on}"
        );
        assert!(!ctx.is_lost() && !other.is_lost());
    }
}

/// The largest input a device's `max_buffer_size` allows works (through
/// binding windows, as `max_storage_buffer_binding_size` is smaller), one
/// element more is `Error::TooLarge`, in every layer, before anything is
/// allocated.
#[test]
fn the_largest_size_the_device_accepts_works_and_one_past_it_is_too_large() {
    const MAX_BYTES: u64 = 1 << 20;
    for shared in adapters() {
        let (device, queue) = own_device(shared, |l| {
            l.max_buffer_size = MAX_BYTES;
            l.max_storage_buffer_binding_size = MAX_BYTES / 4;
        });
        let ctx = Context::from_device(device, queue);
        let on = describe(&ctx);
        let largest = (MAX_BYTES / 4) as usize;
        let x = random_sweep(11, largest);
        let act = Activation::Silu;
        let y = ctx.forward(act, &x).unwrap();
        let reference = cpu::forward(act, &x).unwrap();
        let far: Vec<usize> = (0..largest)
            .filter(|&i| {
                let (a, b) = (y[i], reference[i]);
                !(a.to_bits() == b.to_bits()
                    || (a.is_nan() && b.is_nan())
                    || ((a - b).abs() as f64)
                        <= 4.0 * f64::from(f32::EPSILON) * f64::from(b.abs()).max(1e-30))
            })
            .take(3)
            .collect();
        assert!(far.is_empty(), "SiLU at {far:?} on {on} (largest size)");
        let t = ctx.upload(&x).unwrap();
        assert_eq!(
            ctx.read(&ctx.apply(act, &t).unwrap()).unwrap().len(),
            largest
        );
        let one_more = vec![0.5f32; largest + 1];
        let too_large = |e: &Error| matches!(e, Error::TooLarge { len, max_bytes, .. } if *len == largest + 1 && *max_bytes == MAX_BYTES);
        let host = ctx.forward(act, &one_more).unwrap_err();
        assert!(too_large(&host), "{host:?} on {on}");
        let upload = ctx.upload(&one_more).unwrap_err();
        assert!(too_large(&upload), "{upload:?} on {on}");
        let gated = ctx
            .gated_forward(Gated::Swiglu, &one_more, &one_more)
            .unwrap_err();
        assert!(too_large(&gated), "{gated:?} on {on}");
        assert!(!ctx.is_lost());
    }
}

/// wgpu validation errors inside the library's own work come back as
/// `Error::Gpu`; the caller's uncaptured-error handler stays in place and
/// sees only the caller's own mistakes.
#[test]
fn validation_errors_are_errors_and_the_callers_handler_stays() {
    for shared in adapters() {
        let (ctx, uncaptured) = counted_context(shared);
        let on = describe(&ctx);
        let buffer = ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("destroyed-by-the-caller"),
            size: 4096,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let t = GpuTensor::from_buffer(buffer.clone(), 0, 1024).unwrap();
        buffer.destroy();
        let gpu = |r: Result<(), Error>, what: &str| match r {
            Err(Error::Gpu(_)) => {}
            other => panic!("{what}: {other:?} on {on}"),
        };
        gpu(ctx.apply(Activation::Tanh, &t).map(drop), "apply");
        gpu(ctx.read(&t).map(drop), "read");
        let out = ctx.upload(&[0.0f32; 1024]).unwrap();
        let mut encoder = ctx.device().create_command_encoder(&Default::default());
        gpu(
            ctx.kernels().record(
                &mut encoder,
                Activation::Tanh,
                Mode::Forward,
                t.region(),
                None,
                out.region(),
            ),
            "Kernels::record",
        );
        drop(encoder);
        assert_eq!(uncaptured.load(Ordering::SeqCst), 0, "on {on}");
        // The caller's handler is still the caller's.
        let scope_free = ctx.device().create_buffer(&wgpu::BufferDescriptor {
            label: Some("the caller's own mistake"),
            // Mapped at creation, so its size must be a multiple of 4.
            size: 6,
            usage: wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: true,
        });
        drop(scope_free);
        assert_eq!(uncaptured.load(Ordering::SeqCst), 1, "on {on}");
        // And the context goes on working.
        let y = ctx.forward(Activation::Tanh, &[0.5f32]).unwrap();
        assert_eq!(y, cpu::forward(Activation::Tanh, &[0.5f32]).unwrap());
    }
}

/// After `Device::destroy` every call fails quickly, `is_lost` says so, a
/// read pending at the loss resolves with an error, and a new context works.
#[test]
fn a_lost_device_fails_every_call_at_once_and_a_new_context_works() {
    for shared in adapters() {
        let on = describe(shared);
        // Idle when lost.
        let (device, queue) = own_device(shared, |_| {});
        let ctx = Context::from_device(device, queue);
        let x = ctx.upload(&[1.0f32, 2.0, 3.0]).unwrap();
        let mut batch_tensor = ctx.upload(&[1.0f32; 3]).unwrap();
        ctx.notify_device_lost("told by the test");
        assert!(ctx.is_lost());
        ctx.device().destroy();
        let started = Instant::now();
        let lost = |r: Result<(), Error>, what: &str| match r {
            Err(Error::DeviceLost { reason }) => assert!(reason.contains("told by the test")),
            other => panic!("{what}: {other:?} on {on}"),
        };
        lost(
            ctx.forward(Activation::Relu, &[1.0f32]).map(drop),
            "forward",
        );
        lost(ctx.upload(&[1.0f32]).map(drop), "upload");
        lost(ctx.apply(Activation::Relu, &x).map(drop), "apply");
        lost(ctx.read(&x).map(drop), "read");
        lost(
            ctx.apply_in_place(Activation::Relu, &mut batch_tensor),
            "apply_in_place",
        );
        lost(ctx.softmax(&[1.0f32; 4], 2).map(drop), "softmax");
        lost(
            ctx.apply_gated(Gated::Geglu, &x, &x).map(drop),
            "apply_gated",
        );
        lost(ctx.batch().submit().map(drop), "batch submit");
        assert!(started.elapsed() < Duration::from_secs(2), "on {on}");

        // Lost by wgpu's own account: a context of Context::new or
        // all_adapters follows its device's lost callback. Idle first:
        let reopen = || {
            Context::all_adapters()
                .unwrap()
                .into_iter()
                .find(|c| {
                    c.adapter_info().name == shared.adapter_info().name
                        && c.backend() == shared.backend()
                })
                .unwrap()
        };
        let ctx = reopen();
        let x = ctx.upload(&[1.0f32, 2.0, 3.0]).unwrap();
        ctx.device().destroy();
        assert!(ctx.is_lost(), "idle device destroyed, not lost, on {on}");
        assert!(matches!(
            ctx.apply(Activation::Relu, &x),
            Err(Error::DeviceLost { .. })
        ));
        // Then with work in flight: the loss shows once that work drains,
        // or when a call fails on it, whichever comes first.
        let ctx = reopen();
        let big = ctx.upload(&vec![0.25f32; 1 << 20]).unwrap();
        let _in_flight = ctx.apply(Activation::Gelu, &big).unwrap();
        ctx.device().destroy();
        let started = Instant::now();
        let mut saw_lost = false;
        for attempt in 0..4 {
            let result = ctx.forward(Activation::Relu, &[1.0f32; 16]);
            assert!(
                result.is_err(),
                "attempt {attempt} after the loss succeeded on {on}"
            );
            saw_lost |= matches!(result, Err(Error::DeviceLost { .. }));
        }
        assert!(saw_lost && ctx.is_lost(), "on {on}");
        assert!(started.elapsed() < Duration::from_secs(5), "on {on}");
        assert!(matches!(
            ctx.apply(Activation::Relu, &big),
            Err(Error::DeviceLost { .. })
        ));

        // A read pending when the device goes.
        let (device, queue) = own_device(shared, |_| {});
        let ctx = Context::from_device(device, queue);
        let big = ctx.upload(&vec![0.25f32; 1 << 22]).unwrap();
        let y = ctx.apply(Activation::Gelu, &big).unwrap();
        let pending = ctx.read_async(&y);
        let device = ctx.device().clone();
        let killer = std::thread::spawn(move || device.destroy());
        let started = Instant::now();
        let result = pollster::block_on(pending);
        killer.join().unwrap();
        // The read may have finished before the loss; if not, it is an error.
        if let Ok(values) = &result {
            assert_eq!(values.len(), 1 << 22);
        }
        assert!(started.elapsed() < Duration::from_secs(30), "on {on}");
        assert!(ctx.forward(Activation::Relu, &[1.0f32]).is_err(), "on {on}");

        // A new context on the same adapter works.
        let (device, queue) = own_device(shared, |_| {});
        let fresh = Context::from_device(device, queue);
        assert_eq!(
            fresh.forward(Activation::Relu, &[-1.0f32, 2.0]).unwrap(),
            [0.0, 2.0]
        );
        assert!(!fresh.is_lost());
    }
}

/// A readback that outlives the poll timeout is `Error::Poll`, and the
/// context is unusable after it. Whether the GPU is still busy when the
/// readback waits depends on the driver: lavapipe usually runs a submission
/// on a thread of its own (then 1 µs times out), but may finish it inside
/// the submit, and wgpu's GL backend finishes the work inside its wait; a
/// result that arrives must then simply be right. Each adapter gets up to
/// three tries with more work each time (1, 4, 16 GELUs of 2^22 in one
/// batch).
#[test]
fn a_poll_timeout_is_an_error_and_retires_the_context() {
    let expected = cpu::forward(Activation::Gelu, &[0.5f32]).unwrap()[0];
    for shared in adapters() {
        let on = describe(shared);
        let mut timed_out = false;
        for calls in [1, 4, 16] {
            let (device, queue) = own_device(shared, |_| {});
            let ctx =
                Context::from_device(device, queue).with_poll_timeout(Duration::from_micros(1));
            let x = ctx.upload(&vec![0.5f32; 1 << 22]).unwrap();
            let mut batch = ctx.batch();
            let ys: Vec<GpuTensor> = (0..calls)
                .map(|_| batch.apply(Activation::Gelu, &x).unwrap())
                .collect();
            match batch.read(ys.last().unwrap()) {
                Err(Error::Poll(wgpu::PollError::Timeout)) => {
                    assert!(ctx.is_lost(), "on {on}");
                    assert!(matches!(
                        ctx.forward(Activation::Relu, &[1.0f32]),
                        Err(Error::DeviceLost { .. })
                    ));
                    timed_out = true;
                    break;
                }
                Ok(values) => {
                    assert!(
                        values
                            .iter()
                            .all(|v| v.to_bits() == expected.to_bits()
                                || (v - expected).abs() < 1e-6),
                        "on {on}"
                    );
                    assert!(!ctx.is_lost(), "on {on}");
                }
                Err(other) => panic!("{other:?} on {on}"),
            }
        }
        eprintln!(
            "poll timeout on {on}: {}",
            if timed_out {
                "timed out, context retired"
            } else {
                "work finished inside the wait"
            }
        );
    }
}

/// Eight threads calling different ops, modes and sizes on one context get
/// exactly the single-threaded bits; so do batches built on several threads,
/// and every adapter's context used at once.
#[test]
fn threads_sharing_contexts_get_the_single_threaded_bits() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Context>();
    assert_send_sync::<GpuTensor>();
    type Job = (Activation, Mode, Vec<f32>, Vec<f32>);
    let ops = [
        Activation::Gelu,
        Activation::Silu,
        Activation::Tanh,
        Activation::LeakyRelu {
            negative_slope: 0.2,
        },
        Activation::Softplus {
            beta: 2.0,
            threshold: 10.0,
        },
        Activation::Mish,
        Activation::Sigmoid,
        Activation::Elu { alpha: 0.5 },
    ];
    let modes = [Mode::Forward, Mode::Derivative, Mode::Backward];
    let jobs: Vec<Job> = (0..24)
        .map(|j| {
            let n = [1, 37, 1024, 4099, 65_537][j % 5] + j;
            let x = random_sweep(100 + j as u64, n);
            let g = random_sweep(200 + j as u64, n);
            (ops[j % ops.len()], modes[j % 3], x, g)
        })
        .collect();
    let run = |ctx: &Context, (act, mode, x, g): &Job| -> Vec<u32> {
        let y = match mode {
            Mode::Forward => ctx.forward(*act, x),
            Mode::Derivative => ctx.derivative(*act, x),
            Mode::Backward => ctx.backward(*act, x, g),
        };
        bits(&y.unwrap())
    };
    let expected: Vec<Vec<Vec<u32>>> = adapters()
        .iter()
        .map(|ctx| jobs.iter().map(|job| run(ctx, job)).collect())
        .collect();
    let deadline = Instant::now() + Duration::from_millis(1500);
    let calls = AtomicUsize::new(0);
    std::thread::scope(|s| {
        // Every adapter at once, eight threads each.
        for (ctx, expected) in adapters().iter().zip(&expected) {
            for t in 0..8 {
                let (jobs, calls) = (&jobs, &calls);
                s.spawn(move || {
                    let mut j = t;
                    while Instant::now() < deadline {
                        let job = &jobs[j % jobs.len()];
                        assert_eq!(
                            run(ctx, job),
                            expected[j % jobs.len()],
                            "job {j} on {}",
                            describe(ctx)
                        );
                        calls.fetch_add(1, Ordering::Relaxed);
                        j += 8;
                    }
                });
            }
            // Batches recorded on other threads: a chain per thread.
            for t in 0..3 {
                let jobs = &jobs;
                s.spawn(move || {
                    let (act, _, x, g) = &jobs[t * 5 + 2];
                    let xt = ctx.upload(x).unwrap();
                    let gt = ctx.upload(g).unwrap();
                    let mut batch = ctx.batch();
                    let y = batch.apply(*act, &xt).unwrap();
                    let dx = batch.apply_backward(*act, &xt, &gt).unwrap();
                    let read = batch.read_all(&[&y, &dx]).unwrap();
                    assert_eq!(bits(&read[0]), bits(&ctx.forward(*act, x).unwrap()));
                    assert_eq!(bits(&read[1]), bits(&ctx.backward(*act, x, g).unwrap()));
                });
            }
        }
    });
    assert!(
        calls.load(Ordering::Relaxed) >= 16,
        "only {} calls",
        calls.load(Ordering::Relaxed)
    );
}
