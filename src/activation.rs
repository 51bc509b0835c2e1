//! The catalogue of activations and their parameters.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// An element-wise activation function, with its parameters.
///
/// Semantics follow PyTorch's `torch.nn` activations (see `SEMANTICS.md`):
/// same formulas, default parameters, derivative at kinks and signed zeros.
/// Constructors with PyTorch's defaults: [`Activation::leaky_relu`],
/// [`Activation::elu`], [`Activation::softplus`], ...; [`Activation::ALL`]
/// lists one default instance of every kind. `FromStr` parses the functional
/// name with optional parameters: `"leaky_relu(0.2)"`,
/// `"softplus(beta=2, threshold=10)"`; `Display` writes that form back.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Activation {
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
    /// `max(x, 0)`, with `relu(-0.0) = -0.0`; derivative 0 at 0.
    Relu,
    /// `x > 0 ? x : negative_slope * x`; derivative `negative_slope` at 0.
    LeakyRelu {
        /// Slope for `x <= 0` (default 0.01).
        negative_slope: f32,
    },
    /// `x > 0 ? x : alpha (e^x - 1)`; derivative `alpha` at 0.
    Elu {
        /// Scale of the negative branch (default 1).
        alpha: f32,
    },
    /// `scale * elu(x, alpha)` with PyTorch's fixed `alpha` and `scale`.
    Selu,
    /// `x > 0 ? x : alpha (e^(x/alpha) - 1)`; derivative 1 at 0.
    Celu {
        /// Scale of the negative branch, non-zero (default 1).
        alpha: f32,
    },
    /// `x Phi(x)` with the exact normal CDF (`approximate='none'`).
    Gelu,
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (`approximate='tanh'`).
    GeluTanh,
    /// `x sigma(x)` (Swish).
    Silu,
    /// `x tanh(softplus(x))`.
    Mish,
    /// `log(1 + e^(beta x)) / beta`, and `x` where `beta x > threshold`.
    Softplus {
        /// Sharpness, non-zero (default 1).
        beta: f32,
        /// Above this `beta x` the op is the identity (default 20).
        threshold: f32,
    },
    /// `x / (1 + |x|)`.
    Softsign,
    /// `clamp(x, min_val, max_val)`; derivative 0 at both ends.
    Hardtanh {
        /// Lower bound (default -1).
        min_val: f32,
        /// Upper bound, `>= min_val` (default 1).
        max_val: f32,
    },
    /// `clamp(x, 0, 6)`; derivative 0 at both ends.
    Relu6,
    /// `clamp(x/6 + 1/2, 0, 1)`.
    Hardsigmoid,
    /// `x clamp(x + 3, 0, 6) / 6`; derivative 0 at -3 and 1 at 3.
    Hardswish,
    /// `log sigma(x)`.
    LogSigmoid,
    /// `x - tanh x`.
    Tanhshrink,
    /// `x > lambda ? x - lambda : x < -lambda ? x + lambda : 0`.
    Softshrink {
        /// Half-width of the dead zone, `>= 0` (default 0.5).
        lambda: f32,
    },
    /// `|x| > lambda ? x : 0`.
    Hardshrink {
        /// Half-width of the dead zone, `>= 0` (default 0.5).
        lambda: f32,
    },
    /// `x > threshold ? x : value`. Both parameters are required, as in
    /// `torch.nn.Threshold` (`"threshold"` alone does not parse, and
    /// `list-ops` marks them required); [`Activation::ALL`] holds PyTorch's
    /// documentation example `Threshold(0.1, 20)`.
    Threshold {
        /// Inputs at or below this are replaced.
        threshold: f32,
        /// The replacement.
        value: f32,
    },
    /// Randomized leaky ReLU in evaluation mode: LeakyReLU with slope
    /// `(lower + upper) / 2`.
    Rrelu {
        /// Lower slope bound (default 1/8).
        lower: f32,
        /// Upper slope bound, `>= lower` (default 1/3).
        upper: f32,
    },
    /// `x sigma(alpha x)` (CLIP's `quick_gelu`); derivative
    /// `silu'(alpha x)`.
    QuickGelu {
        /// Sharpness (default 1.702).
        alpha: f32,
    },
    /// `relu(x)^2` (`relu2`: Primer, Nemotron): `x^2` for `x > 0`, `+0`
    /// otherwise (also at `-0.0`); derivative `2 relu(x)`, 0 at 0.
    ReluSquared,
    /// `0.5 (1 + erf((x - mu) / (sigma sqrt 2)))` = `Phi((x - mu) / sigma)`
    /// (MEGA's `laplace`); derivative the normal density
    /// `phi((x - mu) / sigma) / sigma`.
    Laplace {
        /// Centre (default 0.707107).
        mu: f32,
        /// Width, `> 0` (default 0.282095).
        sigma: f32,
    },
    /// `clamp(gelu(x), min_val, max_val)` with the exact GELU (`gelu_10` is
    /// `(-10, 10)`); derivative `gelu'(x)` where `min_val < gelu(x) <
    /// max_val`, 0 where clamped and at exactly either bound (PyTorch's
    /// `clamp` gives its input's gradient 0 there, measured on torch 2.15,
    /// as `hardtanh` does).
    ClippedGelu {
        /// Lower bound (default -10).
        min_val: f32,
        /// Upper bound, `>= min_val` (default 10).
        max_val: f32,
    },
    /// xIELU (the Apertus models' `xielu`), with its *effective* parameters:
    /// `x > 0 ? alpha_p x^2 + beta x : alpha_n (expm1(min(x, eps)) - x) +
    /// beta x`. A checkpoint stores raw `alpha_p`, `alpha_n`; the effective
    /// values are `alpha_p = softplus(raw_alpha_p)` and `alpha_n = beta +
    /// softplus(raw_alpha_n)` (what `transformers`' `XIELUActivation`
    /// computes in its forward). The defaults are what its default
    /// initialisation computes in float32 ([`Activation::xielu`]).
    /// Derivative `2 alpha_p x + beta` for `x > 0`,
    /// `alpha_n (e^x - 1) + beta` below `eps`, `beta - alpha_n` on
    /// `(eps, 0]`, and at `x = eps` the mean of the two sides (PyTorch's
    /// `minimum` splits the gradient of a tie in halves).
    Xielu {
        /// Effective positive quadratic coefficient, `> 0` (default
        /// 0.8003960847854614, [`XIELU_ALPHA_P`]).
        alpha_p: f32,
        /// Effective negative coefficient, `> 0` (default
        /// 0.8008694648742676, [`XIELU_ALPHA_N`]).
        alpha_n: f32,
        /// Linear coefficient (default 0.5).
        beta: f32,
        /// Where the exponential stops (default bf16(-1e-6) =
        /// -9.98377799987793e-7, [`XIELU_EPS`]).
        eps: f32,
    },
    /// `x` (`nn.Identity`, `transformers`' `linear`); derivative 1 (NaN at
    /// NaN, like every op here).
    Identity,
    /// `sqrt(softplus(x))` with softplus's defaults (`x` itself inside
    /// the root above 20), `transformers`' `sqrtsoftplus` (DeepSeek V4's
    /// router scores); derivative `sigma(x) / (2 sqrt(softplus(x)))`, and
    /// `1 / (2 sqrt x)` above 20.
    SqrtSoftplus,
}

/// Which of an activation's kernels to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// `y = f(x)`.
    Forward,
    /// `y = f'(x)`.
    Derivative,
    /// `dx = grad_output * f'(x)`.
    Backward,
}

impl Mode {
    /// All three modes.
    pub const ALL: [Mode; 3] = [Mode::Forward, Mode::Derivative, Mode::Backward];

    /// The WGSL entry point of this mode.
    pub fn entry_point(self) -> &'static str {
        match self {
            Mode::Forward => "forward",
            Mode::Derivative => "derivative",
            Mode::Backward => "backward",
        }
    }
}

/// SELU's fixed `alpha`.
pub const SELU_ALPHA: f64 = 1.673_263_242_354_377_284_817_042_991_671_7;
/// SELU's fixed `scale`.
pub const SELU_SCALE: f64 = 1.050_700_987_355_480_493_419_334_985_294_6;

/// xIELU's default effective `alpha_p`: `softplus(bf16(log(expm1(0.8))))`
/// in float32 ([`Activation::xielu`]).
pub const XIELU_ALPHA_P: f32 = 0.800_396_1;
/// xIELU's default effective `alpha_n`: `0.5 + softplus(bf16(log(expm1(0.3))))`
/// in float32.
pub const XIELU_ALPHA_N: f32 = 0.800_869_46;
/// xIELU's default `eps`: `bf16(-1e-6)`.
pub const XIELU_EPS: f32 = -9.983_778e-7;

/// Names of the parameters of each kind, in WGSL argument order.
fn param_names(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "sigmoid" | "tanh" | "relu" | "selu" | "gelu" | "gelu_tanh" | "silu" | "mish"
        | "softsign" | "relu6" | "hardsigmoid" | "hardswish" | "log_sigmoid" | "tanhshrink"
        | "relu_squared" | "identity" | "sqrt_softplus" => &[],
        "leaky_relu" => &["negative_slope"],
        "elu" | "celu" | "quick_gelu" => &["alpha"],
        "laplace" => &["mu", "sigma"],
        "clipped_gelu" => &["min_val", "max_val"],
        "xielu" => &["alpha_p", "alpha_n", "beta", "eps"],
        "softplus" => &["beta", "threshold"],
        "hardtanh" => &["min_val", "max_val"],
        "softshrink" | "hardshrink" => &["lambda"],
        "threshold" => &["threshold", "value"],
        "rrelu" => &["lower", "upper"],
        _ => return None,
    })
}

impl Activation {
    /// One instance of every kind, with PyTorch's defaults (`Threshold`, which
    /// has none, with PyTorch's documentation example `Threshold(0.1, 20)`).
    pub const ALL: &'static [Activation] = &[
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::leaky_relu(),
        Activation::elu(),
        Activation::Selu,
        Activation::celu(),
        Activation::Gelu,
        Activation::GeluTanh,
        Activation::Silu,
        Activation::Mish,
        Activation::softplus(),
        Activation::Softsign,
        Activation::hardtanh(),
        Activation::Relu6,
        Activation::Hardsigmoid,
        Activation::Hardswish,
        Activation::LogSigmoid,
        Activation::Tanhshrink,
        Activation::softshrink(),
        Activation::hardshrink(),
        Activation::Threshold {
            threshold: 0.1,
            value: 20.0,
        },
        Activation::rrelu(),
        Activation::quick_gelu(),
        Activation::ReluSquared,
        Activation::laplace(),
        Activation::clipped_gelu(),
        Activation::xielu(),
        Activation::Identity,
        Activation::SqrtSoftplus,
    ];

    /// `LeakyRelu { negative_slope: 0.01 }`.
    pub const fn leaky_relu() -> Activation {
        Activation::LeakyRelu {
            negative_slope: 0.01,
        }
    }

    /// `Elu { alpha: 1.0 }`.
    pub const fn elu() -> Activation {
        Activation::Elu { alpha: 1.0 }
    }

    /// `Celu { alpha: 1.0 }`.
    pub const fn celu() -> Activation {
        Activation::Celu { alpha: 1.0 }
    }

    /// `Softplus { beta: 1.0, threshold: 20.0 }`.
    pub const fn softplus() -> Activation {
        Activation::Softplus {
            beta: 1.0,
            threshold: 20.0,
        }
    }

    /// `Hardtanh { min_val: -1.0, max_val: 1.0 }`.
    pub const fn hardtanh() -> Activation {
        Activation::Hardtanh {
            min_val: -1.0,
            max_val: 1.0,
        }
    }

    /// `Softshrink { lambda: 0.5 }`.
    pub const fn softshrink() -> Activation {
        Activation::Softshrink { lambda: 0.5 }
    }

    /// `Hardshrink { lambda: 0.5 }`.
    pub const fn hardshrink() -> Activation {
        Activation::Hardshrink { lambda: 0.5 }
    }

    /// `Threshold { threshold, value }` (PyTorch has no defaults).
    pub const fn threshold(threshold: f32, value: f32) -> Activation {
        Activation::Threshold { threshold, value }
    }

    /// `Rrelu { lower: 1/8, upper: 1/3 }` (evaluation mode).
    pub const fn rrelu() -> Activation {
        Activation::Rrelu {
            lower: 1.0 / 8.0,
            upper: 1.0 / 3.0,
        }
    }

    /// `QuickGelu { alpha: 1.702 }`.
    pub const fn quick_gelu() -> Activation {
        Activation::QuickGelu { alpha: 1.702 }
    }

    /// `Laplace { mu: 0.707107, sigma: 0.282095 }`: `transformers`'
    /// defaults, written as it writes them (not 1/sqrt 2 and 1/sqrt(4 pi)).
    #[allow(clippy::approx_constant)]
    pub const fn laplace() -> Activation {
        Activation::Laplace {
            mu: 0.707107,
            sigma: 0.282095,
        }
    }

    /// `ClippedGelu { min_val: -10.0, max_val: 10.0 }` (`gelu_10`).
    pub const fn clipped_gelu() -> Activation {
        Activation::ClippedGelu {
            min_val: -10.0,
            max_val: 10.0,
        }
    }

    /// The effective parameters of `transformers`' default
    /// `XIELUActivation()` run in float32 (`ACT2FN["xielu"].float()`, as a
    /// model loaded in float32 runs it). The module stores its parameters
    /// in bfloat16: `raw_alpha_p = bf16(log(expm1(0.8)))` and `raw_alpha_n =
    /// bf16(log(expm1(0.3)))`, so `alpha_p = softplus(raw_alpha_p)` =
    /// 0.8003960847854614, `alpha_n = beta + softplus(raw_alpha_n)` =
    /// 0.8008694648742676, `beta` = 0.5 and `eps = bf16(-1e-6)` =
    /// -9.98377799987793e-7 (each read from the module, transformers 5.25).
    /// Left in bfloat16, the module computes its softplus in bfloat16 too,
    /// which gives `alpha_p = alpha_n = 0.80078125`: pass those explicitly
    /// to match it. Explicit parameters are always used exactly as given.
    pub const fn xielu() -> Activation {
        Activation::Xielu {
            alpha_p: XIELU_ALPHA_P,
            alpha_n: XIELU_ALPHA_N,
            beta: 0.5,
            eps: XIELU_EPS,
        }
    }

    /// PyTorch's functional name (`"sigmoid"`, `"leaky_relu"`, `"gelu_tanh"`,
    /// `"log_sigmoid"`, ...); also the prefix of the op's WGSL functions
    /// (`wa_<name>_forward`, `wa_<name>_derivative`).
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Elu { .. } => "elu",
            Activation::Selu => "selu",
            Activation::Celu { .. } => "celu",
            Activation::Gelu => "gelu",
            Activation::GeluTanh => "gelu_tanh",
            Activation::Silu => "silu",
            Activation::Mish => "mish",
            Activation::Softplus { .. } => "softplus",
            Activation::Softsign => "softsign",
            Activation::Hardtanh { .. } => "hardtanh",
            Activation::Relu6 => "relu6",
            Activation::Hardsigmoid => "hardsigmoid",
            Activation::Hardswish => "hardswish",
            Activation::LogSigmoid => "log_sigmoid",
            Activation::Tanhshrink => "tanhshrink",
            Activation::Softshrink { .. } => "softshrink",
            Activation::Hardshrink { .. } => "hardshrink",
            Activation::Threshold { .. } => "threshold",
            Activation::Rrelu { .. } => "rrelu",
            Activation::QuickGelu { .. } => "quick_gelu",
            Activation::ReluSquared => "relu_squared",
            Activation::Laplace { .. } => "laplace",
            Activation::ClippedGelu { .. } => "clipped_gelu",
            Activation::Xielu { .. } => "xielu",
            Activation::Identity => "identity",
            Activation::SqrtSoftplus => "sqrt_softplus",
        }
    }

    /// True for the piecewise-linear ops, whose results (forward, derivative,
    /// backward) are bit-exact: ReLU, LeakyReLU, RReLU, Hardtanh, ReLU6, the
    /// shrinks and Threshold.
    pub fn is_piecewise_linear(&self) -> bool {
        matches!(
            self,
            Activation::Relu
                | Activation::LeakyRelu { .. }
                | Activation::Rrelu { .. }
                | Activation::Hardtanh { .. }
                | Activation::Relu6
                | Activation::Softshrink { .. }
                | Activation::Hardshrink { .. }
                | Activation::Threshold { .. }
        )
    }

    /// True for the ops whose every result (forward, derivative, backward)
    /// is correctly rounded, so bit-exact: the piecewise-linear ones,
    /// ReLU squared (one product) and Identity.
    pub fn is_exact(&self) -> bool {
        self.is_piecewise_linear() || matches!(self, Activation::ReluSquared | Activation::Identity)
    }

    /// The parameter values, in the order of [`Activation::param_names`]
    /// (the order the WGSL functions take them).
    pub fn param_values(&self) -> Vec<f32> {
        let (packed, count) = self.params();
        packed[..count].to_vec()
    }

    /// The parameters packed for the kernel's uniform (`param.x`, `.y`, ...)
    /// and how many there are: the one place that reads them out of the enum.
    pub(crate) fn params(&self) -> ([f32; 4], usize) {
        let one = |a| ([a, 0.0, 0.0, 0.0], 1);
        let two = |a, b| ([a, b, 0.0, 0.0], 2);
        match *self {
            Activation::LeakyRelu { negative_slope } => one(negative_slope),
            Activation::Elu { alpha }
            | Activation::Celu { alpha }
            | Activation::QuickGelu { alpha } => one(alpha),
            Activation::Softplus { beta, threshold } => two(beta, threshold),
            Activation::Hardtanh { min_val, max_val }
            | Activation::ClippedGelu { min_val, max_val } => two(min_val, max_val),
            Activation::Softshrink { lambda } | Activation::Hardshrink { lambda } => one(lambda),
            Activation::Threshold { threshold, value } => two(threshold, value),
            Activation::Rrelu { lower, upper } => two(lower, upper),
            Activation::Laplace { mu, sigma } => two(mu, sigma),
            Activation::Xielu {
                alpha_p,
                alpha_n,
                beta,
                eps,
            } => ([alpha_p, alpha_n, beta, eps], 4),
            _ => ([0.0; 4], 0),
        }
    }

    /// The op's formula, in words a PyTorch user reads (`x sigma(x)`), as
    /// the variant's documentation gives it.
    pub fn formula(&self) -> &'static str {
        match self {
            Activation::Sigmoid => "1 / (1 + e^-x)",
            Activation::Tanh => "tanh x",
            Activation::Relu => "max(x, 0)",
            Activation::LeakyRelu { .. } => "x > 0 ? x : negative_slope x",
            Activation::Elu { .. } => "x > 0 ? x : alpha (e^x - 1)",
            Activation::Selu => "scale (x > 0 ? x : alpha (e^x - 1)), alpha 1.6733, scale 1.0507",
            Activation::Celu { .. } => "x > 0 ? x : alpha (e^(x / alpha) - 1)",
            Activation::Gelu => "x Phi(x), Phi the normal CDF",
            Activation::GeluTanh => "0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
            Activation::Silu => "x sigma(x)",
            Activation::Mish => "x tanh(softplus(x))",
            Activation::Softplus { .. } => "log(1 + e^(beta x)) / beta; x where beta x > threshold",
            Activation::Softsign => "x / (1 + |x|)",
            Activation::Hardtanh { .. } => "clamp(x, min_val, max_val)",
            Activation::Relu6 => "clamp(x, 0, 6)",
            Activation::Hardsigmoid => "clamp(x / 6 + 1/2, 0, 1)",
            Activation::Hardswish => "x clamp(x + 3, 0, 6) / 6",
            Activation::LogSigmoid => "log sigma(x)",
            Activation::Tanhshrink => "x - tanh x",
            Activation::Softshrink { .. } => {
                "x > lambda ? x - lambda : x < -lambda ? x + lambda : 0"
            }
            Activation::Hardshrink { .. } => "|x| > lambda ? x : 0",
            Activation::Threshold { .. } => "x > threshold ? x : value",
            Activation::Rrelu { .. } => {
                "leaky_relu with slope (lower + upper) / 2 (evaluation mode)"
            }
            Activation::QuickGelu { .. } => "x sigma(alpha x)",
            Activation::ReluSquared => "relu(x)^2",
            Activation::Laplace { .. } => "0.5 (1 + erf((x - mu) / (sigma sqrt 2)))",
            Activation::ClippedGelu { .. } => "clamp(x Phi(x), min_val, max_val)",
            Activation::Xielu { .. } => {
                "x > 0 ? alpha_p x^2 + beta x : alpha_n (expm1(min(x, eps)) - x) + beta x"
            }
            Activation::Identity => "x",
            Activation::SqrtSoftplus => "sqrt(softplus(x)); sqrt(x) where x > 20",
        }
    }

    /// The parameter names (`["beta", "threshold"]` for softplus).
    pub fn param_names(&self) -> &'static [&'static str] {
        param_names(self.name()).unwrap_or(&[])
    }

    /// Builds the activation called `name` from its parameter values (in
    /// [`Activation::param_names`] order). `None` for an unknown name or a
    /// wrong number of values. Does not validate the values.
    pub fn from_parts(name: &str, values: &[f32]) -> Option<Activation> {
        let names = param_names(name)?;
        if values.len() != names.len() {
            return None;
        }
        let p = |i: usize| values[i];
        Some(match name {
            "sigmoid" => Activation::Sigmoid,
            "tanh" => Activation::Tanh,
            "relu" => Activation::Relu,
            "leaky_relu" => Activation::LeakyRelu {
                negative_slope: p(0),
            },
            "elu" => Activation::Elu { alpha: p(0) },
            "selu" => Activation::Selu,
            "celu" => Activation::Celu { alpha: p(0) },
            "gelu" => Activation::Gelu,
            "gelu_tanh" => Activation::GeluTanh,
            "silu" => Activation::Silu,
            "mish" => Activation::Mish,
            "softplus" => Activation::Softplus {
                beta: p(0),
                threshold: p(1),
            },
            "softsign" => Activation::Softsign,
            "hardtanh" => Activation::Hardtanh {
                min_val: p(0),
                max_val: p(1),
            },
            "relu6" => Activation::Relu6,
            "hardsigmoid" => Activation::Hardsigmoid,
            "hardswish" => Activation::Hardswish,
            "log_sigmoid" => Activation::LogSigmoid,
            "tanhshrink" => Activation::Tanhshrink,
            "softshrink" => Activation::Softshrink { lambda: p(0) },
            "hardshrink" => Activation::Hardshrink { lambda: p(0) },
            "threshold" => Activation::Threshold {
                threshold: p(0),
                value: p(1),
            },
            "rrelu" => Activation::Rrelu {
                lower: p(0),
                upper: p(1),
            },
            "quick_gelu" => Activation::QuickGelu { alpha: p(0) },
            "relu_squared" => Activation::ReluSquared,
            "laplace" => Activation::Laplace {
                mu: p(0),
                sigma: p(1),
            },
            "clipped_gelu" => Activation::ClippedGelu {
                min_val: p(0),
                max_val: p(1),
            },
            "xielu" => Activation::Xielu {
                alpha_p: p(0),
                alpha_n: p(1),
                beta: p(2),
                eps: p(3),
            },
            "identity" => Activation::Identity,
            "sqrt_softplus" => Activation::SqrtSoftplus,
            _ => return None,
        })
    }

    /// The default instance of the kind called `name`, if it has defaults.
    fn default_for(name: &str) -> Option<Activation> {
        Activation::ALL
            .iter()
            .copied()
            .find(|a| a.name() == name && !matches!(a, Activation::Threshold { .. }))
    }

    /// Checks the parameters: none may be NaN or infinite; `Celu` needs
    /// `alpha != 0`, `Softplus` `beta != 0`, `Hardtanh` and `ClippedGelu`
    /// `min_val <= max_val`, the shrinks `lambda >= 0`, `Rrelu` `lower <=
    /// upper`, `Laplace` `sigma > 0`, `Xielu` `alpha_p > 0` and `alpha_n > 0`.
    pub fn validate(&self) -> Result<(), Error> {
        let invalid = |parameter, value, reason| Error::InvalidParameter {
            activation: self.name(),
            parameter,
            value,
            reason,
        };
        let (values, _) = self.params();
        for (parameter, &value) in self.param_names().iter().zip(&values) {
            if !value.is_finite() {
                return Err(invalid(parameter, value, "must be finite"));
            }
        }
        match *self {
            Activation::Celu { alpha } if alpha == 0.0 => {
                Err(invalid("alpha", alpha, "must not be 0"))
            }
            Activation::Softplus { beta, .. } if beta == 0.0 => {
                Err(invalid("beta", beta, "must not be 0"))
            }
            Activation::Hardtanh { min_val, max_val } if min_val > max_val => {
                Err(invalid("min_val", min_val, "must not exceed max_val"))
            }
            Activation::Softshrink { lambda } | Activation::Hardshrink { lambda }
                if lambda < 0.0 =>
            {
                Err(invalid("lambda", lambda, "must be >= 0"))
            }
            Activation::Rrelu { lower, upper } if lower > upper => {
                Err(invalid("lower", lower, "must not exceed upper"))
            }
            Activation::Laplace { sigma, .. } if sigma <= 0.0 => {
                Err(invalid("sigma", sigma, "must be > 0"))
            }
            Activation::ClippedGelu { min_val, max_val } if min_val > max_val => {
                Err(invalid("min_val", min_val, "must not exceed max_val"))
            }
            Activation::Xielu { alpha_p, .. } if alpha_p <= 0.0 => Err(invalid(
                "alpha_p",
                alpha_p,
                "must be > 0 (the effective value softplus(raw_alpha_p))",
            )),
            Activation::Xielu { alpha_n, .. } if alpha_n <= 0.0 => Err(invalid(
                "alpha_n",
                alpha_n,
                "must be > 0 (the effective value beta + softplus(raw_alpha_n))",
            )),
            _ => Ok(()),
        }
    }
}

impl Activation {
    /// Parses a comma-separated list of activations, splitting only at commas
    /// outside parentheses: `"gelu, softplus(beta=2, threshold=10), relu"`.
    /// Empty items are skipped.
    pub fn parse_list(text: &str) -> Result<Vec<Activation>, ParseActivationError> {
        let mut items = Vec::new();
        let (mut depth, mut start) = (0i32, 0);
        for (i, c) in text.char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&text[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&text[start..]);
        items
            .into_iter()
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::parse)
            .collect()
    }
}

impl fmt::Display for Activation {
    /// `name` for ops without parameters, `name(p=v, ...)` otherwise; parses
    /// back with `FromStr`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        let names = self.param_names();
        if names.is_empty() {
            return Ok(());
        }
        f.write_str("(")?;
        let (values, _) = self.params();
        for (i, (name, value)) in names.iter().zip(values).enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{name}={value:?}")?;
        }
        f.write_str(")")
    }
}

/// Other spellings of the ops, mapped to [`Activation::name`]: PyTorch's
/// module names and the keys of Hugging Face `transformers`' `ACT2FN`.
const ALIASES: &[(&str, &str)] = &[
    ("swish", "silu"),
    ("logsigmoid", "log_sigmoid"),
    ("leakyrelu", "leaky_relu"),
    ("gelu_python", "gelu"),
    ("gelu_new", "gelu_tanh"),
    ("gelu_fast", "gelu_tanh"),
    ("gelu_accurate", "gelu_tanh"),
    ("gelu_pytorch_tanh", "gelu_tanh"),
    ("gelu_python_tanh", "gelu_tanh"),
    ("gelu_10", "clipped_gelu"),
    ("relu2", "relu_squared"),
    ("linear", "identity"),
    ("sqrtsoftplus", "sqrt_softplus"),
];

impl Activation {
    /// The keys of Hugging Face `transformers`' `ACT2FN` registry (the
    /// strings a model config's `hidden_act` holds). Every one parses with
    /// `FromStr` to the same function, except `"prelu"` (a learned
    /// per-channel slope: [`crate::Context::prelu`]).
    pub const ACT2FN_KEYS: &'static [&'static str] = &[
        "gelu",
        "gelu_10",
        "gelu_fast",
        "gelu_new",
        "gelu_python",
        "gelu_pytorch_tanh",
        "gelu_python_tanh",
        "gelu_accurate",
        "hardswish",
        "laplace",
        "leaky_relu",
        "linear",
        "mish",
        "quick_gelu",
        "relu",
        "relu2",
        "relu6",
        "sigmoid",
        "silu",
        "sqrtsoftplus",
        "swish",
        "tanh",
        "prelu",
        "xielu",
    ];
}

/// The `count` known names (canonical and aliases) closest to `name` in
/// edit distance, closest first.
fn closest_names(name: &str, count: usize) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Activation::ALL
        .iter()
        .map(|a| a.name())
        .chain(ALIASES.iter().map(|(alias, _)| *alias))
        .collect();
    names.sort_by_key(|n| (edit_distance(name, n), *n));
    names.dedup();
    names.truncate(count);
    names
}

/// Edit distance between two strings counting an insertion, a deletion, a
/// substitution or a swap of two neighbours as one edit (optimal string
/// alignment): `gleu` is one edit from `gelu`.
fn edit_distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let width = b.len() + 1;
    let mut d: Vec<usize> = (0..(a.len() + 1) * width).collect();
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

/// Why a string is not an activation.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse activation {input:?}: {reason}")]
pub struct ParseActivationError {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl FromStr for Activation {
    type Err = ParseActivationError;

    /// Parses `"name"`, `"name(v, ...)"` or `"name(p=v, ...)"` (positional
    /// values first, then named ones; missing ones take PyTorch's defaults;
    /// a parameter given twice is an error, as in Python).
    /// Besides the names of [`Activation::name`], every key of Hugging Face
    /// `transformers`' `ACT2FN` registry parses ([`Activation::ACT2FN_KEYS`]:
    /// `"gelu_pytorch_tanh"` is `gelu_tanh`, `"swish"` is `silu`, `"gelu_10"`
    /// is `clipped_gelu(-10, 10)`, `"relu2"` is `relu_squared`, `"linear"` is
    /// `identity`, ...), except `"prelu"`, whose error points to the PReLU
    /// API. An unknown name's error lists the closest known names. The
    /// result is validated.
    fn from_str(input: &str) -> Result<Activation, ParseActivationError> {
        let error = |reason: String| ParseActivationError {
            input: input.to_string(),
            reason,
        };
        let text = input.trim();
        let (name, args) = match text.find('(') {
            Some(open) => {
                let inner = text[open + 1..]
                    .strip_suffix(')')
                    .ok_or_else(|| error("missing closing ')'".into()))?;
                (text[..open].trim(), Some(inner))
            }
            None => (text, None),
        };
        let name = name.to_ascii_lowercase().replace('-', "_");
        if name == "prelu" {
            return Err(error(
                "PReLU learns one slope per channel, so it is not a unary op: use \
                 Context::prelu / Context::prelu_backward (or PreluKernels) with the \
                 checkpoint's weight"
                    .into(),
            ));
        }
        let name = ALIASES
            .iter()
            .find(|(alias, _)| *alias == name)
            .map_or(name.clone(), |(_, canonical)| canonical.to_string());
        let names = param_names(&name).ok_or_else(|| {
            error(format!(
                "unknown activation {name:?}; did you mean {}?",
                closest_names(&name, 3).join(", ")
            ))
        })?;
        let mut values: Vec<Option<f32>> = match Activation::default_for(&name) {
            Some(default) => default.param_values().into_iter().map(Some).collect(),
            None => vec![None; names.len()],
        };
        let mut seen_named = false;
        let mut given = vec![false; names.len()];
        for (position, arg) in args.into_iter().flat_map(|a| a.split(',')).enumerate() {
            let arg = arg.trim();
            if arg.is_empty() {
                // `name()` has no arguments; an empty one anywhere else
                // (`softplus(,2)`, `elu(1,)`) is an error, as in Python.
                if position == 0 && args.is_some_and(|a| a.trim().is_empty()) {
                    continue;
                }
                return Err(error("empty argument".into()));
            }
            let (slot, value) = match arg.split_once('=') {
                Some((key, value)) => {
                    seen_named = true;
                    let key = key.trim();
                    let slot = names.iter().position(|n| *n == key).ok_or_else(|| {
                        error(format!(
                            "{name} has no parameter {key:?} (it has {names:?})"
                        ))
                    })?;
                    (slot, value.trim())
                }
                None if seen_named => {
                    return Err(error("positional argument after a named one".into()));
                }
                None if position >= names.len() => {
                    return Err(error(format!(
                        "{name} takes {} parameter(s) {names:?}",
                        names.len()
                    )));
                }
                None => (position, arg),
            };
            if std::mem::replace(&mut given[slot], true) {
                return Err(error(format!(
                    "{name}: parameter {:?} given more than once",
                    names[slot]
                )));
            }
            let value: f32 = value
                .parse()
                .map_err(|_| error(format!("{:?} is not a number", value)))?;
            values[slot] = Some(value);
        }
        let values: Vec<f32> = values
            .iter()
            .zip(names)
            .map(|(v, n)| v.ok_or_else(|| error(format!("{name} needs parameter {n:?}"))))
            .collect::<Result<_, _>>()?;
        let act =
            Activation::from_parts(&name, &values).ok_or_else(|| error("bad parameters".into()))?;
        act.validate().map_err(|e| error(e.to_string()))?;
        Ok(act)
    }
}
