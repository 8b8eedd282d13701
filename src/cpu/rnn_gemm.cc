// The whole-sequence products of the CPU RNN (input projections, dX, dW) go
// to the BLAS; this wrapper handles the degenerate shapes BLAS libraries
// disagree on (an empty batch, T = 1 leaving no in-sequence previous state).
#include <algorithm>

#include "blas.h"
#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

template <typename S>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, S alpha, const S* a,
          int64_t lda, const S* b, int64_t ldb, S beta, S* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) {
      S* row = c + i * ldc;
      if (beta == S(0)) std::fill(row, row + n, S(0));
      else for (int64_t j = 0; j < n; ++j) row[j] *= beta;
    }
    return;
  }
  blas::gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

template void gemm<float>(bool, bool, int64_t, int64_t, int64_t, float, const float*, int64_t,
                          const float*, int64_t, float, float*, int64_t);
template void gemm<double>(bool, bool, int64_t, int64_t, int64_t, double, const double*, int64_t,
                           const double*, int64_t, double, double*, int64_t);

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
