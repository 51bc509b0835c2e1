// wgpu-activations: the element-wise kernel template.
//
// `src/wgsl.rs` composes a module as the function library (math.wgsl,
// normal.wgsl, activations.wgsl) + this file, filling the slots (written «NAME» here, double-braced in the code):
//   «DISPATCH»     how the per-dispatch data arrives: `var<immediate>` where
//                  the device has immediates, a uniform at binding 0 otherwise
//   «ITEMS»        storage elements per invocation (Tuning)
//   «ELEMENT»      the storage element: `vec4<f32>` or `vec4<u64>` (eight
//                  f32 packed two per u64) for the main body, `f32` for the
//                  last few elements; for 16-bit storage `vec4<u32>` or
//                  `vec4<u64>` (8 or 16 elements) and `u32` (2)
//   «ELEMENT_FUNCTIONS»  element_float.wgsl or element_packed.wgsl (for
//                  16-bit storage a conversion file, element_half.wgsl and
//                  a half_<width>.wgsl): the
//                  element-wise forward, derivative and backward over one
//                  «ELEMENT», with «MAP:f» applying `f` to each f32 lane
//                  and «MAP2:f» applying `f` to each (grad, x) lane pair
//   «OP_FUNCTIONS» op_functions.wgsl filled for one op: activation_forward,
//                  activation_derivative, activation_backward (grad * f'(x))
//   «STORE»        how element_store writes a result (see there)
//   «ENTRY_POINTS» entry.wgsl once per entry point: the three modes out of
//                  place, and in place (`output` read and written: forward
//                  and derivative overwrite x, backward overwrites
//                  grad_output with grad_input)
// One module per (op, element width).
// Parameters arrive with the dispatch data, so new values never recompile.

struct Dispatch {
    // Elements (of the element type) this dispatch covers, from `base` on.
    len: u32,
    // Index of the first element.
    base: u32,
    // 16-bit storage, last words of a region of odd length: 1 where the
    // high half of the dispatch's last word lies past the region's end (it
    // keeps its bits). 0 otherwise.
    keep_high: u32,
    _pad1: u32,
    // The op's parameters (unused components are 0).
    param: vec4<f32>,
}

{{DISPATCH}}

@group(0) @binding(1) var<storage, read> input: array<{{ELEMENT}}>;
@group(0) @binding(2) var<storage, read_write> output: array<{{ELEMENT}}>;
@group(0) @binding(3) var<storage, read> grad_output: array<{{ELEMENT}}>;

// Chosen per adapter by the host (src/kernels.rs, `Tuning`).
override WORKGROUP_SIZE: u32 = 256u;
// Elements each invocation handles, WORKGROUP_SIZE apart (coalesced).
const ITEMS: u32 = {{ITEMS}}u;

{{OP_FUNCTIONS}}

{{ELEMENT_FUNCTIONS}}

// Stores element j (the dispatch's i-th) of the result: «STORE» is
// `output[j] = value;`, or for the last words of 16-bit data
// half_scalar.wgsl's half_tail_store, which keeps the half past the end.
fn element_store(i: u32, j: u32, value: {{ELEMENT}}) {
    {{STORE}}
}

// Index (relative to `base`) of this invocation's first element: workgroups
// form a 2-D grid (x, then y) so a dispatch may exceed 65,535 in x.
fn first_element(workgroup: vec3<u32>, workgroups: vec3<u32>, local: u32) -> u32 {
    return (workgroup.y * workgroups.x + workgroup.x) * WORKGROUP_SIZE * ITEMS + local;
}

{{ENTRY_POINTS}}
