// 16-bit storage as u32: two elements per storage element, for the last
// words of a region.

fn element_forward(w: u32) -> u32 {
    return words_forward(vec4<u32>(w)).x;
}

fn element_derivative(w: u32) -> u32 {
    return words_derivative(vec4<u32>(w)).x;
}

fn element_backward(grad: u32, w: u32) -> u32 {
    return words_backward(vec4<u32>(grad), vec4<u32>(w)).x;
}

// What word i of the dispatch receives: `value`, except in the last word of
// a region of odd length, whose high half lies past the region's end and
// keeps its `old` bits (Dispatch.keep_high).
fn half_tail_store(i: u32, value: u32, old: u32) -> u32 {
    if i + 1u == dispatch.len && dispatch.keep_high != 0u {
        return (value & 0xffffu) | (old & 0xffff0000u);
    }
    return value;
}
