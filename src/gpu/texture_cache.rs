//! The texture kernels' share of [`crate::Kernels`]: what the device
//! supports, layouts and pipelines, each made once. Below both `kernels`
//! (which holds it) and `texture` (which fills it).

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::gpu::device::lock;
use crate::wgsl::texture::{TextureFormatSupport, TextureKernel};
use crate::{Mode, Precision};

/// Bindings a kernel uses, and so its bind-group layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct LayoutKey {
    format: wgpu::TextureFormat,
    layered: bool,
    backward: bool,
    in_place: bool,
}

impl LayoutKey {
    pub(crate) fn of(kernel: &TextureKernel) -> LayoutKey {
        LayoutKey {
            format: kernel.format,
            layered: kernel.layered,
            backward: kernel.mode == Mode::Backward,
            in_place: kernel.in_place,
        }
    }
}

/// The texture kernels' share of [`Kernels`]: what the device supports,
/// layouts and pipelines, each made once.
#[derive(Default)]
pub(crate) struct TextureCache {
    pub(crate) support: OnceLock<Vec<TextureFormatSupport>>,
    pub(crate) workgroup: OnceLock<(u32, u32)>,
    /// The device is OpenGL ES (cube-compatible textures are cube maps).
    pub(crate) gl: OnceLock<bool>,
    pub(crate) layouts: Mutex<HashMap<LayoutKey, (wgpu::BindGroupLayout, wgpu::PipelineLayout)>>,
    pub(crate) pipelines:
        Mutex<HashMap<(&'static str, TextureKernel, Precision), wgpu::ComputePipeline>>,
}

impl TextureCache {
    pub(crate) fn pipeline_count(&self) -> usize {
        lock(&self.pipelines).len()
    }
}
