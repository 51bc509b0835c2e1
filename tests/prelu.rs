//! PReLU with learned slopes and RReLU in training: the CPU reference
//! against PyTorch's values, the GPU against the CPU reference on every
//! adapter (bit for bit where one rounding is all there is), deterministic
//! slope gradients (the same bits twice and on every adapter), RReLU's
//! slopes reproducible from the seed everywhere, and bad input.

use wgpu_activations::{Activation, Error, cpu};

use crate::support::{Rng, adapters, describe};

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

/// PyTorch 2.x: `F.prelu(torch.tensor([[[-1., 2.], [-3., 4.]]]),
/// torch.tensor([0.25, 0.5]))` and its gradients for `dy = 1`.
#[test]
fn cpu_reference_matches_known_values() {
    let x = [-1.0, 2.0, -3.0, 4.0];
    let slopes = [0.25, 0.5];
    assert_eq!(
        cpu::prelu(&x, &slopes, [1, 2, 2]).unwrap(),
        [-0.25, 2.0, -1.5, 4.0]
    );
    let (dx, d_slopes) = cpu::prelu_backward(&x, &slopes, &[1.0; 4], [1, 2, 2]).unwrap();
    assert_eq!(dx, [0.25, 1.0, 0.5, 1.0]);
    assert_eq!(d_slopes, [-1.0, -3.0]);
    // One slope shared by every channel (nn.PReLU() with num_parameters=1).
    let (_, shared) = cpu::prelu_backward(&x, &[0.25], &[1.0; 4], [1, 2, 2]).unwrap();
    assert_eq!(shared, [-4.0]);
    // RReLU with lower == upper is LeakyReLU with that slope.
    let (y, noise) = cpu::rrelu_train(&x, 0.2, 0.2, 7).unwrap();
    assert_eq!(
        y,
        cpu::forward(
            Activation::LeakyRelu {
                negative_slope: 0.2
            },
            &x
        )
        .unwrap()
    );
    assert_eq!(noise, [0.2, 1.0, 0.2, 1.0]);
}

fn random(rng: &mut Rng, n: usize, scale: f64) -> Vec<f32> {
    (0..n)
        .map(|_| ((rng.unit() * 2.0 - 1.0) * scale) as f32)
        .collect()
}

/// Forward and dx bit for bit against the CPU reference (one rounding
/// each), `d_slopes` within 1e-6 relative of the f64 sum, identical on a
/// second run and on every adapter.
#[test]
fn gpu_prelu_matches_the_reference_and_is_deterministic() {
    let shapes: [([usize; 3], bool); 6] = [
        ([2, 3, 5], false),
        ([1, 1, 1000], false),
        ([4, 16, 257], false),
        ([3, 4, 7], true),
        ([1, 2, 1 << 20], false),
        ([5, 1, 1], false),
    ];
    let mut rng = Rng::new(0x9e1);
    let mut first_adapter: Vec<Vec<u32>> = Vec::new();
    for (a, ctx) in adapters().iter().enumerate() {
        let on = describe(ctx);
        let mut rng_shapes = Rng::new(0x51);
        for (s, (shape, shared)) in shapes.iter().enumerate() {
            let len = shape.iter().product::<usize>();
            let x = random(&mut rng_shapes, len, 8.0);
            let dy = random(&mut rng_shapes, len, 2.0);
            let slopes = random(&mut rng_shapes, if *shared { 1 } else { shape[1] }, 0.5);
            let y = ctx.prelu(&x, &slopes, *shape).unwrap();
            assert_eq!(
                bits(&y),
                bits(&cpu::prelu(&x, &slopes, *shape).unwrap()),
                "{on} {shape:?}"
            );
            let (dx, ds) = ctx.prelu_backward(&x, &slopes, &dy, *shape).unwrap();
            let (want_dx, want_ds) = cpu::prelu_backward(&x, &slopes, &dy, *shape).unwrap();
            assert_eq!(bits(&dx), bits(&want_dx), "{on} {shape:?}: dx");
            for (c, (g, w)) in ds.iter().zip(&want_ds).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-6 * w.abs(),
                    "{on} {shape:?}: d_slopes[{c}] = {g}, f64 sum {w}"
                );
            }
            let (_, again) = ctx.prelu_backward(&x, &slopes, &dy, *shape).unwrap();
            assert_eq!(
                bits(&again),
                bits(&ds),
                "{on} {shape:?}: a second run differs"
            );
            if a == 0 {
                first_adapter.push(bits(&ds));
            } else {
                assert_eq!(
                    bits(&ds),
                    first_adapter[s],
                    "{on} {shape:?}: differs from the first adapter"
                );
            }
        }
    }
    let _ = &mut rng;
}

/// NaN in x gives NaN in y, dx and its channel's slope gradient only; an
/// empty input gives zero slope gradients.
#[test]
fn gpu_prelu_specials() {
    for ctx in adapters() {
        let x = [f32::NAN, -1.0, 2.0, -0.0];
        let (dx, ds) = ctx
            .prelu_backward(&x, &[0.1, 0.2], &[1.0; 4], [1, 2, 2])
            .unwrap();
        assert!(
            dx[0].is_nan() && ds[0].is_nan(),
            "{}: {dx:?} {ds:?}",
            describe(ctx)
        );
        assert_eq!(ds[1], 0.0);
        let y = ctx.prelu(&x, &[0.1, 0.2], [1, 2, 2]).unwrap();
        assert!(y[0].is_nan());
        assert_eq!(
            y[3].to_bits(),
            (-0.0f32).to_bits(),
            "prelu(-0.0) = -0.0 for a positive slope"
        );
        let (dx, ds) = ctx
            .prelu_backward(&[], &[0.1, 0.2], &[], [0, 2, 3])
            .unwrap();
        assert!(dx.is_empty());
        assert_eq!(ds, [0.0, 0.0]);
    }
}

/// RReLU's training slopes: the same seed gives the same bits on every
/// adapter and in cpu::, another seed other slopes, every slope in
/// [lower, upper] with the mean of a uniform; lower == upper is LeakyReLU
/// bit for bit; the backward is dy * noise.
#[test]
fn gpu_rrelu_train_is_reproducible() {
    let mut rng = Rng::new(0x77);
    let x = random(&mut rng, 100_003, 4.0);
    let dy = random(&mut rng, x.len(), 2.0);
    let (lower, upper) = (0.125f32, 1.0 / 3.0);
    let (want_y, want_noise) = cpu::rrelu_train(&x, lower, upper, 42).unwrap();
    for ctx in adapters() {
        let on = describe(ctx);
        let (y, noise) = ctx.rrelu_train(&x, lower, upper, 42).unwrap();
        assert_eq!(bits(&y), bits(&want_y), "{on}: y");
        assert_eq!(bits(&noise), bits(&want_noise), "{on}: noise");
        let (_, other) = ctx.rrelu_train(&x, lower, upper, 43).unwrap();
        assert_ne!(
            bits(&other),
            bits(&noise),
            "{on}: another seed, other slopes"
        );
        let dx = ctx.rrelu_train_backward(&noise, &dy).unwrap();
        let want_dx: Vec<f32> = noise.iter().zip(&dy).map(|(n, g)| n * g).collect();
        assert_eq!(bits(&dx), bits(&want_dx), "{on}: dx");
        let leaky = ctx
            .forward(
                Activation::LeakyRelu {
                    negative_slope: 0.2,
                },
                &x,
            )
            .unwrap();
        let (y_fixed, _) = ctx.rrelu_train(&x, 0.2, 0.2, 9).unwrap();
        assert_eq!(
            bits(&y_fixed),
            bits(&leaky),
            "{on}: lower == upper is LeakyReLU"
        );
    }
    let drawn: Vec<f64> = x
        .iter()
        .zip(&want_noise)
        .filter(|(v, _)| **v <= 0.0)
        .map(|(_, &n)| f64::from(n))
        .collect();
    assert!(
        drawn
            .iter()
            .all(|&s| s >= f64::from(lower) && s <= f64::from(upper))
    );
    let mean = drawn.iter().sum::<f64>() / drawn.len() as f64;
    let want = (f64::from(lower) + f64::from(upper)) / 2.0;
    assert!(
        (mean - want).abs() < 0.002,
        "mean slope {mean}, want {want}"
    );
}

#[test]
fn prelu_and_rrelu_bad_input_is_an_error() {
    let ctx = &adapters()[0];
    let x = [1.0, -1.0, 2.0, -2.0];
    assert!(matches!(
        ctx.prelu(&x, &[0.1, 0.2], [1, 3, 2]),
        Err(Error::ShapeMismatch { what: "x", .. })
    ));
    assert!(matches!(
        ctx.prelu(&x, &[0.1, 0.2, 0.3], [1, 2, 2]),
        Err(Error::ShapeMismatch { what: "slopes", .. })
    ));
    assert!(matches!(
        ctx.prelu_backward(&x, &[0.1, 0.2], &[1.0], [1, 2, 2]),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        ctx.rrelu_train(&x, 0.5, 0.25, 1),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        ctx.rrelu_train(&x, f32::NAN, 0.25, 1),
        Err(Error::InvalidParameter { .. })
    ));
    assert!(matches!(
        ctx.rrelu_train_backward(&x, &[1.0]),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        cpu::prelu(&x, &[0.1], [2, 2, 2]),
        Err(Error::ShapeMismatch { .. })
    ));
    assert_eq!(ctx.prelu(&[-2.0], &[0.5], [1, 1, 1]).unwrap(), [-1.0]);

    // An empty x clears the caller's d_slopes, which then needs COPY_DST:
    // without it, an error before anything is recorded (not a wgpu
    // validation error at submission).
    let device = ctx.device();
    let buffer = |label, usage| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: 16,
            usage,
            mapped_at_creation: false,
        })
    };
    let full = wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST;
    let (x, slopes, dy, dx) = (
        buffer("x", full),
        buffer("slopes", full),
        buffer("dy", full),
        buffer("dx", full),
    );
    let storage_only = buffer("d_slopes", wgpu::BufferUsages::STORAGE);
    let region = |b, len| wgpu_activations::BufferRegion::new(b, 0, len);
    let mut encoder = device.create_command_encoder(&Default::default());
    let result = ctx.prelu_kernels().record_prelu_backward(
        &mut encoder,
        region(&x, 0),
        region(&slopes, 2),
        region(&dy, 0),
        [0, 2, 1],
        region(&dx, 0),
        region(&storage_only, 2),
    );
    assert!(
        matches!(result, Err(Error::BufferUsage { .. })),
        "{result:?}"
    );
}

/// A channel of the longest supported length (65,000 x 256 elements, just
/// inside the number of loop iterations Mesa's llvmpipe runs before it cuts
/// a loop off, about 65,535): every element counts, the last ones included;
/// more is an error, not a wrong sum.
#[test]
fn gpu_prelu_slope_gradient_of_the_longest_channel() {
    let len = wgpu_activations::MAX_PER_CHANNEL;
    let x = vec![-1.0f32; len];
    let mut dy = vec![0.0f32; len];
    for g in &mut dy[len - 4096..] {
        *g = 0.5;
    }
    for ctx in adapters() {
        let (_, d_slopes) = ctx.prelu_backward(&x, &[0.25], &dy, [1, 1, len]).unwrap();
        assert_eq!(d_slopes, [-2048.0], "{}", describe(ctx));
    }
    let ctx = &adapters()[0];
    let longer = vec![-1.0f32; len + 2];
    assert!(matches!(
        ctx.prelu_backward(&longer, &[0.25], &longer, [2, 1, len / 2 + 1]),
        Err(Error::ShapeMismatch { what: "x", .. })
    ));
}
