//! The CPU reference (`wgpu_activations::cpu`) over arbitrary inputs: any
//! activation (the defaults of `Activation::ALL`, or any kind with arbitrary
//! parameter bits, valid or not), f32 / f16 / bf16 elements of any bit
//! pattern (NaN, infinities, subnormals), and the families (gated, packed
//! gated, row-wise, PReLU, RReLU in training) with arbitrary lengths and
//! shapes, invalid ones included. Nothing may panic; invalid parameters and
//! shapes must come back as `Err`. Beyond that only rules the docs state
//! (`SEMANTICS.md`, the rustdoc of `cpu`, `Element`) are asserted, the cheap
//! and certain ones:
//!
//! - every function errs exactly when `Activation::validate` does (lengths
//!   and shapes aside);
//! - NaN in -> NaN out (forward, derivative; gated; rows holding NaN);
//!   never NaN from a non-NaN input (the limits at +-inf, no overflow);
//! - `backward(x, 1) == derivative(x)`;
//! - the signed zeros and +-inf limits that SEMANTICS.md lists for the
//!   default instances;
//! - packed gated rows `[value | gate]` give what the separate form gives;
//! - softmax / softmin in [0, 1] summing to 1, log-softmax <= 0, and the NaN
//!   rows; a zero gradient gives a zero backward;
//! - PReLU is LeakyReLU with the channel's slope; RReLU's noise is 1 for
//!   x > 0 and its slope elsewhere, NaN for NaN;
//! - `Element::round_from_f64` keeps NaN and the sign, is monotonic and
//!   matches `half`'s correctly rounded f32 conversions on f32 values.

#![no_main]

use half::{bf16, f16};
use libfuzzer_sys::arbitrary::{Result, Unstructured};
use libfuzzer_sys::fuzz_target;
use wgpu_activations::{Activation, Element, Gated, RowOp, cpu};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let _ = run(&mut u);
});

fn run(u: &mut Unstructured<'_>) -> Result<()> {
    let family = u.int_in_range(0..=5u8)?;
    let dtype = u.int_in_range(0..=2u8)?;
    if family == 5 {
        return rounding(u);
    }
    macro_rules! with_dtype {
        ($f:ident) => {
            match dtype {
                0 => $f::<f32>(u),
                1 => $f::<f16>(u),
                _ => $f::<bf16>(u),
            }
        };
    }
    match family {
        0 => with_dtype!(unary),
        1 => with_dtype!(gated),
        2 => with_dtype!(rowwise),
        3 => with_dtype!(prelu),
        _ => with_dtype!(rrelu_train),
    }
}

// ---- inputs -------------------------------------------------------------------

/// The values most likely to break something.
const SPECIAL: &[f32] = &[
    f32::NAN,
    -f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    f32::MIN_POSITIVE,
    -f32::MIN_POSITIVE,
    1e-45,
    -1e-45,
    f32::MAX,
    f32::MIN,
    f32::EPSILON,
    1.0,
    -1.0,
    0.5,
    -0.5,
    3.0,
    -3.0,
    6.0,
    20.0,
    -20.0,
    88.0,
    -88.0,
    -0.752,
    -1.278,
    1e-4,
    65504.0,
    65520.0,
];

/// An f32: a special value or any bit pattern.
fn any_f32(u: &mut Unstructured<'_>) -> Result<f32> {
    if u.ratio(1, 3)? {
        Ok(*u.choose(SPECIAL)?)
    } else {
        Ok(f32::from_bits(u.arbitrary()?))
    }
}

/// An element: a special value (rounded to `T`) or any bit pattern of `T`.
fn any_element<T: Element>(u: &mut Unstructured<'_>) -> Result<T> {
    if u.ratio(1, 3)? {
        Ok(T::round_from_f64(f64::from(*u.choose(SPECIAL)?)))
    } else {
        Ok(T::from_bits_u32(u.arbitrary()?))
    }
}

fn elements<T: Element>(u: &mut Unstructured<'_>, len: usize) -> Result<Vec<T>> {
    (0..len).map(|_| any_element(u)).collect()
}

/// A length up to 64, or `other` (so that lengths often agree).
fn len_like(u: &mut Unstructured<'_>, other: usize) -> Result<usize> {
    if u.ratio(3, 4)? {
        Ok(other)
    } else {
        u.int_in_range(0..=64)
    }
}

/// A size for a shape or row: small, or anything up to `usize::MAX`.
fn any_size(u: &mut Unstructured<'_>) -> Result<usize> {
    Ok(match u.int_in_range(0..=9u8)? {
        0 => u.arbitrary::<usize>()?,
        1 => *u.choose(&[
            usize::MAX,
            usize::MAX - 1,
            usize::MAX / 2 + 1,
            1 << 32,
            (1 << 32) + 2,
            1 << 33,
            (1 << 33) + 2,
            u32::MAX as usize,
            u32::MAX as usize + 1,
            65_000 * 256,
            65_000 * 256 + 1,
        ])?,
        _ => u.int_in_range(0..=16)?,
    })
}

/// An activation: a default instance, or any kind with arbitrary parameters
/// (valid or not).
fn activation(u: &mut Unstructured<'_>) -> Result<Activation> {
    let base = *u.choose(Activation::ALL)?;
    if base.param_names().is_empty() || u.ratio(1, 3)? {
        return Ok(base);
    }
    let values = (0..base.param_names().len())
        .map(|_| any_f32(u))
        .collect::<Result<Vec<f32>>>()?;
    Ok(Activation::from_parts(base.name(), &values).expect("a known kind and its arity"))
}

// ---- helpers ------------------------------------------------------------------

fn is_nan<T: Element>(v: T) -> bool {
    v.to_f64().is_nan()
}

/// Equal bits, or both NaN.
fn same<T: Element>(a: T, b: T) -> bool {
    a.to_bits_u32() == b.to_bits_u32() || (is_nan(a) && is_nan(b))
}

fn same_all<T: Element>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(&x, &y)| same(x, y))
}

/// `act` is the default instance of its kind (`Activation::ALL`), bit for bit.
fn is_default(act: Activation) -> bool {
    Activation::ALL.iter().any(|a| {
        a.name() == act.name()
            && a.param_values()
                .iter()
                .map(|v| v.to_bits())
                .eq(act.param_values().iter().map(|v| v.to_bits()))
    })
}

// ---- element-wise ops -----------------------------------------------------------

fn unary<T: Element>(u: &mut Unstructured<'_>) -> Result<()> {
    let act = activation(u)?;
    let len = u.int_in_range(0..=64)?;
    let x: Vec<T> = elements(u, len)?;
    let glen = len_like(u, len)?;
    let g: Vec<T> = elements(u, glen)?;
    let valid = act.validate().is_ok();

    let y = cpu::forward(act, &x);
    let d = cpu::derivative(act, &x);
    let b = cpu::backward(act, &x, &g);
    assert_eq!(y.is_ok(), valid, "forward {act:?}: {y:?}");
    assert_eq!(d.is_ok(), valid, "derivative {act:?}: {d:?}");
    assert_eq!(
        b.is_ok(),
        valid && glen == len,
        "backward {act:?} {len} {glen}: {b:?}"
    );
    if !valid {
        return Ok(());
    }
    let (y, d) = (y.unwrap(), d.unwrap());
    assert_eq!(y.len(), len);
    assert_eq!(d.len(), len);
    if let Ok(b) = b {
        assert_eq!(b.len(), len);
    }

    // backward(x, 1) is the derivative, bit for bit.
    let ones = vec![T::round_from_f64(1.0); len];
    let b1 = cpu::backward(act, &x, &ones).expect("valid, equal lengths");
    assert!(
        same_all(&b1, &d),
        "{act:?}: backward(x, 1) {b1:?} != derivative {d:?} at {x:?}"
    );

    let default = is_default(act);
    for i in 0..len {
        let xv = x[i].to_f64();
        if xv.is_nan() {
            assert!(is_nan(y[i]), "{act:?}({xv}) = {:?}, not NaN", y[i]);
            assert!(is_nan(d[i]), "{act:?}'({xv}) = {:?}, not NaN", d[i]);
            continue;
        }
        let f = cpu::forward_f64(act, xv);
        let df = cpu::derivative_f64(act, xv);
        assert!(!f.is_nan(), "{act:?}({xv:e}) is NaN");
        assert!(!df.is_nan(), "{act:?}'({xv:e}) is NaN");
        assert!(
            !is_nan(y[i]) && !is_nan(d[i]),
            "{act:?} at {xv:e}: {:?} {:?}",
            y[i],
            d[i]
        );
        if default {
            check_documented_values(act, xv, y[i].to_f64(), d[i].to_f64());
        }
    }
    Ok(())
}

/// The signed zeros and +-inf limits SEMANTICS.md lists, for the default
/// instances.
fn check_documented_values(act: Activation, x: f64, y: f64, dy: f64) {
    let bits = |v: f64| v.to_bits();
    let name = act.name();
    if x == 0.0 {
        // Odd functions keep the sign of a zero input; the shrinks' dead zone
        // and tanhshrink give +0.
        let keeps = [
            "tanh",
            "softsign",
            "silu",
            "gelu",
            "mish",
            "elu",
            "leaky_relu",
            "relu",
            "hardtanh",
            "relu6",
        ];
        if keeps.contains(&name) {
            assert_eq!(bits(y), bits(x), "{name}({x:?}) = {y:?}");
        }
        if ["softshrink", "hardshrink", "tanhshrink"].contains(&name) {
            assert_eq!(bits(y), bits(0.0), "{name}({x:?}) = {y:?}");
        }
    }
    if name == "hardswish" && x == -3.0 {
        assert_eq!(bits(y), bits(-0.0), "hardswish(-3) = {y:?}");
    }
    if x == f64::NEG_INFINITY {
        if ["silu", "gelu", "mish"].contains(&name) {
            assert_eq!(y, 0.0, "{name}(-inf) = {y:?}");
        }
        if name == "softsign" {
            assert_eq!(y, -1.0, "softsign(-inf) = {y:?}");
        }
    }
    if x == f64::INFINITY {
        if name == "silu" {
            assert_eq!(dy, 1.0, "silu'(inf) = {dy:?}");
        }
        if name == "softsign" {
            assert_eq!(y, 1.0, "softsign(inf) = {y:?}");
        }
    }
}

// ---- gated ---------------------------------------------------------------------

fn gated<T: Element>(u: &mut Unstructured<'_>) -> Result<()> {
    let kind = *u.choose(&Gated::ALL)?;
    let len = u.int_in_range(0..=64)?;
    let value: Vec<T> = elements(u, len)?;
    let glen = len_like(u, len)?;
    let gate: Vec<T> = elements(u, glen)?;
    let dlen = len_like(u, len)?;
    let dy: Vec<T> = elements(u, dlen)?;

    let y = cpu::gated_forward(kind, &value, &gate);
    assert_eq!(y.is_ok(), glen == len, "{kind:?} {len} {glen}: {y:?}");
    let bw = cpu::gated_backward(kind, &value, &gate, &dy);
    assert_eq!(
        bw.is_ok(),
        glen == len && dlen == len,
        "{kind:?} {len} {glen} {dlen}"
    );
    if let Ok(y) = &y {
        assert_eq!(y.len(), len);
        for i in 0..len {
            if is_nan(value[i]) || is_nan(gate[i]) {
                assert!(
                    is_nan(y[i]),
                    "{kind:?}({:?}, {:?}) = {:?}",
                    value[i],
                    gate[i],
                    y[i]
                );
            }
        }
    }
    if let Ok((da, db)) = &bw {
        assert_eq!((da.len(), db.len()), (len, len));
    }

    // Packed rows [value | gate] of an arbitrary (maybe invalid) row length.
    let row_len = if u.ratio(1, 2)? {
        2 * u.int_in_range(0..=16usize)?
    } else {
        any_size(u)?
    };
    let xlen = u.int_in_range(0..=128)?;
    let x: Vec<T> = elements(u, xlen)?;
    let whole_rows = row_len > 0 && row_len % 2 == 0 && xlen % row_len == 0;
    let packed = cpu::gated_forward_packed(kind, &x, row_len);
    if packed.is_ok() {
        assert!(
            whole_rows,
            "{kind:?} packed {xlen} in rows of {row_len}: Ok"
        );
    } else if whole_rows {
        // Only an empty input may be refused a huge (valid-looking) row.
        assert_eq!(
            xlen, 0,
            "{kind:?} packed {xlen} in rows of {row_len}: {packed:?}"
        );
    }
    let glen = if u.ratio(3, 4)? {
        xlen / 2
    } else {
        u.int_in_range(0..=64)?
    };
    let grad: Vec<T> = elements(u, glen)?;
    let packed_bw = cpu::gated_backward_packed(kind, &x, row_len, &grad);
    if packed_bw.is_ok() {
        assert!(
            whole_rows && glen == xlen / 2,
            "{kind:?} packed backward: Ok"
        );
    } else if whole_rows && glen == xlen / 2 {
        assert_eq!(
            xlen, 0,
            "{kind:?} packed backward {xlen} / {row_len}: {packed_bw:?}"
        );
    }

    let (Ok(packed), true) = (packed, whole_rows && xlen > 0) else {
        return Ok(());
    };
    let half = row_len / 2;
    let (a, b): (Vec<T>, Vec<T>) = x
        .chunks(row_len)
        .flat_map(|row| row[..half].iter().copied().zip(row[half..].iter().copied()))
        .unzip();
    let separate = cpu::gated_forward(kind, &a, &b).expect("equal halves");
    assert!(
        same_all(&packed, &separate),
        "{kind:?} packed {packed:?} != {separate:?}"
    );
    if let Ok(dx) = packed_bw {
        let (da, db) = cpu::gated_backward(kind, &a, &b, &grad).expect("equal halves");
        let joined: Vec<T> = da
            .chunks(half)
            .zip(db.chunks(half))
            .flat_map(|(p, q)| p.iter().chain(q).copied())
            .collect();
        assert!(
            same_all(&dx, &joined),
            "{kind:?} packed backward {dx:?} != {joined:?}"
        );
    }
    Ok(())
}

// ---- row-wise ------------------------------------------------------------------

fn rowwise<T: Element>(u: &mut Unstructured<'_>) -> Result<()> {
    let op = *u.choose(&RowOp::ALL)?;
    let cols = if u.ratio(3, 4)? {
        u.int_in_range(1..=8)?
    } else {
        any_size(u)?
    };
    let len = if cols > 0 && cols <= 16 && u.ratio(3, 4)? {
        cols * u.int_in_range(0..=8)?
    } else {
        u.int_in_range(0..=128)?
    };
    let x: Vec<T> = elements(u, len)?;
    let whole_rows = cols > 0 && len % cols == 0;
    let forward = match op {
        RowOp::Softmax => cpu::softmax(&x, cols),
        RowOp::LogSoftmax => cpu::log_softmax(&x, cols),
        _ => cpu::softmin(&x, cols),
    };
    if forward.is_ok() {
        assert!(whole_rows, "{op:?} {len} in rows of {cols}: Ok");
    } else if whole_rows {
        assert_eq!(len, 0, "{op:?} {len} in rows of {cols}: {forward:?}");
    }

    // Backward of arbitrary y (or the forward's) and dy.
    let y: Vec<T> = match &forward {
        Ok(y) if u.ratio(1, 2)? => y.clone(),
        _ => elements(u, len)?,
    };
    let zero = u.ratio(1, 3)?;
    let dlen = len_like(u, len)?;
    let dy: Vec<T> = if zero {
        vec![T::default(); dlen]
    } else {
        elements(u, dlen)?
    };
    let backward = match op {
        RowOp::Softmax => cpu::softmax_backward(&y, &dy, cols),
        RowOp::LogSoftmax => cpu::log_softmax_backward(&y, &dy, cols),
        _ => cpu::softmin_backward(&y, &dy, cols),
    };
    if backward.is_ok() {
        assert!(
            whole_rows && dlen == len,
            "{op:?} backward {len}/{dlen} rows of {cols}: Ok"
        );
    } else if whole_rows && dlen == len {
        assert_eq!(
            len, 0,
            "{op:?} backward {len} in rows of {cols}: {backward:?}"
        );
    }
    // A zero gradient gives a zero backward (finite y; log-softmax: y <= 0,
    // as its output is).
    if let (Ok(dx), true) = (&backward, zero && whole_rows && dlen == len) {
        let admissible = y.iter().all(|v| {
            let v = v.to_f64();
            v.is_finite() && (!op.is_log() || v <= 0.0)
        });
        if admissible {
            assert!(
                dx.iter().all(|v| v.to_f64() == 0.0),
                "{op:?} backward of dy = 0: {dx:?}"
            );
        }
    }

    let (Ok(out), true) = (forward, whole_rows && len > 0) else {
        return Ok(());
    };
    assert_eq!(out.len(), len);
    for (row, out) in x.chunks(cols).zip(out.chunks(cols)) {
        let v: Vec<f64> = row
            .iter()
            .map(|e| {
                if op.negates() {
                    -e.to_f64()
                } else {
                    e.to_f64()
                }
            })
            .collect();
        let nan_row = v.iter().any(|e| e.is_nan() || *e == f64::INFINITY)
            || v.iter().all(|e| *e == f64::NEG_INFINITY);
        if nan_row {
            assert!(out.iter().all(|&e| is_nan(e)), "{op:?} of {row:?}: {out:?}");
            continue;
        }
        for (&e, o) in v.iter().zip(out) {
            let o = o.to_f64();
            assert!(!o.is_nan(), "{op:?} of {row:?}: {out:?}");
            if op.is_log() {
                assert!(o <= 0.0, "{op:?} of {row:?}: {out:?}");
                if e == f64::NEG_INFINITY {
                    assert_eq!(o, f64::NEG_INFINITY, "{op:?} of {row:?}: {out:?}");
                }
            } else {
                assert!((0.0..=1.0).contains(&o), "{op:?} of {row:?}: {out:?}");
                if e == f64::NEG_INFINITY {
                    assert_eq!(o, 0.0, "{op:?} of {row:?}: {out:?}");
                }
            }
        }
        if !op.is_log() && T::DTYPE == wgpu_activations::Dtype::F32 {
            let sum: f64 = out.iter().map(|o| o.to_f64()).sum();
            assert!((sum - 1.0).abs() <= 1e-6, "{op:?} of {row:?} sums to {sum}");
        }
    }
    Ok(())
}

// ---- PReLU ---------------------------------------------------------------------

fn prelu<T: Element>(u: &mut Unstructured<'_>) -> Result<()> {
    let shape = if u.ratio(1, 2)? {
        [
            u.int_in_range(0..=4)?,
            u.int_in_range(0..=4)?,
            u.int_in_range(0..=4)?,
        ]
    } else {
        [any_size(u)?, any_size(u)?, any_size(u)?]
    };
    let [n, c, inner] = shape;
    let product = n.checked_mul(c).and_then(|v| v.checked_mul(inner));
    let len = match product {
        Some(p) if p <= 64 && u.ratio(3, 4)? => p,
        _ => u.int_in_range(0..=64)?,
    };
    let x: Vec<T> = elements(u, len)?;
    let nslopes = match u.int_in_range(0..=3u8)? {
        0 => 1,
        1 | 2 if c <= 64 => c,
        _ => u.int_in_range(0..=8)?,
    };
    let slopes: Vec<T> = elements(u, nslopes)?;
    let glen = len_like(u, len)?;
    let dy: Vec<T> = elements(u, glen)?;

    let fits = product == Some(len) && (nslopes == c || nslopes == 1);
    // Known bug, found by this target: `prelu_layout` (src/catalogue/prelu.rs:20)
    // multiplies `c * inner` unchecked for one shared slope, so an empty
    // tensor of shape [0, c, inner] with c != 1 and c * inner past
    // usize::MAX panics with overflow checks on ("attempt to multiply with
    // overflow"). Skipped so that the fuzzer gets past it;
    // tests/fuzz_regressions.rs keeps the case. Set to false once fixed.
    const SKIP_KNOWN_PRELU_OVERFLOW: bool = false;
    if SKIP_KNOWN_PRELU_OVERFLOW && fits && nslopes != c && c.checked_mul(inner).is_none() {
        return Ok(());
    }
    let y = cpu::prelu(&x, &slopes, shape);
    assert_eq!(
        y.is_ok(),
        fits,
        "prelu {len} {shape:?} {nslopes} slopes: {y:?}"
    );
    let bw = cpu::prelu_backward(&x, &slopes, &dy, shape);
    assert_eq!(
        bw.is_ok(),
        fits && glen == len,
        "prelu backward {len} {shape:?} {glen}"
    );
    let Ok(y) = y else {
        return Ok(());
    };
    assert_eq!(y.len(), len);
    let bw = bw.ok();
    if let Some((dx, ds)) = &bw {
        assert_eq!((dx.len(), ds.len()), (len, nslopes));
    }
    // LeakyReLU with the channel's slope (layout [n, c, inner], row-major).
    let channel = |i: usize| if nslopes == c { (i / inner) % c } else { 0 };
    let mut touched = vec![false; nslopes];
    for i in 0..len {
        let k = channel(i);
        let xv = x[i].to_f64();
        if xv.is_nan() || xv <= 0.0 {
            touched[k] = true;
        }
        let slope = slopes[k].to_f64() as f32;
        let leaky = Activation::LeakyRelu {
            negative_slope: slope,
        };
        if leaky.validate().is_err() {
            continue;
        }
        // Found by this target at 6d10f84 (fixed since; kept as a switch):
        // `cpu::prelu` gave NaN for x = -inf and a zero slope (0 * -inf, src/cpu.rs), where
        // SEMANTICS.md asks for the limit ("never NaN from 0*inf") and
        // `cpu::forward(LeakyRelu { negative_slope: 0 })` gives -0. (The
        // WGSL leaky_relu_forward computed the same 0 * -inf until 2d9a02e.)
        // tests/fuzz_regressions.rs keeps the case.
        const SKIP_KNOWN_PRELU_ZERO_SLOPE_INF: bool = false;
        if SKIP_KNOWN_PRELU_ZERO_SLOPE_INF && xv.is_infinite() && slope == 0.0 {
            continue;
        }
        let want = cpu::forward(leaky, &x[i..=i]).expect("valid")[0];
        assert!(
            same(y[i], want),
            "prelu({xv:e}, slope {slope:e}) = {:?}, not {want:?}",
            y[i]
        );
        // Found by this target at 6d10f84 (fixed since; kept as a switch):
        // `cpu::prelu_backward` gave dx = dy * slope at x = NaN (src/cpu.rs, `leaky_relu_derivative`
        // without the NaN rule), where SEMANTICS.md ("NaN in -> NaN out",
        // PReLU "d/dx as LeakyReLU") and the GPU kernels give NaN.
        // tests/fuzz_regressions.rs keeps the case.
        const SKIP_KNOWN_PRELU_NAN: bool = false;
        if SKIP_KNOWN_PRELU_NAN && xv.is_nan() {
            continue;
        }
        if let Some((dx, _)) = &bw {
            let want = cpu::backward(leaky, &x[i..=i], &dy[i..=i]).expect("valid")[0];
            assert!(
                same(dx[i], want),
                "prelu backward at {xv:e}: {:?}, not {want:?}",
                dx[i]
            );
        }
    }
    // A slope none of whose elements is <= 0 (or NaN) gets no gradient.
    if let Some((_, ds)) = &bw {
        for (k, &t) in touched.iter().enumerate() {
            if !t {
                assert_eq!(
                    ds[k].to_f64(),
                    0.0,
                    "d_slope[{k}] of positive inputs: {:?}",
                    ds[k]
                );
            }
        }
    }
    Ok(())
}

// ---- RReLU in training ---------------------------------------------------------

fn rrelu_train<T: Element>(u: &mut Unstructured<'_>) -> Result<()> {
    let (lower, upper) = if u.ratio(1, 3)? {
        (1.0 / 8.0, 1.0 / 3.0)
    } else {
        (any_f32(u)?, any_f32(u)?)
    };
    let seed: u64 = u.arbitrary()?;
    let len = u.int_in_range(0..=64)?;
    let x: Vec<T> = elements(u, len)?;
    // Training also needs upper - lower finite in f32 (the slopes are drawn
    // as lower + (upper - lower) u).
    let valid =
        Activation::Rrelu { lower, upper }.validate().is_ok() && (upper - lower).is_finite();
    let out = cpu::rrelu_train(&x, lower, upper, seed);
    assert_eq!(
        out.is_ok(),
        valid,
        "rrelu_train({lower:e}, {upper:e}): {out:?}"
    );
    for i in [0, 1, u32::MAX, u.arbitrary()?] {
        let r = cpu::rrelu_uniform(seed, i);
        assert!((0.0..1.0).contains(&r), "rrelu_uniform({seed}, {i}) = {r}");
    }
    let Ok((y, noise)) = out else {
        return Ok(());
    };
    assert_eq!((y.len(), noise.len()), (len, len));
    for i in 0..len {
        let xv = x[i].to_f64();
        if xv.is_nan() {
            assert!(
                is_nan(y[i]) && is_nan(noise[i]),
                "rrelu_train(NaN): {:?} {:?}",
                y[i],
                noise[i]
            );
        } else if xv > 0.0 {
            assert!(same(y[i], x[i]), "rrelu_train({xv:e}) = {:?}", y[i]);
            assert_eq!(noise[i].to_f64(), 1.0, "noise at {xv:e}: {:?}", noise[i]);
        } else {
            let slope = cpu::rrelu_train_slope(lower, upper, seed, i as u32);
            let want = T::round_from_f64(f64::from(slope));
            assert!(
                same(noise[i], want),
                "noise at {xv:e}: {:?}, not {want:?}",
                noise[i]
            );
            if T::DTYPE == wgpu_activations::Dtype::F32 {
                // y = x * noise, rounded once; at x = -inf with a zero
                // slope the limit, a zero (SEMANTICS.md: never NaN from
                // 0 * inf), not 0 * -inf.
                let n = noise[i].to_f64();
                if xv.is_infinite() && n == 0.0 {
                    assert_eq!(y[i].to_f64(), 0.0, "rrelu_train(-inf), slope 0: {:?}", y[i]);
                    continue;
                }
                let want = T::round_from_f64(xv * n);
                assert!(
                    same(y[i], want),
                    "rrelu_train({xv:e}) = {:?}, not {want:?}",
                    y[i]
                );
            }
        }
    }
    Ok(())
}

// ---- rounding to 16 bits ---------------------------------------------------------

fn any_f64(u: &mut Unstructured<'_>) -> Result<f64> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => f64::from(any_f32(u)?),
        // Near the 16-bit formats' binades and midpoints.
        1 => {
            f64::from(f32::from_bits(u.arbitrary()?))
                * (1.0 + f64::from(u.arbitrary::<i16>()?) * 2f64.powi(-40))
        }
        _ => f64::from_bits(u.arbitrary()?),
    })
}

fn rounding(u: &mut Unstructured<'_>) -> Result<()> {
    let a = any_f64(u)?;
    let b = any_f64(u)?;
    check_rounding::<f16>(a, b, |v| f16::from_f32(v).to_bits());
    check_rounding::<bf16>(a, b, |v| bf16::from_f32(v).to_bits());
    Ok(())
}

/// `round_from_f64`: to nearest, ties to even; out of range to infinities;
/// NaN stays NaN with its sign. `from_f32` is `half`'s conversion of an f32
/// (a single correct rounding).
fn check_rounding<T: Element>(a: f64, b: f64, from_f32: fn(f32) -> u16) {
    for v in [a, b] {
        let r = T::round_from_f64(v);
        assert_eq!(is_nan(r), v.is_nan(), "{:?} of {v:e}: {r:?}", T::DTYPE);
        assert_eq!(
            r.to_bits_u32() & 0x8000 != 0,
            v.is_sign_negative(),
            "{:?} of {v:e}: {r:?} has the wrong sign",
            T::DTYPE
        );
        let as_f32 = v as f32;
        if !v.is_nan() && f64::from(as_f32) == v {
            let want = u32::from(from_f32(as_f32));
            assert_eq!(r.to_bits_u32(), want, "{:?} of {v:e}: {r:?}", T::DTYPE);
        }
    }
    if !a.is_nan() && !b.is_nan() {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let (rl, rh) = (
            T::round_from_f64(lo).to_f64(),
            T::round_from_f64(hi).to_f64(),
        );
        assert!(
            rl <= rh,
            "{:?}: {lo:e} -> {rl:e} but {hi:e} -> {rh:e}",
            T::DTYPE
        );
    }
}
