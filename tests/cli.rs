//! The `wgpu-activations` command-line tool, driven as a user would: files
//! written here byte for byte as `numpy.save` writes them (format 1.0,
//! header padded to 64 bytes), results compared bit for bit with the
//! library's own.

use std::path::{Path, PathBuf};
use std::process::Command;

use half::f16;
use wgpu_activations::{Activation, Context};

const EXE: &str = env!("CARGO_BIN_EXE_wgpu-activations");

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "wgpu-activations-cli-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What `numpy.save(path, array)` writes for a C-order array of `descr`.
fn numpy_bytes(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape = match shape {
        [one] => format!("({one},)"),
        dims => format!(
            "({})",
            dims.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let mut header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}");
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat(total.next_multiple_of(64) - total));
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn write_f32(path: &Path, shape: &[usize], values: &[f32]) {
    std::fs::write(
        path,
        numpy_bytes("<f4", shape, bytemuck::cast_slice(values)),
    )
    .unwrap();
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(EXE).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.contains("XDG_RUNTIME_DIR"))
        .collect::<Vec<_>>()
        .join("\n");
    (
        out.status.code().unwrap_or(-1),
        format!("{}{stderr}", String::from_utf8_lossy(&out.stdout)),
    )
}

fn arg(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn apply_round_trips_numpy_files_bit_for_bit_on_every_backend() {
    let dir = scratch("apply");
    let x: Vec<f32> = (0..24).map(|i| i as f32 * 0.37 - 4.0).collect();
    let dy: Vec<f32> = (0..24).map(|i| 1.0 - i as f32 * 0.05).collect();
    let (xp, dyp) = (dir.join("x.npy"), dir.join("dy.npy"));
    write_f32(&xp, &[2, 3, 4], &x);
    write_f32(&dyp, &[2, 3, 4], &dy);
    for ctx in Context::all_adapters().unwrap() {
        let backend = match ctx.backend() {
            wgpu::Backend::Vulkan => "vulkan",
            wgpu::Backend::Gl => "gl",
            _ => continue,
        };
        let act = Activation::Gelu;
        for (mode, expected) in [
            ("forward", ctx.forward(act, &x).unwrap()),
            ("derivative", ctx.derivative(act, &x).unwrap()),
            ("backward", ctx.backward(act, &x, &dy).unwrap()),
        ] {
            let out = dir.join(format!("{mode}-{backend}.npy"));
            let mut args = vec!["apply", "--op", "gelu", "--mode", mode, "--input", arg(&xp)];
            if mode == "backward" {
                args.extend(["--grad", arg(&dyp)]);
            }
            args.extend(["--output", arg(&out), "--backend", backend]);
            let (code, log) = run(&args);
            assert_eq!(code, 0, "{log}");
            // The file is what numpy.save would write for the result.
            let want = numpy_bytes("<f4", &[2, 3, 4], bytemuck::cast_slice(&expected));
            assert_eq!(std::fs::read(&out).unwrap(), want, "{mode} on {backend}");
        }
    }
    // Raw little-endian .f32 in and out.
    let raw_in = dir.join("x.f32");
    std::fs::write(&raw_in, bytemuck::cast_slice::<f32, u8>(&x)).unwrap();
    let raw_out = dir.join("y.f32");
    let (code, log) = run(&[
        "apply",
        "--op",
        "leaky_relu(0.2)",
        "--input",
        arg(&raw_in),
        "--output",
        arg(&raw_out),
    ]);
    assert_eq!(code, 0, "{log}");
    let ctx = Context::new().unwrap();
    let want = ctx
        .forward(
            Activation::LeakyRelu {
                negative_slope: 0.2,
            },
            &x,
        )
        .unwrap();
    assert_eq!(
        std::fs::read(&raw_out).unwrap(),
        bytemuck::cast_slice::<f32, u8>(&want)
    );
}

#[test]
fn float16_files_stay_float16_and_bf16_is_computed_as_asked() {
    let dir = scratch("f16");
    let x: Vec<f16> = (0..10)
        .map(|i| f16::from_f32(i as f32 * 0.5 - 2.5))
        .collect();
    let xp = dir.join("x16.npy");
    std::fs::write(&xp, numpy_bytes("<f2", &[10], bytemuck::cast_slice(&x))).unwrap();
    let out = dir.join("y16.npy");
    let (code, log) = run(&[
        "apply",
        "--op",
        "silu",
        "--input",
        arg(&xp),
        "--output",
        arg(&out),
    ]);
    assert_eq!(code, 0, "{log}");
    let ctx = Context::new().unwrap();
    let want: Vec<f16> = ctx.forward(Activation::Silu, &x).unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        numpy_bytes("<f2", &[10], bytemuck::cast_slice(&want))
    );
    // bf16: computed on bf16 values, written as float32 (exact widening).
    let x32: Vec<f32> = vec![0.1, -1.3, 2.7, 1e-3];
    let xp = dir.join("x32.npy");
    write_f32(&xp, &[4], &x32);
    let out = dir.join("ybf16.npy");
    let (code, log) = run(&[
        "apply",
        "--op",
        "tanh",
        "--input",
        arg(&xp),
        "--output",
        arg(&out),
        "--dtype",
        "bf16",
    ]);
    assert_eq!(code, 0, "{log}");
    let xb: Vec<half::bf16> = x32.iter().map(|&v| half::bf16::from_f32(v)).collect();
    let want: Vec<f32> = ctx
        .forward(Activation::Tanh, &xb)
        .unwrap()
        .iter()
        .map(|v| v.to_f32())
        .collect();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        numpy_bytes("<f4", &[4], bytemuck::cast_slice(&want))
    );
}

#[test]
fn bad_input_exits_with_2_and_says_what_to_do() {
    let dir = scratch("errors");
    let xp = dir.join("x.npy");
    write_f32(&xp, &[2, 3], &[1.0; 6]);
    let dy_bad = dir.join("dy.npy");
    write_f32(&dy_bad, &[3, 2], &[1.0; 6]);
    let x64 = dir.join("x64.npy");
    std::fs::write(
        &x64,
        numpy_bytes("<f8", &[2], bytemuck::cast_slice(&[1.0f64, 2.0])),
    )
    .unwrap();
    let text = dir.join("notes.npy");
    std::fs::write(&text, "not an array").unwrap();
    let out = dir.join("y.npy");
    let o = arg(&out);
    let missing = dir.join("missing.npy");
    let cases: [(&[&str], &str); 7] = [
        (
            &["apply", "--op", "gleu", "--input", arg(&xp), "--output", o],
            "gelu",
        ),
        (
            &[
                "apply",
                "--op",
                "gelu",
                "--input",
                arg(&missing),
                "--output",
                o,
            ],
            "cannot read",
        ),
        (
            &["apply", "--op", "gelu", "--input", arg(&x64), "--output", o],
            "float32",
        ),
        (
            &[
                "apply",
                "--op",
                "gelu",
                "--mode",
                "backward",
                "--input",
                arg(&xp),
                "--grad",
                arg(&dy_bad),
                "--output",
                o,
            ],
            "shape mismatch",
        ),
        (
            &[
                "apply",
                "--op",
                "gelu",
                "--input",
                arg(&text),
                "--output",
                o,
            ],
            "not a .npy file",
        ),
        (
            &[
                "apply",
                "--op",
                "gelu",
                "--mode",
                "backward",
                "--input",
                arg(&xp),
                "--output",
                o,
            ],
            "--grad",
        ),
        (
            &[
                "apply",
                "--op",
                "elu(alpha=nan)",
                "--input",
                arg(&xp),
                "--output",
                o,
            ],
            "alpha",
        ),
    ];
    for (args, hint) in cases {
        let (code, log) = run(args);
        assert_eq!(code, 2, "{args:?}: {log}");
        assert!(
            log.contains(hint),
            "{args:?}: {log:?} does not mention {hint:?}"
        );
        assert!(!out.exists(), "{args:?} wrote an output");
    }
}

#[test]
fn list_ops_and_adapters_describe_what_is_there() {
    let (code, log) = run(&["list-ops"]);
    assert_eq!(code, 0, "{log}");
    for act in Activation::ALL {
        assert!(
            log.contains(act.name()) && log.contains(act.formula()),
            "{} missing:\n{log}",
            act.name()
        );
    }
    assert!(
        log.contains("negative_slope=0.01") && log.contains("beta=1, threshold=20"),
        "{log}"
    );
    let (code, log) = run(&["adapters"]);
    assert_eq!(code, 0, "{log}");
    for ctx in Context::all_adapters().unwrap() {
        assert!(log.contains(&ctx.adapter_name()), "{log}");
    }
    assert!(log.contains("max_storage_buffer_binding_size"), "{log}");
}
