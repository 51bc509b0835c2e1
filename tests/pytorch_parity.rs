//! Parity with PyTorch itself, not only with our reading of it: the golden
//! files in `tests/golden/` were made by `tools/pytorch_golden.py` with
//! torch and transformers on the CPU (their versions head each file), and
//! this test needs neither.
//!
//! For every file, on every adapter and in both precision tiers (each held
//! to its own bound), each of our results is compared
//! with PyTorch's:
//! - the exact ops (piecewise-linear, ReLU², Identity) agree bit for bit;
//! - the smooth ops agree within our bound wherever PyTorch's own result is
//!   within that bound of the f64 reference;
//! - wherever they differ by more, ours is the one nearer the reference, and
//!   the difference falls into one of the documented classes of
//!   [`Deviation`] (README, "Where we differ from PyTorch, and why"), each
//!   named and counted in the test's output. Anything else fails, with the
//!   input, both values and the reference.
//!
//! Our own results must also meet our contract on every input (the
//! accuracy judge), so a regression of ours cannot hide behind an
//! inaccuracy of PyTorch's.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use half::{bf16, f16};
use wgpu_activations::accuracy::{GatedPart, Judgement, half_ulps, judge, judge_gated, target_at};
use wgpu_activations::{Activation, Context, Dtype, Element, Gated, Mode, Precision, RowOp, cpu};

use crate::support::{describe, row_backward_bounds, tiered_adapters};

/// Where we differ from PyTorch on purpose (SEMANTICS.md, "Where we differ
/// from PyTorch on purpose").
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Deviation {
    /// A NaN input in a derivative or backward: PyTorch passes, scales or
    /// zeroes the gradient (piecewise-linear ops, `where` backwards); ours
    /// is NaN, so the fault stays visible.
    NanInputGradient,
    /// A backward zero: ours is `dy * f'(x)` with IEEE signs, PyTorch writes
    /// a literal `+0` where its backward is a `where`.
    BackwardZeroSign,
    /// At +-inf ours is the mathematical limit; PyTorch's formula gives NaN
    /// (inf/inf, 0 * inf, inf - inf) or another value.
    LimitAtInfinity,
    /// An intermediate of PyTorch's formula overflows for a finite x: its
    /// result is inf or NaN where the true value is finite.
    IntermediateOverflow,
    /// PyTorch's f32 formula underflows to 0 in a tail where the true value
    /// is a nonzero float.
    TailUnderflow,
    /// `dy` is +-inf: ours is `dy * f'(x)` in IEEE arithmetic (NaN where
    /// `f'(x) = 0`, +-inf elsewhere); PyTorch's `where` backwards write 0,
    /// and its formulas may give NaN (`inf * 0` inside).
    InfiniteGradOutput,
    /// PyTorch's result is finite and nonzero but beyond our bound: its
    /// formula cancels, or computes a derivative from its rounded output
    /// (`y (1 - y)`, `1 - y^2`), or rounds in 16 bits step by step.
    Inaccurate,
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Deviation::NanInputGradient => "NaN x in a derivative or backward",
            Deviation::BackwardZeroSign => "sign of a backward zero",
            Deviation::LimitAtInfinity => "limit at +-inf",
            Deviation::IntermediateOverflow => "intermediate overflow",
            Deviation::TailUnderflow => "tail underflow",
            Deviation::InfiniteGradOutput => "infinite dy",
            Deviation::Inaccurate => "PyTorch beyond our bound",
        })
    }
}

/// One golden file: its header lines and named arrays.
pub struct Golden {
    pub path: PathBuf,
    header: BTreeMap<String, String>,
    arrays: BTreeMap<String, (String, Vec<usize>, Vec<u8>)>,
}

impl Golden {
    /// Reads the format `tools/pytorch_golden.py` writes; panics with the
    /// path on anything malformed (a golden file is part of the test).
    pub fn load(path: &Path) -> Golden {
        let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let bad = |why: &str| -> ! { panic!("{}: {why}", path.display()) };
        let mut header = BTreeMap::new();
        let mut declared = Vec::new();
        let mut at = 0;
        let mut first = true;
        loop {
            let end = bytes[at..]
                .iter()
                .position(|&b| b == b'\n')
                .unwrap_or_else(|| bad("no `end` line"));
            let line = std::str::from_utf8(&bytes[at..at + end]).unwrap_or_else(|_| bad("header"));
            at += end + 1;
            if first {
                if line != "wgpu-activations golden v1" {
                    bad("not a golden file v1");
                }
                first = false;
            } else if line == "end" {
                break;
            } else if let Some(rest) = line.strip_prefix("array ") {
                let parts: Vec<&str> = rest.split(' ').collect();
                let [name, dtype, dims] = parts[..] else {
                    bad("array line")
                };
                let dims: Vec<usize> = dims
                    .split('x')
                    .map(|d| d.parse().unwrap_or_else(|_| bad("dims")))
                    .collect();
                declared.push((name.to_string(), dtype.to_string(), dims));
            } else if let Some((key, value)) = line.split_once(": ") {
                header.insert(key.to_string(), value.to_string());
            } else {
                bad("header line");
            }
        }
        let mut arrays = BTreeMap::new();
        for (name, dtype, dims) in declared {
            let width = if dtype == "f32" { 4 } else { 2 };
            let len = dims.iter().product::<usize>() * width;
            if at + len > bytes.len() {
                bad("truncated");
            }
            arrays.insert(name, (dtype, dims, bytes[at..at + len].to_vec()));
            at += len;
        }
        if at != bytes.len() {
            bad("trailing bytes");
        }
        Golden {
            path: path.to_path_buf(),
            header,
            arrays,
        }
    }

    /// A header value.
    pub fn get(&self, key: &str) -> &str {
        self.header
            .get(key)
            .unwrap_or_else(|| panic!("{}: no `{key}`", self.path.display()))
    }

    /// The case's name.
    pub fn case(&self) -> &str {
        self.get("case")
    }

    /// An array's values as `T` (its dtype must be `T`'s).
    pub fn array<T: Element>(&self, name: &str) -> Vec<T> {
        let (dtype, _, bytes) = self
            .arrays
            .get(name)
            .unwrap_or_else(|| panic!("{}: no array {name}", self.path.display()));
        let short = match T::DTYPE {
            Dtype::F32 => "f32",
            Dtype::F16 => "f16",
            Dtype::Bf16 => "bf16",
        };
        assert_eq!(dtype, short, "{}: {name}", self.path.display());
        // Little-endian on disk; every target wgpu runs on is little-endian.
        bytemuck::pod_collect_to_vec(bytes)
    }

    /// An array's dimensions.
    pub fn dims(&self, name: &str) -> &[usize] {
        &self.arrays[name].1
    }
}

/// Every golden file of one dtype directory (`f32`, `f16`, `bf16`), sorted.
pub fn golden_files(dtype: &str) -> Vec<Golden> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(dtype);
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "golden"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no golden files in {}", dir.display());
    paths.iter().map(|p| Golden::load(p)).collect()
}

/// What is known about one compared element.
#[derive(Clone, Copy, Debug)]
pub struct Situation {
    /// Some input is NaN.
    pub input_nan: bool,
    /// `x` (or a gated op's value or gate, a row's entry) is infinite.
    pub input_inf: bool,
    /// `dy` is infinite (a backward).
    pub grad_inf: bool,
    /// A derivative or backward (not a forward).
    pub gradient: bool,
    /// A backward (`dy` times something).
    pub backward: bool,
    /// The f64 reference.
    pub want: f64,
    /// The size of the terms the result is made of (`max(1, |x|)`, times
    /// `|dy|` for a backward): PyTorch's f32 rounding errors are relative
    /// to it, not to the result, where its formula cancels.
    pub scale: f64,
    /// The unit roundoff of the data type (2^-24 for f32, 2^-11 for f16,
    /// 2^-8 for bf16).
    pub unit: f64,
}

/// How two results compare with the reference: their errors in the
/// contract's unit (scaled ULPs, 16-bit ULPs, or a row op's error over its
/// bound) and whether they break a rule; `bound` is the contract (`0` for
/// bit-exact).
#[derive(Clone, Copy, Debug)]
pub struct Compared {
    pub ours: f64,
    pub theirs: f64,
    pub bound: f64,
}

/// The deviation class of a difference between ours and PyTorch's result
/// (`None` where they agree: the same bits, both NaN, or PyTorch within our
/// bound), or why the difference is not acceptable.
pub fn classify(
    e: Situation,
    ours: f64,
    theirs: f64,
    c: Compared,
    same_bits: bool,
) -> Result<Option<Deviation>, String> {
    if same_bits || (ours.is_nan() && theirs.is_nan()) {
        return Ok(None);
    }
    if c.ours > c.bound {
        return Err(format!(
            "ours breaks our contract ({} > {})",
            c.ours, c.bound
        ));
    }
    let zero_signs_differ = ours == 0.0 && theirs == 0.0;
    if c.theirs <= c.bound && !zero_signs_differ {
        // Both within the bound of the reference (exact ops: the same value,
        // which the bits above already cover).
        return Ok(None);
    }
    // PyTorch is beyond our bound: ours must be nearer the reference.
    if c.ours >= c.theirs {
        return Err(format!(
            "PyTorch is off ({}) but ours is not nearer ({})",
            c.theirs, c.ours
        ));
    }
    if e.input_nan {
        return if e.gradient {
            Ok(Some(Deviation::NanInputGradient))
        } else {
            Err("PyTorch's forward loses a NaN input".into())
        };
    }
    if e.input_inf {
        return Ok(Some(Deviation::LimitAtInfinity));
    }
    if e.grad_inf {
        return Ok(Some(Deviation::InfiniteGradOutput));
    }
    if zero_signs_differ {
        return if e.backward {
            Ok(Some(Deviation::BackwardZeroSign))
        } else if ours.is_sign_negative() == e.want.is_sign_negative() {
            // PyTorch's formula underflowed to a zero of the wrong sign.
            Ok(Some(Deviation::TailUnderflow))
        } else {
            Err("the signs of a zero differ".into())
        };
    }
    if !theirs.is_finite() {
        return if e.want.is_finite() {
            Ok(Some(Deviation::IntermediateOverflow))
        } else {
            Err("PyTorch's limit differs".into())
        };
    }
    // What rounding in PyTorch's formula can explain: an error below 16
    // units of the terms' scale (a cancellation, a tail computed from the
    // rounded output), or below 256 units (at most 1/16) of the value. A
    // kink or parameter mismatch (an O(1) difference) is neither.
    let error = (theirs - e.want).abs();
    let relative = (256.0 * e.unit).min(1.0 / 16.0);
    let rounding = error <= 16.0 * e.unit * e.scale || error <= relative * e.want.abs();
    if !rounding {
        return Err("a difference of no documented class".into());
    }
    Ok(Some(if theirs == 0.0 {
        Deviation::TailUnderflow
    } else {
        Deviation::Inaccurate
    }))
}

/// Counts per deviation class and per case, with the first example of each
/// class, and the failures.
#[derive(Default)]
pub struct Tally {
    pub compared: u64,
    pub agreed: u64,
    pub classes: BTreeMap<Deviation, (u64, BTreeMap<String, u64>, String)>,
    pub failures: Vec<String>,
    failed_cases: BTreeMap<String, u64>,
}

impl Tally {
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        case: &str,
        what: &str,
        e: Situation,
        ours: f64,
        theirs: f64,
        c: Compared,
        same_bits: bool,
    ) {
        self.compared += 1;
        let detail = || {
            format!(
                "{case} {what}: PyTorch {theirs:e}, ours {ours:e}, reference {:e} (errors: PyTorch {}, ours {}, bound {})",
                e.want, c.theirs, c.ours, c.bound
            )
        };
        match classify(e, ours, theirs, c, same_bits) {
            Ok(None) => self.agreed += 1,
            Ok(Some(class)) => {
                let entry = self
                    .classes
                    .entry(class)
                    .or_insert_with(|| (0, BTreeMap::new(), detail()));
                entry.0 += 1;
                *entry.1.entry(case.to_string()).or_default() += 1;
            }
            Err(why) => {
                let shown = self.failed_cases.entry(case.to_string()).or_default();
                *shown += 1;
                if *shown <= 3 {
                    self.failures.push(format!("{why}: {}", detail()));
                }
            }
        }
    }

    /// [`Tally::add`] for two f32 results judged by `error` (in the
    /// contract's unit) against `bound`.
    fn add_f32(
        &mut self,
        case: &str,
        what: &str,
        e: Situation,
        (ours, theirs): (f32, f32),
        error: impl Fn(f32) -> f64,
        bound: f64,
    ) {
        let c = Compared {
            ours: error(ours),
            theirs: error(theirs),
            bound,
        };
        let same_bits = ours.to_bits() == theirs.to_bits();
        self.add(
            case,
            what,
            e,
            f64::from(ours),
            f64::from(theirs),
            c,
            same_bits,
        );
    }

    /// The report: one line per class with its count, the cases it occurs
    /// in and its first example.
    pub fn report(&self, title: &str) -> String {
        let mut out = format!(
            "{title}: {} results compared with PyTorch, {} agree (same bits, or both within our bound)\n",
            self.compared, self.agreed
        );
        for (class, (count, cases, example)) in &self.classes {
            let list: Vec<String> = cases.iter().map(|(c, n)| format!("{c} {n}")).collect();
            out += &format!(
                "  {class}: {count} ({})\n    e.g. {example}\n",
                list.join(", ")
            );
        }
        out
    }

    fn assert_clean(&self, title: &str) {
        assert!(
            self.failures.is_empty(),
            "{title}: differences from PyTorch outside every documented class ({:?}; the first 3 of each):\n{}",
            self.failed_cases,
            self.failures.join("\n")
        );
    }
}

/// Error in the contract's unit: scaled ULPs, infinite for a broken rule.
fn scaled(j: Judgement) -> f64 {
    if j.broken_rule.is_some() {
        f64::INFINITY
    } else {
        j.scaled
    }
}

/// Plain ULPs from `want` (no condition number), infinite for a broken rule.
fn unscaled(want: f64, got: f32, input_infinite: bool) -> f64 {
    scaled(wgpu_activations::accuracy::judge_value(
        want,
        got,
        input_infinite,
        || 0.0,
    ))
}

fn unary_act(g: &Golden) -> Activation {
    g.get("spec")
        .parse()
        .unwrap_or_else(|e| panic!("{}: {e}", g.path.display()))
}

const MODES: [(Mode, &str); 3] = [
    (Mode::Forward, "forward"),
    (Mode::Derivative, "derivative"),
    (Mode::Backward, "backward"),
];

/// The f32 element-wise files on one adapter.
fn unary_f32(ctx: &Context, files: &[Golden], tally: &mut Tally) {
    for g in files.iter().filter(|g| g.get("kind") == "unary") {
        let act = unary_act(g);
        let x: Vec<f32> = g.array("x");
        let dy: Vec<f32> = g.array("grad_output");
        for (mode, name) in MODES {
            let theirs: Vec<f32> = g.array(name);
            let ours = crate::support::run(ctx, act, mode, &x, &dy);
            let bound = target_at(act, mode, ctx.precision_for(Dtype::F32)).unwrap_or(0.0);
            for i in 0..x.len() {
                let grad = if mode == Mode::Backward { dy[i] } else { 1.0 };
                let e = Situation {
                    input_nan: x[i].is_nan() || (mode == Mode::Backward && dy[i].is_nan()),
                    input_inf: x[i].is_infinite(),
                    grad_inf: grad.is_infinite(),
                    unit: 2f64.powi(-24),
                    gradient: mode != Mode::Forward,
                    backward: mode == Mode::Backward,
                    want: wgpu_activations::accuracy::reference(act, mode, x[i], grad),
                    scale: f64::from(x[i].abs()).max(1.0) * f64::from(grad.abs()),
                };
                let what = format!("{name} at x = {:e} (dy = {grad:e})", x[i]);
                let error = |got| scaled(judge(act, mode, x[i], grad, got));
                tally.add_f32(g.case(), &what, e, (ours[i], theirs[i]), error, bound);
            }
        }
    }
}

/// Error of a 16-bit result in ULPs of its type, infinite for a broken rule.
fn half_error<T: Element>(got: T, want: T) -> f64 {
    half_ulps(got, want).map_or(f64::INFINITY, f64::from)
}

/// The 16-bit element-wise files on one adapter: our contract is 1 ULP of
/// the type (both tiers' default for 16-bit data).
fn unary_half<T: Element>(ctx: &Context, files: &[Golden], tally: &mut Tally) {
    for g in files {
        let act = unary_act(g);
        let x: Vec<T> = g.array("x");
        let dy: Vec<T> = g.array("grad_output");
        for (mode, name) in MODES {
            let theirs: Vec<T> = g.array(name);
            let (ours, want) = match mode {
                Mode::Forward => (ctx.forward(act, &x), cpu::forward(act, &x)),
                Mode::Derivative => (ctx.derivative(act, &x), cpu::derivative(act, &x)),
                Mode::Backward => (ctx.backward(act, &x, &dy), cpu::backward(act, &x, &dy)),
            };
            let (ours, want) = (ours.unwrap(), want.unwrap());
            for i in 0..x.len() {
                let (xi, di) = (x[i].to_f64(), dy[i].to_f64());
                let e = Situation {
                    input_nan: xi.is_nan() || (mode == Mode::Backward && di.is_nan()),
                    input_inf: xi.is_infinite(),
                    grad_inf: mode == Mode::Backward && di.is_infinite(),
                    unit: if T::DTYPE == Dtype::F16 {
                        2f64.powi(-11)
                    } else {
                        2f64.powi(-8)
                    },
                    gradient: mode != Mode::Forward,
                    backward: mode == Mode::Backward,
                    want: want[i].to_f64(),
                    scale: xi.abs().max(1.0)
                        * if mode == Mode::Backward {
                            di.abs()
                        } else {
                            1.0
                        },
                };
                let c = Compared {
                    ours: half_error(ours[i], want[i]),
                    theirs: half_error(theirs[i], want[i]),
                    bound: 1.0,
                };
                let what = format!("{name} at x = {xi:e} (dy = {di:e})");
                tally.add(
                    g.case(),
                    &what,
                    e,
                    ours[i].to_f64(),
                    theirs[i].to_f64(),
                    c,
                    ours[i].to_bits_u32() == theirs[i].to_bits_u32(),
                );
            }
        }
    }
}

/// GLU and the gated MLP forms, packed rows `[a | b]`.
fn gated_f32(ctx: &Context, files: &[Golden], tally: &mut Tally) {
    for g in files.iter().filter(|g| g.get("kind") == "gated") {
        let kind: Gated = g.get("spec").parse().unwrap();
        let x: Vec<f32> = g.array("x");
        let row_len = g.dims("x")[1];
        let d = row_len / 2;
        let dy: Vec<f32> = g.array("grad_output");
        let ours_y = ctx.gated_forward_packed(kind, &x, row_len).unwrap();
        let ours_dx = ctx.gated_backward_packed(kind, &x, row_len, &dy).unwrap();
        let (theirs_y, theirs_dx): (Vec<f32>, Vec<f32>) = (g.array("forward"), g.array("backward"));
        for i in 0..dy.len() {
            let (r, j) = (i / d, i % d);
            let (a, b, gy) = (x[r * row_len + j], x[r * row_len + d + j], dy[i]);
            let results = [
                (GatedPart::Forward, ours_y[i], theirs_y[i], "forward"),
                (
                    GatedPart::DValue,
                    ours_dx[r * row_len + j],
                    theirs_dx[r * row_len + j],
                    "d_value",
                ),
                (
                    GatedPart::DGate,
                    ours_dx[r * row_len + d + j],
                    theirs_dx[r * row_len + d + j],
                    "d_gate",
                ),
            ];
            for (part, ours, theirs, name) in results {
                let backward = part != GatedPart::Forward;
                let judged = |got| scaled(judge_gated(kind, part, a, b, gy, got));
                let want = match part {
                    GatedPart::Forward => cpu::gated_forward_f64(kind, a.into(), b.into()),
                    GatedPart::DValue => {
                        cpu::gated_backward_f64(kind, a.into(), b.into(), gy.into()).0
                    }
                    GatedPart::DGate => {
                        cpu::gated_backward_f64(kind, a.into(), b.into(), gy.into()).1
                    }
                };
                let e = Situation {
                    input_nan: a.is_nan() || b.is_nan() || (backward && gy.is_nan()),
                    input_inf: a.is_infinite() || b.is_infinite(),
                    grad_inf: backward && gy.is_infinite(),
                    unit: 2f64.powi(-24),
                    gradient: backward,
                    backward,
                    want,
                    scale: f64::from(a.abs()).max(1.0)
                        * f64::from(b.abs()).max(1.0)
                        * if backward { f64::from(gy.abs()) } else { 1.0 },
                };
                let what = format!("{name} at a = {a:e}, b = {b:e} (dy = {gy:e})");
                let bound = part.target_at(ctx.precision_for(Dtype::F32));
                tally.add_f32(g.case(), &what, e, (ours, theirs), judged, bound);
            }
        }
    }
}

/// Softmax, log-softmax and softmin over rows: forward within 4 ULPs of the
/// reference, backward (from our forward's output, as a training step runs
/// it) within tests/rowwise.rs's bound of 4 epsilons of its scale.
fn rowwise_f32(ctx: &Context, files: &[Golden], tally: &mut Tally) {
    for g in files.iter().filter(|g| g.get("kind") == "rowwise") {
        let op = RowOp::ALL
            .into_iter()
            .find(|op| op.name() == g.get("spec"))
            .unwrap_or_else(|| panic!("{}: unknown row op", g.path.display()));
        let x: Vec<f32> = g.array("x");
        let cols = g.dims("x")[1];
        let dy: Vec<f32> = g.array("grad_output");
        let (ours_y, ours_dx) = match op {
            RowOp::Softmax => {
                let y = ctx.softmax(&x, cols).unwrap();
                let dx = ctx.softmax_backward(&y, &dy, cols).unwrap();
                (y, dx)
            }
            RowOp::LogSoftmax => {
                let y = ctx.log_softmax(&x, cols).unwrap();
                let dx = ctx.log_softmax_backward(&y, &dy, cols).unwrap();
                (y, dx)
            }
            _ => {
                let y = ctx.softmin(&x, cols).unwrap();
                let dx = ctx.softmin_backward(&y, &dy, cols).unwrap();
                (y, dx)
            }
        };
        let (theirs_y, theirs_dx): (Vec<f32>, Vec<f32>) = (g.array("forward"), g.array("backward"));
        for (row, start) in (0..x.len()).step_by(cols).enumerate() {
            let range = start..start + cols;
            let xr = &x[range.clone()];
            let want_y = cpu::row_forward_f64(op, xr);
            let (yr, dr) = (&ours_y[range.clone()], &dy[range.clone()]);
            let want_dx = cpu::row_backward_f64(op, yr, dr);
            let bounds = row_backward_bounds(op, ctx.precision_for(Dtype::F32), yr, dr);
            let row_nan = xr.iter().any(|v| v.is_nan());
            let row_inf = xr.iter().any(|v| v.is_infinite());
            // The fast tier's exponential errs in proportion to x - max:
            // its forward is held to ULPs over 1 + the row's finite range
            // (tests/rowwise.rs), the precise tier's to plain ULPs.
            let kappa = match ctx.precision_for(Dtype::F32) {
                Precision::Precise => 0.0,
                Precision::Fast => {
                    let finite = xr.iter().filter(|v| v.is_finite()).map(|&v| f64::from(v));
                    let (lo, hi) =
                        finite.fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
                    (hi - lo).max(0.0)
                }
            };
            for j in 0..cols {
                let i = start + j;
                let want = want_y[j];
                let ulps = |got: f32| {
                    scaled(wgpu_activations::accuracy::judge_value(
                        want,
                        got,
                        x[i].is_infinite(),
                        || kappa,
                    ))
                };
                let e = Situation {
                    input_nan: row_nan,
                    input_inf: row_inf,
                    grad_inf: false,
                    unit: 2f64.powi(-24),
                    gradient: false,
                    backward: false,
                    want,
                    scale: xr.iter().fold(1.0f64, |m, v| m.max(f64::from(v.abs()))),
                };
                let what = format!("forward row {row} col {j} (x = {:e})", x[i]);
                tally.add_f32(g.case(), &what, e, (ours_y[i], theirs_y[i]), ulps, 4.0);
                let (gj, bound) = (f64::from(dr[j]), bounds[j]);
                let error = |got: f32| {
                    let (got, want) = (f64::from(got), want_dx[j]);
                    match (got.is_nan(), want.is_nan()) {
                        (true, true) => 0.0,
                        (false, false) if got == want => 0.0,
                        (false, false) => (got - want).abs() / bound,
                        _ => f64::INFINITY,
                    }
                };
                let e = Situation {
                    gradient: true,
                    backward: true,
                    grad_inf: dr[j].is_infinite(),
                    want: want_dx[j],
                    // The sizes of the terms (the bound is 4 epsilons of them).
                    scale: bound / (4.0 * f64::from(f32::EPSILON)),
                    ..e
                };
                let what = format!("backward row {row} col {j} (x = {:e}, dy = {gj:e})", x[i]);
                tally.add_f32(g.case(), &what, e, (ours_dx[i], theirs_dx[i]), error, 1.0);
            }
        }
    }
}

/// PReLU with per-channel slopes and `ACT2FN["prelu"]`: forward and dx bit
/// for bit (one rounding each), the slopes' gradients (sums, in another
/// order than PyTorch's) within 1e-5 of the sum of |x dy| of their channel.
fn prelu_f32(ctx: &Context, files: &[Golden], tally: &mut Tally) {
    for g in files.iter().filter(|g| g.get("kind") == "prelu") {
        let x: Vec<f32> = g.array("x");
        let dims = g.dims("x");
        let shape = [dims[0], dims[1], dims[2]];
        let (w, dy): (Vec<f32>, Vec<f32>) = (g.array("weight"), g.array("grad_output"));
        let ours_y = ctx.prelu(&x, &w, shape).unwrap();
        let (ours_dx, ours_dw) = ctx.prelu_backward(&x, &w, &dy, shape).unwrap();
        let (theirs_y, theirs_dx, theirs_dw): (Vec<f32>, Vec<f32>, Vec<f32>) = (
            g.array("forward"),
            g.array("backward"),
            g.array("weight_grad"),
        );
        let inner = shape[2];
        let slope_of = |i: usize| {
            w[if w.len() == 1 {
                0
            } else {
                (i / inner) % shape[1]
            }]
        };
        for i in 0..x.len() {
            let s = f64::from(slope_of(i));
            let xi = f64::from(x[i]);
            let leaky = |v: f64| if v > 0.0 { v } else { s * v };
            let results = [
                ("forward", ours_y[i], theirs_y[i], leaky(xi), false),
                (
                    "backward",
                    ours_dx[i],
                    theirs_dx[i],
                    f64::from(dy[i])
                        * if xi > 0.0 {
                            1.0
                        } else if xi.is_nan() {
                            f64::NAN
                        } else {
                            s
                        },
                    true,
                ),
            ];
            for (name, ours, theirs, want, backward) in results {
                let exact = |got: f32| unscaled(want, got, x[i].is_infinite());
                let e = Situation {
                    input_nan: x[i].is_nan() || (backward && dy[i].is_nan()),
                    input_inf: x[i].is_infinite(),
                    grad_inf: backward && dy[i].is_infinite(),
                    unit: 2f64.powi(-24),
                    gradient: backward,
                    backward,
                    want,
                    scale: f64::from(x[i].abs()).max(1.0)
                        * if backward {
                            f64::from(dy[i].abs())
                        } else {
                            1.0
                        },
                };
                let what = format!("{name} at x = {:e} (slope {s:e}, dy = {:e})", x[i], dy[i]);
                tally.add_f32(g.case(), &what, e, (ours, theirs), exact, 0.0);
            }
        }
        for (k, (&o, &t)) in ours_dw.iter().zip(&theirs_dw).enumerate() {
            let scale: f64 = (0..x.len())
                .filter(|&i| w.len() == 1 || (i / inner) % shape[1] == k)
                .map(|i| (f64::from(x[i]) * f64::from(dy[i])).abs())
                .filter(|v| v.is_finite())
                .sum();
            let both_nan = (o.is_nan() && t.is_nan()) || o == t;
            assert!(
                both_nan || (f64::from(o) - f64::from(t)).abs() <= 1e-5 * scale.max(1e-30),
                "{} slope {k}: ours {o:e}, PyTorch {t:e} (scale {scale:e})",
                g.case()
            );
        }
    }
}

/// Every golden file, on every adapter: parity or a documented deviation.
#[test]
fn pytorch_parity_on_every_adapter() {
    let f32_files = golden_files("f32");
    let f16_files = golden_files("f16");
    let bf16_files = golden_files("bf16");
    let mut reports = Vec::new();
    for (ctx, precision) in &tiered_adapters() {
        let on = format!("{} ({precision})", describe(ctx));
        let mut tally = Tally::default();
        unary_f32(ctx, &f32_files, &mut tally);
        gated_f32(ctx, &f32_files, &mut tally);
        rowwise_f32(ctx, &f32_files, &mut tally);
        prelu_f32(ctx, &f32_files, &mut tally);
        let title = format!("PyTorch parity, f32, on {on}");
        reports.push(tally.report(&title));
        tally.assert_clean(&title);
        for (dtype, files) in [("f16", &f16_files), ("bf16", &bf16_files)] {
            let mut tally = Tally::default();
            if dtype == "f16" {
                unary_half::<f16>(ctx, files, &mut tally);
            } else {
                unary_half::<bf16>(ctx, files, &mut tally);
            }
            let title = format!("PyTorch parity, {dtype}, on {on}");
            reports.push(tally.report(&title));
            tally.assert_clean(&title);
        }
    }
    eprintln!("{}", reports.join("\n"));
}
