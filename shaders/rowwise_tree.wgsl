// Row-wise reductions as trees in workgroup memory (see rowwise.wgsl):
// every invocation's value, then halves combined in log2(256) steps.

fn reduce_key_flags(lane: Lane, key: i32, flags: u32) -> KeyFlags {
    shared_key[lane.local] = key;
    shared_bad[lane.local] = flags;
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
        workgroupBarrier();
        if lane.local < stride {
            shared_key[lane.local] = max(shared_key[lane.local], shared_key[lane.local + stride]);
            shared_bad[lane.local] = combine_flags(shared_bad[lane.local], shared_bad[lane.local + stride]);
        }
    }
    workgroupBarrier();
    return KeyFlags(shared_key[0], shared_bad[0]);
}

fn reduce_pair(lane: Lane, sum: vec2<f32>) -> vec2<f32> {
    shared_hi[lane.local] = sum.x;
    shared_lo[lane.local] = sum.y;
    for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
        workgroupBarrier();
        if lane.local < stride {
            let s = combine(
                vec2<f32>(shared_hi[lane.local], shared_lo[lane.local]),
                vec2<f32>(shared_hi[lane.local + stride], shared_lo[lane.local + stride]),
            );
            shared_hi[lane.local] = s.x;
            shared_lo[lane.local] = s.y;
        }
    }
    workgroupBarrier();
    return vec2<f32>(shared_hi[0], shared_lo[0]);
}
