//! The host API of the rowwise family: `Context`'s and `Batch`'s methods,
//! over the kernels of `crate::families::rowwise`.

use crate::Element;
use crate::catalogue::rowwise::rows_of;
use crate::{Batch, Context, Error, GpuTensor, RowOp};

impl Context {
    fn row_forward<T: Element>(&self, op: RowOp, x: &[T], cols: usize) -> Result<Vec<T>, Error> {
        rows_of(x.len(), cols)?;
        let kernels = self
            .row_kernels()
            .with_precision(self.precision_for(T::DTYPE));
        let [out] = self.run_host(&[x], &[x.len()], |encoder, i, o| {
            kernels.record_forward(encoder, op, i[0], cols, o[0])
        })?;
        Ok(out)
    }

    fn row_backward<T: Element>(
        &self,
        op: RowOp,
        y: &[T],
        grad_output: &[T],
        cols: usize,
    ) -> Result<Vec<T>, Error> {
        rows_of(y.len(), cols)?;
        let kernels = self
            .row_kernels()
            .with_precision(self.precision_for(T::DTYPE));
        let [out] = self.run_host(&[y, grad_output], &[y.len()], |encoder, i, o| {
            kernels.record_backward(encoder, op, i[0], i[1], cols, o[0])
        })?;
        Ok(out)
    }

    /// Softmax over the last dimension of `[rows, cols]` (max-subtracted:
    /// no overflow for any finite input; a row with NaN or +inf, or of -inf
    /// only, is all NaN, as in PyTorch).
    ///
    /// ```
    /// let ctx = wgpu_activations::Context::new()?;
    /// let y = ctx.softmax(&[1.0, 2.0, 3.0, 0.0, 0.0, f32::NEG_INFINITY], 3)?; // two rows of 3
    /// let dx = ctx.softmax_backward(&y, &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0], 3)?;
    /// # let _ = dx;
    /// # Ok::<(), wgpu_activations::Error>(())
    /// ```
    pub fn softmax<T: Element>(&self, x: &[T], cols: usize) -> Result<Vec<T>, Error> {
        self.row_forward(RowOp::Softmax, x, cols)
    }

    /// Log-softmax over the last dimension of `[rows, cols]`.
    pub fn log_softmax<T: Element>(&self, x: &[T], cols: usize) -> Result<Vec<T>, Error> {
        self.row_forward(RowOp::LogSoftmax, x, cols)
    }

    /// Softmin (`softmax(-x)`) over the last dimension of `[rows, cols]`.
    pub fn softmin<T: Element>(&self, x: &[T], cols: usize) -> Result<Vec<T>, Error> {
        self.row_forward(RowOp::Softmin, x, cols)
    }

    /// The gradient of [`Context::softmax`] from its output `y`:
    /// `y (dy - sum(dy y))` per row.
    pub fn softmax_backward<T: Element>(
        &self,
        y: &[T],
        grad_output: &[T],
        cols: usize,
    ) -> Result<Vec<T>, Error> {
        self.row_backward(RowOp::Softmax, y, grad_output, cols)
    }

    /// The gradient of [`Context::log_softmax`] from its output:
    /// `dy - e^y sum(dy)` per row.
    pub fn log_softmax_backward<T: Element>(
        &self,
        log_y: &[T],
        grad_output: &[T],
        cols: usize,
    ) -> Result<Vec<T>, Error> {
        self.row_backward(RowOp::LogSoftmax, log_y, grad_output, cols)
    }

    /// The gradient of [`Context::softmin`] from its output `y`:
    /// `-y (dy - sum(dy y))` per row.
    pub fn softmin_backward<T: Element>(
        &self,
        y: &[T],
        grad_output: &[T],
        cols: usize,
    ) -> Result<Vec<T>, Error> {
        self.row_backward(RowOp::Softmin, y, grad_output, cols)
    }
}

impl Batch<'_> {
    /// Records `op` over the rows of `cols` columns of a resident tensor.
    pub fn row_forward(
        &mut self,
        op: RowOp,
        x: &GpuTensor,
        cols: usize,
    ) -> Result<GpuTensor, Error> {
        rows_of(x.len(), cols)?;
        let ctx = self.context();
        let kernels = ctx
            .row_kernels()
            .with_precision(ctx.precision_for(x.dtype()));
        let [out] = self.record_into_new(&[("x", x)], x.dtype(), &[x.len()], |encoder, o| {
            kernels.record_forward(encoder, op, x.batch_region(), cols, o[0])
        })?;
        Ok(out)
    }

    /// Records `op`'s backward from its output `y` and `grad_output`.
    pub fn row_backward(
        &mut self,
        op: RowOp,
        y: &GpuTensor,
        grad_output: &GpuTensor,
        cols: usize,
    ) -> Result<GpuTensor, Error> {
        rows_of(y.len(), cols)?;
        let ctx = self.context();
        let kernels = ctx
            .row_kernels()
            .with_precision(ctx.precision_for(y.dtype()));
        let [out] = self.record_into_new(
            &[("y", y), ("grad_output", grad_output)],
            y.dtype(),
            &[y.len()],
            |encoder, o| {
                kernels.record_backward(
                    encoder,
                    op,
                    y.batch_region(),
                    grad_output.batch_region(),
                    cols,
                    o[0],
                )
            },
        )?;
        Ok(out)
    }
}

impl Context {
    /// [`Batch::row_forward`], submitted at once.
    pub fn apply_row(&self, op: RowOp, x: &GpuTensor, cols: usize) -> Result<GpuTensor, Error> {
        self.submit_batch(|b| b.row_forward(op, x, cols))
    }

    /// [`Batch::row_backward`], submitted at once.
    pub fn apply_row_backward(
        &self,
        op: RowOp,
        y: &GpuTensor,
        grad_output: &GpuTensor,
        cols: usize,
    ) -> Result<GpuTensor, Error> {
        self.submit_batch(|b| b.row_backward(op, y, grad_output, cols))
    }
}
