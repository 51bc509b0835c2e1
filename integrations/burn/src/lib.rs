//! wgpu-activations on Burn's wgpu tensors.
