// Softmax and log-softmax over one dim, and their backward:
//   softmax:      y = exp(x - max) / sum(exp(x - max)),   gi = y * (go - sum(go * y))
//   log-softmax:  y = (x - max) - log(sum(exp(x - max))), gi = go - exp(y) * sum(go)
// A NaN in a slice makes the whole slice NaN, as in PyTorch. Sums are
// accumulated in double.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "kernels.h"
#include "kernels_accumulate.h"
#include "kernels_internal.h"
#include "kernels_loop.h"
#include "vmath.h"

namespace cudnn_rnn {
namespace cpu {
namespace {

using detail::invalid;
using detail::StridedLoop;

// Neighbouring slices handled together when the softmax dim is not the
// innermost one in memory (vectorised across the slices).
constexpr int64_t kColumnBlock = 64;

// The 1-d slices along `dim` of N views of one shape: a loop over all the
// other dims (`outer`), the slice length, and each view's stride along dim.
// A 0-d view is a single slice of length 1.
template <int N>
using Slices = kernels::Slices<StridedLoop<N>, N>;

template <int N>
Slices<N> make_slices(const View* const (&views)[N], int dim) {
  return kernels::make_slices<StridedLoop<N>>(
      views, dim, [](int ndim, const int64_t* shape, const int64_t* const (&strides)[N]) {
        return detail::make_loop<N>(ndim, shape, strides);
      });
}

// lane(offsets) once per slice when a slice's elements lie closer together
// than neighbouring slices do; otherwise columns(offsets, nb, strides) for
// blocks of nb <= kColumnBlock neighbouring slices `strides` apart.
template <int N, typename Lane, typename Columns>
void for_each_slice(const Slices<N>& s, Lane&& lane, Columns&& columns) {
  if (s.len == 0) return;
  detail::for_each_row(s.outer, [&](const int64_t* off, int64_t n, const int64_t* st) {
    int64_t at[N];
    if (n > 1 && std::llabs(s.step[0]) > std::llabs(st[0])) {
      for (int64_t j0 = 0; j0 < n; j0 += kColumnBlock) {
        for (int k = 0; k < N; ++k) at[k] = off[k] + j0 * st[k];
        columns(static_cast<const int64_t*>(at), std::min(kColumnBlock, n - j0), st);
      }
    } else {
      for (int64_t j = 0; j < n; ++j) {
        for (int k = 0; k < N; ++k) at[k] = off[k] + j * st[k];
        lane(static_cast<const int64_t*>(at));
      }
    }
  });
}

template <typename T>
void gather(const T* src, int64_t step, int64_t len, T* dst) {
  for (int64_t i = 0; i < len; ++i) dst[i] = src[i * step];
}
template <typename T>
void scatter(const T* src, int64_t len, T* dst, int64_t step) {
  for (int64_t i = 0; i < len; ++i) dst[i * step] = src[i];
}

// ---------------------------------------------------------------------------
// Forward.

// One contiguous slice; y may be x.
template <typename T>
void softmax_contiguous(const T* x, T* y, int64_t len, bool log, T* scratch) {
  if (log && x == y) {  // the second pass re-reads x
    std::copy(x, x + len, scratch);
    x = scratch;
  }
  const T m = detail::max_row(x, len);
  for (int64_t i = 0; i < len; ++i) y[i] = x[i] - m;
  vmath::exp(y, y, len);
  const double s = detail::sum_row<double>(y, len, 1);
  if (log) {
    const T log_sum = static_cast<T>(std::log(s));
    for (int64_t i = 0; i < len; ++i) y[i] = (x[i] - m) - log_sum;
  } else {
    const double inv = 1.0 / s;
    for (int64_t i = 0; i < len; ++i) y[i] = static_cast<T>(static_cast<double>(y[i]) * inv);
  }
}

// nb neighbouring slices (element r of slice j at x[r * step_x + j * st_x]).
template <typename T>
void softmax_columns(const T* x, int64_t step_x, int64_t st_x, T* y, int64_t step_y, int64_t st_y,
                     int64_t len, int64_t nb, bool log) {
  T m[kColumnBlock], t[kColumnBlock];
  double s[kColumnBlock] = {};
  for (int64_t j = 0; j < nb; ++j) m[j] = x[j * st_x];
  for (int64_t r = 1; r < len; ++r) {
    const T* row = x + r * step_x;
    for (int64_t j = 0; j < nb; ++j) m[j] = row[j * st_x] > m[j] ? row[j * st_x] : m[j];
  }
  for (int64_t r = 0; r < len; ++r) {
    const T* row = x + r * step_x;
    for (int64_t j = 0; j < nb; ++j) t[j] = row[j * st_x] - m[j];
    vmath::exp(t, t, nb);
    for (int64_t j = 0; j < nb; ++j) s[j] += t[j];
    if (!log) {
      T* out = y + r * step_y;
      for (int64_t j = 0; j < nb; ++j) out[j * st_y] = t[j];
    }
  }
  for (int64_t j = 0; j < nb; ++j) s[j] = log ? std::log(s[j]) : 1.0 / s[j];
  for (int64_t r = 0; r < len; ++r) {
    const T* row = x + r * step_x;
    T* out = y + r * step_y;
    if (log) {
      for (int64_t j = 0; j < nb; ++j) out[j * st_y] = (row[j * st_x] - m[j]) - static_cast<T>(s[j]);
    } else {
      for (int64_t j = 0; j < nb; ++j) {
        out[j * st_y] = static_cast<T>(static_cast<double>(out[j * st_y]) * s[j]);
      }
    }
  }
}

template <typename T>
void softmax_typed(const View& in, int dim, bool log, const View& out) {
  const View* const views[2] = {&in, &out};
  const Slices<2> sl = make_slices<2>(views, dim);
  const int64_t len = sl.len;
  const bool strided = sl.step[0] != 1 || sl.step[1] != 1;
  std::vector<T> buffer(static_cast<size_t>(len) * (strided ? 3 : 1));  // may throw bad_alloc
  T* scratch = buffer.data();
  const T* x = in.ptr<T>();
  T* y = out.ptr<T>();
  for_each_slice(
      sl,
      [&](const int64_t* at) {
        if (!strided) {
          softmax_contiguous(x + at[0], y + at[1], len, log, scratch);
          return;
        }
        T* xs = scratch + len;
        T* ys = scratch + 2 * len;
        gather(x + at[0], sl.step[0], len, xs);
        softmax_contiguous(xs, ys, len, log, scratch);
        scatter(ys, len, y + at[1], sl.step[1]);
      },
      [&](const int64_t* at, int64_t nb, const int64_t* st) {
        softmax_columns(x + at[0], sl.step[0], st[0], y + at[1], sl.step[1], st[1], len, nb, log);
      });
}

// ---------------------------------------------------------------------------
// Backward.

// One contiguous slice; gi may be go.
template <typename T>
void softmax_backward_contiguous(const T* go, const T* y, T* gi, int64_t len, bool log, T* scratch) {
  if (log) {
    const T s = static_cast<T>(detail::sum_row<double>(go, len, 1));
    vmath::exp(y, scratch, len);
    for (int64_t i = 0; i < len; ++i) gi[i] = go[i] - scratch[i] * s;
  } else {
    const T dot = static_cast<T>(detail::dot_row<double>(go, y, len));
    for (int64_t i = 0; i < len; ++i) gi[i] = y[i] * (go[i] - dot);
  }
}

template <typename T>
void softmax_backward_columns(const T* go, const T* y, T* gi, const int64_t* step,
                              const int64_t* st, int64_t len, int64_t nb, bool log) {
  double acc[kColumnBlock] = {};
  for (int64_t r = 0; r < len; ++r) {
    const T* g = go + r * step[0];
    const T* o = y + r * step[1];
    if (log) {
      for (int64_t j = 0; j < nb; ++j) acc[j] += g[j * st[0]];
    } else {
      for (int64_t j = 0; j < nb; ++j) acc[j] += static_cast<double>(g[j * st[0]]) * o[j * st[1]];
    }
  }
  T a[kColumnBlock], t[kColumnBlock];
  for (int64_t j = 0; j < nb; ++j) a[j] = static_cast<T>(acc[j]);
  for (int64_t r = 0; r < len; ++r) {
    const T* g = go + r * step[0];
    const T* o = y + r * step[1];
    T* d = gi + r * step[2];
    if (log) {
      for (int64_t j = 0; j < nb; ++j) t[j] = o[j * st[1]];
      vmath::exp(t, t, nb);
      for (int64_t j = 0; j < nb; ++j) d[j * st[2]] = g[j * st[0]] - t[j] * a[j];
    } else {
      for (int64_t j = 0; j < nb; ++j) d[j * st[2]] = o[j * st[1]] * (g[j * st[0]] - a[j]);
    }
  }
}

template <typename T>
void softmax_backward_typed(const View& grad_out, const View& out, int dim, bool log,
                            const View& grad_in) {
  const View* const views[3] = {&grad_out, &out, &grad_in};
  const Slices<3> sl = make_slices<3>(views, dim);
  const int64_t len = sl.len;
  const bool strided = sl.step[0] != 1 || sl.step[1] != 1 || sl.step[2] != 1;
  std::vector<T> buffer(static_cast<size_t>(len) * (strided ? 4 : 1));  // may throw bad_alloc
  T* scratch = buffer.data();
  const T* go = grad_out.ptr<T>();
  const T* y = out.ptr<T>();
  T* gi = grad_in.ptr<T>();
  for_each_slice(
      sl,
      [&](const int64_t* at) {
        if (!strided) {
          softmax_backward_contiguous(go + at[0], y + at[1], gi + at[2], len, log, scratch);
          return;
        }
        T* gs = scratch + len;
        T* ys = scratch + 2 * len;
        T* ds = scratch + 3 * len;
        gather(go + at[0], sl.step[0], len, gs);
        gather(y + at[1], sl.step[1], len, ys);
        softmax_backward_contiguous(gs, ys, ds, len, log, scratch);
        scatter(ds, len, gi + at[2], sl.step[2]);
      },
      [&](const int64_t* at, int64_t nb, const int64_t* st) {
        softmax_backward_columns(go + at[0], y + at[1], gi + at[2], sl.step, st, len, nb, log);
      });
}

}  // namespace

Status softmax(const View& in, int dim, bool log, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(kernels::check_softmax(in, dim, out));
  if (in.numel() == 0) return Status::Ok();
  try {
    return detail::dispatch_float(in.dtype, "softmax", [&](auto tag) -> Status {
      softmax_typed<typename decltype(tag)::type>(in, dim, log, out);
      return Status::Ok();
    });
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::OutOfMemory, "softmax: out of memory for a scratch buffer");
  }
}

Status softmax_backward(const View& grad_out, const View& out, int dim, bool log,
                        const View& grad_in) {
  CUDNN_RNN_RETURN_IF_ERROR(kernels::check_softmax_backward(grad_out, out, dim, grad_in));
  if (grad_out.numel() == 0) return Status::Ok();
  try {
    return detail::dispatch_float(grad_out.dtype, "softmax_backward", [&](auto tag) -> Status {
      softmax_backward_typed<typename decltype(tag)::type>(grad_out, out, dim, log, grad_in);
      return Status::Ok();
    });
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::OutOfMemory, "softmax_backward: out of memory for a scratch buffer");
  }
}

}  // namespace cpu
}  // namespace cudnn_rnn
