//! Activations on a texture the app rendered itself: a render pass draws a
//! signed gradient with a disc into an `Rgba16Float` target, the texture
//! kernels apply an activation to it in the same command encoder (alpha
//! left alone), and a PNG shows before (left) and after (right).
//!
//! ```sh
//! cargo run --release --example texture                       # tanh, texture.png
//! cargo run --release --example texture -- gelu --out /tmp/gelu.png
//! cargo run --release --example texture -- --bench            # texels/s vs a texture copy
//! ```
//!
//! The picture maps each image's own range of values (all channels, finite
//! values) to 0..255 per channel. `--bench` times, on every adapter, a few
//! ops' forward kernels over a 1024 x 1024 `Rgba32Float` texture against
//! `copy_texture_to_texture` of the same texture, in the same run (and the
//! buffer kernels over the same floats in buffers, for comparison).
//! `WGPU_BACKEND` / `WGPU_ADAPTER_NAME` pick the adapter.

use std::error::Error;
use std::time::Instant;

use plotters::backend::DrawingBackend;
use plotters::prelude::BitMapBackend;
use wgpu_activations::{Activation, Alpha, BufferRegion, Context, Mode, TextureRegion};

type Res<T> = Result<T, Box<dyn Error>>;

const SIZE: u32 = 256;

/// A full-screen triangle whose fragments are a signed gradient in [-3, 3]
/// (red along x, green along y) and a disc (blue: inside positive, outside
/// negative), alpha 1.
const SCENE_WGSL: &str = r#"
struct Varyings {
    @builtin(position) position: vec4<f32>,
    @location(0) uv: vec2<f32>,
}

@vertex
fn vs(@builtin(vertex_index) i: u32) -> Varyings {
    let uv = vec2<f32>(f32((i << 1u) & 2u), f32(i & 2u));
    return Varyings(vec4<f32>(uv * 2.0 - 1.0, 0.0, 1.0), uv);
}

@fragment
fn fs(v: Varyings) -> @location(0) vec4<f32> {
    let p = (v.uv - 0.5) * 6.0;
    let disc = 2.0 - length(p - vec2<f32>(0.5, -0.25));
    return vec4<f32>(p.x, p.y, disc, 1.0);
}
"#;

fn texture(
    ctx: &Context,
    label: &str,
    format: wgpu::TextureFormat,
    size: u32,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    ctx.device().create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d {
            width: size,
            height: size,
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage,
        view_formats: &[],
    })
}

/// Records a copy of an Rgba16Float texture into a new mappable buffer.
fn copy_out(
    encoder: &mut wgpu::CommandEncoder,
    ctx: &Context,
    texture: &wgpu::Texture,
) -> wgpu::Buffer {
    let row = SIZE * 8; // 4 channels x 2 bytes, a multiple of 256 here
    let buffer = ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("example.readback"),
        size: u64::from(row * SIZE),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(row),
                rows_per_image: None,
            },
        },
        texture.size(),
    );
    buffer
}

fn read_halves(ctx: &Context, buffer: &wgpu::Buffer) -> Res<Vec<f32>> {
    buffer.slice(..).map_async(wgpu::MapMode::Read, |r| {
        if let Err(e) = r {
            eprintln!("map failed: {e}");
        }
    });
    ctx.device().poll(wgpu::PollType::wait_indefinitely())?;
    let data = buffer.slice(..).get_mapped_range()?;
    Ok(data
        .chunks_exact(2)
        .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
        .collect())
}

/// RGB bytes of RGBA values, each image scaled to its own finite range.
fn to_rgb(values: &[f32]) -> Vec<u8> {
    let finite = values
        .chunks_exact(4)
        .flat_map(|p| p[..3].iter().copied())
        .filter(|v| v.is_finite());
    let (lo, hi) = finite.fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let span = (hi - lo).max(1e-6);
    values
        .chunks_exact(4)
        .flat_map(|p| {
            p[..3]
                .iter()
                .map(|&v| (((v - lo) / span).clamp(0.0, 1.0) * 255.0).round() as u8)
                .collect::<Vec<u8>>()
        })
        .collect()
}

fn picture(act: Activation, out: &str) -> Res<()> {
    let ctx = Context::new()?;
    let usage = wgpu::TextureUsages::RENDER_ATTACHMENT
        | wgpu::TextureUsages::TEXTURE_BINDING
        | wgpu::TextureUsages::COPY_SRC;
    let format = wgpu::TextureFormat::Rgba16Float;
    let scene = texture(&ctx, "example.scene", format, SIZE, usage);
    let result = texture(
        &ctx,
        "example.result",
        format,
        SIZE,
        usage | wgpu::TextureUsages::STORAGE_BINDING,
    );
    let module = ctx
        .device()
        .create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("example.scene"),
            source: wgpu::ShaderSource::Wgsl(SCENE_WGSL.into()),
        });
    let pipeline = ctx
        .device()
        .create_render_pipeline(&wgpu::RenderPipelineDescriptor {
            label: Some("example.scene"),
            layout: None,
            vertex: wgpu::VertexState {
                module: &module,
                entry_point: Some("vs"),
                compilation_options: Default::default(),
                buffers: &[],
            },
            primitive: Default::default(),
            depth_stencil: None,
            multisample: Default::default(),
            fragment: Some(wgpu::FragmentState {
                module: &module,
                entry_point: Some("fs"),
                compilation_options: Default::default(),
                targets: &[Some(format.into())],
            }),
            multiview_mask: None,
            cache: None,
        });
    // The app's own encoder: its render pass, then the activation, then
    // its copies.
    let mut encoder = ctx.device().create_command_encoder(&Default::default());
    {
        let view = scene.create_view(&Default::default());
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("example.scene"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::BLACK),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        pass.set_pipeline(&pipeline);
        pass.draw(0..3, 0..1);
    }
    ctx.kernels().record_texture_with_alpha(
        &mut encoder,
        act,
        Mode::Forward,
        TextureRegion::new(&scene),
        None,
        TextureRegion::new(&result),
        Alpha::Keep,
    )?;
    let before = copy_out(&mut encoder, &ctx, &scene);
    let after = copy_out(&mut encoder, &ctx, &result);
    ctx.queue().submit([encoder.finish()]);
    let (before, after) = (read_halves(&ctx, &before)?, read_halves(&ctx, &after)?);
    let mut backend = BitMapBackend::new(out, (2 * SIZE, SIZE));
    backend.blit_bitmap((0, 0), (SIZE, SIZE), &to_rgb(&before))?;
    backend.blit_bitmap((SIZE as i32, 0), (SIZE, SIZE), &to_rgb(&after))?;
    backend.present()?;
    println!(
        "{act} on a {SIZE}x{SIZE} Rgba16Float render target ({}): {out} (before | after)",
        ctx.adapter_name()
    );
    Ok(())
}

/// Seconds for `runs` submissions of `record` (one per submission), after
/// one warm-up, best of three.
fn time(
    ctx: &Context,
    runs: u32,
    mut record: impl FnMut(&mut wgpu::CommandEncoder) -> Res<()>,
) -> Res<f64> {
    let mut best = f64::INFINITY;
    for attempt in 0..4 {
        let start = Instant::now();
        for _ in 0..runs {
            let mut encoder = ctx.device().create_command_encoder(&Default::default());
            record(&mut encoder)?;
            ctx.queue().submit([encoder.finish()]);
        }
        ctx.device().poll(wgpu::PollType::wait_indefinitely())?;
        if attempt > 0 {
            best = best.min(start.elapsed().as_secs_f64());
        }
    }
    Ok(best)
}

fn bench() -> Res<()> {
    const N: u32 = 1024;
    const RUNS: u32 = 10;
    let texels = f64::from(N * N * RUNS);
    let format = wgpu::TextureFormat::Rgba32Float;
    let usage = wgpu::TextureUsages::TEXTURE_BINDING
        | wgpu::TextureUsages::STORAGE_BINDING
        | wgpu::TextureUsages::COPY_SRC
        | wgpu::TextureUsages::COPY_DST;
    println!(
        "| adapter | op (forward, {N}x{N} Rgba32Float) | Mtexels/s | in place | copy Mtexels/s | ratio to copy | buffer kernels, same floats, Mtexels/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    for ctx in Context::all_adapters()? {
        let x = texture(&ctx, "bench.x", format, N, usage);
        let y = texture(&ctx, "bench.y", format, N, usage);
        let values: Vec<f32> = (0..N * N * 4)
            .map(|i| (i % 1000) as f32 * 0.01 - 5.0)
            .collect();
        ctx.queue().write_texture(
            x.as_image_copy(),
            bytemuck::cast_slice(&values),
            wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(N * 16),
                rows_per_image: None,
            },
            x.size(),
        );
        // The same floats in buffers, for the buffer kernels (Kernels::record).
        let buffer = |label| {
            ctx.device().create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size: u64::from(N * N * 16),
                usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            })
        };
        let (bx, by) = (buffer("bench.bx"), buffer("bench.by"));
        ctx.queue()
            .write_buffer(&bx, 0, bytemuck::cast_slice(&values));
        let copy = time(&ctx, RUNS, |encoder| {
            encoder.copy_texture_to_texture(x.as_image_copy(), y.as_image_copy(), x.size());
            Ok(())
        })?;
        for act in [
            Activation::Relu,
            Activation::Sigmoid,
            Activation::Gelu,
            Activation::Tanh,
        ] {
            let seconds = time(&ctx, RUNS, |encoder| {
                ctx.kernels()
                    .record_texture(encoder, act, Mode::Forward, (&x).into(), None, (&y).into())
                    .map_err(Into::into)
            })?;
            // In place (read-write storage) where the device has it.
            let in_place = ctx
                .kernels()
                .texture_formats()
                .iter()
                .any(|s| s.format == format && s.in_place);
            let in_place = if in_place {
                let seconds = time(&ctx, RUNS, |encoder| {
                    ctx.kernels()
                        .record_texture(encoder, act, Mode::Forward, (&y).into(), None, (&y).into())
                        .map_err(Into::into)
                })?;
                format!("{:.0}", texels / seconds / 1e6)
            } else {
                "-".to_string()
            };
            let buffers = time(&ctx, RUNS, |encoder| {
                ctx.kernels()
                    .record(
                        encoder,
                        act,
                        Mode::Forward,
                        BufferRegion::whole(&bx),
                        None,
                        BufferRegion::whole(&by),
                    )
                    .map_err(Into::into)
            })?;
            println!(
                "| {} ({:?}) | {act} | {:.0} | {in_place} | {:.0} | {:.3} | {:.0} |",
                ctx.adapter_name(),
                ctx.backend(),
                texels / seconds / 1e6,
                texels / copy / 1e6,
                copy / seconds,
                texels / buffers / 1e6
            );
        }
    }
    Ok(())
}

fn main() -> Res<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.iter().any(|a| a == "--bench") {
        return bench();
    }
    let out = args
        .iter()
        .position(|a| a == "--out")
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| "texture.png".to_string());
    let op = args
        .iter()
        .enumerate()
        .find(|(i, a)| !a.starts_with("--") && (*i == 0 || args[i - 1] != "--out"))
        .map_or("tanh", |(_, a)| a.as_str());
    picture(op.parse()?, &out)
}
