//! The row-wise ops (softmax, log-softmax, softmin over the last dimension
//! of a row-major `[rows, cols]` tensor) and the row shapes they accept.
//! The kernels are `crate::families::rowwise`'s, their WGSL
//! `crate::wgsl::rowwise_module`'s.

use std::fmt;

use crate::Error;

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
