// Elementwise kernels of the CUDA backend: unary, binary (arithmetic,
// comparisons, activation backward helpers), binary with a scalar operand,
// and axpy. The CPU backend's semantics (cpu/kernels_pointwise.cc): NaN
// propagates through relu/maximum/minimum, sign(NaN) = 0, round is
// half-to-even, float division by zero gives inf/NaN, int32 arithmetic wraps.
// Math is the CUDA math library in the element type, as PyTorch's CUDA
// kernels compute it.
//
// Each kernel is templated on the element type(s) only (comparisons on the
// input and output types); the op is a runtime argument, switched on per
// element (see unary_apply), so there is no kernel per (op x dtype): the
// whole file is ~280 KB of SASS per architecture and compiles in seconds.
#include <string>

#include "../kernels.h"
#include "kernels_loop.cuh"

namespace cudnn_rnn {
namespace cuda {
namespace {

using detail::invalid;
using detail::map_binary;
using detail::map_unary;
using detail::Strided;

std::string op_name(const char* where, int32_t op, DType t) {
  return std::string(where) + ": op " + std::to_string(op) + " is not supported for " + dtype_name(t);
}

// ---------------------------------------------------------------------------
// Device math in the element type.

__device__ __forceinline__ float m_exp(float x) { return expf(x); }
__device__ __forceinline__ double m_exp(double x) { return exp(x); }
__device__ __forceinline__ float m_log(float x) { return logf(x); }
__device__ __forceinline__ double m_log(double x) { return log(x); }
__device__ __forceinline__ float m_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double m_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float m_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double m_abs(double x) { return fabs(x); }
__device__ __forceinline__ float m_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double m_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float m_sin(float x) { return sinf(x); }
__device__ __forceinline__ double m_sin(double x) { return sin(x); }
__device__ __forceinline__ float m_cos(float x) { return cosf(x); }
__device__ __forceinline__ double m_cos(double x) { return cos(x); }
__device__ __forceinline__ float m_log1p(float x) { return log1pf(x); }
__device__ __forceinline__ double m_log1p(double x) { return log1p(x); }
__device__ __forceinline__ float m_expm1(float x) { return expm1f(x); }
__device__ __forceinline__ double m_expm1(double x) { return expm1(x); }
__device__ __forceinline__ float m_floor(float x) { return floorf(x); }
__device__ __forceinline__ double m_floor(double x) { return floor(x); }
__device__ __forceinline__ float m_ceil(float x) { return ceilf(x); }
__device__ __forceinline__ double m_ceil(double x) { return ceil(x); }
// rint rounds half to even in the default rounding mode (torch.round).
__device__ __forceinline__ float m_round(float x) { return rintf(x); }
__device__ __forceinline__ double m_round(double x) { return rint(x); }
__device__ __forceinline__ float m_pow(float x, float y) { return powf(x, y); }
__device__ __forceinline__ double m_pow(double x, double y) { return pow(x, y); }

// ---------------------------------------------------------------------------
// Which (op, dtype) pairs exist: checked on the host before any launch, so
// the kernels' switches only ever see supported ops.

bool unary_supported(UnaryOp op, DType t) {
  const int32_t v = static_cast<int32_t>(op);
  if (t == DType::Int32) {
    return op == UnaryOp::Neg || op == UnaryOp::Abs || op == UnaryOp::Sign || op == UnaryOp::Square ||
           op == UnaryOp::Relu;
  }
  return v >= static_cast<int32_t>(UnaryOp::Neg) && v <= static_cast<int32_t>(UnaryOp::Round);
}

bool is_comparison(BinaryOp op) {
  return op == BinaryOp::Eq || op == BinaryOp::Ne || op == BinaryOp::Lt || op == BinaryOp::Le ||
         op == BinaryOp::Gt || op == BinaryOp::Ge;
}

// Same-dtype arithmetic (everything but the comparisons).
bool arith_supported(BinaryOp op, DType t) {
  switch (op) {
    case BinaryOp::Add:
    case BinaryOp::Sub:
    case BinaryOp::Mul:
    case BinaryOp::Maximum:
    case BinaryOp::Minimum: return true;
    case BinaryOp::Div:
    case BinaryOp::Pow:
    case BinaryOp::TanhBackward:
    case BinaryOp::SigmoidBackward:
    case BinaryOp::ReluBackward: return t != DType::Int32;
    default: return false;
  }
}

// ---------------------------------------------------------------------------
// The element functions. The op is switched on per element: the switch is
// uniform across the grid (no divergence) and costs a few instructions per
// element of a memory-bound loop, while the strided indexing around it then
// exists once per kernel instead of once per op.

template <typename T>
__device__ __forceinline__ T unary_apply(UnaryOp op, T x) {
  if constexpr (std::is_same_v<T, int32_t>) {
    switch (op) {
      case UnaryOp::Neg: return detail::wrap_neg(x);
      case UnaryOp::Abs: return x < 0 ? detail::wrap_neg(x) : x;  // abs(INT32_MIN) wraps, as in PyTorch
      case UnaryOp::Sign: return static_cast<int32_t>((0 < x) - (x < 0));
      case UnaryOp::Square: return detail::wrap_mul(x, x);
      case UnaryOp::Relu: return x < 0 ? 0 : x;
      default: return 0;  // not reached: the host checked unary_supported
    }
  } else {
    switch (op) {
      case UnaryOp::Neg: return -x;
      case UnaryOp::Exp: return m_exp(x);
      case UnaryOp::Log: return m_log(x);
      case UnaryOp::Tanh: return m_tanh(x);
      case UnaryOp::Sigmoid: return T(1) / (T(1) + m_exp(-x));
      case UnaryOp::Relu: return x < T(0) ? T(0) : x;  // NaN stays
      case UnaryOp::Abs: return m_abs(x);
      case UnaryOp::Sqrt: return m_sqrt(x);
      case UnaryOp::Sign: return static_cast<T>((T(0) < x) - (x < T(0)));  // NaN -> 0 like PyTorch
      case UnaryOp::Square: return x * x;
      case UnaryOp::Reciprocal: return T(1) / x;
      case UnaryOp::Sin: return m_sin(x);
      case UnaryOp::Cos: return m_cos(x);
      case UnaryOp::Log1p: return m_log1p(x);
      case UnaryOp::Expm1: return m_expm1(x);
      case UnaryOp::Floor: return m_floor(x);
      case UnaryOp::Ceil: return m_ceil(x);
      case UnaryOp::Round: return m_round(x);  // half to even
      default: return T(0);
    }
  }
}

// Same-dtype arithmetic (the ops arith_supported accepts for T).
template <typename T>
__device__ __forceinline__ T arith_apply(BinaryOp op, T x, T y) {
  if constexpr (std::is_same_v<T, int32_t>) {
    switch (op) {
      case BinaryOp::Add: return detail::wrap_add(x, y);
      case BinaryOp::Sub: return detail::wrap_sub(x, y);
      case BinaryOp::Mul: return detail::wrap_mul(x, y);
      case BinaryOp::Maximum: return x > y ? x : y;
      case BinaryOp::Minimum: return x < y ? x : y;
      default: return 0;
    }
  } else {
    switch (op) {
      case BinaryOp::Add: return x + y;
      case BinaryOp::Sub: return x - y;
      case BinaryOp::Mul: return x * y;
      case BinaryOp::Div: return x / y;
      case BinaryOp::Pow: return m_pow(x, y);
      case BinaryOp::Maximum: return (x > y || x != x) ? x : y;  // NaN wins
      case BinaryOp::Minimum: return (x < y || x != x) ? x : y;
      case BinaryOp::TanhBackward: return x * (T(1) - y * y);       // x = grad, y = tanh output
      case BinaryOp::SigmoidBackward: return x * (T(1) - y) * y;    // y = sigmoid output
      // PyTorch's threshold_backward: y <= 0 ? 0 : g (so a NaN output passes g).
      case BinaryOp::ReluBackward: return y <= T(0) ? T(0) : x;
      default: return T(0);
    }
  }
}

// Comparisons (the usual arithmetic conversions apply: int32 vs double
// compares exactly in double).
template <typename X, typename Y>
__device__ __forceinline__ bool compare_apply(BinaryOp op, X x, Y y) {
  switch (op) {
    case BinaryOp::Eq: return x == y;
    case BinaryOp::Ne: return x != y;
    case BinaryOp::Lt: return x < y;
    case BinaryOp::Le: return x <= y;
    case BinaryOp::Gt: return x > y;
    case BinaryOp::Ge: return x >= y;
    default: return false;
  }
}

// tensor ** e with PyTorch's special cases (pow_tensor_scalar_optimized);
// `mode` is chosen on the host by pow_mode.
enum class PowMode : int32_t { General = 0, Square, Cube, Sqrt, RSqrt, Reciprocal, InvSquare };

template <typename T>
PowMode pow_mode(T e) {
  if (e == T(2)) return PowMode::Square;
  if (e == T(3)) return PowMode::Cube;
  if (e == T(0.5)) return PowMode::Sqrt;
  if (e == T(-0.5)) return PowMode::RSqrt;
  if (e == T(-1)) return PowMode::Reciprocal;
  if (e == T(-2)) return PowMode::InvSquare;
  return PowMode::General;
}

template <typename T>
__device__ __forceinline__ T pow_scalar_apply(PowMode mode, T x, T e) {
  switch (mode) {
    case PowMode::Square: return x * x;
    case PowMode::Cube: return x * x * x;
    case PowMode::Sqrt: return m_sqrt(x);
    case PowMode::RSqrt: return T(1) / m_sqrt(x);
    case PowMode::Reciprocal: return T(1) / x;
    case PowMode::InvSquare: return T(1) / (x * x);
    default: return m_pow(x, e);
  }
}

// ---------------------------------------------------------------------------
// Kernels: templated on the element type(s) only.

template <typename T>
__global__ void unary_kernel(int32_t op_code, Strided<2> s, const T* in, T* out) {
  const UnaryOp op = static_cast<UnaryOp>(op_code);
  map_unary(s, in, out, [op](T x) { return unary_apply(op, x); });
}

template <typename T>
__global__ void binary_kernel(int32_t op_code, Strided<3> s, const T* a, const T* b, T* out) {
  const BinaryOp op = static_cast<BinaryOp>(op_code);
  map_binary(s, a, b, out, [op](T x, T y) { return arith_apply(op, x, y); });
}

template <typename T, typename U>
__global__ void compare_kernel(int32_t op_code, Strided<3> s, const T* a, const T* b, U* out) {
  const BinaryOp op = static_cast<BinaryOp>(op_code);
  map_binary(s, a, b, out, [op](T x, T y) { return static_cast<U>(compare_apply(op, x, y)); });
}

// tensor op scalar, or scalar op tensor when scalar_first. pow_code is a
// PowMode, used for tensor ** scalar (floats).
template <typename T>
__global__ void scalar_kernel(int32_t op_code, Strided<2> s, const T* a, T sv, bool scalar_first, int32_t pow_code,
                              T* out) {
  const BinaryOp op = static_cast<BinaryOp>(op_code);
  if constexpr (!std::is_same_v<T, int32_t>) {
    if (op == BinaryOp::Pow && !scalar_first) {
      const PowMode mode = static_cast<PowMode>(pow_code);
      map_unary(s, a, out, [mode, sv](T x) { return pow_scalar_apply(mode, x, sv); });
      return;
    }
  }
  map_unary(s, a, out, [op, sv, scalar_first](T x) {
    return scalar_first ? arith_apply(op, sv, x) : arith_apply(op, x, sv);
  });
}

// Comparisons with a scalar: floats compare in their own dtype (the scalar
// rounded to it, as in PyTorch); int32 compares exactly against the double.
template <typename T>
using CompareScalar = std::conditional_t<std::is_same_v<T, int32_t>, double, T>;

template <typename T, typename U>
__global__ void compare_scalar_kernel(int32_t op_code, Strided<2> s, const T* a, CompareScalar<T> sv,
                                      bool scalar_first, U* out) {
  const BinaryOp op = static_cast<BinaryOp>(op_code);
  map_unary(s, a, out, [op, sv, scalar_first](T x) {
    return static_cast<U>(scalar_first ? compare_apply(op, sv, x) : compare_apply(op, x, sv));
  });
}

template <typename T>
__global__ void axpy_kernel(Strided<3> s, const T* a, const T* b, T alpha, T* out) {
  if constexpr (std::is_same_v<T, int32_t>) {
    map_binary(s, a, b, out, [alpha](T x, T y) { return detail::wrap_add(x, detail::wrap_mul(alpha, y)); });
  } else {
    // PyTorch's add(alpha=): x + alpha * y in the tensor's dtype.
    map_binary(s, a, b, out, [alpha](T x, T y) { return x + alpha * y; });
  }
}

using kernels::check_unary_views;
using kernels::scalar_operand;

}  // namespace

Status unary(UnaryOp op, const View& in, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(check_unary_views("unary", in, out));
  if (in.dtype != out.dtype) return invalid("unary: input and output dtypes differ");
  if (!unary_supported(op, in.dtype)) return invalid(op_name("unary", static_cast<int32_t>(op), in.dtype));
  if (out.numel() == 0) return Status::Ok();
  DeviceContext* ctx;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(out.device.index, &ctx));
  const Strided<2> s = detail::elementwise_strided(out, in);
  const unsigned grid = detail::grid_for(s.numel);
  CUDNN_RNN_RETURN_IF_ERROR(detail::dispatch_all(in.dtype, "unary", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    unary_kernel<T><<<grid, detail::kThreads, 0, ctx->stream>>>(static_cast<int32_t>(op), s, in.ptr<T>(),
                                                               out.ptr<T>());
    return Status::Ok();
  }));
  return check_launch("unary");
}

Status binary(BinaryOp op, const View& a, const View& b, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(kernels::check_binary_views("binary", a, b, out));
  const bool compare = is_comparison(op);
  if (!compare && out.dtype != a.dtype) return invalid("binary: output dtype differs from the inputs'");
  if (!compare && !arith_supported(op, a.dtype)) {
    return invalid(op_name("binary", static_cast<int32_t>(op), a.dtype));
  }
  if (out.numel() == 0) return Status::Ok();
  DeviceContext* ctx;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(out.device.index, &ctx));
  const Strided<3> s = detail::elementwise_strided(out, a, b);
  const unsigned grid = detail::grid_for(s.numel);
  const int32_t code = static_cast<int32_t>(op);
  CUDNN_RNN_RETURN_IF_ERROR(detail::dispatch_all(a.dtype, "binary", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    if (compare) {
      return detail::dispatch_all(out.dtype, "binary", [&](auto out_tag) -> Status {
        using U = typename decltype(out_tag)::type;
        compare_kernel<T, U><<<grid, detail::kThreads, 0, ctx->stream>>>(code, s, a.ptr<T>(), b.ptr<T>(),
                                                                          out.ptr<U>());
        return Status::Ok();
      });
    }
    binary_kernel<T><<<grid, detail::kThreads, 0, ctx->stream>>>(code, s, a.ptr<T>(), b.ptr<T>(), out.ptr<T>());
    return Status::Ok();
  }));
  return check_launch(compare ? "binary (comparison)" : "binary");
}

Status binary_scalar(BinaryOp op, const View& a, double s, bool scalar_first, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(check_unary_views("binary_scalar", a, out));
  const bool compare = is_comparison(op);
  if (!compare && out.dtype != a.dtype) return invalid("binary_scalar: output dtype differs from the input's");
  DeviceContext* ctx = nullptr;
  const Strided<2> st = detail::elementwise_strided(out, a);
  const unsigned grid = detail::grid_for(st.numel);
  const int32_t code = static_cast<int32_t>(op);
  const bool empty = out.numel() == 0;

  CUDNN_RNN_RETURN_IF_ERROR(detail::dispatch_all(a.dtype, "binary_scalar", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    if (compare) {
      const CompareScalar<T> sv = static_cast<CompareScalar<T>>(s);
      return detail::dispatch_all(out.dtype, "binary_scalar", [&](auto out_tag) -> Status {
        using U = typename decltype(out_tag)::type;
        if (empty) return Status::Ok();
        CUDNN_RNN_RETURN_IF_ERROR(device_context(out.device.index, &ctx));
        compare_scalar_kernel<T, U><<<grid, detail::kThreads, 0, ctx->stream>>>(code, st, a.ptr<T>(), sv,
                                                                                 scalar_first, out.ptr<U>());
        return Status::Ok();
      });
    }
    T sv{};
    if (!scalar_operand(s, &sv)) {
      return invalid("binary_scalar: a non-integer scalar cannot be an int32 operand");
    }
    if (!arith_supported(op, a.dtype)) {
      return invalid(op_name("binary_scalar", static_cast<int32_t>(op), a.dtype));
    }
    if (empty) return Status::Ok();
    CUDNN_RNN_RETURN_IF_ERROR(device_context(out.device.index, &ctx));
    int32_t pow_code = 0;
    if constexpr (!std::is_same_v<T, int32_t>) pow_code = static_cast<int32_t>(pow_mode(sv));
    scalar_kernel<T><<<grid, detail::kThreads, 0, ctx->stream>>>(code, st, a.ptr<T>(), sv, scalar_first, pow_code,
                                                                 out.ptr<T>());
    return Status::Ok();
  }));
  if (ctx == nullptr) return Status::Ok();  // nothing was launched (no elements)
  return check_launch("binary_scalar");
}

Status axpy(const View& a, double alpha, const View& b, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("axpy", "a", a));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("axpy", "b", b));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("axpy", "output", out));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_same_shape("axpy", "a", a, out));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_same_shape("axpy", "b", b, out));
  if (a.dtype != out.dtype || b.dtype != out.dtype) return invalid("axpy: dtypes differ");
  DeviceContext* ctx = nullptr;
  const Strided<3> s = detail::elementwise_strided(out, a, b);
  const unsigned grid = detail::grid_for(s.numel);
  CUDNN_RNN_RETURN_IF_ERROR(detail::dispatch_all(out.dtype, "axpy", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    T al{};
    if (!scalar_operand(alpha, &al)) return invalid("axpy: alpha must be an integer for int32");
    if (out.numel() == 0) return Status::Ok();
    CUDNN_RNN_RETURN_IF_ERROR(device_context(out.device.index, &ctx));
    axpy_kernel<T><<<grid, detail::kThreads, 0, ctx->stream>>>(s, a.ptr<T>(), b.ptr<T>(), al, out.ptr<T>());
    return Status::Ok();
  }));
  if (ctx == nullptr) return Status::Ok();
  return check_launch("axpy");
}

}  // namespace cuda
}  // namespace cudnn_rnn
