//! What the crate computes, apart from any GPU: the ops (one row each in
//! [`activation`]), the kinds of the other families ([`gated`]: the gated
//! kinds; [`rowwise`]: the row-wise ops) and the shapes each family accepts
//! (with [`prelu`]'s), the element types, the precision tiers and the error
//! type. Everything else depends on this layer; it depends on nothing else
//! of the crate.

pub(crate) mod activation;
pub(crate) mod dtype;
pub(crate) mod error;
pub(crate) mod gated;
pub(crate) mod precision;
pub(crate) mod prelu;
pub(crate) mod rowwise;
