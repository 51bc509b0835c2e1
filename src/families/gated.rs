//! Gated activations (the GLU family): `value * act(gate)` and its backward
//! `(d_value, d_gate) = (dy act(gate), dy value act'(gate))`, over separate
//! value and gate tensors or over packed rows `[value | gate]` (PyTorch's
//! `GLU(dim=-1)` order; the fused gate/up projection of LLaMA-style MLPs).
//! The gate activations are the unary ops' own WGSL functions.

use std::fmt;
use std::str::FromStr;

use crate::families::{FamilyDispatch, FamilyPipelines, Plan, module_name};
use crate::{Activation, BufferRegion, Error, Mode, Precision, WithPrecision, wgsl};

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

/// The gated kernels for one device: the lower layer, recording into the
/// caller's encoder over the caller's buffers (as [`crate::Kernels`] does
/// for the unary ops). Every check happens before anything is recorded.
pub struct GatedKernels {
    pipelines: FamilyPipelines,
}

impl fmt::Debug for GatedKernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatedKernels")
            .field("pipelines", &self.pipelines.count())
            .finish()
    }
}

/// The module of `kind`: the function library, `shaders/family.wgsl` and
/// `shaders/gated.wgsl`.
pub fn gated_module(kind: Gated) -> String {
    gated_module_with(kind, Precision::Precise)
}

/// [`gated_module`] at `precision`.
pub(crate) fn gated_module_with(kind: Gated, precision: Precision) -> String {
    let gate = kind.gate();
    let call = |suffix: &str| format!("wa_{}_{suffix}(b)", gate.name());
    let scaled = |direction: &str| {
        if wgsl::has_scaled(&gate, direction) {
            call(&format!("{direction}_scaled"))
        } else {
            format!("vec2<f32>({}, 1.0)", call(direction))
        }
    };
    let template = include_str!("../../shaders/gated.wgsl")
        .replace("{{GATE_FORWARD}}", &scaled("forward"))
        .replace("{{GATE_DERIVATIVE}}", &scaled("derivative"));
    crate::families::compose(&template, precision)
}

impl GatedKernels {
    /// Gated kernels for `device` (compiled on first use).
    pub fn new(device: &wgpu::Device) -> Self {
        GatedKernels {
            pipelines: FamilyPipelines::new(device, "gated"),
        }
    }

    /// These kernels recording at `precision` instead of each dtype's
    /// default ([`Precision::default_for`]): the same four `record_...`
    /// methods.
    pub fn with_precision(&self, precision: Precision) -> WithPrecision<'_, GatedKernels> {
        WithPrecision {
            kernels: self,
            precision,
        }
    }

    /// `output = value * act(gate)`; all regions of one length. At the
    /// data's default [`Precision`] ([`GatedKernels::with_precision`] picks
    /// another), as every `record_...` here.
    pub fn record_forward(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kind: Gated,
        value: BufferRegion<'_>,
        gate: BufferRegion<'_>,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let tier = self.with_precision(Precision::default_for(output.dtype));
        tier.record_forward(encoder, kind, value, gate, output)
    }

    fn forward_at(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        (kind, precision): (Gated, Precision),
        value: BufferRegion<'_>,
        gate: BufferRegion<'_>,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        Error::check_len("gate", value.len, gate.len)?;
        Error::check_len("output", value.len, output.len)?;
        let p = &self.pipelines;
        p.check_call(
            Mode::Forward,
            &[("output", &output)],
            &[("value", &value), ("gate", &gate)],
        )?;
        if value.len == 0 {
            return Ok(());
        }
        let bindings = [(1, &value), (2, &gate), (4, &output)];
        p.run(
            encoder,
            &plan(kind, precision, "forward", value.len, 0),
            &bindings,
        )
    }

    /// `d_value = grad_output * act(gate)`, `d_gate = grad_output * value *
    /// act'(gate)` in one pass; all regions of one length.
    #[allow(clippy::too_many_arguments)]
    pub fn record_backward(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kind: Gated,
        value: BufferRegion<'_>,
        gate: BufferRegion<'_>,
        grad_output: BufferRegion<'_>,
        d_value: BufferRegion<'_>,
        d_gate: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let tier = self.with_precision(Precision::default_for(value.dtype));
        tier.record_backward(encoder, kind, value, gate, grad_output, d_value, d_gate)
    }

    #[allow(clippy::too_many_arguments)]
    fn backward_at(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        (kind, precision): (Gated, Precision),
        value: BufferRegion<'_>,
        gate: BufferRegion<'_>,
        grad_output: BufferRegion<'_>,
        d_value: BufferRegion<'_>,
        d_gate: BufferRegion<'_>,
    ) -> Result<(), Error> {
        for (what, region) in [
            ("gate", &gate),
            ("grad_output", &grad_output),
            ("d_value", &d_value),
            ("d_gate", &d_gate),
        ] {
            Error::check_len(what, value.len, region.len)?;
        }
        let p = &self.pipelines;
        p.check_call(
            Mode::Backward,
            &[("d_value", &d_value), ("d_gate", &d_gate)],
            &[
                ("value", &value),
                ("gate", &gate),
                ("grad_output", &grad_output),
            ],
        )?;
        if value.len == 0 {
            return Ok(());
        }
        let bindings = [
            (1, &value),
            (2, &gate),
            (3, &grad_output),
            (4, &d_value),
            (5, &d_gate),
        ];
        p.run(
            encoder,
            &plan(kind, precision, "backward", value.len, 0),
            &bindings,
        )
    }

    /// `x` is `[rows, row_len]` with `row_len = 2d`, each row `[value |
    /// gate]`; `output` is `[rows, d]`, `value * act(gate)`.
    pub fn record_forward_packed(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kind: Gated,
        x: BufferRegion<'_>,
        row_len: usize,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let tier = self.with_precision(Precision::default_for(x.dtype));
        tier.record_forward_packed(encoder, kind, x, row_len, output)
    }

    fn forward_packed_at(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        (kind, precision): (Gated, Precision),
        x: BufferRegion<'_>,
        row_len: usize,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let half = packed_half(x.len, row_len)?;
        Error::check_len("output", x.len / 2, output.len)?;
        let p = &self.pipelines;
        p.check_call(Mode::Forward, &[("output", &output)], &[("x", &x)])?;
        if output.len == 0 {
            return Ok(());
        }
        let plan = plan(kind, precision, "forward_packed", output.len, half);
        p.run(encoder, &plan, &[(1, &x), (4, &output)])
    }

    /// The backward of [`GatedKernels::record_forward_packed`]: `grad_output`
    /// is `[rows, d]`, `dx` is `[rows, row_len]`, each row `[d_value | d_gate]`.
    pub fn record_backward_packed(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kind: Gated,
        x: BufferRegion<'_>,
        row_len: usize,
        grad_output: BufferRegion<'_>,
        dx: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let tier = self.with_precision(Precision::default_for(x.dtype));
        tier.record_backward_packed(encoder, kind, x, row_len, grad_output, dx)
    }

    fn backward_packed_at(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        (kind, precision): (Gated, Precision),
        x: BufferRegion<'_>,
        row_len: usize,
        grad_output: BufferRegion<'_>,
        dx: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let half = packed_half(x.len, row_len)?;
        Error::check_len("grad_output", x.len / 2, grad_output.len)?;
        Error::check_len("dx", x.len, dx.len)?;
        let p = &self.pipelines;
        p.check_call(
            Mode::Backward,
            &[("dx", &dx)],
            &[("x", &x), ("grad_output", &grad_output)],
        )?;
        if grad_output.len == 0 {
            return Ok(());
        }
        let plan = plan(kind, precision, "backward_packed", grad_output.len, half);
        p.run(encoder, &plan, &[(1, &x), (3, &grad_output), (4, &dx)])
    }
}

impl WithPrecision<'_, GatedKernels> {
    /// [`GatedKernels::record_forward`] at this tier.
    pub fn record_forward(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kind: Gated,
        value: BufferRegion<'_>,
        gate: BufferRegion<'_>,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let at = (kind, self.precision);
        self.kernels.forward_at(encoder, at, value, gate, output)
    }

    /// [`GatedKernels::record_backward`] at this tier.
    #[allow(clippy::too_many_arguments)]
    pub fn record_backward(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kind: Gated,
        value: BufferRegion<'_>,
        gate: BufferRegion<'_>,
        grad_output: BufferRegion<'_>,
        d_value: BufferRegion<'_>,
        d_gate: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let at = (kind, self.precision);
        self.kernels
            .backward_at(encoder, at, value, gate, grad_output, d_value, d_gate)
    }

    /// [`GatedKernels::record_forward_packed`] at this tier.
    pub fn record_forward_packed(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kind: Gated,
        x: BufferRegion<'_>,
        row_len: usize,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let at = (kind, self.precision);
        self.kernels
            .forward_packed_at(encoder, at, x, row_len, output)
    }

    /// [`GatedKernels::record_backward_packed`] at this tier.
    pub fn record_backward_packed(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        kind: Gated,
        x: BufferRegion<'_>,
        row_len: usize,
        grad_output: BufferRegion<'_>,
        dx: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let at = (kind, self.precision);
        self.kernels
            .backward_packed_at(encoder, at, x, row_len, grad_output, dx)
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

/// The dispatch of `entry` over `len` results (`half` a packed row). Packed
/// rows whose halves hold 256 or more values run on a 3-D grid (`_rows`
/// entry points: x the pieces of a half row, y and z the row), the others
/// one element per invocation.
pub(crate) fn plan(kind: Gated, precision: Precision, entry: &str, len: usize, half: u32) -> Plan {
    let packed = entry.ends_with("_packed");
    let pieces = u64::from(half).div_ceil(256);
    let rows = (len as u64).checked_div(u64::from(half)).unwrap_or(0);
    let grid = (packed && half >= 256 && pieces <= 65_535 && rows <= 65_535 * 65_535).then(|| {
        [
            pieces as u32,
            rows.min(65_535) as u32,
            rows.div_ceil(65_535) as u32,
        ]
    });
    Plan {
        module: module_name(kind.name(), precision),
        entry: if grid.is_some() {
            format!("{entry}_rows")
        } else {
            entry.to_string()
        },
        data: FamilyDispatch {
            counts: [len as u32, half, 0, 0],
            param: [0.0; 4],
        },
        groups: match grid {
            Some([x, y, z]) => u64::from(x) * u64::from(y) * u64::from(z),
            None => (len as u64).div_ceil(256),
        },
        grid,
    }
}
