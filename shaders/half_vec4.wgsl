// 16-bit storage as vec4<u32>: eight elements per storage element.

fn element_forward(w: vec4<u32>) -> vec4<u32> {
    return words_forward(w);
}

fn element_derivative(w: vec4<u32>) -> vec4<u32> {
    return words_derivative(w);
}

fn element_backward(grad: vec4<u32>, w: vec4<u32>) -> vec4<u32> {
    return words_backward(grad, w);
}
