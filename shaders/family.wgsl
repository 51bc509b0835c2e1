// wgpu-activations: what every kernel family's module shares (gated.wgsl,
// prelu.wgsl, rowwise.wgsl), composed by src/family.rs between the function
// library and the family's template. Workgroups of WORKGROUP_SIZE
// invocations; src/family.rs spreads a flat count of them over an x-by-y
// grid, indexed y * num_workgroups.x + x.

const WORKGROUP_SIZE: u32 = 256u;

// The workgroup's place in the x-by-y grid.
fn workgroup_index(workgroup: vec3<u32>, workgroups: vec3<u32>) -> u32 {
    return workgroup.y * workgroups.x + workgroup.x;
}

// One element per invocation: the invocation's element.
fn element(workgroup: vec3<u32>, workgroups: vec3<u32>, local: u32) -> u32 {
    return workgroup_index(workgroup, workgroups) * WORKGROUP_SIZE + local;
}
