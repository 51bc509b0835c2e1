//! Row-wise activations: softmax, log-softmax and softmin over the last
//! dimension of a row-major `[rows, cols]` tensor, and their backward from
//! the forward's output (`shaders/rowwise.wgsl`).

use std::fmt;

use crate::families::{FamilyDispatch, FamilyPipelines, Plan, module_name};
use crate::{BufferRegion, Error, Mode, Precision, WithPrecision};

/// A row-wise activation.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RowOp {
    /// `e^(x_i - max) / sum_j e^(x_j - max)`.
    Softmax,
    /// `x_i - max - log(sum_j e^(x_j - max))`.
    LogSoftmax,
    /// `softmax(-x)`.
    Softmin,
}

/// The one table of row-wise ops: op, name, negated input, log result.
const TABLE: [(RowOp, &str, bool, bool); 3] = [
    (RowOp::Softmax, "softmax", false, false),
    (RowOp::LogSoftmax, "log_softmax", false, true),
    (RowOp::Softmin, "softmin", true, false),
];

impl RowOp {
    /// Every row-wise op.
    pub const ALL: [RowOp; 3] = [TABLE[0].0, TABLE[1].0, TABLE[2].0];

    fn row(self) -> &'static (RowOp, &'static str, bool, bool) {
        TABLE
            .iter()
            .find(|(op, ..)| *op == self)
            .expect("every op has a row in TABLE")
    }

    /// PyTorch's functional name: `"softmax"`, `"log_softmax"`, `"softmin"`.
    pub fn name(self) -> &'static str {
        self.row().1
    }

    /// The op works on `-x` (softmin).
    pub fn negates(self) -> bool {
        self.row().2
    }

    /// The result is a logarithm (log-softmax).
    pub fn is_log(self) -> bool {
        self.row().3
    }
}

impl fmt::Display for RowOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// On GPUs, rows of at most this many columns run one invocation per row
/// (the `_short` kernels); longer rows one workgroup per row.
pub const SHORT_ROW: usize = 32;

/// On CPU adapters (lavapipe, llvmpipe, WARP, SwiftShader), where a
/// workgroup barrier is expensive, rows of up to this many columns run one
/// invocation per row (measured on lavapipe, 2^24 elements in rows of 1024:
/// softmax 552 -> 104 ms, its backward 286 -> 96 ms).
pub const SHORT_ROW_CPU: usize = 4096;

/// The module of the row-wise kernels: the function library,
/// `shaders/family.wgsl`, the template and an entry point per op, direction
/// and row shape.
pub fn rowwise_module() -> String {
    rowwise_module_with(false, Precision::Precise)
}

/// [`rowwise_module`] with its reductions on subgroup operations, for wgpu
/// devices with `Features::SUBGROUP` (naga takes subgroup built-ins without
/// `enable subgroups;`, and rejects that directive; a browser's WebGPU would
/// need it first).
pub fn rowwise_module_subgroups() -> String {
    rowwise_module_with(true, Precision::Precise)
}

/// [`rowwise_module`] (or [`rowwise_module_subgroups`]) at `precision`.
pub(crate) fn rowwise_module_with(subgroups: bool, precision: Precision) -> String {
    let (lane_params, lane, reductions) = if subgroups {
        (
            ", @builtin(subgroup_invocation_id) sub: u32, @builtin(subgroup_size) sub_size: u32",
            "Lane(local, sub, sub_size)",
            include_str!("../../shaders/rowwise_subgroups.wgsl"),
        )
    } else {
        (
            "",
            "Lane(local, 0u, 1u)",
            include_str!("../../shaders/rowwise_tree.wgsl"),
        )
    };
    let mut entries = String::new();
    for (_, name, negate, log) in TABLE {
        for (suffix, body) in [("", "forward"), ("_backward", "backward")] {
            entries.push_str(&format!(
                "@compute @workgroup_size(WORKGROUP_SIZE)\n\
                 fn {name}{suffix}(@builtin(workgroup_id) workgroup: vec3<u32>, \
                 @builtin(num_workgroups) workgroups: vec3<u32>, \
                 @builtin(local_invocation_index) local: u32{lane_params}) {{\n    \
                 let row = workgroup_index(workgroup, workgroups);\n    \
                 if row < dispatch.rows {{\n        {body}_row(row, {lane}, {negate}, {log});\n    }}\n}}\n\n\
                 @compute @workgroup_size(WORKGROUP_SIZE)\n\
                 fn {name}{suffix}_short(@builtin(workgroup_id) workgroup: vec3<u32>, \
                 @builtin(num_workgroups) workgroups: vec3<u32>, \
                 @builtin(local_invocation_index) local: u32) {{\n    \
                 let row = element(workgroup, workgroups, local);\n    \
                 if row < dispatch.rows {{\n        {body}_short(row, {negate}, {log});\n    }}\n}}\n\n"
            ));
        }
    }
    let template = include_str!("../../shaders/rowwise.wgsl")
        .replace("{{REDUCTIONS}}", reductions)
        .replace("{{ENTRY_POINTS}}", &entries);
    crate::families::compose(&template, precision)
}

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

/// The longest row: one workgroup walks a row in strides of 256, and Mesa's
/// llvmpipe (lavapipe and GL) cuts every shader loop off after about 65,535
/// iterations without a word (65,280 run in full, 65,535 do not), so
/// longer rows would silently lose their tail there.
pub const MAX_COLS: usize = 65_000 * 256;

/// Rows of a `[rows, cols]` tensor of `len` elements, after the checks.
pub(crate) fn rows_of(len: usize, cols: usize) -> Result<usize, Error> {
    if cols > MAX_COLS {
        return Err(Error::ShapeMismatch {
            what: "cols",
            detail: format!("rows of {cols} columns: at most {MAX_COLS} are supported"),
        });
    }
    if cols == 0 {
        return Err(Error::ShapeMismatch {
            what: "cols",
            detail: "a row needs at least one column".into(),
        });
    }
    if !len.is_multiple_of(cols) {
        return Err(Error::ShapeMismatch {
            what: "x",
            detail: format!("{len} elements are not whole rows of {cols}"),
        });
    }
    if u32::try_from(cols).is_err() || u32::try_from(len).is_err() {
        return Err(Error::ShapeMismatch {
            what: "x",
            detail: format!("{len} elements in rows of {cols}: more than u32 can index"),
        });
    }
    Ok(len / cols)
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
