// Element functions for f32 and vec4<f32> storage (see elementwise.wgsl).

fn element_forward(v: {{ELEMENT}}) -> {{ELEMENT}} {
    return {{MAP:activation_forward}};
}

fn element_derivative(v: {{ELEMENT}}) -> {{ELEMENT}} {
    return {{MAP:activation_derivative}};
}

// grad_input = grad_output * f'(x).
fn element_backward(grad: {{ELEMENT}}, v: {{ELEMENT}}) -> {{ELEMENT}} {
    return {{MAP2:activation_backward}};
}
