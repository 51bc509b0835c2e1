//! The gated kinds (the GLU family): which activation gates the value, their
//! names, and the shape of packed rows `[value | gate]`. The kernels are
//! `crate::families::gated`'s, their WGSL `crate::wgsl::gated_module`'s.

use std::fmt;
use std::str::FromStr;

use crate::{Activation, Error};

/// A gated activation: `value * act(gate)`.
///
/// ```
/// use wgpu_activations::{Context, Gated};
///
/// let ctx = Context::new()?;
/// let y = ctx.gated_forward(Gated::Swiglu, &[1.0, 2.0], &[0.5, -1.0])?; // value * silu(gate)
/// let (d_value, d_gate) = ctx.gated_backward(Gated::Swiglu, &[1.0, 2.0], &[0.5, -1.0], &[1.0, 1.0])?;
/// let packed = ctx.gated_forward_packed("geglu".parse()?, &[1.0, 2.0, 0.5, -1.0], 4)?; // one row [a a | b b]
/// # let _ = (y, d_value, d_gate, packed);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Gated {
    /// `a * sigmoid(b)` (PyTorch `GLU`).
    Glu,
    /// `a * silu(b)` (LLaMA's MLP).
    Swiglu,
    /// `a * gelu(b)`, GELU with erf (T5, PaLM).
    Geglu,
    /// `a * gelu_tanh(b)`, the tanh approximation of GELU.
    GegluTanh,
    /// `a * relu(b)`.
    Reglu,
}

/// The one table of gated kinds: kind, name, gate activation. A new kind is
/// one row here (and a variant above).
const TABLE: [(Gated, &str, Activation); 5] = [
    (Gated::Glu, "glu", Activation::Sigmoid),
    (Gated::Swiglu, "swiglu", Activation::Silu),
    (Gated::Geglu, "geglu", Activation::Gelu),
    (Gated::GegluTanh, "geglu_tanh", Activation::GeluTanh),
    (Gated::Reglu, "reglu", Activation::Relu),
];

impl Gated {
    /// Every gated kind.
    pub const ALL: [Gated; 5] = [TABLE[0].0, TABLE[1].0, TABLE[2].0, TABLE[3].0, TABLE[4].0];

    fn row(self) -> &'static (Gated, &'static str, Activation) {
        TABLE
            .iter()
            .find(|(kind, _, _)| *kind == self)
            .expect("every kind has a row in TABLE")
    }

    /// The name: `"glu"`, `"swiglu"`, `"geglu"`, `"geglu_tanh"`, `"reglu"`.
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// The activation applied to the gate.
    pub fn gate(self) -> Activation {
        self.row().2
    }
}

impl fmt::Display for Gated {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is no gated kind (the message lists the known ones).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown gated activation {0:?}: expected one of glu, swiglu, geglu, geglu_tanh, reglu")]
pub struct ParseGatedError(pub String);

impl FromStr for Gated {
    type Err = ParseGatedError;

    /// Parses a name as [`Gated::name`] gives it (case-insensitive; `-` for
    /// `_`; `geglu-tanh` too).
    fn from_str(s: &str) -> Result<Gated, ParseGatedError> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        TABLE
            .iter()
            .find(|(_, name, _)| *name == wanted)
            .map(|(kind, _, _)| *kind)
            .ok_or_else(|| ParseGatedError(s.to_string()))
    }
}

/// Half a packed row, after checking that `len` elements are whole rows of
/// an even `row_len`.
pub(crate) fn packed_half(len: usize, row_len: usize) -> Result<u32, Error> {
    if row_len == 0 || !row_len.is_multiple_of(2) {
        return Err(Error::ShapeMismatch {
            what: "row_len",
            detail: format!("{row_len} is not a positive even number (rows are [value | gate])"),
        });
    }
    if !len.is_multiple_of(row_len) {
        return Err(Error::ShapeMismatch {
            what: "x",
            detail: format!("{len} elements are not whole rows of {row_len}"),
        });
    }
    u32::try_from(row_len / 2).map_err(|_| Error::ShapeMismatch {
        what: "row_len",
        detail: format!("{row_len} is too long for one row"),
    })
}
