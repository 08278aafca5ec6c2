//! An MLP's derivatives and line losses in closed form, without an autograd graph: its
//! gradient by backpropagation written out and its Hessian-vector products by the R-operator
//! ([`MlpCurvature`]), and the loss along a line search's direction reusing the first layer's
//! outputs ([`LineLoss`]).
//!
//! [`MlpCurvature`]: backprop::MlpCurvature
//! [`LineLoss`]: line::LineLoss

pub(crate) mod backprop;
pub(crate) mod line;
