// wgpu-activations: the texture kernel template.
//
// `src/texture.rs` composes a module as the function library (math.wgsl,
// normal.wgsl, activations.wgsl) + this file, filling the slots (written
// «NAME» here, double-braced in the code):
//   «DISPATCH»   how the parameters arrive: `var<immediate>` where the
//                device has immediates, a uniform at binding 0 otherwise
//   «BINDINGS»   binding 1: x, sampled (`texture_2d<f32>` or
//                `texture_2d_array<f32>`), absent where x is read from the
//                output (in place); binding 2: the output, a storage texture
//                of the output's format (`write`, or `read_write` in place);
//                binding 3: grad_output, sampled, in backward out of place
//   «OP_FUNCTIONS» op_functions.wgsl filled for the op (the buffer kernels'
//                functions, backward rule included, so the bits agree)
//   «LOADS»      `let v = ...;` (x at texel `c`, layer `c.z`) and, in
//                backward, `let g = ...;` (grad_output there)
//   «VALUE»      the result from `v` (and `g`): the op on each channel the
//                output format has; alpha passed through where asked
//   «COORDS»     the store's coordinates: `c.xy` for 2-D views,
//                `c.xy, c.z` for 2-D array views
//   «HALF_FUNCTIONS» half_f16_packed.wgsl for 16-bit output formats
//                (nothing otherwise)
//   «ROUND»      how a result becomes the value stored: as it is for f32
//                formats; for 16-bit formats rounded to the nearest f16
//                (ties to even, infinity where it overflows) and widened
//                back, so that the storage write converts an f16 value
//                exactly. (Drivers round that conversion as they like:
//                Mesa's lavapipe and llvmpipe truncate toward zero and
//                saturate at 65504.)
// One module per (op, mode, in place, output format, view dimension, alpha).
// Parameters arrive with the dispatch data, so new values never recompile.

struct Dispatch {
    // The op's parameters (unused components are 0).
    param: vec4<f32>,
}

{{DISPATCH}}

{{BINDINGS}}

{{OP_FUNCTIONS}}

{{HALF_FUNCTIONS}}

// The value stored for a result `v`.
fn stored(v: vec4<f32>) -> vec4<f32> {
    {{ROUND}}
}

// Workgroup shape, chosen per adapter by the host (src/texture.rs): rows of
// 64 texels on CPU adapters (2.1-2.7x the texels/s of 8 x 8 on lavapipe
// and llvmpipe), 8 x 8 tiles on GPUs.
override WORKGROUP_X: u32 = 8u;
override WORKGROUP_Y: u32 = 8u;

// One invocation per texel: x and y over the view, z over its layers (the
// host dispatches exactly one z per layer).
@compute @workgroup_size(WORKGROUP_X, WORKGROUP_Y, 1)
fn main(@builtin(global_invocation_id) c: vec3<u32>) {
    let size = textureDimensions(output);
    if c.x >= size.x || c.y >= size.y {
        return;
    }
    {{LOADS}}
    textureStore(output, {{COORDS}}, stored({{VALUE}}));
}
