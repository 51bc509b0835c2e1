// wgpu-activations: 16-bit storage to f32 and back, for the kernel families
// (gated, row-wise, PReLU, RReLU), which compute over f32 scratch buffers:
// src/family.rs widens each 16-bit input into one, runs the f32 kernel, and
// narrows each output back, rounding once (to nearest even). Composed after
// a conversion file (half_f16_packed.wgsl or half_bf16.wgsl: `half_unpack`,
// `half_pack`) and family.wgsl. One u32 word (two values) per invocation.

struct Dispatch {
    // x: words to convert; y: 1 where the last word holds one value of the
    // region (odd length) and its high half must keep its bits.
    counts: vec4<u32>,
    param: vec4<f32>,
}

@group(0) @binding(0) var<uniform> dispatch: Dispatch;
@group(0) @binding(1) var<storage, read> words_in: array<u32>;
@group(0) @binding(2) var<storage, read_write> floats_out: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read> floats_in: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read_write> words_out: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn widen(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element(workgroup, workgroups, local);
    if i < dispatch.counts.x {
        let h = half_unpack(vec4<u32>(words_in[i]));
        floats_out[i] = vec2<f32>(h.lo.x, h.hi.x);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn narrow(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element(workgroup, workgroups, local);
    if i < dispatch.counts.x {
        let v = floats_in[i];
        var w = half_pack(Halves(vec4<f32>(v.x), vec4<f32>(v.y))).x;
        if i + 1u == dispatch.counts.x && dispatch.counts.y != 0u {
            w = (w & 0xffffu) | (words_out[i] & 0xffff0000u);
        }
        words_out[i] = w;
    }
}
