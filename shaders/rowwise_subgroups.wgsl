// Row-wise reductions with subgroup operations (see rowwise.wgsl; for wgpu
// devices with Features::SUBGROUP, naga needing no `enable subgroups;`,
// which a browser would): within each subgroup a max, an
// or and an add, or a shuffle-down tree of exact pair sums; then the first
// invocation combines the subgroups' results in a fixed order. Two barriers
// instead of nine. Subgroups are taken to be consecutive runs of
// local_invocation_index, as every implementation lays out a 1-D
// workgroup.

fn reduce_key_flags(lane: Lane, key: i32, flags: u32) -> KeyFlags {
    let sub_key = subgroupMax(key);
    let bad = subgroupOr(flags & 1u);
    let finite = subgroupAdd(flags >> 1u);
    let group = lane.local / lane.sub_size;
    if lane.sub == 0u {
        shared_key[group] = sub_key;
        shared_bad[group] = bad | (min(finite, 2u) << 1u);
    }
    workgroupBarrier();
    if lane.local == 0u {
        var all_key = shared_key[0];
        var all_flags = shared_bad[0];
        for (var g = 1u; g < WORKGROUP_SIZE / lane.sub_size; g = g + 1u) {
            all_key = max(all_key, shared_key[g]);
            all_flags = combine_flags(all_flags, shared_bad[g]);
        }
        shared_key[0] = all_key;
        shared_bad[0] = all_flags;
    }
    workgroupBarrier();
    return KeyFlags(shared_key[0], shared_bad[0]);
}

fn reduce_pair(lane: Lane, sum: vec2<f32>) -> vec2<f32> {
    var s = sum;
    for (var offset = lane.sub_size / 2u; offset > 0u; offset = offset / 2u) {
        s = combine(s, vec2<f32>(subgroupShuffleDown(s.x, offset), subgroupShuffleDown(s.y, offset)));
    }
    let group = lane.local / lane.sub_size;
    if lane.sub == 0u {
        shared_hi[group] = s.x;
        shared_lo[group] = s.y;
    }
    workgroupBarrier();
    if lane.local == 0u {
        var t = vec2<f32>(shared_hi[0], shared_lo[0]);
        for (var g = 1u; g < WORKGROUP_SIZE / lane.sub_size; g = g + 1u) {
            t = combine(t, vec2<f32>(shared_hi[g], shared_lo[g]));
        }
        shared_hi[0] = t.x;
        shared_lo[0] = t.y;
    }
    workgroupBarrier();
    return vec2<f32>(shared_hi[0], shared_lo[0]);
}
