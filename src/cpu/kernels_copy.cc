// Data movement and creation: strided copy with dtype conversion (also how
// lib/ writes into narrows of a bigger tensor for cat/stack), fill and arange.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "kernels.h"
#include "kernels_internal.h"
#include "kernels_loop.h"

namespace cudnn_rnn {
namespace cpu {
namespace {

// Tile edge for transposing copies: 32 x 32 elements keep the source's and the
// destination's cache lines resident while a tile is copied.
constexpr int64_t kTile = 32;

// Is the loop {dst, src} a transpose of its two innermost dims: dst walks the
// innermost dim with unit stride while src is closer-packed along the other?
// Element by element that reads src a whole stride apart (a cache miss each).
bool is_transposing(const detail::StridedLoop<2>& loop) {
  if (loop.ndim < 2) return false;
  const int d0 = loop.ndim - 2, d1 = loop.ndim - 1;
  return loop.strides[0][d1] == 1 && std::llabs(loop.strides[1][d0]) < std::llabs(loop.strides[1][d1]) &&
         std::llabs(loop.strides[1][d1]) >= 8 && loop.shape[d0] >= 8 && loop.shape[d1] >= 8;
}

template <typename From, typename To>
void copy_tiled(const detail::StridedLoop<2>& loop, const From* src, To* dst) {
  const int d0 = loop.ndim - 2, d1 = loop.ndim - 1;
  detail::DimList<2> outer;
  for (int d = 0; d < d0; ++d) outer.add(loop, d);
  const int64_t n0 = loop.shape[d0], n1 = loop.shape[d1];
  const int64_t dst0 = loop.strides[0][d0], dst1 = loop.strides[0][d1];
  const int64_t src0 = loop.strides[1][d0], src1 = loop.strides[1][d1];
  detail::for_each_index(outer, [&](const int64_t* off) {
    To* o = dst + off[0];
    const From* x = src + off[1];
    for (int64_t i0 = 0; i0 < n0; i0 += kTile) {
      const int64_t i1 = std::min(n0, i0 + kTile);
      for (int64_t j0 = 0; j0 < n1; j0 += kTile) {
        const int64_t j1 = std::min(n1, j0 + kTile);
        for (int64_t i = i0; i < i1; ++i) {
          for (int64_t j = j0; j < j1; ++j) o[i * dst0 + j * dst1] = detail::convert<To>(x[i * src0 + j * src1]);
        }
      }
    }
  });
}

}  // namespace

Status copy(const View& src, const View& dst) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("copy", "src", src));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("copy", "dst", dst));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_same_shape("copy", "dst", dst, src));
  const int64_t n = dst.numel();
  if (n == 0) return Status::Ok();
  if (src.dtype == dst.dtype && src.is_contiguous() && dst.is_contiguous()) {
    if (src.data != dst.data) {
      std::memmove(dst.data, src.data, static_cast<size_t>(n) * dtype_size(dst.dtype));
    }
    return Status::Ok();
  }
  const detail::StridedLoop<2> loop = detail::elementwise_loop(dst, src);
  return detail::dispatch_all(src.dtype, "copy", [&](auto src_tag) -> Status {
    using From = typename decltype(src_tag)::type;
    return detail::dispatch_all(dst.dtype, "copy", [&](auto dst_tag) -> Status {
      using To = typename decltype(dst_tag)::type;
      if (is_transposing(loop)) {
        copy_tiled(loop, src.ptr<From>(), dst.ptr<To>());
        return Status::Ok();
      }
      detail::map_unary(loop, src.ptr<From>(), dst.ptr<To>(),
                        [](From x) { return detail::convert<To>(x); });
      return Status::Ok();
    });
  });
}

Status fill(const View& dst, double value) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("fill", "dst", dst));
  const int64_t* const strides[1] = {dst.strides};
  const detail::StridedLoop<1> loop = detail::make_loop<1>(dst.ndim, dst.shape, strides);
  return detail::dispatch_all(dst.dtype, "fill", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    const T v = detail::convert<T>(value);
    T* base = dst.ptr<T>();
    detail::for_each_row(loop, [&](const int64_t* off, int64_t n, const int64_t* st) {
      T* o = base + off[0];
      if (st[0] == 1) {
        std::fill(o, o + n, v);
      } else {
        for (int64_t i = 0; i < n; ++i) o[i * st[0]] = v;
      }
    });
    return Status::Ok();
  });
}

Status arange(const View& dst, double start, double step) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("arange", "dst", dst));
  // Element i in row-major order gets start + i * step, computed in double
  // like PyTorch's CPU arange (exact for integers below 2^53), then converted.
  // keep_order walks dst in that logical order even if it is not contiguous.
  const int64_t* const strides[1] = {dst.strides};
  const detail::StridedLoop<1> loop =
      detail::make_loop<1>(dst.ndim, dst.shape, strides, 0, /*keep_order=*/true);
  return detail::dispatch_all(dst.dtype, "arange", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    T* base = dst.ptr<T>();
    int64_t index = 0;
    detail::for_each_row(loop, [&](const int64_t* off, int64_t n, const int64_t* st) {
      T* o = base + off[0];
      for (int64_t i = 0; i < n; ++i) {
        o[i * st[0]] = detail::convert<T>(start + static_cast<double>(index + i) * step);
      }
      index += n;
    });
    return Status::Ok();
  });
}

}  // namespace cpu
}  // namespace cudnn_rnn
