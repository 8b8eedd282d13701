// Operation codes shared by every backend's kernels.
#pragma once
#include <cstdint>

namespace cudnn_rnn {

// Numeric values are part of the binding contract (lib/ops/pointwise.ts).
enum class UnaryOp : int32_t {
  Neg = 0, Exp = 1, Log = 2, Tanh = 3, Sigmoid = 4, Relu = 5, Abs = 6, Sqrt = 7,
  Sign = 8, Square = 9, Reciprocal = 10, Sin = 11, Cos = 12, Log1p = 13, Expm1 = 14,
  Floor = 15, Ceil = 16, Round = 17,
};
enum class BinaryOp : int32_t {
  Add = 0, Sub = 1, Mul = 2, Div = 3, Pow = 4, Maximum = 5, Minimum = 6,
  // comparisons write 1 or 0 in the output dtype
  Eq = 7, Ne = 8, Lt = 9, Le = 10, Gt = 11, Ge = 12,
  // backward helpers: a = incoming gradient, b = forward *output*
  TanhBackward = 13,     // a * (1 - b*b)
  SigmoidBackward = 14,  // a * b * (1 - b)
  ReluBackward = 15,     // b <= 0 ? 0 : a (PyTorch's threshold_backward)
};

}  // namespace cudnn_rnn
