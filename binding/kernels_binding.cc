// Generic tensor kernels: one JS call per op, views as five arguments each;
// dispatch/ sends each to the backend that holds the views.
#include "convert.h"
#include "dispatch/kernels.h"
#include "registry.h"

namespace cudnn_rnn {
namespace binding {

namespace {

int32_t ToOp(const Napi::Value& v) { return static_cast<int32_t>(ToInt64(v)); }

// unary(op, in..., out...)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  View in = ReadView(info, 1), out = ReadView(info, 1 + kViewArgs);
  Check(info.Env(), dispatch::unary(static_cast<UnaryOp>(ToOp(info[0])), in, out));
  return info.Env().Undefined();
}

// binary(op, a..., b..., out...)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  View a = ReadView(info, 1), b = ReadView(info, 1 + kViewArgs), out = ReadView(info, 1 + 2 * kViewArgs);
  Check(info.Env(), dispatch::binary(static_cast<BinaryOp>(ToOp(info[0])), a, b, out));
  return info.Env().Undefined();
}

// binaryScalar(op, a..., scalar, scalarFirst, out...)
Napi::Value BinaryScalar(const Napi::CallbackInfo& info) {
  View a = ReadView(info, 1);
  double s = ToDouble(info[1 + kViewArgs]);
  bool scalar_first = info[2 + kViewArgs].ToBoolean();
  View out = ReadView(info, 3 + kViewArgs);
  Check(info.Env(), dispatch::binary_scalar(static_cast<BinaryOp>(ToOp(info[0])), a, s, scalar_first, out));
  return info.Env().Undefined();
}

// axpy(a..., alpha, b..., out...)
Napi::Value Axpy(const Napi::CallbackInfo& info) {
  View a = ReadView(info, 0);
  double alpha = ToDouble(info[kViewArgs]);
  View b = ReadView(info, 1 + kViewArgs), out = ReadView(info, 1 + 2 * kViewArgs);
  Check(info.Env(), dispatch::axpy(a, alpha, b, out));
  return info.Env().Undefined();
}

// copy(src..., dst...)
Napi::Value Copy(const Napi::CallbackInfo& info) {
  View src = ReadView(info, 0), dst = ReadView(info, kViewArgs);
  Check(info.Env(), dispatch::copy(src, dst));
  return info.Env().Undefined();
}

// fill(dst..., value)
Napi::Value Fill(const Napi::CallbackInfo& info) {
  View dst = ReadView(info, 0);
  Check(info.Env(), dispatch::fill(dst, ToDouble(info[kViewArgs])));
  return info.Env().Undefined();
}

// arange(dst..., start, step)
Napi::Value Arange(const Napi::CallbackInfo& info) {
  View dst = ReadView(info, 0);
  Check(info.Env(), dispatch::arange(dst, ToDouble(info[kViewArgs]), ToDouble(info[kViewArgs + 1])));
  return info.Env().Undefined();
}

// sum(in..., out...)
Napi::Value Sum(const Napi::CallbackInfo& info) {
  View in = ReadView(info, 0), out = ReadView(info, kViewArgs);
  Check(info.Env(), dispatch::sum(in, out));
  return info.Env().Undefined();
}

// maxDim(in..., dim, values..., indices... | null)
Napi::Value MaxDim(const Napi::CallbackInfo& info) {
  View in = ReadView(info, 0);
  int dim = static_cast<int>(ToInt64(info[kViewArgs]));
  View values = ReadView(info, kViewArgs + 1);
  View indices;
  bool has_indices = ReadOptionalView(info, 2 * kViewArgs + 1, &indices);
  Check(info.Env(), dispatch::max_dim(in, dim, values, has_indices ? &indices : nullptr));
  return info.Env().Undefined();
}

// softmax(in..., dim, log, out...)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  View in = ReadView(info, 0);
  int dim = static_cast<int>(ToInt64(info[kViewArgs]));
  bool log = info[kViewArgs + 1].ToBoolean();
  View out = ReadView(info, kViewArgs + 2);
  Check(info.Env(), dispatch::softmax(in, dim, log, out));
  return info.Env().Undefined();
}

// softmaxBackward(gradOut..., out..., dim, log, gradIn...)
Napi::Value SoftmaxBackward(const Napi::CallbackInfo& info) {
  View grad_out = ReadView(info, 0), out = ReadView(info, kViewArgs);
  int dim = static_cast<int>(ToInt64(info[2 * kViewArgs]));
  bool log = info[2 * kViewArgs + 1].ToBoolean();
  View grad_in = ReadView(info, 2 * kViewArgs + 2);
  Check(info.Env(), dispatch::softmax_backward(grad_out, out, dim, log, grad_in));
  return info.Env().Undefined();
}

// matmul(a..., b..., out...)
Napi::Value Matmul(const Napi::CallbackInfo& info) {
  View a = ReadView(info, 0), b = ReadView(info, kViewArgs), out = ReadView(info, 2 * kViewArgs);
  Check(info.Env(), dispatch::matmul(a, b, out));
  return info.Env().Undefined();
}

// indexSelectRows(table..., index..., out...)
Napi::Value IndexSelectRows(const Napi::CallbackInfo& info) {
  View table = ReadView(info, 0), index = ReadView(info, kViewArgs), out = ReadView(info, 2 * kViewArgs);
  Check(info.Env(), dispatch::index_select_rows(table, index, out));
  return info.Env().Undefined();
}

// indexAddRows(grad..., index..., tableGrad...)
Napi::Value IndexAddRows(const Napi::CallbackInfo& info) {
  View grad = ReadView(info, 0), index = ReadView(info, kViewArgs), table_grad = ReadView(info, 2 * kViewArgs);
  Check(info.Env(), dispatch::index_add_rows(grad, index, table_grad));
  return info.Env().Undefined();
}

}  // namespace

void RegisterKernels(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
  exports.Set("binaryScalar", Napi::Function::New(env, BinaryScalar, "binaryScalar"));
  exports.Set("axpy", Napi::Function::New(env, Axpy, "axpy"));
  exports.Set("copy", Napi::Function::New(env, Copy, "copy"));
  exports.Set("fill", Napi::Function::New(env, Fill, "fill"));
  exports.Set("arange", Napi::Function::New(env, Arange, "arange"));
  exports.Set("sum", Napi::Function::New(env, Sum, "sum"));
  exports.Set("maxDim", Napi::Function::New(env, MaxDim, "maxDim"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("softmaxBackward", Napi::Function::New(env, SoftmaxBackward, "softmaxBackward"));
  exports.Set("matmul", Napi::Function::New(env, Matmul, "matmul"));
  exports.Set("indexSelectRows", Napi::Function::New(env, IndexSelectRows, "indexSelectRows"));
  exports.Set("indexAddRows", Napi::Function::New(env, IndexAddRows, "indexAddRows"));
}

}  // namespace binding
}  // namespace cudnn_rnn
