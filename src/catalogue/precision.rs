//! Precision tiers: the same ops, the same rules, two points on the
//! accuracy/speed curve (as Metal's `precise::` and `fast::`, SLEEF's u10 and
//! u35, Intel VML's HA and LA).

use std::fmt;
use std::str::FromStr;

use crate::Dtype;

/// How accurately the smooth ops compute, and so how fast.
///
/// Both tiers keep every rule of SEMANTICS.md: NaN in gives NaN out, the
/// mathematical limit at +-inf, the signed zeros PyTorch returns, no
/// overflow of an intermediate for a finite input, subnormals handled as
/// tiny values. The piecewise-linear ops (and ReLU², Identity) are exact in
/// both. The tiers differ in the smooth ops' error bounds, in scaled ULPs
/// (ULPs over `1 + kappa`, kappa the condition number, see `docs/accuracy.md`):
///
/// | tier | forward | derivative | backward | 16-bit results |
/// |---|--:|--:|--:|---|
/// | [`Precision::Precise`] | 2 | 4 | 5 | within 1 ULP of the type |
/// | [`Precision::Fast`] | 4 | 8 | 8 | within 1 ULP of the type |
///
/// [`Precision::default_for`] picks `Precise` for f32 data and `Fast` for
/// f16 and bf16 (their contract, 1 ULP of the 16-bit type, holds in both
/// tiers). A [`crate::Context`] uses those defaults unless
/// [`crate::Context::with_precision`] names a tier; the kernels take one
/// through [`crate::Kernels::with_precision`] (and the gated and row-wise
/// kernels' `with_precision`), the WGSL through
/// [`crate::wgsl::library_with`] and [`crate::wgsl::portable_module_with`].
///
/// ```
/// use wgpu_activations::{Activation, Context, Precision};
///
/// let ctx = Context::new()?;
/// let fast = ctx.with_precision(Precision::Fast); // shares the device
/// let y = fast.forward(Activation::Gelu, &[-1.0_f32, 0.5, 2.0])?;
/// # let _ = y;
/// assert_eq!("fast".parse::<Precision>(), Ok(Precision::Fast));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Precision {
    /// Today's math: 2 scaled ULPs forward, 4 derivative, 5 backward (f32).
    #[default]
    Precise,
    /// Cheaper primitives (the device's `exp` under this crate's reduction
    /// and special-value handling, plain products and squares where the
    /// precise tier forms them exactly): 4 scaled ULPs forward, 8
    /// derivative and backward (f32).
    Fast,
}

impl Precision {
    /// Both tiers.
    pub const ALL: [Precision; 2] = [Precision::Precise, Precision::Fast];

    /// The default tier for data of `dtype`: [`Precision::Precise`] for f32,
    /// [`Precision::Fast`] for f16 and bf16 (whose results hold to 1 ULP of
    /// their type in either tier).
    pub const fn default_for(dtype: Dtype) -> Precision {
        match dtype {
            Dtype::F32 => Precision::Precise,
            Dtype::F16 | Dtype::Bf16 => Precision::Fast,
        }
    }

    /// `"precise"` or `"fast"`.
    pub const fn name(self) -> &'static str {
        match self {
            Precision::Precise => "precise",
            Precision::Fast => "fast",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A string that names no tier.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown precision {0:?}: use \"precise\" or \"fast\"")]
pub struct ParsePrecisionError(pub String);

impl FromStr for Precision {
    type Err = ParsePrecisionError;

    /// `"precise"` or `"fast"` (any case).
    fn from_str(s: &str) -> Result<Precision, ParsePrecisionError> {
        Precision::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| ParsePrecisionError(s.to_string()))
    }
}

/// Kernels of one family (`K`: [`crate::Kernels`], [`crate::GatedKernels`],
/// [`crate::RowKernels`]) that record at one [`Precision`]: what their
/// `with_precision` returns. It has the same `record...` methods as `K`.
#[derive(Clone, Copy, Debug)]
pub struct WithPrecision<'a, K> {
    pub(crate) kernels: &'a K,
    pub(crate) precision: Precision,
}

impl<K> WithPrecision<'_, K> {
    /// The tier these kernels record at.
    pub fn precision(&self) -> Precision {
        self.precision
    }
}
