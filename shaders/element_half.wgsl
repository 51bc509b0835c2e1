// Element functions for 16-bit storage (f16, bf16; see elementwise.wgsl):
// two elements per u32 word, the low half first, as in memory. Each value
// is widened to f32 exactly, computed in f32 like every other kernel, and
// rounded once to the storage type: `half_unpack` and `half_pack` come
// from the dtype's conversion file (half_f16.wgsl, half_f16_packed.wgsl or
// half_bf16.wgsl), spliced in before this one; the «ELEMENT» forms from
// half_vec4.wgsl, half_packed.wgsl or half_scalar.wgsl, after it.

// Eight elements in four words.
fn words_forward(w: vec4<u32>) -> vec4<u32> {
    let x = half_unpack(w);
    return half_pack(Halves(lanes_forward(x.lo), lanes_forward(x.hi)));
}

fn words_derivative(w: vec4<u32>) -> vec4<u32> {
    let x = half_unpack(w);
    return half_pack(Halves(lanes_derivative(x.lo), lanes_derivative(x.hi)));
}

// grad_input = grad_output * f'(x).
fn words_backward(grad: vec4<u32>, w: vec4<u32>) -> vec4<u32> {
    let g = half_unpack(grad);
    let x = half_unpack(w);
    return half_pack(Halves(lanes_backward(g.lo, x.lo), lanes_backward(g.hi, x.hi)));
}
