// Shared helpers of the generic CPU kernels (kernels_*.cc): argument checks
// and dtype dispatch (shared with the CUDA kernels, core/kernel_checks.h),
// PyTorch's conversion and int32 wrap-around rules. Not part
// of the binding contract.
#pragma once
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>

#include "../core/kernel_checks.h"
#include "../core/status.h"
#include "../core/view.h"

namespace cudnn_rnn {
namespace cpu {
namespace detail {

// The host-side checks, dtype dispatch and view simplification shared with
// the CUDA kernels (invalid, check_view, dispatch_all, scalar_to_int32, ...).
using namespace ::cudnn_rnn::kernels;

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
