// Host-side argument checks, dtype dispatch and strided-view simplification
// shared by the generic tensor kernels of every backend (cpu/kernels_*.cc and
// cuda/runtime/kernels_*.cu): one set of rules and error messages. Pure C++17,
// no device code; usable from g++ and from nvcc host code.
#pragma once
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <type_traits>
#include <utility>

#include "status.h"
#include "view.h"

namespace cudnn_rnn {
namespace kernels {

inline Status invalid(const std::string& message) {
  return Status(StatusCode::InvalidArgument, message);
}

// Rank, sizes and data pointer of a view; lib/ and binding/ check these too,
// but native code must not walk off a malformed view.
Status check_view(const char* where, const char* name, const View& v);

inline bool same_shape(const View& a, const View& b) {
  if (a.ndim != b.ndim) return false;
  for (int i = 0; i < a.ndim; ++i) {
    if (a.shape[i] != b.shape[i]) return false;
  }
  return true;
}

Status check_same_shape(const char* where, const char* name, const View& v, const View& like);

Status unsupported_dtype(const char* where, DType t);

// check_view of input and output, then output has input's shape.
Status check_unary_views(const char* where, const View& in, const View& out);

// The shape of a reduction's output: in's rank, and each size either in's or 1.
Status check_kept_shape(const char* where, const char* name, const View& v, const View& in);

// dim is a dim of v (only 0 for a 0-d view).
Status check_dim(const char* where, const View& v, int dim);

// The views of a same-shape binary op: check_view of a, b and output, both
// inputs of output's shape, and a and b of one dtype.
Status check_binary_views(const char* where, const View& a, const View& b, const View& out);

// softmax / log-softmax: views, shapes, dim and dtypes (in order).
Status check_softmax(const View& in, int dim, const View& out);
Status check_softmax_backward(const View& grad_out, const View& out, int dim, const View& grad_in);

// table (rows, cols), index (n) int32, other (n, cols): views, shapes and
// dtypes (not the index values).
Status check_rows_args(const char* where, const View& table, const View& index, const View& other,
                       const char* other_name);

// The arguments of max_dim, checked in order. On success *len and *step are
// the reduced run's length and in's stride along it (1 and 0 for a 0-d
// input) and *empty says values has no elements (nothing to do; the
// empty-dim and int32-index checks are then skipped).
Status check_max_dim(const View& in, int dim, const View& values, const View* indices, int64_t* len,
                     int64_t* step, bool* empty);

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

// A double scalar as an int32 operand (lib/ only passes integral values here).
inline int32_t scalar_to_int32(double s) {
  if (!(s > -9.2e18 && s < 9.2e18)) return INT32_MIN;
  return static_cast<int32_t>(static_cast<uint32_t>(static_cast<int64_t>(s)));
}

// A double scalar as an operand of T arithmetic: floats take it rounded to T
// (PyTorch computes `tensor op scalar` in the tensor's dtype); int32 takes it
// only when it is an integer, wrapped to 32 bits.
template <typename T>
bool scalar_operand(double s, T* value) {
  if constexpr (std::is_same_v<T, int32_t>) {
    if (std::nearbyint(s) != s) return false;
    *value = scalar_to_int32(s);
  } else {
    *value = static_cast<T>(s);
  }
  return true;
}

// ---------------------------------------------------------------------------
// Strided view simplification. N operands share one shape; each has its own
// strides (elements, any sign, 0 for broadcast).

template <int N>
struct StridedDims {
  int ndim = 1;                  // >= 1; dims ordered outermost .. innermost
  int64_t shape[kMaxDims] = {};  // all >= 1 unless numel == 0
  int64_t strides[N][kMaxDims] = {};
  int64_t numel = 1;
};

// Drops size-1 dims; unless keep_order, orders the dims so that operand
// `order_by` is walked in memory order (largest |stride| outermost, ties
// broken by the other operands); then merges neighbouring dims that are one
// regular run for every operand. keep_order preserves the logical
// (row-major) element order, which arange relies on. With no elements the
// result is one dim of size 0 (its strides left as copied); with one
// element, one dim of size 1 and stride 0. Entries past ndim are unspecified.
template <int N>
StridedDims<N> simplify_dims(int ndim, const int64_t* shape, const int64_t* const (&strides)[N],
                             int order_by = 0, bool keep_order = false) {
  StridedDims<N> loop;
  int nd = 0;
  for (int d = 0; d < ndim; ++d) {
    loop.numel *= shape[d];
    if (shape[d] == 1) continue;
    loop.shape[nd] = shape[d];
    for (int k = 0; k < N; ++k) loop.strides[k][nd] = strides[k][d];
    ++nd;
  }
  if (loop.numel == 0) {
    loop.ndim = 1;
    loop.shape[0] = 0;
    return loop;
  }
  if (nd == 0) {  // a single element
    loop.ndim = 1;
    loop.shape[0] = 1;
    for (int k = 0; k < N; ++k) loop.strides[k][0] = 0;
    return loop;
  }

  if (!keep_order) {
    // `outer(a, b)`: should dim a be walked outside dim b?
    auto outer = [&](int a, int b) {
      const int64_t sa = std::llabs(loop.strides[order_by][a]);
      const int64_t sb = std::llabs(loop.strides[order_by][b]);
      if (sa != sb) return sa > sb;
      for (int k = 0; k < N; ++k) {
        const int64_t ta = std::llabs(loop.strides[k][a]), tb = std::llabs(loop.strides[k][b]);
        if (ta != tb) return ta > tb;
      }
      return false;
    };
    // Stable insertion sort of at most kMaxDims dims.
    for (int i = 1; i < nd; ++i) {
      for (int j = i; j > 0 && outer(j, j - 1); --j) {
        std::swap(loop.shape[j], loop.shape[j - 1]);
        for (int k = 0; k < N; ++k) std::swap(loop.strides[k][j], loop.strides[k][j - 1]);
      }
    }
  }

  // Merge dim d-1 (outer) into dim d (inner) when every operand steps over
  // the inner dim exactly to the next outer index.
  int out = 0;
  for (int d = 1; d < nd; ++d) {
    bool mergeable = true;
    for (int k = 0; k < N; ++k) {
      if (loop.strides[k][out] != loop.strides[k][d] * loop.shape[d]) mergeable = false;
    }
    if (mergeable) {
      loop.shape[out] *= loop.shape[d];
      for (int k = 0; k < N; ++k) loop.strides[k][out] = loop.strides[k][d];
    } else {
      ++out;
      loop.shape[out] = loop.shape[d];
      for (int k = 0; k < N; ++k) loop.strides[k][out] = loop.strides[k][d];
    }
  }
  loop.ndim = out + 1;
  return loop;
}

// The 1-d slices along `dim` of N views of one shape: an indexing `outer`
// over all the other dims (built by make(ndim, shape, strides), e.g. with
// simplify_dims), the slice length and each view's stride along dim. A 0-d
// view is a single slice of length 1.
template <typename Outer, int N>
struct Slices {
  Outer outer;
  int64_t len = 1;
  int64_t step[N] = {};
};

template <typename Outer, int N, typename Make>
Slices<Outer, N> make_slices(const View* const (&views)[N], int dim, Make&& make) {
  Slices<Outer, N> s;
  const View& first = *views[0];
  int64_t shape[kMaxDims] = {};
  const int64_t* strides[N];
  for (int d = 0; d < first.ndim; ++d) shape[d] = d == dim ? 1 : first.shape[d];
  for (int k = 0; k < N; ++k) strides[k] = views[k]->strides;
  if (first.ndim > 0) {
    s.len = first.shape[dim];
    for (int k = 0; k < N; ++k) s.step[k] = views[k]->strides[dim];
  }
  s.outer = make(first.ndim, static_cast<const int64_t*>(shape), strides);
  return s;
}

}  // namespace kernels
}  // namespace cudnn_rnn
