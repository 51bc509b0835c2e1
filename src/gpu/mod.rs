//! The GPU layer under the host API: the unary kernels recorded into a
//! caller's encoder ([`kernels`], over buffers; [`texture`], over
//! textures), resident tensors ([`tensor`]) and their pool ([`pool`]), and
//! readback ([`readback`]).

pub(crate) mod device;
pub(crate) mod kernels;
pub(crate) mod pool;
pub(crate) mod readback;
pub(crate) mod tensor;
pub(crate) mod texture;
pub(crate) mod texture_cache;
