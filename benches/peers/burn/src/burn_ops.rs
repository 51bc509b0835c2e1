//! Burn 0.22's own activation for each of our op names, called with the
//! parameters ours defaults to (`Activation::ALL`): the one table both the
//! Burn peer (`main.rs` beside this file) and `integrations/burn` (its tests
//! and `graph_bench` example, through `#[path]`) compare against. It depends
//! on nothing but `burn`.

use burn::tensor::{Tensor, activation};

/// One of Burn's activations, called with the parameters ours defaults to.
pub type Op = fn(Tensor<1>) -> Tensor<1>;

/// Burn's function for each name of `api_timing::OPS`.
pub fn burn_op(name: &str) -> Option<Op> {
    Some(match name {
        "relu" => activation::relu,
        "sigmoid" => activation::sigmoid,
        "tanh" => activation::tanh,
        // Burn's `gelu` is the erf form (PyTorch's approximate='none').
        "gelu" => activation::gelu,
        "gelu_tanh" => activation::gelu_approximate,
        "silu" => activation::silu,
        "mish" => activation::mish,
        // Burn's `softplus` has PyTorch's threshold of 20.
        "softplus" => |x| activation::softplus(x, 1.0),
        "log_sigmoid" => activation::log_sigmoid,
        "elu" => |x| activation::elu(x, 1.0),
        "celu" => |x| activation::celu(x, 1.0),
        "selu" => activation::selu,
        "leaky_relu" => |x| activation::leaky_relu(x, 0.01),
        // PyTorch's hardsigmoid: x/6 + 1/2 clamped to [0, 1].
        "hardsigmoid" => |x| activation::hard_sigmoid(x, 1.0 / 6.0, 0.5),
        "hardswish" => activation::hard_swish,
        "softsign" => activation::softsign,
        "relu6" => activation::relu6,
        "hardtanh" => |x| activation::hardtanh(x, -1.0, 1.0),
        "tanhshrink" => activation::tanhshrink,
        "softshrink" => |x| activation::soft_shrink(x, 0.5),
        "hardshrink" => |x| activation::hard_shrink(x, 0.5),
        // Ours has no defaults; both use PyTorch's documentation example.
        "threshold" => |x| activation::threshold(x, 0.1, 20.0),
        _ => return None,
    })
}
