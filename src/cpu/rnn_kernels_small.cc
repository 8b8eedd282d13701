// Per-step products for a tiny batch (N <= 4; the latency case is N = 1,
// H = 64): a BLAS call's fixed cost, which includes packing all of W_hh,
// exceeds the arithmetic there, and packing W_hh ourselves would too. These
// kernels read W_hh where it lies: forward (h W_hh^T) as dot products of
// contiguous rows, eight outputs at a time reduced together; backward (dG W_hh)
// as a combination of W_hh's rows.
//
// The project is built for baseline x86-64, so the fast versions carry their
// own target attribute and are chosen at run time (cpu_isa()).
#include <algorithm>

#include "rnn_internal.h"

#if defined(__GNUC__) && defined(__x86_64__)
// GCC 12's AVX-512 casts/extracts trip a false -Wmaybe-uninitialized inside
// the header (GCC bug 105593, fixed in 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

namespace {

// ---- Portable bodies (the tails of the x86 kernels, and other CPUs) --------

template <typename S>
CUDNN_RNN_INLINE void nt_body(int64_t m, int64_t n, int64_t k, const S* a, int64_t lda,
                              const S* b, int64_t ldb, S* c, int64_t ldc) {
  for (int64_t j = 0; j < n; ++j) {
    const S* bj = b + j * ldb;
    for (int64_t i = 0; i < m; ++i) {
      const S* ai = a + i * lda;
      S s0 = 0, s1 = 0, s2 = 0, s3 = 0;  // four chains to hide the add latency
      int64_t p = 0;
      for (; p + 4 <= k; p += 4) {
        s0 += ai[p] * bj[p];
        s1 += ai[p + 1] * bj[p + 1];
        s2 += ai[p + 2] * bj[p + 2];
        s3 += ai[p + 3] * bj[p + 3];
      }
      for (; p < k; ++p) s0 += ai[p] * bj[p];
      c[i * ldc + j] = (s0 + s1) + (s2 + s3);
    }
  }
}

// Row i of C is a combination of B's rows: vectorises along n.
template <typename S>
CUDNN_RNN_INLINE void nn_body(int64_t m, int64_t n, int64_t k, const S* a, int64_t lda,
                              const S* b, int64_t ldb, S* c, int64_t ldc) {
  for (int64_t i = 0; i < m; ++i) {
    S* ci = c + i * ldc;
    std::fill(ci, ci + n, S(0));
    for (int64_t p = 0; p < k; ++p) {
      const S s = a[i * lda + p];
      const S* bp = b + p * ldb;
      for (int64_t j = 0; j < n; ++j) ci[j] += s * bp[j];
    }
  }
}

#if CUDNN_RNN_X86

// Eight dot products at a time (eight independent FMA chains keep both FMA
// pipes busy), reduced together with hadd so the reduction costs little.
CUDNN_RNN_TARGET_AVX2 void nt_avx2(int64_t m, int64_t n, int64_t k, const float* a,
                                                 int64_t lda, const float* b, int64_t ldb, float* c,
                                                 int64_t ldc) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const float* b0 = b + j * ldb;
    for (int64_t i = 0; i < m; ++i) {
      const float* ai = a + i * lda;
      __m256 s[8];
      for (int r = 0; r < 8; ++r) s[r] = _mm256_setzero_ps();
      int64_t p = 0;
      for (; p + 8 <= k; p += 8) {
        const __m256 x = _mm256_loadu_ps(ai + p);
        for (int r = 0; r < 8; ++r)
          s[r] = _mm256_fmadd_ps(x, _mm256_loadu_ps(b0 + r * ldb + p), s[r]);
      }
      const __m256 h01 = _mm256_hadd_ps(s[0], s[1]), h23 = _mm256_hadd_ps(s[2], s[3]);
      const __m256 h45 = _mm256_hadd_ps(s[4], s[5]), h67 = _mm256_hadd_ps(s[6], s[7]);
      const __m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);
      const __m256 t = _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20),
                                     _mm256_permute2f128_ps(q0, q1, 0x31));
      alignas(32) float out[8];
      _mm256_store_ps(out, t);
      for (; p < k; ++p) {
        for (int r = 0; r < 8; ++r) out[r] += ai[p] * b0[r * ldb + p];
      }
      float* ci = c + i * ldc + j;
      for (int r = 0; r < 8; ++r) ci[r] = out[r];
    }
  }
  if (j < n) nt_body(m, n - j, k, a, lda, b + j * ldb, ldb, c + j, ldc);
}

CUDNN_RNN_TARGET_AVX2 void nt_avx2(int64_t m, int64_t n, int64_t k, const double* a,
                                                 int64_t lda, const double* b, int64_t ldb,
                                                 double* c, int64_t ldc) {
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const double* b0 = b + j * ldb;
    for (int64_t i = 0; i < m; ++i) {
      const double* ai = a + i * lda;
      __m256d s[8];
      for (int r = 0; r < 8; ++r) s[r] = _mm256_setzero_pd();
      int64_t p = 0;
      for (; p + 4 <= k; p += 4) {
        const __m256d x = _mm256_loadu_pd(ai + p);
        for (int r = 0; r < 8; ++r)
          s[r] = _mm256_fmadd_pd(x, _mm256_loadu_pd(b0 + r * ldb + p), s[r]);
      }
      alignas(32) double out[8];
      for (int r = 0; r < 8; r += 4) {
        const __m256d h01 = _mm256_hadd_pd(s[r], s[r + 1]);
        const __m256d h23 = _mm256_hadd_pd(s[r + 2], s[r + 3]);
        const __m256d t = _mm256_add_pd(_mm256_permute2f128_pd(h01, h23, 0x20),
                                        _mm256_permute2f128_pd(h01, h23, 0x31));
        _mm256_store_pd(out + r, t);
      }
      for (; p < k; ++p) {
        for (int r = 0; r < 8; ++r) out[r] += ai[p] * b0[r * ldb + p];
      }
      double* ci = c + i * ldc + j;
      for (int r = 0; r < 8; ++r) ci[r] = out[r];
    }
  }
  if (j < n) nt_body(m, n - j, k, a, lda, b + j * ldb, ldb, c + j, ldc);
}

// The same for AVX-512: sixteen lanes halve the FMA chains of the latency
// case (k = 64 is four loads per row), and masked loads take the k tail.
// (Blocking two rows of A per load of B measured slower: register spills.)

CUDNN_RNN_TARGET_AVX512 void nt_avx512(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                                const float* b, int64_t ldb, float* c, int64_t ldc) {
  const int64_t k16 = k & ~int64_t(15);
  const __mmask16 tail = static_cast<__mmask16>((1u << (k - k16)) - 1u);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const float* b0 = b + j * ldb;
    for (int64_t i = 0; i < m; ++i) {
      const float* ai = a + i * lda;
      __m512 s[8];
      for (int r = 0; r < 8; ++r) s[r] = _mm512_setzero_ps();
      for (int64_t p = 0; p < k16; p += 16) {
        const __m512 x = _mm512_loadu_ps(ai + p);
        for (int r = 0; r < 8; ++r)
          s[r] = _mm512_fmadd_ps(x, _mm512_loadu_ps(b0 + r * ldb + p), s[r]);
      }
      if (tail) {
        const __m512 x = _mm512_maskz_loadu_ps(tail, ai + k16);
        for (int r = 0; r < 8; ++r)
          s[r] = _mm512_fmadd_ps(x, _mm512_maskz_loadu_ps(tail, b0 + r * ldb + k16), s[r]);
      }
      __m256 v[8];
      for (int r = 0; r < 8; ++r)
        v[r] = _mm256_add_ps(_mm512_castps512_ps256(s[r]),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(s[r]), 1)));
      const __m256 h01 = _mm256_hadd_ps(v[0], v[1]), h23 = _mm256_hadd_ps(v[2], v[3]);
      const __m256 h45 = _mm256_hadd_ps(v[4], v[5]), h67 = _mm256_hadd_ps(v[6], v[7]);
      const __m256 q0 = _mm256_hadd_ps(h01, h23), q1 = _mm256_hadd_ps(h45, h67);
      const __m256 t = _mm256_add_ps(_mm256_permute2f128_ps(q0, q1, 0x20),
                                     _mm256_permute2f128_ps(q0, q1, 0x31));
      float* ci = c + i * ldc + j;
      _mm256_storeu_ps(ci, t);
    }
  }
  if (j < n) nt_body(m, n - j, k, a, lda, b + j * ldb, ldb, c + j, ldc);
}

CUDNN_RNN_TARGET_AVX512 void nt_avx512(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda,
                                const double* b, int64_t ldb, double* c, int64_t ldc) {
  const int64_t k8 = k & ~int64_t(7);
  const __mmask8 tail = static_cast<__mmask8>((1u << (k - k8)) - 1u);
  int64_t j = 0;
  for (; j + 8 <= n; j += 8) {
    const double* b0 = b + j * ldb;
    for (int64_t i = 0; i < m; ++i) {
      const double* ai = a + i * lda;
      __m512d s[8];
      for (int r = 0; r < 8; ++r) s[r] = _mm512_setzero_pd();
      for (int64_t p = 0; p < k8; p += 8) {
        const __m512d x = _mm512_loadu_pd(ai + p);
        for (int r = 0; r < 8; ++r)
          s[r] = _mm512_fmadd_pd(x, _mm512_loadu_pd(b0 + r * ldb + p), s[r]);
      }
      if (tail) {
        const __m512d x = _mm512_maskz_loadu_pd(tail, ai + k8);
        for (int r = 0; r < 8; ++r)
          s[r] = _mm512_fmadd_pd(x, _mm512_maskz_loadu_pd(tail, b0 + r * ldb + k8), s[r]);
      }
      double* ci = c + i * ldc + j;
      for (int r = 0; r < 8; r += 4) {
        __m256d v[4];
        for (int q = 0; q < 4; ++q)
          v[q] = _mm256_add_pd(_mm512_castpd512_pd256(s[r + q]),
                               _mm512_extractf64x4_pd(s[r + q], 1));
        const __m256d h01 = _mm256_hadd_pd(v[0], v[1]), h23 = _mm256_hadd_pd(v[2], v[3]);
        const __m256d t = _mm256_add_pd(_mm256_permute2f128_pd(h01, h23, 0x20),
                                        _mm256_permute2f128_pd(h01, h23, 0x31));
        _mm256_storeu_pd(ci + r, t);
      }
    }
  }
  if (j < n) nt_body(m, n - j, k, a, lda, b + j * ldb, ldb, c + j, ldc);
}

template <typename S>
CUDNN_RNN_TARGET_AVX2 void nn_avx2(int64_t m, int64_t n, int64_t k, const S* a,
                                                 int64_t lda, const S* b, int64_t ldb, S* c,
                                                 int64_t ldc) {
  nn_body(m, n, k, a, lda, b, ldb, c, ldc);
}

template <typename S>
CUDNN_RNN_TARGET_AVX512 void nn_avx512(int64_t m, int64_t n, int64_t k, const S* a, int64_t lda,
                                const S* b, int64_t ldb, S* c, int64_t ldc) {
  nn_body(m, n, k, a, lda, b, ldb, c, ldc);
}

#endif  // CUDNN_RNN_X86

}  // namespace

template <typename S>
void gemm_nt_small(int64_t m, int64_t n, int64_t k, const S* a, int64_t lda, const S* b,
                   int64_t ldb, S* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
#if CUDNN_RNN_X86
  if (cpu_isa() == Isa::Avx512) return nt_avx512(m, n, k, a, lda, b, ldb, c, ldc);
  if (cpu_isa() == Isa::Avx2) return nt_avx2(m, n, k, a, lda, b, ldb, c, ldc);
#endif
  nt_body(m, n, k, a, lda, b, ldb, c, ldc);
}

template <typename S>
void gemm_nn_small(int64_t m, int64_t n, int64_t k, const S* a, int64_t lda, const S* b,
                   int64_t ldb, S* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
#if CUDNN_RNN_X86
  if (cpu_isa() == Isa::Avx512) return nn_avx512(m, n, k, a, lda, b, ldb, c, ldc);
  if (cpu_isa() == Isa::Avx2) return nn_avx2(m, n, k, a, lda, b, ldb, c, ldc);
#endif
  nn_body(m, n, k, a, lda, b, ldb, c, ldc);
}

template void gemm_nt_small<float>(int64_t, int64_t, int64_t, const float*, int64_t, const float*,
                                   int64_t, float*, int64_t);
template void gemm_nt_small<double>(int64_t, int64_t, int64_t, const double*, int64_t,
                                    const double*, int64_t, double*, int64_t);
template void gemm_nn_small<float>(int64_t, int64_t, int64_t, const float*, int64_t, const float*,
                                   int64_t, float*, int64_t);
template void gemm_nn_small<double>(int64_t, int64_t, int64_t, const double*, int64_t,
                                    const double*, int64_t, double*, int64_t);

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
