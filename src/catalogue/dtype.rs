//! Element types of tensors: `f32`, and the 16-bit `half::f16` and
//! `half::bf16` (storage only: every kernel computes in f32 and rounds once
//! to the storage type on the way out).

use std::fmt;

/// The storage type of a tensor's or region's elements.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dtype {
    /// IEEE binary32.
    F32,
    /// IEEE binary16 (`half::f16`): 11 significant bits, finite up to 65504,
    /// subnormals from 2^-24.
    F16,
    /// bfloat16 (`half::bf16`): f32's exponent range with 8 significant bits.
    Bf16,
}

impl Dtype {
    /// Every dtype, f32 first.
    pub const ALL: [Dtype; 3] = [Dtype::F32, Dtype::F16, Dtype::Bf16];

    /// Bytes per element: 4 or 2.
    pub fn size(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 | Dtype::Bf16 => 2,
        }
    }

    /// PyTorch's name: `"float32"`, `"float16"`, `"bfloat16"`.
    pub fn name(self) -> &'static str {
        match self {
            Dtype::F32 => "float32",
            Dtype::F16 => "float16",
            Dtype::Bf16 => "bfloat16",
        }
    }

    /// Bytes of `len` elements, rounded up to whole 4-byte words: what a
    /// storage binding of them covers (WebGPU binds storage in multiples of
    /// 4 bytes, so an odd number of 16-bit elements ends in half a word).
    pub fn bound_bytes(self, len: u64) -> u64 {
        (len * self.size() as u64).next_multiple_of(4)
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for half::f16 {}
    impl Sealed for half::bf16 {}
}

/// An element type the kernels store: exactly `f32`, `half::f16` and
/// `half::bf16` (sealed). Host slices of any of them go to the GPU and back
/// as plain bytes (`bytemuck`), with no per-element conversion.
pub trait Element:
    sealed::Sealed
    + bytemuck::Pod
    + Copy
    + Default
    + PartialEq
    + PartialOrd
    + fmt::Debug
    + fmt::Display
    + Send
    + Sync
    + 'static
{
    /// This type's [`Dtype`].
    const DTYPE: Dtype;

    /// The value, exactly, as f64.
    fn to_f64(self) -> f64;

    /// `value` rounded once, to nearest with ties to even, to this type:
    /// out-of-range values become infinities, NaN stays NaN (sign kept).
    fn round_from_f64(value: f64) -> Self;

    /// The bit pattern, in the low bits.
    fn to_bits_u32(self) -> u32;

    /// The value with bit pattern `bits` (the low 16 bits for 16-bit types).
    fn from_bits_u32(bits: u32) -> Self;
}

impl Element for f32 {
    const DTYPE: Dtype = Dtype::F32;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn round_from_f64(value: f64) -> Self {
        // Rust's f64 -> f32 conversion rounds to nearest, ties to even.
        value as f32
    }
    fn to_bits_u32(self) -> u32 {
        self.to_bits()
    }
    fn from_bits_u32(bits: u32) -> Self {
        f32::from_bits(bits)
    }
}

impl Element for half::f16 {
    const DTYPE: Dtype = Dtype::F16;
    fn to_f64(self) -> f64 {
        half::f16::to_f64(self)
    }
    fn round_from_f64(value: f64) -> Self {
        // Not `f16::from_f64`: with F16C it converts through f32, rounding twice.
        half::f16::from_bits(round_to_bits(value, F16_FORMAT) as u16)
    }
    fn to_bits_u32(self) -> u32 {
        u32::from(self.to_bits())
    }
    fn from_bits_u32(bits: u32) -> Self {
        half::f16::from_bits(bits as u16)
    }
}

impl Element for half::bf16 {
    const DTYPE: Dtype = Dtype::Bf16;
    fn to_f64(self) -> f64 {
        half::bf16::to_f64(self)
    }
    fn round_from_f64(value: f64) -> Self {
        // Not `bf16::from_f64`: it truncates the low 32 bits of the f64
        // first, which loses ties' sticky bits.
        half::bf16::from_bits(round_to_bits(value, BF16_FORMAT) as u16)
    }
    fn to_bits_u32(self) -> u32 {
        u32::from(self.to_bits())
    }
    fn from_bits_u32(bits: u32) -> Self {
        half::bf16::from_bits(bits as u16)
    }
}

/// A 16-bit binary floating-point format: 1 sign bit, `exponent_bits`,
/// `fraction_bits`.
#[derive(Clone, Copy)]
struct Format16 {
    exponent_bits: u32,
    fraction_bits: u32,
}

const F16_FORMAT: Format16 = Format16 {
    exponent_bits: 5,
    fraction_bits: 10,
};
const BF16_FORMAT: Format16 = Format16 {
    exponent_bits: 8,
    fraction_bits: 7,
};

/// The bits of `value` rounded once (to nearest, ties to even) to `format`.
fn round_to_bits(value: f64, format: Format16) -> u32 {
    let sign = if value.is_sign_negative() { 0x8000 } else { 0 };
    let exp_mask = (1u32 << format.exponent_bits) - 1;
    let inf = exp_mask << format.fraction_bits;
    if value.is_nan() {
        // A quiet NaN with the sign kept.
        return sign | inf | (1 << (format.fraction_bits - 1));
    }
    let magnitude = value.abs();
    let bias = (exp_mask >> 1) as i32;
    let min_exponent = 1 - bias;
    // The spacing of representable values at `magnitude`'s binade (the
    // subnormal spacing below the smallest normal).
    let exponent = if magnitude == 0.0 || magnitude.is_infinite() {
        min_exponent
    } else {
        let e = ((magnitude.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        e.max(min_exponent)
    };
    let quantum_exponent = exponent - format.fraction_bits as i32;
    if magnitude.is_infinite() {
        return sign | inf;
    }
    // Exact in f64: scaling by a power of two (the scaled value has at most
    // 53 significant bits and no underflow: quantum >= 2^-149).
    let units = (magnitude * pow2(-quantum_exponent)).round_ties_even();
    // `units` quanta of 2^quantum_exponent; a carry into the next binade is
    // still exact in the encoding below.
    let (biased, fraction) =
        if exponent == min_exponent && units < f64::from(1u32 << format.fraction_bits) {
            (0u32, units as u32)
        } else {
            // units in [2^fraction_bits, 2^(fraction_bits + 1)].
            let mut e = exponent + bias;
            let mut f = units;
            if f >= f64::from(2u32 << format.fraction_bits) {
                f /= 2.0;
                e += 1;
            }
            if e >= exp_mask as i32 {
                return sign | inf;
            }
            (e as u32, (f as u32) - (1 << format.fraction_bits))
        };
    sign | (biased << format.fraction_bits) | fraction
}

/// 2^k for |k| < 1023, exactly.
fn pow2(k: i32) -> f64 {
    f64::from_bits(((1023 + k) as u64) << 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every f16 and bf16 value converts to f64 and back to itself; the
    /// midpoints between neighbours round to the even one, a hair above or
    /// below them to the nearer; beyond the top, infinity.
    #[test]
    fn rounding_is_once_to_nearest_even() {
        fn check<T: Element>(max: f64) {
            for bits in 0..=0xffffu32 {
                let v = T::from_bits_u32(bits);
                let x = v.to_f64();
                let back = T::round_from_f64(x).to_bits_u32();
                if x.is_nan() {
                    assert!(T::from_bits_u32(back).to_f64().is_nan(), "{bits:#x}");
                    assert_eq!(back & 0x8000, bits & 0x8000, "NaN sign {bits:#x}");
                    continue;
                }
                assert_eq!(back, bits, "{:?} {bits:#x}", T::DTYPE);
                // The midpoint to the next value up in magnitude.
                let next = T::from_bits_u32(bits + 1).to_f64();
                if (bits & 0x7fff) >= 0x7fff || next.is_nan() || x.is_infinite() {
                    continue;
                }
                let mid = if next.is_infinite() {
                    // Past the largest finite value: the would-be next
                    // value is max + one spacing.
                    x + (x - T::from_bits_u32(bits - 1).to_f64()) / 2.0
                } else {
                    (x + next) / 2.0
                };
                let even = if bits & 1 == 0 { bits } else { bits + 1 };
                assert_eq!(T::round_from_f64(mid).to_bits_u32(), even, "mid {mid:e}");
                let below = mid - mid.abs() * 1e-12;
                let above = mid + mid.abs() * 1e-12;
                let (lo, hi) = if x.is_sign_negative() {
                    (above, below)
                } else {
                    (below, above)
                };
                assert_eq!(T::round_from_f64(lo).to_bits_u32(), bits, "below {mid:e}");
                assert_eq!(
                    T::round_from_f64(hi).to_bits_u32(),
                    bits + 1,
                    "above {mid:e}"
                );
            }
            assert!(T::round_from_f64(max * 2.0).to_f64().is_infinite());
            assert_eq!(T::round_from_f64(-1e-300).to_bits_u32(), 0x8000);
        }
        check::<half::f16>(65504.0);
        check::<half::bf16>(f64::from(half::bf16::MAX));
        assert_eq!(
            <half::f16 as Element>::round_from_f64(65519.99).to_f64(),
            65504.0
        );
        assert!(
            <half::f16 as Element>::round_from_f64(65520.0)
                .to_f64()
                .is_infinite()
        );
    }
}
