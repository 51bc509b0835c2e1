// wgpu-activations: the row-wise kernels (softmax, log-softmax, softmin and
// their backward) over the last dimension of a row-major [rows, cols]
// tensor. src/rowwise.rs composes a module as the function library +
// family.wgsl + this file. Two shapes of every kernel:
//   <name>        one workgroup per row: each invocation walks the row with
//                 a stride of WORKGROUP_SIZE, then a tree reduction in
//                 workgroup memory (any number of columns);
//   <name>_short  one invocation per row, for short rows (many rows of a few
//                 columns would leave most of a workgroup idle; on CPU
//                 adapters, where barriers are dear, up to 4096 columns).
//
// Accuracy: the maximum is taken on order keys (no float max: drivers differ
// on NaN), x - max is carried exactly as a pair (TwoSum: e^(d + e) =
// e^d (1 + e)), and the sums are accumulated as unevaluated pairs hi + lo, so
// each result rounds a handful of times whatever the row length. PyTorch's
// specials: a row holding NaN or +inf, or only -inf, is all NaN; a -inf entry
// of any other row gives exactly 0 (log-softmax: -inf).

struct Dispatch {
    rows: u32,
    cols: u32,
    _pad0: u32,
    _pad1: u32,
    param: vec4<f32>,
}

@group(0) @binding(0) var<uniform> dispatch: Dispatch;
// Forward: x. Backward: the forward's output y (log-softmax: its output).
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read> grad_output: array<f32>;
@group(0) @binding(3) var<storage, read_write> output: array<f32>;

var<workgroup> shared_key: array<i32, WORKGROUP_SIZE>;
var<workgroup> shared_bad: array<u32, WORKGROUP_SIZE>;
var<workgroup> shared_hi: array<f32, WORKGROUP_SIZE>;
var<workgroup> shared_lo: array<f32, WORKGROUP_SIZE>;

// A quiet NaN built from a runtime value (a constant NaN is a shader-creation
// error in WGSL).
fn row_nan() -> f32 {
    return bitcast<f32>(0x7fc00000u | (dispatch.cols & 0u));
}

// The f32 whose order key (math.wgsl, wa_key) is k.
fn from_key(k: i32) -> f32 {
    return bitcast<f32>(select(u32(k), u32(-k) | 0x80000000u, k < 0));
}

// The element of the row, negated for softmin.
fn load(i: u32, negate: bool) -> f32 {
    let v = input[i];
    return select(v, -v, negate);
}

// NaN or +inf: the row's results are all NaN.
fn poisons_row(v: f32) -> bool {
    return wa_is_nan(v) || bitcast<u32>(v) == 0x7f800000u;
}

// (hi, lo) + v, hi + lo kept as an unevaluated sum.
fn accumulate(sum: vec2<f32>, v: f32) -> vec2<f32> {
    let s = wa_two_sum_any(sum.x, v);
    return vec2<f32>(s.x, sum.y + s.y);
}

// The backward's sum: + dy (log-softmax), or + dy y, the product exact
// (Dekker) so that the sum's error does not depend on its terms' sizes.
fn accumulate_term(sum: vec2<f32>, dy: f32, y: f32, is_log: bool) -> vec2<f32> {
    let term = backward_term(dy, y, is_log);
    let s = accumulate(sum, term.x);
    return vec2<f32>(s.x, s.y + term.y);
}

// The backward's term as an exact pair: dy (log-softmax), or dy y.
fn backward_term(dy: f32, y: f32, is_log: bool) -> vec2<f32> {
    let product = dy * y;
    let p = select(vec2<f32>(product, 0.0), wa_two_prod_exact(dy, y), wa_abs(product) < 3.0e38);
    return select(p, vec2<f32>(dy, 0.0), is_log);
}

// (hi, lo, lo2) + v: a sum in three parts, for the one-invocation-per-row
// kernels, which add a row's terms one after the other: lo gathers hi's
// rounding errors exactly too, so that a sum of many terms far below hi
// (a dominant entry's 1 and tiny rest) keeps the rest to f32 precision.
fn accumulate3(sum: vec3<f32>, v: f32) -> vec3<f32> {
    let s = wa_two_sum_any(sum.x, v);
    let t = wa_two_sum_any(sum.y, s.y);
    return vec3<f32>(s.x, t.x, sum.z + t.y);
}

// A three-part sum as a renormalised pair.
fn pair_of(sum: vec3<f32>) -> vec2<f32> {
    let lo = wa_two_sum_any(sum.y, sum.z);
    let s = wa_two_sum_any(sum.x, lo.x);
    return vec2<f32>(s.x, s.y + lo.y);
}

// The sum of two pairs, renormalised.
fn combine(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
    let s = wa_two_sum_any(a.x, b.x);
    return wa_two_sum_any(s.x, s.y + (a.y + b.y));
}

// x - max as an exact pair (d, e); e = 0 where d is -inf (x is -inf, or
// x - max overflows: the term is 0 either way, and TwoSum's e would be NaN).
fn centred(v: f32, max_value: f32) -> vec2<f32> {
    let d = wa_two_sum(v, -max_value);
    return vec2<f32>(d.x, select(d.y, 0.0, bitcast<u32>(d.x) == 0xff800000u));
}

// Per-row flags, combined by the reductions: bit 0, the row is poisoned
// (NaN or +inf); bits 1-2, how many entries are finite (0, 1, or 2 for two
// or more).
fn row_flags(v: f32) -> u32 {
    let finite = u32((bitcast<u32>(v) & 0x7fffffffu) < 0x7f800000u);
    return u32(poisons_row(v)) | (finite << 1u);
}

fn combine_flags(a: u32, b: u32) -> u32 {
    return ((a | b) & 1u) | (min((a >> 1u) + (b >> 1u), 2u) << 1u);
}

// e^(d + e) = e^d (1 + e) for an exact pair.
fn exp_pair(d: vec2<f32>) -> f32 {
    let t = wa_exp(d.x);
    return t + t * d.y;
}

// log(hi + lo) for hi + lo >= 1 (a softmax denominator): log1p(hi - 1) +
// lo / hi; hi - 1 is exact up to 2 and loses at most half an ULP of hi above.
fn log_sum(sum: vec2<f32>) -> f32 {
    return wa_log1p(sum.x - 1.0) + sum.y / sum.x;
}

// The result of the forward for one element, given the row's maximum, the
// sum of e^(x - max) and the row's flags. A log-softmax of 0 with another
// finite entry in the row is -0: the true value, -log(1 + rest), is
// negative, only below f32's range.
fn forward_result(v: f32, max_value: f32, sum: vec2<f32>, flags: u32, is_log: bool) -> f32 {
    let d = centred(v, max_value);
    let log_y = (d.x - log_sum(sum)) + d.y;
    let log_y_signed = select(log_y, -0.0, log_y == 0.0 && (flags >> 1u) >= 2u);
    let y = select(exp_pair(d) / (sum.x + sum.y), log_y_signed, is_log);
    // A row of -inf only: -inf - -inf is NaN in PyTorch too.
    let bad = (flags & 1u) != 0u || bitcast<u32>(max_value) == 0xff800000u;
    return select(y, row_nan(), bad);
}

// ---- One workgroup per row ---------------------------------------------

// Where an invocation sits: its index in the workgroup, and in its subgroup
// with the subgroup's size (0 and 1 where subgroups are not used).
struct Lane {
    local: u32,
    sub: u32,
    sub_size: u32,
}

// A row's largest order key and its flags (row_flags), as a reduction gives
// them to every invocation of the workgroup.
struct KeyFlags {
    key: i32,
    flags: u32,
}

// reduce_key_flags(lane, key, flags) -> KeyFlags and
// reduce_pair(lane, sum) -> vec2<f32>: a tree in workgroup memory
// (rowwise_tree.wgsl) or subgroup operations and one pass over the
// subgroups' results (rowwise_subgroups.wgsl, where the device has them).
{{REDUCTIONS}}

fn forward_row(row: u32, lane: Lane, negate: bool, is_log: bool) {
    let cols = dispatch.cols;
    let first = row * cols;
    var key = -2147483647 - 1;
    var flags = 0u;
    for (var j = lane.local; j < cols; j = j + WORKGROUP_SIZE) {
        let v = load(first + j, negate);
        flags = combine_flags(flags, row_flags(v));
        key = select(max(key, wa_key(v)), key, wa_is_nan(v));
    }
    let row_stats = reduce_key_flags(lane, key, flags);
    let max_value = from_key(row_stats.key);
    let flags_of_row = row_stats.flags;
    var sum = vec2<f32>(0.0, 0.0);
    for (var j = lane.local; j < cols; j = j + WORKGROUP_SIZE) {
        sum = accumulate(sum, exp_pair(centred(load(first + j, negate), max_value)));
    }
    let total = reduce_pair(lane, sum);
    for (var j = lane.local; j < cols; j = j + WORKGROUP_SIZE) {
        output[first + j] = forward_result(load(first + j, negate), max_value, total, flags_of_row, is_log);
    }
}

// Backward: softmax dx = y (dy - sum(dy y)); log-softmax dx = dy -
// e^ly sum(dy); softmin dx = -y (dy - sum(dy y)).
fn backward_row(row: u32, lane: Lane, negate: bool, is_log: bool) {
    let cols = dispatch.cols;
    let first = row * cols;
    var sum = vec2<f32>(0.0, 0.0);
    for (var j = lane.local; j < cols; j = j + WORKGROUP_SIZE) {
        sum = accumulate_term(sum, grad_output[first + j], input[first + j], is_log);
    }
    let pair = reduce_pair(lane, sum);
    let total = pair.x + pair.y;
    for (var j = lane.local; j < cols; j = j + WORKGROUP_SIZE) {
        output[first + j] = backward_result(input[first + j], grad_output[first + j], total, negate, is_log);
    }
}

fn backward_result(y: f32, dy: f32, total: f32, negate: bool, is_log: bool) -> f32 {
    let softmax = y * (dy - total);
    return select(select(softmax, -softmax, negate), dy - wa_exp(y) * total, is_log);
}

// ---- One invocation per row (short rows) ---------------------------------

fn forward_short(row: u32, negate: bool, is_log: bool) {
    let cols = dispatch.cols;
    let first = row * cols;
    var key = -2147483647 - 1;
    var flags = 0u;
    for (var j = 0u; j < cols; j = j + 1u) {
        let v = load(first + j, negate);
        flags = combine_flags(flags, row_flags(v));
        key = select(max(key, wa_key(v)), key, wa_is_nan(v));
    }
    let max_value = from_key(key);
    var sum = vec3<f32>(0.0, 0.0, 0.0);
    for (var j = 0u; j < cols; j = j + 1u) {
        sum = accumulate3(sum, exp_pair(centred(load(first + j, negate), max_value)));
    }
    let total = pair_of(sum);
    for (var j = 0u; j < cols; j = j + 1u) {
        output[first + j] = forward_result(load(first + j, negate), max_value, total, flags, is_log);
    }
}

fn backward_short(row: u32, negate: bool, is_log: bool) {
    let cols = dispatch.cols;
    let first = row * cols;
    var sum = vec3<f32>(0.0, 0.0, 0.0);
    for (var j = 0u; j < cols; j = j + 1u) {
        let term = backward_term(grad_output[first + j], input[first + j], is_log);
        sum = accumulate3(accumulate3(sum, term.x), term.y);
    }
    let pair = pair_of(sum);
    let total = pair.x + pair.y;
    for (var j = 0u; j < cols; j = j + 1u) {
        output[first + j] = backward_result(input[first + j], grad_output[first + j], total, negate, is_log);
    }
}

{{ENTRY_POINTS}}
