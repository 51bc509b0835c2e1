//! Textures (Part 13): `Kernels::record_texture` and `Context::apply_texture`
//! on every adapter, compared bit for bit with the buffer path
//! (`Context::forward` / `derivative` / `backward` on f32 slices) on the same
//! data, in both precision tiers; for 16-bit formats with that f32 result
//! rounded to half by `half::f16::from_f32` (round to nearest even). Every error case returns
//! its own variant, records nothing and leaves the textures as they were.

use half::f16;
use wgpu_activations::{
    Activation, Alpha, Context, Dtype, Error, Mode, Precision, TEXTURE_FORMATS, TextureRegion,
};

use crate::support::{SPECIALS, adapters, describe, random_sweep, tiered_adapters};

use wgpu::TextureFormat as F;

fn channels(format: F) -> usize {
    match format {
        F::R32Float | F::R16Float => 1,
        F::Rg32Float | F::Rg16Float => 2,
        _ => 4,
    }
}

fn is_half(format: F) -> bool {
    matches!(format, F::Rgba16Float | F::R16Float | F::Rg16Float)
}

/// Bytes of one channel.
fn channel_bytes(format: F) -> usize {
    if is_half(format) { 2 } else { 4 }
}

const ALL_USAGE: wgpu::TextureUsages = wgpu::TextureUsages::TEXTURE_BINDING
    .union(wgpu::TextureUsages::STORAGE_BINDING)
    .union(wgpu::TextureUsages::COPY_SRC)
    .union(wgpu::TextureUsages::COPY_DST);

const READ_USAGE: wgpu::TextureUsages = wgpu::TextureUsages::TEXTURE_BINDING
    .union(wgpu::TextureUsages::COPY_SRC)
    .union(wgpu::TextureUsages::COPY_DST);

fn make(
    ctx: &Context,
    format: F,
    (width, height, layers): (u32, u32, u32),
    mips: u32,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    ctx.device().create_texture(&wgpu::TextureDescriptor {
        label: Some("test.texture"),
        size: wgpu::Extent3d {
            width,
            height,
            depth_or_array_layers: layers,
        },
        mip_level_count: mips,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

fn level_size(texture: &wgpu::Texture, mip: u32) -> wgpu::Extent3d {
    texture.size().mip_level_size(mip, texture.dimension())
}

/// Channel values at `mip`, raw bits (16-bit ones in the low half), texel
/// by texel, layer by layer.
fn write(ctx: &Context, texture: &wgpu::Texture, mip: u32, bits: &[u32]) {
    let format = texture.format();
    let size = level_size(texture, mip);
    let bytes: Vec<u8> = if is_half(format) {
        bits.iter()
            .flat_map(|b| (*b as u16).to_le_bytes())
            .collect()
    } else {
        bits.iter().flat_map(|b| b.to_le_bytes()).collect()
    };
    let row = size.width as usize * channels(format) * channel_bytes(format);
    assert_eq!(
        bytes.len(),
        row * (size.height * size.depth_or_array_layers) as usize
    );
    ctx.queue().write_texture(
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: mip,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        &bytes,
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(row as u32),
            rows_per_image: Some(size.height),
        },
        size,
    );
}

/// What `write` takes, read back (after everything submitted so far).
fn read(ctx: &Context, texture: &wgpu::Texture, mip: u32) -> Vec<u32> {
    let format = texture.format();
    let size = level_size(texture, mip);
    let row = size.width as usize * channels(format) * channel_bytes(format);
    let padded = row.next_multiple_of(256);
    let rows = (size.height * size.depth_or_array_layers) as usize;
    let buffer = ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("test.texture.readback"),
        size: (padded * rows) as u64,
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    encoder.copy_texture_to_buffer(
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: mip,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded as u32),
                rows_per_image: Some(size.height),
            },
        },
        size,
    );
    ctx.queue().submit([encoder.finish()]);
    buffer
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.expect("map"));
    ctx.device()
        .poll(wgpu::PollType::wait_indefinitely())
        .expect("poll");
    let data = buffer.slice(..).get_mapped_range().expect("mapped range");
    let mut out = Vec::new();
    for r in 0..rows {
        let bytes = &data[r * padded..r * padded + row];
        if is_half(format) {
            out.extend(
                bytes
                    .chunks_exact(2)
                    .map(|c| u32::from(u16::from_le_bytes([c[0], c[1]]))),
            );
        } else {
            out.extend(
                bytes
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            );
        }
    }
    out
}

/// `n` channel values for `format` (specials first, then a seeded sweep of
/// ordinary values, tiny and huge magnitudes and raw bit patterns): raw bits
/// and their f32 values.
fn data(format: F, n: usize, seed: u64) -> (Vec<u32>, Vec<f32>) {
    let sweep = random_sweep(seed, n);
    if is_half(format) {
        let specials = [
            0.0f32,
            -0.0,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::NAN,
            5.960_464_5e-8, // smallest f16 subnormal
            -5.960_464_5e-8,
            3.05e-5, // f16 subnormal
            -3.05e-5,
            65504.0, // f16::MAX
            -65504.0,
            6.103_515_6e-5, // f16::MIN_POSITIVE
            1.0,
            -1.0,
            11.0,
            -11.0,
        ];
        let halves: Vec<f16> = specials
            .iter()
            .copied()
            .chain(sweep.iter().enumerate().map(|(i, &v)| {
                if i % 3 == 2 {
                    // raw f16 bit patterns
                    f16::from_bits(v.to_bits() as u16).to_f32()
                } else {
                    v
                }
            }))
            .take(n)
            .map(f16::from_f32)
            .collect();
        (
            halves.iter().map(|h| u32::from(h.to_bits())).collect(),
            halves.iter().map(|h| h.to_f32()).collect(),
        )
    } else {
        let values: Vec<f32> = SPECIALS
            .iter()
            .copied()
            .chain([f32::from_bits(1), -f32::from_bits(0x7f_ffff), 3.0e38])
            .chain(sweep)
            .take(n)
            .collect();
        (values.iter().map(|v| v.to_bits()).collect(), values)
    }
}

/// A grad_output stream: ordinary values of varied sign and size, with
/// every fifth one from [`data`] (specials included).
fn grads(format: F, n: usize) -> (Vec<u32>, Vec<f32>) {
    let (_, special) = data(format, n, 0x9e4d);
    let values: Vec<f32> = special
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if i.is_multiple_of(5) {
                v
            } else {
                // Exact in f16 too: multiples of 1/8 up to 6.25.
                ((i * 37 % 101) as f32 - 50.0) * 0.125
            }
        })
        .collect();
    let bits = values
        .iter()
        .map(|&v| {
            if is_half(format) {
                u32::from(f16::from_f32(v).to_bits())
            } else {
                v.to_bits()
            }
        })
        .collect();
    (bits, values)
}

/// The tier `ctx` computes data stored as `format` at (textures, like
/// buffers, default to `Fast` for 16-bit channels).
fn tier_of(ctx: &Context, format: F) -> Precision {
    ctx.precision_for(if is_half(format) {
        Dtype::F16
    } else {
        Dtype::F32
    })
}

/// The buffer path's result on the same values, as the output format stores
/// it (f32 bits, or rounded to nearest even f16 bits), computed in f32 at the
/// tier the texture kernels use for that output format.
fn buffer_reference(
    ctx: &Context,
    act: Activation,
    mode: Mode,
    x: &[f32],
    g: &[f32],
    out: F,
) -> Vec<u32> {
    let ctx = &ctx.with_precision(tier_of(ctx, out));
    let y = match mode {
        Mode::Forward => ctx.forward(act, x),
        Mode::Derivative => ctx.derivative(act, x),
        Mode::Backward => ctx.backward(act, x, g),
    }
    .unwrap_or_else(|e| panic!("buffer path {act:?} {mode:?}: {e}"));
    y.iter()
        .map(|&v| {
            if is_half(out) {
                u32::from(f16::from_f32(v).to_bits())
            } else {
                v.to_bits()
            }
        })
        .collect()
}

fn show(bits: u32, format: F) -> String {
    if is_half(format) {
        format!("{:e} ({bits:#06x})", f16::from_bits(bits as u16).to_f32())
    } else {
        format!("{:e} ({bits:#010x})", f32::from_bits(bits))
    }
}

fn is_nan(bits: u32, format: F) -> bool {
    if is_half(format) {
        f16::from_bits(bits as u16).is_nan()
    } else {
        f32::from_bits(bits).is_nan()
    }
}

/// Same bits, or NaN for NaN: a NaN's sign and payload are not part of any
/// op's contract (WGSL leaves NaN propagation to the implementation), and on
/// lavapipe they do differ between the buffer kernels' packed body and the
/// texture kernels for a few ops (e.g. SiLU's derivative at NaN: 0x7fc00000
/// here, 0xffc00000 there).
fn same(got: u32, want: u32, format: F) -> bool {
    got == want || (is_nan(got, format) && is_nan(want, format))
}

fn assert_bits(got: &[u32], want: &[u32], x: &[f32], format: F, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    let bad: Vec<String> = (0..got.len())
        .filter(|&i| !same(got[i], want[i], format))
        .take(8)
        .map(|i| {
            format!(
                "  [{i}] x = {:e}: got {}, want {}",
                x[i],
                show(got[i], format),
                show(want[i], format)
            )
        })
        .collect();
    let count = (0..got.len())
        .filter(|&i| !same(got[i], want[i], format))
        .count();
    assert!(
        bad.is_empty(),
        "{what}: {count} of {} channel values differ from the buffer path:\n{}",
        got.len(),
        bad.join("\n")
    );
}

/// One case: `mode` of `act` over a `size` texture of `format` (output of
/// `out_format`), in place or not, compared with the buffer path.
#[allow(clippy::too_many_arguments)]
fn check(
    ctx: &Context,
    act: Activation,
    mode: Mode,
    format: F,
    out_format: F,
    size: (u32, u32, u32),
    in_place: bool,
    alpha: Alpha,
) {
    let what = format!(
        "{act:?} {mode:?} {format:?}->{out_format:?} {}x{}x{} in_place={in_place} {alpha:?} on {}",
        size.0,
        size.1,
        size.2,
        describe(ctx)
    );
    let n = (size.0 * size.1 * size.2) as usize * channels(format);
    let (x_bits, x) = data(format, n, u64::from(size.0 * 131 + size.1 * 7 + size.2));
    let (g_bits, g) = grads(format, n);
    let mut want = buffer_reference(ctx, act, mode, &x, &g, out_format);
    if alpha == Alpha::Keep && channels(format) == 4 {
        let source = if mode == Mode::Backward { &g } else { &x };
        for i in (3..n).step_by(4) {
            want[i] = if is_half(out_format) {
                u32::from(f16::from_f32(source[i]).to_bits())
            } else {
                source[i].to_bits()
            };
        }
    }
    // Inputs are sampled; only a texture also written needs STORAGE_BINDING
    // (which a format the device cannot write does not allow).
    let written = |is_output: bool| if is_output { ALL_USAGE } else { READ_USAGE };
    let x_tex = make(
        ctx,
        format,
        size,
        1,
        written(in_place && mode != Mode::Backward),
    );
    write(ctx, &x_tex, 0, &x_bits);
    let g_tex = (mode == Mode::Backward).then(|| {
        let t = make(ctx, format, size, 1, written(in_place));
        write(ctx, &t, 0, &g_bits);
        t
    });
    let out_tex = (!in_place).then(|| make(ctx, out_format, size, 1, ALL_USAGE));
    let output = match (&out_tex, &g_tex) {
        (Some(t), _) => t,
        (None, Some(g)) => g,
        (None, None) => &x_tex,
    };
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    ctx.kernels()
        .with_precision(tier_of(ctx, out_format))
        .record_texture_with_alpha(
            &mut encoder,
            act,
            mode,
            (&x_tex).into(),
            g_tex.as_ref().map(TextureRegion::new),
            output.into(),
            alpha,
        )
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    ctx.queue().submit([encoder.finish()]);
    let got = read(ctx, output, 0);
    assert_bits(&got, &want, &x, out_format, &what);
    if mode == Mode::Backward && !in_place {
        // The inputs are read, never written.
        assert_eq!(read(ctx, &x_tex, 0), x_bits, "{what}: x changed");
        assert_eq!(
            read(ctx, g_tex.as_ref().unwrap(), 0),
            g_bits,
            "{what}: grad_output changed"
        );
    }
}

fn support(ctx: &Context, format: F) -> (bool, bool) {
    let s = ctx
        .kernels()
        .texture_formats()
        .iter()
        .find(|s| s.format == format)
        .expect("every format is listed");
    (s.output, s.in_place)
}

/// The adapter behind `ctx`, from a fresh instance.
fn adapter_of(ctx: &Context) -> wgpu::Adapter {
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()))
        .into_iter()
        .find(|a| {
            let info = a.get_info();
            info.name == ctx.adapter_name() && info.backend == ctx.backend()
        })
        .expect("the context's adapter is enumerated again")
}

#[test]
fn texture_formats_per_adapter() {
    for ctx in adapters() {
        let formats = ctx.kernels().texture_formats();
        eprintln!("{}: {formats:?}", describe(ctx));
        assert_eq!(formats.len(), TEXTURE_FORMATS.len());
        // The contexts' devices use the adapter's own format features
        // (TEXTURE_ADAPTER_SPECIFIC_FORMAT_FEATURES, or a downlevel GL
        // device): what the kernels found by asking validation must be what
        // the adapter reports.
        let adapter = adapter_of(ctx);
        for s in formats {
            let features = adapter.get_texture_format_features(s.format);
            let storage = features
                .allowed_usages
                .contains(wgpu::TextureUsages::STORAGE_BINDING);
            let flags = features.flags;
            assert_eq!(
                s.output,
                storage && flags.contains(wgpu::TextureFormatFeatureFlags::STORAGE_WRITE_ONLY),
                "{s:?} on {}: {features:?}",
                describe(ctx)
            );
            assert_eq!(
                s.in_place,
                storage && flags.contains(wgpu::TextureFormatFeatureFlags::STORAGE_READ_WRITE),
                "{s:?} on {}: {features:?}",
                describe(ctx)
            );
        }
        // Every adapter here writes the formats a renderer most often has.
        for format in [F::Rgba32Float, F::Rgba16Float, F::R32Float] {
            assert!(support(ctx, format).0, "{format:?} on {}", describe(ctx));
        }
    }
}

#[test]
fn texture_every_op_every_mode_rgba32float() {
    for (ctx, _) in &tiered_adapters() {
        for act in Activation::ALL.iter().copied().chain([
            Activation::LeakyRelu {
                negative_slope: 0.2,
            },
            Activation::Softplus {
                beta: 2.0,
                threshold: 10.0,
            },
            Activation::Hardtanh {
                min_val: -2.5,
                max_val: 0.75,
            },
        ]) {
            for mode in Mode::ALL {
                check(
                    ctx,
                    act,
                    mode,
                    F::Rgba32Float,
                    F::Rgba32Float,
                    (37, 23, 1),
                    false,
                    Alpha::Apply,
                );
            }
        }
    }
}

/// Sizes of the format sweep: one texel, odd sizes, and an array.
const SIZES: [(u32, u32, u32); 3] = [(1, 1, 1), (37, 23, 1), (256, 3, 4)];

#[test]
fn texture_every_format_size_mode_in_place() {
    // A representative few ops (piecewise linear with a parameter, a smooth
    // one with a scaled derivative, GELU), rotated over the combinations so
    // that each op meets every format, size and mode.
    let ops = [
        Activation::Gelu,
        Activation::LeakyRelu {
            negative_slope: 0.2,
        },
        Activation::Silu,
    ];
    for (ctx, _) in &tiered_adapters() {
        let mut k = 0;
        let mut ran = 0;
        for format in TEXTURE_FORMATS {
            let (output, in_place) = support(ctx, format);
            if !output {
                continue;
            }
            for size in SIZES {
                for mode in Mode::ALL {
                    for place in [false, true] {
                        if place && !in_place {
                            continue;
                        }
                        k += 1;
                        let act = ops[k % ops.len()];
                        check(ctx, act, mode, format, format, size, place, Alpha::Apply);
                        ran += 1;
                    }
                }
            }
        }
        eprintln!("{}: {ran} texture cases", describe(ctx));
        assert!(ran >= 3 * SIZES.len() * Mode::ALL.len());
    }
}

#[test]
fn texture_keeps_alpha_when_asked() {
    for ctx in adapters() {
        for format in [F::Rgba32Float, F::Rgba16Float] {
            let in_place = support(ctx, format).1;
            for mode in Mode::ALL {
                for place in [false, true] {
                    if !place || in_place {
                        check(
                            ctx,
                            Activation::Tanh,
                            mode,
                            format,
                            format,
                            (37, 23, 1),
                            place,
                            Alpha::Keep,
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn texture_inputs_of_other_formats() {
    // An Rgba16Float image into an Rgba32Float result: x widened exactly,
    // the f32 result stored unrounded (the buffer path's bits); and every
    // format read into another of its channels where that one is writable,
    // so that formats a device cannot write (R16Float on GL) are read too.
    for ctx in adapters() {
        for mode in Mode::ALL {
            check(
                ctx,
                Activation::Gelu,
                mode,
                F::Rgba16Float,
                F::Rgba32Float,
                (37, 23, 1),
                false,
                Alpha::Apply,
            );
        }
        let mut ran = 0;
        for (input, output) in [
            (F::R16Float, F::R32Float),
            (F::Rg16Float, F::Rg32Float),
            (F::Rg32Float, F::Rg16Float),
            (F::R32Float, F::R16Float),
            (F::Rgba32Float, F::Rgba16Float),
        ] {
            if support(ctx, output).0 {
                check(
                    ctx,
                    Activation::Silu,
                    Mode::Backward,
                    input,
                    output,
                    (37, 23, 1),
                    false,
                    Alpha::Apply,
                );
                ran += 1;
            }
        }
        assert!(ran >= 2, "{}", describe(ctx));
    }
}

#[test]
fn texture_mip_levels_and_apply_texture() {
    for ctx in adapters() {
        let act = Activation::Sigmoid;
        for format in [F::Rgba32Float, F::Rgba16Float] {
            let size = (37, 23, 1);
            let input = make(ctx, format, size, 3, READ_USAGE);
            let mut xs = Vec::new();
            for mip in 0..3 {
                let extent = level_size(&input, mip);
                let n = (extent.width * extent.height) as usize * 4;
                let (bits, x) = data(format, n, 17 + u64::from(mip));
                write(ctx, &input, mip, &bits);
                xs.push(x);
            }
            for mode in [Mode::Forward, Mode::Derivative] {
                let out = ctx
                    .apply_texture(act, mode, &input)
                    .unwrap_or_else(|e| panic!("{format:?} on {}: {e}", describe(ctx)));
                assert_eq!(out.size(), input.size());
                assert_eq!(out.format(), format);
                assert_eq!(out.mip_level_count(), 3);
                assert!(out.usage().contains(READ_USAGE));
                for (mip, x) in xs.iter().enumerate() {
                    let want = buffer_reference(ctx, act, mode, x, &[], format);
                    let got = read(ctx, &out, mip as u32);
                    let what = format!("apply_texture {mode:?} {format:?} mip {mip}");
                    assert_bits(&got, &want, x, format, &what);
                }
            }
            // Backward into a new texture, like grad_output.
            let grad = make(ctx, format, size, 3, READ_USAGE);
            let mut gs = Vec::new();
            for mip in 0..3 {
                let extent = level_size(&grad, mip);
                let (bits, g) = grads(format, (extent.width * extent.height) as usize * 4);
                write(ctx, &grad, mip, &bits);
                gs.push(g);
            }
            let out = ctx
                .apply_texture_backward(act, &input, &grad)
                .unwrap_or_else(|e| panic!("{format:?} on {}: {e}", describe(ctx)));
            for mip in 0..3 {
                let want = buffer_reference(ctx, act, Mode::Backward, &xs[mip], &gs[mip], format);
                let got = read(ctx, &out, mip as u32);
                let what = format!("apply_texture_backward {format:?} mip {mip}");
                assert_bits(&got, &want, &xs[mip], format, &what);
            }
            // The lower layer on one mip level leaves the others alone.
            let target = make(ctx, format, size, 3, ALL_USAGE);
            let before: Vec<Vec<u32>> = (0..3).map(|m| read(ctx, &target, m)).collect();
            let mut encoder = ctx.device().create_command_encoder(&Default::default());
            ctx.kernels()
                .record_texture(
                    &mut encoder,
                    act,
                    Mode::Forward,
                    TextureRegion::mip(&input, 1),
                    None,
                    TextureRegion::mip(&target, 1),
                )
                .unwrap();
            ctx.queue().submit([encoder.finish()]);
            let want = buffer_reference(ctx, act, Mode::Forward, &xs[1], &[], format);
            assert_bits(&read(ctx, &target, 1), &want, &xs[1], format, "mip 1");
            assert_eq!(read(ctx, &target, 0), before[0], "mip 0 untouched");
            assert_eq!(read(ctx, &target, 2), before[2], "mip 2 untouched");
        }
    }
}

#[test]
fn texture_half_outputs_round_to_nearest_even() {
    // Where a truncating (or saturating) conversion differs from round to
    // nearest even: ties both ways, nearest up, overflow to infinity, f16
    // subnormals. Mesa's lavapipe and llvmpipe storage writes truncate
    // (1 + 3 2^-11 -> 0x3c01, 70000 -> 0x7bff); the kernels round first.
    let values = [
        1.0 + 2f32.powi(-11),
        1.0 + 3.0 * 2f32.powi(-11),
        1.0 + 1.5 * 2f32.powi(-11),
        70000.0,
        65519.0,
        65520.0,
        1e-8,
        3.0e-8,
        1e-6,
        0.3,
        -0.3,
        -70000.0,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        f32::MAX,
    ];
    // Identity on these values (a hardtanh wider than them all but the
    // infinities and f32::MAX, which it clamps to 1e38: f16 infinity too).
    let act = Activation::Hardtanh {
        min_val: -1e38,
        max_val: 1e38,
    };
    let bits = values.map(f32::to_bits);
    for ctx in adapters() {
        for (format, input_format) in [
            (F::Rgba16Float, F::Rgba32Float),
            (F::Rg16Float, F::Rg32Float),
            (F::R16Float, F::R32Float),
        ] {
            if !support(ctx, format).0 {
                continue;
            }
            // Sampled reads need no storage support: any f32 format of the
            // output's channels can be the input.
            let texels = (values.len() / channels(format)) as u32;
            let x = make(ctx, input_format, (texels, 1, 1), 1, READ_USAGE);
            write(ctx, &x, 0, &bits);
            let out = make(ctx, format, (texels, 1, 1), 1, ALL_USAGE);
            let mut encoder = ctx.device().create_command_encoder(&Default::default());
            ctx.kernels()
                .record_texture(
                    &mut encoder,
                    act,
                    Mode::Forward,
                    (&x).into(),
                    None,
                    (&out).into(),
                )
                .unwrap();
            ctx.queue().submit([encoder.finish()]);
            let got = read(ctx, &out, 0);
            let want: Vec<u32> = values
                .iter()
                .map(|&v| u32::from(f16::from_f32(v.clamp(-1e38, 1e38)).to_bits()))
                .collect();
            assert_eq!(
                got,
                want,
                "{format:?} on {}: {:x?} vs {:x?}",
                describe(ctx),
                got,
                want
            );
        }
    }
}

/// A texture of `format` filled with seeded data (f32 and f16 formats).
fn filled(
    ctx: &Context,
    format: F,
    size: (u32, u32, u32),
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    let t = make(ctx, format, size, 1, usage | wgpu::TextureUsages::COPY_DST);
    let n = (size.0 * size.1 * size.2) as usize * channels(format);
    write(ctx, &t, 0, &data(format, n, 5).0);
    t
}

/// Runs `record` on a fresh encoder, expects an error, then submits the
/// encoder (which must still be valid) and checks that none of `watched`
/// changed. Returns the error.
fn expect_error(
    ctx: &Context,
    what: &str,
    watched: &[&wgpu::Texture],
    record: impl FnOnce(&mut wgpu::CommandEncoder) -> Result<(), Error>,
) -> Error {
    let before: Vec<Vec<u32>> = watched.iter().map(|t| read(ctx, t, 0)).collect();
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    let error = match record(&mut encoder) {
        Ok(()) => panic!("{what} on {}: expected an error", describe(ctx)),
        Err(e) => e,
    };
    let scope = ctx.device().push_error_scope(wgpu::ErrorFilter::Validation);
    ctx.queue().submit([encoder.finish()]);
    if let Some(e) = pollster::block_on(scope.pop()) {
        panic!(
            "{what} on {}: the encoder was left invalid: {e}",
            describe(ctx)
        );
    }
    for (t, b) in watched.iter().zip(before) {
        assert_eq!(
            read(ctx, t, 0),
            b,
            "{what} on {}: a texture changed",
            describe(ctx)
        );
    }
    error
}

#[test]
fn texture_errors_each_variant_nothing_recorded() {
    let act = Activation::Gelu;
    for ctx in adapters() {
        let k = ctx.kernels();
        let size = (8, 4, 1);
        let x = filled(ctx, F::Rgba32Float, size, ALL_USAGE);
        let g = filled(ctx, F::Rgba32Float, size, ALL_USAGE);
        let y = filled(ctx, F::Rgba32Float, size, ALL_USAGE);
        let watched = [&x, &g, &y];
        let fwd = Mode::Forward;

        // Sizes: width/height, and layers.
        let wide = filled(ctx, F::Rgba32Float, (8, 5, 1), ALL_USAGE);
        let e = expect_error(ctx, "size", &[&x, &wide], |enc| {
            k.record_texture(enc, act, fwd, (&x).into(), None, (&wide).into())
        });
        assert!(
            matches!(e, Error::TextureSize { what: "input", .. }),
            "{e:?}"
        );
        let l2 = filled(ctx, F::Rgba32Float, (8, 4, 2), ALL_USAGE);
        let l3 = filled(ctx, F::Rgba32Float, (8, 4, 3), ALL_USAGE);
        let e = expect_error(ctx, "layers", &[&l2, &l3], |enc| {
            k.record_texture(enc, act, fwd, (&l2).into(), None, (&l3).into())
        });
        assert!(matches!(e, Error::TextureSize { .. }), "{e:?}");
        let e = expect_error(ctx, "grad size", &[&x, &wide, &y], |enc| {
            k.record_texture(
                enc,
                act,
                Mode::Backward,
                (&x).into(),
                Some((&wide).into()),
                (&y).into(),
            )
        });
        assert!(
            matches!(
                e,
                Error::TextureSize {
                    what: "grad_output",
                    ..
                }
            ),
            "{e:?}"
        );

        // Formats: not one of TEXTURE_FORMATS, as output and as input.
        let unorm = make(ctx, F::Rgba8Unorm, size, 1, ALL_USAGE);
        let e = expect_error(ctx, "unorm output", &watched, |enc| {
            k.record_texture(enc, act, fwd, (&x).into(), None, (&unorm).into())
        });
        match &e {
            Error::TextureFormat {
                what: "output",
                format: F::Rgba8Unorm,
                supported,
            } => {
                assert!(supported.contains(&F::Rgba32Float));
                assert!(e.to_string().contains("Rgba32Float"), "{e}");
            }
            _ => panic!("{e:?}"),
        }
        let e = expect_error(ctx, "unorm input", &watched, |enc| {
            k.record_texture(enc, act, fwd, (&unorm).into(), None, (&y).into())
        });
        assert!(
            matches!(
                e,
                Error::TextureFormat {
                    what: "input",
                    format: F::Rgba8Unorm,
                    ..
                }
            ),
            "{e:?}"
        );
        // A format the device cannot write (Rg32Float, R16Float and
        // Rg16Float on GL), where there is one.
        for s in ctx.kernels().texture_formats().iter().filter(|s| !s.output) {
            let t = filled(ctx, s.format, size, READ_USAGE);
            let r = filled(ctx, s.format, size, READ_USAGE);
            let e = expect_error(ctx, "unwritable output", &[&t, &r], |enc| {
                k.record_texture(enc, act, fwd, (&r).into(), None, (&t).into())
            });
            assert!(
                matches!(e, Error::TextureFormat { what: "output", format, .. } if format == s.format),
                "{e:?}"
            );
        }
        // Channels differ.
        let r32 = filled(ctx, F::R32Float, size, ALL_USAGE);
        let e = expect_error(ctx, "channels", &[&r32, &y], |enc| {
            k.record_texture(enc, act, fwd, (&r32).into(), None, (&y).into())
        });
        assert!(
            matches!(
                e,
                Error::TextureFormatMismatch {
                    what: "input",
                    expected: F::Rgba32Float,
                    actual: F::R32Float
                }
            ),
            "{e:?}"
        );

        // Usage: an output that is not a storage binding, inputs that are
        // not texture bindings.
        let no_storage = filled(ctx, F::Rgba32Float, size, READ_USAGE);
        let e = expect_error(ctx, "output usage", &[&x, &no_storage], |enc| {
            k.record_texture(enc, act, fwd, (&x).into(), None, (&no_storage).into())
        });
        assert!(
            matches!(
                e,
                Error::TextureUsage {
                    what: "output",
                    required: wgpu::TextureUsages::STORAGE_BINDING,
                    ..
                }
            ),
            "{e:?}"
        );
        let unsampled_usage = wgpu::TextureUsages::STORAGE_BINDING
            | wgpu::TextureUsages::COPY_SRC
            | wgpu::TextureUsages::COPY_DST;
        let unsampled = filled(ctx, F::Rgba32Float, size, unsampled_usage);
        let e = expect_error(ctx, "input usage", &[&unsampled, &y], |enc| {
            k.record_texture(enc, act, fwd, (&unsampled).into(), None, (&y).into())
        });
        assert!(
            matches!(
                e,
                Error::TextureUsage {
                    what: "input",
                    required: wgpu::TextureUsages::TEXTURE_BINDING,
                    ..
                }
            ),
            "{e:?}"
        );
        let e = expect_error(ctx, "grad usage", &[&x, &unsampled, &y], |enc| {
            k.record_texture(
                enc,
                act,
                Mode::Backward,
                (&x).into(),
                Some((&unsampled).into()),
                (&y).into(),
            )
        });
        assert!(
            matches!(
                e,
                Error::TextureUsage {
                    what: "grad_output",
                    ..
                }
            ),
            "{e:?}"
        );

        // Mip level past the texture's.
        let e = expect_error(ctx, "mip", &watched, |enc| {
            k.record_texture(enc, act, fwd, TextureRegion::mip(&x, 1), None, (&y).into())
        });
        assert!(
            matches!(
                e,
                Error::TextureMipLevel {
                    what: "input",
                    mip_level: 1,
                    mip_level_count: 1
                }
            ),
            "{e:?}"
        );

        // Dimension: a 3-D texture; a multisampled one.
        let cube = ctx.device().create_texture(&wgpu::TextureDescriptor {
            label: Some("test.3d"),
            size: wgpu::Extent3d {
                width: 8,
                height: 4,
                depth_or_array_layers: 2,
            },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D3,
            format: F::Rgba32Float,
            usage: ALL_USAGE,
            view_formats: &[],
        });
        let e = expect_error(ctx, "3-D", &watched, |enc| {
            k.record_texture(enc, act, fwd, (&cube).into(), None, (&y).into())
        });
        assert!(
            matches!(
                e,
                Error::TextureDimension {
                    what: "input",
                    dimension: wgpu::TextureDimension::D3,
                    sample_count: 1,
                    ..
                }
            ),
            "{e:?}"
        );
        let multisampled = ctx.device().create_texture(&wgpu::TextureDescriptor {
            label: Some("test.msaa"),
            size: wgpu::Extent3d {
                width: 8,
                height: 4,
                depth_or_array_layers: 1,
            },
            mip_level_count: 1,
            sample_count: 4,
            dimension: wgpu::TextureDimension::D2,
            format: F::Rgba16Float,
            usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        let e = expect_error(ctx, "multisampled", &watched, |enc| {
            k.record_texture(enc, act, fwd, (&multisampled).into(), None, (&y).into())
        });
        assert!(
            matches!(
                e,
                Error::TextureDimension {
                    sample_count: 4,
                    ..
                }
            ),
            "{e:?}"
        );

        // Aliasing: two mip levels of one texture; backward into x.
        let mipped = make(ctx, F::Rgba32Float, size, 2, ALL_USAGE);
        let e = expect_error(ctx, "mip aliasing", &watched, |enc| {
            k.record_texture(
                enc,
                act,
                fwd,
                TextureRegion::mip(&mipped, 0),
                None,
                TextureRegion::mip(&mipped, 1),
            )
        });
        assert!(matches!(e, Error::Aliasing { .. }), "{e:?}");
        let e = expect_error(ctx, "backward into x", &watched, |enc| {
            k.record_texture(
                enc,
                act,
                Mode::Backward,
                (&x).into(),
                Some((&g).into()),
                (&x).into(),
            )
        });
        assert!(
            matches!(
                e,
                Error::Aliasing {
                    mode: Mode::Backward,
                    ..
                }
            ),
            "{e:?}"
        );

        // Modes and parameters.
        let e = expect_error(ctx, "no grad", &watched, |enc| {
            k.record_texture(enc, act, Mode::Backward, (&x).into(), None, (&y).into())
        });
        assert!(matches!(e, Error::MissingGradOutput), "{e:?}");
        let e = expect_error(ctx, "grad in forward", &watched, |enc| {
            k.record_texture(enc, act, fwd, (&x).into(), Some((&g).into()), (&y).into())
        });
        assert!(matches!(e, Error::UnexpectedGradOutput { .. }), "{e:?}");
        let bad = Activation::LeakyRelu {
            negative_slope: f32::NAN,
        };
        let e = expect_error(ctx, "parameter", &watched, |enc| {
            k.record_texture(enc, bad, fwd, (&x).into(), None, (&y).into())
        });
        assert!(matches!(e, Error::InvalidParameter { .. }), "{e:?}");

        // A texture of another device: wgpu's own validation, caught
        // before anything is recorded.
        let other = adapters()
            .iter()
            .chain(crate::support::constrained_contexts())
            .find(|c| c.device() != ctx.device())
            .expect("a second device");
        let foreign = filled(other, F::Rgba32Float, size, ALL_USAGE);
        let e = expect_error(ctx, "foreign texture", &watched, |enc| {
            k.record_texture(enc, act, fwd, (&foreign).into(), None, (&y).into())
        });
        assert!(matches!(e, Error::Gpu(_)), "{e:?}");

        // The owning call checks the same.
        assert!(matches!(
            ctx.apply_texture(act, Mode::Backward, &x),
            Err(Error::MissingGradOutput)
        ));
        assert!(matches!(
            ctx.apply_texture(act, fwd, &unorm),
            Err(Error::TextureFormat { .. })
        ));
        assert!(matches!(
            ctx.apply_texture(act, fwd, &cube),
            Err(Error::TextureDimension { .. })
        ));
        assert!(matches!(
            ctx.apply_texture(act, fwd, &unsampled),
            Err(Error::TextureUsage { what: "input", .. })
        ));
        assert!(matches!(
            ctx.apply_texture_backward(act, &x, &wide),
            Err(Error::TextureSize { .. })
        ));
    }
}

#[test]
fn texture_in_place_needs_read_write_storage() {
    // Devices opened without TEXTURE_ADAPTER_SPECIFIC_FORMAT_FEATURES have
    // WebGPU's formats only (on Vulkan: read-write storage of R32Float
    // alone): in place on the others is an error, out of place works.
    let mut refused = 0;
    for ctx in crate::support::constrained_contexts() {
        let k = ctx.kernels();
        eprintln!(
            "{} without adapter formats: {:?}",
            describe(ctx),
            k.texture_formats()
        );
        for s in k.texture_formats().iter().filter(|s| s.output) {
            let t = filled(ctx, s.format, (5, 3, 1), ALL_USAGE);
            if s.in_place {
                continue;
            }
            let e = expect_error(ctx, "in place", &[&t], |enc| {
                k.record_texture(
                    enc,
                    Activation::Relu,
                    Mode::Forward,
                    (&t).into(),
                    None,
                    (&t).into(),
                )
            });
            match &e {
                Error::TextureInPlace { format, supported } => {
                    assert_eq!(*format, s.format);
                    assert!(!supported.contains(format));
                }
                _ => panic!("{e:?}"),
            }
            refused += 1;
            check(
                ctx,
                Activation::Relu,
                Mode::Forward,
                s.format,
                s.format,
                (5, 3, 1),
                false,
                Alpha::Apply,
            );
        }
    }
    assert!(
        refused > 0,
        "no device without read-write storage of some format"
    );
}

#[test]
fn texture_cube_compatible_arrays() {
    // wgpu's GL backend makes a square 2-D texture of 6n layers a cube map
    // (a 2-D array view of it read zeros here before this was checked):
    // refused there with its own reason, computed right elsewhere.
    for ctx in adapters() {
        for (size, in_place) in [((8, 8, 6), false), ((8, 8, 12), false), ((8, 8, 6), true)] {
            if ctx.backend() != wgpu::Backend::Gl {
                check(
                    ctx,
                    Activation::Gelu,
                    Mode::Forward,
                    F::Rgba32Float,
                    F::Rgba32Float,
                    size,
                    in_place,
                    Alpha::Apply,
                );
                continue;
            }
            let t = filled(ctx, F::Rgba32Float, size, ALL_USAGE);
            let y = make(ctx, F::Rgba32Float, size, 1, ALL_USAGE);
            let e = expect_error(ctx, "cube-compatible", &[&t], |enc| {
                k_record(ctx, enc, &t, if in_place { &t } else { &y })
            });
            assert!(
                matches!(e, Error::TextureDimension { layers, .. } if layers == size.2),
                "{e:?}"
            );
            assert!(e.to_string().contains("cube"), "{e}");
            assert!(matches!(
                ctx.apply_texture(Activation::Gelu, Mode::Forward, &t),
                Err(Error::TextureDimension { .. })
            ));
        }
        // Not square, or not 6n layers: fine on GL too.
        for size in [(8, 9, 6), (8, 8, 4)] {
            check(
                ctx,
                Activation::Gelu,
                Mode::Forward,
                F::Rgba32Float,
                F::Rgba32Float,
                size,
                false,
                Alpha::Apply,
            );
        }
    }
}

fn k_record(
    ctx: &Context,
    encoder: &mut wgpu::CommandEncoder,
    x: &wgpu::Texture,
    y: &wgpu::Texture,
) -> Result<(), Error> {
    ctx.kernels().record_texture(
        encoder,
        Activation::Gelu,
        Mode::Forward,
        x.into(),
        None,
        y.into(),
    )
}

#[test]
fn texture_errors_never_reach_the_callers_handler() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    for ctx in adapters() {
        let adapter = adapter_of(ctx);
        let open = || {
            pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
                label: Some("test.texture.own"),
                required_features: wgpu_activations::recommended_features(&adapter),
                required_limits: adapter.limits(),
                ..Default::default()
            }))
            .expect("a device of the test's own")
        };
        let (device, queue) = open();
        // Another device of the same instance (wgpu-core itself panics on
        // resources of another instance, which no caller can check).
        let (other_device, other_queue) = open();
        let other = Context::from_device(other_device, other_queue);
        let uncaptured = Arc::new(AtomicUsize::new(0));
        let count = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |error| {
            eprintln!("caller's handler saw: {error}");
            count.fetch_add(1, Ordering::SeqCst);
        }));
        let own = Context::from_device(device, queue);
        // The format probe asks validation about formats the device may
        // refuse (R16Float on GL): its errors are its own.
        let formats = own.kernels().texture_formats();
        assert!(formats.iter().any(|s| s.output));
        let x = filled(&own, F::Rgba32Float, (5, 3, 1), ALL_USAGE);
        let y = filled(&own, F::Rgba32Float, (5, 3, 1), ALL_USAGE);
        let foreign = filled(&other, F::Rgba32Float, (5, 3, 1), ALL_USAGE);
        let e = expect_error(&own, "foreign", &[&x, &y], |enc| {
            k_record(&own, enc, &foreign, &y)
        });
        assert!(matches!(e, Error::Gpu(_)), "{e:?}");
        check(
            &own,
            Activation::Elu { alpha: 0.5 },
            Mode::Backward,
            F::Rgba32Float,
            F::Rgba32Float,
            (5, 3, 1),
            false,
            Alpha::Apply,
        );
        assert_eq!(
            uncaptured.load(Ordering::SeqCst),
            0,
            "{}: an error reached the caller's handler",
            describe(ctx)
        );
    }
}
