// Shared helpers of the generic CPU kernels (kernels_*.cc): argument checks,
// dtype dispatch, PyTorch's conversion and int32 wrap-around rules. Not part
// of the binding contract.
#pragma once
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>

#include "../core/status.h"
#include "../core/view.h"

namespace cudnn_rnn {
namespace cpu {
namespace detail {

inline Status invalid(const std::string& message) {
  return Status(StatusCode::InvalidArgument, message);
}

// Rank, sizes and data pointer of a view; lib/ and binding/ check these too,
// but native code must not walk off a malformed view.
inline Status check_view(const char* where, const char* name, const View& v) {
  if (dtype_size(v.dtype) == 0) {
    return invalid(std::string(where) + ": " + name + " has an unknown dtype code");
  }
  if (v.ndim < 0 || v.ndim > kMaxDims) {
    return invalid(std::string(where) + ": " + name + " has rank " + std::to_string(v.ndim) +
                   ", more than " + std::to_string(kMaxDims));
  }
  for (int i = 0; i < v.ndim; ++i) {
    if (v.shape[i] < 0) return invalid(std::string(where) + ": " + name + " has a negative size");
  }
  if (v.data == nullptr && v.numel() > 0) {
    return invalid(std::string(where) + ": " + name + " has no data");
  }
  return Status::Ok();
}

inline bool same_shape(const View& a, const View& b) {
  if (a.ndim != b.ndim) return false;
  for (int i = 0; i < a.ndim; ++i) {
    if (a.shape[i] != b.shape[i]) return false;
  }
  return true;
}

inline Status check_same_shape(const char* where, const char* name, const View& v,
                               const View& like) {
  if (same_shape(v, like)) return Status::Ok();
  return invalid(std::string(where) + ": " + name + " does not have the expected shape");
}

inline Status unsupported_dtype(const char* where, DType t) {
  return invalid(std::string(where) + ": unsupported dtype " + dtype_name(t));
}

// ---------------------------------------------------------------------------
// dtype dispatch: f(TypeTag<T>{}) for the element type of `t`.

template <typename T>
struct TypeTag {
  using type = T;
};

template <typename F>
Status dispatch_all(DType t, const char* where, F&& f) {
  switch (t) {
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
    case DType::Int32: return f(TypeTag<int32_t>{});
  }
  return unsupported_dtype(where, t);
}

template <typename F>
Status dispatch_float(DType t, const char* where, F&& f) {
  switch (t) {
    case DType::Float32: return f(TypeTag<float>{});
    case DType::Float64: return f(TypeTag<double>{});
    case DType::Int32: break;
  }
  return unsupported_dtype(where, t);
}

// double -> int32 the way x86 (and so PyTorch on x86) converts: truncation
// toward zero, and INT32_MIN for NaN and out-of-range values. Written out
// because a plain cast of an out-of-range value is undefined behaviour.
inline int32_t truncate_to_int32(double x) {
  return (x > -2147483649.0 && x < 2147483648.0) ? static_cast<int32_t>(x) : INT32_MIN;
}

// Element conversion with PyTorch's rules: floating point to int32
// truncates (above), wider integers wrap to 32 bits, the rest is a cast.
template <typename To, typename From>
inline To convert(From x) {
  if constexpr (std::is_same_v<To, int32_t> && std::is_floating_point_v<From>) {
    return truncate_to_int32(static_cast<double>(x));
  } else if constexpr (std::is_same_v<To, int32_t> && std::is_integral_v<From>) {
    return static_cast<int32_t>(static_cast<uint32_t>(x));
  } else {
    return static_cast<To>(x);
  }
}

// Int32 arithmetic wraps around like PyTorch's (two's complement) instead of
// being undefined on overflow.
inline int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
inline int32_t wrap_sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}
inline int32_t wrap_mul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}
inline int32_t wrap_neg(int32_t a) { return static_cast<int32_t>(0u - static_cast<uint32_t>(a)); }

// A double scalar as an int32 operand (lib/ only passes integral values here).
inline int32_t scalar_to_int32(double s) {
  if (!(s > -9.2e18 && s < 9.2e18)) return INT32_MIN;
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(s)));
}

// True when a loop that reads in[i] and writes out[i] over [in, in + in_bytes)
// and [out, out + out_bytes) may be vectorised: the ranges are disjoint or are
// exactly the same elements (in-place).
inline bool same_or_disjoint(const void* in, int64_t in_bytes, const void* out, int64_t out_bytes) {
  if (in == out && in_bytes == out_bytes) return true;
  const void* a = in;
  const void* b = out;
  const int64_t na = in_bytes, nb = out_bytes;
  const auto pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
  return pa + static_cast<uintptr_t>(na) <= pb || pb + static_cast<uintptr_t>(nb) <= pa;
}

// Typed element pointer at an element offset.
template <typename T>
inline T* at(const View& v, int64_t offset) {
  return static_cast<T*>(v.data) + offset;
}

}  // namespace detail
}  // namespace cpu
}  // namespace cudnn_rnn
