//! Row-wise activations: softmax, log-softmax and softmin over the last
//! dimension of a row-major `[rows, cols]` tensor, and their backward from
//! the forward's output (`shaders/rowwise.wgsl`). The ops and the row
//! check are `crate::catalogue::rowwise`'s, the WGSL
//! `crate::wgsl::rowwise_module`'s.

use std::fmt;

use crate::catalogue::rowwise::rows_of;
use crate::families::{FamilyDispatch, FamilyPipelines, Plan};
use crate::wgsl::families::module_name;
use crate::wgsl::{SHORT_ROW, SHORT_ROW_CPU};
use crate::{BufferRegion, Error, Mode, Precision, RowOp, WithPrecision};

/// The dispatch of `op` (its backward) over `rows` rows of `cols` columns:
/// one invocation per row up to `short_row_limit` columns (and llvmpipe's
/// loop limit), one workgroup per row beyond.
pub(crate) fn plan(
    op: RowOp,
    precision: Precision,
    backward: bool,
    rows: usize,
    cols: usize,
    short_row_limit: usize,
    subgroups: bool,
) -> Plan {
    // (A row walked by one invocation must stay inside llvmpipe's loop
    // limit too.)
    let short = cols <= short_row_limit.min(65_000);
    Plan {
        module: module_name(
            if subgroups && !short {
                "rowwise_subgroups"
            } else {
                "rowwise"
            },
            precision,
        ),
        entry: entry(op, backward, short),
        data: FamilyDispatch {
            counts: [rows as u32, cols as u32, 0, 0],
            param: [0.0; 4],
        },
        groups: if short {
            (rows as u64).div_ceil(256)
        } else {
            rows as u64
        },
        grid: None,
    }
}

/// The entry point: `<name>[_backward][_short]`.
fn entry(op: RowOp, backward: bool, short: bool) -> String {
    let direction = if backward { "_backward" } else { "" };
    let shape = if short { "_short" } else { "" };
    format!("{}{direction}{shape}", op.name())
}

/// The row-wise kernels for one device: the lower layer (record into the
/// caller's encoder over the caller's buffers). Every check happens before
/// anything is recorded.
pub struct RowKernels {
    pipelines: FamilyPipelines,
    short_row_limit: usize,
    subgroups: bool,
}

impl fmt::Debug for RowKernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RowKernels")
            .field("pipelines", &self.pipelines.count())
            .field("short_row_limit", &self.short_row_limit)
            .field("subgroups", &self.subgroups)
            .finish()
    }
}

impl RowKernels {
    /// Row-wise kernels for `device` (compiled on first use): rows of up to
    /// [`SHORT_ROW`] columns one invocation per row, [`SHORT_ROW_CPU`] on
    /// CPU adapters.
    pub fn new(device: &wgpu::Device) -> Self {
        let cpu = device.adapter_info().device_type == wgpu::DeviceType::Cpu;
        Self::with_short_row_limit(device, if cpu { SHORT_ROW_CPU } else { SHORT_ROW })
    }

    /// Row-wise kernels that run rows of up to `limit` columns one
    /// invocation per row and longer ones one workgroup per row (0: always
    /// a workgroup), with subgroup reductions where the device has
    /// `Features::SUBGROUP`. The results agree within the bounds either way.
    pub fn with_short_row_limit(device: &wgpu::Device, limit: usize) -> Self {
        let subgroups = device.features().contains(wgpu::Features::SUBGROUP);
        Self::with_shape(device, limit, subgroups)
    }

    /// [`RowKernels::with_short_row_limit`], and the workgroup reductions on
    /// subgroup operations or not (`subgroups` is ignored where the device
    /// lacks `Features::SUBGROUP`).
    pub fn with_shape(device: &wgpu::Device, limit: usize, subgroups: bool) -> Self {
        RowKernels {
            pipelines: FamilyPipelines::new(device, "rowwise"),
            short_row_limit: limit,
            subgroups: subgroups && device.features().contains(wgpu::Features::SUBGROUP),
        }
    }

    /// Whether the workgroup reductions use subgroup operations.
    pub fn uses_subgroups(&self) -> bool {
        self.subgroups
    }

    /// These kernels recording at `precision` instead of each dtype's
    /// default ([`Precision::default_for`]): the same `record_forward` and
    /// `record_backward`.
    pub fn with_precision(&self, precision: Precision) -> WithPrecision<'_, RowKernels> {
        WithPrecision {
            kernels: self,
            precision,
        }
    }

    fn record(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        op: RowOp,
        precision: Option<Precision>,
        cols: usize,
        (input, grad_output, output): (
            BufferRegion<'_>,
            Option<BufferRegion<'_>>,
            BufferRegion<'_>,
        ),
    ) -> Result<(), Error> {
        let rows = rows_of(input.len, cols)?;
        Error::check_len("output", input.len, output.len)?;
        let p = &self.pipelines;
        let mut read = vec![("input", &input)];
        if let Some(grad) = &grad_output {
            Error::check_len("grad_output", input.len, grad.len)?;
            read.push(("grad_output", grad));
        }
        let mode = if grad_output.is_some() {
            Mode::Backward
        } else {
            Mode::Forward
        };
        p.check_call(mode, &[("output", &output)], &read)?;
        if rows == 0 {
            return Ok(());
        }
        let precision = precision.unwrap_or_else(|| Precision::default_for(output.dtype));
        let plan = plan(
            op,
            precision,
            grad_output.is_some(),
            rows,
            cols,
            self.short_row_limit,
            self.subgroups,
        );
        let mut bindings = vec![(1, &input), (3, &output)];
        if let Some(grad) = &grad_output {
            bindings.push((2, grad));
        }
        p.run(encoder, &plan, &bindings)
    }

    /// `output = op(x)` over each row of `cols` columns.
    pub fn record_forward(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        op: RowOp,
        x: BufferRegion<'_>,
        cols: usize,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        self.record(encoder, op, None, cols, (x, None, output))
    }

    /// The backward from the forward's output `y` (log-softmax: its
    /// output): softmax `dx = y (dy - sum(dy y))`, log-softmax
    /// `dx = dy - e^y sum(dy)`, softmin `dx = -y (dy - sum(dy y))`.
    pub fn record_backward(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        op: RowOp,
        y: BufferRegion<'_>,
        grad_output: BufferRegion<'_>,
        cols: usize,
        dx: BufferRegion<'_>,
    ) -> Result<(), Error> {
        self.record(encoder, op, None, cols, (y, Some(grad_output), dx))
    }
}

impl WithPrecision<'_, RowKernels> {
    /// [`RowKernels::record_forward`] at this tier.
    pub fn record_forward(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        op: RowOp,
        x: BufferRegion<'_>,
        cols: usize,
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let precision = Some(self.precision);
        self.kernels
            .record(encoder, op, precision, cols, (x, None, output))
    }

    /// [`RowKernels::record_backward`] at this tier.
    pub fn record_backward(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        op: RowOp,
        y: BufferRegion<'_>,
        grad_output: BufferRegion<'_>,
        cols: usize,
        dx: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let precision = Some(self.precision);
        self.kernels
            .record(encoder, op, precision, cols, (y, Some(grad_output), dx))
    }
}
