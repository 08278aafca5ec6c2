//! Candle custom ops for the CPU, on every thread and bitwise equal to one thread. With exact
//! derivatives of every order: convolution as matrix products over extracted patches,
//! per-channel sums and broadcasts, the first layer's data product, and tanh with vectorised
//! values. For graph-free tensors (the MLP's closed-form derivatives), bitwise Candle's own
//! values: matrix products, element-wise sums and products, and sums over rows. Other devices
//! fall back to Candle's own ops.

pub(crate) mod channels;
pub(crate) mod column_sums;
pub(crate) mod convolution;
pub(crate) mod cpu_values;
pub(crate) mod data_product;
pub(crate) mod elementwise;
pub(crate) mod matrix;
pub(crate) mod patches;
pub(crate) mod tanh;
pub(crate) mod tanh_values;
