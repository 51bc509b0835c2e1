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
