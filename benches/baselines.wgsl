// Baseline kernels for the benchmarks (benches/throughput.rs, examples/bench.rs):
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
