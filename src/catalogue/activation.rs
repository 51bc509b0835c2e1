//! The catalogue of activations: one row per op in [`ops!`] below (its
//! name, parameters with defaults and checks, formula, Hugging Face and
//! PyTorch spellings, shape and accuracy bound), and everything Rust derives
//! from the rows: the [`Activation`] enum, its constructors, `ALL`, names,
//! parameters, validation, parsing and `Display`.
//!
//! Adding an op is its row here, its WGSL (`shaders/activations.wgsl`) and
//! its independent f64 reference (`crate::cpu`).

use std::fmt;
use std::str::FromStr;

use crate::{Error, Precision};

/// How closely an op's results are held to the f64 reference
/// ([`crate::accuracy::target_at`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Bound {
    /// Every result (forward, derivative, backward) bit-exact, at both tiers.
    Exact,
    /// Scaled ULPs `[forward, derivative, backward]` at each tier.
    Ulps {
        /// At [`Precision::Precise`].
        precise: [f64; 3],
        /// At [`Precision::Fast`].
        fast: [f64; 3],
    },
}

impl Bound {
    /// The bound in `mode` at `precision`, in scaled ULPs; `None` for exact.
    pub(crate) fn at(self, mode: Mode, precision: Precision) -> Option<f64> {
        let Bound::Ulps { precise, fast } = self else {
            return None;
        };
        let tier = match precision {
            Precision::Precise => precise,
            Precision::Fast => fast,
        };
        Some(match mode {
            Mode::Forward => tier[0],
            Mode::Derivative => tier[1],
            Mode::Backward => tier[2],
        })
    }
}

/// Bit-exact: the piecewise-linear ops, ReLU squared (one product) and
/// Identity, whose every result is correctly rounded.
const EXACT: Bound = Bound::Exact;

/// The smooth ops' bound (SEMANTICS.md): 2 scaled ULPs forward, 4 for the
/// derivative; the backward rounds once more (`grad_output * f'(x)` after
/// `f'(x)`), so 4 plus that rounding's 1. The fast tier: 4, 8 and 8.
const SMOOTH: Bound = Bound::Ulps {
    precise: [2.0, 4.0, 5.0],
    fast: [4.0, 8.0, 8.0],
};

/// What the catalogue knows about one kind of op: its row of [`ops!`].
#[derive(Debug)]
pub(crate) struct Row {
    /// PyTorch's functional name, the prefix of the op's WGSL functions.
    name: &'static str,
    /// The parameter names, in WGSL argument order.
    params: &'static [&'static str],
    /// The formula in words.
    formula: &'static str,
    /// Whether the op is piecewise linear.
    piecewise_linear: bool,
    /// Its accuracy bound.
    bound: Bound,
    /// Whether the parameters have defaults (else `ALL` holds an example).
    defaults: bool,
    /// The keys of `transformers`' `ACT2FN` that name this op.
    act2fn: &'static [&'static str],
    /// Other spellings (PyTorch's module names).
    aliases: &'static [&'static str],
}

/// The rows of every op, in [`Activation::ALL`]'s order.
fn rows() -> impl Iterator<Item = &'static Row> {
    Activation::ALL.iter().map(Activation::row)
}

/// The row of the op called `name` (its canonical name).
fn row_named(name: &str) -> Option<&'static Row> {
    rows().find(|row| row.name == name)
}

/// Declares the ops, one row each:
///
/// ```text
/// /// variant docs
/// Variant { /// field docs
///           field = default, ... } => "name" {
///     formula: "...",
///     bound: EXACT | SMOOTH,
///     piecewise_linear: true,        // optional, default false
///     defaults: false,               // optional: the values are an example
///     act2fn: ["key", ...],          // optional: transformers' ACT2FN keys
///     aliases: ["spelling", ...],    // optional: other names
///     checks: [param if bad => "reason", ...], // optional, in order
///     /// constructor docs
///     constructor: fn_name,          // optional
/// },
/// ```
///
/// and generates the enum, `ALL` (the defaults), the constructors, the row
/// of each op, `ACT2FN_KEYS`, the parameter packing, `from_parts` and the
/// checks of `validate`.
macro_rules! ops {
    ($(
        $(#[$vmeta:meta])*
        $Variant:ident $({
            $( $(#[$fmeta:meta])* $field:ident = $default:expr, )+
        })? => $name:literal {
            formula: $formula:literal,
            bound: $bound:expr,
            $(piecewise_linear: $pl:literal,)?
            $(defaults: $defaults:tt,)?
            $(act2fn: [$($key:literal),* $(,)?],)?
            $(aliases: [$($alias:literal),* $(,)?],)?
            $(checks: [$($param:ident if $bad:expr => $reason:expr),* $(,)?],)?
            $($(#[$cmeta:meta])* constructor: $ctor:ident,)?
        }
    ),* $(,)?) => {
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
            $(
                $(#[$vmeta])*
                $Variant $({ $( $(#[$fmeta])* $field: f32, )+ })?,
            )*
        }

        impl Activation {
            /// One instance of every kind, with PyTorch's defaults (`Threshold`, which
            /// has none, with PyTorch's documentation example `Threshold(0.1, 20)`).
            #[allow(clippy::approx_constant)]
            pub const ALL: &'static [Activation] = &[
                $( Activation::$Variant { $($($field: $default,)+)? }, )*
            ];

            /// The keys of Hugging Face `transformers`' `ACT2FN` registry (the
            /// strings a model config's `hidden_act` holds). Every one parses with
            /// `FromStr` to the same function, except `"prelu"` (a learned
            /// per-channel slope: [`crate::Context::prelu`]).
            pub const ACT2FN_KEYS: &'static [&'static str] = &[
                $($($($key,)*)?)*
                "prelu",
            ];

            $( ops!(@constructor [$($defaults)?] $Variant
                    [$($(#[$cmeta])* $ctor)?] [$($($field = $default,)+)?]); )*

            /// The op's row of the catalogue.
            pub(crate) fn row(&self) -> &'static Row {
                match self {
                    $(
                        Activation::$Variant { .. } => {
                            const ROW: Row = Row {
                                name: $name,
                                params: &[$($(stringify!($field),)+)?],
                                formula: $formula,
                                piecewise_linear: false $(|| $pl)?,
                                bound: $bound,
                                defaults: true $(&& $defaults)?,
                                act2fn: &[$($($key,)*)?],
                                aliases: &[$($($alias,)*)?],
                            };
                            &ROW
                        }
                    )*
                }
            }

            /// The parameters packed for the kernel's uniform (`param.x`, `.y`, ...)
            /// and how many there are: the one place that reads them out of the enum.
            pub(crate) fn params(&self) -> ([f32; 4], usize) {
                let values: &[f32] = match *self {
                    $( Activation::$Variant { $($($field,)+)? } => &[$($($field,)+)?], )*
                };
                let mut packed = [0.0; 4];
                packed[..values.len()].copy_from_slice(values);
                (packed, values.len())
            }

            /// Builds the activation called `name` from its parameter values (in
            /// [`Activation::param_names`] order). `None` for an unknown name or a
            /// wrong number of values. Does not validate the values.
            pub fn from_parts(name: &str, values: &[f32]) -> Option<Activation> {
                if values.len() != row_named(name)?.params.len() {
                    return None;
                }
                let mut values = values.iter().copied();
                Some(match name {
                    $( $name => Activation::$Variant { $($($field: values.next()?,)+)? }, )*
                    _ => return None,
                })
            }

            /// The checks of each op's row (after the finiteness of every
            /// parameter): the first failing one.
            #[allow(unused_variables)]
            fn check(&self) -> Result<(), Error> {
                match *self {
                    $(
                        Activation::$Variant { $($($field,)+)? } => {
                            $($(
                                if $bad {
                                    return Err(Error::InvalidParameter {
                                        activation: $name,
                                        parameter: stringify!($param),
                                        value: $param,
                                        reason: $reason,
                                    });
                                }
                            )*)?
                        }
                    )*
                }
                Ok(())
            }
        }
    };

    // A constructor with the row's defaults.
    (@constructor [] $Variant:ident [$(#[$cmeta:meta])* $ctor:ident]
        [$($field:ident = $default:expr,)+]) => {
        $(#[$cmeta])*
        pub const fn $ctor() -> Activation {
            Activation::$Variant { $($field: $default,)+ }
        }
    };
    // An op without defaults: its constructor takes every parameter.
    (@constructor [false] $Variant:ident [$(#[$cmeta:meta])* $ctor:ident]
        [$($field:ident = $default:expr,)+]) => {
        $(#[$cmeta])*
        pub const fn $ctor($($field: f32),+) -> Activation {
            Activation::$Variant { $($field,)+ }
        }
    };
    // No constructor.
    (@constructor [$($defaults:tt)?] $Variant:ident [] [$($fields:tt)*]) => {};
}

ops! {
    /// `1 / (1 + e^-x)`.
    Sigmoid => "sigmoid" {
        formula: "1 / (1 + e^-x)",
        bound: SMOOTH,
        act2fn: ["sigmoid"],
    },
    /// `tanh x`.
    Tanh => "tanh" {
        formula: "tanh x",
        bound: SMOOTH,
        act2fn: ["tanh"],
    },
    /// `max(x, 0)`, with `relu(-0.0) = -0.0`; derivative 0 at 0.
    Relu => "relu" {
        formula: "max(x, 0)",
        bound: EXACT,
        piecewise_linear: true,
        act2fn: ["relu"],
    },
    /// `x > 0 ? x : negative_slope * x`; derivative `negative_slope` at 0.
    LeakyRelu {
        /// Slope for `x <= 0` (default 0.01).
        negative_slope = 0.01,
    } => "leaky_relu" {
        formula: "x > 0 ? x : negative_slope x",
        bound: EXACT,
        piecewise_linear: true,
        act2fn: ["leaky_relu"],
        aliases: ["leakyrelu"],
        /// `LeakyRelu { negative_slope: 0.01 }`.
        constructor: leaky_relu,
    },
    /// `x > 0 ? x : alpha (e^x - 1)`; derivative `alpha` at 0.
    Elu {
        /// Scale of the negative branch (default 1).
        alpha = 1.0,
    } => "elu" {
        formula: "x > 0 ? x : alpha (e^x - 1)",
        bound: SMOOTH,
        /// `Elu { alpha: 1.0 }`.
        constructor: elu,
    },
    /// `scale * elu(x, alpha)` with PyTorch's fixed `alpha` and `scale`.
    Selu => "selu" {
        formula: "scale (x > 0 ? x : alpha (e^x - 1)), alpha 1.6733, scale 1.0507",
        bound: SMOOTH,
    },
    /// `x > 0 ? x : alpha (e^(x/alpha) - 1)`; derivative 1 at 0.
    Celu {
        /// Scale of the negative branch, non-zero (default 1).
        alpha = 1.0,
    } => "celu" {
        formula: "x > 0 ? x : alpha (e^(x / alpha) - 1)",
        bound: SMOOTH,
        checks: [alpha if alpha == 0.0 => "must not be 0"],
        /// `Celu { alpha: 1.0 }`.
        constructor: celu,
    },
    /// `x Phi(x)` with the exact normal CDF (`approximate='none'`).
    Gelu => "gelu" {
        formula: "x Phi(x), Phi the normal CDF",
        bound: SMOOTH,
        act2fn: ["gelu", "gelu_python"],
    },
    /// `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))` (`approximate='tanh'`).
    GeluTanh => "gelu_tanh" {
        formula: "0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))",
        bound: SMOOTH,
        act2fn: [
            "gelu_fast",
            "gelu_new",
            "gelu_pytorch_tanh",
            "gelu_python_tanh",
            "gelu_accurate",
        ],
    },
    /// `x sigma(x)` (Swish).
    Silu => "silu" {
        formula: "x sigma(x)",
        bound: SMOOTH,
        act2fn: ["silu", "swish"],
    },
    /// `x tanh(softplus(x))`.
    Mish => "mish" {
        formula: "x tanh(softplus(x))",
        bound: SMOOTH,
        act2fn: ["mish"],
    },
    /// `log(1 + e^(beta x)) / beta`, and `x` where `beta x > threshold`.
    Softplus {
        /// Sharpness, non-zero (default 1).
        beta = 1.0,
        /// Above this `beta x` the op is the identity (default 20).
        threshold = 20.0,
    } => "softplus" {
        formula: "log(1 + e^(beta x)) / beta; x where beta x > threshold",
        bound: SMOOTH,
        checks: [beta if beta == 0.0 => "must not be 0"],
        /// `Softplus { beta: 1.0, threshold: 20.0 }`.
        constructor: softplus,
    },
    /// `x / (1 + |x|)`.
    Softsign => "softsign" {
        formula: "x / (1 + |x|)",
        bound: SMOOTH,
    },
    /// `clamp(x, min_val, max_val)`; derivative 0 at both ends.
    Hardtanh {
        /// Lower bound (default -1).
        min_val = -1.0,
        /// Upper bound, `>= min_val` (default 1).
        max_val = 1.0,
    } => "hardtanh" {
        formula: "clamp(x, min_val, max_val)",
        bound: EXACT,
        piecewise_linear: true,
        checks: [min_val if min_val > max_val => "must not exceed max_val"],
        /// `Hardtanh { min_val: -1.0, max_val: 1.0 }`.
        constructor: hardtanh,
    },
    /// `clamp(x, 0, 6)`; derivative 0 at both ends.
    Relu6 => "relu6" {
        formula: "clamp(x, 0, 6)",
        bound: EXACT,
        piecewise_linear: true,
        act2fn: ["relu6"],
    },
    /// `clamp(x/6 + 1/2, 0, 1)`.
    Hardsigmoid => "hardsigmoid" {
        formula: "clamp(x / 6 + 1/2, 0, 1)",
        bound: SMOOTH,
    },
    /// `x clamp(x + 3, 0, 6) / 6`; derivative 0 at -3 and 1 at 3.
    Hardswish => "hardswish" {
        formula: "x clamp(x + 3, 0, 6) / 6",
        bound: SMOOTH,
        act2fn: ["hardswish"],
    },
    /// `log sigma(x)`.
    LogSigmoid => "log_sigmoid" {
        formula: "log sigma(x)",
        bound: SMOOTH,
        aliases: ["logsigmoid"],
    },
    /// `x - tanh x`.
    Tanhshrink => "tanhshrink" {
        formula: "x - tanh x",
        bound: SMOOTH,
    },
    /// `x > lambda ? x - lambda : x < -lambda ? x + lambda : 0`.
    Softshrink {
        /// Half-width of the dead zone, `>= 0` (default 0.5).
        lambda = 0.5,
    } => "softshrink" {
        formula: "x > lambda ? x - lambda : x < -lambda ? x + lambda : 0",
        bound: EXACT,
        piecewise_linear: true,
        checks: [lambda if lambda < 0.0 => "must be >= 0"],
        /// `Softshrink { lambda: 0.5 }`.
        constructor: softshrink,
    },
    /// `|x| > lambda ? x : 0`.
    Hardshrink {
        /// Half-width of the dead zone, `>= 0` (default 0.5).
        lambda = 0.5,
    } => "hardshrink" {
        formula: "|x| > lambda ? x : 0",
        bound: EXACT,
        piecewise_linear: true,
        checks: [lambda if lambda < 0.0 => "must be >= 0"],
        /// `Hardshrink { lambda: 0.5 }`.
        constructor: hardshrink,
    },
    /// `x > threshold ? x : value`. Both parameters are required, as in
    /// `torch.nn.Threshold` (`"threshold"` alone does not parse, and
    /// `list-ops` marks them required); [`Activation::ALL`] holds PyTorch's
    /// documentation example `Threshold(0.1, 20)`.
    Threshold {
        /// Inputs at or below this are replaced.
        threshold = 0.1,
        /// The replacement.
        value = 20.0,
    } => "threshold" {
        formula: "x > threshold ? x : value",
        bound: EXACT,
        piecewise_linear: true,
        defaults: false,
        /// `Threshold { threshold, value }` (PyTorch has no defaults).
        constructor: threshold,
    },
    /// Randomized leaky ReLU in evaluation mode: LeakyReLU with slope
    /// `(lower + upper) / 2`.
    Rrelu {
        /// Lower slope bound (default 1/8).
        lower = 1.0 / 8.0,
        /// Upper slope bound, `>= lower` (default 1/3).
        upper = 1.0 / 3.0,
    } => "rrelu" {
        formula: "leaky_relu with slope (lower + upper) / 2 (evaluation mode)",
        bound: EXACT,
        piecewise_linear: true,
        checks: [lower if lower > upper => "must not exceed upper"],
        /// `Rrelu { lower: 1/8, upper: 1/3 }` (evaluation mode).
        constructor: rrelu,
    },
    /// `x sigma(alpha x)` (CLIP's `quick_gelu`); derivative
    /// `silu'(alpha x)`.
    QuickGelu {
        /// Sharpness (default 1.702).
        alpha = 1.702,
    } => "quick_gelu" {
        formula: "x sigma(alpha x)",
        bound: SMOOTH,
        act2fn: ["quick_gelu"],
        /// `QuickGelu { alpha: 1.702 }`.
        constructor: quick_gelu,
    },
    /// `relu(x)^2` (`relu2`: Primer, Nemotron): `x^2` for `x > 0`, `+0`
    /// otherwise (also at `-0.0`); derivative `2 relu(x)`, 0 at 0.
    ReluSquared => "relu_squared" {
        formula: "relu(x)^2",
        bound: EXACT,
        act2fn: ["relu2"],
    },
    /// `0.5 (1 + erf((x - mu) / (sigma sqrt 2)))` = `Phi((x - mu) / sigma)`
    /// (MEGA's `laplace`); derivative the normal density
    /// `phi((x - mu) / sigma) / sigma`.
    Laplace {
        /// Centre (default 0.707107).
        mu = 0.707107,
        /// Width, `> 0` (default 0.282095).
        sigma = 0.282095,
    } => "laplace" {
        formula: "0.5 (1 + erf((x - mu) / (sigma sqrt 2)))",
        bound: SMOOTH,
        act2fn: ["laplace"],
        checks: [sigma if sigma <= 0.0 => "must be > 0"],
        /// `Laplace { mu: 0.707107, sigma: 0.282095 }`: `transformers`'
        /// defaults, written as it writes them (not 1/sqrt 2 and 1/sqrt(4 pi)).
        #[allow(clippy::approx_constant)]
        constructor: laplace,
    },
    /// `clamp(gelu(x), min_val, max_val)` with the exact GELU (`gelu_10` is
    /// `(-10, 10)`); derivative `gelu'(x)` where `min_val < gelu(x) <
    /// max_val`, 0 where clamped and at exactly either bound (PyTorch's
    /// `clamp` gives its input's gradient 0 there, measured on torch 2.15,
    /// as `hardtanh` does).
    ClippedGelu {
        /// Lower bound (default -10).
        min_val = -10.0,
        /// Upper bound, `>= min_val` (default 10).
        max_val = 10.0,
    } => "clipped_gelu" {
        formula: "clamp(x Phi(x), min_val, max_val)",
        bound: SMOOTH,
        act2fn: ["gelu_10"],
        checks: [min_val if min_val > max_val => "must not exceed max_val"],
        /// `ClippedGelu { min_val: -10.0, max_val: 10.0 }` (`gelu_10`).
        constructor: clipped_gelu,
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
        alpha_p = XIELU_ALPHA_P,
        /// Effective negative coefficient, `> 0` (default
        /// 0.8008694648742676, [`XIELU_ALPHA_N`]).
        alpha_n = XIELU_ALPHA_N,
        /// Linear coefficient (default 0.5).
        beta = 0.5,
        /// Where the exponential stops (default bf16(-1e-6) =
        /// -9.98377799987793e-7, [`XIELU_EPS`]).
        eps = XIELU_EPS,
    } => "xielu" {
        formula: "x > 0 ? alpha_p x^2 + beta x : alpha_n (expm1(min(x, eps)) - x) + beta x",
        bound: SMOOTH,
        act2fn: ["xielu"],
        checks: [
            alpha_p if alpha_p <= 0.0
                => "must be > 0 (the effective value softplus(raw_alpha_p))",
            alpha_n if alpha_n <= 0.0
                => "must be > 0 (the effective value beta + softplus(raw_alpha_n))",
        ],
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
        constructor: xielu,
    },
    /// `x` (`nn.Identity`, `transformers`' `linear`); derivative 1 (NaN at
    /// NaN, like every op here).
    Identity => "identity" {
        formula: "x",
        bound: EXACT,
        act2fn: ["linear"],
    },
    /// `sqrt(softplus(x))` with softplus's defaults (`x` itself inside
    /// the root above 20), `transformers`' `sqrtsoftplus` (DeepSeek V4's
    /// router scores); derivative `sigma(x) / (2 sqrt(softplus(x)))`, and
    /// `1 / (2 sqrt x)` above 20.
    SqrtSoftplus => "sqrt_softplus" {
        formula: "sqrt(softplus(x)); sqrt(x) where x > 20",
        bound: SMOOTH,
        act2fn: ["sqrtsoftplus"],
    },
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

impl Activation {
    /// PyTorch's functional name (`"sigmoid"`, `"leaky_relu"`, `"gelu_tanh"`,
    /// `"log_sigmoid"`, ...); also the prefix of the op's WGSL functions
    /// (`wa_<name>_forward`, `wa_<name>_derivative`).
    pub fn name(&self) -> &'static str {
        self.row().name
    }

    /// True for the piecewise-linear ops, whose results (forward, derivative,
    /// backward) are bit-exact: ReLU, LeakyReLU, RReLU, Hardtanh, ReLU6, the
    /// shrinks and Threshold.
    pub fn is_piecewise_linear(&self) -> bool {
        self.row().piecewise_linear
    }

    /// True for the ops whose every result (forward, derivative, backward)
    /// is correctly rounded, so bit-exact: the piecewise-linear ones,
    /// ReLU squared (one product) and Identity.
    pub fn is_exact(&self) -> bool {
        self.row().bound == Bound::Exact
    }

    /// The op's accuracy bound (its row's), which
    /// [`crate::accuracy::target_at`] reads.
    pub(crate) fn bound(&self) -> Bound {
        self.row().bound
    }

    /// The parameter values, in the order of [`Activation::param_names`]
    /// (the order the WGSL functions take them).
    pub fn param_values(&self) -> Vec<f32> {
        let (packed, count) = self.params();
        packed[..count].to_vec()
    }

    /// The op's formula, in words a PyTorch user reads (`x sigma(x)`), as
    /// the variant's documentation gives it.
    pub fn formula(&self) -> &'static str {
        self.row().formula
    }

    /// The parameter names (`["beta", "threshold"]` for softplus).
    pub fn param_names(&self) -> &'static [&'static str] {
        self.row().params
    }

    /// The default instance of the kind called `name`, if it has defaults.
    fn default_for(name: &str) -> Option<Activation> {
        Activation::ALL
            .iter()
            .copied()
            .find(|a| a.name() == name && a.row().defaults)
    }

    /// Checks the parameters: none may be NaN or infinite; `Celu` needs
    /// `alpha != 0`, `Softplus` `beta != 0`, `Hardtanh` and `ClippedGelu`
    /// `min_val <= max_val`, the shrinks `lambda >= 0`, `Rrelu` `lower <=
    /// upper`, `Laplace` `sigma > 0`, `Xielu` `alpha_p > 0` and `alpha_n > 0`
    /// (the `checks` of each op's row).
    pub fn validate(&self) -> Result<(), Error> {
        let (values, _) = self.params();
        for (parameter, &value) in self.param_names().iter().zip(&values) {
            if !value.is_finite() {
                return Err(Error::InvalidParameter {
                    activation: self.name(),
                    parameter,
                    value,
                    reason: "must be finite",
                });
            }
        }
        self.check()
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

/// Other spellings of the ops, mapped to [`Activation::name`]: the keys of
/// Hugging Face `transformers`' `ACT2FN` and the other spellings of each
/// op's row (PyTorch's module names).
fn aliases() -> impl Iterator<Item = (&'static str, &'static str)> {
    rows().flat_map(|row| {
        row.act2fn
            .iter()
            .chain(row.aliases)
            .map(move |alias| (*alias, row.name))
    })
}

/// The `count` known names (canonical and aliases) closest to `name` in
/// edit distance, closest first.
fn closest_names(name: &str, count: usize) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Activation::ALL
        .iter()
        .map(|a| a.name())
        .chain(aliases().map(|(alias, _)| alias))
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
        let name = aliases()
            .find(|(alias, _)| *alias == name)
            .map_or(name.clone(), |(_, canonical)| canonical.to_string());
        let names = row_named(&name).map(|row| row.params).ok_or_else(|| {
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
