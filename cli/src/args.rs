//! Parsers for the command-line values the subcommands share (ops, modes,
//! element types, adapters; sizes are `api_timing::parse_size`), each failing with a message that says what is
//! accepted. Shared by the CLI and by `examples/{bench,accuracy}.rs` (which
//! include this file with `#[path]`).

#![allow(dead_code)] // each includer uses its own part

use wgpu_activations::{Activation, Dtype, Mode, ParseActivationError};

/// `e` in words; where the name itself is unknown (the library's message
/// then suggests the closest names), with a pointer to `list-ops`.
fn explain(e: ParseActivationError) -> String {
    if e.reason.contains("did you mean") {
        format!("{e} (`wgpu-activations list-ops` lists them all)")
    } else {
        e.to_string()
    }
}

/// One op, as `str::parse::<Activation>` reads it.
pub fn parse_op(text: &str) -> Result<Activation, String> {
    text.parse::<Activation>().map_err(explain)
}

/// A comma-separated list of ops (`gelu,leaky_relu(0.2),softplus(beta=2,
/// threshold=10)`), as [`Activation::parse_list`] reads it.
#[derive(Clone, Debug)]
pub struct OpList(pub Vec<Activation>);

/// `--ops` values.
pub fn parse_ops(text: &str) -> Result<OpList, String> {
    let ops = Activation::parse_list(text).map_err(explain)?;
    if ops.is_empty() {
        return Err("the list names no op".into());
    }
    Ok(OpList(ops))
}

/// `forward`, `derivative` or `backward`.
pub fn parse_mode(text: &str) -> Result<Mode, String> {
    let text = text.trim().to_lowercase();
    Mode::ALL
        .into_iter()
        .find(|m| m.entry_point() == text)
        .ok_or_else(|| format!("unknown mode {text:?} (forward, derivative, backward)"))
}

/// `f32`, `f16` or `bf16` (or `float32`, `float16`, `half`, `bfloat16`).
pub fn parse_dtype(text: &str) -> Result<Dtype, String> {
    match text.trim() {
        "f32" | "float32" => Ok(Dtype::F32),
        "f16" | "float16" | "half" => Ok(Dtype::F16),
        "bf16" | "bfloat16" => Ok(Dtype::Bf16),
        _ => Err(format!("{text:?} is not one of f32, f16, bf16")),
    }
}

/// The error for an `--adapter TEXT` that matches no adapter's name or
/// backend: what there is (`found`, as "name (backend)").
pub fn no_adapter_matches(wanted: &str, found: &[String]) -> String {
    format!(
        "no adapter matches --adapter {wanted:?} (it matches a substring of the name or \
         backend; found: {})",
        if found.is_empty() {
            "none".to_string()
        } else {
            found.join(", ")
        }
    )
}
