// Generic CPU tensor kernels over strided views (see core/view.h). lib/ has
// already validated dtypes and shapes and expressed broadcasting as stride 0,
// so every input view has exactly the output's shape. Outputs may have any
// strides (in-place ops pass views); in == out aliasing is allowed elementwise.
// Float kernels accept Float32/Float64; Int32 where noted. Malformed views or
// unsupported dtype/op pairs return InvalidArgument, never crash.
#pragma once
#include <cstdint>

#include "../core/status.h"
#include "../core/view.h"

namespace cudnn_rnn {
namespace cpu {

// Numeric values are part of the binding contract (lib/native-ops.ts).
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

// out = op(in). Int32 supports Neg, Abs, Sign, Square, Relu.
Status unary(UnaryOp op, const View& in, const View& out);
// out = op(a, b). Int32 supports Add, Sub, Mul, Maximum, Minimum and comparisons.
// For comparisons `out` may have a different dtype than a/b.
Status binary(BinaryOp op, const View& a, const View& b, const View& out);
// out = op(a, s) or op(s, a) when scalar_first.
Status binary_scalar(BinaryOp op, const View& a, double s, bool scalar_first, const View& out);
// out = a + alpha * b (fused, used by optimizers and gradient accumulation); out may alias a.
Status axpy(const View& a, double alpha, const View& b, const View& out);

// Strided copy with dtype conversion: dst (any strides, e.g. a narrow of a
// bigger tensor) = src. Shapes equal. Float->Int32 truncates toward zero.
Status copy(const View& src, const View& dst);
// Fill a view with one value.
Status fill(const View& dst, double value);
// dst[i] = start + i * step, contiguous.
Status arange(const View& dst, double start, double step);

// Sum: `out` has in's ndim; on reduced dims it has either size 1 or in's size
// with stride 0 (lib/ passes the latter), so out[idx] += in[idx]. out is zeroed
// first; float32 accumulates in double (pairwise), int32 in int64.
Status sum(const View& in, const View& out);
// Max over one dim (values and int32 argmax indices, first index on ties), out
// has size 1 at dim.
Status max_dim(const View& in, int dim, const View& values, const View* indices);
// Numerically stable softmax / log-softmax over one dim (contiguous in/out).
Status softmax(const View& in, int dim, bool log, const View& out);
// Backward of softmax/log-softmax: grad_in from grad_out and the forward output.
Status softmax_backward(const View& grad_out, const View& out, int dim, bool log, const View& grad_in);

// Batched matrix multiply: a (B, M, K), b (B, K, N), out (B, M, N) contiguous.
// a and b may have any strides (batch stride 0 for broadcast, transposed views).
Status matmul(const View& a, const View& b, const View& out);

// Gather rows: out[i, :] = table[index[i], :] (embedding); index int32 contiguous.
Status index_select_rows(const View& table, const View& index, const View& out);
// Scatter-add rows: table_grad[index[i], :] += grad[i, :] (embedding backward).
Status index_add_rows(const View& grad, const View& index, const View& table_grad);

}  // namespace cpu
}  // namespace cudnn_rnn
