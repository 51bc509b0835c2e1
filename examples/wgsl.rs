//! Writes the portable WGSL of activations (`wgsl::portable_module`) to
//! files, for a WebGPU app in JavaScript (or any WebGPU implementation) to
//! load: `<name>.body.wgsl` (over `array<vec4<f32>>`) and `<name>.tail.wgsl`
//! (over `array<f32>`), and prints the uniform each dispatch needs.
//!
//! ```sh
//! cargo run --example wgsl -- gelu                       # ./gelu.body.wgsl, ./gelu.tail.wgsl
//! cargo run --example wgsl -- "leaky_relu(0.2)" silu --out web/shaders
//! cargo run --example wgsl -- --all --out web/shaders     # every op
//! ```
//!
//! Binding and dispatch are described in the docs of
//! `wgpu_activations::wgsl::portable_module` (with a JavaScript example).

use wgpu_activations::Activation;
use wgpu_activations::wgsl::{PORTABLE_WORKGROUP_SIZE, portable_module};

const USAGE: &str = "usage: wgsl [--out DIR] (--all | OP...)   e.g. wgsl gelu \"softplus(beta=2)\"";

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}\n{USAGE}");
        std::process::exit(2);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut out = std::path::PathBuf::from(".");
    let mut ops = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out = args.next().ok_or("--out needs a directory")?.into(),
            "--all" => ops.extend(Activation::ALL.iter().copied()),
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(());
            }
            op => ops.push(op.parse::<Activation>()?),
        }
    }
    if ops.is_empty() {
        return Err("no op given".into());
    }
    std::fs::create_dir_all(&out)?;
    for act in ops {
        act.validate()?;
        let module = portable_module(&act);
        let name = act.name();
        let body = out.join(format!("{name}.body.wgsl"));
        let tail = out.join(format!("{name}.tail.wgsl"));
        std::fs::write(&body, &module.body)?;
        std::fs::write(&tail, &module.tail)?;
        let mut param = act.param_values();
        param.resize(4, 0.0);
        println!(
            "{act}: {} and {}; uniform (32 bytes): len, base, 0, 0 as u32, then param = {param:?} \
             as f32; workgroup size {PORTABLE_WORKGROUP_SIZE}",
            body.display(),
            tail.display()
        );
    }
    Ok(())
}
