//! Shared test helpers: the adapters, input generators, tolerances.

use std::sync::OnceLock;

use wgpu_activations::accuracy::{Worst, judge};
use wgpu_activations::{Activation, Context, Mode};

/// Every adapter the machine offers (restricted by WGPU_BACKEND /
/// WGPU_ADAPTER_NAME when set), opened once per test process. Panics with
/// install instructions when there is none: GPU checks never skip silently.
pub fn adapters() -> &'static [Context] {
    static ADAPTERS: OnceLock<Vec<Context>> = OnceLock::new();
    ADAPTERS.get_or_init(|| match Context::all_adapters() {
        Ok(contexts) => {
            let names: Vec<String> = contexts
                .iter()
                .map(|c| format!("{} ({:?})", c.adapter_name(), c.backend()))
                .collect();
            eprintln!("GPU checks run on: {}", names.join(", "));
            contexts
        }
        Err(e) => panic!(
            "GPU tests need an adapter and found none: {e}\n\
             Install a software GPU: `apt-get install -y mesa-vulkan-drivers libvulkan1` (lavapipe); \
             GL uses Mesa's llvmpipe through EGL (`apt-get install -y libegl1 libgles2`)."
        ),
    })
}

/// Name for messages: `"llvmpipe (...) (Vulkan)"`.
pub fn describe(ctx: &Context) -> String {
    format!("{} ({:?})", ctx.adapter_name(), ctx.backend())
}

/// SplitMix64: a tiny seeded generator, so every run checks the same inputs.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The special values every op is checked at.
pub const SPECIALS: [f32; 19] = [
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

/// A seeded sweep: uniform in [-30, 30], log-uniform magnitudes from 1e-40 to
/// 3e38 with either sign, and raw bit patterns (NaNs and infinities included).
pub fn random_sweep(seed: u64, n: usize) -> Vec<f32> {
    let mut rng = Rng::new(seed);
    (0..n)
        .map(|i| match i % 3 {
            0 => (rng.unit() * 60.0 - 30.0) as f32,
            1 => {
                let magnitude = 10f64.powf(rng.unit() * 78.5 - 40.0) as f32;
                if rng.next_u64() & 1 == 0 {
                    magnitude
                } else {
                    -magnitude
                }
            }
            _ => f32::from_bits(rng.next_u64() as u32),
        })
        .collect()
}

/// Every 0.001 over [-20, 20] (40,001 points).
pub fn dense_grid() -> Vec<f32> {
    (0..=40_000)
        .map(|i| (-20.0 + f64::from(i) * 1e-3) as f32)
        .collect()
}

/// The error each op is allowed against the f64 reference, in ULPs scaled by
/// 1 + condition number (SEMANTICS.md "Accuracy"); `None` means bit-exact.
pub fn tolerance(act: Activation, mode: Mode) -> Option<f64> {
    if act.is_piecewise_linear() {
        return None;
    }
    Some(match mode {
        Mode::Forward => 2.0,
        Mode::Derivative | Mode::Backward => 4.0,
    })
}

/// Judges `got` against the reference and panics with the worst offenders
/// when any result breaks a rule or exceeds the tolerance.
pub fn assert_accurate(
    ctx: &Context,
    act: Activation,
    mode: Mode,
    x: &[f32],
    grad: &[f32],
    got: &[f32],
) -> Worst {
    assert_eq!(got.len(), x.len(), "{act:?} {mode:?}: wrong output length");
    let limit = tolerance(act, mode);
    let mut worst = Worst::default();
    let mut failures = Vec::new();
    for (i, (&xi, &yi)) in x.iter().zip(got).enumerate() {
        let dy = grad.get(i).copied().unwrap_or(1.0);
        let j = judge(act, mode, xi, dy, yi);
        worst.add(xi, j);
        let bad = j.broken_rule.is_some()
            || match limit {
                None => j.ulps > 0.0,
                Some(limit) => j.scaled > limit,
            };
        if bad && failures.len() < 12 {
            let want = wgpu_activations::accuracy::reference(act, mode, xi, dy) as f32;
            failures.push(format!(
                "  [{i}] x = {xi:e} ({:#010x}), dy = {dy:e}: got {yi:e} ({:#010x}), want {want:e} ({:#010x}); {} ULPs, {:.2} scaled, {:?}",
                xi.to_bits(), yi.to_bits(), want.to_bits(), j.ulps, j.scaled, j.broken_rule
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} {act:?} {mode:?} on {}: tolerance {:?} scaled ULPs (None = bit-exact) exceeded:\n{}",
        act.name(),
        describe(ctx),
        limit,
        failures.join("\n")
    );
    worst
}

/// Runs `mode` of `act` on the GPU.
pub fn run(ctx: &Context, act: Activation, mode: Mode, x: &[f32], grad: &[f32]) -> Vec<f32> {
    let result = match mode {
        Mode::Forward => ctx.forward(act, x),
        Mode::Derivative => ctx.derivative(act, x),
        Mode::Backward => ctx.backward(act, x, grad),
    };
    result.unwrap_or_else(|e| panic!("{act:?} {mode:?} on {} failed: {e}", describe(ctx)))
}

/// Every op with default parameters, plus non-default ones.
pub fn ops_under_test() -> Vec<Activation> {
    let mut ops = Activation::ALL.to_vec();
    ops.push(Activation::LeakyRelu {
        negative_slope: 0.2,
    });
    ops.push(Activation::LeakyRelu {
        negative_slope: -1.5,
    });
    ops
}

/// A grad_output stream for backward: varied magnitudes and signs.
pub fn grad_for(x: &[f32]) -> Vec<f32> {
    let mut rng = Rng::new(0xd1ce);
    x.iter()
        .map(|_| ((rng.unit() * 8.0 - 4.0) as f32) * 0.75)
        .collect()
}
