// Baseline kernels for the benchmarks (benches/throughput.rs, `wgpu-activations bench` and
// examples/bench.rs, through src/bin/wgpu-activations/baselines.rs):
// the naive one-vec4-per-invocation copy, the two-in-one-out copy (a + b),
// and an empty kernel for the dispatch round trip.
@group(0) @binding(0) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

fn index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
    return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if i < arrayLength(&out) {
        out[i] = a[i];
    }
}

@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if i < arrayLength(&out) {
        out[i] = a[i] + b[i];
    }
}

@compute @workgroup_size(1)
fn empty() {}

// erf as a user would write it for GELU (WGSL has no erf): Abramowitz and
// Stegun 7.1.26 (absolute error 1.5e-7), the formula Burn's CubeCL uses.
fn naive_erf(x: vec4<f32>) -> vec4<f32> {
    let a = abs(x);
    let t = 1.0 / (1.0 + 0.3275911 * a);
    let p = t * (0.2548296 + t * (-0.28449674 + t * (1.4214137 + t * (-1.453152 + t * 1.0614054))));
    return sign(x) * (1.0 - p * exp(-a * a));
}

// Naive forwards of the smooth ops, as a user would write them with WGSL
// built-ins (default parameters; one vec4 per invocation): what each op of
// the crate is measured against in examples/bench.rs's "vs naive" column.
// They make no promise about NaN, infinities, signed zeros or accuracy.
fn naive_op(op: u32, x: vec4<f32>) -> vec4<f32> {
    switch op {
        case 0u: { return 1.0 / (1.0 + exp(-x)); }                                   // sigmoid
        case 1u: { return tanh(x); }                                                  // tanh
        case 2u: { return select(exp(x) - 1.0, x, x > vec4<f32>(0.0)); }              // elu
        case 3u: { return 1.0507009873554805 * select(1.6732632423543772 * (exp(x) - 1.0), x, x > vec4<f32>(0.0)); } // selu
        case 4u: { return max(x, vec4<f32>(0.0)) + min(vec4<f32>(0.0), exp(x) - 1.0); } // celu
        case 5u: { return 0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))); } // gelu_tanh
        case 6u: { return x / (1.0 + exp(-x)); }                                      // silu
        case 7u: { return x * tanh(log(1.0 + exp(x))); }                              // mish
        case 8u: { return select(log(1.0 + exp(x)), x, x > vec4<f32>(20.0)); }        // softplus
        case 9u: { return -log(1.0 + exp(-x)); }                                      // log_sigmoid
        case 10u: { return x / (1.0 + exp(-1.702 * x)); }                             // quick_gelu
        case 11u: { return select(0.8008694648742676 * (exp(min(x, vec4<f32>(-9.98377799987793e-7))) - 1.0 - x) + 0.5 * x, 0.8003960847854614 * x * x + 0.5 * x, x > vec4<f32>(0.0)); } // xielu
        case 12u: { return 0.5 * x * (1.0 + naive_erf(0.7071067811865476 * x)); }    // gelu
        default: { return x - tanh(x); }                                              // tanhshrink
    }
}

override NAIVE_OP: u32 = 0u;

@compute @workgroup_size(256)
fn naive(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
    let i = index(gid, groups);
    if i < arrayLength(&out) {
        out[i] = naive_op(NAIVE_OP, a[i]);
    }
}
