//! Burn modules for model ports: an activation or a gated unit named by a
//! string, as a Hugging Face config names it (`hidden_act = "quick_gelu"`).

use burn::module::Module;
use burn::tensor::Tensor;

use crate::{Activation, Error, Gated, Precision};

/// What an [`ActivationLayer`] is built from: an activation string
/// (PyTorch's functional name with optional parameters, `"leaky_relu(0.2)"`,
/// or any key of Hugging Face's `ACT2FN`, `"gelu_new"`, `"quick_gelu"`) and
/// an optional precision tier.
#[derive(Clone, Debug, PartialEq)]
pub struct ActivationConfig {
    /// The activation string.
    pub name: String,
    /// The tier; `None` for the data's default (`Precise` for f32, `Fast`
    /// for f16 and bf16).
    pub precision: Option<Precision>,
}

impl ActivationConfig {
    /// A config for `name` at the data's default precision.
    pub fn new(name: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            precision: None,
        }
    }

    /// The same config at `precision`.
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.precision = Some(precision);
        self
    }

    /// The layer; an error if the name does not parse or a parameter is out
    /// of its domain.
    pub fn init(&self) -> Result<ActivationLayer, Error> {
        let act: Activation = self.name.parse()?;
        act.validate()?;
        Ok(ActivationLayer {
            act,
            precision: self.precision,
        })
    }
}

/// An element-wise activation as a Burn [`Module`] without parameters: its
/// forward is [`crate::activation`] (differentiable through this crate's
/// backward kernel). Saved records hold nothing of it; build it again from
/// the model's config.
#[derive(Module, Debug)]
pub struct ActivationLayer {
    #[module(skip)]
    act: Activation,
    #[module(skip)]
    precision: Option<Precision>,
}

impl ActivationLayer {
    /// The layer named by `name` (see [`ActivationConfig`]), e.g.
    /// `ActivationLayer::from_config("quick_gelu")`.
    pub fn from_config(name: &str) -> Result<ActivationLayer, Error> {
        ActivationConfig::new(name).init()
    }

    /// The layer for `act`.
    pub fn new(act: Activation) -> Result<ActivationLayer, Error> {
        act.validate()?;
        Ok(ActivationLayer {
            act,
            precision: None,
        })
    }

    /// Its activation.
    pub fn activation(&self) -> Activation {
        self.act
    }

    /// `act(x)`; an [`Error`] for a tensor off a registered wgpu device or
    /// of a type the kernels do not compute.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>, Error> {
        crate::unary(x, self.act, crate::Mode::Forward, self.precision)
    }
}

/// A gated linear unit's activation as a Burn [`Module`] without
/// parameters: splits its input in halves along `dim` (value, then gate)
/// and returns `value * act(gate)`, as PyTorch's `F.glu` and the GEGLU /
/// SwiGLU blocks of transformer MLPs do.
#[derive(Module, Debug)]
pub struct GatedLayer {
    #[module(skip)]
    kind: Gated,
    #[module(skip)]
    dim: usize,
}

impl GatedLayer {
    /// The layer named `name` (`"glu"`, `"swiglu"`, `"geglu"`,
    /// `"geglu_tanh"`, `"reglu"`), splitting along `dim`.
    pub fn from_config(name: &str, dim: usize) -> Result<GatedLayer, Error> {
        Ok(GatedLayer {
            kind: name.parse()?,
            dim,
        })
    }

    /// `value * act(gate)` of `x`'s halves along the layer's dimension.
    pub fn forward<const D: usize>(&self, x: Tensor<D>) -> Result<Tensor<D>, Error> {
        crate::glu(x, self.dim, self.kind)
    }
}
