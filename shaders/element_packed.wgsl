// Element functions for packed storage (see elementwise.wgsl): eight f32 in
// one vec4<u64>, two per u64 (the low half first, as in memory), so that a
// kernel moves 64-bit components. On CPU adapters (lavapipe, llvmpipe) each
// storage access costs per component, so this halves the memory work; the
// unpacking is a few SIMD bit operations. The bits of every f32 pass through
// unchanged (NaN payloads and -0 included).

fn packed_low(w: vec4<u64>) -> vec4<f32> {
    return bitcast<vec4<f32>>(vec4<u32>(w & vec4<u64>(0xfffffffflu)));
}

fn packed_high(w: vec4<u64>) -> vec4<f32> {
    return bitcast<vec4<f32>>(vec4<u32>(w >> vec4<u32>(32u)));
}

fn packed(low: vec4<f32>, high: vec4<f32>) -> vec4<u64> {
    return vec4<u64>(bitcast<vec4<u32>>(low)) | (vec4<u64>(bitcast<vec4<u32>>(high)) << vec4<u32>(32u));
}

fn element_forward(w: vec4<u64>) -> vec4<u64> {
    return packed(lanes_forward(packed_low(w)), lanes_forward(packed_high(w)));
}

fn element_derivative(w: vec4<u64>) -> vec4<u64> {
    return packed(lanes_derivative(packed_low(w)), lanes_derivative(packed_high(w)));
}

// grad_input = grad_output * f'(x).
fn element_backward(grad: vec4<u64>, w: vec4<u64>) -> vec4<u64> {
    return packed(
        lanes_backward(packed_low(grad), packed_low(w)),
        lanes_backward(packed_high(grad), packed_high(w)),
    );
}
