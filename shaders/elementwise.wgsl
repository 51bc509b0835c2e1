// wgpu-activations: the element-wise kernel template.
//
// `src/shader.rs` composes a module as math.wgsl + activations.wgsl + this
// file, with `{{FORWARD}}` and `{{DERIVATIVE}}` replaced by one op's calls
// (e.g. `leaky_relu_forward(x, param.x)`). One module per op; its three entry
// points are the three modes. Parameters arrive in a uniform, so changing them
// never recompiles a pipeline.

struct Dispatch {
    // Elements in this dispatch window.
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
    // The op's parameters (unused components are 0).
    param: vec4<f32>,
}

@group(0) @binding(0) var<uniform> dispatch: Dispatch;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> output: array<f32>;
@group(0) @binding(3) var<storage, read> grad_output: array<f32>;

// Chosen per adapter by the host.
override WORKGROUP_SIZE: u32 = 256u;

fn activation_forward(x: f32) -> f32 {
    let param = dispatch.param;
    return {{FORWARD}};
}

fn activation_derivative(x: f32) -> f32 {
    let param = dispatch.param;
    return {{DERIVATIVE}};
}

// Linear element index over a 2-D grid of workgroups (x, then y), so that a
// dispatch may exceed 65,535 workgroups in x.
fn element_index(workgroup: vec3<u32>, workgroups: vec3<u32>, local: u32) -> u32 {
    return (workgroup.y * workgroups.x + workgroup.x) * WORKGROUP_SIZE + local;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element_index(workgroup, workgroups, local);
    if i < dispatch.len {
        output[i] = activation_forward(input[i]);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn derivative(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element_index(workgroup, workgroups, local);
    if i < dispatch.len {
        output[i] = activation_derivative(input[i]);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element_index(workgroup, workgroups, local);
    if i < dispatch.len {
        output[i] = grad_output[i] * activation_derivative(input[i]);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_in_place(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element_index(workgroup, workgroups, local);
    if i < dispatch.len {
        output[i] = activation_forward(output[i]);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn derivative_in_place(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element_index(workgroup, workgroups, local);
    if i < dispatch.len {
        output[i] = activation_derivative(output[i]);
    }
}

// `output` holds grad_output on entry and grad_input on exit.
@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_in_place(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element_index(workgroup, workgroups, local);
    if i < dispatch.len {
        output[i] = output[i] * activation_derivative(input[i]);
    }
}
