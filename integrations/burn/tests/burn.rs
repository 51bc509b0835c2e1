//! wgpu-activations on Burn's wgpu tensors, on every adapter Burn's runtime
//! comes up on (Vulkan and GL here; `WGPU_BACKEND` picks one): forward,
//! derivative, backward and autodiff gradients equal the host API's bits
//! (same kernel on the same device), agreement with Burn's own activations,
//! a fused chain around ours, a small MLP that trains, and bad input as
//! errors.

use std::sync::OnceLock;

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::wgpu::WgpuBackend;
use burn::tensor::{DType, Device, Tensor, TensorData};
use half::{bf16, f16};
use wgpu_activations::{Context, Element, accuracy};
// Burn's own activation for each of our names, the Burn peer's table.
#[path = "../../../benches/peers/burn/src/burn_ops.rs"]
mod burn_ops;

use wgpu_activations_burn::{
    Activation, ActivationLayer, Activations, Error, Gated, GatedLayer, Mode, Precision,
};

/// One of Burn's wgpu runtimes, registered, with the host API on its very
/// `wgpu::Device` and queue.
struct Gpu {
    api: &'static str,
    acts: Activations,
    host: Context,
}

/// Every graphics API Burn's runtime comes up on here, or the one
/// `WGPU_BACKEND` names. Panics (the tests fail) when none does, or when one
/// listed in `WGPU_ACTIVATIONS_EXPECT_BACKENDS` does not.
fn gpus() -> &'static [Gpu] {
    static GPUS: OnceLock<Vec<Gpu>> = OnceLock::new();
    GPUS.get_or_init(|| {
        let wanted = std::env::var("WGPU_BACKEND")
            .unwrap_or_default()
            .to_lowercase();
        let expected = std::env::var("WGPU_ACTIVATIONS_EXPECT_BACKENDS").unwrap_or_default();
        let apis: [(&'static str, WgpuBackend); 2] =
            [("vulkan", WgpuBackend::Vulkan), ("gl", WgpuBackend::Gl)];
        let mut gpus = Vec::new();
        for (name, api) in apis {
            if !wanted.is_empty() && !wanted.split(',').any(|w| w.trim() == name) {
                continue;
            }
            match Device::wgpu_options().graphics_api(api).init_with_setup() {
                Ok((device, setup)) => {
                    let acts = Activations::register(&device, &setup).expect("register");
                    let host = Context::from_device(setup.device.clone(), setup.queue.clone());
                    eprintln!("burn: {name}: {}", setup.adapter.get_info().name);
                    gpus.push(Gpu {
                        api: name,
                        acts,
                        host,
                    });
                }
                Err(e) => {
                    assert!(
                        !expected.split(',').any(|w| w.trim() == name),
                        "Burn's wgpu runtime did not come up on {name}, which \
                         WGPU_ACTIVATIONS_EXPECT_BACKENDS expects: {e}"
                    );
                    eprintln!("burn: NOT TESTED on {name}: Burn's wgpu runtime: {e}");
                }
            }
        }
        assert!(
            !gpus.is_empty(),
            "no adapter: Burn's wgpu runtime came up on no graphics API (WGPU_BACKEND={wanted:?})"
        );
        gpus
    })
}

/// The inputs: signed zeros, infinities, NaN, subnormals, the kinks of the
/// piecewise ops, a dense ramp over [-12, 12] and a few large values.
fn inputs() -> Vec<f32> {
    let mut xs = vec![
        0.0,
        -0.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1e-40,
        -1e-40,
        1e-8,
        -1e-8,
        1.0,
        -1.0,
        3.0,
        -3.0,
        6.0,
        0.5,
        -0.5,
        20.0,
        -20.0,
        88.0,
        -88.0,
        1e30,
        -1e30,
    ];
    xs.extend((0..2000).map(|i| -12.0 + 24.0 * i as f32 / 1999.0));
    xs
}

/// Gradients for the backward checks: varied signs and scales.
fn grads(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| (i as f32 * 0.37).sin() * 2.0 + 0.125)
        .collect()
}

/// Every kind at its defaults, and some at other parameters.
fn activations() -> Vec<Activation> {
    let mut acts = Activation::ALL.to_vec();
    for text in [
        "leaky_relu(0.2)",
        "elu(0.5)",
        "celu(2)",
        "softplus(beta=2, threshold=5)",
        "hardtanh(-2, 3)",
        "softshrink(1)",
    ] {
        acts.push(text.parse().expect(text));
    }
    acts
}

/// The element types compared by their bits.
trait Bits: Copy + Into<f32> {
    fn bits(self) -> u32;
}

impl Bits for f32 {
    fn bits(self) -> u32 {
        self.to_bits()
    }
}

impl Bits for f16 {
    fn bits(self) -> u32 {
        u32::from(self.to_bits())
    }
}

impl Bits for bf16 {
    fn bits(self) -> u32 {
        u32::from(self.to_bits())
    }
}

/// Fails, naming `what` and the input, where `got` and `want` differ in any
/// bit (`inputs[i]` produced both `got[i]` and `want[i]`).
fn assert_same_bits<T: Bits>(what: impl std::fmt::Display, inputs: &[T], got: &[T], want: &[T]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    if let Some(i) = (0..got.len()).find(|&i| got[i].bits() != want[i].bits()) {
        let [x, got, want] = [inputs[i], got[i], want[i]].map(Into::<f32>::into);
        panic!("{what} differs at x = {x} (index {i}): {got} vs {want}");
    }
}

fn read<T: Element + burn::tensor::Element, const D: usize>(t: Tensor<D>) -> Vec<T> {
    t.into_data().try_to_vec::<T>().expect("read back")
}

/// A float tensor of `xs` on `device` in `dtype`, and its values as the
/// tensor holds them (rounded to `dtype`).
fn tensor_of<T: Element + burn::tensor::Element>(
    xs: &[f32],
    dtype: DType,
    device: &Device,
) -> (Tensor<1>, Vec<T>) {
    let t = Tensor::<1>::from_data(TensorData::new(xs.to_vec(), [xs.len()]), device).cast(dtype);
    let values = read::<T, 1>(t.clone());
    (t, values)
}

/// Forward, derivative and backward of every op, f32, f16, bf16, both
/// tiers: Burn's tensors through this crate equal the host API's results on
/// the same device, bit for bit.
fn check_modes<T: Element + burn::tensor::Element + Bits>(gpu: &Gpu, dtype: DType) {
    let device = gpu.acts.device();
    let xs = inputs();
    let (x, x_values) = tensor_of::<T>(&xs, dtype, &device);
    let (g, g_values) = tensor_of::<T>(&grads(xs.len()), dtype, &device);
    for precision in [Precision::Precise, Precision::Fast] {
        let host = gpu.host.with_precision(precision);
        let what = |act: Activation, mode: &str| {
            format!("{}: {act} {mode} {dtype:?} {precision:?}", gpu.api)
        };
        for act in activations() {
            let y = read::<T, 1>(
                wgpu_activations_burn::activation_at(x.clone(), act, precision).unwrap(),
            );
            let want = host.forward(act, &x_values).unwrap();
            assert_same_bits(what(act, "forward"), &x_values, &y, &want);

            let d = read::<T, 1>(
                wgpu_activations_burn::unary(x.clone(), act, Mode::Derivative, Some(precision))
                    .unwrap(),
            );
            let want = host.derivative(act, &x_values).unwrap();
            assert_same_bits(what(act, "derivative"), &x_values, &d, &want);

            let dx = read::<T, 1>(
                wgpu_activations_burn::backward_at(x.clone(), g.clone(), act, precision).unwrap(),
            );
            let want = host.backward(act, &x_values, &g_values).unwrap();
            assert_same_bits(what(act, "backward"), &x_values, &dx, &want);
        }
    }
}

#[test]
fn every_op_and_mode_equals_the_host_api_bit_for_bit_f32() {
    for gpu in gpus() {
        check_modes::<f32>(gpu, DType::F32);
    }
}

#[test]
fn every_op_and_mode_equals_the_host_api_bit_for_bit_f16_bf16() {
    for gpu in gpus() {
        if !gpu.acts.device().supports_dtype(DType::F16) {
            eprintln!(
                "{}: Burn's runtime has no f16 here; f16 not tested",
                gpu.api
            );
        } else {
            check_modes::<f16>(gpu, DType::F16);
        }
        if !gpu.acts.device().supports_dtype(DType::BF16) {
            eprintln!(
                "{}: Burn's runtime has no bf16 here; bf16 not tested",
                gpu.api
            );
        } else {
            check_modes::<bf16>(gpu, DType::BF16);
        }
    }
}

/// Autodiff: `x.grad` of `sum(act(x) * g)` is our backward kernel's
/// `g * act'(x)`, bit for bit; for the gated family both inputs' gradients.
#[test]
fn autodiff_gradients_are_our_backward_kernels() {
    for gpu in gpus() {
        let device = gpu.acts.device().autodiff();
        let xs = inputs();
        let gs = grads(xs.len());
        let g = Tensor::<1>::from_data(TensorData::new(gs.clone(), [gs.len()]), &device);
        for act in activations() {
            let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &device)
                .require_grad();
            let y = wgpu_activations_burn::activation(x.clone(), act).unwrap();
            let forward = read::<f32, 1>(y.clone());
            let grads = (y * g.clone()).sum().backward();
            let dx = read::<f32, 1>(x.grad(&grads).expect("x has a gradient"));
            let api = gpu.api;
            let want = gpu.host.forward(act, &xs).unwrap();
            assert_same_bits(
                format!("{api}: {act} forward under autodiff"),
                &xs,
                &forward,
                &want,
            );
            let want = gpu.host.backward(act, &xs, &gs).unwrap();
            assert_same_bits(format!("{api}: {act} autodiff gradient"), &xs, &dx, &want);
        }
        let n = 1031;
        let values: Vec<f32> = (0..n).map(|i| (i as f32 * 0.61).cos() * 3.0).collect();
        let gates: Vec<f32> = (0..n).map(|i| -6.0 + 12.0 * i as f32 / n as f32).collect();
        let gs = grads(n);
        let g = Tensor::<1>::from_data(TensorData::new(gs.clone(), [n]), &device);
        for kind in Gated::ALL {
            let v = Tensor::<1>::from_data(TensorData::new(values.clone(), [n]), &device)
                .require_grad();
            let gate =
                Tensor::<1>::from_data(TensorData::new(gates.clone(), [n]), &device).require_grad();
            let y = wgpu_activations_burn::gated(v.clone(), gate.clone(), kind).unwrap();
            let forward = read::<f32, 1>(y.clone());
            let want = gpu.host.gated_forward(kind, &values, &gates).unwrap();
            assert_same_bits(
                format!("{}: {kind:?} forward", gpu.api),
                &gates,
                &forward,
                &want,
            );
            let grads = (y * g.clone()).sum().backward();
            let (want_v, want_g) = gpu.host.gated_backward(kind, &values, &gates, &gs).unwrap();
            let dv = read::<f32, 1>(v.grad(&grads).unwrap());
            let dg = read::<f32, 1>(gate.grad(&grads).unwrap());
            assert_same_bits(
                format!("{}: {kind:?} d_value", gpu.api),
                &gates,
                &dv,
                &want_v,
            );
            assert_same_bits(
                format!("{}: {kind:?} d_gate", gpu.api),
                &gates,
                &dg,
                &want_g,
            );
        }
    }
}

/// Any rank, and views: a transposed (non-contiguous) 3-D tensor gives the
/// same values as its contiguous copy; `glu` splits the last dimension as
/// PyTorch's `F.glu` does.
#[test]
fn any_rank_views_and_glu_split() {
    for gpu in gpus() {
        let device = gpu.acts.device();
        let xs: Vec<f32> = (0..2 * 3 * 8)
            .map(|i| (i as f32 * 0.7).sin() * 4.0)
            .collect();
        let x = Tensor::<3>::from_data(TensorData::new(xs.clone(), [2, 3, 8]), &device);
        let act = Activation::Gelu;
        let y = read::<f32, 3>(wgpu_activations_burn::activation(x.clone(), act).unwrap());
        assert_eq!(
            y,
            gpu.host.forward(act, &xs).unwrap(),
            "{}: rank 3",
            gpu.api
        );

        let xt = x.clone().swap_dims(1, 2); // [2, 8, 3], strided
        let yt = wgpu_activations_burn::activation(xt.clone(), act).unwrap();
        let want = wgpu_activations_burn::activation(
            Tensor::<3>::from_data(xt.clone().into_data(), &device),
            act,
        )
        .unwrap();
        assert_eq!(yt.dims(), [2, 8, 3]);
        assert_eq!(
            read::<f32, 3>(yt),
            read::<f32, 3>(want),
            "{}: strided view",
            gpu.api
        );

        // glu along the last dimension: value = first 4, gate = last 4.
        let y = read::<f32, 3>(wgpu_activations_burn::glu(x.clone(), 2, Gated::Glu).unwrap());
        let (mut values, mut gates) = (Vec::new(), Vec::new());
        for row in xs.chunks(8) {
            values.extend_from_slice(&row[..4]);
            gates.extend_from_slice(&row[4..]);
        }
        assert_eq!(
            y,
            gpu.host.gated_forward(Gated::Glu, &values, &gates).unwrap(),
            "{}: glu",
            gpu.api
        );
        let layer = GatedLayer::from_config("swiglu", 2).unwrap();
        let y = read::<f32, 3>(layer.forward(x).unwrap());
        assert_eq!(
            y,
            gpu.host
                .gated_forward(Gated::Swiglu, &values, &gates)
                .unwrap(),
            "{}: GatedLayer",
            gpu.api
        );
    }
}

/// Burn ops before and after ours, fusion on: `ours(x * 2 + 1) * 0.5 +
/// 0.25`. The multiplications are exact, so each step has one rounding and
/// the CPU computes the same f32 chain around the host API's result.
#[test]
fn a_chain_of_burn_ops_around_ours_stays_correct() {
    for gpu in gpus() {
        let device = gpu.acts.device();
        let xs: Vec<f32> = (0..4099).map(|i| -7.0 + 14.0 * i as f32 / 4098.0).collect();
        for act in [
            Activation::Gelu,
            Activation::quick_gelu(),
            Activation::Mish,
            Activation::Relu,
        ] {
            let x = Tensor::<2>::from_data(TensorData::new(xs.clone(), [1, xs.len()]), &device);
            let before = x.mul_scalar(2.0).add_scalar(1.0);
            let ours = wgpu_activations_burn::activation(before, act).unwrap();
            let after = ours.mul_scalar(0.5).add_scalar(0.25).exp().log();
            let got = read::<f32, 2>(after.clone());

            let pre: Vec<f32> = xs.iter().map(|&v| v * 2.0 + 1.0).collect();
            let mid = gpu.host.forward(act, &pre).unwrap();
            let post: Vec<f32> = mid.iter().map(|&v| v * 0.5 + 0.25).collect();
            // exp then log is Burn's, not exact: compare it with Burn's own
            // exp/log of the same values, then the rest bit for bit.
            let want_tensor =
                Tensor::<2>::from_data(TensorData::new(post.clone(), [1, post.len()]), &device)
                    .exp()
                    .log();
            assert_eq!(
                got,
                read::<f32, 2>(want_tensor),
                "{}: {act} in a fused chain",
                gpu.api
            );
            let plain = wgpu_activations_burn::activation(
                Tensor::<2>::from_data(TensorData::new(xs.clone(), [1, xs.len()]), &device)
                    .mul_scalar(2.0)
                    .add_scalar(1.0),
                act,
            )
            .unwrap()
            .mul_scalar(0.5)
            .add_scalar(0.25);
            assert_eq!(
                read::<f32, 2>(plain),
                post,
                "{}: {act} between Burn ops",
                gpu.api
            );
        }
    }
}

/// Burn's own activations, where Burn has the op, agree with ours within
/// our bound wherever Burn meets that bound against the f64 reference; where
/// they differ by more, it is Burn that is off the reference, not ours.
#[test]
fn agrees_with_burns_own_activations() {
    let xs: Vec<f32> = (0..8001)
        .map(|i| -16.0 + 32.0 * i as f32 / 8000.0)
        .collect();
    for gpu in gpus() {
        let device = gpu.acts.device();
        let x = Tensor::<1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &device);
        let mut compared = 0;
        for &act in Activation::ALL {
            let name = act.name();
            let Some(burn_op) = burn_ops::burn_op(name) else {
                continue;
            };
            compared += 1;
            let bound = accuracy::target(act, Mode::Forward).unwrap_or(0.0);
            let ours = read::<f32, 1>(wgpu_activations_burn::activation(x.clone(), act).unwrap());
            let theirs = read::<f32, 1>(burn_op(x.clone()));
            let (mut worst_apart, mut worst_burn, mut worst_ours) = (0f64, 0f64, 0f64);
            for (i, &v) in xs.iter().enumerate() {
                let reference = accuracy::judge(act, Mode::Forward, v, 0.0, ours[i]);
                let burn = accuracy::judge(act, Mode::Forward, v, 0.0, theirs[i]);
                let kappa = accuracy::condition_number(
                    |t| wgpu_activations::cpu::forward_f64(act, t),
                    f64::from(v),
                );
                // Below 2^-126 SEMANTICS.md accepts any tiny value of the right
                // sign (flushing hardware), so ULPs there say nothing.
                let tiny = accuracy::reference(act, Mode::Forward, v, 0.0).abs()
                    < f64::from(f32::MIN_POSITIVE);
                let apart = if tiny {
                    0.0
                } else {
                    accuracy::ulp_distance(ours[i], theirs[i]) as f64 / (1.0 + kappa)
                };
                worst_apart = worst_apart.max(apart);
                worst_burn = worst_burn.max(burn.scaled);
                worst_ours = worst_ours.max(reference.scaled);
                // Both within our bound of the same f64 value: within twice
                // it of each other (0 for the exact ops).
                assert!(
                    burn.scaled > bound || apart <= 2.0 * bound,
                    "{}: {name} at x = {v}: ours {} and Burn's {} differ by {apart:.2} scaled ULPs \
                     while both are within our bound ({:.2}, {:.2} <= {bound})",
                    gpu.api,
                    ours[i],
                    theirs[i],
                    reference.scaled,
                    burn.scaled
                );
            }
            assert!(
                worst_ours <= bound,
                "{}: {name}: ours {worst_ours} past {bound}",
                gpu.api
            );
            eprintln!(
                "{}: {name:<20} ours {worst_ours:>6.2}  Burn {worst_burn:>10.2}  apart {worst_apart:>10.2} scaled ULPs (bound {bound})",
                gpu.api
            );
        }
        // Every op Burn has (benches/peers/burn/src/burn_ops.rs) was compared.
        assert_eq!(compared, 22, "{}: ops compared", gpu.api);
    }
}

#[derive(Module, Debug)]
struct Mlp {
    first: Linear,
    act: ActivationLayer,
    second: Linear,
}

impl Mlp {
    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.second
            .forward(self.act.forward(self.first.forward(x)).unwrap())
    }
}

/// A small MLP with our GELU or QuickGELU (built from its config string)
/// learns `y = sin(3 x0) + x1^2` for a few Adam steps: the loss falls.
#[test]
fn a_small_mlp_with_our_activation_trains() {
    for gpu in gpus() {
        let device = gpu.acts.device().autodiff();
        let n = 256;
        let inputs: Vec<f32> = (0..2 * n)
            .map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0)
            .collect();
        let targets: Vec<f32> = inputs
            .chunks(2)
            .map(|p| (3.0 * p[0]).sin() + p[1] * p[1])
            .collect();
        let x = Tensor::<2>::from_data(TensorData::new(inputs, [n, 2]), &device);
        let y = Tensor::<2>::from_data(TensorData::new(targets, [n, 1]), &device);
        for name in ["gelu", "quick_gelu"] {
            device.seed(7);
            let mut model = Mlp {
                first: LinearConfig::new(2, 32).init(&device),
                act: ActivationLayer::from_config(name).unwrap(),
                second: LinearConfig::new(32, 1).init(&device),
            };
            let mut optim = AdamConfig::new().init();
            let mut losses = Vec::new();
            for _ in 0..40 {
                let loss = (model.forward(x.clone()) - y.clone())
                    .powf_scalar(2.0)
                    .mean();
                losses.push(read::<f32, 1>(loss.clone())[0]);
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(0.02, model, grads);
            }
            let (first, last) = (losses[0], *losses.last().unwrap());
            eprintln!("{}: MLP with {name}: loss {first:.4} -> {last:.4}", gpu.api);
            assert!(
                last.is_finite() && last < 0.5 * first,
                "{}: {name}: loss {first} -> {last}",
                gpu.api
            );
        }
    }
}

/// Bad input is an `Error`, never a panic: a tensor of another type, on
/// another device, of another shape, an invalid activation, an odd split.
#[test]
fn bad_input_is_an_error() {
    let gpu = &gpus()[0];
    let device = gpu.acts.device();
    let x = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0], [3]), &device);

    // A wgpu runtime of Burn's that was not registered with this crate.
    let unregistered = Device::wgpu_options()
        .device_kind(burn::tensor::DeviceKind::Cpu)
        .init()
        .expect("a second Burn wgpu runtime");
    let off = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 2.0, 3.0], [3]), &unregistered);
    let e = wgpu_activations_burn::activation(off.clone(), Activation::Relu).unwrap_err();
    assert!(matches!(e, Error::NotRegistered(_)), "{e}");
    // Tensors of one call on two devices.
    if let Some(other) = gpus().get(1) {
        let there = Tensor::<1>::from_data(
            TensorData::new(vec![1.0f32, 2.0, 3.0], [3]),
            &other.acts.device(),
        );
        let e = wgpu_activations_burn::backward(x.clone(), there, Activation::Relu).unwrap_err();
        assert!(
            matches!(e, Error::DeviceMismatch { what: "grad", .. }),
            "{e}"
        );
    }

    let short = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 2.0], [2]), &device);
    let e =
        wgpu_activations_burn::backward(x.clone(), short.clone(), Activation::Relu).unwrap_err();
    assert!(matches!(e, Error::Mismatch { what: "grad", .. }), "{e}");
    let e = wgpu_activations_burn::gated(x.clone(), short, Gated::Glu).unwrap_err();
    assert!(matches!(e, Error::Mismatch { what: "gate", .. }), "{e}");

    if device.supports_dtype(DType::F16) {
        let half = x.clone().cast(DType::F16);
        let e = wgpu_activations_burn::backward(x.clone(), half, Activation::Relu).unwrap_err();
        assert!(matches!(e, Error::Mismatch { what: "grad", .. }), "{e}");
    }
    let ints = x.clone().int().float().cast(DType::F32);
    assert!(wgpu_activations_burn::activation(ints, Activation::Relu).is_ok());
    if device.supports_dtype(DType::F64) {
        let wide = x.clone().cast(DType::F64);
        let e = wgpu_activations_burn::activation(wide, Activation::Relu).unwrap_err();
        assert!(matches!(e, Error::Dtype { .. }), "{e}");
    }

    let e = wgpu_activations_burn::activation(
        x.clone(),
        Activation::LeakyRelu {
            negative_slope: f32::NAN,
        },
    )
    .unwrap_err();
    assert!(matches!(e, Error::Kernel(_)), "{e}");
    assert!(ActivationLayer::from_config("not_an_activation").is_err());
    assert!(GatedLayer::from_config("not_gated", 0).is_err());
    let e = wgpu_activations_burn::unary(x.clone(), Activation::Relu, Mode::Backward, None)
        .unwrap_err();
    assert!(matches!(e, Error::BackwardMode), "{e}");
    let e = wgpu_activations_burn::glu(x.clone(), 0, Gated::Glu).unwrap_err();
    assert!(matches!(e, Error::Split { dim: 0, .. }), "{e}");
    let e = wgpu_activations_burn::glu(x.clone(), 1, Gated::Glu).unwrap_err();
    assert!(matches!(e, Error::Split { dim: 1, .. }), "{e}");

    // Still working afterwards, and the input untouched.
    let y = read::<f32, 1>(wgpu_activations_burn::activation(x.clone(), Activation::Relu).unwrap());
    assert_eq!(y, vec![1.0, 2.0, 3.0]);
    assert_eq!(read::<f32, 1>(x), vec![1.0, 2.0, 3.0]);
}

/// A tensor nobody else holds is overwritten in place (as Burn's own
/// element-wise ops do): the same bits as the host API, forward and backward.
#[test]
fn a_consumed_input_gives_the_same_bits() {
    for gpu in gpus() {
        let device = gpu.acts.device();
        let xs = inputs();
        let gs = grads(xs.len());
        let fresh =
            |v: &[f32]| Tensor::<1>::from_data(TensorData::new(v.to_vec(), [v.len()]), &device);
        for act in [
            Activation::Gelu,
            Activation::Silu,
            Activation::Relu,
            Activation::quick_gelu(),
        ] {
            let api = gpu.api;
            let forward = gpu.host.forward(act, &xs).unwrap();
            let y = read::<f32, 1>(wgpu_activations_burn::activation(fresh(&xs), act).unwrap());
            assert_same_bits(format!("{api}: {act}"), &xs, &y, &forward);
            let dx = read::<f32, 1>(
                wgpu_activations_burn::backward(fresh(&xs), fresh(&gs), act).unwrap(),
            );
            let want = gpu.host.backward(act, &xs, &gs).unwrap();
            assert_same_bits(format!("{api}: {act} backward"), &xs, &dx, &want);
            // x * 1 is a new tensor from a Burn kernel, then consumed.
            let y = read::<f32, 1>(
                wgpu_activations_burn::activation(fresh(&xs).mul_scalar(1.0), act).unwrap(),
            );
            assert_same_bits(format!("{api}: {act} after a Burn op"), &xs, &y, &forward);
        }
    }
}
