// wgpu-activations: one entry point of the element-wise kernel, instantiated
// by src/wgsl.rs for each (name, body) of wgsl::ENTRY_POINTS in place of the
// «NAME» and «BODY» slots: `j` is the element index; the body reads input[j],
// grad_output[j] or output[j] and stores the result with element_store.
// «EACH_ITEM» is a loop over k < ITEMS, or `let k = 0u;` for one item (no
// loop: on lavapipe even a one-iteration loop slows heavy kernels down).
@compute @workgroup_size(WORKGROUP_SIZE)
fn {{NAME}}(
    @builtin(workgroup_id) workgroup: vec3<u32>,
    @builtin(num_workgroups) workgroups: vec3<u32>,
    @builtin(local_invocation_index) local: u32,
) {
    let first = first_element(workgroup, workgroups, local);
    {{EACH_ITEM}} {
        let i = first + k * WORKGROUP_SIZE;
        if i < dispatch.len {
            let j = dispatch.base + i;
            {{BODY}}
        }
    }
}
