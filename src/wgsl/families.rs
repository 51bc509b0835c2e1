//! The WGSL of the kernel families beyond the unary ops: the gated, row-wise
//! and PReLU/RReLU modules and the 16-bit conversions the families go
//! through, each by its name in a family plan. Every family module is the
//! one function library, `shaders/family.wgsl` (the workgroup size and grid
//! indexing every family kernel shares) and the family's own template, so
//! no activation's math is written twice. The pipelines that compile these
//! modules and the plans that dispatch them are `crate::families`'.

use super::{HALF_BF16_WGSL, HALF_F16_PACKED_WGSL, has_scaled, library_with};
use crate::{Gated, Precision, RowOp};

/// A family module: the function library, `shaders/family.wgsl` and the
/// family's `template`.
fn compose(template: &str, precision: Precision) -> String {
    format!(
        "{}\n{}\n{template}",
        library_with(precision),
        include_str!("../../shaders/family.wgsl")
    )
}

/// The name of a family module in a plan at `precision`: `base` itself
/// for the precise tier, `base@fast` for the fast one.
pub(crate) fn module_name(base: &str, precision: Precision) -> String {
    match precision {
        Precision::Precise => base.to_string(),
        Precision::Fast => format!("{base}@{precision}"),
    }
}

/// The WGSL of a family module by its name in a plan ([`module_name`]).
pub(crate) fn module_source(module: &str) -> String {
    let (base, precision) = match module.split_once('@') {
        Some((base, tier)) => (base, tier.parse().expect("a plan names a tier")),
        None => (module, Precision::Precise),
    };
    match base {
        "rowwise" => rowwise_module_with(false, precision),
        "rowwise_subgroups" => rowwise_module_with(true, precision),
        "prelu" => prelu_module(),
        "convert_f16" | "convert_bf16" => convert_module(base),
        gated => gated_module_with(
            gated
                .parse()
                .expect("a plan names a family module or a gated kind"),
            precision,
        ),
    }
}

/// The 16-bit conversion module (`"convert_f16"` or `"convert_bf16"`): the
/// dtype's conversions on u32 words (exact, no optional capability),
/// `shaders/family.wgsl` and `shaders/convert.wgsl`.
fn convert_module(module: &str) -> String {
    let conversions = if module == "convert_f16" {
        HALF_F16_PACKED_WGSL
    } else {
        HALF_BF16_WGSL
    };
    format!(
        "{conversions}\n{}\n{}",
        include_str!("../../shaders/family.wgsl"),
        include_str!("../../shaders/convert.wgsl")
    )
}

/// The bindings a family module's kernels write (`read_write` in its
/// template): the rest are read only. (A test checks this against the WGSL.)
pub(crate) fn written_bindings(module: &str) -> &'static [u32] {
    if module.starts_with("rowwise") {
        &[3]
    } else {
        &[4, 5]
    }
}

/// The module of `kind`: the function library, `shaders/family.wgsl` and
/// `shaders/gated.wgsl`.
pub fn gated_module(kind: Gated) -> String {
    gated_module_with(kind, Precision::Precise)
}

/// [`gated_module`] at `precision`.
pub(crate) fn gated_module_with(kind: Gated, precision: Precision) -> String {
    let gate = kind.gate();
    let call = |suffix: &str| format!("wa_{}_{suffix}(b)", gate.name());
    let scaled = |direction: &str| {
        if has_scaled(&gate, direction) {
            call(&format!("{direction}_scaled"))
        } else {
            format!("vec2<f32>({}, 1.0)", call(direction))
        }
    };
    let template = include_str!("../../shaders/gated.wgsl")
        .replace("{{GATE_FORWARD}}", &scaled("forward"))
        .replace("{{GATE_DERIVATIVE}}", &scaled("derivative"));
    compose(&template, precision)
}

/// The module of the PReLU and RReLU kernels: the function library,
/// `shaders/family.wgsl` and `shaders/prelu.wgsl`. Piecewise linear and
/// exact, so the same in both precision tiers.
pub fn prelu_module() -> String {
    compose(include_str!("../../shaders/prelu.wgsl"), Precision::Precise)
}

/// On GPUs, rows of at most this many columns run one invocation per row
/// (the `_short` kernels); longer rows one workgroup per row.
pub const SHORT_ROW: usize = 32;

/// On CPU adapters (lavapipe, llvmpipe, WARP, SwiftShader), where a
/// workgroup barrier is expensive, rows of up to this many columns run one
/// invocation per row (measured on lavapipe, 2^24 elements in rows of 1024:
/// softmax 552 -> 104 ms, its backward 286 -> 96 ms).
pub const SHORT_ROW_CPU: usize = 4096;

/// The module of the row-wise kernels: the function library,
/// `shaders/family.wgsl`, the template and an entry point per op, direction
/// and row shape.
pub fn rowwise_module() -> String {
    rowwise_module_with(false, Precision::Precise)
}

/// [`rowwise_module`] with its reductions on subgroup operations, for wgpu
/// devices with `Features::SUBGROUP` (naga takes subgroup built-ins without
/// `enable subgroups;`, and rejects that directive; a browser's WebGPU would
/// need it first).
pub fn rowwise_module_subgroups() -> String {
    rowwise_module_with(true, Precision::Precise)
}

/// [`rowwise_module`] (or [`rowwise_module_subgroups`]) at `precision`.
pub(crate) fn rowwise_module_with(subgroups: bool, precision: Precision) -> String {
    let (lane_params, lane, reductions) = if subgroups {
        (
            ", @builtin(subgroup_invocation_id) sub: u32, @builtin(subgroup_size) sub_size: u32",
            "Lane(local, sub, sub_size)",
            include_str!("../../shaders/rowwise_subgroups.wgsl"),
        )
    } else {
        (
            "",
            "Lane(local, 0u, 1u)",
            include_str!("../../shaders/rowwise_tree.wgsl"),
        )
    };
    let mut entries = String::new();
    for op in RowOp::ALL {
        let (name, negate, log) = (op.name(), op.negates(), op.is_log());
        for (suffix, body) in [("", "forward"), ("_backward", "backward")] {
            entries.push_str(&format!(
                "@compute @workgroup_size(WORKGROUP_SIZE)\n\
                 fn {name}{suffix}(@builtin(workgroup_id) workgroup: vec3<u32>, \
                 @builtin(num_workgroups) workgroups: vec3<u32>, \
                 @builtin(local_invocation_index) local: u32{lane_params}) {{\n    \
                 let row = workgroup_index(workgroup, workgroups);\n    \
                 if row < dispatch.rows {{\n        {body}_row(row, {lane}, {negate}, {log});\n    }}\n}}\n\n\
                 @compute @workgroup_size(WORKGROUP_SIZE)\n\
                 fn {name}{suffix}_short(@builtin(workgroup_id) workgroup: vec3<u32>, \
                 @builtin(num_workgroups) workgroups: vec3<u32>, \
                 @builtin(local_invocation_index) local: u32) {{\n    \
                 let row = element(workgroup, workgroups, local);\n    \
                 if row < dispatch.rows {{\n        {body}_short(row, {negate}, {log});\n    }}\n}}\n\n"
            ));
        }
    }
    let template = include_str!("../../shaders/rowwise.wgsl")
        .replace("{{REDUCTIONS}}", reductions)
        .replace("{{ENTRY_POINTS}}", &entries);
    compose(&template, precision)
}

#[cfg(test)]
mod tests {
    use super::{convert_module, written_bindings};

    /// `written_bindings` names exactly the `read_write` bindings of each
    /// family template, so the 16-bit path narrows every output and widens
    /// every input.
    #[test]
    fn written_bindings_match_the_templates() {
        for (module, template) in [
            ("swiglu", include_str!("../../shaders/gated.wgsl")),
            ("prelu", include_str!("../../shaders/prelu.wgsl")),
            ("rowwise", include_str!("../../shaders/rowwise.wgsl")),
            (
                "rowwise_subgroups",
                include_str!("../../shaders/rowwise.wgsl"),
            ),
        ] {
            let declared: Vec<u32> = template
                .lines()
                .filter(|line| line.contains("var<storage, read_write>"))
                .filter_map(|line| {
                    let start = line.find("@binding(")? + "@binding(".len();
                    let end = start + line[start..].find(')')?;
                    line[start..end].parse().ok()
                })
                .collect();
            assert_eq!(written_bindings(module), declared.as_slice(), "{module}");
        }
    }

    /// Both conversion modules validate in naga with no optional capability.
    #[test]
    fn convert_modules_validate() {
        for module in ["convert_f16", "convert_bf16"] {
            let source = convert_module(module);
            let parsed = naga::front::wgsl::parse_str(&source)
                .unwrap_or_else(|e| panic!("{module}: {}", e.emit_to_string(&source)));
            naga::valid::Validator::new(
                naga::valid::ValidationFlags::all(),
                naga::valid::Capabilities::empty(),
            )
            .validate(&parsed)
            .unwrap_or_else(|e| panic!("{module}: {}", e.emit_to_string(&source)));
        }
    }
}
