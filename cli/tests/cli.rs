//! The `wgpu-activations` command-line tool, driven as a user would: files
//! written here byte for byte as `numpy.save` writes them (format 1.0,
//! header padded to 64 bytes), results compared bit for bit with the
//! library's own.

use std::path::{Path, PathBuf};
use std::process::Command;

use half::f16;
use wgpu_activations::accuracy::{self, strided_chunk, strided_len, target};
use wgpu_activations::{Activation, Context, Mode, Precision};

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

/// Exit status, stdout and stderr (less EGL's XDG_RUNTIME_DIR complaint).
fn run_split(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(EXE).args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| !l.contains("XDG_RUNTIME_DIR"))
        .collect::<Vec<_>>()
        .join("\n");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

/// Exit status and stdout followed by stderr.
fn run(args: &[&str]) -> (i32, String) {
    let (code, stdout, stderr) = run_split(args);
    (code, format!("{stdout}{stderr}"))
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
    // torch.nn.Threshold has no defaults, and "threshold" does not parse
    // without them: list-ops says so instead of printing ALL's example.
    assert!(
        log.contains("threshold (required), value (required)") && !log.contains("threshold=0.1"),
        "{log}"
    );
    assert!(
        log.contains("gelu_pytorch_tanh") && log.contains("relu2") && !log.contains("prelu"),
        "the Hugging Face names that parse are listed:\n{log}"
    );
    let (code, log) = run(&["adapters"]);
    assert_eq!(code, 0, "{log}");
    for ctx in Context::all_adapters().unwrap() {
        assert!(log.contains(&ctx.adapter_name()), "{log}");
    }
    assert!(log.contains("max_storage_buffer_binding_size"), "{log}");
}

/// No progress bar where stderr is a pipe: no terminal escapes, no
/// "% ~ETA left" line.
fn assert_no_progress_bar(stderr: &str) {
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains("left  "),
        "a progress bar on a pipe: {stderr:?}"
    );
}

#[test]
fn accuracy_reports_what_the_library_measures_within_target() {
    const STRIDE_LOG2: u32 = 20;
    let (code, stdout, stderr) = run_split(&[
        "accuracy",
        "--ops",
        "relu,sigmoid",
        "--stride-log2",
        &STRIDE_LOG2.to_string(),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_no_progress_bar(&stderr);
    let n = strided_len(STRIDE_LOG2);
    assert!(
        stdout.contains(&format!(
            "every 2^{STRIDE_LOG2}-th f32 bit pattern ({n} inputs)"
        )),
        "{stdout}"
    );
    // The Markdown rows: adapter, backend, op, mode, max scaled ULP, at x,
    // max ULP, at x, mean ULP, rules broken (5 columns), target, result.
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with("| "))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .filter(|cells: &Vec<&str>| cells.len() == 16)
        .collect();
    let x = strided_chunk(STRIDE_LOG2, 0, n as usize);
    let mut checked = 0;
    for ctx in Context::all_adapters().unwrap() {
        let backend = format!("{:?}", ctx.backend());
        for act in [Activation::Relu, Activation::Sigmoid] {
            for mode in [Mode::Forward, Mode::Derivative] {
                let row = rows
                    .iter()
                    .find(|r| {
                        r[0] == ctx.adapter_name()
                            && r[1] == backend
                            && r[2] == act.name()
                            && r[3] == format!("{mode:?}").to_lowercase()
                    })
                    .unwrap_or_else(|| panic!("no row for {act} {mode:?} on {backend}:\n{stdout}"));
                let scaled: f64 = row[4].parse().unwrap();
                let ulps: f64 = row[6].parse().unwrap();
                // What the library's sweep measures on the same inputs.
                let stats = accuracy::sweep(&ctx, act, mode, &x).unwrap();
                assert_eq!(ulps, stats.worst.ulps, "{act} {mode:?} on {backend}");
                assert_eq!(row[4], format!("{:.3}", stats.worst.scaled));
                assert_eq!(row[9], "0", "rules broken: {row:?}");
                match target(act, mode) {
                    None => assert_eq!(ulps, 0.0, "{act} {mode:?} is not bit-exact"),
                    Some(limit) => assert!(scaled <= limit, "{act} {mode:?}: {scaled} > {limit}"),
                }
                assert_eq!(row[15], "PASS", "{row:?}");
                checked += 1;
            }
        }
    }
    assert!(checked >= 4, "{stdout}");
    assert!(stdout.contains("Every op meets its target."), "{stdout}");
}

#[test]
fn bench_prints_a_row_per_op_with_positive_figures() {
    let (code, stdout, stderr) = run_split(&[
        "bench",
        "--ops",
        "relu,gelu",
        "--sizes",
        "2^10",
        "--modes",
        "forward,backward",
        "--iters",
        "2",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_no_progress_bar(&stderr);
    for ctx in Context::all_adapters().unwrap() {
        // Each adapter's table follows a line "== name (backend)".
        let header = format!("{} ({:?})", ctx.adapter_name(), ctx.backend());
        let section = stdout
            .split("\n== ")
            .find(|s| s.lines().next() == Some(header.as_str()))
            .unwrap_or_else(|| panic!("no section {header:?}:\n{stdout}"));
        for op in ["relu", "gelu"] {
            for mode in ["forward", "backward"] {
                // op, mode, dtype, N, GB/s, ratio (2 words), time/call (2 words), ...
                let row: Vec<&str> = section
                    .lines()
                    .map(|l| l.split_whitespace().collect::<Vec<_>>())
                    .find(|w| w.len() >= 9 && w[0] == op && w[1] == mode)
                    .unwrap_or_else(|| panic!("no {op} {mode} row in {header}:\n{section}"));
                assert_eq!((row[2], row[3]), ("float32", "2^10"), "{row:?}");
                let gbps: f64 = row[4].parse().unwrap();
                let ratio: f64 = row[5].parse().unwrap();
                let time: f64 = row[7].parse().unwrap();
                assert!(
                    gbps > 0.0 && gbps.is_finite() && ratio > 0.0 && time > 0.0,
                    "{row:?}"
                );
                assert!(["ns", "us", "ms", "s"].contains(&row[8]), "{row:?}");
            }
        }
        assert!(section.contains("summary "), "{section}");
    }
    // --api: apply and the kernel alone per op, positive medians.
    let (code, stdout, stderr) = run_split(&[
        "bench",
        "--api",
        "--ops",
        "relu",
        "--sizes",
        "2^10",
        "--adapter",
        "vulkan",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    for api in ["apply", "kernel"] {
        let row: Vec<&str> = stdout
            .lines()
            .map(|l| l.split_whitespace().collect::<Vec<_>>())
            .find(|w| w.len() == 7 && w[0] == "relu" && w[2] == api)
            .unwrap_or_else(|| panic!("no relu {api} row:\n{stdout}"));
        for figure in &row[3..] {
            assert!(figure.parse::<f64>().unwrap() > 0.0, "{row:?}");
        }
    }
}

#[test]
fn accuracy_naive_judges_the_bench_kernels_forward_only() {
    let (code, stdout, stderr) = run_split(&[
        "accuracy",
        "--naive",
        "--ops",
        "sigmoid,gelu_tanh",
        "--stride-log2",
        "16",
        "--within",
        "10",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("those in [-10, 10] only"), "{stdout}");
    let rows: Vec<Vec<&str>> = stdout
        .lines()
        .filter(|l| l.starts_with("| "))
        .map(|l| l.trim_matches('|').split('|').map(str::trim).collect())
        .filter(|cells: &Vec<&str>| cells.len() == 16 && cells[0] != "adapter")
        .collect();
    let adapters = Context::all_adapters().unwrap();
    // One forward row per op and adapter, no derivative: the naive kernels
    // are forwards only.
    assert_eq!(rows.len(), 2 * adapters.len(), "{stdout}");
    for row in &rows {
        assert!(row[1].ends_with(", naive kernels"), "{row:?}");
        assert_eq!(row[3], "forward", "{row:?}");
    }
    // 0.5 (1 + tanh(v)) cancels in the left tail: on [-10, 10] the naive
    // tanh-GELU is off by far more than any target allows, which is what its
    // speed buys.
    for row in rows.iter().filter(|r| r[2] == "gelu_tanh") {
        let ulps: f64 = row[6].parse().unwrap();
        assert!(ulps > 1e4, "naive gelu_tanh within target? {row:?}");
        assert_eq!(row[15], "**MISS**", "{row:?}");
    }
}

#[test]
fn bench_and_accuracy_reject_bad_arguments_with_2() {
    let cases: [(&[&str], &str); 12] = [
        (&["bench", "--ops", "relu,gleu"], "did you mean"),
        (&["accuracy", "--ops", "sigmiod"], "sigmoid"),
        (&["accuracy", "--ops", "elu(alpha=nan)"], "alpha"),
        (
            &["bench", "--adapter", "no-such-adapter"],
            "no adapter matches",
        ),
        (
            &["accuracy", "--adapter", "no-such-adapter"],
            "no adapter matches",
        ),
        (
            &["bench", "--modes", "sideways"],
            "forward, derivative, backward",
        ),
        (&["bench", "--dtype", "f64"], "f32, f16, bf16"),
        (&["bench", "--sizes", "2^x"], "bad size"),
        (&["accuracy", "--stride-log2", "33"], "0..=32"),
        (&["accuracy", "--naive", "--ops", "relu"], "no naive kernel"),
        (
            &["accuracy", "--naive", "--ops", "elu(alpha=2)"],
            "default parameters",
        ),
        (&["accuracy", "--within=-1"], "bound of 0 or more"),
    ];
    for (args, hint) in cases {
        let (code, stdout, stderr) = run_split(args);
        assert_eq!(code, 2, "{args:?}: {stdout}{stderr}");
        assert!(
            stderr.contains(hint),
            "{args:?}: {stderr:?} does not mention {hint:?}"
        );
        assert!(
            !stdout.contains("=="),
            "{args:?} measured something: {stdout}"
        );
    }
    // The adapter error lists what there is.
    let (_, _, stderr) = run_split(&["accuracy", "--adapter", "no-such-adapter"]);
    for ctx in Context::all_adapters().unwrap() {
        assert!(stderr.contains(&ctx.adapter_name()), "{stderr}");
    }
}

/// `--precision` picks the tier: `apply` writes the library's bits at that
/// tier (for an op whose tiers differ on these inputs), `accuracy` judges
/// against that tier's targets and says which it swept, and an unknown tier
/// is an error with exit code 2.
#[test]
fn precision_flag_picks_the_tier() {
    let dir = scratch("precision");
    let x: Vec<f32> = (0..4096).map(|i| i as f32 * 0.011 - 20.0).collect();
    let xp = dir.join("x.npy");
    write_f32(&xp, &[4096], &x);
    let ctx = Context::new().unwrap();
    let act = Activation::Sigmoid;
    let mut differ = false;
    for precision in Precision::ALL {
        let out = dir.join(format!("{precision}.npy"));
        let (code, log) = run(&[
            "apply",
            "--op",
            "sigmoid",
            "--input",
            arg(&xp),
            "--output",
            arg(&out),
            "--precision",
            precision.name(),
        ]);
        assert_eq!(code, 0, "{log}");
        let want = ctx.with_precision(precision).forward(act, &x).unwrap();
        let bytes = numpy_bytes("<f4", &[4096], bytemuck::cast_slice(&want));
        assert_eq!(std::fs::read(&out).unwrap(), bytes, "{precision}");
        let precise = ctx.forward(act, &x).unwrap();
        differ |= want != precise;
    }
    assert!(
        differ,
        "the tiers gave the same bits: the flag was not seen"
    );
    let (code, stdout, stderr) = run_split(&[
        "accuracy",
        "--ops",
        "sigmoid",
        "--stride-log2",
        "20",
        "--precision",
        "fast",
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("precision tier: fast"), "{stdout}");
    assert!(
        stdout.contains("≤ 4 scaled") && !stdout.contains("≤ 2 scaled"),
        "{stdout}"
    );
    let (code, log) = run(&[
        "apply",
        "--op",
        "sigmoid",
        "--input",
        arg(&xp),
        "--output",
        arg(&dir.join("bad.npy")),
        "--precision",
        "medium",
    ]);
    assert_eq!(code, 2, "{log}");
    assert!(log.contains("use \"precise\" or \"fast\""), "{log}");
}

/// `apply` streams the file in windows of 2^22 values: a file of more than
/// one window (and a last, partial one) gives exactly the bits of one call
/// over the whole, forward and backward, f32 and f16 input.
#[test]
fn apply_streams_files_larger_than_a_window() {
    let dir = scratch("stream");
    let n = (1 << 22) * 2 + 3;
    let x: Vec<f32> = (0..n)
        .map(|i| ((i % 20_011) as f32 - 10_000.0) * 1e-3)
        .collect();
    let dy: Vec<f32> = (0..n).map(|i| 1.0 - (i % 97) as f32 * 0.01).collect();
    let (xp, dyp, out) = (dir.join("x.npy"), dir.join("dy.npy"), dir.join("y.npy"));
    write_f32(&xp, &[n], &x);
    write_f32(&dyp, &[n], &dy);
    let ctx = Context::new().unwrap();
    let act = Activation::Gelu;
    // Runs `apply --op gelu` with `args` and checks the file against `want`.
    let check = |args: &[&str], descr: &str, want: &[u8], what: &str| {
        let mut all = vec!["apply", "--op", "gelu", "--output", arg(&out)];
        all.extend(args);
        let (code, log) = run(&all);
        assert_eq!(code, 0, "{log}");
        let bytes = numpy_bytes(descr, &[n], want);
        assert!(
            std::fs::read(&out).unwrap() == bytes,
            "{what} differs from one call"
        );
    };
    let want = ctx.forward(act, &x).unwrap();
    check(
        &["--input", arg(&xp)],
        "<f4",
        bytemuck::cast_slice(&want),
        "forward",
    );
    let want = ctx.backward(act, &x, &dy).unwrap();
    let args = [
        "--mode",
        "backward",
        "--input",
        arg(&xp),
        "--grad",
        arg(&dyp),
    ];
    check(&args, "<f4", bytemuck::cast_slice(&want), "backward");
    // f16 input stays f16, window by window.
    let x16: Vec<f16> = x.iter().map(|&v| f16::from_f32(v)).collect();
    let xp16 = dir.join("x16.npy");
    std::fs::write(&xp16, numpy_bytes("<f2", &[n], bytemuck::cast_slice(&x16))).unwrap();
    let want = ctx.forward(act, &x16).unwrap();
    check(
        &["--input", arg(&xp16)],
        "<f2",
        bytemuck::cast_slice(&want),
        "f16 forward",
    );
}
