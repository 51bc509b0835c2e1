//! How GPU results are judged against the f64 reference (SEMANTICS.md,
//! "Accuracy"): ULPs between the result and the reference rounded to f32,
//! divided by `1 + kappa`, the condition number `|x g'(x) / g(x)|` of the
//! quantity `g` computed (`f` for the forward, `f'` for the derivative and
//! backward). Where the reference is below 2^-126 a result is right when it is
//! zero or tiny with the right sign (backends may flush subnormals).

use crate::{Activation, Mode, cpu};

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
pub fn judge(act: Activation, mode: Mode, x: f32, grad_output: f32, got: f32) -> Judgement {
    let want = reference(act, mode, x, grad_output);
    let broken = |rule| Judgement {
        ulps: f64::INFINITY,
        scaled: f64::INFINITY,
        broken_rule: Some(rule),
    };
    let ok = Judgement {
        ulps: 0.0,
        scaled: 0.0,
        broken_rule: None,
    };
    match (want.is_nan(), got.is_nan()) {
        (true, true) => return ok,
        (true, false) => return broken(Rule::NanLost),
        (false, true) => return broken(Rule::NanInvented),
        (false, false) => {}
    }
    let want32 = want as f32;
    if want32.is_infinite() || x.is_infinite() {
        return if got == want32
            && (got != 0.0 || got.is_sign_negative() == want32.is_sign_negative())
        {
            ok
        } else {
            broken(Rule::WrongLimit)
        };
    }
    if want.abs() < MIN_NORMAL {
        let tiny = f64::from(got).abs() < MIN_NORMAL;
        let same_sign = got.is_sign_negative() == want.is_sign_negative();
        return match (tiny, same_sign) {
            (true, true) => ok,
            (true, false) => broken(Rule::WrongSignedZero),
            (false, _) => {
                let ulps = ulp_distance(got, want32) as f64;
                Judgement {
                    ulps,
                    scaled: ulps,
                    broken_rule: None,
                }
            }
        };
    }
    let ulps = ulp_distance(got, want32) as f64;
    let kappa = match mode {
        Mode::Forward => condition_number(|v| cpu::forward_f64(act, v), f64::from(x)),
        Mode::Derivative | Mode::Backward => {
            condition_number(|v| cpu::derivative_f64(act, v), f64::from(x))
        }
    };
    Judgement {
        ulps,
        scaled: ulps / (1.0 + kappa),
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
