//! Accuracy sweep over f32 bit patterns: every op, forward and derivative
//! (and backward with `--backward`), on every adapter, against the f64 CPU
//! reference: the CLI's `wgpu-activations accuracy`, whose code
//! (`cli/src/accuracy.rs`, which documents the inputs, the
//! error measure and the options) this example runs.
//!
//! ```sh
//! cargo run --release --example accuracy                       # every 2^10-th bit pattern (4,194,304 inputs)
//! cargo run --release --example accuracy -- --stride-log2 16   # every 2^16-th (65,536 inputs)
//! cargo run --release --example accuracy -- --exhaustive       # all 2^32 bit patterns
//! cargo run --release --example accuracy -- --adapter vulkan --ops gelu,leaky_relu(0.2) --backward
//! cargo run --release --example accuracy -- --browser          # Chromium's WebGPU (Tint, SwiftShader) too
//! cargo run --release --example accuracy -- --json             # machine-readable, on stdout
//! cargo run --release --example accuracy -- --markdown-out accuracy.md
//! cargo run --release --example accuracy -- --half             # every f16 and bf16 pattern instead
//! ```

use clap::Parser;

#[path = "../src/accuracy.rs"]
mod accuracy;
#[path = "../src/args.rs"]
mod args;
#[path = "../src/baselines.rs"]
mod baselines;
#[path = "../src/json.rs"]
mod json;
#[path = "../src/progress.rs"]
mod progress;

fn main() {
    if let Err(e) = accuracy::run(&accuracy::AccuracyArgs::parse()) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
