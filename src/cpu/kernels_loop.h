// The strided N-d loop under every elementwise kernel (kernels_*.cc), and the
// unary / binary element maps built on it.
#pragma once
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "../core/kernel_checks.h"
#include "../core/view.h"
#include "kernels_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace detail {

// ---------------------------------------------------------------------------
// The strided N-d loop. N operands share one shape; each has its own strides
// (elements, any sign, 0 for broadcast). The shape is simplified before the
// walk so that the innermost loop is as long and as regular as possible.

template <int N>
using StridedLoop = kernels::StridedDims<N>;

// Builds the loop (kernels::simplify_dims): drops size-1 dims; unless
// keep_order, orders the dims so that operand `order_by` is walked in memory
// order; then merges neighbouring dims that are one regular run for every
// operand. keep_order preserves the logical (row-major) element order.
template <int N>
StridedLoop<N> make_loop(int ndim, const int64_t* shape, const int64_t* const (&strides)[N],
                         int order_by = 0, bool keep_order = false) {
  return kernels::simplify_dims<N>(ndim, shape, strides, order_by, keep_order);
}

// Calls row(offsets, n, inner_strides) once per innermost row: offsets[k] is
// the element offset of the row's first element in operand k, and the row has
// n elements spaced inner_strides[k] apart.
template <int N, typename Row>
void for_each_row(const StridedLoop<N>& loop, Row&& row) {
  if (loop.numel == 0) return;
  const int inner = loop.ndim - 1;
  const int64_t n = loop.shape[inner];
  int64_t inner_strides[N];
  for (int k = 0; k < N; ++k) inner_strides[k] = loop.strides[k][inner];
  int64_t rows = 1;
  for (int d = 0; d < inner; ++d) rows *= loop.shape[d];

  int64_t index[kMaxDims] = {};
  int64_t offsets[N] = {};
  for (int64_t r = 0; r < rows; ++r) {
    row(static_cast<const int64_t*>(offsets), n, static_cast<const int64_t*>(inner_strides));
    // Odometer step over the outer dims.
    for (int d = inner - 1; d >= 0; --d) {
      if (++index[d] < loop.shape[d]) {
        for (int k = 0; k < N; ++k) offsets[k] += loop.strides[k][d];
        break;
      }
      index[d] = 0;
      for (int k = 0; k < N; ++k) offsets[k] -= loop.strides[k][d] * (loop.shape[d] - 1);
    }
  }
}

// A list of dims (each with a size and one stride per operand) whose every
// index the reductions visit, e.g. a reduction's kept dims or its reduced dims.
template <int N>
struct DimList {
  int ndim = 0;
  int64_t shape[kMaxDims] = {};
  int64_t strides[N][kMaxDims] = {};

  // Appends dim d of `loop` (walked inside the dims appended before it).
  void add(const StridedLoop<N>& loop, int d) {
    shape[ndim] = loop.shape[d];
    for (int k = 0; k < N; ++k) strides[k][ndim] = loop.strides[k][d];
    ++ndim;
  }
};

// Calls fn(offsets) for every index of `dims`, last dim fastest; an empty
// list has exactly one index (all offsets 0).
template <int N, typename F>
void for_each_index(const DimList<N>& dims, F&& fn) {
  int64_t count = 1;
  for (int d = 0; d < dims.ndim; ++d) count *= dims.shape[d];
  int64_t index[kMaxDims] = {};
  int64_t offsets[N] = {};
  for (int64_t c = 0; c < count; ++c) {
    fn(static_cast<const int64_t*>(offsets));
    for (int d = dims.ndim - 1; d >= 0; --d) {
      if (++index[d] < dims.shape[d]) {
        for (int k = 0; k < N; ++k) offsets[k] += dims.strides[k][d];
        break;
      }
      index[d] = 0;
      for (int k = 0; k < N; ++k) offsets[k] -= dims.strides[k][d] * (dims.shape[d] - 1);
    }
  }
}

// ---------------------------------------------------------------------------
// Element maps. The contiguous loops have no __restrict on purpose: GCC
// versions them with a run-time overlap check, so in-place calls (out == in)
// still run the vector code while a partial overlap falls back to the scalar
// loop. A stride-0 (broadcast) input row is read once before the row is written.

// out = f(in) over a loop built from {out strides, in strides}.
template <typename TIn, typename TOut, typename F>
void map_unary(const StridedLoop<2>& loop, const TIn* in, TOut* out, F f) {
  for_each_row(loop, [&](const int64_t* off, int64_t n, const int64_t* st) {
    TOut* o = out + off[0];
    const TIn* x = in + off[1];
    if (st[0] == 1 && st[1] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]);
    } else if (st[0] == 1 && st[1] == 0) {
      const TOut v = f(*x);
      for (int64_t i = 0; i < n; ++i) o[i] = v;
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = f(x[i * st[1]]);
    }
  });
}

// out = f(a, b) over a loop built from {out strides, a strides, b strides}.
template <typename TA, typename TB, typename TOut, typename F>
void map_binary(const StridedLoop<3>& loop, const TA* a, const TB* b, TOut* out, F f) {
  for_each_row(loop, [&](const int64_t* off, int64_t n, const int64_t* st) {
    TOut* o = out + off[0];
    const TA* x = a + off[1];
    const TB* y = b + off[2];
    if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], y[i]);
    } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {
      const TB yv = *y;
      for (int64_t i = 0; i < n; ++i) o[i] = f(x[i], yv);
    } else if (st[0] == 1 && st[1] == 0 && st[2] == 1) {
      const TA xv = *x;
      for (int64_t i = 0; i < n; ++i) o[i] = f(xv, y[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i * st[0]] = f(x[i * st[1]], y[i * st[2]]);
    }
  });
}

// The loops for an output and inputs of the output's shape, walked in the
// output's memory order.
inline StridedLoop<2> elementwise_loop(const View& out, const View& in) {
  const int64_t* const strides[2] = {out.strides, in.strides};
  return make_loop<2>(out.ndim, out.shape, strides);
}
inline StridedLoop<3> elementwise_loop(const View& out, const View& a, const View& b) {
  const int64_t* const strides[3] = {out.strides, a.strides, b.strides};
  return make_loop<3>(out.ndim, out.shape, strides);
}

}  // namespace detail
}  // namespace cpu
}  // namespace cudnn_rnn
