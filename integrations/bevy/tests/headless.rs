//! The plugin in headless Bevy apps (no window: `ScheduleRunnerPlugin`),
//! on every backend with an adapter (or those of `WGPU_BACKEND`): its output
//! read back through Bevy's `Readback` equals `Context::apply_texture`'s bits
//! on the same input, on Bevy's device; changing the op at run time changes
//! the bits to the new op's; bad input is reported, never a panic.

mod support;

use bevy_ecs::prelude::*;
use bevy_render::render_resource::TextureFormat;
use support::*;
use wgpu_activations::{Activation, Mode, Precision};
use wgpu_activations_bevy::{ImageActivation, ImageActivationError, Run};

const W: u32 = 16;
const H: u32 = 8;

#[test]
fn output_equals_apply_texture_bits() {
    for backends in backends() {
        let mut app = headless_app(backends);
        let name = describe(&app);
        eprintln!("bevy: {name}");
        let ctx = reference_context(&app);
        for format in [TextureFormat::Rgba32Float, TextureFormat::Rgba16Float] {
            let input_image = image_with_values(W, H, format);
            let input = add_image(&mut app, input_image.clone());
            let output = add_image(&mut app, blank_image(W, H, format));
            let op = Activation::Sigmoid;
            let entity = spawn(
                &mut app,
                ImageActivation::new(op, input.clone(), output.clone()),
            );
            wait_for_run(&mut app, entity, op, Mode::Forward, 0);
            let got = read_image(&mut app, &output);
            let want = reference(&ctx, op, Mode::Forward, &input_image);
            assert_eq!(
                got.len(),
                (W * H) as usize * format.block_copy_size(None).unwrap() as usize
            );
            assert!(
                got == want,
                "{name} {format:?}: Bevy's output differs from apply_texture's bits"
            );
            // Not a vacuous match: the op ran (sigmoid(0) = 0.5 exactly
            // where the input is zero, texel 0 channel 3 and texel 7 ch 1).
            assert_ne!(got, input_image.data.clone().unwrap());
            if format == TextureFormat::Rgba32Float {
                let x = support::floats(input_image.data.as_ref().unwrap());
                let y = support::floats(&got);
                for (i, (&x, &y)) in x.iter().zip(&y).enumerate() {
                    if x == 0.0 {
                        assert_eq!(y, 0.5, "{name}: sigmoid(0) at {i}");
                    }
                    assert!((0.0..=1.0).contains(&y), "{name}: sigmoid({x}) = {y}");
                }
            }
            app.world_mut().despawn(entity);
        }
    }
}

#[test]
fn changing_the_op_at_run_time_changes_the_bits() {
    for backends in backends() {
        let mut app = headless_app(backends);
        let name = describe(&app);
        let ctx = reference_context(&app);
        let format = TextureFormat::Rgba32Float;
        let input_image = image_with_values(W, H, format);
        let input = add_image(&mut app, input_image.clone());
        let output = add_image(&mut app, blank_image(W, H, format));
        let entity = spawn(
            &mut app,
            ImageActivation::new(Activation::Sigmoid, input, output.clone()),
        );
        wait_for_run(&mut app, entity, Activation::Sigmoid, Mode::Forward, 0);
        let sigmoid = read_image(&mut app, &output);
        assert!(sigmoid == reference(&ctx, Activation::Sigmoid, Mode::Forward, &input_image));

        // The app changes the op, mode and precision tier of the running
        // activation through its component.
        let runs = status(&app, entity).runs;
        {
            let mut a = app.world_mut().get_mut::<ImageActivation>(entity).unwrap();
            a.op = Activation::Gelu;
            a.mode = Mode::Derivative;
            a.precision = Some(Precision::Fast);
        }
        wait_for_run(&mut app, entity, Activation::Gelu, Mode::Derivative, runs);
        let gelu = read_image(&mut app, &output);
        let want = reference(
            &ctx.with_precision(Precision::Fast),
            Activation::Gelu,
            Mode::Derivative,
            &input_image,
        );
        assert!(
            gelu == want,
            "{name}: after the change, not gelu' (fast)'s bits"
        );
        assert!(gelu != sigmoid, "{name}: the bits did not change");

        // And a parameterised op.
        let runs = status(&app, entity).runs;
        let leaky = Activation::LeakyRelu {
            negative_slope: 0.25,
        };
        {
            let mut a = app.world_mut().get_mut::<ImageActivation>(entity).unwrap();
            a.op = leaky;
            a.mode = Mode::Forward;
            a.precision = None;
        }
        wait_for_run(&mut app, entity, leaky, Mode::Forward, runs);
        let got = read_image(&mut app, &output);
        assert!(
            got == reference(&ctx, leaky, Mode::Forward, &input_image),
            "{name}: leaky_relu"
        );
        // Exact on this op: x > 0 ? x : x / 4.
        for (x, y) in floats(input_image.data.as_ref().unwrap())
            .iter()
            .zip(floats(&got))
        {
            let want = if *x > 0.0 { *x } else { x * 0.25 };
            assert_eq!(y.to_bits(), want.to_bits(), "{name}: leaky_relu({x})");
        }
    }
}

#[test]
fn on_demand_runs_once_per_request_in_place() {
    for backends in backends() {
        let mut app = headless_app(backends);
        let name = describe(&app);
        let ctx = reference_context(&app);
        let format = TextureFormat::Rgba32Float;
        let input_image = image_with_values(W, H, format);
        let image = add_image(&mut app, input_image.clone());
        let op = Activation::Tanh;
        let entity = spawn(
            &mut app,
            ImageActivation::in_place(op, image.clone()).on_demand(),
        );
        assert_eq!(
            app.world().get::<ImageActivation>(entity).unwrap().run,
            Run::OnDemand
        );
        wait_for_run(&mut app, entity, op, Mode::Forward, 0);
        for _ in 0..5 {
            app.update();
        }
        assert_eq!(
            status(&app, entity).runs,
            1,
            "{name}: on demand ran more than once"
        );
        let once = read_image(&mut app, &image);
        let want_once = reference(&ctx, op, Mode::Forward, &input_image);
        assert!(once == want_once, "{name}: tanh once in place");

        app.world_mut()
            .get_mut::<ImageActivation>(entity)
            .unwrap()
            .request();
        wait_for_run(&mut app, entity, op, Mode::Forward, 1);
        for _ in 0..5 {
            app.update();
        }
        assert_eq!(status(&app, entity).runs, 2, "{name}: one request, one run");
        let twice = read_image(&mut app, &image);
        // tanh(tanh(x)): the reference applied to its own output.
        let mut once_image = input_image.clone();
        once_image.data = Some(want_once);
        assert!(
            twice == reference(&ctx, op, Mode::Forward, &once_image),
            "{name}: tanh twice"
        );
    }
}

#[derive(Resource, Default)]
struct Seen(Vec<ImageActivationError>);

fn collect(mut reader: MessageReader<ImageActivationError>, mut seen: ResMut<Seen>) {
    seen.0.extend(reader.read().cloned());
}

#[test]
fn bad_input_is_reported_not_a_panic() {
    for backends in backends() {
        let mut app = headless_app(backends);
        let name = describe(&app);
        app.init_resource::<Seen>()
            .add_systems(bevy_app::Update, collect);
        // An 8-bit image: not a format the kernels take.
        let srgb = add_image(
            &mut app,
            image_with_values(W, H, TextureFormat::Rgba8UnormSrgb),
        );
        let before = image(&app, &srgb);
        let bad_format = spawn(
            &mut app,
            ImageActivation::in_place(Activation::Relu, srgb.clone()),
        );
        // An invalid parameter (CELU's alpha must not be 0).
        let f32_image = add_image(
            &mut app,
            image_with_values(W, H, TextureFormat::Rgba32Float),
        );
        let out = add_image(&mut app, blank_image(W, H, TextureFormat::Rgba32Float));
        let bad_param = spawn(
            &mut app,
            ImageActivation::new(Activation::Celu { alpha: 0.0 }, f32_image, out.clone()),
        );
        update_until(&mut app, "both errors", |app| {
            status(app, bad_format).error.is_some() && status(app, bad_param).error.is_some()
        });
        for _ in 0..10 {
            app.update();
        }
        let format_error = status(&app, bad_format).error.unwrap();
        assert!(
            format_error.contains("Rgba8UnormSrgb") && format_error.contains("Rgba32Float"),
            "{name}: {format_error}"
        );
        let param_error = status(&app, bad_param).error.unwrap();
        assert!(
            param_error.to_lowercase().contains("alpha"),
            "{name}: {param_error}"
        );
        assert_eq!(status(&app, bad_format).runs, 0);
        // One message per error, not one per frame.
        let seen = &app.world().resource::<Seen>().0;
        assert_eq!(
            seen.iter().filter(|e| e.entity == bad_format).count(),
            1,
            "{name}: {seen:?}"
        );
        assert_eq!(
            seen.iter().filter(|e| e.entity == bad_param).count(),
            1,
            "{name}: {seen:?}"
        );
        // Nothing was written: the 8-bit image and the output are as they were.
        assert_eq!(read_image(&mut app, &srgb), before.data.unwrap());
        assert!(read_image(&mut app, &out).iter().all(|b| *b == 0));

        // Fixing the op clears the error.
        app.world_mut()
            .get_mut::<ImageActivation>(bad_param)
            .unwrap()
            .op = Activation::Celu { alpha: 1.0 };
        update_until(&mut app, "the fixed op", |app| {
            let s = status(app, bad_param);
            s.runs > 0 && s.error.is_none()
        });
        assert!(
            read_image(&mut app, &out).iter().any(|b| *b != 0),
            "{name}: fixed op wrote nothing"
        );
        // The format error stays (the image never changed).
        assert!(status(&app, bad_format).error.is_some());
    }
}

#[test]
fn backward_equals_apply_texture_backward_bits() {
    for backends in backends() {
        let mut app = headless_app(backends);
        let name = describe(&app);
        let ctx = reference_context(&app);
        let format = TextureFormat::Rgba32Float;
        let x_image = image_with_values(W, H, format);
        // The gradient: the same values in reverse order.
        let mut g_image = x_image.clone();
        let mut grads = floats(x_image.data.as_ref().unwrap());
        grads.reverse();
        g_image.data = Some(grads.iter().flat_map(|v| v.to_le_bytes()).collect());
        let x = add_image(&mut app, x_image.clone());
        let g = add_image(&mut app, g_image.clone());
        let out = add_image(&mut app, blank_image(W, H, format));
        let op = Activation::Gelu;
        let entity = spawn(&mut app, ImageActivation::backward(op, x, g, out.clone()));
        wait_for_run(&mut app, entity, op, Mode::Backward, 0);
        let got = read_image(&mut app, &out);
        let want = ctx
            .apply_texture_backward(
                op,
                &texture_like(&ctx, &x_image),
                &texture_like(&ctx, &g_image),
            )
            .expect("apply_texture_backward");
        assert!(
            got == read_texture(&ctx, &want),
            "{name}: Bevy's backward differs from apply_texture_backward's bits"
        );
        // Not the derivative alone: the gradient scaled it.
        assert!(
            got != reference(&ctx, op, Mode::Derivative, &x_image),
            "{name}"
        );
    }
}
