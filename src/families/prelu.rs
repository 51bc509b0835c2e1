//! PReLU with learned slopes (one per channel of `[n, c, inner]`, or one
//! shared) and RReLU in training (a random slope per element from a
//! counter-based generator keyed by a seed and the element's index), both
//! on LeakyReLU's own WGSL functions (`shaders/prelu.wgsl`). The shape
//! checks are `crate::catalogue::prelu`'s, the WGSL
//! `crate::wgsl::prelu_module`'s.

use std::fmt;

use crate::catalogue::prelu::{check_rrelu_train, prelu_layout};
use crate::families::{FamilyDispatch, FamilyPipelines, Plan};
use crate::{BufferRegion, Error, Mode};

/// The PReLU and RReLU-training kernels for one device: the lower layer
/// (record into the caller's encoder over the caller's buffers). Every check
/// happens before anything is recorded.
pub struct PreluKernels {
    pipelines: FamilyPipelines,
}

impl fmt::Debug for PreluKernels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PreluKernels")
            .field("pipelines", &self.pipelines.count())
            .finish()
    }
}

impl PreluKernels {
    /// The kernels for `device` (compiled on first use).
    pub fn new(device: &wgpu::Device) -> Self {
        PreluKernels {
            pipelines: FamilyPipelines::new(device, "prelu"),
        }
    }

    /// `output = x > 0 ? x : slope[channel] * x` over `x` of `shape
    /// = [n, c, inner]`, `slopes` one per channel or one.
    pub fn record_prelu(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        x: BufferRegion<'_>,
        slopes: BufferRegion<'_>,
        shape: [usize; 3],
        output: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let (channels, inner) = prelu_layout(x.len, slopes.len, shape)?;
        Error::check_len("output", x.len, output.len)?;
        self.pipelines.check_call(
            Mode::Forward,
            &[("output", &output)],
            &[("x", &x), ("slopes", &slopes)],
        )?;
        if x.len == 0 {
            return Ok(());
        }
        let bindings = [(1, &x), (2, &slopes), (4, &output)];
        let plan = prelu_plan("prelu_forward", x.len, channels, inner);
        self.pipelines.run(encoder, &plan, &bindings)
    }

    /// `dx = dy * (x > 0 ? 1 : slope)` and `d_slopes[channel]`, the sum over
    /// n and inner of `x * dy` where x is not > 0, in a fixed order (the
    /// same bits on every run and device).
    #[allow(clippy::too_many_arguments)]
    pub fn record_prelu_backward(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        x: BufferRegion<'_>,
        slopes: BufferRegion<'_>,
        grad_output: BufferRegion<'_>,
        shape: [usize; 3],
        dx: BufferRegion<'_>,
        d_slopes: BufferRegion<'_>,
    ) -> Result<(), Error> {
        let (channels, inner) = prelu_layout(x.len, slopes.len, shape)?;
        Error::check_len("grad_output", x.len, grad_output.len)?;
        Error::check_len("dx", x.len, dx.len)?;
        Error::check_len("d_slopes", slopes.len, d_slopes.len)?;
        self.pipelines.check_call(
            Mode::Backward,
            &[("dx", &dx), ("d_slopes", &d_slopes)],
            &[
                ("x", &x),
                ("slopes", &slopes),
                ("grad_output", &grad_output),
            ],
        )?;
        if x.len == 0 {
            // Nothing to sum: the gradient of every slope is 0.
            if d_slopes.len > 0 && d_slopes.dtype != crate::Dtype::F32 {
                return self.pipelines.clear_16_bit(encoder, &d_slopes);
            }
            if d_slopes.len > 0 {
                let usage = d_slopes.buffer.usage();
                if !usage.contains(wgpu::BufferUsages::COPY_DST) {
                    return Err(Error::BufferUsage {
                        what: "d_slopes (cleared for an empty x)",
                        required: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
                        actual: usage,
                    });
                }
                encoder.clear_buffer(d_slopes.buffer, d_slopes.offset, Some(d_slopes.byte_len()));
            }
            return Ok(());
        }
        let bindings = [(1, &x), (2, &slopes), (3, &grad_output), (4, &dx)];
        let plan = prelu_plan("prelu_backward_input", x.len, channels, inner);
        self.pipelines.run(encoder, &plan, &bindings)?;
        let bindings = [(1, &x), (3, &grad_output), (4, &d_slopes)];
        let plan = prelu_plan("prelu_backward_slopes", x.len, channels, inner);
        self.pipelines.run(encoder, &plan, &bindings)
    }

    /// RReLU in training: `y = x > 0 ? x : slope * x` with `slope = lower +
    /// (upper - lower) u`, `u` uniform in [0, 1) from `(seed, index)`
    /// ([`crate::cpu::rrelu_uniform`]), and `noise` the slopes used (1 where
    /// x > 0, PyTorch's noise tensor).
    #[allow(clippy::too_many_arguments)]
    pub fn record_rrelu_train(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        x: BufferRegion<'_>,
        lower: f32,
        upper: f32,
        seed: u64,
        y: BufferRegion<'_>,
        noise: BufferRegion<'_>,
    ) -> Result<(), Error> {
        check_rrelu_train(x.len, lower, upper)?;
        Error::check_len("y", x.len, y.len)?;
        Error::check_len("noise", x.len, noise.len)?;
        self.pipelines
            .check_call(Mode::Forward, &[("y", &y), ("noise", &noise)], &[("x", &x)])?;
        if x.len == 0 {
            return Ok(());
        }
        let bindings = [(1, &x), (4, &y), (5, &noise)];
        let plan = rrelu_plan(x.len, lower, upper, seed);
        self.pipelines.run(encoder, &plan, &bindings)
    }

    /// The backward of [`PreluKernels::record_rrelu_train`]: `dx = dy * noise`.
    pub fn record_rrelu_backward(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        noise: BufferRegion<'_>,
        grad_output: BufferRegion<'_>,
        dx: BufferRegion<'_>,
    ) -> Result<(), Error> {
        Error::check_len("grad_output", noise.len, grad_output.len)?;
        Error::check_len("dx", noise.len, dx.len)?;
        self.pipelines.check_call(
            Mode::Backward,
            &[("dx", &dx)],
            &[("noise", &noise), ("grad_output", &grad_output)],
        )?;
        if noise.len == 0 {
            return Ok(());
        }
        let bindings = [(1, &noise), (3, &grad_output), (4, &dx)];
        let plan = prelu_plan("rrelu_backward", noise.len, 1, 1);
        self.pipelines.run(encoder, &plan, &bindings)
    }
}

/// The dispatch of a PReLU entry point (or RReLU's backward) over `len`
/// elements of `channels` slopes and `inner` elements per block; the
/// slopes' gradient runs one workgroup per channel.
/// PReLU's element-wise kernels over blocks of at least 256 elements
/// (`inner >= 256`) run on a 3-D grid, x the 256-element pieces of a
/// block, y the channel, z n (`_blocks` entry points: no division per
/// element), while each dimension fits the device's limit; otherwise, and
/// for the slopes' gradient (one workgroup per channel), a flat grid.
pub(crate) fn prelu_plan(entry: &str, len: usize, channels: u32, inner: u32) -> Plan {
    let elementwise = matches!(entry, "prelu_forward" | "prelu_backward_input");
    let chunks = u64::from(inner).div_ceil(256);
    let n = (len as u64)
        .checked_div(u64::from(inner) * u64::from(channels))
        .unwrap_or(0);
    // WebGPU's default per-dimension limit, which every device meets.
    let fits = |v: u64| v <= 65_535;
    let blocks =
        elementwise && inner >= 256 && fits(chunks) && fits(u64::from(channels)) && fits(n);
    Plan {
        module: "prelu".into(),
        entry: if blocks {
            format!("{entry}_blocks")
        } else {
            entry.into()
        },
        data: FamilyDispatch {
            counts: [len as u32, channels, inner, 0],
            param: [0.0; 4],
        },
        groups: if entry == "prelu_backward_slopes" {
            u64::from(channels)
        } else if blocks {
            chunks * u64::from(channels) * n
        } else {
            (len as u64).div_ceil(256)
        },
        grid: blocks.then_some([chunks as u32, channels, n as u32]),
    }
}

/// The dispatch of RReLU's training forward: the bounds and the seed's
/// halves travel in the dispatch data.
pub(crate) fn rrelu_plan(len: usize, lower: f32, upper: f32, seed: u64) -> Plan {
    Plan {
        module: "prelu".into(),
        entry: "rrelu_train".into(),
        data: FamilyDispatch {
            counts: [len as u32, 1, 1, seed as u32],
            param: [lower, upper, f32::from_bits((seed >> 32) as u32), 0.0],
        },
        groups: (len as u64).div_ceil(256),
        grid: None,
    }
}
