//! The host API: [`context::Context`] (a device, its queue and every
//! family's kernels; host slices in, `Vec`s out) and `Batch`.

pub(crate) mod context;
mod gated;
mod prelu;
mod rowwise;
mod texture;
