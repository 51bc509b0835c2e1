// The op over four f32 lanes: what the packed and 16-bit element functions
// (element_packed.wgsl, element_half.wgsl, half_f16.wgsl) apply to the
// values they unpack. Spliced in before them by src/wgsl.rs.

fn lanes_forward(v: vec4<f32>) -> vec4<f32> {
    return {{MAP:activation_forward}};
}

fn lanes_derivative(v: vec4<f32>) -> vec4<f32> {
    return {{MAP:activation_derivative}};
}

// grad_input = grad_output * f'(x), lane by lane.
fn lanes_backward(grad: vec4<f32>, v: vec4<f32>) -> vec4<f32> {
    return {{MAP2:activation_backward}};
}
