// Accurate, vectorisable row sums (and the row max) shared by sum and softmax. Float32 is
// accumulated in double and float64 in 8 interleaved partial sums that are
// combined block by block, so the error grows like a pairwise sum's rather
// than a running sum's, close to PyTorch's cascade sum.
#pragma once
#include <cstdint>
#include <type_traits>

namespace cudnn_rnn {
namespace cpu {
namespace detail {

// The accumulator of a sum of T: int64 for integers (exact, wrapped on
// output), double for floating point.
template <typename T>
using SumAcc = std::conditional_t<std::is_integral_v<T>, int64_t, double>;

// Elements per block whose eight partial sums are folded into the total.
constexpr int64_t kSumBlock = 2048;

// Sum of p[0], p[s], ..., p[(n-1)*s]. The fixed-width inner loop over eight
// independent partial sums is what lets GCC vectorise it without
// reassociating (which it may not do for floating point).
template <typename Acc, typename T>
Acc sum_row(const T* p, int64_t n, int64_t s) {
  Acc total = 0;
  for (int64_t b = 0; b < n; b += kSumBlock) {
    const int64_t m = n - b < kSumBlock ? n - b : kSumBlock;
    const T* q = p + b * s;
    Acc lane[8] = {};
    int64_t i = 0;
    if (s == 1) {
      for (; i + 8 <= m; i += 8) {
        for (int l = 0; l < 8; ++l) lane[l] += static_cast<Acc>(q[i + l]);
      }
    } else {
      for (; i + 8 <= m; i += 8) {
        for (int l = 0; l < 8; ++l) lane[l] += static_cast<Acc>(q[(i + l) * s]);
      }
    }
    for (; i < m; ++i) lane[i & 7] += static_cast<Acc>(q[i * s]);
    total += ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
  }
  return total;
}

// Sum of a[i] * b[i] over n contiguous elements, accumulated like sum_row.
template <typename Acc, typename T>
Acc dot_row(const T* a, const T* b, int64_t n) {
  Acc total = 0;
  for (int64_t base = 0; base < n; base += kSumBlock) {
    const int64_t m = n - base < kSumBlock ? n - base : kSumBlock;
    const T* p = a + base;
    const T* q = b + base;
    Acc lane[8] = {};
    int64_t i = 0;
    for (; i + 8 <= m; i += 8) {
      for (int l = 0; l < 8; ++l) lane[l] += static_cast<Acc>(p[i + l]) * static_cast<Acc>(q[i + l]);
    }
    for (; i < m; ++i) lane[i & 7] += static_cast<Acc>(p[i]) * static_cast<Acc>(q[i]);
    total += ((lane[0] + lane[4]) + (lane[1] + lane[5])) + ((lane[2] + lane[6]) + (lane[3] + lane[7]));
  }
  return total;
}

// Largest of n >= 1 contiguous values for a max-subtraction: NaNs after the
// first element are skipped, a leading NaN gives NaN. Callers do not need more:
// a NaN anywhere in a softmax row reaches every output through the sum.
// `v > m ? v : m` is exactly what maxps computes, so the eight lanes vectorise.
template <typename T>
T max_row(const T* p, int64_t n) {
  T lane[8];
  for (int l = 0; l < 8; ++l) lane[l] = p[0];
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int l = 0; l < 8; ++l) lane[l] = p[i + l] > lane[l] ? p[i + l] : lane[l];
  }
  for (; i < n; ++i) lane[0] = p[i] > lane[0] ? p[i] : lane[0];
  T m = lane[0];
  for (int l = 1; l < 8; ++l) m = lane[l] > m ? lane[l] : m;
  return m;
}

}  // namespace detail
}  // namespace cpu
}  // namespace cudnn_rnn
