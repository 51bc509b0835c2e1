//! A camera's HDR output through a tone curve, in Bevy's render graph.
//!
//! A 2-D camera renders (here: clears, at a known radiance per channel) into
//! an `Rgba16Float` image; an [`ImageActivation`] applies the tone curve to
//! that image in place every frame, after the camera and in the same
//! submission; Bevy's `Readback` brings the toned texels back. The example
//! steps the radiance up by factors of 2 and prints the curve it measured
//! next to an f64 reference. Headless: no window, `ScheduleRunnerPlugin`.
//!
//! ```sh
//! cargo run -p wgpu-activations-bevy --example tone_curve            # tanh
//! cargo run -p wgpu-activations-bevy --example tone_curve -- sigmoid
//! WGPU_BACKEND=gl cargo run -p wgpu-activations-bevy --example tone_curve
//! ```

use std::time::Duration;

use bevy_app::{AppExit, PluginsState, ScheduleRunnerPlugin, TaskPoolPlugin, prelude::*};
use bevy_asset::{AssetPlugin, Assets, Handle};
use bevy_camera::{Camera, Camera2d, ClearColorConfig, Hdr, RenderTarget};
use bevy_color::{Color, LinearRgba};
use bevy_core_pipeline::CorePipelinePlugin;
use bevy_ecs::prelude::*;
use bevy_image::{Image, ImagePlugin};
use bevy_render::RenderPlugin;
use bevy_render::gpu_readback::{ReadbackComplete, ReadbackOnce};
use bevy_render::render_resource::{TextureFormat, TextureUsages};
use bevy_render::view::{DebandDither, Msaa, Tonemapping};
use bevy_window::{ExitCondition, WindowPlugin};
use wgpu_activations_bevy::{Activation, ImageActivation, ImageActivationPlugin};

const SIZE: u32 = 64;
/// Frames each radiance is held before its readback is asked for.
const SETTLE: u32 = 3;
/// Radiances (red channel; green is a quarter, blue four times).
const STEPS: [f32; 8] = [0.0, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0];

#[derive(Resource)]
struct Tone {
    op: Activation,
    target: Handle<Image>,
    camera: Entity,
    step: usize,
    frames: u32,
    waiting: bool,
    rows: Vec<([f32; 3], [f32; 3])>,
}

fn radiance(step: usize) -> [f32; 3] {
    let r = STEPS[step];
    [r, r / 4.0, r * 4.0]
}

fn main() -> AppExit {
    let op: Activation = match std::env::args().nth(1) {
        Some(name) => name.parse().unwrap_or_else(|e| {
            eprintln!("{name}: {e}");
            std::process::exit(2)
        }),
        None => Activation::Tanh,
    };
    let mut app = App::new();
    app.add_plugins((
        // The plugin's errors are logged: keep a logger.
        bevy_log::LogPlugin::default(),
        TaskPoolPlugin::default(),
        bevy_diagnostic::FrameCountPlugin,
        bevy_time::TimePlugin,
        ScheduleRunnerPlugin::run_loop(Duration::ZERO),
        bevy_transform::TransformPlugin,
        WindowPlugin {
            primary_window: None,
            primary_cursor_options: None,
            exit_condition: ExitCondition::DontExit,
            close_when_requested: false,
        },
        AssetPlugin::default(),
        RenderPlugin::default(),
        ImagePlugin::default(),
        bevy_mesh::MeshPlugin,
        bevy_camera::CameraPlugin,
        CorePipelinePlugin,
        ImageActivationPlugin,
    ));
    app.world_mut().insert_resource(StartOp(op));
    app.add_systems(Startup, setup)
        .add_systems(Update, step)
        .add_observer(on_readback);
    // Let the renderer come up before the first frame (the runner would
    // do it too; done here to print the adapter first).
    while app.plugins_state() == PluginsState::Adding {
        std::thread::yield_now();
    }
    app.finish();
    app.cleanup();
    if let Some(info) = app
        .world()
        .get_resource::<bevy_render::renderer::RenderAdapterInfo>()
    {
        println!("Bevy renders on {} ({:?})", info.name, info.backend);
    }
    app.run()
}

#[derive(Resource)]
struct StartOp(Activation);

fn setup(mut commands: Commands, mut images: ResMut<Assets<Image>>, op: Res<StartOp>) {
    // The camera's target: HDR, so radiance above 1 survives until the
    // tone curve (the plugin adds the STORAGE_BINDING usage it needs;
    // COPY_SRC is for the readback).
    let mut image = Image::new_target_texture(SIZE, SIZE, TextureFormat::Rgba16Float, None);
    image.texture_descriptor.usage |= TextureUsages::COPY_SRC;
    let target = images.add(image);
    let camera = commands
        .spawn((
            Camera2d,
            Camera {
                clear_color: ClearColorConfig::Custom(clear(0)),
                ..Default::default()
            },
            Hdr,
            Msaa::Off,
            // The tone curve is ours: Bevy's tonemapping and dithering off.
            Tonemapping::None,
            DebandDither::Disabled,
            RenderTarget::from(target.clone()),
        ))
        .id();
    // The tone curve on the camera's output, every frame, alpha untouched.
    commands.spawn(
        ImageActivation::in_place(op.0, target.clone())
            .with_alpha(wgpu_activations_bevy::Alpha::Keep),
    );
    commands.insert_resource(Tone {
        op: op.0,
        target,
        camera,
        step: 0,
        frames: 0,
        waiting: false,
        rows: Vec::new(),
    });
}

fn clear(step: usize) -> Color {
    let [r, g, b] = radiance(step);
    Color::LinearRgba(LinearRgba::new(r, g, b, 1.0))
}

/// Holds each radiance for `SETTLE` frames, then reads the target back once.
fn step(mut commands: Commands, mut tone: ResMut<Tone>, mut cameras: Query<&mut Camera>) {
    if tone.waiting {
        return;
    }
    tone.frames += 1;
    if tone.frames == 1 {
        let step = tone.step;
        cameras.get_mut(tone.camera).unwrap().clear_color = ClearColorConfig::Custom(clear(step));
    } else if tone.frames > SETTLE {
        tone.waiting = true;
        commands.spawn(ReadbackOnce::texture(tone.target.clone()));
    }
}

fn on_readback(
    event: On<ReadbackComplete>,
    mut tone: ResMut<Tone>,
    mut exit: MessageWriter<AppExit>,
) {
    // The centre texel's red, green and blue (f16).
    let texel = 8usize;
    let row = (SIZE as usize * texel).div_ceil(256) * 256;
    let at = (SIZE as usize / 2) * row + (SIZE as usize / 2) * texel;
    let channel = |c: usize| {
        let bits = u16::from_le_bytes([event.data[at + 2 * c], event.data[at + 2 * c + 1]]);
        half::f16::from_bits(bits).to_f32()
    };
    let step = tone.step;
    tone.rows
        .push((radiance(step), [channel(0), channel(1), channel(2)]));
    tone.step += 1;
    tone.frames = 0;
    tone.waiting = false;
    if tone.step == STEPS.len() {
        println!("tone curve: {} on the camera's Rgba16Float output", tone.op);
        println!("{:>10} {:>12} {:>12}", "radiance", "toned (GPU)", "f64");
        let mut points: Vec<(f32, f32)> = tone
            .rows
            .iter()
            .flat_map(|(input, output)| input.iter().copied().zip(output.iter().copied()))
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points.dedup_by(|a, b| a.0 == b.0);
        for (input, output) in points {
            println!(
                "{input:>10} {output:>12.6} {:>12.6}",
                reference(tone.op, input)
            );
        }
        exit.write(AppExit::Success);
    }
}

/// The op's f64 CPU reference (wgpu-activations' own), for comparison.
fn reference(op: Activation, x: f32) -> f64 {
    wgpu_activations::cpu::forward_f64(op, f64::from(x))
}
