//! The independent f64 CPU reference ([`cpu`], written apart from the
//! shaders by design) and the accuracy judge ([`accuracy`]) that measures
//! every GPU result against it. Public as `wgpu_activations::cpu` and
//! `wgpu_activations::accuracy`.

pub mod accuracy;
pub mod cpu;
