// bfloat16 storage: the upper half of an f32's bits. Widening is a shift;
// narrowing rounds to nearest, ties to even, on the bits (a carry out of
// the largest finite value gives infinity, as it must); NaN stays a quiet
// NaN with its sign, never turning into infinity.

struct Halves {
    lo: vec4<f32>,
    hi: vec4<f32>,
}

fn half_unpack(w: vec4<u32>) -> Halves {
    return Halves(
        bitcast<vec4<f32>>(w << vec4<u32>(16u)),
        bitcast<vec4<f32>>(w & vec4<u32>(0xffff0000u)),
    );
}

// The bf16 bits of each lane, in the low 16 bits.
fn half_bits(v: vec4<f32>) -> vec4<u32> {
    let b = bitcast<vec4<u32>>(v);
    let upper = b >> vec4<u32>(16u);
    let rounded = (b + vec4<u32>(0x7fffu) + (upper & vec4<u32>(1u))) >> vec4<u32>(16u);
    let nan = (b & vec4<u32>(0x7fffffffu)) > vec4<u32>(0x7f800000u);
    return select(rounded, upper | vec4<u32>(0x40u), nan);
}

fn half_pack(h: Halves) -> vec4<u32> {
    return half_bits(h.lo) | (half_bits(h.hi) << vec4<u32>(16u));
}
