// Shared pieces of the CUDA tensor kernels (kernels_*.cu): the host-side
// argument checks and dtype dispatch (shared with the CPU backend,
// core/kernel_checks.h), PyTorch's element conversions and int32
// wrap-around on the device, and the strided N-d indexing every elementwise
// kernel uses. Internal to runtime/.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>

#include "../../core/kernel_checks.h"
#include "../../core/op_codes.h"
#include "../../core/status.h"
#include "../../core/view.h"
#include "context.h"

namespace cudnn_rnn {
namespace cuda {
namespace detail {

// ---------------------------------------------------------------------------
// Host-side argument checks and dtype dispatch: the CPU backend's rules and
// messages, shared with it (core/kernel_checks.h: invalid, check_view,
// dispatch_all, scalar_to_int32, ...).
using namespace ::cudnn_rnn::kernels;

// ---------------------------------------------------------------------------
// Element conversions and int32 arithmetic, host and device alike.

// double -> int32 as x86 (and PyTorch there) converts: truncation toward
// zero, INT32_MIN for NaN and out-of-range values (the CPU backend's rule).
__host__ __device__ __forceinline__ int32_t truncate_to_int32(double x) {
  return (x > -2147483649.0 && x < 2147483648.0) ? static_cast<int32_t>(x) : INT32_MIN;
}

// PyTorch's conversion rules: floating point -> int32 truncates (above),
// wider integers wrap to 32 bits, everything else is a plain cast.
template <typename To, typename From>
__host__ __device__ __forceinline__ To convert(From x) {
  if constexpr (std::is_same_v<To, int32_t> && std::is_floating_point_v<From>) {
    return truncate_to_int32(static_cast<double>(x));
  } else if constexpr (std::is_same_v<To, int32_t> && std::is_integral_v<From>) {
    return static_cast<int32_t>(static_cast<uint32_t>(x));
  } else {
    return static_cast<To>(x);
  }
}

// Two's complement wrap-around instead of signed-overflow UB.
__host__ __device__ __forceinline__ int32_t wrap_add(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
}
__host__ __device__ __forceinline__ int32_t wrap_sub(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) - static_cast<uint32_t>(b));
}
__host__ __device__ __forceinline__ int32_t wrap_mul(int32_t a, int32_t b) {
  return static_cast<int32_t>(static_cast<uint32_t>(a) * static_cast<uint32_t>(b));
}
__host__ __device__ __forceinline__ int32_t wrap_neg(int32_t a) {
  return static_cast<int32_t>(0u - static_cast<uint32_t>(a));
}

template <typename T>
__host__ __device__ __forceinline__ bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) {
    return x != x;
  } else {
    return false;
  }
}

// The accumulator of a sum of T: int64 for int32 (exact, wrapped on output),
// double for floating point (float32 too).
template <typename T>
using SumAcc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;

// ---------------------------------------------------------------------------
// Strided N-d indexing. N operands share one shape; each has its own strides
// (elements, any sign, 0 for broadcast). Passed to kernels by value (under
// 600 bytes for N = 3). Dims run outermost .. innermost: linear index i is
// decoded with the last dim fastest.

template <int N>
struct Strided : kernels::StridedDims<N> {
  using kernels::StridedDims<N>::ndim;     // >= 1
  using kernels::StridedDims<N>::numel;    // product of shape
  using kernels::StridedDims<N>::shape;    // all >= 1 unless numel == 0
  using kernels::StridedDims<N>::strides;

  // Element offsets of linear index i (0 <= i < numel) in every operand.
  __device__ __forceinline__ void offsets(int64_t i, int64_t (&off)[N]) const {
    if (ndim == 1) {
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] = i * strides[k][0];
      return;
    }
#pragma unroll
    for (int k = 0; k < N; ++k) off[k] = 0;
    // 32-bit division is several times cheaper than 64-bit.
    if (numel <= static_cast<int64_t>(UINT32_MAX)) {
      decode<N, uint32_t>(i, 0, off);
    } else {
      decode<N, uint64_t>(i, 0, off);
    }
  }

  // The offset of linear index i in operand k alone.
  __device__ __forceinline__ int64_t offset(int k, int64_t i) const {
    if (ndim == 1) return i * strides[k][0];
    int64_t off[1] = {0};
    if (numel <= static_cast<int64_t>(UINT32_MAX)) {
      decode<1, uint32_t>(i, k, off);
    } else {
      decode<1, uint64_t>(i, k, off);
    }
    return off[0];
  }

  // Adds to off[j] the offset of linear index i in operand first + j
  // (j < M), decoding i with unsigned U arithmetic (ndim > 1).
  template <int M, typename U>
  __device__ __forceinline__ void decode(int64_t i, int first, int64_t (&off)[M]) const {
    U r = static_cast<U>(i);
#pragma unroll 1
    for (int d = ndim - 1; d > 0; --d) {
      const U s = static_cast<U>(shape[d]);
      const U q = r / s;
      const int64_t idx = static_cast<int64_t>(r - q * s);
#pragma unroll
      for (int j = 0; j < M; ++j) off[j] += idx * strides[first + j][d];
      r = q;
    }
#pragma unroll
    for (int j = 0; j < M; ++j) off[j] += static_cast<int64_t>(r) * strides[first + j][0];
  }

  // True when every operand is walked with unit stride in one run.
  bool contiguous() const {
    if (ndim != 1) return false;
    for (int k = 0; k < N; ++k) {
      if (strides[k][0] != 1) return false;
    }
    return true;
  }
};

// Builds the indexing of `ndim` dims with the CPU backend's simplification
// (kernels::simplify_dims): drops size-1 dims; unless keep_order, orders the
// dims so that operand `order_by` is walked in memory order (which makes
// neighbouring threads touch neighbouring elements); then merges neighbouring
// dims that are one regular run for every operand. keep_order preserves the
// logical row-major order (arange). Unused entries are zeroed.
template <int N>
Strided<N> make_strided(int ndim, const int64_t* shape, const int64_t* const (&strides)[N], int order_by = 0,
                        bool keep_order = false) {
  Strided<N> s;
  static_cast<kernels::StridedDims<N>&>(s) = kernels::simplify_dims<N>(ndim, shape, strides, order_by, keep_order);
  if (s.numel == 0) {
    for (int k = 0; k < N; ++k) s.strides[k][0] = 0;
    return s;
  }
  for (int d = s.ndim; d < kMaxDims; ++d) {
    s.shape[d] = 0;
    for (int k = 0; k < N; ++k) s.strides[k][d] = 0;
  }
  return s;
}

// The indexing of an output and inputs of the output's shape, walked in the
// output's memory order (coalesced writes).
inline Strided<1> elementwise_strided(const View& out) {
  const int64_t* const strides[1] = {out.strides};
  return make_strided<1>(out.ndim, out.shape, strides);
}
inline Strided<2> elementwise_strided(const View& out, const View& in) {
  const int64_t* const strides[2] = {out.strides, in.strides};
  return make_strided<2>(out.ndim, out.shape, strides);
}
inline Strided<3> elementwise_strided(const View& out, const View& a, const View& b) {
  const int64_t* const strides[3] = {out.strides, a.strides, b.strides};
  return make_strided<3>(out.ndim, out.shape, strides);
}

// ---------------------------------------------------------------------------
// Launch shapes. Elementwise kernels use 1-d grid-stride loops; the grid is
// capped (each thread then takes several elements), which is plenty to fill
// any current GPU.

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 65536;

inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks < 1) blocks = 1;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  return static_cast<unsigned>(blocks);
}

// Smallest power of two >= n, clamped to [lo, hi] (both powers of two).
inline int pow2_clamp(int64_t n, int lo, int hi) {
  int p = lo;
  while (p < hi && p < n) p *= 2;
  return p;
}

__device__ __forceinline__ int64_t global_thread() {
  return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_threads() {
  return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

// Calls body(off) for every element of `s` (off[k]: the element's offset in
// operand k) in a grid-stride loop. The loop is kept rolled and the body
// appears once: one copy of each op's code per kernel, which keeps the
// binary and the compile time small (these kernels are memory bound).
template <int N, typename Body>
__device__ __forceinline__ void for_each_element(const Strided<N>& s, Body&& body) {
  const int64_t n = s.numel;
  const int64_t step = grid_threads();
  bool unit = s.ndim == 1;
#pragma unroll
  for (int k = 0; k < N; ++k) unit = unit && s.strides[k][0] == 1;
#pragma unroll 1
  for (int64_t i = global_thread(); i < n; i += step) {
    int64_t off[N];
    if (unit) {
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] = i;
    } else {
      s.offsets(i, off);
    }
    body(off);
  }
}

// out = f(in) over an indexing built from {out strides, in strides}. Each
// element is read and written by one thread, so in == out (elementwise) is safe.
template <typename TIn, typename TOut, typename F>
__device__ __forceinline__ void map_unary(const Strided<2>& s, const TIn* in, TOut* out, F f) {
  for_each_element(s, [&](const int64_t(&off)[2]) { out[off[0]] = f(in[off[1]]); });
}

// out = f(a, b) over an indexing built from {out, a, b} strides.
template <typename TA, typename TB, typename TOut, typename F>
__device__ __forceinline__ void map_binary(const Strided<3>& s, const TA* a, const TB* b, TOut* out, F f) {
  for_each_element(s, [&](const int64_t(&off)[3]) { out[off[0]] = f(a[off[1]], b[off[2]]); });
}

}  // namespace detail
}  // namespace cuda
}  // namespace cudnn_rnn
