// f16 storage without WGSL's f16 type (adapters without
// Features::SHADER_F16, e.g. GL): converted on the bits of u32 words, with
// no capability beyond core WGSL. (Not unpack2x16float / pack2x16float:
// naga requires a downlevel capability for them, pack2x16float's result is
// indeterminate outside f16's finite range, and its rounding is not
// specified.) Widening is exact, subnormals included; narrowing rounds to
// nearest, ties to even; infinity exactly where the rounded value
// overflows (|v| >= 65520); subnormal results kept; NaN stays a quiet NaN
// with its sign.

struct Halves {
    lo: vec4<f32>,
    hi: vec4<f32>,
}

// The f32 values of four f16 bit patterns (in the low 16 bits).
fn half_widen(h: vec4<u32>) -> vec4<f32> {
    let shifted = (h & vec4<u32>(0x7fffu)) << vec4<u32>(13u);
    let exponent = shifted & vec4<u32>(0x0f800000u);
    // Rebias the exponent (15 -> 127); inf and NaN get all ones.
    var bits = shifted + select(vec4<u32>(0x38000000u), vec4<u32>(0x70000000u), exponent == vec4<u32>(0x0f800000u));
    // Subnormal (and zero): m 2^-24 as (2^-14 + m 2^-24) - 2^-14, exact,
    // with no subnormal operand (a device that flushes them loses nothing).
    let subnormal = bitcast<vec4<u32>>(bitcast<vec4<f32>>(bits + vec4<u32>(0x00800000u)) - 6.103515625e-5);
    bits = select(bits, subnormal, exponent == vec4<u32>(0u));
    return bitcast<vec4<f32>>(((h & vec4<u32>(0x8000u)) << vec4<u32>(16u)) | bits);
}

fn half_unpack(w: vec4<u32>) -> Halves {
    return Halves(half_widen(w & vec4<u32>(0xffffu)), half_widen(w >> vec4<u32>(16u)));
}

// The f16 bits of each lane (in the low 16 bits), rounded to nearest, ties
// to even (after F. Giesen's float_to_half_fast3_rtne).
fn half_bits(v: vec4<f32>) -> vec4<u32> {
    let b = bitcast<vec4<u32>>(v);
    let a = b & vec4<u32>(0x7fffffffu);
    // |v| >= 2^-14: rebias (127 -> 15) and drop 13 fraction bits, rounding
    // to nearest even; a carry out of the top binade gives 0x7c00, infinity.
    let normal = (a + vec4<u32>(0xc8000fffu) + ((a >> vec4<u32>(13u)) & vec4<u32>(1u))) >> vec4<u32>(13u);
    // |v| < 2^-14: adding 0.5, whose ULP is 2^-24, rounds |v| to a whole
    // number of 2^-24 (to nearest even); its bits minus 0.5's are that
    // number (1024, 2^-14 itself, is the right bits too).
    let subnormal = bitcast<vec4<u32>>(bitcast<vec4<f32>>(a) + 0.5) - vec4<u32>(0x3f000000u);
    var h = select(normal, subnormal, a < vec4<u32>(0x38800000u));
    let special = select(vec4<u32>(0x7c00u), vec4<u32>(0x7e00u), a > vec4<u32>(0x7f800000u));
    h = select(h, special, a >= vec4<u32>(0x477ff000u));
    return ((b >> vec4<u32>(16u)) & vec4<u32>(0x8000u)) | h;
}

fn half_pack(h: Halves) -> vec4<u32> {
    return half_bits(h.lo) | (half_bits(h.hi) << vec4<u32>(16u));
}
