//! The host API of the texture kernels: `Context::apply_texture` and its
//! kin, over `crate::gpu::texture`.

use crate::gpu::texture::*;
use crate::wgsl::texture::{Alpha, format_dtype};
use crate::{Activation, Context, Error, Mode};

impl Context {
    /// `mode` of `act` over every mip level of `input`, into a new texture
    /// of the same size, format, layers and mip levels, submitted on this
    /// context's queue (the result is ready for the caller's next
    /// submission). The new texture has `input`'s usage plus
    /// `STORAGE_BINDING`. [`Mode::Backward`] needs a grad_output: use
    /// [`Context::apply_texture_backward`]. Checks and formats as
    /// [`crate::Kernels::record_texture`]; alpha is a channel like the others.
    ///
    /// ```
    /// use wgpu_activations::{Activation, Context, Mode};
    ///
    /// let ctx = Context::new()?;
    /// let image = ctx.device().create_texture(&wgpu::TextureDescriptor {
    ///     label: Some("image"),
    ///     size: wgpu::Extent3d { width: 64, height: 32, depth_or_array_layers: 1 },
    ///     mip_level_count: 1,
    ///     sample_count: 1,
    ///     dimension: wgpu::TextureDimension::D2,
    ///     format: wgpu::TextureFormat::Rgba32Float,
    ///     usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
    ///     view_formats: &[],
    /// });
    /// // ... rendered into, or written with queue.write_texture ...
    /// let toned = ctx.apply_texture(Activation::Sigmoid, Mode::Forward, &image)?;
    /// assert_eq!(toned.size(), image.size());
    /// assert_eq!(toned.format(), image.format());
    /// # Ok::<(), wgpu_activations::Error>(())
    /// ```
    pub fn apply_texture(
        &self,
        act: Activation,
        mode: Mode,
        input: &wgpu::Texture,
    ) -> Result<wgpu::Texture, Error> {
        if mode == Mode::Backward {
            return Err(Error::MissingGradOutput);
        }
        self.apply_texture_inner(act, mode, input, None)
    }

    /// `grad_output * f'(input)` over every mip level, into a new texture
    /// (as [`Context::apply_texture`]; the new texture has the usage of
    /// `grad_output` plus `STORAGE_BINDING`).
    pub fn apply_texture_backward(
        &self,
        act: Activation,
        input: &wgpu::Texture,
        grad_output: &wgpu::Texture,
    ) -> Result<wgpu::Texture, Error> {
        self.apply_texture_inner(act, Mode::Backward, input, Some(grad_output))
    }

    fn apply_texture_inner(
        &self,
        act: Activation,
        mode: Mode,
        input: &wgpu::Texture,
        grad_output: Option<&wgpu::Texture>,
    ) -> Result<wgpu::Texture, Error> {
        self.usable()?;
        act.validate()?;
        let kernels = self.kernels();
        let like = grad_output.unwrap_or(input);
        // The new texture's format must be writable: checked before it is
        // made (creating it would be a validation error otherwise). The
        // rest is checked by record_texture, level by level, before
        // anything is recorded or submitted.
        let format = like.format();
        if !kernels.format_is(format, |s| s.output) {
            return Err(Error::TextureFormat {
                what: if grad_output.is_some() {
                    "grad_output"
                } else {
                    "input"
                },
                format,
                supported: kernels.formats_where(|s| s.output),
            });
        }
        kernels.check_shape("input", input)?;
        if let Some(grad) = grad_output {
            kernels.check_shape("grad_output", grad)?;
        }
        let output = crate::gpu::device::scoped(self.device(), || {
            self.device().create_texture(&wgpu::TextureDescriptor {
                label: Some("wgpu-activations.texture.output"),
                size: like.size(),
                mip_level_count: like.mip_level_count(),
                sample_count: 1,
                dimension: wgpu::TextureDimension::D2,
                format,
                usage: like.usage() | wgpu::TextureUsages::STORAGE_BINDING,
                view_formats: &[],
            })
        })?;
        let mut encoder = self
            .device()
            .create_command_encoder(&wgpu::CommandEncoderDescriptor {
                label: Some("wgpu-activations.texture.apply"),
            });
        let precision = self.precision_for(format_dtype(format));
        for level in 0..like.mip_level_count() {
            kernels.record_texture_at(
                &mut encoder,
                act,
                mode,
                precision,
                (
                    TextureRegion::mip(input, level),
                    grad_output.map(|g| TextureRegion::mip(g, level)),
                    TextureRegion::mip(&output, level),
                ),
                Alpha::Apply,
            )?;
        }
        crate::gpu::device::scoped(self.device(), || {
            self.queue().submit([encoder.finish()]);
        })?;
        Ok(output)
    }
}
