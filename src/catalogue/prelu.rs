//! The shapes PReLU (learned slopes, one per channel of `[n, c, inner]` or
//! one shared) and RReLU in training accept, checked alike on every path
//! (wgpu, browser, CPU reference). The kernels are `crate::families::prelu`'s,
//! their WGSL `crate::wgsl::prelu_module`'s.

use crate::{Activation, Error};

/// The most elements that share one slope (n times inner, or everything for
/// one shared slope): one workgroup sums a slope's gradient in strides of
/// 256, and Mesa's llvmpipe (lavapipe and GL) cuts every shader loop off
/// after about 65,535 iterations without a word (nested loops too: it
/// counts a loop's iterations over the whole invocation; measured here:
/// 65,280 iterations run in full, 65,535 lose terms), so more would lose
/// terms there.
pub const MAX_PER_CHANNEL: usize = 65_000 * 256;

/// (channels with a slope of their own, elements per (n, channel) block)
/// for `len` elements of `shape = [n, c, inner]` and `slopes` slopes (`c`,
/// or 1 shared by every channel).
pub(crate) fn prelu_layout(
    len: usize,
    slopes: usize,
    [n, c, inner]: [usize; 3],
) -> Result<(u32, u32), Error> {
    let elements = n.checked_mul(c).and_then(|v| v.checked_mul(inner));
    if elements != Some(len) {
        return Err(Error::ShapeMismatch {
            what: "x",
            detail: format!("{len} elements do not fill the shape [{n}, {c}, {inner}]"),
        });
    }
    if slopes != c && slopes != 1 {
        return Err(Error::ShapeMismatch {
            what: "slopes",
            detail: format!("{slopes} slopes for {c} channels: give one per channel, or one"),
        });
    }
    check_indexable(len)?;
    // One shared slope: a single channel spanning [c, inner].
    // (An empty x may have a shape whose c * inner overflows: found by the
    // fuzzer; its layout is never used, so it saturates.)
    let (channels, inner) = if slopes == c {
        (c, inner)
    } else {
        (1, c.saturating_mul(inner))
    };
    let per_channel = len.checked_div(channels).unwrap_or(0);
    if per_channel > MAX_PER_CHANNEL {
        return Err(Error::ShapeMismatch {
            what: "x",
            detail: format!(
                "{per_channel} elements share one slope: at most {MAX_PER_CHANNEL} are supported"
            ),
        });
    }
    let to_u32 = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    Ok((to_u32(channels), to_u32(inner.max(1))))
}

/// Fails with [`Error::ShapeMismatch`] where `len` elements cannot be
/// indexed by a u32 (the kernels' element index).
fn check_indexable(len: usize) -> Result<(), Error> {
    u32::try_from(len)
        .map(|_| ())
        .map_err(|_| Error::ShapeMismatch {
            what: "x",
            detail: format!("{len} elements: more than u32 can index"),
        })
}

/// The checks of RReLU in training on every path (wgpu, browser, CPU):
/// `lower <= upper`, both finite ([`Error::InvalidParameter`]), and `len`
/// elements a u32 can index (the generator's counter).
pub(crate) fn check_rrelu_train(len: usize, lower: f32, upper: f32) -> Result<(), Error> {
    Activation::Rrelu { lower, upper }.validate()?;
    // The drawn slope is lower + (upper - lower) u in f32: a range that
    // overflows f32 (found by the fuzzer: -3e38, 3e38) would draw infinite
    // slopes.
    if !(upper - lower).is_finite() {
        return Err(Error::InvalidParameter {
            activation: "rrelu",
            parameter: "upper",
            value: upper,
            reason: "upper - lower must be finite in f32 (the slopes are drawn from lower + (upper - lower) u)",
        });
    }
    check_indexable(len)
}
