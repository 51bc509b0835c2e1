// Element functions for f16 storage with WGSL's f16 type
// (Features::SHADER_F16; the module starts with `enable f16;`): storage
// arrays of `vec4<f16>` (body) and `f16` (the last elements), each value
// widened to f32, computed like every other kernel and converted back
// natively. (Not u32 words: naga does not validate bitcasts between u32
// and vec2<f16>.) What WGSL leaves to the implementation is decided here:
// values beyond f16's finite range are clamped to it before converting and
// doubled in f16 where the rounded value overflows (|v| >= 65520), giving
// infinity; NaN is kept.

fn half_narrow(v: vec4<f32>) -> vec4<f16> {
    let a = bitcast<vec4<u32>>(v) & vec4<u32>(0x7fffffffu);
    let nan = a > vec4<u32>(0x7f800000u);
    let h = vec4<f16>(select(clamp(v, vec4<f32>(-65504.0), vec4<f32>(65504.0)), v, nan));
    return select(h, h * vec4<f16>(2.0h), a >= vec4<u32>(0x477ff000u) & !nan);
}

fn half_wide(v: {{ELEMENT}}) -> vec4<f32> {
    return {{WIDE}};
}

fn element_forward(v: {{ELEMENT}}) -> {{ELEMENT}} {
    return {{NARROW:lanes_forward(half_wide(v))}};
}

fn element_derivative(v: {{ELEMENT}}) -> {{ELEMENT}} {
    return {{NARROW:lanes_derivative(half_wide(v))}};
}

// grad_input = grad_output * f'(x).
fn element_backward(grad: {{ELEMENT}}, v: {{ELEMENT}}) -> {{ELEMENT}} {
    return {{NARROW:lanes_backward(half_wide(grad), half_wide(v))}};
}
