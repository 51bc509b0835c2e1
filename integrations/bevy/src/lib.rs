//! [wgpu-activations](wgpu_activations) in Bevy: a plugin that applies an
//! activation (any [`Activation`], forward, derivative or backward, at
//! either [`Precision`]) to a Bevy app's own [`Image`]s, a camera's render
//! target or a loaded texture, on the GPU every frame or on demand.
//!
//! The op is recorded with [`Kernels::record_texture`] into Bevy's render
//! graph (the [`RenderGraph`] schedule of the render world, after the
//! cameras have rendered and before the frame's commands are submitted), on
//! Bevy's own [`RenderDevice`]: no second device, no copies. The images
//! must be of [`TEXTURE_FORMATS`]; anything the kernels refuse (another
//! format, a size mismatch, an invalid parameter) is logged once with
//! `error!`, sent as an [`ImageActivationError`] message and kept in the
//! entity's [`ImageActivationStatus`], and never panics inside a frame.
//!
//! ```no_run
//! use bevy_app::prelude::*;
//! use bevy_asset::prelude::*;
//! use bevy_ecs::prelude::*;
//! use bevy_image::Image;
//! use bevy_render::render_resource::TextureFormat;
//! use wgpu_activations_bevy::{Activation, ImageActivation, ImageActivationPlugin};
//!
//! fn setup(mut commands: Commands, mut images: ResMut<Assets<Image>>) {
//!     // An HDR render target (or any Rgba16Float / Rgba32Float image).
//!     let target = images.add(Image::new_target_texture(
//!         512,
//!         512,
//!         TextureFormat::Rgba16Float,
//!         None,
//!     ));
//!     // ... a camera renders into `target` ...
//!     // Every frame, after the cameras: target = sigmoid(target).
//!     commands.spawn(ImageActivation::in_place(Activation::Sigmoid, target));
//! }
//!
//! # fn main() {
//! App::new()
//!     // ... DefaultPlugins (or the render plugins) first ...
//!     .add_plugins(ImageActivationPlugin)
//!     .add_systems(Startup, setup);
//! # }
//! ```

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use bevy_app::{App, Plugin, PostUpdate, PreUpdate};
use bevy_asset::{AssetId, Assets, Handle};
use bevy_ecs::prelude::*;
use bevy_image::Image;
use bevy_log::{debug, error, info};
use bevy_render::render_asset::RenderAssets;
use bevy_render::render_resource::TextureUsages;
use bevy_render::renderer::{
    FlushCommands, RenderContext, RenderDevice, RenderGraph, RenderGraphSystems,
};
use bevy_render::texture::GpuImage;
use bevy_render::{Extract, ExtractSchedule, RenderApp, RenderStartup};

pub use wgpu_activations::{
    Activation, Alpha, Error, Kernels, Mode, Precision, TEXTURE_FORMATS, TextureFormatSupport,
};

/// The Bevy version this crate is built and tested against (its
/// `bevy_render`, `bevy_app`, `bevy_ecs`, ... sub-crates).
pub const BEVY_VERSION: &str = "0.20.1";

/// When an [`ImageActivation`] runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Run {
    /// Every frame, after the cameras have rendered. In place on an image
    /// nothing rewrites each frame (a loaded texture), the op is applied
    /// again to its own result every frame: use [`Run::OnDemand`] there.
    #[default]
    EveryFrame,
    /// Once when the component is added, and again on the first frame
    /// after each change to it ([`ImageActivation::request`], or any
    /// mutable access through `Mut<ImageActivation>`). A request made
    /// before the images are on the GPU waits for them.
    OnDemand,
}

/// An activation applied to a Bevy [`Image`] on the GPU, by the
/// [`ImageActivationPlugin`]: `output = op(input)` (forward),
/// `op'(input)` (derivative) or `grad_output * op'(input)` (backward), for
/// every channel of every texel of mip level 0, all layers.
///
/// The images are 2-D, of [`TEXTURE_FORMATS`], of one size and channel
/// count. The plugin adds `STORAGE_BINDING` to the output image's usage
/// (once, where the device can write its format); inputs need
/// `TEXTURE_BINDING`, which Bevy's images have. `input == output` works in
/// place (formats the device can read and write in place:
/// [`TextureFormatSupport::in_place`]).
#[derive(Component, Clone, Debug)]
#[require(ImageActivationStatus)]
pub struct ImageActivation {
    /// The op.
    pub op: Activation,
    /// Forward, derivative or backward (backward needs [`Self::grad_output`]).
    pub mode: Mode,
    /// The precision tier; `None`: the output format's default (`Precise`
    /// for 32-bit floats, `Fast` for 16-bit).
    pub precision: Option<Precision>,
    /// What happens to a four-channel format's alpha.
    pub alpha: Alpha,
    /// x.
    pub input: Handle<Image>,
    /// grad_output, in backward only.
    pub grad_output: Option<Handle<Image>>,
    /// Where the result goes (may be `input`: in place).
    pub output: Handle<Image>,
    /// Every frame or on demand.
    pub run: Run,
}

impl ImageActivation {
    /// `output = op(input)` every frame, alpha included, at the format's
    /// default precision.
    pub fn new(op: Activation, input: Handle<Image>, output: Handle<Image>) -> Self {
        ImageActivation {
            op,
            mode: Mode::Forward,
            precision: None,
            alpha: Alpha::Apply,
            input,
            grad_output: None,
            output,
            run: Run::EveryFrame,
        }
    }

    /// `image = op(image)` in place, every frame (a render target the
    /// cameras redraw each frame).
    pub fn in_place(op: Activation, image: Handle<Image>) -> Self {
        Self::new(op, image.clone(), image)
    }

    /// `output = grad_output * op'(input)` every frame.
    pub fn backward(
        op: Activation,
        input: Handle<Image>,
        grad_output: Handle<Image>,
        output: Handle<Image>,
    ) -> Self {
        ImageActivation {
            mode: Mode::Backward,
            grad_output: Some(grad_output),
            ..Self::new(op, input, output)
        }
    }

    /// With `mode` (forward or derivative; backward through
    /// [`ImageActivation::backward`]).
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// At `precision` rather than the format's default.
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.precision = Some(precision);
        self
    }

    /// With `alpha` ([`Alpha::Keep`]: alpha passes through).
    pub fn with_alpha(mut self, alpha: Alpha) -> Self {
        self.alpha = alpha;
        self
    }

    /// Run on demand ([`Run::OnDemand`]) rather than every frame.
    pub fn on_demand(mut self) -> Self {
        self.run = Run::OnDemand;
        self
    }

    /// Asks for one more run of a [`Run::OnDemand`] op. It changes nothing
    /// itself: called through `Mut<ImageActivation>`, the mutable access
    /// marks the component changed, which is the request.
    pub fn request(&mut self) {}
}

/// What the plugin last did with an [`ImageActivation`], kept up to date on
/// its entity (added with the component). Reports come back from the
/// render world, so they trail the frame that recorded them by a frame or
/// two.
#[derive(Component, Clone, Debug, Default)]
pub struct ImageActivationStatus {
    /// Frames in which the op has been recorded.
    pub runs: u64,
    /// The op and mode of the latest recorded run.
    pub last: Option<(Activation, Mode)>,
    /// Why the latest attempt failed (cleared by the next success).
    pub error: Option<String>,
}

/// Sent (and logged with `error!`) when an [`ImageActivation`] fails, once
/// per distinct error in a row: not every frame.
#[derive(Message, Clone, Debug)]
pub struct ImageActivationError {
    /// The entity holding the [`ImageActivation`].
    pub entity: Entity,
    /// What went wrong, e.g. an output format outside [`TEXTURE_FORMATS`].
    pub error: String,
}

/// Applies every [`ImageActivation`] in Bevy's render graph. Add it after
/// Bevy's render plugins (`DefaultPlugins`, or `RenderPlugin` and
/// `ImagePlugin`). Without a renderer (no GPU, or a headless app without
/// `RenderPlugin`) it logs so and does nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct ImageActivationPlugin;

/// The plugin's system in the [`RenderGraph`] schedule: after the cameras
/// (after [`RenderGraphSystems::Render`]) and before the frame's commands are
/// submitted ([`RenderGraphSystems::Submit`]). Order your own render-graph
/// systems against it.
#[derive(SystemSet, Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageActivationSystems;

/// The render world's kernels (made on Bevy's device at every
/// [`RenderStartup`]).
#[derive(Resource)]
pub struct RenderKernels(pub Kernels);

/// State both worlds hold: the device's texture-format support (main world:
/// which outputs can take `STORAGE_BINDING`) and the render world's reports.
#[derive(Resource, Clone, Default)]
struct Shared(Arc<SharedInner>);

#[derive(Default)]
struct SharedInner {
    formats: RwLock<Option<Vec<TextureFormatSupport>>>,
    reports: Mutex<Vec<Report>>,
}

/// One attempt, render world to main world.
struct Report {
    entity: Entity,
    outcome: Result<(Activation, Mode), String>,
}

/// One [`ImageActivation`], extracted.
struct Job {
    entity: Entity,
    activation: ImageActivation,
}

/// This frame's jobs and the on-demand ones still to run.
#[derive(Resource, Default)]
struct Jobs {
    jobs: Vec<Job>,
    pending: HashSet<Entity>,
}

impl Plugin for ImageActivationPlugin {
    fn build(&self, app: &mut App) {
        let shared = Shared::default();
        app.add_message::<ImageActivationError>()
            .insert_resource(shared.clone())
            .add_systems(PreUpdate, apply_reports)
            .add_systems(PostUpdate, add_storage_usage);
        let Some(render_app) = app.get_sub_app_mut(RenderApp) else {
            info!(
                "ImageActivationPlugin: no render app (RenderPlugin missing, or no GPU): \
                 image activations will not run"
            );
            return;
        };
        render_app
            .insert_resource(shared)
            .init_resource::<Jobs>()
            .add_systems(RenderStartup, make_kernels)
            .add_systems(ExtractSchedule, extract_jobs)
            .configure_sets(
                RenderGraph,
                ImageActivationSystems
                    .after(RenderGraphSystems::Render)
                    .before(RenderGraphSystems::Submit),
            )
            .add_systems(
                RenderGraph,
                (
                    record_jobs.in_set(ImageActivationSystems),
                    // Submits what the render graph recorded where nothing
                    // else does (an app without bevy_core_pipeline); a no-op
                    // after the core pipeline's own submission.
                    submit_pending.in_set(RenderGraphSystems::Submit),
                ),
            );
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Render world, [`RenderStartup`]: kernels on Bevy's device; the formats
/// it supports shared with the main world.
fn make_kernels(mut commands: Commands, device: Res<RenderDevice>, shared: Res<Shared>) {
    let kernels = Kernels::new(device.wgpu_device());
    let formats = kernels.texture_formats().to_vec();
    debug!("wgpu-activations: texture formats on Bevy's device: {formats:?}");
    *shared
        .0
        .formats
        .write()
        .unwrap_or_else(PoisonError::into_inner) = Some(formats);
    commands.insert_resource(RenderKernels(kernels));
}

/// Main world: output images get `STORAGE_BINDING` where their format can
/// be written (an image of another format is left alone: the render world
/// reports the format error).
fn add_storage_usage(
    activations: Query<&ImageActivation>,
    images: Option<ResMut<Assets<Image>>>,
    shared: Res<Shared>,
) {
    let Some(mut images) = images else {
        return;
    };
    let formats = shared
        .0
        .formats
        .read()
        .unwrap_or_else(PoisonError::into_inner);
    let Some(formats) = formats.as_ref() else {
        return;
    };
    let storage = TextureUsages::STORAGE_BINDING;
    for activation in &activations {
        let id: AssetId<Image> = activation.output.id();
        let Some(image) = images.get(id) else {
            continue;
        };
        let descriptor = &image.texture_descriptor;
        let writable = formats
            .iter()
            .any(|s| s.format == descriptor.format && s.output);
        if writable
            && !descriptor.usage.contains(storage)
            && let Some(mut image) = images.get_mut(id)
        {
            image.texture_descriptor.usage |= storage;
        }
    }
}

/// Render world, [`ExtractSchedule`]: this frame's activations; added or
/// changed on-demand ones become pending.
fn extract_jobs(
    activations: Extract<Query<(Entity, Ref<ImageActivation>)>>,
    mut jobs: ResMut<Jobs>,
) {
    let jobs = &mut *jobs;
    jobs.jobs.clear();
    for (entity, activation) in &activations {
        if activation.run == Run::OnDemand && activation.is_changed() {
            jobs.pending.insert(entity);
        }
        jobs.jobs.push(Job {
            entity,
            activation: ImageActivation::clone(&activation),
        });
    }
    let live: HashSet<Entity> = jobs.jobs.iter().map(|j| j.entity).collect();
    jobs.pending.retain(|e| live.contains(e));
}

/// Render world, [`RenderGraph`]: records every due activation into the
/// render graph's command encoder.
fn record_jobs(
    mut context: RenderContext,
    kernels: Option<Res<RenderKernels>>,
    images: Res<RenderAssets<GpuImage>>,
    mut jobs: ResMut<Jobs>,
    shared: Res<Shared>,
) {
    let Some(kernels) = kernels else {
        return;
    };
    let kernels = &kernels.0;
    let jobs = &mut *jobs;
    let mut reports = Vec::new();
    for job in &jobs.jobs {
        let a = &job.activation;
        if a.run == Run::OnDemand && !jobs.pending.contains(&job.entity) {
            continue;
        }
        // Images not on the GPU yet (loading, or just added): wait.
        let Some(output) = images.get(&a.output) else {
            continue;
        };
        let Some(input) = images.get(&a.input) else {
            continue;
        };
        let grad = match &a.grad_output {
            Some(handle) => match images.get(handle) {
                Some(image) => Some(image),
                None => continue,
            },
            None => None,
        };
        // A writable output still without STORAGE_BINDING: the main world
        // adds it (a frame or two after the component appears); wait.
        let storage = TextureUsages::STORAGE_BINDING;
        let format = output.texture.format();
        let writable = kernels
            .texture_formats()
            .iter()
            .any(|s| s.format == format && s.output);
        if writable && !output.texture.usage().contains(storage) {
            continue;
        }
        let encoder = context.command_encoder();
        let regions = (
            (&*input.texture).into(),
            grad.map(|g| (&*g.texture).into()),
            (&*output.texture).into(),
        );
        let result = match a.precision {
            None => kernels.record_texture_with_alpha(
                encoder, a.op, a.mode, regions.0, regions.1, regions.2, a.alpha,
            ),
            Some(p) => kernels.with_precision(p).record_texture_with_alpha(
                encoder, a.op, a.mode, regions.0, regions.1, regions.2, a.alpha,
            ),
        };
        jobs.pending.remove(&job.entity);
        let outcome = match result {
            Ok(()) => Ok((a.op, a.mode)),
            Err(e) => Err(e.to_string()),
        };
        reports.push(Report {
            entity: job.entity,
            outcome,
        });
    }
    if !reports.is_empty() {
        lock(&shared.0.reports).extend(reports);
    }
}

/// Render world, [`RenderGraphSystems::Submit`]: submits pending command
/// buffers (none left where the core pipeline already did).
fn submit_pending(mut flush: FlushCommands) {
    flush.flush();
}

/// Main world: the render world's reports into [`ImageActivationStatus`],
/// new errors logged and sent as [`ImageActivationError`].
fn apply_reports(
    shared: Res<Shared>,
    mut statuses: Query<&mut ImageActivationStatus>,
    mut errors: MessageWriter<ImageActivationError>,
) {
    let reports = std::mem::take(&mut *lock(&shared.0.reports));
    for report in reports {
        let Ok(mut status) = statuses.get_mut(report.entity) else {
            continue;
        };
        match report.outcome {
            Ok(op) => {
                status.runs += 1;
                status.last = Some(op);
                status.error = None;
            }
            Err(error) => {
                if status.error.as_ref() != Some(&error) {
                    error!("ImageActivation on {}: {error}", report.entity);
                    errors.write(ImageActivationError {
                        entity: report.entity,
                        error: error.clone(),
                    });
                    status.error = Some(error);
                }
            }
        }
    }
}
