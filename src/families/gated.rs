//! Gated activations (the GLU family): `value * act(gate)` and its backward
//! `(d_value, d_gate) = (dy act(gate), dy value act'(gate))`, over separate
//! value and gate tensors or over packed rows `[value | gate]` (PyTorch's
//! `GLU(dim=-1)` order; the fused gate/up projection of LLaMA-style MLPs).
//! The gate activations are the unary ops' own WGSL functions. The kinds
//! and the packed-row check are `crate::catalogue::gated`'s, the WGSL
//! `crate::wgsl::gated_module`'s.

use std::fmt;

use crate::catalogue::gated::packed_half;
use crate::families::{FamilyDispatch, FamilyPipelines, Plan};
use crate::wgsl::families::module_name;
use crate::{BufferRegion, Error, Gated, Mode, Precision, WithPrecision};

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
