// 16-bit storage as vec4<u64>: sixteen elements per storage element, for
// the adapters where 64-bit components halve the cost of storage access
// (see element_packed.wgsl). The low word of each u64 comes first.

fn words_low(w: vec4<u64>) -> vec4<u32> {
    return vec4<u32>(w & vec4<u64>(0xfffffffflu));
}

fn words_high(w: vec4<u64>) -> vec4<u32> {
    return vec4<u32>(w >> vec4<u32>(32u));
}

fn words64(low: vec4<u32>, high: vec4<u32>) -> vec4<u64> {
    return vec4<u64>(low) | (vec4<u64>(high) << vec4<u32>(32u));
}

fn element_forward(w: vec4<u64>) -> vec4<u64> {
    return words64(words_forward(words_low(w)), words_forward(words_high(w)));
}

fn element_derivative(w: vec4<u64>) -> vec4<u64> {
    return words64(words_derivative(words_low(w)), words_derivative(words_high(w)));
}

fn element_backward(grad: vec4<u64>, w: vec4<u64>) -> vec4<u64> {
    return words64(
        words_backward(words_low(grad), words_low(w)),
        words_backward(words_high(grad), words_high(w)),
    );
}
