//! Headless Bevy apps for the tests: no window, Bevy's `ScheduleRunnerPlugin`
//! and renderer on one backend at a time; readback through Bevy's
//! `Readback`; the reference through `wgpu_activations::Context` on Bevy's
//! own device.

#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use bevy_app::{App, PluginsState, ScheduleRunnerPlugin, TaskPoolPlugin};
use bevy_asset::{AssetPlugin, Assets, Handle, RenderAssetUsages};
use bevy_ecs::prelude::*;
use bevy_image::{Image, ImagePlugin};
use bevy_render::RenderPlugin;
use bevy_render::gpu_readback::{Readback, ReadbackComplete};
use bevy_render::render_resource::{Extent3d, TextureDimension, TextureFormat};
use bevy_render::renderer::{RenderDevice, RenderQueue};
use bevy_render::settings::{Backends, WgpuSettings};
use bevy_window::{ExitCondition, WindowPlugin};
use wgpu_activations::{Activation, Context, Mode};
use wgpu_activations_bevy::{ImageActivation, ImageActivationPlugin, ImageActivationStatus};

/// The frames a test waits for something before it fails.
pub const MAX_FRAMES: usize = 200;

/// The backends to test: those of `WGPU_BACKEND` when set, else every
/// backend with an adapter here, one at a time. Panics (never skips) when
/// there is none.
pub fn backends() -> Vec<Backends> {
    let wanted = Backends::from_env().unwrap_or(Backends::all());
    let candidates = [
        Backends::VULKAN,
        Backends::GL,
        Backends::METAL,
        Backends::DX12,
    ];
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let found: Vec<Backends> = candidates
        .into_iter()
        .filter(|b| wanted.contains(*b))
        .filter(|b| !pollster_block(instance.enumerate_adapters(*b)).is_empty())
        .collect();
    assert!(
        !found.is_empty(),
        "no GPU adapter for Bevy (backends {wanted:?}): install a software GPU, \
         `apt-get install -y mesa-vulkan-drivers libvulkan1` (lavapipe) or \
         `libegl1 libgles2` (llvmpipe through EGL)"
    );
    found
}

fn pollster_block<F: std::future::Future>(future: F) -> F::Output {
    // wgpu's native futures are ready at once; a tiny executor suffices.
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let std::task::Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}

/// A windowless Bevy app with a renderer on `backends` and the plugin,
/// finished and ready for `update()`.
pub fn headless_app(backends: Backends) -> App {
    let mut app = App::new();
    app.add_plugins((
        TaskPoolPlugin::default(),
        bevy_diagnostic::FrameCountPlugin,
        bevy_time::TimePlugin,
        ScheduleRunnerPlugin::default(),
        bevy_transform::TransformPlugin,
        WindowPlugin {
            primary_window: None,
            primary_cursor_options: None,
            exit_condition: ExitCondition::DontExit,
            close_when_requested: false,
        },
        AssetPlugin::default(),
        RenderPlugin {
            render_creation: WgpuSettings {
                backends: Some(backends),
                ..Default::default()
            }
            .into(),
            synchronous_pipeline_compilation: true,
            ..Default::default()
        },
        ImagePlugin::default(),
        bevy_mesh::MeshPlugin,
        bevy_camera::CameraPlugin,
        ImageActivationPlugin,
    ));
    while app.plugins_state() == PluginsState::Adding {
        std::thread::yield_now();
    }
    app.finish();
    app.cleanup();
    app
}

/// The adapter Bevy opened, for messages.
pub fn describe(app: &App) -> String {
    let info = app
        .world()
        .resource::<bevy_render::renderer::RenderAdapterInfo>();
    format!("{} ({:?})", info.name, info.backend)
}

/// A `wgpu_activations::Context` on Bevy's own device and queue.
pub fn reference_context(app: &App) -> Context {
    let device = app.world().resource::<RenderDevice>().wgpu_device().clone();
    let queue: wgpu::Queue = (**app.world().resource::<RenderQueue>()).clone();
    Context::from_device(device, queue)
}

/// Known f32 test values, `len` of them: a ramp over [-8, 8] with exact
/// zeros, both signs of zero and a few large magnitudes mixed in.
pub fn values(len: usize) -> Vec<f32> {
    let special = [0.0, -0.0, 1.0, -1.0, 100.0, -100.0, 1e-30, -1e-30];
    (0..len)
        .map(|i| {
            if i % 7 == 3 {
                special[(i / 7) % special.len()]
            } else {
                -8.0 + 16.0 * (i as f32) / (len as f32)
            }
        })
        .collect()
}

/// An image of `format` (Rgba32Float or Rgba16Float) holding `values(..)`.
pub fn image_with_values(width: u32, height: u32, format: TextureFormat) -> Image {
    let values = values((width * height * 4) as usize);
    let data: Vec<u8> = match format {
        TextureFormat::Rgba32Float => bytemuck_f32(&values),
        TextureFormat::Rgba16Float => values
            .iter()
            .flat_map(|v| half::f16::from_f32(*v).to_bits().to_le_bytes())
            .collect(),
        other => {
            vec![0x3c; (width * height) as usize * other.block_copy_size(None).unwrap() as usize]
        }
    };
    Image::new(
        Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        data,
        format,
        RenderAssetUsages::default(),
    )
}

fn bytemuck_f32(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A zeroed image of `format`, to be an output.
pub fn blank_image(width: u32, height: u32, format: TextureFormat) -> Image {
    let texel = format.block_copy_size(None).unwrap() as usize;
    Image::new(
        Extent3d {
            width,
            height,
            depth_or_array_layers: 1,
        },
        TextureDimension::D2,
        vec![0; (width * height) as usize * texel],
        format,
        RenderAssetUsages::default(),
    )
}

/// Updates `app` until `done` holds, at most `MAX_FRAMES` frames.
pub fn update_until(app: &mut App, what: &str, mut done: impl FnMut(&mut App) -> bool) {
    for _ in 0..MAX_FRAMES {
        app.update();
        if done(app) {
            return;
        }
    }
    panic!("{what}: not after {MAX_FRAMES} frames on {}", describe(app));
}

/// The status of the activation on `entity`.
pub fn status(app: &App, entity: Entity) -> ImageActivationStatus {
    app.world()
        .get::<ImageActivationStatus>(entity)
        .expect("the status comes with the component")
        .clone()
}

/// Waits until `entity`'s activation has run `op` in `mode` at least once
/// since `runs_before` runs, without error.
pub fn wait_for_run(app: &mut App, entity: Entity, op: Activation, mode: Mode, runs_before: u64) {
    update_until(app, &format!("{op} {mode:?} run"), |app| {
        let s = status(app, entity);
        assert!(s.error.is_none(), "activation failed: {:?}", s.error);
        s.runs > runs_before && s.last == Some((op, mode))
    });
}

/// The texels of `image` (mip 0, no row padding), read through Bevy's
/// `Readback` after the next frame(s).
pub fn read_image(app: &mut App, image: &Handle<Image>) -> Vec<u8> {
    let got: Arc<Mutex<Option<Vec<u8>>>> = Arc::default();
    let sink = got.clone();
    let entity = app
        .world_mut()
        .spawn(Readback::texture(image.clone()))
        .observe(move |event: On<ReadbackComplete>| {
            sink.lock()
                .unwrap()
                .get_or_insert_with(|| event.data.clone());
        })
        .id();
    update_until(app, "readback", |_| got.lock().unwrap().is_some());
    app.world_mut().despawn(entity);
    let data = got.lock().unwrap().take().unwrap();
    let (width, height, texel) = {
        let images = app.world().resource::<Assets<Image>>();
        let image = images.get(image).unwrap();
        let d = &image.texture_descriptor;
        (
            d.size.width as usize,
            d.size.height as usize,
            d.format.block_copy_size(None).unwrap() as usize,
        )
    };
    unpad(&data, width, height, texel)
}

/// Rows of `width * texel` bytes out of rows padded to 256 bytes.
pub fn unpad(data: &[u8], width: usize, height: usize, texel: usize) -> Vec<u8> {
    let row = width * texel;
    let padded = if height > 1 {
        row.div_ceil(256) * 256
    } else {
        row
    };
    (0..height)
        .flat_map(|y| data[y * padded..y * padded + row].iter().copied())
        .collect()
}

/// A wgpu texture on `ctx`'s device holding `image`'s data (the same
/// bytes Bevy uploaded).
pub fn texture_like(ctx: &Context, image: &Image) -> wgpu::Texture {
    let d = &image.texture_descriptor;
    let texture = ctx.device().create_texture(&wgpu::TextureDescriptor {
        label: Some("wgpu-activations-bevy.test.reference_input"),
        size: d.size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: d.format,
        usage: wgpu::TextureUsages::TEXTURE_BINDING
            | wgpu::TextureUsages::COPY_DST
            | wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let texel = d.format.block_copy_size(None).unwrap();
    ctx.queue().write_texture(
        texture.as_image_copy(),
        image.data.as_ref().expect("the image keeps its data"),
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(d.size.width * texel),
            rows_per_image: Some(d.size.height),
        },
        d.size,
    );
    texture
}

/// The texels of `texture` (no row padding), read on `ctx`.
pub fn read_texture(ctx: &Context, texture: &wgpu::Texture) -> Vec<u8> {
    let texel = texture.format().block_copy_size(None).unwrap();
    let (width, height) = (texture.width(), texture.height());
    let padded = (width * texel).div_ceil(256) * 256;
    let buffer = ctx.device().create_buffer(&wgpu::BufferDescriptor {
        label: Some("wgpu-activations-bevy.test.readback"),
        size: u64::from(padded * height),
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut encoder = ctx
        .device()
        .create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("wgpu-activations-bevy.test.readback"),
        });
    encoder.copy_texture_to_buffer(
        texture.as_image_copy(),
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout {
                offset: 0,
                bytes_per_row: Some(padded),
                rows_per_image: Some(height),
            },
        },
        texture.size(),
    );
    ctx.queue().submit([encoder.finish()]);
    let slice = buffer.slice(..);
    slice.map_async(wgpu::MapMode::Read, |r| r.expect("map the readback"));
    ctx.device()
        .poll(wgpu::PollType::wait_indefinitely())
        .expect("poll");
    let data = slice.get_mapped_range().expect("mapped").to_vec();
    unpad(&data, width as usize, height as usize, texel as usize)
}

/// `Context::apply_texture` of `op`/`mode` at `ctx`'s precision on `image`'s
/// data: the reference bits.
pub fn reference(ctx: &Context, op: Activation, mode: Mode, image: &Image) -> Vec<u8> {
    let input = texture_like(ctx, image);
    let output = ctx.apply_texture(op, mode, &input).expect("apply_texture");
    read_texture(ctx, &output)
}

/// The f32 values of Rgba32Float bytes.
pub fn floats(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

/// Spawns `activation` and returns its entity.
pub fn spawn(app: &mut App, activation: ImageActivation) -> Entity {
    app.world_mut().spawn(activation).id()
}

/// Adds `image` to the app's assets.
pub fn add_image(app: &mut App, image: Image) -> Handle<Image> {
    app.world_mut().resource_mut::<Assets<Image>>().add(image)
}

/// A clone of the image behind `handle` (main world).
pub fn image(app: &App, handle: &Handle<Image>) -> Image {
    app.world()
        .resource::<Assets<Image>>()
        .get(handle)
        .unwrap()
        .clone()
}
