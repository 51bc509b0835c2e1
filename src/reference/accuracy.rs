//! How GPU results are judged against the f64 reference (SEMANTICS.md,
//! "Accuracy"): ULPs between the result and the reference rounded to f32,
//! divided by `1 + kappa`, the condition number `|x g'(x) / g(x)|` of the
//! quantity `g` computed (`f` for the forward, `f'` for the derivative and
//! backward). Where the reference is below 2^-126 a result is right when it is
//! zero or tiny with the right sign (backends may flush subnormals).

use crate::{Activation, Mode, Precision, cpu};

/// Smallest normal f32, 2^-126.
const MIN_NORMAL: f64 = 1.1754943508222875e-38;

/// The judgement of one GPU result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Judgement {
    /// ULPs between the result and the reference rounded to f32 (0 when the
    /// subnormal rule accepts it; `f64::INFINITY` when a rule is broken).
    pub ulps: f64,
    /// `ulps / (1 + kappa)`.
    pub scaled: f64,
    /// The SEMANTICS.md rule the result breaks, if any.
    pub broken_rule: Option<Rule>,
}

/// The rules of SEMANTICS.md a single result can break.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The reference is NaN, the result is not.
    NanLost,
    /// The result is NaN, the reference is not.
    NanInvented,
    /// The reference is infinite (or x is), and the result differs.
    WrongLimit,
    /// The result is zero or subnormal with the wrong sign.
    WrongSignedZero,
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Rule::NanLost => "NaN lost",
            Rule::NanInvented => "NaN invented",
            Rule::WrongLimit => "wrong limit",
            Rule::WrongSignedZero => "wrong signed zero",
        })
    }
}

/// Distance in units in the last place between two finite or infinite f32
/// (`+0.0` and `-0.0` are 0 apart).
pub fn ulp_distance(a: f32, b: f32) -> u64 {
    fn ordered(v: f32) -> i64 {
        let bits = v.to_bits();
        let magnitude = i64::from(bits & 0x7fff_ffff);
        if bits >> 31 == 1 {
            -magnitude
        } else {
            magnitude
        }
    }
    ordered(a).abs_diff(ordered(b))
}

/// `|x g'(x) / g(x)|` by a central difference of the f64 function `g`.
pub fn condition_number(g: impl Fn(f64) -> f64, x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return 0.0;
    }
    let gx = g(x);
    if gx == 0.0 || !gx.is_finite() {
        return if gx == 0.0 { f64::INFINITY } else { 0.0 };
    }
    let h = x.abs() * 1e-7;
    let slope = (g(x + h) - g(x - h)) / (2.0 * h);
    let kappa = (x * slope / gx).abs();
    if kappa.is_finite() { kappa } else { 0.0 }
}

/// The f64 reference of `act` in `mode` at `x` (with `grad_output` for
/// [`Mode::Backward`]).
pub fn reference(act: Activation, mode: Mode, x: f32, grad_output: f32) -> f64 {
    let x = f64::from(x);
    match mode {
        Mode::Forward => cpu::forward_f64(act, x),
        Mode::Derivative => cpu::derivative_f64(act, x),
        Mode::Backward => f64::from(grad_output) * cpu::derivative_f64(act, x),
    }
}

/// Judges `got`, the GPU's result of `act` in `mode` at `x`.
///
/// At an infinite `x` the forward and the derivative must be their exact
/// limits; the backward is `grad_output` times that limit, rounded like any
/// product, so it is judged in ULPs (with κ = 0): `selu'(+inf)` is the f32
/// `scale`, and `dy * scale` may round 1 ULP away from `dy` times the f64
/// scale (found by the property test).
pub fn judge(act: Activation, mode: Mode, x: f32, grad_output: f32, got: f32) -> Judgement {
    let want = reference(act, mode, x, grad_output);
    let limit_is_exact = x.is_infinite() && mode != Mode::Backward;
    judge_value(want, got, limit_is_exact, || match mode {
        _ if x.is_infinite() => 0.0,
        Mode::Forward => condition_number(|v| cpu::forward_f64(act, v), f64::from(x)),
        Mode::Derivative | Mode::Backward => {
            condition_number(|v| cpu::derivative_f64(act, v), f64::from(x))
        }
    })
}

/// The judgement of `got` against the f64 value `want` of a quantity whose
/// condition number (summed over its inputs) `kappa` gives, by SEMANTICS.md's
/// rules: NaN for NaN, the exact limit where an input is infinite
/// (`input_infinite`) or the result overflows, a zero or tiny result of the
/// right sign where `want` is below 2^-126, else ULPs / (1 + kappa).
pub fn judge_value(
    want: f64,
    got: f32,
    input_infinite: bool,
    kappa: impl FnOnce() -> f64,
) -> Judgement {
    let broken = |rule| Judgement {
        ulps: f64::INFINITY,
        scaled: f64::INFINITY,
        broken_rule: Some(rule),
    };
    let ok = judge_ok();
    match (want.is_nan(), got.is_nan()) {
        (true, true) => return ok,
        (true, false) => return broken(Rule::NanLost),
        (false, true) => return broken(Rule::NanInvented),
        (false, false) => {}
    }
    let want32 = want as f32;
    if want32.is_infinite() || input_infinite {
        return if got == want32
            && (got != 0.0 || got.is_sign_negative() == want32.is_sign_negative())
        {
            ok
        } else {
            broken(Rule::WrongLimit)
        };
    }
    if want.abs() < MIN_NORMAL && f64::from(got).abs() < MIN_NORMAL {
        // Zero or tiny: right with the right sign (backends may flush).
        // A result above 2^-126 for a reference below it is judged like any
        // other, by scaled ULPs (SEMANTICS.md: ULPs / (1 + kappa)).
        return if got.is_sign_negative() == want.is_sign_negative() {
            ok
        } else {
            broken(Rule::WrongSignedZero)
        };
    }
    let ulps = ulp_distance(got, want32) as f64;
    Judgement {
        ulps,
        scaled: ulps / (1.0 + kappa()),
        broken_rule: None,
    }
}

/// What an implementation does with subnormal inputs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Subnormals {
    /// Subnormal inputs are used as they are (Mesa's lavapipe and llvmpipe):
    /// every result is judged at its own input.
    #[default]
    Kept,
    /// The device may treat a subnormal input as a zero of the same sign
    /// (WebGPU lets a device flush subnormals, SwiftShader does, and
    /// SEMANTICS.md accepts it there): a result for a subnormal input is
    /// also right when it is right for that zero, except that a zero result
    /// must still have the sign of the true result at the input itself
    /// (`tanhshrink(-1e-45)` is `-0.0`, though `tanhshrink(-0.0)` is `+0.0`).
    MayFlush,
}

/// [`judge`] on an implementation that treats subnormal inputs as
/// `subnormals` says: with [`Subnormals::MayFlush`], a subnormal `x` is
/// judged both as itself and as a zero of its sign, and the better
/// judgement counts (a zero or subnormal result keeps having to carry the
/// sign of the reference at `x`).
pub fn judge_on(
    subnormals: Subnormals,
    act: Activation,
    mode: Mode,
    x: f32,
    grad_output: f32,
    got: f32,
) -> Judgement {
    let own = judge(act, mode, x, grad_output, got);
    let subnormal = x != 0.0 && x.abs() < f32::MIN_POSITIVE;
    if subnormals == Subnormals::Kept || !subnormal || own == judge_ok() {
        return own;
    }
    let flushed = judge(act, mode, 0f32.copysign(x), grad_output, got);
    let want_negative = reference(act, mode, x, grad_output).is_sign_negative();
    flushed_or_own(own, flushed, got, want_negative)
}

/// The better of a result's judgement at its own inputs and at the inputs
/// flushed, except that a zero or tiny result must have the sign of the
/// reference at its own inputs (`want_negative`).
fn flushed_or_own(own: Judgement, flushed: Judgement, got: f32, want_negative: bool) -> Judgement {
    let tiny = f64::from(got).abs() < MIN_NORMAL;
    if tiny && got.is_sign_negative() != want_negative {
        return own;
    }
    match (own.broken_rule, flushed.broken_rule) {
        (None, Some(_)) => own,
        (Some(_), None) => flushed,
        _ if flushed.scaled < own.scaled => flushed,
        _ => own,
    }
}

/// The judgement of a result that is right.
fn judge_ok() -> Judgement {
    Judgement {
        ulps: 0.0,
        scaled: 0.0,
        broken_rule: None,
    }
}

/// The worst case over many results.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Worst {
    /// Largest scaled error and the input where it occurs.
    pub scaled: f64,
    /// Input of the largest scaled error.
    pub scaled_at: f32,
    /// Largest plain ULP error (rule-breaking results excluded).
    pub ulps: f64,
    /// Input of the largest plain error.
    pub ulps_at: f32,
    /// Sum of the plain ULP errors (for a mean).
    pub ulps_sum: f64,
    /// Results judged.
    pub count: u64,
    /// Results that break a SEMANTICS.md rule.
    pub broken_rules: u64,
}

impl Worst {
    /// Adds one judgement at input `x`.
    pub fn add(&mut self, x: f32, j: Judgement) {
        self.count += 1;
        if j.broken_rule.is_some() {
            self.broken_rules += 1;
            return;
        }
        if j.scaled > self.scaled {
            self.scaled = j.scaled;
            self.scaled_at = x;
        }
        if j.ulps > self.ulps {
            self.ulps = j.ulps;
            self.ulps_at = x;
        }
        self.ulps_sum += j.ulps;
    }

    /// Judges a whole batch of GPU results and adds them.
    pub fn add_all(
        &mut self,
        act: Activation,
        mode: Mode,
        x: &[f32],
        grad_output: &[f32],
        got: &[f32],
    ) {
        for (i, (&xi, &gi)) in x.iter().zip(got).enumerate() {
            let dy = grad_output.get(i).copied().unwrap_or(1.0);
            self.add(xi, judge(act, mode, xi, dy, gi));
        }
    }
}

impl Worst {
    /// Folds `other` (results judged after this one's) into this worst case;
    /// on ties the earlier input is kept, so the merge order decides nothing
    /// but ties, and merging in input order matches judging in one pass.
    pub fn merge(&mut self, other: &Worst) {
        if other.scaled > self.scaled {
            self.scaled = other.scaled;
            self.scaled_at = other.scaled_at;
        }
        if other.ulps > self.ulps {
            self.ulps = other.ulps;
            self.ulps_at = other.ulps_at;
        }
        self.ulps_sum += other.ulps_sum;
        self.count += other.count;
        self.broken_rules += other.broken_rules;
    }

    /// Mean plain ULP error over the results that break no rule (0 when
    /// there are none).
    pub fn mean_ulps(&self) -> f64 {
        let judged = self.count - self.broken_rules;
        if judged == 0 {
            0.0
        } else {
            self.ulps_sum / judged as f64
        }
    }
}

/// The special values of SEMANTICS.md every op is checked at: signed zeros,
/// infinities, NaN, subnormals, tiny and huge inputs, the f32 extremes.
pub const SPECIAL_VALUES: [f32; 19] = [
    0.0,
    -0.0,
    f32::INFINITY,
    f32::NEG_INFINITY,
    f32::NAN,
    1e-40,
    -1e-40,
    1e-8,
    -1e-8,
    88.0,
    -88.0,
    100.0,
    -100.0,
    1e30,
    -1e30,
    f32::MAX,
    f32::MIN,
    f32::MIN_POSITIVE,
    1.0,
];

/// The accuracy target of SEMANTICS.md for `act` in `mode`, in scaled ULPs;
/// `None` means bit-exact (the piecewise-linear ops). 2 forward, 4 for the
/// derivative; the backward rounds once more (`grad_output * f'(x)` after
/// `f'(x)`), so it is held to the derivative's 4 plus that rounding's 1.
pub fn target(act: Activation, mode: Mode) -> Option<f64> {
    target_at(act, mode, Precision::Precise)
}

/// [`target`] for results computed at `precision`: the precise tier's 2, 4
/// and 5 scaled ULPs, the fast tier's 4 forward and 8 derivative and
/// backward (SEMANTICS.md, "Precision tiers"); `None` (bit-exact) for the
/// exact ops in both. Each op's bound is declared in its row of the
/// catalogue.
pub fn target_at(act: Activation, mode: Mode, precision: Precision) -> Option<f64> {
    act.bound().at(mode, precision)
}

/// Results that break a SEMANTICS.md rule, counted by [`Rule`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RuleCounts {
    /// [`Rule::NanLost`].
    pub nan_lost: u64,
    /// [`Rule::NanInvented`].
    pub nan_invented: u64,
    /// [`Rule::WrongLimit`].
    pub wrong_limit: u64,
    /// [`Rule::WrongSignedZero`].
    pub wrong_signed_zero: u64,
}

impl RuleCounts {
    /// Counts one broken rule.
    pub fn add(&mut self, rule: Rule) {
        match rule {
            Rule::NanLost => self.nan_lost += 1,
            Rule::NanInvented => self.nan_invented += 1,
            Rule::WrongLimit => self.wrong_limit += 1,
            Rule::WrongSignedZero => self.wrong_signed_zero += 1,
        }
    }

    /// All broken rules together.
    pub fn total(&self) -> u64 {
        self.nan_lost + self.nan_invented + self.wrong_limit + self.wrong_signed_zero
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &RuleCounts) {
        self.nan_lost += other.nan_lost;
        self.nan_invented += other.nan_invented;
        self.wrong_limit += other.wrong_limit;
        self.wrong_signed_zero += other.wrong_signed_zero;
    }
}

/// One GPU result kept for a report: the input, the `grad_output` (1 except
/// for the backward), what the GPU gave and the judgement.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// The input.
    pub x: f32,
    /// The `grad_output` used (1 for the forward and the derivative).
    pub grad_output: f32,
    /// The GPU's result.
    pub got: f32,
    /// Its judgement.
    pub judgement: Judgement,
}

impl Sample {
    /// The f64 reference at this input, rounded to f32.
    pub fn want(&self, act: Activation, mode: Mode) -> f32 {
        reference(act, mode, self.x, self.grad_output) as f32
    }

    /// `x = ... (0x...), got ... (0x...), want ... (0x...)`, for messages.
    pub fn describe(&self, act: Activation, mode: Mode) -> String {
        let want = self.want(act, mode);
        let dy = if mode == Mode::Backward {
            format!(", dy = {:e}", self.grad_output)
        } else {
            String::new()
        };
        format!(
            "x = {:e} ({:#010x}){dy}: got {:e} ({:#010x}), want {:e} ({:#010x}); {} ULPs, {:.3} scaled{}",
            self.x,
            self.x.to_bits(),
            self.got,
            self.got.to_bits(),
            want,
            want.to_bits(),
            self.judgement.ulps,
            self.judgement.scaled,
            self.judgement
                .broken_rule
                .map(|r| format!(", breaks \"{r}\""))
                .unwrap_or_default()
        )
    }
}

/// What a sweep of one op in one mode on one adapter found: the worst case,
/// broken rules by kind, and the results behind the worst figures.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SweepStats {
    /// Largest scaled and plain errors, where, their sum and the counts.
    pub worst: Worst,
    /// Rule-breaking results by kind.
    pub rules: RuleCounts,
    /// The result with the largest scaled error (`None` while every error is 0).
    pub worst_scaled: Option<Sample>,
    /// The result with the largest plain ULP error (`None` while every error is 0).
    pub worst_ulps: Option<Sample>,
    /// The first result (in input order) that breaks a rule.
    pub first_broken: Option<Sample>,
}

impl SweepStats {
    /// Judges `got` (the GPU's result at `x` with `grad_output`) and adds it.
    pub fn add(&mut self, act: Activation, mode: Mode, x: f32, grad_output: f32, got: f32) {
        self.add_judged(x, grad_output, got, judge(act, mode, x, grad_output, got));
    }

    /// Adds a result already judged.
    pub fn add_judged(&mut self, x: f32, grad_output: f32, got: f32, judgement: Judgement) {
        let sample = Sample {
            x,
            grad_output,
            got,
            judgement,
        };
        if let Some(rule) = judgement.broken_rule {
            self.rules.add(rule);
            if self.first_broken.is_none() {
                self.first_broken = Some(sample);
            }
        } else {
            if judgement.scaled > self.worst.scaled {
                self.worst_scaled = Some(sample);
            }
            if judgement.ulps > self.worst.ulps {
                self.worst_ulps = Some(sample);
            }
        }
        self.worst.add(x, judgement);
    }

    /// Folds in `other`, the statistics of results that come after these in
    /// input order (ties keep the earlier input).
    pub fn merge(&mut self, other: &SweepStats) {
        if other.worst.scaled > self.worst.scaled {
            self.worst_scaled = other.worst_scaled;
        }
        if other.worst.ulps > self.worst.ulps {
            self.worst_ulps = other.worst_ulps;
        }
        if self.first_broken.is_none() {
            self.first_broken = other.first_broken;
        }
        self.worst.merge(&other.worst);
        self.rules.merge(&other.rules);
    }

    /// True when no result breaks a rule and the errors are within
    /// [`target`] (bit-exact where the target is `None`).
    pub fn meets_target(&self, act: Activation, mode: Mode) -> bool {
        self.meets_target_at(act, mode, Precision::Precise)
    }

    /// [`SweepStats::meets_target`] for results computed at `precision`
    /// ([`target_at`]).
    pub fn meets_target_at(&self, act: Activation, mode: Mode, precision: Precision) -> bool {
        self.rules.total() == 0
            && match target_at(act, mode, precision) {
                None => self.worst.ulps == 0.0,
                Some(limit) => self.worst.scaled <= limit,
            }
    }

    /// Judges `got` against `x` for `act` in `mode` on every available core
    /// (`std::thread::scope` over contiguous pieces, merged in input order,
    /// so the result does not depend on the number of threads).
    /// `grad_output` is used for [`Mode::Backward`] only (see
    /// [`sweep_grad_output`] for the one [`sweep`] uses); pass `&[]` otherwise.
    pub fn judge_all(
        act: Activation,
        mode: Mode,
        x: &[f32],
        grad_output: &[f32],
        got: &[f32],
    ) -> SweepStats {
        SweepStats::judge_all_on(Subnormals::Kept, act, mode, x, grad_output, got)
    }

    /// [`SweepStats::judge_all`] with [`judge_on`] for an implementation
    /// that treats subnormal inputs as `subnormals` says.
    pub fn judge_all_on(
        subnormals: Subnormals,
        act: Activation,
        mode: Mode,
        x: &[f32],
        grad_output: &[f32],
        got: &[f32],
    ) -> SweepStats {
        assert_eq!(x.len(), got.len(), "one result per input");
        let threads = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        // Small batches are not worth a thread.
        let piece = x.len().div_ceil(threads).max(4096);
        let judge_piece = |start: usize| {
            let end = (start + piece).min(x.len());
            let mut stats = SweepStats::default();
            for i in start..end {
                let dy = grad_output.get(i).copied().unwrap_or(1.0);
                let judgement = judge_on(subnormals, act, mode, x[i], dy, got[i]);
                stats.add_judged(x[i], dy, got[i], judgement);
            }
            stats
        };
        let starts: Vec<usize> = (0..x.len()).step_by(piece).collect();
        let parts: Vec<SweepStats> = if starts.len() <= 1 {
            starts.iter().map(|&s| judge_piece(s)).collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = starts
                    .iter()
                    .map(|&s| scope.spawn(move || judge_piece(s)))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("a judging thread panicked"))
                    .collect()
            })
        };
        let mut total = SweepStats::default();
        for part in &parts {
            total.merge(part);
        }
        total
    }
}

/// Elements per GPU call in [`sweep`] (2^22: 16 MiB per buffer), so that
/// memory stays bounded however many inputs are swept.
pub const SWEEP_CHUNK: usize = 1 << 22;

/// Number of inputs of a strided sweep of all f32 bit patterns:
/// `2^(32 - stride_log2)`.
pub fn strided_len(stride_log2: u32) -> u64 {
    assert!(stride_log2 <= 32, "stride_log2 must be at most 32");
    1u64 << (32 - stride_log2)
}

/// Inputs `start .. start + len` of the strided sweep: input `i` has the
/// bits `i << stride_log2`, so the sweep walks every `2^stride_log2`-th raw
/// bit pattern (both signs, zeros, subnormals, infinities and NaNs, since
/// `0x7f80_0000` and `0xff80_0000` are multiples of every stride up to 2^23).
/// Stops at the end of the sweep.
pub fn strided_chunk(stride_log2: u32, start: u64, len: usize) -> Vec<f32> {
    let end = (start + len as u64).min(strided_len(stride_log2));
    (start..end)
        .map(|i| f32::from_bits(((i << stride_log2) & 0xffff_ffff) as u32))
        .collect()
}

/// Every `2^stride_log2`-th f32 bit pattern, from `0x0000_0000` up (see
/// [`strided_chunk`]); `2^(32 - stride_log2)` values, so keep
/// `stride_log2` at 4 or more (use [`strided_chunk`] for finer sweeps).
pub fn strided_inputs(stride_log2: u32) -> Vec<f32> {
    strided_chunk(stride_log2, 0, strided_len(stride_log2) as usize)
}

/// The `grad_output` [`sweep`] pairs with input `x` for the backward: a
/// value in [-4, 4) drawn from a hash of `x`'s bits, the same whatever the
/// chunking.
pub fn sweep_grad_output(x: f32) -> f32 {
    let mut z = u64::from(x.to_bits()).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    ((z >> 40) as f32 / (1u32 << 24) as f32) * 8.0 - 4.0
}

/// Runs `act` in `mode` on `ctx` over `x` (in GPU calls of at most
/// [`SWEEP_CHUNK`] elements; the backward with [`sweep_grad_output`]) and
/// judges every result against the f64 reference on all CPU cores.
pub fn sweep(
    ctx: &crate::Context,
    act: Activation,
    mode: Mode,
    x: &[f32],
) -> Result<SweepStats, crate::Error> {
    sweep_with(act, mode, x, Subnormals::Kept, |chunk, grad| match mode {
        Mode::Forward => ctx.forward(act, chunk),
        Mode::Derivative => ctx.derivative(act, chunk),
        Mode::Backward => ctx.backward(act, chunk, grad),
    })
}

/// [`sweep`] with any implementation of the kernels: `run(x, grad_output)`
/// returns `act` in `mode` over a chunk of at most [`SWEEP_CHUNK`] inputs
/// (`grad_output` is empty except for the backward), e.g.
/// [`crate::browser::Browser::run`]; results are judged with [`judge_on`]
/// for `subnormals`.
pub fn sweep_with(
    act: Activation,
    mode: Mode,
    x: &[f32],
    subnormals: Subnormals,
    mut run: impl FnMut(&[f32], &[f32]) -> Result<Vec<f32>, crate::Error>,
) -> Result<SweepStats, crate::Error> {
    let mut stats = SweepStats::default();
    for chunk in x.chunks(SWEEP_CHUNK) {
        let grad: Vec<f32> = match mode {
            Mode::Backward => chunk.iter().map(|&v| sweep_grad_output(v)).collect(),
            Mode::Forward | Mode::Derivative => Vec::new(),
        };
        let got = run(chunk, &grad)?;
        if got.len() != chunk.len() {
            return Err(crate::Error::LengthMismatch {
                what: "GPU result",
                expected: chunk.len(),
                actual: got.len(),
            });
        }
        stats.merge(&SweepStats::judge_all_on(
            subnormals, act, mode, chunk, &grad, &got,
        ));
    }
    Ok(stats)
}

/// Which result of a gated activation ([`crate::Gated`]) is judged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GatedPart {
    /// `value * act(gate)`.
    Forward,
    /// `d_value = grad_output * act(gate)`.
    DValue,
    /// `d_gate = grad_output * value * act'(gate)`.
    DGate,
}

impl GatedPart {
    /// The target in scaled ULPs: 2 forward, 3 for `d_value` (one rounding
    /// more), 5 for `d_gate` (the derivative's 4 and a rounding).
    pub fn target(self) -> f64 {
        self.target_at(Precision::Precise)
    }

    /// [`GatedPart::target`] at `precision`: the fast tier's 4 forward, 5
    /// for `d_value` and 8 for `d_gate` (its derivative and backward bound).
    pub fn target_at(self, precision: Precision) -> f64 {
        match (precision, self) {
            (Precision::Precise, GatedPart::Forward) => 2.0,
            (Precision::Precise, GatedPart::DValue) => 3.0,
            (Precision::Precise, GatedPart::DGate) => 5.0,
            (Precision::Fast, GatedPart::Forward) => 4.0,
            (Precision::Fast, GatedPart::DValue) => 5.0,
            (Precision::Fast, GatedPart::DGate) => 8.0,
        }
    }
}

/// Judges one result of a gated activation against the f64 reference, as
/// [`judge_value`] does, with the condition number summed over the inputs:
/// 1 for each factor that enters linearly (value, grad_output) plus the
/// gate activation's (or its derivative's) condition number at `gate`.
pub fn judge_gated(
    kind: crate::Gated,
    part: GatedPart,
    value: f32,
    gate: f32,
    grad_output: f32,
    got: f32,
) -> Judgement {
    let (a, b, g) = (f64::from(value), f64::from(gate), f64::from(grad_output));
    let act = kind.gate();
    // The inputs each part depends on: d_value does not depend on the value
    // (an infinite value leaves it finite), the forward not on grad_output.
    let infinite = match part {
        GatedPart::Forward => value.is_infinite() || gate.is_infinite(),
        GatedPart::DValue => gate.is_infinite() || grad_output.is_infinite(),
        GatedPart::DGate => value.is_infinite() || gate.is_infinite() || grad_output.is_infinite(),
    };
    let forward_kappa = || condition_number(|v| cpu::forward_f64(act, v), b);
    match part {
        GatedPart::Forward => {
            judge_value(cpu::gated_forward_f64(kind, a, b), got, infinite, || {
                1.0 + forward_kappa()
            })
        }
        GatedPart::DValue => judge_value(g * cpu::forward_f64(act, b), got, infinite, || {
            1.0 + forward_kappa()
        }),
        GatedPart::DGate => {
            let want = cpu::gated_backward_f64(kind, a, b, g).1;
            judge_value(want, got, infinite, || {
                2.0 + condition_number(|v| cpu::derivative_f64(act, v), b)
            })
        }
    }
}

/// [`judge_gated`] on an implementation that treats subnormal inputs as
/// `subnormals` says: with [`Subnormals::MayFlush`], each subnormal input
/// may also count as a zero of its sign (a zero result keeps the sign of
/// the reference at the inputs themselves), and the better judgement counts.
pub fn judge_gated_on(
    subnormals: Subnormals,
    kind: crate::Gated,
    part: GatedPart,
    (value, gate, grad_output): (f32, f32, f32),
    got: f32,
) -> Judgement {
    let own = judge_gated(kind, part, value, gate, grad_output, got);
    let flush = |v: f32| {
        if v != 0.0 && v.abs() < f32::MIN_POSITIVE {
            0f32.copysign(v)
        } else {
            v
        }
    };
    let flushed_inputs = (flush(value), flush(gate), flush(grad_output));
    if subnormals == Subnormals::Kept
        || own == judge_ok()
        || flushed_inputs == (value, gate, grad_output)
    {
        return own;
    }
    let (a, b, g) = flushed_inputs;
    let flushed = judge_gated(kind, part, a, b, g, got);
    let reference_negative = match part {
        GatedPart::Forward => cpu::gated_forward_f64(kind, value.into(), gate.into()),
        GatedPart::DValue => f64::from(grad_output) * cpu::forward_f64(kind.gate(), gate.into()),
        GatedPart::DGate => {
            cpu::gated_backward_f64(kind, value.into(), gate.into(), grad_output.into()).1
        }
    }
    .is_sign_negative();
    flushed_or_own(own, flushed, got, reference_negative)
}

/// How a 16-bit result compares with the reference rounded once to its
/// type (`want`, from [`crate::cpu`]): its distance in ULPs of that type
/// (0 for the same value; +0 and -0 count as one value here, their signs
/// are judged as a rule), or the rule of SEMANTICS.md it breaks: NaN lost or
/// invented, an infinity where the rounded reference is finite or the other
/// way round (overflow only where the true value overflows the type), or a
/// zero of the wrong sign.
pub fn half_ulps<T: crate::Element>(got: T, want: T) -> Result<u32, Rule> {
    let (g, w) = (got.to_f64(), want.to_f64());
    match (g.is_nan(), w.is_nan()) {
        (false, true) => return Err(Rule::NanLost),
        (true, false) => return Err(Rule::NanInvented),
        (true, true) => return Ok(0),
        _ => {}
    }
    if g.is_infinite() || w.is_infinite() {
        return if g == w { Ok(0) } else { Err(Rule::WrongLimit) };
    }
    if g == 0.0 && w == 0.0 && g.is_sign_negative() != w.is_sign_negative() {
        return Err(Rule::WrongSignedZero);
    }
    // Sign and magnitude to a line where neighbours differ by one.
    let ordered = |bits: u32| {
        let magnitude = i64::from(bits & 0x7fff);
        if bits & 0x8000 != 0 {
            -magnitude
        } else {
            magnitude
        }
    };
    let distance = ordered(got.to_bits_u32()) - ordered(want.to_bits_u32());
    Ok(distance.unsigned_abs() as u32)
}

/// Every 16-bit pattern of `T` (f16 or bf16), in order: the inputs of the
/// exhaustive 16-bit sweep ([`sweep_half`]).
pub fn half_inputs<T: crate::Element>() -> Vec<T> {
    (0..=0xffffu32).map(T::from_bits_u32).collect()
}

/// Largest grad_output exponent of the bf16 sweep: 2^15 (see
/// [`half_grad_outputs`]).
pub const MAX_BF16_GRAD_EXPONENT: u32 = 127 + 15;

/// The grad_output [`sweep_half`] pairs with each of [`half_inputs`]: every
/// pattern once more, in another order (an odd multiplier permutes 0..65536),
/// so each x meets an unrelated grad. For bf16, finite grads above 2^15 are
/// reflected below it (exponent 15 + k becomes 15 - k): the kernels compute
/// f'(x) in f32, where an f'(x) below f32's smallest subnormal (2^-149) is 0
/// for some ops (GELU's beyond x = -14; as in PyTorch, whose bf16 math is f32
/// too), and up to 2^15 times such an f'(x) is below half of bf16's smallest
/// subnormal (2^-133): 0 in the reference too. f16's whole range is covered.
pub fn half_grad_outputs<T: crate::Element>() -> Vec<T> {
    (0..=0xffffu32)
        .map(|i| {
            let bits = i.wrapping_mul(40503).wrapping_add(12345) & 0xffff;
            let exponent = (bits >> 7) & 0xff;
            if T::DTYPE == crate::Dtype::Bf16
                && exponent > MAX_BF16_GRAD_EXPONENT
                && exponent < 0xff
            {
                let reflected = 2 * MAX_BF16_GRAD_EXPONENT - exponent;
                T::from_bits_u32((bits & 0x807f) | (reflected << 7))
            } else {
                T::from_bits_u32(bits)
            }
        })
        .collect()
}

/// The outcome of a 16-bit sweep of one op and mode ([`judge_half`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HalfStats {
    /// Results judged.
    pub count: u64,
    /// Largest ULP distance among results that break no rule.
    pub worst_ulps: u32,
    /// Results exactly 1 ULP from the rounded reference.
    pub one_ulp_off: u64,
    /// Results more than 1 ULP off or breaking a rule.
    pub wrong: u64,
    /// The first few wrong results, described.
    pub examples: Vec<String>,
}

/// Judges 16-bit results `got` of `act` in `mode` on `x` (and `grad_output`
/// for the backward) against the CPU reference rounded once to `T`
/// ([`half_ulps`]): right within 1 ULP.
pub fn judge_half<T: crate::Element>(
    act: Activation,
    mode: Mode,
    x: &[T],
    grad_output: &[T],
    got: &[T],
) -> Result<HalfStats, crate::Error> {
    let want = match mode {
        Mode::Forward => cpu::forward(act, x)?,
        Mode::Derivative => cpu::derivative(act, x)?,
        Mode::Backward => cpu::backward(act, x, grad_output)?,
    };
    crate::Error::check_len("results", want.len(), got.len())?;
    let mut stats = HalfStats::default();
    for i in 0..want.len() {
        stats.count += 1;
        match half_ulps(got[i], want[i]) {
            Ok(u) if u <= 1 => {
                stats.worst_ulps = stats.worst_ulps.max(u);
                stats.one_ulp_off += u64::from(u);
            }
            verdict => {
                stats.wrong += 1;
                if stats.examples.len() < 3 {
                    let g = if mode == Mode::Backward {
                        format!(", grad {}", grad_output[i])
                    } else {
                        String::new()
                    };
                    stats.examples.push(format!(
                        "x = {} ({:#06x}){g}: got {} ({:#06x}), want {} ({:#06x}): {verdict:?}",
                        x[i],
                        x[i].to_bits_u32(),
                        got[i],
                        got[i].to_bits_u32(),
                        want[i],
                        want[i].to_bits_u32(),
                    ));
                }
            }
        }
    }
    Ok(stats)
}

/// Runs `act` in `mode` through `kernels` (which must belong to `ctx`'s
/// device: pass [`crate::Context::kernels`], or kernels with another
/// [`crate::Tuning`] to sweep another f16 path) over every 16-bit pattern of
/// `T` ([`half_inputs`], with [`half_grad_outputs`] for the backward) and
/// judges every result ([`judge_half`]).
pub fn sweep_half<T: crate::Element>(
    ctx: &crate::Context,
    kernels: &crate::Kernels,
    act: Activation,
    mode: Mode,
) -> Result<HalfStats, crate::Error> {
    sweep_half_at::<T>(ctx, kernels, act, mode, Precision::default_for(T::DTYPE))
}

/// [`sweep_half`] with the kernels at `precision` (16-bit results are held
/// to 1 ULP of their type in both tiers).
pub fn sweep_half_at<T: crate::Element>(
    ctx: &crate::Context,
    kernels: &crate::Kernels,
    act: Activation,
    mode: Mode,
    precision: Precision,
) -> Result<HalfStats, crate::Error> {
    let x = half_inputs::<T>();
    let grad = half_grad_outputs::<T>();
    let tx = ctx.upload(&x)?;
    let tg = ctx.upload(&grad)?;
    let out = ctx.upload(&vec![T::default(); x.len()])?;
    let mut batch = ctx.batch();
    let grad_region = (mode == Mode::Backward).then(|| tg.region());
    kernels.with_precision(precision).record(
        batch.encoder(),
        act,
        mode,
        tx.region(),
        grad_region,
        out.region(),
    )?;
    let got = batch.read_as::<T>(&out)?;
    judge_half(act, mode, &x, &grad, &got)
}
