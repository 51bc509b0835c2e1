//! The catalogue of activations and their parameters.

use crate::Error;

/// An element-wise activation function, with its parameters.
///
/// Semantics follow PyTorch's `torch.nn` activations (see `SEMANTICS.md`):
/// same formulas, defaults, derivative at kinks and signed zeros.
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
        /// Slope for `x <= 0` (PyTorch default 0.01).
        negative_slope: f32,
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

impl Activation {
    /// One instance of every kind, with PyTorch's default parameters.
    pub const ALL: &'static [Activation] = &[
        Activation::Sigmoid,
        Activation::Tanh,
        Activation::Relu,
        Activation::leaky_relu(),
    ];

    /// `LeakyRelu` with PyTorch's default `negative_slope = 0.01`.
    pub const fn leaky_relu() -> Activation {
        Activation::LeakyRelu {
            negative_slope: 0.01,
        }
    }

    /// PyTorch's functional name (`"sigmoid"`, `"leaky_relu"`, ...); also the
    /// prefix of the op's WGSL functions (`<name>_forward`, `<name>_derivative`).
    pub fn name(&self) -> &'static str {
        match self {
            Activation::Sigmoid => "sigmoid",
            Activation::Tanh => "tanh",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
        }
    }

    /// True for piecewise-linear ops, whose results are bit-exact.
    pub fn is_piecewise_linear(&self) -> bool {
        matches!(self, Activation::Relu | Activation::LeakyRelu { .. })
    }

    /// The parameters as `(name, value)` pairs, in the order the WGSL
    /// functions take them.
    pub fn params(&self) -> Vec<(&'static str, f32)> {
        match *self {
            Activation::Sigmoid | Activation::Tanh | Activation::Relu => Vec::new(),
            Activation::LeakyRelu { negative_slope } => vec![("negative_slope", negative_slope)],
        }
    }

    /// Checks the parameters: every one must be finite.
    pub fn validate(&self) -> Result<(), Error> {
        for (parameter, value) in self.params() {
            if !value.is_finite() {
                return Err(Error::InvalidParameter {
                    activation: self.name(),
                    parameter,
                    value,
                    reason: "must be finite",
                });
            }
        }
        Ok(())
    }

    /// The parameters packed for the kernel's uniform (`param.x`, `.y`, ...).
    pub(crate) fn packed_params(&self) -> [f32; 4] {
        let mut packed = [0.0; 4];
        for (slot, (_, value)) in packed.iter_mut().zip(self.params()) {
            *slot = value;
        }
        packed
    }
}
