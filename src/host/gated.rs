//! The host API of the gated family: `Context`'s and `Batch`'s methods,
//! over the kernels of `crate::families::gated`.

use crate::Element;
use crate::catalogue::gated::packed_half;
use crate::{Batch, Context, Error, Gated, GpuTensor};

impl Context {
    /// `value * act(gate)` element-wise ([`Gated`]), host slices of one length.
    pub fn gated_forward<T: Element>(
        &self,
        kind: Gated,
        value: &[T],
        gate: &[T],
    ) -> Result<Vec<T>, Error> {
        let kernels = self
            .gated_kernels()
            .with_precision(self.precision_for(T::DTYPE));
        let [out] = self.run_host(&[value, gate], &[value.len()], |encoder, i, o| {
            kernels.record_forward(encoder, kind, i[0], i[1], o[0])
        })?;
        Ok(out)
    }

    /// `(d_value, d_gate)` of [`Context::gated_forward`] in one pass.
    pub fn gated_backward<T: Element>(
        &self,
        kind: Gated,
        value: &[T],
        gate: &[T],
        grad_output: &[T],
    ) -> Result<(Vec<T>, Vec<T>), Error> {
        let kernels = self
            .gated_kernels()
            .with_precision(self.precision_for(T::DTYPE));
        let n = value.len();
        let [d_value, d_gate] =
            self.run_host(&[value, gate, grad_output], &[n, n], |encoder, i, o| {
                kernels.record_backward(encoder, kind, i[0], i[1], i[2], o[0], o[1])
            })?;
        Ok((d_value, d_gate))
    }

    /// `x` is `[rows, row_len]`, `row_len = 2d` even, each row `[value |
    /// gate]`: the result is `[rows, d]`, `value * act(gate)`.
    pub fn gated_forward_packed<T: Element>(
        &self,
        kind: Gated,
        x: &[T],
        row_len: usize,
    ) -> Result<Vec<T>, Error> {
        packed_half(x.len(), row_len)?;
        let kernels = self
            .gated_kernels()
            .with_precision(self.precision_for(T::DTYPE));
        let [out] = self.run_host(&[x], &[x.len() / 2], |encoder, i, o| {
            kernels.record_forward_packed(encoder, kind, i[0], row_len, o[0])
        })?;
        Ok(out)
    }

    /// The gradient `[rows, row_len]` (rows `[d_value | d_gate]`) of
    /// [`Context::gated_forward_packed`] for `grad_output` `[rows, d]`.
    pub fn gated_backward_packed<T: Element>(
        &self,
        kind: Gated,
        x: &[T],
        row_len: usize,
        grad_output: &[T],
    ) -> Result<Vec<T>, Error> {
        packed_half(x.len(), row_len)?;
        let kernels = self
            .gated_kernels()
            .with_precision(self.precision_for(T::DTYPE));
        let [out] = self.run_host(&[x, grad_output], &[x.len()], |encoder, i, o| {
            kernels.record_backward_packed(encoder, kind, i[0], row_len, i[1], o[0])
        })?;
        Ok(out)
    }
}

impl Batch<'_> {
    /// Records [`Context::gated_forward`] over resident tensors.
    pub fn gated(
        &mut self,
        kind: Gated,
        value: &GpuTensor,
        gate: &GpuTensor,
    ) -> Result<GpuTensor, Error> {
        let ctx = self.context();
        let kernels = ctx
            .gated_kernels()
            .with_precision(ctx.precision_for(value.dtype()));
        let [out] = self.record_into_new(
            &[("value", value), ("gate", gate)],
            value.dtype(),
            &[value.len()],
            |encoder, o| {
                kernels.record_forward(
                    encoder,
                    kind,
                    value.batch_region(),
                    gate.batch_region(),
                    o[0],
                )
            },
        )?;
        Ok(out)
    }

    /// Records [`Context::gated_backward`] over resident tensors: `(d_value, d_gate)`.
    pub fn gated_backward(
        &mut self,
        kind: Gated,
        value: &GpuTensor,
        gate: &GpuTensor,
        grad_output: &GpuTensor,
    ) -> Result<(GpuTensor, GpuTensor), Error> {
        let ctx = self.context();
        let kernels = ctx
            .gated_kernels()
            .with_precision(ctx.precision_for(value.dtype()));
        let n = value.len();
        let [d_value, d_gate] = self.record_into_new(
            &[
                ("value", value),
                ("gate", gate),
                ("grad_output", grad_output),
            ],
            value.dtype(),
            &[n, n],
            |encoder, o| {
                let (v, g, dy) = (
                    value.batch_region(),
                    gate.batch_region(),
                    grad_output.batch_region(),
                );
                kernels.record_backward(encoder, kind, v, g, dy, o[0], o[1])
            },
        )?;
        Ok((d_value, d_gate))
    }

    /// Records [`Context::gated_forward_packed`] over a resident tensor.
    pub fn gated_packed(
        &mut self,
        kind: Gated,
        x: &GpuTensor,
        row_len: usize,
    ) -> Result<GpuTensor, Error> {
        packed_half(x.len(), row_len)?;
        let ctx = self.context();
        let kernels = ctx
            .gated_kernels()
            .with_precision(ctx.precision_for(x.dtype()));
        let [out] =
            self.record_into_new(&[("x", x)], x.dtype(), &[x.len() / 2], |encoder, o| {
                kernels.record_forward_packed(encoder, kind, x.batch_region(), row_len, o[0])
            })?;
        Ok(out)
    }

    /// Records [`Context::gated_backward_packed`] over resident tensors.
    pub fn gated_backward_packed(
        &mut self,
        kind: Gated,
        x: &GpuTensor,
        row_len: usize,
        grad_output: &GpuTensor,
    ) -> Result<GpuTensor, Error> {
        packed_half(x.len(), row_len)?;
        let ctx = self.context();
        let kernels = ctx
            .gated_kernels()
            .with_precision(ctx.precision_for(x.dtype()));
        let [out] = self.record_into_new(
            &[("x", x), ("grad_output", grad_output)],
            x.dtype(),
            &[x.len()],
            |encoder, o| {
                let (x, dy) = (x.batch_region(), grad_output.batch_region());
                kernels.record_backward_packed(encoder, kind, x, row_len, dy, o[0])
            },
        )?;
        Ok(out)
    }
}

impl Context {
    /// [`Batch::gated`], submitted at once.
    pub fn apply_gated(
        &self,
        kind: Gated,
        value: &GpuTensor,
        gate: &GpuTensor,
    ) -> Result<GpuTensor, Error> {
        self.submit_batch(|b| b.gated(kind, value, gate))
    }

    /// [`Batch::gated_backward`], submitted at once.
    pub fn apply_gated_backward(
        &self,
        kind: Gated,
        value: &GpuTensor,
        gate: &GpuTensor,
        grad_output: &GpuTensor,
    ) -> Result<(GpuTensor, GpuTensor), Error> {
        self.submit_batch(|b| b.gated_backward(kind, value, gate, grad_output))
    }

    /// [`Batch::gated_packed`], submitted at once.
    pub fn apply_gated_packed(
        &self,
        kind: Gated,
        x: &GpuTensor,
        row_len: usize,
    ) -> Result<GpuTensor, Error> {
        self.submit_batch(|b| b.gated_packed(kind, x, row_len))
    }

    /// [`Batch::gated_backward_packed`], submitted at once.
    pub fn apply_gated_backward_packed(
        &self,
        kind: Gated,
        x: &GpuTensor,
        row_len: usize,
        grad_output: &GpuTensor,
    ) -> Result<GpuTensor, Error> {
        self.submit_batch(|b| b.gated_backward_packed(kind, x, row_len, grad_output))
    }
}
