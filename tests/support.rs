//! Shared test helpers: the adapters, input generators, tolerances.

use std::sync::OnceLock;

use wgpu_activations::accuracy::{SweepStats, Worst, judge, target_at};
use wgpu_activations::{Activation, Context, Mode, Precision, RowOp};

/// Every adapter the machine offers (restricted by WGPU_BACKEND /
/// WGPU_ADAPTER_NAME when set), opened once per test process. Panics with
/// install instructions when there is none: GPU checks never skip silently.
pub fn adapters() -> &'static [Context] {
    static ADAPTERS: OnceLock<Vec<Context>> = OnceLock::new();
    ADAPTERS.get_or_init(|| match Context::all_adapters() {
        Ok(contexts) => {
            let names: Vec<String> = contexts
                .iter()
                .map(|c| format!("{} ({:?})", c.adapter_name(), c.backend()))
                .collect();
            eprintln!("GPU checks run on: {}", names.join(", "));
            contexts
        }
        Err(e) => panic!(
            "GPU tests need an adapter and found none: {e}\n\
             Install a software GPU: `apt-get install -y mesa-vulkan-drivers libvulkan1` (lavapipe); \
             GL uses Mesa's llvmpipe through EGL (`apt-get install -y libegl1 libgles2`)."
        ),
    })
}

/// Name for messages: `"llvmpipe (...) (Vulkan)"`.
pub fn describe(ctx: &Context) -> String {
    format!("{} ({:?})", ctx.adapter_name(), ctx.backend())
}

/// Every adapter at every precision tier: `(context computing at that tier,
/// the tier)`, the precise tier first.
pub fn tiered_adapters() -> Vec<(Context, Precision)> {
    adapters()
        .iter()
        .flat_map(|ctx| Precision::ALL.map(|p| (ctx.with_precision(p), p)))
        .collect()
}

/// SplitMix64: a tiny seeded generator, so every run checks the same inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The special values every op is checked at.
pub use wgpu_activations::accuracy::SPECIAL_VALUES as SPECIALS;

/// A seeded sweep: uniform in [-30, 30], log-uniform magnitudes from 1e-40 to
/// 3e38 with either sign, and raw bit patterns (NaNs and infinities included).
pub fn random_sweep(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| match i % 3 {
            0 => (rng.unit() * 60.0 - 30.0) as f32,
            1 => {
                let magnitude = 10f64.powf(rng.unit() * 78.5 - 40.0) as f32;
                if rng.next_u64() & 1 == 0 {
                    magnitude
                } else {
                    -magnitude
                }
            }
            _ => f32::from_bits(rng.next_u64() as u32),
        })
        .collect()
}

/// Every 0.001 over [-20, 20] (40,001 points).
pub fn dense_grid() -> Vec<f32> {
    (0..=40_000)
        .map(|i| (-20.0 + f64::from(i) * 1e-3) as f32)
        .collect()
}

/// Judges `got` against the reference and panics with the worst offenders
/// when any result breaks a rule or exceeds the tolerance.
pub fn assert_accurate(
    ctx: &Context,
    act: Activation,
    mode: Mode,
    x: &[f32],
    grad: &[f32],
    got: &[f32],
) -> Worst {
    assert_eq!(got.len(), x.len(), "{act:?} {mode:?}: wrong output length");
    // At the tier this context computes f32 at.
    let limit = target_at(act, mode, ctx.precision_for(wgpu_activations::Dtype::F32));
    let mut worst = Worst::default();
    let mut failures = Vec::new();
    for (i, (&xi, &yi)) in x.iter().zip(got).enumerate() {
        let dy = grad.get(i).copied().unwrap_or(1.0);
        let j = judge(act, mode, xi, dy, yi);
        worst.add(xi, j);
        let bad = j.broken_rule.is_some()
            || match limit {
                None => j.ulps > 0.0,
                Some(limit) => j.scaled > limit,
            };
        if bad && failures.len() < 12 {
            let want = wgpu_activations::accuracy::reference(act, mode, xi, dy) as f32;
            failures.push(format!(
                "  [{i}] x = {xi:e} ({:#010x}), dy = {dy:e}: got {yi:e} ({:#010x}), want {want:e} ({:#010x}); {} ULPs, {:.2} scaled, {:?}",
                xi.to_bits(), yi.to_bits(), want.to_bits(), j.ulps, j.scaled, j.broken_rule
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} {act:?} {mode:?} on {}: tolerance {:?} scaled ULPs (None = bit-exact) exceeded:\n{}",
        act.name(),
        describe(ctx),
        limit,
        failures.join("\n")
    );
    worst
}

/// Runs `mode` of `act` on the GPU.
pub fn run(ctx: &Context, act: Activation, mode: Mode, x: &[f32], grad: &[f32]) -> Vec<f32> {
    let result = match mode {
        Mode::Forward => ctx.forward(act, x),
        Mode::Derivative => ctx.derivative(act, x),
        Mode::Backward => ctx.backward(act, x, grad),
    };
    result.unwrap_or_else(|e| panic!("{act:?} {mode:?} on {} failed: {e}", describe(ctx)))
}

/// Every op with default parameters, plus non-default ones.
pub fn ops_under_test() -> Vec<Activation> {
    let mut ops = Activation::ALL.to_vec();
    ops.extend([
        Activation::LeakyRelu {
            negative_slope: 0.2,
        },
        Activation::LeakyRelu {
            negative_slope: -1.5,
        },
        Activation::Elu { alpha: 0.5 },
        Activation::Celu { alpha: 2.5 },
        Activation::Softplus {
            beta: 2.0,
            threshold: 10.0,
        },
        Activation::Softplus {
            beta: 0.3,
            threshold: 5.0,
        },
        Activation::Hardtanh {
            min_val: -2.5,
            max_val: 0.75,
        },
        Activation::Softshrink { lambda: 1.25 },
        Activation::Hardshrink { lambda: 0.0 },
        Activation::Threshold {
            threshold: -1.0,
            value: -7.5,
        },
        Activation::Rrelu {
            lower: 0.1,
            upper: 0.3,
        },
        Activation::QuickGelu { alpha: -1.0 },
        Activation::Laplace {
            mu: -3.0,
            sigma: 2.5,
        },
        Activation::ClippedGelu {
            min_val: 0.0,
            max_val: 3.0,
        },
        Activation::Xielu {
            alpha_p: 2.5,
            alpha_n: 1.3,
            beta: 0.5,
            eps: -0.25,
        },
    ]);
    ops
}

/// A grad_output stream for backward: varied magnitudes and signs.
pub fn grad_for(x: &[f32]) -> Vec<f32> {
    let mut rng = Rng::new(0xd1ce);
    x.iter()
        .map(|_| ((rng.unit() * 8.0 - 4.0) as f32) * 0.75)
        .collect()
}

/// One SEMANTICS.md rule: `act` at `x` must give exactly `forward` and
/// `derivative` (NaN meaning "NaN", zeros compared with their sign; an
/// expected subnormal also accepts a zero of the same sign, for backends that
/// flush subnormals).
pub struct Rule {
    pub act: Activation,
    pub x: f32,
    pub forward: f32,
    /// `None`: not an exact value; the accuracy sweeps judge it.
    pub derivative: Option<f32>,
    pub why: &'static str,
}

/// True when `got` is what `want` asks for under [`Rule`]'s conventions.
pub fn matches_rule(got: f32, want: Option<f32>) -> bool {
    let Some(want) = want else { return true };
    if want.is_nan() {
        return got.is_nan();
    }
    if got.to_bits() == want.to_bits() {
        return true;
    }
    want != 0.0
        && want.abs() < f32::MIN_POSITIVE
        && got == 0.0
        && got.is_sign_negative() == want.is_sign_negative()
}

/// The rules of SEMANTICS.md, op by op: kinks, signed zeros, limits at +-inf,
/// NaN, no overflow for huge finite inputs, switch points. Values are exact
/// (written from the definitions, not from any implementation's output).
pub fn semantic_rules() -> Vec<Rule> {
    use Activation as A;
    let inf = f32::INFINITY;
    let nan = f32::NAN;
    let big = f32::MAX;
    let leaky = A::leaky_relu();
    let slope = 0.229_166_67_f32; // (1/8 + 1/3) / 2 rounded to f32
    let selu_scale = 1.050_701_f32;
    let selu_scale_alpha = 1.758_099_3_f32;
    let xielu_alpha_n = f64::from(wgpu_activations::XIELU_ALPHA_N);
    let xielu_eps = f64::from(wgpu_activations::XIELU_EPS);
    let r = |act, x, forward, derivative: f32, why| Rule {
        act,
        x,
        forward,
        derivative: Some(derivative),
        why,
    };
    let mut rules = vec![
        r(A::Sigmoid, inf, 1.0, 0.0, "limits"),
        r(A::Sigmoid, -inf, 0.0, 0.0, "limits"),
        r(A::Sigmoid, -0.0, 0.5, 0.25, "zero"),
        r(A::Tanh, -0.0, -0.0, 1.0, "odd: keeps -0.0"),
        r(
            A::Tanh,
            1e-8,
            1e-8,
            1.0,
            "tiny input (llvmpipe's tanh gives 2.98e-8)",
        ),
        r(A::Tanh, 1e-40, 1e-40, 1.0, "subnormal input"),
        r(A::Tanh, -inf, -1.0, 0.0, "limits"),
        r(A::Tanh, big, 1.0, 0.0, "huge input"),
        r(A::Relu, -0.0, -0.0, 0.0, "relu(-0.0) = -0.0, 0 at the kink"),
        r(A::Relu, 1e-40, 1e-40, 1.0, "subnormal is > 0"),
        r(A::Relu, -inf, 0.0, 0.0, "limits"),
        r(leaky, 0.0, 0.0, 0.01, "slope at the kink"),
        r(leaky, -0.0, -0.0, 0.01, "keeps -0.0"),
        r(leaky, -inf, -inf, 0.01, "limits"),
        r(A::elu(), 0.0, 0.0, 1.0, "ELU'(0) = alpha"),
        r(A::Elu { alpha: 0.5 }, 0.0, 0.0, 0.5, "ELU'(0) = alpha"),
        r(A::elu(), -0.0, -0.0, 1.0, "keeps -0.0"),
        r(A::elu(), -inf, -1.0, 0.0, "limit -alpha"),
        r(A::elu(), -big, -1.0, 0.0, "no overflow"),
        r(A::elu(), big, big, 1.0, "masked branch does not overflow"),
        r(A::Selu, 0.0, 0.0, selu_scale_alpha, "scale alpha at 0"),
        r(A::Selu, -inf, -selu_scale_alpha, 0.0, "limit"),
        r(A::Selu, 1.0, selu_scale, selu_scale, "scale"),
        r(A::celu(), 0.0, 0.0, 1.0, "CELU'(0) = 1"),
        r(A::Celu { alpha: 2.5 }, -0.0, -0.0, 1.0, "keeps -0.0"),
        r(A::celu(), -inf, -1.0, 0.0, "limit -alpha"),
        r(A::Gelu, -0.0, -0.0, 0.5, "odd at 0"),
        r(A::Gelu, inf, inf, 1.0, "limits"),
        r(A::Gelu, -inf, -0.0, -0.0, "limits (vanishing from below)"),
        r(A::Gelu, -big, -0.0, -0.0, "no overflow"),
        r(A::GeluTanh, -0.0, -0.0, 0.5, "odd at 0"),
        r(A::GeluTanh, inf, inf, 1.0, "limits"),
        r(A::GeluTanh, -inf, -0.0, -0.0, "limits"),
        r(
            A::GeluTanh,
            -13.0,
            -0.0,
            -0.0,
            "tanh form does not overflow at -13",
        ),
        r(A::GeluTanh, big, big, 1.0, "x^3 overflow is harmless"),
        r(A::Silu, -0.0, -0.0, 0.5, "keeps -0.0"),
        r(A::Silu, inf, inf, 1.0, "silu'(+inf) = 1"),
        r(A::Silu, -inf, -0.0, -0.0, "silu(-inf) = 0"),
        r(A::Silu, -big, -0.0, -0.0, "no overflow"),
        r(A::Mish, -0.0, -0.0, 0.6, "mish'(0) = tanh(ln 2) = 0.6"),
        r(A::Mish, inf, inf, 1.0, "limits"),
        r(A::Mish, -inf, -0.0, -0.0, "mish(-inf) = 0"),
        r(A::Mish, big, big, 1.0, "stable up to 3.4e38"),
        r(A::Mish, -big, -0.0, -0.0, "stable down to -3.4e38"),
        r(
            A::softplus(),
            20.5,
            20.5,
            1.0,
            "identity where beta x > threshold",
        ),
        r(
            A::Softplus {
                beta: 1.0,
                threshold: 1.0,
            },
            1.000_000_1,
            1.000_000_1,
            1.0,
            "just past the threshold",
        ),
        r(A::softplus(), big, big, 1.0, "no overflow"),
        r(A::softplus(), -big, 0.0, 0.0, "no overflow"),
        r(A::softplus(), -inf, 0.0, 0.0, "limits"),
        r(A::Softsign, inf, 1.0, 0.0, "softsign(+inf) = 1"),
        r(A::Softsign, -inf, -1.0, 0.0, "softsign(-inf) = -1"),
        r(A::Softsign, -0.0, -0.0, 1.0, "keeps -0.0"),
        r(A::Softsign, big, 1.0, 0.0, "huge input"),
        r(A::hardtanh(), -1.0, -1.0, 0.0, "Hardtanh' is 0 at min_val"),
        r(A::hardtanh(), 1.0, 1.0, 0.0, "Hardtanh' is 0 at max_val"),
        r(A::hardtanh(), -0.0, -0.0, 1.0, "keeps -0.0"),
        r(A::hardtanh(), -inf, -1.0, 0.0, "clamps"),
        r(
            A::Hardtanh {
                min_val: -2.5,
                max_val: 0.75,
            },
            0.75,
            0.75,
            0.0,
            "0 at max_val",
        ),
        r(A::Relu6, 0.0, 0.0, 0.0, "ReLU6' is 0 at 0"),
        r(A::Relu6, 6.0, 6.0, 0.0, "ReLU6' is 0 at 6"),
        r(A::Relu6, -0.0, -0.0, 0.0, "keeps -0.0"),
        r(A::Relu6, 1e-40, 1e-40, 1.0, "subnormal is > 0"),
        r(A::Relu6, inf, 6.0, 0.0, "clamps"),
        r(A::Hardsigmoid, -3.0, 0.0, 0.0, "0 at -3"),
        r(A::Hardsigmoid, 3.0, 1.0, 0.0, "1 at 3"),
        r(A::Hardsigmoid, 0.0, 0.5, 1.0 / 6.0, "slope 1/6"),
        r(A::Hardsigmoid, -inf, 0.0, 0.0, "limits"),
        r(
            A::Hardswish,
            -3.0,
            -0.0,
            0.0,
            "hardswish(-3) = -0.0, derivative 0 at -3",
        ),
        r(A::Hardswish, 3.0, 3.0, 1.0, "derivative 1 at 3"),
        r(A::Hardswish, -1.5, -0.375, 0.0, "root of the derivative"),
        r(A::Hardswish, -inf, -0.0, 0.0, "limits"),
        r(A::Hardswish, inf, inf, 1.0, "limits"),
        r(
            A::LogSigmoid,
            -100.0,
            -100.0,
            1.0,
            "log_sigmoid(-100) = -100",
        ),
        r(
            A::LogSigmoid,
            100.0,
            -f32::from_bits(27), // e^-100 = 26.55 units of 2^-149, rounded
            f32::from_bits(27),
            "log_sigmoid(100) = -3.7e-44",
        ),
        r(A::LogSigmoid, -inf, -inf, 1.0, "limits"),
        r(A::LogSigmoid, -big, -big, 1.0, "no overflow"),
        Rule {
            act: A::Tanhshrink,
            x: 1e-4,
            forward: 3.333_333e-13, // x^3/3 - 2x^5/15 at x = f32(1e-4), rounded
            derivative: None,
            why: "tanhshrink(1e-4) is x^3/3, not 0",
        },
        r(A::Tanhshrink, inf, inf, 1.0, "limits"),
        r(
            A::softshrink(),
            -0.0,
            0.0,
            0.0,
            "softshrink(-0.0) = +0.0 (PyTorch's literal 0)",
        ),
        r(
            A::softshrink(),
            -0.3,
            0.0,
            0.0,
            "the dead zone is a literal +0",
        ),
        r(
            A::softshrink(),
            0.5,
            0.0,
            0.0,
            "lambda itself is in the dead zone",
        ),
        r(A::softshrink(), 0.75, 0.25, 1.0, "shifted"),
        r(A::softshrink(), -inf, -inf, 1.0, "limits"),
        r(A::hardshrink(), -0.0, 0.0, 0.0, "hardshrink(-0.0) = +0.0"),
        r(
            A::hardshrink(),
            -0.5,
            0.0,
            0.0,
            "lambda itself is in the dead zone",
        ),
        r(A::hardshrink(), -0.75, -0.75, 1.0, "passes"),
        r(
            A::Threshold {
                threshold: 1.0,
                value: -5.0,
            },
            1.0,
            -5.0,
            0.0,
            "passes only x > threshold",
        ),
        r(
            A::Threshold {
                threshold: 1.0,
                value: -5.0,
            },
            1.000_000_1,
            1.000_000_1,
            1.0,
            "x > threshold",
        ),
        r(
            A::Threshold {
                threshold: 1.0,
                value: -5.0,
            },
            -inf,
            -5.0,
            0.0,
            "value",
        ),
        r(A::rrelu(), -1.0, -slope, slope, "slope (lower + upper) / 2"),
        r(A::rrelu(), 0.0, 0.0, slope, "slope at the kink"),
        r(A::quick_gelu(), -0.0, -0.0, 0.5, "keeps -0.0"),
        r(A::quick_gelu(), inf, inf, 1.0, "limits"),
        r(
            A::quick_gelu(),
            -inf,
            -0.0,
            -0.0,
            "limits (vanishing from below)",
        ),
        r(A::quick_gelu(), -big, -0.0, -0.0, "no overflow"),
        r(
            A::QuickGelu { alpha: 0.0 },
            inf,
            inf,
            0.5,
            "x / 2, also at +inf (no 0 * inf)",
        ),
        r(
            A::QuickGelu { alpha: -1.0 },
            inf,
            0.0,
            -0.0,
            "x sigma(-x) vanishes at +inf",
        ),
        r(
            A::ReluSquared,
            -0.0,
            0.0,
            0.0,
            "square(relu(-0.0)) = +0.0, derivative 0 at the kink",
        ),
        r(A::ReluSquared, 3.0, 9.0, 6.0, "x^2, 2x"),
        r(A::ReluSquared, -inf, 0.0, 0.0, "limits"),
        r(A::ReluSquared, inf, inf, inf, "limits"),
        r(A::ReluSquared, big, inf, inf, "overflows as x * x does"),
        r(
            A::ReluSquared,
            1e-40,
            0.0,
            2.0 * 1e-40,
            "x^2 underflows, 2x does not",
        ),
        Rule {
            act: A::laplace(),
            x: A::laplace().param_values()[0], // mu
            forward: 0.5,
            derivative: None,
            why: "Phi(0) = 1/2 at x = mu",
        },
        r(A::laplace(), inf, 1.0, 0.0, "limits"),
        r(A::laplace(), -inf, 0.0, 0.0, "limits"),
        r(
            A::laplace(),
            big,
            1.0,
            0.0,
            "no overflow of (x - mu) / sigma",
        ),
        r(
            A::laplace(),
            -big,
            0.0,
            0.0,
            "no overflow of (x - mu) / sigma",
        ),
        r(A::clipped_gelu(), -0.0, -0.0, 0.5, "keeps -0.0"),
        r(
            A::clipped_gelu(),
            10.0,
            10.0,
            0.0,
            "clamp's gradient is 0 at max_val (gelu(10) = 10 in f32; torch 2.15)",
        ),
        r(A::clipped_gelu(), 10.5, 10.0, 0.0, "clamped"),
        r(A::clipped_gelu(), inf, 10.0, 0.0, "limits"),
        r(A::clipped_gelu(), -inf, -0.0, -0.0, "gelu's limits"),
        r(
            A::ClippedGelu {
                min_val: 0.0,
                max_val: 3.0,
            },
            -20.0,
            -0.0,
            0.0,
            "gelu(-20) rounds to -0.0, which clamp keeps and whose gradient \
             it zeroes (at the bound; torch 2.15)",
        ),
        r(
            A::ClippedGelu {
                min_val: 0.0,
                max_val: 3.0,
            },
            -14.0,
            0.0,
            0.0,
            "gelu(-14) is a negative subnormal: clamped to +0",
        ),
        r(
            A::xielu(),
            -0.0,
            (xielu_alpha_n * xielu_eps.exp_m1()) as f32,
            (0.5 - xielu_alpha_n) as f32,
            "alpha_n expm1(eps) at 0, derivative beta - alpha_n on (eps, 0]",
        ),
        r(A::xielu(), inf, inf, inf, "limits"),
        r(
            A::xielu(),
            -inf,
            inf,
            (0.5 - xielu_alpha_n) as f32,
            "(beta - alpha_n) x - alpha_n at -inf",
        ),
        r(
            A::xielu(),
            -big,
            ((0.5 - xielu_alpha_n) * -f64::from(f32::MAX) - xielu_alpha_n) as f32,
            (0.5 - xielu_alpha_n) as f32,
            "no overflow",
        ),
        r(
            A::Xielu {
                alpha_p: 0.8,
                alpha_n: 0.5,
                beta: 0.5,
                eps: 0.0,
            },
            -inf,
            -0.5,
            0.0,
            "-alpha_n where beta = alpha_n (no inf - inf)",
        ),
        r(A::Identity, -0.0, -0.0, 1.0, "x itself"),
        r(A::Identity, 1e-40, 1e-40, 1.0, "x itself"),
        r(A::Identity, -inf, -inf, 1.0, "x itself"),
        r(A::SqrtSoftplus, -inf, 0.0, 0.0, "limits"),
        r(A::SqrtSoftplus, inf, inf, 0.0, "limits"),
        r(
            A::SqrtSoftplus,
            25.0,
            5.0,
            0.1,
            "sqrt x above the threshold, 1 / (2 sqrt x)",
        ),
    ];
    // NaN in -> NaN out, forward and derivative, for every op.
    for &act in Activation::ALL {
        rules.push(r(act, nan, nan, nan, "NaN in, NaN out"));
    }
    rules
}

/// For every adapter, a context on a device opened *without* immediates (so
/// per-dispatch data goes through a uniform buffer) and with a 1 MiB
/// storage-binding limit (so anything over 2^18 elements is bound in
/// windows): the paths the default devices here skip. It keeps 64-bit
/// integers where the adapter has them, so on lavapipe the windows and the
/// uniform are exercised with the packed body, on llvmpipe (GL) with vec4.
pub fn constrained_contexts() -> &'static [Context] {
    static CONSTRAINED: OnceLock<Vec<Context>> = OnceLock::new();
    CONSTRAINED.get_or_init(|| {
        pollster::block_on(async {
            let instance = wgpu::Instance::new(
                wgpu::InstanceDescriptor::new_without_display_handle_from_env(),
            );
            let mut contexts = Vec::new();
            for adapter in instance
                .enumerate_adapters(wgpu::Backends::from_env().unwrap_or(wgpu::Backends::all()))
                .await
            {
                let limits = wgpu::Limits {
                    max_storage_buffer_binding_size: 1 << 20,
                    ..wgpu::Limits::downlevel_defaults().using_resolution(adapter.limits())
                };
                let (device, queue) = adapter
                    .request_device(&wgpu::DeviceDescriptor {
                        label: Some("test.constrained"),
                        required_features: adapter.features() & wgpu::Features::SHADER_INT64,
                        required_limits: limits,
                        ..Default::default()
                    })
                    .await
                    .expect("a device with default features and small limits");
                contexts.push(Context::from_device(device, queue));
            }
            assert!(!contexts.is_empty(), "no adapter for constrained contexts");
            contexts
        })
    })
}

/// Checks every rule of [`semantic_rules`] against `eval(act, x) -> (f, f')`
/// and describes the ones broken.
pub fn broken_semantic_rules(eval: impl Fn(Activation, f32) -> (f32, f32)) -> Vec<String> {
    broken_semantic_rules_at(Precision::Precise, eval)
}

/// [`broken_semantic_rules`] for results computed at `precision`. In the
/// fast tier a rule's finite, nonzero value of a smooth op (an accuracy
/// figure, not a rule: `tanh'(1e-8) = 1`) may be off within that tier's
/// bound; NaN, infinities, zeros and their signs, and the exact ops' values
/// must still match exactly.
pub fn broken_semantic_rules_at(
    precision: Precision,
    eval: impl Fn(Activation, f32) -> (f32, f32),
) -> Vec<String> {
    let mut failures = Vec::new();
    for rule in semantic_rules() {
        let (f, d) = eval(rule.act, rule.x);
        let holds = |mode, got: f32, want: Option<f32>| {
            matches_rule(got, want)
                || (precision == Precision::Fast
                    && want
                        .is_some_and(|w| w.is_finite() && w != 0.0 && w.abs() >= f32::MIN_POSITIVE)
                    && target_at(rule.act, mode, precision).is_some_and(|bound| {
                        let j = judge(rule.act, mode, rule.x, 1.0, got);
                        j.broken_rule.is_none() && j.scaled <= bound
                    }))
        };
        if !holds(Mode::Forward, f, Some(rule.forward))
            || !holds(Mode::Derivative, d, rule.derivative)
        {
            failures.push(format!(
                "{}({:e}): got f = {f:e}, f' = {d:e}; want {:e}, {:e} ({})",
                rule.act,
                rule.x,
                rule.forward,
                rule.derivative.unwrap_or(f32::NAN),
                rule.why
            ));
        }
    }
    failures
}

/// Index of the first element whose bits differ (None when all agree), for
/// bit-exact checks over lengths too large to print.
pub fn first_mismatch(got: &[f32], want: &[f32]) -> Option<usize> {
    assert_eq!(got.len(), want.len(), "lengths differ");
    got.iter()
        .zip(want)
        .position(|(a, b)| a.to_bits() != b.to_bits())
}

/// Worst inputs the default stride (2^10) of cli/examples/accuracy.rs found,
/// kept as regressions: gelu_tanh' (4.2 scaled before its fix), sigmoid',
/// silu', mish, mish', softsign', gelu', gelu_tanh, softplus; then, after
/// the branch-free rewrites, gelu, gelu', gelu_tanh, tanh', tanhshrink;
/// then misses that denser sweeps found and that are fixed: gelu_tanh (40
/// scaled, exhaustive: e^v subnormal), mish' (4.68), silu' (3.99), mish
/// (2.08), mish' (4.04, exhaustive); then the worst of GELU's forward after
/// its cheaper rewrite (1.72, exhaustive) and of its derivative (3.05,
/// exhaustive); then where Chromium's WebGPU (SwiftShader, which flushes
/// subnormals) missed before intermediates were scaled: gelu_tanh' at
/// -10.01 (310,165 scaled), silu', mish and mish' at -88.7 (about 511,000),
/// tanhshrink at -1e-45 (+0 for -0), and backward at -87.375 (sigmoid',
/// elu'), -44.4375 (tanh'), 9.49e18 (softsign'), -1.065e-19 (tanhshrink').
pub const REGRESSION_INPUTS: [f32; 30] = [
    f32::from_bits(0xbfa3_d800),
    6.599_121e-1,
    -2.489_013_7,
    -1.190_551_8,
    -2.229_004,
    8.660_555e-5,
    -1.421_020_5,
    -7.446_899_4e-1,
    -4.427_490_2e-1,
    -1.843_627_9,
    -1.565_429_7,
    -7.648_926e-1,
    3.299_560_5e-1,
    2.255_401_6e-1,
    -1.010_063_7e1,
    -2.288_193_5,
    -1.592_487_1e-3,
    -2.058_273_3,
    -1.805_534_8e-1,
    -1.309_016,
    -1.282_513_3,
    -10.01,
    -88.7,
    -1e-45,
    -87.375,
    -44.4375,
    9.493_588e18,
    -1.065_143_9e-19,
    -88.375,
    -91.875,
];

/// Inputs at which `act` has a kink (where finite differences do not apply).
pub fn kinks(act: Activation) -> Vec<f64> {
    let mut k = vec![0.0];
    match act {
        Activation::Hardtanh { min_val, max_val } => {
            k.extend([f64::from(min_val), f64::from(max_val)])
        }
        Activation::Relu6 => k.push(6.0),
        Activation::Hardsigmoid | Activation::Hardswish => k.extend([-3.0, 3.0]),
        Activation::Softshrink { lambda } | Activation::Hardshrink { lambda } => {
            k.extend([f64::from(lambda), -f64::from(lambda)])
        }
        Activation::Threshold { threshold, .. } => k.push(f64::from(threshold)),
        Activation::Softplus { beta, threshold } => k.push(f64::from(threshold / beta)),
        // Where gelu(x) reaches a bound (gelu(x) = x to f32 precision there
        // for bounds beyond 3; below 0 every x < 0 is clamped by a bound 0).
        Activation::ClippedGelu { min_val, max_val } => {
            k.extend([f64::from(min_val), f64::from(max_val), 3.004_05])
        }
        Activation::Xielu { eps, .. } => k.push(f64::from(eps)),
        _ => {}
    }
    k
}

/// Where `act` changes formula: its kinks, and the points where its kernel
/// switches between pieces, clamps, rescales or underflows (read off
/// shaders/*.wgsl; e^x: -150 (clamped), -131.7 (e^x 2^64 subnormal below),
/// -104, ln 2^-126 = -87.34 (subnormal
/// below), -64 (scaled below), 88.72 (overflow)).
pub fn switch_points(act: Activation) -> Vec<f32> {
    use Activation as A;
    const EXP: [f32; 6] = [150.0, 131.7, 104.0, 87.336_55, 64.0, 88.722_84];
    let mut points: Vec<f32> = kinks(act).into_iter().map(|k| k as f32).collect();
    match act {
        A::Sigmoid | A::LogSigmoid | A::Silu => {
            points.extend(EXP);
            points.extend([0.5, std::f32::consts::LN_2]);
        }
        A::Tanh | A::Tanhshrink => {
            points.extend(EXP.map(|e| e / 2.0));
            points.extend([0.549_306_1, 1.5, 2.328_306_4e-10, 9.0]);
        }
        A::Elu { alpha } | A::Celu { alpha } => {
            let scale = if matches!(act, A::Celu { .. }) {
                alpha
            } else {
                1.0
            };
            points.extend(EXP.map(|e| e * scale));
            points.push(0.346_573_6 * scale);
        }
        A::Selu => {
            points.extend(EXP);
            points.push(0.346_573_6);
        }
        A::Gelu => points.extend([1.3, 1.8, 14.6, 9.42, 13.0]),
        A::GeluTanh => points.extend([16.0, 10.01, 10.2, 0.75]),
        A::Mish => {
            points.extend(EXP);
            points.extend([0.5, 9.0, 20.0, 92.0]);
        }
        A::Softplus { beta, threshold } => {
            points.extend(EXP.map(|e| e / beta));
            points.extend([std::f32::consts::LN_2 / beta, threshold / beta]);
        }
        A::Softsign => points.extend([4_294_967_296.0, 9.223_372e18]),
        A::QuickGelu { alpha } if alpha != 0.0 => {
            points.extend(EXP.map(|e| e / alpha));
            points.extend([0.5 / alpha, std::f32::consts::LN_2 / alpha, 80.0 / alpha]);
        }
        A::ReluSquared => points.extend([1.844_674_4e19, 1.701_411_8e38]),
        // z = (x - mu) / sigma at the pieces of normal.wgsl and of
        // wa_laplace_forward (1.8, 3.8), at 13.2 (phi subnormal) and at the
        // clamp (40).
        A::Laplace { mu, sigma } => {
            for z in [1.3, 1.8, 3.8, 13.2, 14.6, 40.0] {
                points.extend([mu + z * sigma, mu - z * sigma]);
            }
        }
        A::ClippedGelu { min_val, max_val } => {
            points.extend([1.3, 1.8, 14.6, 9.42, 13.0, min_val, max_val])
        }
        // eps, e^x - 1's switch to (-1, e^x) (k = -24), the clamp of e^x's
        // argument, the far formula, and where 2 alpha_p x overflows.
        A::Xielu { alpha_p, eps, .. } => points.extend([
            eps,
            16.982_1,
            150.0,
            87.336_55,
            1.099_511_6e12,
            f32::MAX / (2.0 * alpha_p),
        ]),
        _ => {}
    }
    points
}

/// Every switch point of `act` with both signs and its neighbours one ULP
/// away on either side.
pub fn boundary_inputs(act: Activation) -> Vec<f32> {
    let mut x = Vec::new();
    for p in switch_points(act) {
        for v in [p, -p] {
            x.extend([v.next_down(), v, v.next_up()]);
        }
    }
    x
}

/// `None` when `stats` (of `act` in `mode` on `on`, computed at
/// `precision`) meet SEMANTICS.md's target; otherwise what missed: the figures, the first broken rule and the
/// worst input.
pub fn target_miss_at(
    act: Activation,
    mode: Mode,
    precision: Precision,
    on: &str,
    stats: &SweepStats,
) -> Option<String> {
    if stats.meets_target_at(act, mode, precision) {
        return None;
    }
    let target = |act, mode| target_at(act, mode, precision);
    let limit = match target(act, mode) {
        None => "bit-exact".to_string(),
        Some(limit) => format!("<= {limit} scaled ULPs"),
    };
    let mut why = format!(
        "{act} on {on}, {mode:?} ({precision}): target {limit}; max {:.3} scaled / {} ULPs; {} rules broken {:?}",
        stats.worst.scaled,
        stats.worst.ulps,
        stats.rules.total(),
        stats.rules
    );
    if let Some(s) = stats.first_broken {
        why += &format!("\n    first broken rule: {}", s.describe(act, mode));
    }
    let worst = match target(act, mode) {
        None => stats.worst_ulps,
        Some(_) => stats.worst_scaled,
    };
    if let Some(s) = worst {
        why += &format!("\n    worst input: {}", s.describe(act, mode));
    }
    Some(why)
}

/// The error bound of a row-wise backward at each entry of a row, from the
/// forward's output `y` and `dy`, at `precision`: 4 epsilons of the sizes
/// of the terms (`|dy| + e^y |sum dy|` for log-softmax, `|y| (|dy| + |sum
/// dy y|)` otherwise), plus 1e-37. In the fast tier log-softmax's `e^y`
/// comes from the device's exponential, whose error grows with `|y|`: that
/// term counts `1 + |y|` times.
pub fn row_backward_bounds(op: RowOp, precision: Precision, y: &[f32], dy: &[f32]) -> Vec<f64> {
    let sum: f64 = if op.is_log() {
        dy.iter().map(|&g| f64::from(g)).sum()
    } else {
        y.iter()
            .zip(dy)
            .map(|(&a, &g)| f64::from(a) * f64::from(g))
            .sum()
    };
    y.iter()
        .zip(dy)
        .map(|(&yj, &gj)| {
            let (yj, gj) = (f64::from(yj), f64::from(gj));
            let exp_error = match precision {
                Precision::Precise => 1.0,
                Precision::Fast if yj.is_finite() => 1.0 + yj.abs(),
                Precision::Fast => 1.0,
            };
            let scale = if op.is_log() {
                gj.abs() + yj.exp() * sum.abs() * exp_error
            } else {
                yj.abs() * (gj.abs() + sum.abs())
            };
            4.0 * f64::from(f32::EPSILON) * scale + 1e-37
        })
        .collect()
}
