// Elementwise kernels: unary, binary (arithmetic, comparisons, activation
// backward helpers), binary with a scalar operand, and axpy. PyTorch's CPU
// semantics throughout: NaN propagates through relu/maximum/minimum,
// sign(NaN) = 0, round is half-to-even, float division by zero gives inf/NaN,
// int32 arithmetic wraps around.
#include <cmath>
#include <string>

#include "kernels.h"
#include "kernels_internal.h"
#include "kernels_loop.h"
#include "vmath.h"

namespace cudnn_rnn {
namespace cpu {
namespace {

using detail::elementwise_loop;
using detail::invalid;
using detail::map_binary;
using detail::map_unary;
using detail::StridedLoop;

std::string op_name(const char* where, int32_t op, DType t) {
  return std::string(where) + ": op " + std::to_string(op) + " is not supported for " +
         dtype_name(t);
}

// ---------------------------------------------------------------------------
// Unary.

// Exp / Tanh / Sigmoid: the vectorised vmath loop on unit-stride rows, its
// scalar form (same accuracy) on strided ones.
template <typename T, typename VecFn, typename ScalarFn>
void map_vmath(const StridedLoop<2>& loop, const T* in, T* out, VecFn vec, ScalarFn scalar) {
  detail::for_each_row(loop, [&](const int64_t* off, int64_t n, const int64_t* st) {
    T* o = out + off[0];
    const T* x = in + off[1];
    if (st[0] == 1 && st[1] == 1) {
      vec(x, o, n);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = scalar(x[i * st[1]]);
    }
  });
}

template <typename T>
bool unary_float(UnaryOp op, const StridedLoop<2>& loop, const T* in, T* out) {
  auto map = [&](auto f) { map_unary(loop, in, out, f); };
  switch (op) {
    case UnaryOp::Neg: map([](T x) { return -x; }); return true;
    case UnaryOp::Exp:
      map_vmath(loop, in, out, [](const T* x, T* o, int64_t n) { vmath::exp(x, o, n); },
                [](T x) { return vmath::exp1(x); });
      return true;
    case UnaryOp::Log: map([](T x) { return std::log(x); }); return true;
    case UnaryOp::Tanh:
      map_vmath(loop, in, out, [](const T* x, T* o, int64_t n) { vmath::tanh(x, o, n); },
                [](T x) { return vmath::tanh1(x); });
      return true;
    case UnaryOp::Sigmoid:
      map_vmath(loop, in, out, [](const T* x, T* o, int64_t n) { vmath::sigmoid(x, o, n); },
                [](T x) { return vmath::sigmoid1(x); });
      return true;
    case UnaryOp::Relu: map([](T x) { return x < T(0) ? T(0) : x; }); return true;  // NaN stays
    case UnaryOp::Abs: map([](T x) { return std::abs(x); }); return true;
    case UnaryOp::Sqrt: map([](T x) { return std::sqrt(x); }); return true;
    case UnaryOp::Sign:  // NaN -> 0 like PyTorch
      map([](T x) { return static_cast<T>((T(0) < x) - (x < T(0))); });
      return true;
    case UnaryOp::Square: map([](T x) { return x * x; }); return true;
    case UnaryOp::Reciprocal: map([](T x) { return T(1) / x; }); return true;
    case UnaryOp::Sin: map([](T x) { return std::sin(x); }); return true;
    case UnaryOp::Cos: map([](T x) { return std::cos(x); }); return true;
    case UnaryOp::Log1p: map([](T x) { return std::log1p(x); }); return true;
    case UnaryOp::Expm1: map([](T x) { return std::expm1(x); }); return true;
    case UnaryOp::Floor: map([](T x) { return std::floor(x); }); return true;
    case UnaryOp::Ceil: map([](T x) { return std::ceil(x); }); return true;
    case UnaryOp::Round: map([](T x) { return std::nearbyint(x); }); return true;  // half to even
  }
  return false;
}

bool unary_int32(UnaryOp op, const StridedLoop<2>& loop, const int32_t* in, int32_t* out) {
  auto map = [&](auto f) { map_unary(loop, in, out, f); };
  switch (op) {
    case UnaryOp::Neg: map([](int32_t x) { return detail::wrap_neg(x); }); return true;
    case UnaryOp::Abs:  // abs(INT32_MIN) wraps to INT32_MIN, as in PyTorch
      map([](int32_t x) { return x < 0 ? detail::wrap_neg(x) : x; });
      return true;
    case UnaryOp::Sign: map([](int32_t x) { return (0 < x) - (x < 0); }); return true;
    case UnaryOp::Square: map([](int32_t x) { return detail::wrap_mul(x, x); }); return true;
    case UnaryOp::Relu: map([](int32_t x) { return x < 0 ? 0 : x; }); return true;
    default: return false;
  }
}

// ---------------------------------------------------------------------------
// Binary operations as functions of two elements. Each `*_op` calls
// run(f) with the element function for `op` and says whether op is supported;
// binary, binary_scalar and axpy supply the loops.

template <typename T, typename Run>
bool float_arith_op(BinaryOp op, Run&& run) {
  switch (op) {
    case BinaryOp::Add: run([](T x, T y) { return x + y; }); return true;
    case BinaryOp::Sub: run([](T x, T y) { return x - y; }); return true;
    case BinaryOp::Mul: run([](T x, T y) { return x * y; }); return true;
    case BinaryOp::Div: run([](T x, T y) { return x / y; }); return true;
    case BinaryOp::Pow: run([](T x, T y) { return std::pow(x, y); }); return true;
    case BinaryOp::Maximum:  // NaN wins
      run([](T x, T y) { return (x > y || x != x) ? x : y; });
      return true;
    case BinaryOp::Minimum: run([](T x, T y) { return (x < y || x != x) ? x : y; }); return true;
    case BinaryOp::TanhBackward: run([](T g, T y) { return g * (T(1) - y * y); }); return true;
    case BinaryOp::SigmoidBackward: run([](T g, T y) { return g * (T(1) - y) * y; }); return true;
    case BinaryOp::ReluBackward:
      // PyTorch's threshold_backward: y <= 0 ? 0 : g (so a NaN output passes g).
      run([](T g, T y) { return y <= T(0) ? T(0) : g; });
      return true;
    default: return false;
  }
}

template <typename Run>
bool int32_arith_op(BinaryOp op, Run&& run) {
  switch (op) {
    case BinaryOp::Add: run([](int32_t x, int32_t y) { return detail::wrap_add(x, y); }); return true;
    case BinaryOp::Sub: run([](int32_t x, int32_t y) { return detail::wrap_sub(x, y); }); return true;
    case BinaryOp::Mul: run([](int32_t x, int32_t y) { return detail::wrap_mul(x, y); }); return true;
    case BinaryOp::Maximum: run([](int32_t x, int32_t y) { return x > y ? x : y; }); return true;
    case BinaryOp::Minimum: run([](int32_t x, int32_t y) { return x < y ? x : y; }); return true;
    default: return false;
  }
}

bool is_comparison(BinaryOp op) {
  return op == BinaryOp::Eq || op == BinaryOp::Ne || op == BinaryOp::Lt || op == BinaryOp::Le ||
         op == BinaryOp::Gt || op == BinaryOp::Ge;
}

// Comparisons of X and Y values written as 1 / 0 in U.
template <typename X, typename Y, typename U, typename Run>
void comparison_op(BinaryOp op, Run&& run) {
  switch (op) {
    case BinaryOp::Eq: run([](X x, Y y) { return static_cast<U>(x == y); }); return;
    case BinaryOp::Ne: run([](X x, Y y) { return static_cast<U>(x != y); }); return;
    case BinaryOp::Lt: run([](X x, Y y) { return static_cast<U>(x < y); }); return;
    case BinaryOp::Le: run([](X x, Y y) { return static_cast<U>(x <= y); }); return;
    case BinaryOp::Gt: run([](X x, Y y) { return static_cast<U>(x > y); }); return;
    case BinaryOp::Ge: run([](X x, Y y) { return static_cast<U>(x >= y); }); return;
    default: return;
  }
}

// Same-dtype arithmetic on T; false when op is not supported for T.
template <typename T, typename Run>
bool arith_op(BinaryOp op, Run&& run) {
  if constexpr (std::is_same_v<T, int32_t>) {
    return int32_arith_op(op, run);
  } else {
    return float_arith_op<T>(op, run);
  }
}

using kernels::check_unary_views;
using kernels::scalar_operand;

// tensor ** scalar with PyTorch's special cases (pow_tensor_scalar_optimized).
template <typename T>
void pow_scalar(const StridedLoop<2>& loop, const T* in, T* out, T e) {
  auto map = [&](auto f) { map_unary(loop, in, out, f); };
  if (e == T(2)) {
    map([](T x) { return x * x; });
  } else if (e == T(3)) {
    map([](T x) { return x * x * x; });
  } else if (e == T(0.5)) {
    map([](T x) { return std::sqrt(x); });
  } else if (e == T(-0.5)) {
    map([](T x) { return T(1) / std::sqrt(x); });
  } else if (e == T(-1)) {
    map([](T x) { return T(1) / x; });
  } else if (e == T(-2)) {
    map([](T x) { return T(1) / (x * x); });
  } else {
    map([e](T x) { return std::pow(x, e); });
  }
}

}  // namespace

Status unary(UnaryOp op, const View& in, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(check_unary_views("unary", in, out));
  if (in.dtype != out.dtype) return invalid("unary: input and output dtypes differ");
  const StridedLoop<2> loop = elementwise_loop(out, in);
  bool supported = false;
  switch (in.dtype) {
    case DType::Float32: supported = unary_float(op, loop, in.ptr<float>(), out.ptr<float>()); break;
    case DType::Float64: supported = unary_float(op, loop, in.ptr<double>(), out.ptr<double>()); break;
    case DType::Int32: supported = unary_int32(op, loop, in.ptr<int32_t>(), out.ptr<int32_t>()); break;
  }
  if (!supported) return invalid(op_name("unary", static_cast<int32_t>(op), in.dtype));
  return Status::Ok();
}

Status binary(BinaryOp op, const View& a, const View& b, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(kernels::check_binary_views("binary", a, b, out));
  const bool compare = is_comparison(op);
  if (!compare && out.dtype != a.dtype) return invalid("binary: output dtype differs from the inputs'");
  const StridedLoop<3> loop = elementwise_loop(out, a, b);

  return detail::dispatch_all(a.dtype, "binary", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    const T* x = a.ptr<T>();
    const T* y = b.ptr<T>();
    if (compare) {
      return detail::dispatch_all(out.dtype, "binary", [&](auto out_tag) -> Status {
        using U = typename decltype(out_tag)::type;
        comparison_op<T, T, U>(op, [&](auto f) { map_binary(loop, x, y, out.ptr<U>(), f); });
        return Status::Ok();
      });
    }
    const bool supported = arith_op<T>(op, [&](auto f) { map_binary(loop, x, y, out.ptr<T>(), f); });
    if (!supported) return invalid(op_name("binary", static_cast<int32_t>(op), a.dtype));
    return Status::Ok();
  });
}

Status binary_scalar(BinaryOp op, const View& a, double s, bool scalar_first, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(check_unary_views("binary_scalar", a, out));
  const bool compare = is_comparison(op);
  if (!compare && out.dtype != a.dtype) {
    return invalid("binary_scalar: output dtype differs from the input's");
  }
  const StridedLoop<2> loop = elementwise_loop(out, a);

  return detail::dispatch_all(a.dtype, "binary_scalar", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    const T* x = a.ptr<T>();
    if (compare) {
      // Floats compare in their own dtype (the scalar rounded to it, as in
      // PyTorch); int32 compares exactly against the double scalar.
      using S = std::conditional_t<std::is_same_v<T, int32_t>, double, T>;
      const S sv = static_cast<S>(s);
      return detail::dispatch_all(out.dtype, "binary_scalar", [&](auto out_tag) -> Status {
        using U = typename decltype(out_tag)::type;
        U* o = out.ptr<U>();
        if (scalar_first) {
          comparison_op<S, T, U>(op, [&](auto f) { map_unary(loop, x, o, [f, sv](T v) { return f(sv, v); }); });
        } else {
          comparison_op<T, S, U>(op, [&](auto f) { map_unary(loop, x, o, [f, sv](T v) { return f(v, sv); }); });
        }
        return Status::Ok();
      });
    }
    T sv{};
    if (!scalar_operand(s, &sv)) {
      return invalid("binary_scalar: a non-integer scalar cannot be an int32 operand");
    }
    T* o = out.ptr<T>();
    if constexpr (!std::is_same_v<T, int32_t>) {
      if (op == BinaryOp::Pow && !scalar_first) {
        pow_scalar(loop, x, o, sv);
        return Status::Ok();
      }
    }
    const bool supported = arith_op<T>(op, [&](auto f) {
      if (scalar_first) {
        map_unary(loop, x, o, [f, sv](T v) { return f(sv, v); });
      } else {
        map_unary(loop, x, o, [f, sv](T v) { return f(v, sv); });
      }
    });
    if (!supported) return invalid(op_name("binary_scalar", static_cast<int32_t>(op), a.dtype));
    return Status::Ok();
  });
}

Status axpy(const View& a, double alpha, const View& b, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("axpy", "a", a));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("axpy", "b", b));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("axpy", "output", out));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_same_shape("axpy", "a", a, out));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_same_shape("axpy", "b", b, out));
  if (a.dtype != out.dtype || b.dtype != out.dtype) return invalid("axpy: dtypes differ");
  const StridedLoop<3> loop = elementwise_loop(out, a, b);

  return detail::dispatch_all(out.dtype, "axpy", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    T al{};
    if (!scalar_operand(alpha, &al)) return invalid("axpy: alpha must be an integer for int32");
    if constexpr (std::is_same_v<T, int32_t>) {
      map_binary(loop, a.ptr<T>(), b.ptr<T>(), out.ptr<T>(),
                 [al](T x, T y) { return detail::wrap_add(x, detail::wrap_mul(al, y)); });
    } else {
      // PyTorch's add(alpha=): x + alpha * y in the tensor's dtype.
      map_binary(loop, a.ptr<T>(), b.ptr<T>(), out.ptr<T>(), [al](T x, T y) { return x + al * y; });
    }
    return Status::Ok();
  });
}

}  // namespace cpu
}  // namespace cudnn_rnn
