//! What the crate computes, apart from any GPU: the ops (one row each in
//! [`activation`]), the element types, the precision tiers and the error
//! type. Everything else depends on this layer; it depends on nothing else
//! of the crate.

pub(crate) mod activation;
pub(crate) mod dtype;
pub(crate) mod error;
pub(crate) mod precision;
