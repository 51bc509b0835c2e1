//! Part 12: every activation name a Hugging Face model config can hold
//! (`transformers`' `ACT2FN`), and the ops behind them against the formulas
//! `transformers/activations.py` writes.
// transformers writes Laplace's mu as 0.707107 (not 1/sqrt 2): kept as written.
#![allow(clippy::approx_constant)]

use wgpu_activations::accuracy::{judge, target};
use wgpu_activations::{Activation, Mode, cpu};

use crate::support::{adapters, describe};

/// Every `ACT2FN` key but `prelu`, with the op it must parse to (from
/// `ACT2CLS` in `transformers/activations.py`: `GELUActivation` and
/// `use_gelu_python` are the erf GELU; `NewGELUActivation`,
/// `FastGELUActivation`, `AccurateGELUActivation`, `GELUTanh` and
/// `use_gelu_tanh_python` the tanh form; `ClippedGELUActivation(-10, 10)`;
/// `nn.LeakyReLU()`'s slope 0.01; `ReLUSquaredActivation`;
/// `LinearActivation`; ...).
fn expected() -> Vec<(&'static str, Activation)> {
    use Activation as A;
    vec![
        ("gelu", A::Gelu),
        (
            "gelu_10",
            A::ClippedGelu {
                min_val: -10.0,
                max_val: 10.0,
            },
        ),
        ("gelu_fast", A::GeluTanh),
        ("gelu_new", A::GeluTanh),
        ("gelu_python", A::Gelu),
        ("gelu_pytorch_tanh", A::GeluTanh),
        ("gelu_python_tanh", A::GeluTanh),
        ("gelu_accurate", A::GeluTanh),
        ("hardswish", A::Hardswish),
        (
            "laplace",
            A::Laplace {
                mu: 0.707107,
                sigma: 0.282095,
            },
        ),
        (
            "leaky_relu",
            A::LeakyRelu {
                negative_slope: 0.01,
            },
        ),
        ("linear", A::Identity),
        ("mish", A::Mish),
        ("quick_gelu", A::QuickGelu { alpha: 1.702 }),
        ("relu", A::Relu),
        ("relu2", A::ReluSquared),
        ("relu6", A::Relu6),
        ("sigmoid", A::Sigmoid),
        ("silu", A::Silu),
        ("sqrtsoftplus", A::SqrtSoftplus),
        ("swish", A::Silu),
        ("tanh", A::Tanh),
        (
            "xielu",
            A::Xielu {
                alpha_p: wgpu_activations::XIELU_ALPHA_P,
                alpha_n: wgpu_activations::XIELU_ALPHA_N,
                beta: 0.5,
                eps: wgpu_activations::XIELU_EPS,
            },
        ),
    ]
}

#[test]
fn every_act2fn_key_parses_to_its_function() {
    for (key, want) in expected() {
        assert_eq!(key.parse::<Activation>(), Ok(want), "{key}");
        // Config strings arrive as written; case and dashes are forgiven.
        assert_eq!(key.to_uppercase().parse::<Activation>(), Ok(want), "{key}");
    }
    let mut listed = Activation::ACT2FN_KEYS.to_vec();
    listed.sort_unstable();
    let mut keys: Vec<&str> = expected()
        .iter()
        .map(|(k, _)| *k)
        .chain(["prelu"])
        .collect();
    keys.sort_unstable();
    assert_eq!(
        listed, keys,
        "Activation::ACT2FN_KEYS lists exactly ACT2FN's keys"
    );
    // gelu_10 takes the clamp's bounds like any parameterised op.
    assert_eq!(
        "gelu_10(max_val=5)".parse::<Activation>(),
        Ok(Activation::ClippedGelu {
            min_val: -10.0,
            max_val: 5.0
        })
    );
}

#[test]
fn prelu_points_to_the_prelu_api() {
    let e = "prelu".parse::<Activation>().unwrap_err();
    assert!(e.reason.contains("Context::prelu"), "{e}");
    assert!(e.to_string().contains("\"prelu\""), "{e}");
}

#[test]
fn unknown_names_list_the_closest_known_names() {
    for (typo, near) in [
        ("gelu_tahn", "gelu_tanh"),
        ("quickgelu", "quick_gelu"),
        ("relu_2", "relu2"),
        ("xieluu", "xielu"),
        ("laplce", "laplace"),
        ("lineer", "linear"),
    ] {
        let e = typo.parse::<Activation>().unwrap_err();
        let listed: Vec<&str> = e
            .reason
            .split_once("did you mean ")
            .unwrap_or_else(|| panic!("{typo}: no suggestion in {e}"))
            .1
            .trim_end_matches('?')
            .split(", ")
            .collect();
        assert_eq!(listed.len(), 3, "{e}");
        assert!(listed.contains(&near), "{typo}: {e}");
    }
}

/// (Every op of `Activation::ALL` round-trips through `Display` and
/// `FromStr` in `cpu_reference.rs`; here the names chosen where PyTorch has
/// no functional name, and a parameter set of four.)
#[test]
fn names_display_and_parse_back() {
    assert_eq!(Activation::ReluSquared.name(), "relu_squared");
    assert_eq!(Activation::Identity.name(), "identity");
    assert_eq!(Activation::clipped_gelu().name(), "clipped_gelu");
    let act = Activation::Xielu {
        alpha_p: 1.25,
        alpha_n: 0.75,
        beta: 0.5,
        eps: -0.5,
    };
    assert_eq!(
        act.to_string(),
        "xielu(alpha_p=1.25, alpha_n=0.75, beta=0.5, eps=-0.5)"
    );
    assert_eq!(act.to_string().parse::<Activation>(), Ok(act));
}

#[test]
fn new_parameters_are_validated() {
    let bad = [
        (
            Activation::Laplace {
                mu: 0.0,
                sigma: 0.0,
            },
            "sigma",
        ),
        (
            Activation::Laplace {
                mu: 0.0,
                sigma: -1.0,
            },
            "sigma",
        ),
        (
            Activation::Laplace {
                mu: f32::NAN,
                sigma: 1.0,
            },
            "mu",
        ),
        (
            Activation::ClippedGelu {
                min_val: 1.0,
                max_val: -1.0,
            },
            "min_val",
        ),
        (
            Activation::ClippedGelu {
                min_val: -1.0,
                max_val: f32::INFINITY,
            },
            "max_val",
        ),
        (Activation::QuickGelu { alpha: f32::NAN }, "alpha"),
        (
            Activation::Xielu {
                alpha_p: 0.0,
                alpha_n: 0.8,
                beta: 0.5,
                eps: -1e-6,
            },
            "alpha_p",
        ),
        (
            Activation::Xielu {
                alpha_p: 0.8,
                alpha_n: -0.1,
                beta: 0.5,
                eps: -1e-6,
            },
            "alpha_n",
        ),
        (
            Activation::Xielu {
                alpha_p: 0.8,
                alpha_n: 0.8,
                beta: 0.5,
                eps: f32::NAN,
            },
            "eps",
        ),
    ];
    for (act, parameter) in bad {
        match act.validate() {
            Err(wgpu_activations::Error::InvalidParameter { parameter: p, .. }) => {
                assert_eq!(p, parameter, "{act:?}")
            }
            other => panic!("{act:?}: expected InvalidParameter({parameter}), got {other:?}"),
        }
        for ctx in adapters() {
            assert!(
                ctx.forward(act, &[1.0f32]).is_err(),
                "{act:?} on {}",
                describe(ctx)
            );
        }
    }
}

/// `transformers/activations.py`'s formulas, transcribed in f64.
fn transformers_formula(key: &str, x: f64) -> f64 {
    let erf = libm::erf;
    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    match key {
        // QuickGELUActivation: input * torch.sigmoid(1.702 * input)
        "quick_gelu" => x * sigmoid(f64::from(1.702_f32) * x),
        // ReLUSquaredActivation: torch.square(nn.functional.relu(input))
        "relu2" => x.max(0.0).powi(2),
        // LaplaceActivation: 0.5 * (1.0 + torch.erf((input - mu).div(sigma * math.sqrt(2.0))))
        "laplace" => {
            let (mu, sigma) = (f64::from(0.707107_f32), f64::from(0.282095_f32));
            0.5 * (1.0 + erf((x - mu) / (sigma * 2f64.sqrt())))
        }
        // ClippedGELUActivation(-10, 10): torch.clip(gelu(x), -10, 10)
        "gelu_10" => (0.5 * x * (1.0 + erf(x / 2f64.sqrt()))).clamp(-10.0, 10.0),
        // XIELUActivation._xielu_python with the effective parameters of the
        // default module in float32 (xielu_defaults_are_the_default_module_s).
        "xielu" => {
            let (alpha_p, alpha_n, beta, eps) = (
                f64::from(wgpu_activations::XIELU_ALPHA_P),
                f64::from(wgpu_activations::XIELU_ALPHA_N),
                0.5,
                f64::from(wgpu_activations::XIELU_EPS),
            );
            if x > 0.0 {
                alpha_p * x * x + beta * x
            } else {
                (x.min(eps).exp_m1() - x) * alpha_n + beta * x
            }
        }
        // LinearActivation: input
        "linear" => x,
        // SqrtSoftplusActivation: F.softplus(input).sqrt() (beta 1, threshold 20)
        "sqrtsoftplus" => {
            if x > 20.0 {
                x.sqrt()
            } else {
                x.exp().ln_1p().sqrt() // torch's softplus: log1p(exp(x))
            }
        }
        _ => unreachable!(),
    }
}

#[test]
fn the_reference_computes_the_transformers_formulas() {
    for key in [
        "quick_gelu",
        "relu2",
        "laplace",
        "gelu_10",
        "xielu",
        "linear",
        "sqrtsoftplus",
    ] {
        let act: Activation = key.parse().unwrap();
        for i in -1200..=1200 {
            let x = f64::from(i as f32 * 0.01 + 0.003_f32);
            let ours = cpu::forward_f64(act, x);
            let theirs = transformers_formula(key, x);
            // Both in f64; the transcription is the textbook formula, so
            // allow its own f64 roundings (relative 1e-12, absolute 1e-15
            // near the roots and in the Laplace tail where 1 + erf cancels).
            assert!(
                (ours - theirs).abs() <= 1e-12 * theirs.abs() + 1e-15,
                "{key}({x}): reference {ours}, transformers' formula {theirs}"
            );
        }
    }
}

#[test]
fn every_key_runs_on_every_adapter_within_its_target() {
    let x: Vec<f32> = (-60..=60).map(|i| i as f32 * 0.25 + 0.0625).collect();
    let dy: Vec<f32> = x.iter().map(|v| 1.5 - v.abs() * 0.125).collect();
    for ctx in adapters() {
        for key in Activation::ACT2FN_KEYS.iter().filter(|k| **k != "prelu") {
            let act: Activation = key.parse().unwrap();
            for mode in Mode::ALL {
                let got = match mode {
                    Mode::Forward => ctx.forward(act, &x),
                    Mode::Derivative => ctx.derivative(act, &x),
                    Mode::Backward => ctx.backward(act, &x, &dy),
                }
                .unwrap_or_else(|e| panic!("{key} {mode:?} on {}: {e}", describe(ctx)));
                for i in 0..x.len() {
                    let j = judge(act, mode, x[i], dy[i], got[i]);
                    let limit = target(act, mode).unwrap_or(0.0);
                    assert!(
                        j.broken_rule.is_none() && j.scaled <= limit,
                        "{key} {mode:?} on {} at x = {}: got {}, {j:?}",
                        describe(ctx),
                        x[i],
                        got[i]
                    );
                }
            }
        }
    }
}

/// PyTorch's `minimum` gives each of two equal operands half the gradient,
/// so xIELU's derivative at x = eps is the mean of its two sides:
/// `alpha_n (e^eps - 1) + beta` below and `beta - alpha_n` above.
#[test]
fn xielu_derivative_at_eps_is_the_mean_of_its_sides() {
    for (alpha_n, eps) in [(0.8_f32, -1e-6_f32), (1.3, -0.25)] {
        let act = Activation::Xielu {
            alpha_p: 0.8,
            alpha_n,
            beta: 0.5,
            eps,
        };
        let (a, e) = (f64::from(alpha_n), f64::from(eps));
        let below = a * e.exp_m1() + 0.5;
        let above = 0.5 - a;
        let mean = ((below + above) / 2.0) as f32;
        for ctx in adapters() {
            let got = ctx
                .derivative(act, &[eps.next_down(), eps, eps.next_up()])
                .unwrap();
            let ulps = wgpu_activations::accuracy::ulp_distance(got[1], mean);
            assert!(
                ulps <= 2,
                "{act} at eps on {}: {} vs mean {mean}",
                describe(ctx),
                got[1]
            );
            assert!(
                (f64::from(got[0]) - below).abs() < 1e-6,
                "{act} below eps: {}",
                got[0]
            );
            assert_eq!(got[2], above as f32, "{act} above eps");
        }
    }
}

/// The effective parameters `[alpha_p, alpha_n, beta, eps]` of
/// `transformers`' default `XIELUActivation()` in float32, derived here from
/// its `__init__` (transformers 5.25): `alpha_p = nn.Parameter(log(expm1(
/// tensor(0.8, dtype=bfloat16))))`, `alpha_n = ... log(expm1(tensor(0.8 -
/// 0.5, dtype=bfloat16)))`, `beta`, `eps` bfloat16 buffers of 0.5 and -1e-6;
/// its forward takes `softplus(alpha_p)` and `beta + softplus(alpha_n)`.
/// Computed in f64 from the bfloat16 values, unrounded (PyTorch's f32
/// softplus rounds them within an ULP of f32).
fn xielu_default_module() -> [f64; 4] {
    use half::bf16;
    let bf = |v: f64| bf16::from_f64(v).to_f64();
    // torch.log(torch.expm1(t)) on a bfloat16 tensor t rounds each step.
    let raw = |init: f64| bf(bf(bf(init).exp_m1()).ln());
    let softplus = |v: f64| v.exp().ln_1p();
    let beta = bf(0.5);
    [
        softplus(raw(0.8)),
        beta + softplus(raw(0.8 - 0.5)),
        beta,
        bf(-1e-6),
    ]
}

/// `"xielu"` and `Activation::xielu()` carry the effective parameters the
/// default module computes in float32, not the initial values 0.8 / 0.8 /
/// -1e-6 (whose eps lies on the other side of x = -9.999999e-7, where
/// PyTorch's derivative is 0.49999917 and ours was -0.3).
#[test]
fn xielu_defaults_are_the_default_module_s() {
    let Activation::Xielu {
        alpha_p,
        alpha_n,
        beta,
        eps,
    } = Activation::xielu()
    else {
        panic!("not xielu")
    };
    assert_eq!("xielu".parse::<Activation>(), Ok(Activation::xielu()));
    // Within an f32 ULP of the derivation (PyTorch's f32 softplus gave
    // them), and eps and beta exactly.
    let derived = xielu_default_module();
    for (name, got, want) in [
        ("alpha_p", alpha_p, derived[0]),
        ("alpha_n", alpha_n, derived[1]),
    ] {
        let ulp = f64::from(f32::EPSILON) * want.abs();
        assert!(
            (f64::from(got) - want).abs() <= ulp,
            "{name} = {got} is not the module's {want}"
        );
    }
    assert_eq!((f64::from(beta), f64::from(eps)), (derived[2], derived[3]));
    // The values read from the module (transformers 5.25,
    // `ACT2FN["xielu"].float()`: 0.8003960847854614, 0.8008694648742676,
    // -9.98377799987793e-07); tests/golden/f32/hf_xielu.golden compares
    // the whole function with that module's.
    assert_eq!(
        (alpha_p, alpha_n, eps),
        (0.800_396_1, 0.800_869_46, -9.983_778e-7)
    );
    // Explicit parameters are kept exactly as given.
    assert_eq!(
        "xielu(alpha_p=0.8, alpha_n=0.8, beta=0.5, eps=-1e-6)".parse::<Activation>(),
        Ok(Activation::Xielu {
            alpha_p: 0.8,
            alpha_n: 0.8,
            beta: 0.5,
            eps: -1e-6,
        })
    );
    // PyTorch's derivative at x = -9.999999e-7 (below eps): 0.49999917.
    for ctx in adapters() {
        let d = ctx
            .derivative(Activation::xielu(), &[-9.999_999e-7])
            .unwrap();
        assert!(
            (d[0] - 0.499_999_17).abs() < 1e-7,
            "{} on {}",
            d[0],
            describe(ctx)
        );
    }
}
