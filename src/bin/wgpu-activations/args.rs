//! Parsers for the command-line values the subcommands share (ops, modes,
//! element types, adapters; sizes are `api_timing::parse_size`), each failing with a message that says what is
//! accepted. Shared by the CLI and by `examples/{bench,accuracy}.rs` (which
//! include this file with `#[path]`).

#![allow(dead_code)] // each includer uses its own part

use wgpu_activations::{Activation, Dtype, Mode, ParseActivationError};

/// Edit distance, for "did you mean".
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut previous = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let substitute = previous + usize::from(ca != cb);
            previous = row[j + 1];
            row[j + 1] = substitute.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

/// `e` in words, with the three closest op names where the name itself is
/// unknown.
fn explain(e: ParseActivationError) -> String {
    let text = &e.input;
    let name = text.split('(').next().unwrap_or(text).trim().to_lowercase();
    let known = Activation::ALL.iter().any(|a| a.name() == name);
    let mut names: Vec<&str> = Activation::ALL.iter().map(|a| a.name()).collect();
    names.sort_by_key(|n| distance(&name, n));
    if known {
        format!("{e}")
    } else {
        format!(
            "{e}; did you mean {}? (`wgpu-activations list-ops` lists them all)",
            names[..3].join(", ")
        )
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
