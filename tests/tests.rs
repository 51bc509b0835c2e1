//! One integration-test binary (keeps link time down); split by module.

mod accuracy_sweep;
mod browser;
mod catalogue;
mod cpu_reference;
mod families;
mod fuzz_regressions;
mod gated;
mod gpu;
mod gpu_resident;
mod half;
mod hf_names;
mod naive_baselines;
mod prelu;
mod properties;
mod pytorch_parity;
mod reliability;
mod rowwise;
mod shaders;
mod support;
mod texture;
