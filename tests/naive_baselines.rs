//! The bench's naive kernels (`shaders/baselines.wgsl`, the "vs naive"
//! column) compute the op they are named after, on every adapter: a ratio
//! to a kernel of some other function would mean nothing. They promise no
//! accuracy, so the check is loose (1e-3 relative, or absolute below 1),
//! far above the built-ins' approximation error and far below what a wrong
//! formula or a wrong `case` index gives.

#[path = "../src/bin/wgpu-activations/baselines.rs"]
mod baselines;

use wgpu::util::DeviceExt;
use wgpu_activations::{Activation, cpu};

use crate::support::{adapters, describe};

/// `out = naive_op(x)` on `device`, read back.
fn run_naive(ctx: &wgpu_activations::Context, name: &str, x: &[f32]) -> Vec<f32> {
    let (device, queue) = (ctx.device(), ctx.queue());
    let kernels = baselines::Baselines::new(device);
    let pipeline = kernels
        .naive_of(name)
        .unwrap_or_else(|| panic!("no naive kernel named {name}"));
    let bytes = std::mem::size_of_val(x) as u64;
    let input = device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some("test.naive.input"),
        contents: bytemuck::cast_slice(x),
        usage: wgpu::BufferUsages::STORAGE,
    });
    let output = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("test.naive.output"),
        size: bytes,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let staging = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("test.naive.staging"),
        size: bytes,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let kernel = kernels.bind(device, pipeline, &[&input], &output, x.len() / 4);
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
        label: Some("test.naive"),
    });
    kernel.record(&mut encoder);
    encoder.copy_buffer_to_buffer(&output, 0, &staging, 0, bytes);
    let submission = queue.submit([encoder.finish()]);
    staging
        .slice(..)
        .map_async(wgpu::MapMode::Read, |r| r.expect("map"));
    device
        .poll(wgpu::PollType::Wait {
            submission_index: Some(submission),
            timeout: Some(std::time::Duration::from_secs(60)),
        })
        .expect("poll");
    let values =
        bytemuck::cast_slice(&staging.slice(..).get_mapped_range().expect("mapped")).to_vec();
    staging.unmap();
    values
}

#[test]
fn every_naive_kernel_computes_its_op() {
    // [-10, 10] (the bench's range) in 4096 steps, a multiple of 4 (vec4s).
    let x: Vec<f32> = (0..4096)
        .map(|i| -10.0 + 20.0 * i as f32 / 4095.0)
        .collect();
    let names = baselines::naive_ops();
    assert!(names.len() >= 13, "naive kernels: {names:?}");
    for ctx in adapters() {
        for name in &names {
            let act = Activation::parse_list(name).expect("naive kernel named after an op")[0];
            let got = run_naive(ctx, name, &x);
            for (&xi, &yi) in x.iter().zip(&got) {
                let want = cpu::forward_f64(act, f64::from(xi));
                let error = (f64::from(yi) - want).abs() / want.abs().max(1.0);
                assert!(
                    error < 1e-3,
                    "{}: naive {name}({xi}) = {yi}, reference {want}",
                    describe(ctx)
                );
            }
        }
    }
}
