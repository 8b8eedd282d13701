// Reductions of the CUDA backend: sum over any set of dims, max (values +
// first argmax) over one dim, softmax / log-softmax over one dim and their
// backward. The CPU backend's semantics (cpu/kernels_reduce.cc,
// cpu/kernels_softmax.cc): float32 sums accumulate in double, int32 in
// int64; max's NaN wins and the first index wins ties; softmax subtracts the
// slice max and sums in double.
//
// One scheme for all of them. Every output (or slice) is reduced by a group
// of `lanes` threads of a 256-thread block (lanes a power of two, 1..256):
//  - "row" layout, when the reduced elements are closer together in memory
//    than neighbouring outputs: the lanes are threadIdx.x, so consecutive
//    threads read consecutive elements of one reduction;
//  - "column" layout otherwise (e.g. a sum over the batch of a (N, C)
//    tensor): consecutive threads take consecutive outputs (threadIdx.x) and
//    the lanes (threadIdx.y, at most 8) split each reduction.
// Each lane folds a fixed, strided subset of the reduced elements in order;
// the lanes are then combined by a fixed shared-memory tree. Which element
// goes to which lane and the tree depend only on the shapes, never on
// scheduling, so every result is deterministic (no atomics anywhere). Long
// sums with few outputs also split each reduction over blockIdx.y into
// partial sums in a scratch buffer, combined in a fixed order by a second
// kernel.
#include <cmath>
#include <cstdlib>
#include <string>

#include "../kernels.h"
#include "../memory.h"
#include "kernels_loop.cuh"

namespace cudnn_rnn {
namespace cuda {
namespace {

using detail::convert;
using detail::invalid;
using kernels::check_kept_shape;
using detail::kThreads;
using detail::Strided;
using detail::SumAcc;

// ---------------------------------------------------------------------------
// Groups of lanes.

// Where the calling thread sits: lane `lane` of `lanes` in group `slot` of
// the `groups` groups of its block; a group's lanes are `lane_stride` apart
// in the block's linear thread index.
struct Lanes {
  int lane, lanes, slot, groups, lane_stride;
};

__device__ __forceinline__ Lanes lanes_of(bool lanes_in_x) {
  if (lanes_in_x) {
    return {static_cast<int>(threadIdx.x), static_cast<int>(blockDim.x), static_cast<int>(threadIdx.y),
            static_cast<int>(blockDim.y), 1};
  }
  return {static_cast<int>(threadIdx.y), static_cast<int>(blockDim.y), static_cast<int>(threadIdx.x),
          static_cast<int>(blockDim.x), static_cast<int>(blockDim.x)};
}

// Combines the values of each group's lanes with `c` by a fixed tree and
// gives every lane the result. Every thread of the block must call it (it
// synchronises the block); smem holds one V per thread.
template <typename V, typename Combine>
__device__ __forceinline__ V group_reduce(V v, V* smem, const Lanes& g, Combine c) {
  const int me = threadIdx.y * blockDim.x + threadIdx.x;
  smem[me] = v;
  __syncthreads();
#pragma unroll 1
  for (int s = g.lanes / 2; s > 0; s /= 2) {
    if (g.lane < s) smem[me] = c(smem[me], smem[me + s * g.lane_stride]);
    __syncthreads();
  }
  const V r = smem[me - g.lane * g.lane_stride];
  __syncthreads();  // smem is reused by the next call
  return r;
}

struct Plus {
  template <typename V>
  __device__ __forceinline__ V operator()(V a, V b) const { return a + b; }
};

// The block shape of a reduction of n_inner elements per output.
struct Layout {
  dim3 block;
  bool lanes_in_x = true;
  int groups = 1;  // outputs per block
};

Layout choose_layout(int64_t n_inner, bool rows) {
  Layout l;
  l.lanes_in_x = rows;
  const int lanes = rows ? detail::pow2_clamp(n_inner, 1, kThreads) : detail::pow2_clamp(n_inner, 1, 8);
  l.groups = kThreads / lanes;
  l.block = rows ? dim3(lanes, l.groups) : dim3(l.groups, lanes);
  return l;
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

unsigned grid_x(int64_t n_outer, const Layout& l) {
  const int64_t blocks = ceil_div(n_outer, l.groups);
  return static_cast<unsigned>(blocks < detail::kMaxBlocks ? (blocks < 1 ? 1 : blocks) : detail::kMaxBlocks);
}

// |stride| of the innermost (closest-packed) dim of operand 0, or 0 for a
// single element.
template <int N>
int64_t min_stride(const Strided<N>& s) {
  return std::llabs(s.strides[0][s.ndim - 1]);
}

template <typename T>
__device__ __forceinline__ T neg_inf();
template <>
__device__ __forceinline__ float neg_inf<float>() { return __int_as_float(0xff800000); }
template <>
__device__ __forceinline__ double neg_inf<double>() { return __longlong_as_double(0xfff0000000000000ULL); }

__device__ __forceinline__ float m_exp(float x) { return expf(x); }
__device__ __forceinline__ double m_exp(double x) { return exp(x); }

// ---------------------------------------------------------------------------
// Sum.

// Writes a finished sum into out (of runtime dtype) at an element offset.
template <typename Acc>
__device__ __forceinline__ void store_sum(void* out, DType dtype, int64_t off, Acc v) {
  switch (dtype) {
    case DType::Float32: static_cast<float*>(out)[off] = convert<float>(v); break;
    case DType::Float64: static_cast<double*>(out)[off] = convert<double>(v); break;
    case DType::Int32: static_cast<int32_t*>(out)[off] = convert<int32_t>(v); break;
  }
}

// outer: the kept dims {in, out strides}; inner: the reduced dims {in}.
// blockIdx.y takes elements [blockIdx.y * chunk, + chunk) of each reduction;
// with more than one such split the sums go to partial[o * gridDim.y + split].
template <typename T>
__global__ void sum_kernel(Strided<2> outer, Strided<1> inner, const T* in, void* out, DType out_dtype,
                           SumAcc<T>* partial, int64_t chunk, bool lanes_in_x) {
  using Acc = SumAcc<T>;
  __shared__ Acc smem[kThreads];
  const Lanes g = lanes_of(lanes_in_x);
  const int64_t n_out = outer.numel;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * chunk;
  const int64_t r1 = r0 + chunk < inner.numel ? r0 + chunk : inner.numel;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * g.groups; base < n_out;
       base += static_cast<int64_t>(gridDim.x) * g.groups) {
    const int64_t o = base + g.slot;
    Acc acc = 0;
    int64_t off[2] = {0, 0};
    if (o < n_out) {
      outer.offsets(o, off);
      const T* p = in + off[0];
      if (inner.ndim == 1) {  // the usual case: the reduced dims merge into one
        const int64_t st = inner.strides[0][0];
#pragma unroll 4
        for (int64_t r = r0 + g.lane; r < r1; r += g.lanes) acc += static_cast<Acc>(p[r * st]);
      } else {
#pragma unroll 1
        for (int64_t r = r0 + g.lane; r < r1; r += g.lanes) acc += static_cast<Acc>(p[inner.offset(0, r)]);
      }
    }
    acc = group_reduce(acc, smem, g, Plus());
    if (o < n_out && g.lane == 0) {
      if (partial != nullptr) {
        partial[o * gridDim.y + blockIdx.y] = acc;
      } else {
        store_sum(out, out_dtype, off[1], acc);
      }
    }
  }
}

// Adds each output's `splits` partial sums (one block per output, a fixed
// tree) and writes the total.
template <typename Acc>
__global__ void sum_finalize_kernel(const Acc* partial, int64_t splits, Strided<2> outer, void* out,
                                    DType out_dtype) {
  __shared__ Acc smem[kThreads];
  const Lanes g = lanes_of(true);
  for (int64_t o = blockIdx.x; o < outer.numel; o += gridDim.x) {
    Acc acc = 0;
    for (int64_t s = g.lane; s < splits; s += g.lanes) acc += partial[o * splits + s];
    acc = group_reduce(acc, smem, g, Plus());
    if (g.lane == 0) store_sum(out, out_dtype, outer.offset(1, o), acc);
  }
}

// ---------------------------------------------------------------------------
// Max over one dim.

template <typename T>
struct Best {
  T v;
  int64_t i;  // index along the dim; -1: no element seen
};

// Does v replace the running max `best` of a sequential scan? A NaN is the
// maximum and its first occurrence wins (PyTorch's CPU max), else the first
// index of the maximum.
template <typename T>
__device__ __forceinline__ bool replaces_max(T v, T best) {
  return !(v <= best) && best == best;
}

// The winner of two partial results: what a sequential scan over both
// subsets would have kept (NaN first, then the larger value, then the
// smaller index).
struct BetterOf {
  template <typename T>
  __device__ __forceinline__ Best<T> operator()(Best<T> a, Best<T> b) const {
    if (a.i < 0) return b;
    if (b.i < 0) return a;
    const bool an = detail::is_nan(a.v), bn = detail::is_nan(b.v);
    if (an || bn) {
      if (an && bn) return a.i < b.i ? a : b;
      return an ? a : b;
    }
    if (a.v > b.v) return a;
    if (b.v > a.v) return b;
    return a.i < b.i ? a : b;
  }
};

// outer: every output {in, values, indices strides}; each reduces `len`
// elements `step` apart in `in`.
template <typename T>
__global__ void max_dim_kernel(Strided<3> outer, int64_t len, int64_t step, const T* in, T* values,
                               int32_t* indices, bool lanes_in_x) {
  __shared__ Best<T> smem[kThreads];
  const Lanes g = lanes_of(lanes_in_x);
  const int64_t n_out = outer.numel;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * g.groups; base < n_out;
       base += static_cast<int64_t>(gridDim.x) * g.groups) {
    const int64_t o = base + g.slot;
    Best<T> best{T(0), -1};
    int64_t off[3] = {0, 0, 0};
    if (o < n_out) {
      outer.offsets(o, off);
      const T* p = in + off[0];
      for (int64_t r = g.lane; r < len; r += g.lanes) {
        const T c = p[r * step];
        if (best.i < 0 || replaces_max(c, best.v)) best = Best<T>{c, r};
      }
    }
    best = group_reduce(best, smem, g, BetterOf());
    if (o < n_out && g.lane == 0) {
      values[off[1]] = best.v;
      if (indices != nullptr) indices[off[2]] = static_cast<int32_t>(best.i);
    }
  }
}

// ---------------------------------------------------------------------------
// Softmax:      y = exp(x - max) / sum(exp(x - max))
// log-softmax:  y = (x - max) - log(sum(exp(x - max)))
// A NaN in a slice makes the whole slice NaN (through the sum), as in PyTorch.
// Each output element is read and written by the same thread after the
// slice's reductions, so in == out is safe.

struct MaxOf {
  template <typename T>
  __device__ __forceinline__ T operator()(T a, T b) const { return b > a ? b : a; }
};

template <typename T>
__global__ void softmax_kernel(Strided<2> outer, int64_t len, int64_t step_x, int64_t step_y, const T* x, T* y,
                               bool log, bool lanes_in_x) {
  __shared__ T smax[kThreads];
  __shared__ double ssum[kThreads];
  const Lanes g = lanes_of(lanes_in_x);
  const int64_t n_out = outer.numel;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * g.groups; base < n_out;
       base += static_cast<int64_t>(gridDim.x) * g.groups) {
    const int64_t o = base + g.slot;
    const bool active = o < n_out;
    int64_t off[2] = {0, 0};
    if (active) outer.offsets(o, off);
    const T* xs = x + off[0];
    T* ys = y + off[1];

    T m = neg_inf<T>();
    if (active) {
      for (int64_t r = g.lane; r < len; r += g.lanes) {
        const T v = xs[r * step_x];
        m = v > m ? v : m;
      }
    }
    m = group_reduce(m, smax, g, MaxOf());

    double s = 0.0;
    if (active) {
      for (int64_t r = g.lane; r < len; r += g.lanes) s += static_cast<double>(m_exp(xs[r * step_x] - m));
    }
    s = group_reduce(s, ssum, g, Plus());

    if (active) {
      if (log) {
        const T log_sum = static_cast<T>(::log(s));
        for (int64_t r = g.lane; r < len; r += g.lanes) ys[r * step_y] = (xs[r * step_x] - m) - log_sum;
      } else {
        const double inv = 1.0 / s;
        for (int64_t r = g.lane; r < len; r += g.lanes) {
          ys[r * step_y] = static_cast<T>(static_cast<double>(m_exp(xs[r * step_x] - m)) * inv);
        }
      }
    }
  }
}

// softmax:      gi = y * (go - sum(go * y))
// log-softmax:  gi = go - exp(y) * sum(go)
// Operands {go, y, gi}; gi may be go.
template <typename T>
__global__ void softmax_backward_kernel(Strided<3> outer, int64_t len, int64_t step_go, int64_t step_y,
                                        int64_t step_gi, const T* go, const T* y, T* gi, bool log,
                                        bool lanes_in_x) {
  __shared__ double ssum[kThreads];
  const Lanes g = lanes_of(lanes_in_x);
  const int64_t n_out = outer.numel;
  for (int64_t base = static_cast<int64_t>(blockIdx.x) * g.groups; base < n_out;
       base += static_cast<int64_t>(gridDim.x) * g.groups) {
    const int64_t o = base + g.slot;
    const bool active = o < n_out;
    int64_t off[3] = {0, 0, 0};
    if (active) outer.offsets(o, off);
    const T* gos = go + off[0];
    const T* ys = y + off[1];
    T* gis = gi + off[2];

    double s = 0.0;
    if (active) {
      if (log) {
        for (int64_t r = g.lane; r < len; r += g.lanes) s += static_cast<double>(gos[r * step_go]);
      } else {
        for (int64_t r = g.lane; r < len; r += g.lanes) {
          s += static_cast<double>(gos[r * step_go]) * static_cast<double>(ys[r * step_y]);
        }
      }
    }
    s = group_reduce(s, ssum, g, Plus());

    if (active) {
      const T a = static_cast<T>(s);
      if (log) {
        for (int64_t r = g.lane; r < len; r += g.lanes) {
          gis[r * step_gi] = gos[r * step_go] - m_exp(ys[r * step_y]) * a;
        }
      } else {
        for (int64_t r = g.lane; r < len; r += g.lanes) {
          const T yv = ys[r * step_y];
          gis[r * step_gi] = yv * (gos[r * step_go] - a);
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Host-side shapes.

// The slices along `dim` of N views of one shape: an indexing over all the
// other dims (ordered by operand 0's strides), the slice length and each
// view's stride along dim. A 0-d view is a single slice of length 1.
template <int N>
using Slices = kernels::Slices<Strided<N>, N>;

template <int N>
Slices<N> make_slices(const View* const (&views)[N], int dim) {
  return kernels::make_slices<Strided<N>>(views, dim,
                                          [](int ndim, const int64_t* shape, const int64_t* const (&strides)[N]) {
                                            return detail::make_strided<N>(ndim, shape, strides);
                                          });
}

// Row layout when a slice's elements lie closer together than neighbouring
// slices do (the CPU backend's test), column layout otherwise.
template <int N>
Layout slice_layout(const Slices<N>& s) {
  const bool rows = s.outer.numel == 1 || s.len == 1 || std::llabs(s.step[0]) <= min_stride(s.outer);
  return choose_layout(s.len, rows);
}

}  // namespace

Status sum(const View& in, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("sum", "input", in));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("sum", "output", out));
  CUDNN_RNN_RETURN_IF_ERROR(check_kept_shape("sum", "output", out, in));
  // A dim is reduced when out does not advance along it: size 1 in out, or
  // (as lib/ passes it) in's size with stride 0.
  bool reduced[kMaxDims] = {};
  int64_t out_strides[kMaxDims] = {};
  int64_t out_shape[kMaxDims] = {};
  int64_t kept_shape[kMaxDims] = {};
  int64_t reduced_shape[kMaxDims] = {};
  for (int d = 0; d < in.ndim; ++d) {
    reduced[d] = out.shape[d] != in.shape[d] || out.strides[d] == 0;
    out_strides[d] = reduced[d] ? 0 : out.strides[d];
    out_shape[d] = reduced[d] ? 1 : in.shape[d];
    kept_shape[d] = reduced[d] ? 1 : in.shape[d];
    reduced_shape[d] = reduced[d] ? in.shape[d] : 1;
  }
  if (in.numel() == 0) {  // every output element is an empty sum
    View zeros = out;
    for (int d = 0; d < in.ndim; ++d) zeros.shape[d] = out_shape[d], zeros.strides[d] = out_strides[d];
    return fill(zeros, 0.0);
  }
  DeviceContext* ctx;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(out.device.index, &ctx));

  const int64_t* const outer_strides[2] = {in.strides, out_strides};
  const int64_t* const inner_strides[1] = {in.strides};
  const Strided<2> outer = detail::make_strided<2>(in.ndim, kept_shape, outer_strides);
  const Strided<1> inner = detail::make_strided<1>(in.ndim, reduced_shape, inner_strides);
  const int64_t n_out = outer.numel, n_in = inner.numel;
  const bool rows = n_out == 1 || (n_in > 1 && min_stride(inner) <= min_stride(outer));
  const Layout layout = choose_layout(n_in, rows);

  // Few outputs with long sums: split each sum over blockIdx.y so that the
  // whole GPU works on it (aiming at ~1024 blocks of >= 4096 elements).
  const int64_t out_blocks = ceil_div(n_out, layout.groups);
  int64_t splits = 1;
  if (n_in >= 32768 && out_blocks < 128) {
    splits = std::min<int64_t>(ceil_div(n_in, 4096), std::max<int64_t>(1, 1024 / out_blocks));
    splits = std::min<int64_t>(splits, 65535);
  }
  const int64_t chunk = ceil_div(n_in, splits);
  splits = ceil_div(n_in, chunk);
  const dim3 grid(grid_x(n_out, layout), static_cast<unsigned>(splits));

  return detail::dispatch_all(in.dtype, "sum", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    using Acc = SumAcc<T>;
    if (splits == 1) {
      sum_kernel<T><<<grid, layout.block, 0, ctx->stream>>>(outer, inner, in.ptr<T>(), out.data, out.dtype, nullptr,
                                                            chunk, layout.lanes_in_x);
      return check_launch("sum");
    }
    void* scratch = nullptr;
    const size_t bytes = static_cast<size_t>(n_out * splits) * sizeof(Acc);
    CUDNN_RNN_RETURN_IF_ERROR(device_alloc(out.device.index, bytes, false, &scratch));
    Acc* partial = static_cast<Acc*>(scratch);
    sum_kernel<T><<<grid, layout.block, 0, ctx->stream>>>(outer, inner, in.ptr<T>(), out.data, out.dtype, partial,
                                                          chunk, layout.lanes_in_x);
    Status st = check_launch("sum (partial sums)");
    if (st.ok()) {
      const unsigned fgrid = static_cast<unsigned>(std::min<int64_t>(n_out, detail::kMaxBlocks));
      sum_finalize_kernel<Acc><<<fgrid, kThreads, 0, ctx->stream>>>(partial, splits, outer, out.data, out.dtype);
      st = check_launch("sum (final)");
    }
    device_free(out.device.index, scratch);  // stream-ordered: safe right after queuing
    return st;
  });
}

Status max_dim(const View& in, int dim, const View& values, const View* indices) {
  int64_t len = 1, step = 0;
  bool empty = false;
  CUDNN_RNN_RETURN_IF_ERROR(kernels::check_max_dim(in, dim, values, indices, &len, &step, &empty));
  if (empty) return Status::Ok();
  DeviceContext* ctx;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(values.device.index, &ctx));

  // Every output element: in's shape with `dim` dropped.
  int64_t shape[kMaxDims] = {};
  for (int d = 0; d < in.ndim; ++d) shape[d] = d == dim ? 1 : in.shape[d];
  const int64_t no_strides[kMaxDims] = {};
  const int64_t* const strides[3] = {in.strides, values.strides, indices ? indices->strides : no_strides};
  const Strided<3> outer = detail::make_strided<3>(in.ndim, shape, strides);
  const bool rows = outer.numel == 1 || len == 1 || std::llabs(step) <= min_stride(outer);
  const Layout layout = choose_layout(len, rows);
  int32_t* index_data = indices ? indices->ptr<int32_t>() : nullptr;

  CUDNN_RNN_RETURN_IF_ERROR(detail::dispatch_all(in.dtype, "max_dim", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    max_dim_kernel<T><<<grid_x(outer.numel, layout), layout.block, 0, ctx->stream>>>(
        outer, len, step, in.ptr<T>(), values.ptr<T>(), index_data, layout.lanes_in_x);
    return Status::Ok();
  }));
  return check_launch("max_dim");
}

Status softmax(const View& in, int dim, bool log, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(kernels::check_softmax(in, dim, out));
  if (in.numel() == 0) return Status::Ok();
  return detail::dispatch_float(in.dtype, "softmax", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    DeviceContext* ctx;
    CUDNN_RNN_RETURN_IF_ERROR(device_context(out.device.index, &ctx));
    const View* const views[2] = {&in, &out};
    const Slices<2> s = make_slices<2>(views, dim);
    const Layout layout = slice_layout(s);
    softmax_kernel<T><<<grid_x(s.outer.numel, layout), layout.block, 0, ctx->stream>>>(
        s.outer, s.len, s.step[0], s.step[1], in.ptr<T>(), out.ptr<T>(), log, layout.lanes_in_x);
    return check_launch(log ? "log_softmax" : "softmax");
  });
}

Status softmax_backward(const View& grad_out, const View& out, int dim, bool log, const View& grad_in) {
  CUDNN_RNN_RETURN_IF_ERROR(kernels::check_softmax_backward(grad_out, out, dim, grad_in));
  if (grad_out.numel() == 0) return Status::Ok();
  return detail::dispatch_float(grad_out.dtype, "softmax_backward", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    DeviceContext* ctx;
    CUDNN_RNN_RETURN_IF_ERROR(device_context(grad_in.device.index, &ctx));
    const View* const views[3] = {&grad_out, &out, &grad_in};
    const Slices<3> s = make_slices<3>(views, dim);
    const Layout layout = slice_layout(s);
    softmax_backward_kernel<T><<<grid_x(s.outer.numel, layout), layout.block, 0, ctx->stream>>>(
        s.outer, s.len, s.step[0], s.step[1], s.step[2], grad_out.ptr<T>(), out.ptr<T>(), grad_in.ptr<T>(), log,
        layout.lanes_in_x);
    return check_launch(log ? "log_softmax_backward" : "softmax_backward");
  });
}

}  // namespace cuda
}  // namespace cudnn_rnn
