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
    let sign = (h & vec4<u32>(0x8000u)) << vec4<u32>(16u);
    let magnitude = h & vec4<u32>(0x7fffu);
    // Normal: rebias the exponent (15 -> 127); inf and NaN: all ones.
    let normal = (magnitude << vec4<u32>(13u)) + vec4<u32>(0x38000000u);
    let special = (magnitude << vec4<u32>(13u)) | vec4<u32>(0x7f800000u);
    // Subnormal (and zero): m 2^-24, exact in f32.
    let subnormal = bitcast<vec4<u32>>(vec4<f32>(magnitude) * 5.9604644775390625e-8);
    var bits = select(normal, special, magnitude >= vec4<u32>(0x7c00u));
    bits = select(bits, subnormal, magnitude < vec4<u32>(0x0400u));
    return bitcast<vec4<f32>>(sign | bits);
}

fn half_unpack(w: vec4<u32>) -> Halves {
    return Halves(half_widen(w & vec4<u32>(0xffffu)), half_widen(w >> vec4<u32>(16u)));
}

// The f16 bits of each lane (in the low 16 bits), rounded to nearest, ties
// to even.
fn half_bits(v: vec4<f32>) -> vec4<u32> {
    let b = bitcast<vec4<u32>>(v);
    let a = b & vec4<u32>(0x7fffffffu);
    let sign = (b >> vec4<u32>(16u)) & vec4<u32>(0x8000u);
    // |v| >= 2^-14: drop 13 fraction bits, rounding to nearest even; a
    // carry out of the top binade gives 0x7c00, infinity.
    let normal = (a - vec4<u32>(0x38000000u) + vec4<u32>(0xfffu) + ((a >> vec4<u32>(13u)) & vec4<u32>(1u))) >> vec4<u32>(13u);
    // |v| < 2^-14: a whole number of 2^-24 (the product is exact; round()
    // ties to even); 1024 is the bits of 2^-14 itself.
    let subnormal = vec4<u32>(round(bitcast<vec4<f32>>(a) * 16777216.0));
    var h = select(normal, subnormal, a < vec4<u32>(0x38800000u));
    h = select(h, vec4<u32>(0x7c00u), a >= vec4<u32>(0x477ff000u));
    h = select(h, vec4<u32>(0x7e00u) | ((a >> vec4<u32>(13u)) & vec4<u32>(0x1ffu)), a > vec4<u32>(0x7f800000u));
    return sign | h;
}

fn half_pack(h: Halves) -> vec4<u32> {
    return half_bits(h.lo) | (half_bits(h.hi) << vec4<u32>(16u));
}
