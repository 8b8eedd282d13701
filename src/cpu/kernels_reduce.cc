// Reductions: sum over any set of dims, and max (values + first argmax) over one dim.
#include <algorithm>
#include <cstdlib>
#include <string>

#include "kernels.h"
#include "kernels_accumulate.h"
#include "kernels_internal.h"
#include "kernels_loop.h"

namespace cudnn_rnn {
namespace cpu {
namespace {

using detail::DimList;
using detail::invalid;
using kernels::check_kept_shape;
using detail::StridedLoop;

// Output elements finished per pass when the innermost dim is kept: the
// partial sums of a block stay in L1 while every reduced row streams past.
constexpr int64_t kColumnBlock = 256;
// Reduced rows added into a block's partial sums before they are folded
// into its totals (pairwise-like error growth for long outer reductions).
constexpr int64_t kRowsPerFold = 64;

// Sum of `in` into `out` over the loop {in strides, out strides} whose dims
// with out stride 0 are the reduced ones. Every output element is written
// exactly once, with its complete sum.
template <typename T, typename U>
void sum_loop(const StridedLoop<2>& loop, const T* in, U* out) {
  using Acc = detail::SumAcc<T>;
  const int inner = loop.ndim - 1;
  const bool inner_reduced = loop.strides[1][inner] == 0;
  DimList<2> kept;     // walked outside
  DimList<2> reduced;  // walked inside, for each kept index
  for (int d = 0; d < inner; ++d) {
    if (loop.strides[1][d] == 0) reduced.add(loop, d); else kept.add(loop, d);
  }
  const int64_t n = loop.shape[inner];
  const int64_t in_step = loop.strides[0][inner];

  if (inner_reduced) {
    // Reducing the innermost (usually contiguous) dim: one row sum per row.
    detail::for_each_index(kept, [&](const int64_t* k_off) {
      Acc acc = 0;
      detail::for_each_index(reduced, [&](const int64_t* r_off) {
        acc += detail::sum_row<Acc>(in + k_off[0] + r_off[0], n, in_step);
      });
      out[k_off[1]] = detail::convert<U>(acc);
    });
    return;
  }

  // The innermost dim is kept: add whole reduced rows into a block of
  // per-column partial sums (vectorised across the columns).
  const int64_t out_step = loop.strides[1][inner];
  detail::for_each_index(kept, [&](const int64_t* k_off) {
    for (int64_t j0 = 0; j0 < n; j0 += kColumnBlock) {
      const int64_t nb = std::min(kColumnBlock, n - j0);
      Acc total[kColumnBlock] = {};
      Acc part[kColumnBlock] = {};
      int64_t rows = 0;
      const T* base = in + k_off[0] + j0 * in_step;
      detail::for_each_index(reduced, [&](const int64_t* r_off) {
        const T* row = base + r_off[0];
        if (in_step == 1) {
          for (int64_t j = 0; j < nb; ++j) part[j] += static_cast<Acc>(row[j]);
        } else {
          for (int64_t j = 0; j < nb; ++j) part[j] += static_cast<Acc>(row[j * in_step]);
        }
        if (++rows == kRowsPerFold) {
          for (int64_t j = 0; j < nb; ++j) total[j] += part[j], part[j] = 0;
          rows = 0;
        }
      });
      U* o = out + k_off[1] + j0 * out_step;
      for (int64_t j = 0; j < nb; ++j) o[j * out_step] = detail::convert<U>(total[j] + part[j]);
    }
  });
}

// First index of the maximum along a run of `len` values `step` apart; a NaN
// is the maximum and its first occurrence wins, as in PyTorch's CPU max.
template <typename T>
inline bool replaces_max(T v, T best) {
  return !(v <= best) && best == best;
}

template <typename T>
void max_loop(const StridedLoop<3>& loop, const T* in, int64_t len, int64_t step, T* values,
              int32_t* indices) {
  detail::for_each_row(loop, [&](const int64_t* off, int64_t n, const int64_t* st) {
    const T* x = in + off[0];
    T* v = values + off[1];
    int32_t* ix = indices ? indices + off[2] : nullptr;
    if (n == 1 || std::llabs(step) <= std::llabs(st[0])) {
      // The reduced dim is the inner one in memory: scan each run.
      for (int64_t j = 0; j < n; ++j) {
        const T* p = x + j * st[0];
        T best = p[0];
        int64_t at = 0;
        for (int64_t r = 1; r < len; ++r) {
          const T c = p[r * step];
          if (replaces_max(c, best)) best = c, at = r;
        }
        v[j * st[1]] = best;
        if (ix) ix[j * st[2]] = static_cast<int32_t>(at);
      }
      return;
    }
    // The reduced dim is outer: running maxima for a block of columns,
    // updated one reduced row at a time (vectorised across the columns).
    for (int64_t j0 = 0; j0 < n; j0 += kColumnBlock) {
      const int64_t nb = std::min(kColumnBlock, n - j0);
      const T* p = x + j0 * st[0];
      T best[kColumnBlock];
      int32_t at[kColumnBlock];
      for (int64_t j = 0; j < nb; ++j) best[j] = p[j * st[0]], at[j] = 0;
      for (int64_t r = 1; r < len; ++r) {
        const T* row = p + r * step;
        const int32_t ri = static_cast<int32_t>(r);
        for (int64_t j = 0; j < nb; ++j) {
          const T c = row[j * st[0]];
          const bool take = replaces_max(c, best[j]);
          best[j] = take ? c : best[j];
          at[j] = take ? ri : at[j];
        }
      }
      for (int64_t j = 0; j < nb; ++j) {
        v[(j0 + j) * st[1]] = best[j];
        if (ix) ix[(j0 + j) * st[2]] = at[j];
      }
    }
  });
}

}  // namespace

Status sum(const View& in, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("sum", "input", in));
  CUDNN_RNN_RETURN_IF_ERROR(detail::check_view("sum", "output", out));
  CUDNN_RNN_RETURN_IF_ERROR(check_kept_shape("sum", "output", out, in));
  // A dim is reduced when out does not advance along it: size 1 in out, or
  // (as lib/ passes it) in's size with stride 0.
  int64_t out_strides[kMaxDims] = {};
  int64_t out_shape[kMaxDims] = {};
  for (int d = 0; d < in.ndim; ++d) {
    const bool reduced = out.shape[d] != in.shape[d] || out.strides[d] == 0;
    out_strides[d] = reduced ? 0 : out.strides[d];
    out_shape[d] = reduced ? 1 : in.shape[d];
  }

  if (in.numel() == 0) {  // every output element is an empty sum
    View zeros = out;
    for (int d = 0; d < in.ndim; ++d) zeros.shape[d] = out_shape[d], zeros.strides[d] = out_strides[d];
    return fill(zeros, 0.0);
  }
  return detail::dispatch_all(in.dtype, "sum", [&](auto in_tag) -> Status {
    using T = typename decltype(in_tag)::type;
    return detail::dispatch_all(out.dtype, "sum", [&](auto out_tag) -> Status {
      using U = typename decltype(out_tag)::type;
      const int64_t* const strides[2] = {in.strides, out_strides};
      const StridedLoop<2> loop = detail::make_loop<2>(in.ndim, in.shape, strides);
      sum_loop(loop, in.ptr<T>(), out.ptr<U>());
      return Status::Ok();
    });
  });
}

Status max_dim(const View& in, int dim, const View& values, const View* indices) {
  int64_t len = 1, step = 0;
  bool empty = false;
  CUDNN_RNN_RETURN_IF_ERROR(kernels::check_max_dim(in, dim, values, indices, &len, &step, &empty));
  if (empty) return Status::Ok();

  // The loop over every output element: in's shape with `dim` dropped.
  int64_t shape[kMaxDims] = {};
  for (int d = 0; d < in.ndim; ++d) shape[d] = d == dim ? 1 : in.shape[d];
  const int64_t no_strides[kMaxDims] = {};
  const int64_t* const strides[3] = {in.strides, values.strides,
                                     indices ? indices->strides : no_strides};
  const StridedLoop<3> loop = detail::make_loop<3>(in.ndim, shape, strides);
  int32_t* index_data = indices ? indices->ptr<int32_t>() : nullptr;

  return detail::dispatch_all(in.dtype, "max_dim", [&](auto tag) -> Status {
    using T = typename decltype(tag)::type;
    max_loop(loop, in.ptr<T>(), len, step, values.ptr<T>(), index_data);
    return Status::Ok();
  });
}

}  // namespace cpu
}  // namespace cudnn_rnn
