//! The host API of the prelu family: `Context`'s and `Batch`'s methods,
//! over the kernels of `crate::families::prelu`.

use crate::Element;
use crate::catalogue::prelu::{check_rrelu_train, prelu_layout};
use crate::{Batch, Context, Error, GpuTensor};

impl Context {
    /// PReLU over `x` of `shape = [n, c, inner]` (PyTorch's `[N, C, *]`
    /// with the trailing dimensions multiplied out): `x > 0 ? x : slope * x`
    /// with the channel's slope, or the one slope when `slopes.len() == 1`.
    ///
    /// ```
    /// let ctx = wgpu_activations::Context::new()?;
    /// let x = [-1.0, 2.0, -3.0, 4.0]; // [n = 1, c = 2, inner = 2]
    /// let y = ctx.prelu(&x, &[0.25, 0.5], [1, 2, 2])?; // [-0.25, 2.0, -1.5, 4.0]
    /// let (dx, d_slopes) = ctx.prelu_backward(&x, &[0.25, 0.5], &[1.0; 4], [1, 2, 2])?;
    /// let (y_train, noise) = ctx.rrelu_train(&x, 0.125, 1.0 / 3.0, 42)?; // same seed, same slopes
    /// # let _ = (y, dx, d_slopes, y_train, noise);
    /// # Ok::<(), wgpu_activations::Error>(())
    /// ```
    pub fn prelu<T: Element>(
        &self,
        x: &[T],
        slopes: &[T],
        shape: [usize; 3],
    ) -> Result<Vec<T>, Error> {
        prelu_layout(x.len(), slopes.len(), shape)?;
        let kernels = self.prelu_kernels();
        let [out] = self.run_host(&[x, slopes], &[x.len()], |encoder, i, o| {
            kernels.record_prelu(encoder, i[0], i[1], shape, o[0])
        })?;
        Ok(out)
    }

    /// `(dx, d_slopes)` of [`Context::prelu`]: `dx = dy * (x > 0 ? 1 :
    /// slope)`, `d_slopes` the per-channel sums of `x * dy` where x is not
    /// > 0 (the same bits on every run and device).
    pub fn prelu_backward<T: Element>(
        &self,
        x: &[T],
        slopes: &[T],
        grad_output: &[T],
        shape: [usize; 3],
    ) -> Result<(Vec<T>, Vec<T>), Error> {
        prelu_layout(x.len(), slopes.len(), shape)?;
        let kernels = self.prelu_kernels();
        let lens = [x.len(), slopes.len()];
        let [dx, d_slopes] = self.run_host(&[x, slopes, grad_output], &lens, |encoder, i, o| {
            kernels.record_prelu_backward(encoder, i[0], i[1], i[2], shape, o[0], o[1])
        })?;
        Ok((dx, d_slopes))
    }

    /// RReLU in training: `(y, noise)`, `noise` the slope each element used
    /// (uniform in `[lower, upper]` where x is not > 0, 1 elsewhere; from
    /// `(seed, index)`, so the same seed gives the same slopes on every
    /// adapter and in [`crate::cpu::rrelu_train`]). With `lower == upper`
    /// it is LeakyReLU with that slope, bit for bit.
    pub fn rrelu_train<T: Element>(
        &self,
        x: &[T],
        lower: f32,
        upper: f32,
        seed: u64,
    ) -> Result<(Vec<T>, Vec<T>), Error> {
        check_rrelu_train(x.len(), lower, upper)?;
        let kernels = self.prelu_kernels();
        let [y, noise] = self.run_host(&[x], &[x.len(), x.len()], |encoder, i, o| {
            kernels.record_rrelu_train(encoder, i[0], lower, upper, seed, o[0], o[1])
        })?;
        Ok((y, noise))
    }

    /// The backward of [`Context::rrelu_train`]: `dy * noise`.
    pub fn rrelu_train_backward<T: Element>(
        &self,
        noise: &[T],
        grad_output: &[T],
    ) -> Result<Vec<T>, Error> {
        let kernels = self.prelu_kernels();
        let [out] = self.run_host(&[noise, grad_output], &[noise.len()], |encoder, i, o| {
            kernels.record_rrelu_backward(encoder, i[0], i[1], o[0])
        })?;
        Ok(out)
    }
}

impl Batch<'_> {
    /// Records [`Context::prelu`] over resident tensors.
    pub fn prelu(
        &mut self,
        x: &GpuTensor,
        slopes: &GpuTensor,
        shape: [usize; 3],
    ) -> Result<GpuTensor, Error> {
        prelu_layout(x.len(), slopes.len(), shape)?;
        let kernels = self.context().prelu_kernels();
        let [out] = self.record_into_new(
            &[("x", x), ("weight", slopes)],
            x.dtype(),
            &[x.len()],
            |encoder, o| {
                kernels.record_prelu(
                    encoder,
                    x.batch_region(),
                    slopes.batch_region(),
                    shape,
                    o[0],
                )
            },
        )?;
        Ok(out)
    }

    /// Records [`Context::prelu_backward`] over resident tensors: `(dx, d_slopes)`.
    pub fn prelu_backward(
        &mut self,
        x: &GpuTensor,
        slopes: &GpuTensor,
        grad_output: &GpuTensor,
        shape: [usize; 3],
    ) -> Result<(GpuTensor, GpuTensor), Error> {
        prelu_layout(x.len(), slopes.len(), shape)?;
        let kernels = self.context().prelu_kernels();
        let [dx, d_slopes] = self.record_into_new(
            &[("x", x), ("weight", slopes), ("grad_output", grad_output)],
            x.dtype(),
            &[x.len(), slopes.len()],
            |encoder, o| {
                let (x, s, dy) = (
                    x.batch_region(),
                    slopes.batch_region(),
                    grad_output.batch_region(),
                );
                kernels.record_prelu_backward(encoder, x, s, dy, shape, o[0], o[1])
            },
        )?;
        Ok((dx, d_slopes))
    }

    /// Records [`Context::rrelu_train`] over a resident tensor: `(y, noise)`.
    pub fn rrelu_train(
        &mut self,
        x: &GpuTensor,
        lower: f32,
        upper: f32,
        seed: u64,
    ) -> Result<(GpuTensor, GpuTensor), Error> {
        check_rrelu_train(x.len(), lower, upper)?;
        let kernels = self.context().prelu_kernels();
        let [y, noise] =
            self.record_into_new(&[("x", x)], x.dtype(), &[x.len(), x.len()], |encoder, o| {
                kernels.record_rrelu_train(
                    encoder,
                    x.batch_region(),
                    lower,
                    upper,
                    seed,
                    o[0],
                    o[1],
                )
            })?;
        Ok((y, noise))
    }
}

impl Context {
    /// [`Batch::prelu`], submitted at once.
    pub fn apply_prelu(
        &self,
        x: &GpuTensor,
        slopes: &GpuTensor,
        shape: [usize; 3],
    ) -> Result<GpuTensor, Error> {
        self.submit_batch(|b| b.prelu(x, slopes, shape))
    }

    /// [`Batch::prelu_backward`], submitted at once.
    pub fn apply_prelu_backward(
        &self,
        x: &GpuTensor,
        slopes: &GpuTensor,
        grad_output: &GpuTensor,
        shape: [usize; 3],
    ) -> Result<(GpuTensor, GpuTensor), Error> {
        self.submit_batch(|b| b.prelu_backward(x, slopes, grad_output, shape))
    }

    /// [`Batch::rrelu_train`], submitted at once.
    pub fn apply_rrelu_train(
        &self,
        x: &GpuTensor,
        lower: f32,
        upper: f32,
        seed: u64,
    ) -> Result<(GpuTensor, GpuTensor), Error> {
        self.submit_batch(|b| b.rrelu_train(x, lower, upper, seed))
    }
}
