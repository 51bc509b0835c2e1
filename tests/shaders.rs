//! Every WGSL source parses and validates with naga (no GPU needed).

use wgpu_activations::Activation;
use wgpu_activations::wgsl::{self as shader, DispatchData, Width};

fn validate(label: &str, source: &str) {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{label}: WGSL parse error:\n{}", e.emit_to_string(source)));
    naga::valid::Validator::new(
        naga::valid::ValidationFlags::all(),
        naga::valid::Capabilities::IMMEDIATES | naga::valid::Capabilities::SHADER_INT64,
    )
    .validate(&module)
    .unwrap_or_else(|e| {
        panic!(
            "{label}: WGSL validation error:\n{}",
            e.emit_to_string(source)
        )
    });
}

#[test]
fn math_helpers_validate() {
    validate("math.wgsl", shader::MATH_WGSL);
}

#[test]
fn function_library_validates() {
    validate("library()", &shader::library());
}

#[test]
fn every_composed_kernel_validates() {
    for act in Activation::ALL {
        for width in [Width::Vec4, Width::Packed, Width::Scalar] {
            for data in [DispatchData::Immediate, DispatchData::Uniform] {
                for items in [1, 2] {
                    let source = shader::elementwise_module(act, width, data, items);
                    assert!(
                        !source.contains("{{"),
                        "{}: template slot left unfilled",
                        act.name()
                    );
                    validate(
                        &format!("{} {width:?} {data:?} items {items}", act.name()),
                        &source,
                    );
                }
            }
        }
    }
}

#[test]
fn kernel_entry_points_are_the_three_modes_out_of_and_in_place() {
    let source = shader::elementwise_module(
        &Activation::Sigmoid,
        Width::Vec4,
        DispatchData::Immediate,
        1,
    );
    let module = naga::front::wgsl::parse_str(&source).unwrap();
    let mut names: Vec<&str> = module
        .entry_points
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "backward",
            "backward_in_place",
            "derivative",
            "derivative_in_place",
            "forward",
            "forward_in_place"
        ]
    );
}

#[test]
fn benchmark_baseline_kernels_validate() {
    validate(
        "benches/baselines.wgsl",
        include_str!("../benches/baselines.wgsl"),
    );
}

#[test]
fn the_library_holds_every_ops_functions() {
    let library = shader::library();
    for act in Activation::ALL {
        for direction in ["forward", "derivative"] {
            let name = format!("fn {}_{direction}(", act.name());
            assert!(
                library.contains(&name),
                "{name} missing from wgsl::library()"
            );
        }
    }
}

/// The integer values of `handle` when it is a constant: a literal, a named
/// constant, or a vector composed or splatted from them (naga folds `const`
/// arithmetic such as `0x7f000000u | 0x00800000u` into literals, but not
/// `bitcast`).
fn constant_integers(
    module: &naga::Module,
    expressions: &naga::Arena<naga::Expression>,
    handle: naga::Handle<naga::Expression>,
) -> Option<Vec<u64>> {
    use naga::{Expression as E, Literal as L};
    match &expressions[handle] {
        E::Literal(L::U32(v)) => Some(vec![u64::from(*v)]),
        E::Literal(L::I32(v)) => Some(vec![u64::from(*v as u32)]),
        E::Literal(L::AbstractInt(v)) => Some(vec![*v as u64]),
        E::Literal(L::U64(v)) => Some(vec![*v]),
        E::Literal(L::I64(v)) => Some(vec![*v as u64]),
        E::Constant(c) => {
            let init = module.constants[*c].init;
            constant_integers(module, &module.global_expressions, init)
        }
        E::Splat { value, .. } => constant_integers(module, expressions, *value),
        E::Compose { components, .. } => {
            let mut all = Vec::new();
            for &c in components {
                all.extend(constant_integers(module, expressions, c)?);
            }
            Some(all)
        }
        _ => None,
    }
}

/// Every `bitcast` to a float type of a constant operand whose value is an
/// infinity or a NaN, as "line N: bits 0x...".
///
/// The WGSL spec makes a const-expression that evaluates to inf or NaN a
/// shader-creation error, and Chromium's Tint enforces it ("value inf cannot
/// be represented as 'f32'"). naga rejects such values wherever its constant
/// evaluator runs, but it does not evaluate `bitcast`, so
/// `bitcast<f32>(0x7f800000u)` passes naga and fails in a browser: this
/// check catches it without one.
fn nonfinite_constant_bitcasts(module: &naga::Module, source: &str) -> Vec<String> {
    let mut found = Vec::new();
    let functions = module
        .functions
        .iter()
        .map(|(_, f)| f)
        .chain(module.entry_points.iter().map(|e| &e.function));
    let arenas = functions
        .map(|f| &f.expressions)
        .chain(std::iter::once(&module.global_expressions));
    for expressions in arenas {
        for (handle, expression) in expressions.iter() {
            let naga::Expression::As {
                expr,
                kind: naga::ScalarKind::Float,
                convert: None,
            } = *expression
            else {
                continue;
            };
            let Some(values) = constant_integers(module, expressions, expr) else {
                continue;
            };
            for bits in values {
                let finite = if bits > u64::from(u32::MAX) {
                    f64::from_bits(bits).is_finite()
                } else {
                    f32::from_bits(bits as u32).is_finite()
                };
                if !finite {
                    let line = expressions.get_span(handle).location(source).line_number;
                    found.push(format!("line {line}: bitcast of {bits:#x}"));
                }
            }
        }
    }
    found
}

/// The modules a browser compiles (and the function library a browser user
/// splices into a shader) hold no constant expression that evaluates to inf
/// or NaN: the class of error Tint rejects and naga accepts.
#[test]
fn no_constant_evaluates_to_inf_or_nan() {
    let mut sources = vec![("library()".to_string(), shader::library())];
    for act in Activation::ALL {
        let portable = shader::portable_module(act);
        sources.push((format!("{} portable body", act.name()), portable.body));
        sources.push((format!("{} portable tail", act.name()), portable.tail));
    }
    let mut failures = Vec::new();
    for (label, source) in &sources {
        let module = naga::front::wgsl::parse_str(source)
            .unwrap_or_else(|e| panic!("{label}: {}", e.emit_to_string(source)));
        for found in nonfinite_constant_bitcasts(&module, source) {
            failures.push(format!("{label}, {found}"));
        }
    }
    assert!(
        failures.is_empty(),
        "constant expressions that evaluate to inf or NaN (a shader-creation error in the \
         WGSL spec and in Chromium's Tint; build the value from a runtime operand instead):\n{}",
        failures.join("\n")
    );
}

/// The check above finds what it is meant to find: a constant infinity and
/// NaN through `bitcast`, directly and through a named constant, a folded
/// expression and a vector, and nothing in runtime bitcasts.
#[test]
fn the_constant_check_finds_constant_infinities() {
    let source = "
        const INF_BITS: u32 = 0x7f800000u;
        fn a() -> f32 { return bitcast<f32>(0x7f800000u); }
        fn b() -> f32 { return bitcast<f32>(INF_BITS); }
        fn c() -> f32 { return bitcast<f32>(0x7f000000u | 0x00c00000u); }
        fn d() -> vec2<f32> { return bitcast<vec2<f32>>(vec2<u32>(0u, 0xff800000u)); }
        fn fine(x: f32) -> f32 { return bitcast<f32>(bitcast<u32>(x) | 0x7f800000u) + bitcast<f32>(0x3f800000u); }
    ";
    let module = naga::front::wgsl::parse_str(source).unwrap();
    let found = nonfinite_constant_bitcasts(&module, source);
    assert_eq!(found.len(), 4, "{found:?}");
    for line in [3, 4, 5, 6] {
        assert!(
            found
                .iter()
                .any(|f| f.starts_with(&format!("line {line}:"))),
            "line {line} not found in {found:?}"
        );
    }
}
