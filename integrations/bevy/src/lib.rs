//! wgpu-activations in Bevy.
