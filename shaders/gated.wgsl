// wgpu-activations: the gated kernels (the GLU family), value * act(gate)
// and its backward, over separate value and gate buffers or over packed rows
// [value | gate] (PyTorch's GLU(dim=-1) order: the first half of each row is
// the value, the second the gate). src/gated.rs composes a module per kind
// as the function library (math.wgsl, normal.wgsl, activations.wgsl) +
// family.wgsl + this file, filling (written «NAME» here, double-braced in the code):
//   «GATE_FORWARD»     act(b) as a scaled pair: the gate activation's own
//                      forward, e.g. `wa_silu_forward_scaled(b)`, or
//                      `vec2<f32>(wa_relu_forward(b), 1.0)`
//   «GATE_DERIVATIVE»  act'(b) as a scaled pair (math.wgsl, "Scaled
//                      values"), e.g. `wa_silu_derivative_scaled(b)`, or
//                      `vec2<f32>(wa_relu_derivative(b), 1.0)`
// so no activation's math is written twice.

struct Dispatch {
    // Results this dispatch computes (rows * half for packed rows).
    len: u32,
    // Packed rows: half a row, d; unused for separate buffers.
    half: u32,
    _pad0: u32,
    _pad1: u32,
    // Unused by the current kinds (none has a parameter).
    param: vec4<f32>,
}

@group(0) @binding(0) var<uniform> dispatch: Dispatch;
// Separate: the values; packed: the rows [value | gate].
@group(0) @binding(1) var<storage, read> value: array<f32>;
@group(0) @binding(2) var<storage, read> gate: array<f32>;
@group(0) @binding(3) var<storage, read> grad_output: array<f32>;
// Forward: the result. Backward: d_value (separate) or the packed rows'
// gradient [d_value | d_gate].
@group(0) @binding(4) var<storage, read_write> out_value: array<f32>;
// Backward over separate buffers: d_gate.
@group(0) @binding(5) var<storage, read_write> out_gate: array<f32>;

fn gate_forward(b: f32) -> vec2<f32> {
    return {{GATE_FORWARD}};
}

// f act(gate) with act(gate) = m s applied last (value * act(gate),
// dy * act(gate)).
fn times_gate(f: f32, b: f32) -> f32 {
    let y = gate_forward(b);
    return (f * y.x) * y.y;
}

fn gate_derivative(b: f32) -> vec2<f32> {
    return {{GATE_DERIVATIVE}};
}

// d_gate = grad a act'(b), with act'(b) = m s applied last.
fn gate_gradient(g: f32, a: f32, b: f32) -> f32 {
    let d = gate_derivative(b);
    return ((g * a) * d.x) * d.y;
}

// Element i of the result of packed rows: the index of its value (its gate
// is half a row further).
fn packed_value(i: u32) -> u32 {
    return i + (i / dispatch.half) * dispatch.half;
}

// Packed rows, both grids: result o from the value at a and its gate.
fn forward_pair(o: u32, a: u32) {
    out_value[o] = times_gate(value[a], value[a + dispatch.half]);
}

// Packed rows, both grids: the gradient [d_value | d_gate] of result o.
fn backward_pair(o: u32, a: u32) {
    let x = value[a];
    let b = value[a + dispatch.half];
    let g = grad_output[o];
    out_value[a] = times_gate(g, b);
    out_value[a + dispatch.half] = gate_gradient(g, x, b);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element(workgroup, workgroups, local);
    if i < dispatch.len {
        out_value[i] = times_gate(value[i], gate[i]);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element(workgroup, workgroups, local);
    if i < dispatch.len {
        let a = value[i];
        let b = gate[i];
        let g = grad_output[i];
        out_value[i] = times_gate(g, b);
        out_gate[i] = gate_gradient(g, a, b);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_packed(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element(workgroup, workgroups, local);
    if i < dispatch.len {
        forward_pair(i, packed_value(i));
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_packed(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element(workgroup, workgroups, local);
    if i < dispatch.len {
        backward_pair(i, packed_value(i));
    }
}

// Rows whose halves hold 256 or more values, on a 3-D grid: x the
// 256-element pieces of a half row, y and z the row (y + 65535 z): the row
// comes from the grid instead of dividing each element's index (integer
// division is scalarised on llvmpipe). (result index, value index), and
// whether the element exists.
fn row_pair(workgroup: vec3<u32>, local: u32) -> vec3<u32> {
    let j = workgroup.x * WORKGROUP_SIZE + local;
    let row = workgroup.z * 65535u + workgroup.y;
    let inside = j < dispatch.half && row < dispatch.len / dispatch.half;
    return vec3<u32>(row * dispatch.half + j, 2u * row * dispatch.half + j, u32(inside));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_packed_rows(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let e = row_pair(workgroup, local);
    if e.z != 0u {
        forward_pair(e.x, e.y);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_packed_rows(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let e = row_pair(workgroup, local);
    if e.z != 0u {
        backward_pair(e.x, e.y);
    }
}
