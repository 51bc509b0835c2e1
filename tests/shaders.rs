//! Every WGSL source parses and validates with naga (no GPU needed).

use wgpu_activations::Activation;
use wgpu_activations::wgsl::{self as shader, DispatchData, Storage, Width};

fn validate(label: &str, source: &str) {
    validate_with(
        label,
        source,
        naga::valid::Capabilities::IMMEDIATES | naga::valid::Capabilities::SHADER_INT64,
    );
}

/// Parses and validates `source` with only `capabilities` (panicking with
/// naga's message), and returns the module.
fn validate_with(
    label: &str,
    source: &str,
    capabilities: naga::valid::Capabilities,
) -> naga::Module {
    let module = naga::front::wgsl::parse_str(source)
        .unwrap_or_else(|e| panic!("{label}: WGSL parse error:\n{}", e.emit_to_string(source)));
    naga::valid::Validator::new(naga::valid::ValidationFlags::all(), capabilities)
        .validate(&module)
        .unwrap_or_else(|e| {
            panic!(
                "{label}: WGSL validation error:\n{}",
                e.emit_to_string(source)
            )
        });
    module
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

/// The 16-bit modules of every op, storage and width validate: the u32-word
/// ones (f16 and bf16) with only the capabilities their width needs, the
/// WGSL-f16 ones with `SHADER_FLOAT16`; and none holds a constant that
/// evaluates to inf or NaN (Tint would reject it).
#[test]
fn every_16_bit_kernel_validates() {
    use naga::valid::Capabilities;
    for act in Activation::ALL {
        for storage in [Storage::F16, Storage::F16Packed, Storage::Bf16] {
            for width in [Width::Vec4, Width::Packed, Width::Scalar] {
                let source =
                    shader::elementwise_module_typed(act, width, storage, DispatchData::Uniform, 1);
                let label = format!("{} {storage:?} {width:?}", act.name());
                assert!(
                    !source.contains("{{"),
                    "{label}: template slot left unfilled"
                );
                let mut capabilities = Capabilities::empty();
                if storage == Storage::F16 {
                    capabilities |= Capabilities::SHADER_FLOAT16;
                }
                if storage.body_width(width) == Width::Packed {
                    capabilities |= Capabilities::SHADER_INT64;
                }
                let module = validate_with(&label, &source, capabilities);
                assert!(
                    nonfinite_constant_bitcasts(&module, &source).is_empty(),
                    "{label}"
                );
                assert!(out_of_range_float_literals(&source).is_empty(), "{label}");
            }
        }
    }
}

/// The gated module of every kind and the row-wise module validate, with no
/// optional capability (they run on any WebGPU device), and hold no
/// constant that evaluates to inf or NaN.
#[test]
fn family_modules_validate_without_optional_capabilities() {
    let mut sources: Vec<(String, String)> = wgpu_activations::Gated::ALL
        .iter()
        .map(|&kind| (format!("gated {kind}"), shader::gated_module(kind)))
        .collect();
    sources.push(("rowwise".into(), shader::rowwise_module()));
    for (label, source) in &sources {
        assert!(
            !source.contains("{{"),
            "{label}: template slot left unfilled"
        );
        let module = validate_with(label, source, naga::valid::Capabilities::empty());
        let found = nonfinite_constant_bitcasts(&module, source);
        assert!(found.is_empty(), "{label}: {found:?}");
        let literals = out_of_range_float_literals(source);
        assert!(literals.is_empty(), "{label}: {literals:?}");
    }
}

/// The row-wise module with subgroup reductions validates with the subgroup
/// capability (and only the operations it uses).
#[test]
fn rowwise_subgroup_module_validates() {
    let source = shader::rowwise_module_subgroups();
    let module = naga::front::wgsl::parse_str(&source)
        .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&source)));
    use naga::valid::{
        Capabilities, ShaderStages, SubgroupOperationSet, ValidationFlags, Validator,
    };
    Validator::new(ValidationFlags::all(), Capabilities::SUBGROUP)
        .subgroup_stages(ShaderStages::COMPUTE)
        .subgroup_operations(
            SubgroupOperationSet::BASIC
                | SubgroupOperationSet::ARITHMETIC
                | SubgroupOperationSet::SHUFFLE_RELATIVE,
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}", e.emit_to_string(&source)));
    assert!(nonfinite_constant_bitcasts(&module, &source).is_empty());
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
        "shaders/baselines.wgsl",
        include_str!("../shaders/baselines.wgsl"),
    );
}

#[test]
fn the_library_holds_every_ops_functions() {
    let library = shader::library();
    for act in Activation::ALL {
        for direction in ["forward", "derivative"] {
            let name = format!("fn wa_{}_{direction}(", act.name());
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

/// Every decimal float literal in `source` whose value lies beyond f32's
/// finite range, as "line N: literal". Tint rejects such a literal in an
/// f32 context even when it would round to f32::MAX (`3.4028234664e38`:
/// "value 340282346640000009197379598318649212928.0 cannot be represented
/// as 'f32'"); naga rounds it and accepts it.
fn out_of_range_float_literals(source: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (number, line) in source.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let bytes = code.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            let starts_number = bytes[i].is_ascii_digit()
                && (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'));
            if !starts_number {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric()
                    || bytes[i] == b'.'
                    || ((bytes[i] == b'-' || bytes[i] == b'+')
                        && matches!(bytes[i - 1], b'e' | b'E')))
            {
                i += 1;
            }
            let literal = &code[start..i];
            if literal.starts_with("0x") || literal.starts_with("0X") {
                continue;
            }
            let digits = literal.trim_end_matches(['f', 'h']);
            if let Ok(value) = digits.parse::<f64>()
                && value.abs() > f64::from(f32::MAX)
            {
                found.push(format!("line {}: {literal}", number + 1));
            }
        }
    }
    found
}

/// The modules a browser compiles (and the function library a browser user
/// splices into a shader) hold no constant expression that evaluates to inf
/// or NaN and no float literal beyond f32's range: the classes of error Tint
/// rejects and naga accepts.
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
        for found in out_of_range_float_literals(source) {
            failures.push(format!("{label}, {found} is beyond f32::MAX"));
        }
    }
    assert!(
        failures.is_empty(),
        "constants that evaluate to inf or NaN, or float literals beyond f32's range (a \
         shader-creation error in the WGSL spec and in Chromium's Tint, which naga lets \
         through; build infinities from a runtime operand, write f32::MAX as \
         3.4028234663852886e38):\n{}",
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
    let literals = "fn e(x: f32) -> bool { return x > 3.4028234664e38 || x > 3.4028234663852886e38 \
                    || x < -1e39f || x > 2.5e-3 || x > 1e38 || x == 0x1p3f; } // 9e99";
    assert_eq!(
        out_of_range_float_literals(literals),
        ["line 1: 3.4028234664e38", "line 1: 1e39f"]
    );
    for line in [3, 4, 5, 6] {
        assert!(
            found
                .iter()
                .any(|f| f.starts_with(&format!("line {line}:"))),
            "line {line} not found in {found:?}"
        );
    }
}

/// The portable modules validate with none of naga's optional capabilities
/// (no immediates, no 64-bit integers: what every WebGPU device has), and
/// their workgroup size is the documented one.
#[test]
fn portable_modules_need_no_optional_capability() {
    for act in Activation::ALL {
        let portable = shader::portable_module(act);
        for (part, source) in [("body", &portable.body), ("tail", &portable.tail)] {
            let label = format!("{} portable {part}", act.name());
            validate_with(&label, source, naga::valid::Capabilities::empty());
            let default = format!(
                "override WORKGROUP_SIZE: u32 = {}u;",
                shader::PORTABLE_WORKGROUP_SIZE
            );
            assert!(source.contains(&default), "{label}: no `{default}`");
        }
    }
}

/// Every top-level name of `wgsl::library()` is prefixed (`wa_`, `Wa`,
/// `WA_`), so the library splices into a shader that defines the common
/// names itself (`main`, `sigmoid`, `gelu`, `relu_forward`, `exp`-like
/// helpers, `PI`, `Params`): the spliced module validates with naga and calls
/// both its own functions and the library's.
#[test]
fn the_library_splices_into_a_shader_that_uses_common_names() {
    let library = shader::library();
    let module = validate_with("library()", &library, naga::valid::Capabilities::empty());
    let mut names: Vec<String> = module
        .functions
        .iter()
        .filter_map(|(_, f)| f.name.clone())
        .collect();
    names.extend(module.types.iter().filter_map(|(_, t)| t.name.clone()));
    names.extend(module.constants.iter().filter_map(|(_, c)| c.name.clone()));
    let unprefixed: Vec<&String> = names
        .iter()
        .filter(|n| !(n.starts_with("wa_") || n.starts_with("Wa") || n.starts_with("WA_")))
        .collect();
    assert!(
        unprefixed.is_empty(),
        "unprefixed library names: {unprefixed:?}"
    );
    assert!(names.len() > 100, "only {} names found", names.len());

    let mut user = String::from(
        "const PI: f32 = 3.14159265;\n\
         struct Params { scale: f32, bias: f32 }\n\
         @group(0) @binding(0) var<storage, read_write> data: array<f32>;\n\
         @group(0) @binding(1) var<uniform> params: Params;\n\
         fn exp_approx(x: f32) -> f32 { return 1.0 + x; }\n\
         fn normal_cdf(x: f32) -> f32 { return 0.5; }\n\
         fn expm1(x: f32) -> f32 { return x; }\n\
         fn log1p(x: f32) -> f32 { return x; }\n\
         fn is_nan(x: f32) -> bool { return x != x; }\n",
    );
    // A function of the user's for every op name and the old unprefixed
    // forms (`gelu`, `gelu_forward`, `gelu_derivative`, ...).
    let mut calls = String::new();
    for act in Activation::ALL {
        let name = act.name();
        for suffix in [
            "",
            "_forward",
            "_derivative",
            "_forward_scaled",
            "_derivative_scaled",
        ] {
            user.push_str(&format!(
                "fn {name}{suffix}(x: f32) -> f32 {{ return x * params.scale; }}\n"
            ));
            calls.push_str(&format!("    y = y + {name}{suffix}(y);\n"));
        }
        let args: String = act.param_names().iter().map(|_| ", 0.5").collect();
        calls.push_str(&format!(
            "    y = y + wa_{name}_forward(y{args}) + wa_{name}_derivative(y{args});\n"
        ));
    }
    let source = format!(
        "{library}\n{user}\n@compute @workgroup_size(64)\n\
         fn main(@builtin(global_invocation_id) id: vec3<u32>) {{\n\
         \x20   var y = data[id.x] * PI + exp_approx(params.bias) + normal_cdf(1.0) + expm1(1.0) + log1p(1.0);\n\
         \x20   if is_nan(y) {{ y = 0.0; }}\n{calls}\
         \x20   data[id.x] = y;\n}}\n"
    );
    validate_with(
        "library spliced into a user's shader",
        &source,
        naga::valid::Capabilities::empty(),
    );
}

/// Every texture kernel variant (mode, in place, output format, 2-D or
/// array, alpha, dispatch data) of a few ops, and every op's modes on
/// Rgba32Float, validate: with no optional capability for the uniform
/// form, and none holds a constant that evaluates to inf or NaN.
#[test]
fn texture_modules_validate() {
    use wgpu_activations::{Alpha, Mode, TEXTURE_FORMATS, TextureKernel};
    let mut cases = Vec::new();
    for act in [
        Activation::Gelu,
        Activation::LeakyRelu {
            negative_slope: 0.2,
        },
    ] {
        for format in TEXTURE_FORMATS {
            for mode in Mode::ALL {
                for in_place in [false, true] {
                    for layered in [false, true] {
                        for alpha in [Alpha::Apply, Alpha::Keep] {
                            cases.push((
                                act,
                                TextureKernel {
                                    mode,
                                    in_place,
                                    format,
                                    layered,
                                    alpha,
                                },
                            ));
                        }
                    }
                }
            }
        }
    }
    for act in Activation::ALL {
        for mode in Mode::ALL {
            cases.push((
                *act,
                TextureKernel {
                    mode,
                    in_place: false,
                    format: wgpu::TextureFormat::Rgba32Float,
                    layered: true,
                    alpha: Alpha::Apply,
                },
            ));
        }
    }
    for (i, (act, kernel)) in cases.iter().enumerate() {
        // Both dispatch forms for every other case (halves the time).
        let data = if i % 2 == 0 {
            DispatchData::Uniform
        } else {
            DispatchData::Immediate
        };
        let label = format!("texture {} {kernel:?} {data:?}", act.name());
        let source = shader::texture_module(act, *kernel, data).expect("a texture format");
        assert!(
            !source.contains("{{"),
            "{label}: template slot left unfilled"
        );
        let capabilities = match data {
            DispatchData::Uniform => naga::valid::Capabilities::empty(),
            DispatchData::Immediate => naga::valid::Capabilities::IMMEDIATES,
        };
        let module = validate_with(&label, &source, capabilities);
        let found = nonfinite_constant_bitcasts(&module, &source);
        assert!(found.is_empty(), "{label}: {found:?}");
    }
    // Not a texture format of these kernels: an error, not a module.
    assert!(matches!(
        shader::texture_module(
            &Activation::Relu,
            TextureKernel {
                mode: Mode::Forward,
                in_place: false,
                format: wgpu::TextureFormat::Rgba8Unorm,
                layered: false,
                alpha: Alpha::Apply,
            },
            DispatchData::Uniform,
        ),
        Err(wgpu_activations::Error::TextureFormat { .. })
    ));
}
