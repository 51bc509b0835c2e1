//! Throughput of the activation kernels on every adapter, against copy
//! kernels measured in the same run: the CLI's `wgpu-activations bench`,
//! whose code (`cli/src/bench.rs`, documented there) this
//! example runs.
//!
//! ```sh
//! cargo run --release --example bench
//! cargo run --release --example bench -- --sizes 2^20,2^24 --ops sigmoid,relu,gelu
//! cargo run --release --example bench -- --adapter vulkan --modes forward --json
//! cargo run --release --example bench -- --api --adapter vulkan --sizes 2^10,2^24
//! cargo run --release --example bench -- --help
//! ```

use clap::Parser;

#[path = "../src/api_timing.rs"]
mod api_timing;
#[path = "../src/args.rs"]
mod args;
#[path = "../src/baselines.rs"]
mod baselines;
#[path = "../src/bench.rs"]
mod bench;
#[path = "../src/json.rs"]
mod json;
#[path = "../src/progress.rs"]
mod progress;

fn main() {
    if let Err(e) = bench::run(&bench::BenchArgs::parse()) {
        eprintln!("error: {e}");
        std::process::exit(2);
    }
}
