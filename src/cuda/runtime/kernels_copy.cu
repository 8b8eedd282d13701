// Data movement and creation on the device: strided copy with dtype
// conversion (how lib/ writes into narrows of a bigger tensor for cat/stack,
// and makes views contiguous), fill and arange. The CPU backend's semantics
// (cpu/kernels_copy.cc); float -> int32 truncates toward zero.
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
using detail::Strided;

// Tile edge of the transposing copy; a block of kTile x kTileRows threads
// moves one kTile x kTile tile through shared memory.
constexpr int kTile = 32;
constexpr int kTileRows = 8;

// The generic copy: dst[i] = convert(src[i]) over {dst, src} strides, walked
// in dst's memory order (coalesced writes).
template <typename From, typename To>
__global__ void copy_kernel(Strided<2> s, const From* src, To* dst) {
  detail::map_unary(s, src, dst, [](From x) { return convert<To>(x); });
}

// The copy when its two innermost dims (d0 outer, d1 inner, in dst's memory
// order) are a transpose: dst has unit stride along d1 while src is packed
// along d0. Element by element one of the two sides would be read or
// written a whole row apart; through a shared-memory tile both are
// coalesced. `outer` indexes the remaining dims ({dst, src} strides).
template <typename From, typename To>
__global__ void copy_transpose_kernel(Strided<2> outer, int64_t n0, int64_t n1, int64_t dst0, int64_t dst1,
                                      int64_t src0, int64_t src1, const From* src, To* dst) {
  __shared__ To tile[kTile][kTile + 1];  // +1: no bank conflicts on the transposed access
  const int64_t tiles0 = (n0 + kTile - 1) / kTile;
  const int64_t tiles1 = (n1 + kTile - 1) / kTile;
  const int64_t total = outer.numel * tiles0 * tiles1;
  const int tx = threadIdx.x, ty = threadIdx.y;
  for (int64_t t = blockIdx.x; t < total; t += gridDim.x) {  // uniform across the block
    const int64_t b1 = t % tiles1;
    const int64_t rest = t / tiles1;
    const int64_t b0 = rest % tiles0;
    const int64_t o = rest / tiles0;
    int64_t off[2];
    outer.offsets(o, off);
    // Read: consecutive threads walk d0, src's packed dim.
    const int64_t i0 = b0 * kTile + tx;
#pragma unroll
    for (int k = 0; k < kTile; k += kTileRows) {
      const int64_t i1 = b1 * kTile + ty + k;
      if (i0 < n0 && i1 < n1) tile[tx][ty + k] = convert<To>(src[off[1] + i0 * src0 + i1 * src1]);
    }
    __syncthreads();
    // Write: consecutive threads walk d1, dst's unit-stride dim.
    const int64_t j1 = b1 * kTile + tx;
#pragma unroll
    for (int k = 0; k < kTile; k += kTileRows) {
      const int64_t j0 = b0 * kTile + ty + k;
      if (j0 < n0 && j1 < n1) dst[off[0] + j0 * dst0 + j1 * dst1] = tile[ty + k][tx];
    }
    __syncthreads();  // the tile is reused by the next iteration
  }
}

template <typename T>
__global__ void fill_kernel(Strided<1> s, T value, T* dst) {
  detail::for_each_element(s, [&](const int64_t(&off)[1]) { dst[off[0]] = value; });
}

// Element i in row-major order gets start + i * step, computed in double
// without contraction into an fma (the CPU backend rounds the product and
// the sum separately), then converted. `s` keeps dst's logical order.
template <typename T>
__global__ void arange_kernel(Strided<1> s, double start, double step, T* dst) {
  const int64_t n = s.numel;
  const int64_t grid_step = detail::grid_threads();
#pragma unroll 1
  for (int64_t i = detail::global_thread(); i < n; i += grid_step) {
    const double v = __dadd_rn(start, __dmul_rn(static_cast<double>(i), step));
    dst[s.offset(0, i)] = convert<T>(v);
  }
}

// Is the copy {dst, src} a transpose of its two innermost dims: dst walks the
// innermost dim with unit stride while src is closer-packed along the other?
bool is_transposing(const Strided<2>& s) {
  if (s.ndim < 2) return false;
  const int d0 = s.ndim - 2, d1 = s.ndim - 1;
  return s.strides[0][d1] == 1 && std::llabs(s.strides[1][d0]) < std::llabs(s.strides[1][d1]) &&
         std::llabs(s.strides[1][d1]) >= 8 && s.shape[d0] >= 8 && s.shape[d1] >= 8;
}

// The byte range [lo, hi) a view's elements lie in (numel > 0).
void byte_extent(const View& v, uintptr_t* lo, uintptr_t* hi) {
  int64_t min_off = 0, max_off = 0;
  for (int d = 0; d < v.ndim; ++d) {
    const int64_t span = (v.shape[d] - 1) * v.strides[d];
    if (span < 0) min_off += span; else max_off += span;
  }
  const int64_t size = static_cast<int64_t>(dtype_size(v.dtype));
  const uintptr_t base = reinterpret_cast<uintptr_t>(v.data);
  *lo = base + static_cast<uintptr_t>(min_off * size);  // wraps correctly for min_off < 0
  *hi = base + static_cast<uintptr_t>((max_off + 1) * size);
}

bool ranges_overlap(const View& a, const View& b) {
  uintptr_t alo, ahi, blo, bhi;
  byte_extent(a, &alo, &ahi);
  byte_extent(b, &blo, &bhi);
  return alo < bhi && blo < ahi;
}

// Every element of dst is the element of src at the same index (same
// address, same element size): an elementwise in-place copy, which is safe
// because each element is read and then written by the same thread.
bool same_elements(const View& src, const View& dst) {
  if (src.data != dst.data || dtype_size(src.dtype) != dtype_size(dst.dtype)) return false;
  for (int d = 0; d < dst.ndim; ++d) {
    if (dst.shape[d] != 1 && src.strides[d] != dst.strides[d]) return false;
  }
  return true;
}

View contiguous_like(const View& v, DType dtype, void* data) {
  View c = v;
  c.dtype = dtype;
  c.data = data;
  int64_t stride = 1;
  for (int d = v.ndim - 1; d >= 0; --d) {
    c.strides[d] = stride;
    stride *= v.shape[d];
  }
  return c;
}

}  // namespace

Status copy(const View& src, const View& dst) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("copy", "src", src));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("copy", "dst", dst));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_same_shape("copy", "dst", dst, src));
  const int64_t n = dst.numel();
  if (n == 0) return Status::Ok();
  DeviceContext* ctx;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(dst.device.index, &ctx));

  const bool in_place = same_elements(src, dst);
  if (in_place && src.dtype == dst.dtype) return Status::Ok();  // nothing changes
  if (!in_place && ranges_overlap(src, dst)) {
    // Partly overlapping views (memmove semantics on the CPU): threads would
    // race on the shared elements, so go through a contiguous staging copy.
    const size_t bytes = static_cast<size_t>(n) * dtype_size(src.dtype);
    void* tmp = nullptr;
    CUDNN_RNN_RETURN_IF_ERROR(device_alloc(dst.device.index, bytes, false, &tmp));
    const View staged = contiguous_like(src, src.dtype, tmp);
    Status st = copy(src, staged);
    if (st.ok()) st = copy(staged, dst);
    device_free(dst.device.index, tmp);  // stream-ordered: safe right after queuing
    return st;
  }
  if (src.dtype == dst.dtype && src.is_contiguous() && dst.is_contiguous()) {
    // Disjoint here (overlap was handled above).
    const size_t bytes = static_cast<size_t>(n) * dtype_size(dst.dtype);
    return cuda_status(cudaMemcpyAsync(dst.data, src.data, bytes, cudaMemcpyDeviceToDevice, ctx->stream),
                       "copy: cudaMemcpyAsync");
  }

  const Strided<2> s = detail::elementwise_strided(dst, src);
  const bool transposing = is_transposing(s);
  CUDNN_RNN_RETURN_IF_ERROR(detail::dispatch_all(src.dtype, "copy", [&](auto src_tag) -> Status {
    using From = typename decltype(src_tag)::type;
    return detail::dispatch_all(dst.dtype, "copy", [&](auto dst_tag) -> Status {
      using To = typename decltype(dst_tag)::type;
      if (transposing) {
        const int d0 = s.ndim - 2, d1 = s.ndim - 1;
        // The outer dims (all but the two innermost) as their own indexing.
        Strided<2> outer;
        outer.ndim = 1;
        outer.numel = 1;
        outer.shape[0] = 1;
        if (d0 > 0) {
          outer.ndim = d0;
          for (int d = 0; d < d0; ++d) {
            outer.shape[d] = s.shape[d];
            outer.numel *= s.shape[d];
            outer.strides[0][d] = s.strides[0][d];
            outer.strides[1][d] = s.strides[1][d];
          }
        }
        const int64_t tiles = outer.numel * ((s.shape[d0] + kTile - 1) / kTile) * ((s.shape[d1] + kTile - 1) / kTile);
        const unsigned grid = static_cast<unsigned>(tiles < detail::kMaxBlocks ? tiles : detail::kMaxBlocks);
        copy_transpose_kernel<From, To><<<grid, dim3(kTile, kTileRows), 0, ctx->stream>>>(
            outer, s.shape[d0], s.shape[d1], s.strides[0][d0], s.strides[0][d1], s.strides[1][d0], s.strides[1][d1],
            src.ptr<From>(), dst.ptr<To>());
        return Status::Ok();
      }
      copy_kernel<From, To><<<detail::grid_for(s.numel), detail::kThreads, 0, ctx->stream>>>(s, src.ptr<From>(),
                                                                                             dst.ptr<To>());
      return Status::Ok();
    });
  }));
  return check_launch(transposing ? "copy (transpose)" : "copy");
}

Status fill(const View& dst, double value) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("fill", "dst", dst));
  if (dst.numel() == 0) return Status::Ok();
  DeviceContext* ctx;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(dst.device.index, &ctx));
  const Strided<1> s = detail::elementwise_strided(dst);
  CUDNN_RNN_RETURN_IF_ERROR(detail::dispatch_all(dst.dtype, "fill", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    const T v = convert<T>(value);
    bool zero_bits = v == T(0);
    if constexpr (std::is_floating_point_v<T>) zero_bits = zero_bits && !std::signbit(v);  // not -0.0
    if (s.contiguous() && zero_bits) {
      return cuda_status(cudaMemsetAsync(dst.data, 0, static_cast<size_t>(s.numel) * sizeof(T), ctx->stream),
                         "fill: cudaMemsetAsync");
    }
    fill_kernel<T><<<detail::grid_for(s.numel), detail::kThreads, 0, ctx->stream>>>(s, v, dst.ptr<T>());
    return Status::Ok();
  }));
  return check_launch("fill");
}

Status arange(const View& dst, double start, double step) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("arange", "dst", dst));
  if (dst.numel() == 0) return Status::Ok();
  DeviceContext* ctx;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(dst.device.index, &ctx));
  // keep_order: element i of the logical (row-major) order gets value i,
  // even when dst is not contiguous.
  const int64_t* const strides[1] = {dst.strides};
  const Strided<1> s = detail::make_strided<1>(dst.ndim, dst.shape, strides, 0, /*keep_order=*/true);
  CUDNN_RNN_RETURN_IF_ERROR(detail::dispatch_all(dst.dtype, "arange", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    arange_kernel<T><<<detail::grid_for(s.numel), detail::kThreads, 0, ctx->stream>>>(s, start, step, dst.ptr<T>());
    return Status::Ok();
  }));
  return check_launch("arange");
}

}  // namespace cuda
}  // namespace cudnn_rnn
