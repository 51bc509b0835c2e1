// wgpu-activations: PReLU with learned slopes over [n, c, inner] (a slope
// per channel), and RReLU in training (a random slope per element). Composed
// by src/prelu.rs after the function library and family.wgsl: both use LeakyReLU's own
// functions (wa_leaky_relu_forward, wa_leaky_relu_derivative), so no activation's
// math is written twice.

struct Dispatch {
    // Elements.
    len: u32,
    // Channels with a slope of their own (1 for one shared slope).
    channels: u32,
    // Elements per (n, channel) block: the product of the dimensions after
    // the channel's.
    inner: u32,
    // RReLU: the seed's low half.
    seed_lo: u32,
    // PReLU: unused. RReLU: lower, upper, the seed's high half (as bits).
    param: vec4<f32>,
}

@group(0) @binding(0) var<uniform> dispatch: Dispatch;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> slopes: array<f32>;
@group(0) @binding(3) var<storage, read> grad_output: array<f32>;
@group(0) @binding(4) var<storage, read_write> output: array<f32>;
// RReLU training: the slopes used (1 where x > 0, as PyTorch's noise).
@group(0) @binding(5) var<storage, read_write> noise: array<f32>;

var<workgroup> shared_hi: array<f32, WORKGROUP_SIZE>;
var<workgroup> shared_lo: array<f32, WORKGROUP_SIZE>;

// The slope of element i: its channel's.
fn slope_of(i: u32) -> f32 {
    return slopes[(i / dispatch.inner) % dispatch.channels];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn prelu_forward(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element(workgroup, workgroups, local);
    if i < dispatch.len {
        output[i] = wa_leaky_relu_forward(input[i], slope_of(i));
    }
}

// Blocks of at least 256 elements (inner >= 256) on a 3-D grid: x the
// 256-element piece of a block, y its channel, z its n. The channel comes
// from the grid, not from dividing each element's index (integer division
// is scalarised on llvmpipe: the per-element form is 13x slower than ReLU
// there). Element index, channel, and whether it lies inside the block.
fn block_element(workgroup: vec3<u32>, local: u32) -> vec3<u32> {
    let offset = workgroup.x * WORKGROUP_SIZE + local;
    let block = workgroup.z * dispatch.channels + workgroup.y;
    return vec3<u32>(block * dispatch.inner + offset, workgroup.y, u32(offset < dispatch.inner));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn prelu_forward_blocks(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let e = block_element(workgroup, local);
    if e.z != 0u {
        output[e.x] = wa_leaky_relu_forward(input[e.x], slopes[e.y]);
    }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn prelu_backward_input_blocks(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let e = block_element(workgroup, local);
    if e.z != 0u {
        output[e.x] = grad_output[e.x] * wa_leaky_relu_derivative(input[e.x], slopes[e.y]);
    }
}

// dx = dy * (x > 0 ? 1 : slope).
@compute @workgroup_size(WORKGROUP_SIZE)
fn prelu_backward_input(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element(workgroup, workgroups, local);
    if i < dispatch.len {
        output[i] = grad_output[i] * wa_leaky_relu_derivative(input[i], slope_of(i));
    }
}

// a b as an exact pair (Dekker's product, whose steps are exact with or
// without fused multiply-adds); (a b, 0) where the product is not finite
// (NaN or inf: the sum is then NaN or inf too, and wa_opaque, a min, would
// turn NaN into 3e38 on llvmpipe).
fn exact_product(a: f32, b: f32) -> vec2<f32> {
    let p = a * b;
    return select(vec2<f32>(p, 0.0), wa_two_prod_exact(a, b), wa_abs(p) < 3.0e38);
}

// d_slope of one channel per workgroup: the sum over n and inner of
// x * dy where x is not > 0, in a fixed order (invocation t sums list
// positions t, t + 256, ... in turn, then a fixed tree over the 256
// partial sums), every product exact and every sum a hi + lo pair (exact
// TwoSum): the same bits on every run and every device, within a rounding
// or two of the exact sum.
@compute @workgroup_size(WORKGROUP_SIZE)
fn prelu_backward_slopes(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let channel = workgroup_index(workgroup, workgroups);
    if channel >= dispatch.channels {
        return;
    }
    let inner = dispatch.inner;
    let count = dispatch.len / dispatch.channels;
    var sum = vec2<f32>(0.0, 0.0);
    // (src/prelu.rs keeps count within 65,000 iterations of this loop:
    // Mesa's llvmpipe cuts every loop off near 65,535, nested ones included.)
    for (var p = local; p < count; p = p + WORKGROUP_SIZE) {
        let n = p / inner;
        let i = (n * dispatch.channels + channel) * inner + (p - n * inner);
        let x = input[i];
        let term = select(exact_product(x, grad_output[i]), vec2<f32>(0.0, 0.0), wa_gt_zero(x));
        let s = wa_two_sum_any(sum.x, term.x);
        sum = vec2<f32>(s.x, sum.y + (s.y + term.y));
    }
    shared_hi[local] = sum.x;
    shared_lo[local] = sum.y;
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
        workgroupBarrier();
        if local < stride {
            let s = wa_two_sum_any(shared_hi[local], shared_hi[local + stride]);
            let t = wa_two_sum_any(s.x, s.y + (shared_lo[local] + shared_lo[local + stride]));
            shared_hi[local] = t.x;
            shared_lo[local] = t.y;
        }
    }
    workgroupBarrier();
    if local == 0u {
        output[channel] = shared_hi[0] + shared_lo[0];
    }
}

// ---- RReLU in training -----------------------------------------------------

// A 32-bit integer hash (lowbias32: xor-shift-multiply, full avalanche).
fn hash32(v: u32) -> u32 {
    var x = v;
    x = x ^ (x >> 16u);
    x = x * 0x7feb352du;
    x = x ^ (x >> 15u);
    x = x * 0x846ca68bu;
    x = x ^ (x >> 16u);
    return x;
}

// Uniform in [0, 1) with 24 random bits, from (seed, element index): the
// same on every device and in cpu::rrelu_uniform.
fn uniform_of(i: u32) -> f32 {
    let key = hash32(dispatch.seed_lo ^ hash32(bitcast<u32>(dispatch.param.z) ^ 0x9e3779b9u));
    return f32(hash32(i ^ key) >> 8u) * 5.9604644775390625e-8;
}

// y = x * slope with slope = lower + (upper - lower) u where x is not > 0
// (LeakyReLU's forward with that slope), 1 elsewhere; both are written.
@compute @workgroup_size(WORKGROUP_SIZE)
fn rrelu_train(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element(workgroup, workgroups, local);
    if i < dispatch.len {
        let lower = dispatch.param.x;
        let upper = dispatch.param.y;
        let x = input[i];
        let slope = lower + wa_opaque((upper - lower) * uniform_of(i));
        output[i] = wa_leaky_relu_forward(x, slope);
        noise[i] = wa_leaky_relu_derivative(x, slope);
    }
}

// dx = dy * noise (the slopes the forward used).
@compute @workgroup_size(WORKGROUP_SIZE)
fn rrelu_backward(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let i = element(workgroup, workgroups, local);
    if i < dispatch.len {
        output[i] = grad_output[i] * input[i];
    }
}
