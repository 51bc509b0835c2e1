//! An application that owns its device, queue and compute pipeline applies
//! an activation to its own storage buffer, in its own command encoder, and
//! reads back only its final result. It also splices the WGSL function
//! library into its own shader. Headless.
//!
//! `cargo run --release --example preprocess`

use wgpu_activations::{Activation, BufferRegion, Kernels, Mode, cpu, wgsl};

const N: u32 = 4096;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 1. The application's own device (any way it likes to get one).
    let instance =
        wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle_from_env());
    let adapter = pollster::block_on(instance.request_adapter(&Default::default()))?;
    // Its features plus the optional ones the kernels can use (all optional:
    // `request_device(&Default::default())` works too, a little slower).
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        required_features: wgpu_activations::recommended_features(&adapter),
        ..Default::default()
    }))?;
    println!(
        "app adapter: {} ({:?})",
        adapter.get_info().name,
        adapter.get_info().backend
    );

    // 2. Its own pipeline: writes a signal into a storage buffer, and (using
    //    the spliced library) a SiLU-gated copy of it into a second buffer.
    let source = format!(
        "{}\n{}",
        wgsl::library(),
        r#"
@group(0) @binding(0) var<storage, read_write> signal: array<f32>;
@group(0) @binding(1) var<storage, read_write> gated: array<f32>;
@compute @workgroup_size(64)
fn generate(@builtin(global_invocation_id) id: vec3<u32>) {
    if id.x < arrayLength(&signal) {
        let t = f32(id.x) / 512.0 - 4.0;
        signal[id.x] = 3.0 * sin(t * 2.5) + t;
        gated[id.x] = wa_silu_forward(signal[id.x]); // from wgpu_activations::wgsl::library()
    }
}
"#
    );
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("app.generate"),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let generate = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
        label: Some("app.generate"),
        layout: None,
        module: &module,
        entry_point: Some("generate"),
        compilation_options: Default::default(),
        cache: None,
    });
    let storage = |label| {
        device.create_buffer(&wgpu::BufferDescriptor {
            label: Some(label),
            size: u64::from(N) * 4,
            usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        })
    };
    let signal = storage("app.signal");
    let gated = storage("app.gated");
    let features = storage("app.features");
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("app.generate"),
        layout: &generate.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: signal.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: gated.as_entire_binding(),
            },
        ],
    });

    // 3. The activation kernels, built once on the app's device.
    let kernels = Kernels::new(&device);

    // 4. One encoder: the app's pass, then GELU from `signal` into `features`,
    //    then Mish in place on `gated`; one copy of the final result; one submit.
    let mut encoder = device.create_command_encoder(&Default::default());
    {
        let mut pass = encoder.begin_compute_pass(&Default::default());
        pass.set_pipeline(&generate);
        pass.set_bind_group(0, &bind_group, &[]);
        pass.dispatch_workgroups(N.div_ceil(64), 1, 1);
    }
    let n = N as usize;
    kernels.record(
        &mut encoder,
        Activation::Gelu,
        Mode::Forward,
        BufferRegion::whole(&signal),
        None,
        BufferRegion::whole(&features),
    )?;
    kernels.record(
        &mut encoder,
        Activation::Mish,
        Mode::Forward,
        BufferRegion::new(&gated, 0, n),
        None,
        BufferRegion::new(&gated, 0, n),
    )?;
    let readback = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("app.readback"),
        size: u64::from(N) * 8,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    encoder.copy_buffer_to_buffer(&features, 0, &readback, 0, u64::from(N) * 4);
    encoder.copy_buffer_to_buffer(&gated, 0, &readback, u64::from(N) * 4, u64::from(N) * 4);
    queue.submit([encoder.finish()]);

    // 5. Read only the final results.
    readback
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.expect("map"));
    device.poll(wgpu::PollType::wait_indefinitely())?;
    let data: Vec<f32> = bytemuck::cast_slice(&readback.slice(..).get_mapped_range()?).to_vec();
    let (gelu, mish_of_silu) = data.split_at(n);

    // Check against the f64 reference (the app's signal recomputed on the CPU
    // is not bit-identical to the GPU's sin, so compare loosely here; the test
    // suite does the ULP-exact comparisons).
    let t: Vec<f32> = (0..n).map(|i| i as f32 / 512.0 - 4.0).collect();
    let signal_cpu: Vec<f32> = t.iter().map(|t| 3.0 * (t * 2.5).sin() + t).collect();
    let gelu_cpu = cpu::forward(Activation::Gelu, &signal_cpu)?;
    let silu_cpu = cpu::forward(Activation::Silu, &signal_cpu)?;
    let mish_cpu = cpu::forward(Activation::Mish, &silu_cpu)?;
    let worst = |a: &[f32], b: &[f32]| {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0_f32, f32::max)
    };
    println!(
        "gelu(signal):       first {:?}, max |gpu - cpu| = {:.2e}",
        &gelu[..4],
        worst(gelu, &gelu_cpu)
    );
    println!(
        "mish(silu(signal)): first {:?}, max |gpu - cpu| = {:.2e}",
        &mish_of_silu[..4],
        worst(mish_of_silu, &mish_cpu)
    );
    assert!(worst(gelu, &gelu_cpu) < 1e-4 && worst(mish_of_silu, &mish_cpu) < 1e-4);
    println!(
        "one submission, one readback; pipelines compiled: {}",
        kernels.pipeline_count()
    );
    Ok(())
}
