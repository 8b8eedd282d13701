// The per-time-step recurrent products (h W_hh^T forward, dG W_hh backward)
// for batches of five rows and more. They are the serial part of an RNN: T
// small products in a row. A BLAS call repacks all of W_hh on every one of
// them (OpenBLAS spent ~16% of a GRU forward in sgemm_incopy) and cannot be
// split between our own threads; so W_hh is packed once per call into column
// panels (each thread packs its own columns, rnn_team.cc) and a
// register-blocked kernel runs every step: ~210 GFLOP/s per core on AVX-512
// (Zen 5, ~95% of its FMA peak), against 150-220 for OpenBLAS on two cores
// at these shapes. The team's all-steps input projection uses it too
// (rnn_layer_common.cc).
//
// The project is built for baseline x86-64, so the kernel is compiled three
// times (AVX-512, AVX2+FMA, baseline) from one body and picked at run time.
// Tiny batches use rnn_kernels_small.cc instead.
#include <algorithm>
#include <cstring>

#include "rnn_internal.h"

// GCC's vector extensions; CUDNN_RNN_X86 and the target attributes: isa.h.
#if defined(__GNUC__)
#define CUDNN_RNN_VECTOR 1
#else
#define CUDNN_RNN_VECTOR 0
#endif

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

namespace {

// ---- Packed panels and the register-blocked kernel ----------------------------
//
// Packed B (k x n): panels of NR columns; panel q holds, for p = 0..k-1, the
// NR values B[p][q*NR .. q*NR+NR) contiguously (zero beyond n). One step of the
// kernel loads a panel row (NV vectors) and broadcasts MR values of A.

#if CUDNN_RNN_VECTOR
template <typename S, int BYTES>
struct Vec {
  typedef S type __attribute__((vector_size(BYTES)));
};

template <typename S, int BYTES, int MR, int NV>
CUDNN_RNN_INLINE void micro(int64_t k, const S* a, int64_t lda, const S* bp, S* c, int64_t ldc) {
  typedef typename Vec<S, BYTES>::type V;
  constexpr int L = BYTES / int(sizeof(S));
  V acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = V{};
  for (int64_t p = 0; p < k; ++p) {
    V b[NV];
    for (int v = 0; v < NV; ++v) std::memcpy(&b[v], bp + (p * NV + v) * L, sizeof(V));
    for (int i = 0; i < MR; ++i) {
      const S x = a[i * lda + p];
      for (int v = 0; v < NV; ++v) acc[i][v] += x * b[v];  // contracted to FMA where available
    }
  }
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) std::memcpy(c + i * ldc + v * L, &acc[i][v], sizeof(V));
}

// Rows [0, m) of one panel's columns, MR rows at a time; the leftover rows
// take the same kernel with fewer rows (unrolled per count).
template <typename S, int BYTES, int MR, int NV>
CUDNN_RNN_INLINE void panel_rows(int64_t m, int64_t k, const S* a, int64_t lda, const S* panel,
                                 S* c, int64_t ldc) {
  int64_t i = 0;
  for (; i + MR <= m; i += MR) micro<S, BYTES, MR, NV>(k, a + i * lda, lda, panel, c + i * ldc, ldc);
  const S* ai = a + i * lda;
  S* ci = c + i * ldc;
  switch (m - i) {
    case 7: if constexpr (MR > 7) micro<S, BYTES, 7, NV>(k, ai, lda, panel, ci, ldc); break;
    case 6: if constexpr (MR > 6) micro<S, BYTES, 6, NV>(k, ai, lda, panel, ci, ldc); break;
    case 5: if constexpr (MR > 5) micro<S, BYTES, 5, NV>(k, ai, lda, panel, ci, ldc); break;
    case 4: if constexpr (MR > 4) micro<S, BYTES, 4, NV>(k, ai, lda, panel, ci, ldc); break;
    case 3: micro<S, BYTES, 3, NV>(k, ai, lda, panel, ci, ldc); break;
    case 2: micro<S, BYTES, 2, NV>(k, ai, lda, panel, ci, ldc); break;
    case 1: micro<S, BYTES, 1, NV>(k, ai, lda, panel, ci, ldc); break;
    default: break;
  }
}

template <typename S, int BYTES, int MR, int NV>
CUDNN_RNN_INLINE void packed_body(int64_t m, int64_t k, const S* a, int64_t lda, const S* bp,
                                  int64_t n, S* c, int64_t ldc) {
  constexpr int64_t NR = NV * BYTES / int64_t(sizeof(S));
  int64_t j = 0;
  // Whole panels; each stays in L1 across the row blocks.
  for (; j + NR <= n; j += NR) panel_rows<S, BYTES, MR, NV>(m, k, a, lda, bp + j * k, c + j, ldc);
  if (j == n) return;
  // A last, partial panel goes through a tile so that no column of C past n
  // is written (C may be a row of a larger matrix).
  alignas(64) S tile[MR * NR];
  for (int64_t i = 0; i < m; i += MR) {
    const int64_t rows = std::min<int64_t>(MR, m - i);
    panel_rows<S, BYTES, MR, NV>(rows, k, a + i * lda, lda, bp + j * k, tile, NR);
    for (int64_t r = 0; r < rows; ++r)
      std::copy(tile + r * NR, tile + r * NR + (n - j), c + (i + r) * ldc + j);
  }
}

// ---- Packing W^T: a transpose in register tiles --------------------------------
//
// Panel q's row p holds element p of nr rows of W, so packing is a transpose.
// Element by element it cost ~1 ns a value (6% of an LSTM forward, which
// packs W_ih and W_hh of every layer on every call); here L rows of L values
// are loaded as L vectors, transposed with shuffles and stored as L panel
// rows.

// Transposes the L x L tile held in r[0..L) (rows) in place: log2(L) stages,
// stage H swapping the off-diagonal H x H blocks of every 2H x 2H block.
template <typename V, typename M, int L, int H>
CUDNN_RNN_INLINE void transpose_stage(V* r) {
  M lo, hi;
  for (int j = 0; j < L; ++j) {
    lo[j] = (j & H) ? L + j - H : j;
    hi[j] = (j & H) ? L + j : j + H;
  }
#pragma GCC unroll 16
  for (int i = 0; i < L; ++i) {
    if (i & H) continue;
    const V a = r[i], b = r[i + H];
    r[i] = __builtin_shuffle(a, b, lo);
    r[i + H] = __builtin_shuffle(a, b, hi);
  }
  if constexpr (H > 1) transpose_stage<V, M, L, H / 2>(r);
}

template <typename S>
struct MaskOf;
template <>
struct MaskOf<float> {
  typedef int32_t type;
};
template <>
struct MaskOf<double> {
  typedef int64_t type;
};

// pack_nt's body (see rnn_internal.h); vectors of BYTES, panels of NV vectors.
template <typename S, int BYTES, int NV>
CUDNN_RNN_INLINE void pack_nt_body(int64_t k, int64_t blocks, int64_t cols, const S* w,
                                   int64_t ldw, int64_t block_rows, S* out) {
  typedef typename Vec<S, BYTES>::type V;
  typedef typename MaskOf<S>::type MI;
  typedef MI M __attribute__((vector_size(BYTES)));
  constexpr int L = BYTES / int(sizeof(S));
  constexpr int64_t nr = int64_t(NV) * L;
  const int64_t n = blocks * cols;
  const int64_t kv = k / L * L;  // rows of the panel done in tiles; the rest one by one
  alignas(64) static const S zeros[L] = {};
  for (int64_t q0 = 0; q0 < n; q0 += nr) {
    S* panel = out + q0 * k;
    for (int64_t c0 = 0; c0 < nr; c0 += L) {
      // Rows of W for these L columns; a column past n reads zeros in place
      // (step 0), so the tile loop has no branch.
      const S* src[L];
      int64_t step[L];
      for (int i = 0; i < L; ++i) {
        const int64_t q = q0 + c0 + i;
        const bool real = q < n;
        src[i] = real ? w + ((q / cols) * block_rows + q % cols) * ldw : zeros;
        step[i] = real ? 1 : 0;
      }
      for (int64_t p0 = 0; p0 < kv; p0 += L) {
        V r[L];
#pragma GCC unroll 16
        for (int i = 0; i < L; ++i) std::memcpy(&r[i], src[i] + p0 * step[i], sizeof(V));
        transpose_stage<V, M, L, L / 2>(r);
#pragma GCC unroll 16
        for (int j = 0; j < L; ++j) std::memcpy(panel + (p0 + j) * nr + c0, &r[j], sizeof(V));
      }
      for (int64_t p = kv; p < k; ++p)
        for (int i = 0; i < L; ++i) panel[p * nr + c0 + i] = src[i][p * step[i]];
    }
  }
}
#endif  // CUDNN_RNN_VECTOR

// Register blocking per instruction set: MR rows x NV vectors of
// accumulators, leaving registers for the panel row and the broadcast
// (AVX-512: 16 of 32 zmm; AVX2 and SSE: 12 of 16).
constexpr int kMr512 = 8, kNv512 = 2;
constexpr int kMr256 = 4, kNv256 = 3;
constexpr int kMr128 = 4, kNv128 = 3;

template <typename S>
int64_t nr_for(Isa i) {
#if CUDNN_RNN_VECTOR
  switch (i) {
    case Isa::Avx512: return kNv512 * 64 / int64_t(sizeof(S));
    case Isa::Avx2: return kNv256 * 32 / int64_t(sizeof(S));
    default: return kNv128 * 16 / int64_t(sizeof(S));
  }
#else
  (void)i;
  return 8;
#endif
}

// ---- One entry point per instruction set -------------------------------------

template <typename S>
void packed_baseline(int64_t m, int64_t k, const S* a, int64_t lda, const S* bp, int64_t n,
                     S* c, int64_t ldc) {
#if CUDNN_RNN_VECTOR
  packed_body<S, 16, kMr128, kNv128>(m, k, a, lda, bp, n, c, ldc);
#else
  // Portable fallback: panels of 8 columns, one row at a time.
  for (int64_t j = 0; j < n; j += 8)
    for (int64_t i = 0; i < m; ++i) {
      S acc[8] = {};
      for (int64_t p = 0; p < k; ++p)
        for (int q = 0; q < 8; ++q) acc[q] += a[i * lda + p] * bp[j * k + p * 8 + q];
      std::copy(acc, acc + std::min<int64_t>(8, n - j), c + i * ldc + j);
    }
#endif
}

template <typename S>
void pack_nt_baseline(int64_t k, int64_t blocks, int64_t cols, const S* w, int64_t ldw,
                      int64_t block_rows, S* out) {
#if CUDNN_RNN_VECTOR
  pack_nt_body<S, 16, kNv128>(k, blocks, cols, w, ldw, block_rows, out);
#else
  const int64_t nr = 8;  // the portable kernel's panels
  const int64_t n = blocks * cols;
  const int64_t n_pad = (n + nr - 1) / nr * nr;
  for (int64_t q0 = 0; q0 < n_pad; q0 += nr) {
    S* panel = out + q0 * k;
    for (int64_t c = 0; c < nr; ++c) {
      const int64_t q = q0 + c;
      const S* src = q < n ? w + ((q / cols) * block_rows + q % cols) * ldw : nullptr;
      for (int64_t p = 0; p < k; ++p) panel[p * nr + c] = src ? src[p] : S(0);
    }
  }
#endif
}

#if CUDNN_RNN_X86
template <typename S>
CUDNN_RNN_TARGET_AVX512 void packed_avx512(int64_t m, int64_t k, const S* a,
                                                              int64_t lda, const S* bp,
                                                              int64_t n, S* c, int64_t ldc) {
  packed_body<S, 64, kMr512, kNv512>(m, k, a, lda, bp, n, c, ldc);
}
template <typename S>
CUDNN_RNN_TARGET_AVX2 void packed_avx2(int64_t m, int64_t k, const S* a,
                                                     int64_t lda, const S* bp, int64_t n,
                                                     S* c, int64_t ldc) {
  packed_body<S, 32, kMr256, kNv256>(m, k, a, lda, bp, n, c, ldc);
}
template <typename S>
CUDNN_RNN_TARGET_AVX512 void pack_nt_avx512(int64_t k, int64_t blocks, int64_t cols, const S* w,
                                            int64_t ldw, int64_t block_rows, S* out) {
  pack_nt_body<S, 64, kNv512>(k, blocks, cols, w, ldw, block_rows, out);
}
template <typename S>
CUDNN_RNN_TARGET_AVX2 void pack_nt_avx2(int64_t k, int64_t blocks, int64_t cols, const S* w,
                                        int64_t ldw, int64_t block_rows, S* out) {
  pack_nt_body<S, 32, kNv256>(k, blocks, cols, w, ldw, block_rows, out);
}
#endif  // CUDNN_RNN_X86

}  // namespace

template <typename S>
int64_t packed_nr() {
  static const int64_t nr = nr_for<S>(cpu_isa());
  return nr;
}

template <typename S>
int64_t packed_width(int64_t n) {
  const int64_t nr = packed_nr<S>();
  return (n + nr - 1) / nr * nr;
}

template <typename S>
int64_t packed_numel(int64_t k, int64_t n) {
  return k * packed_width<S>(n);
}

template <typename S>
void pack_nt(int64_t k, int64_t blocks, int64_t cols, const S* w, int64_t ldw,
             int64_t block_rows, S* out) {
#if CUDNN_RNN_X86
  if (cpu_isa() == Isa::Avx512) return pack_nt_avx512(k, blocks, cols, w, ldw, block_rows, out);
  if (cpu_isa() == Isa::Avx2) return pack_nt_avx2(k, blocks, cols, w, ldw, block_rows, out);
#endif
  pack_nt_baseline(k, blocks, cols, w, ldw, block_rows, out);
}

template <typename S>
void pack_nn(int64_t k, int64_t cols, const S* w, int64_t ldw, S* out) {
  const int64_t nr = packed_nr<S>();
  for (int64_t q0 = 0; q0 < cols; q0 += nr) {
    const int64_t width = std::min(nr, cols - q0);
    S* panel = out + q0 * k;
    for (int64_t p = 0; p < k; ++p) {
      const S* src = w + p * ldw + q0;  // part of a row of W, read contiguously
      S* dst = panel + p * nr;
      std::copy(src, src + width, dst);
      std::fill(dst + width, dst + nr, S(0));
    }
  }
}

template <typename S>
void gemm_packed(int64_t m, int64_t k, const S* a, int64_t lda, const S* bp, int64_t n, S* c,
                 int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) std::fill(c + i * ldc, c + i * ldc + n, S(0));
    return;
  }
#if CUDNN_RNN_X86
  if (cpu_isa() == Isa::Avx512) return packed_avx512(m, k, a, lda, bp, n, c, ldc);
  if (cpu_isa() == Isa::Avx2) return packed_avx2(m, k, a, lda, bp, n, c, ldc);
#endif
  packed_baseline(m, k, a, lda, bp, n, c, ldc);
}

#define CUDNN_RNN_KERNELS(S)                                                                    \
  template int64_t packed_nr<S>();                                                              \
  template int64_t packed_numel<S>(int64_t, int64_t);                                           \
  template int64_t packed_width<S>(int64_t);                                                    \
  template void pack_nt<S>(int64_t, int64_t, int64_t, const S*, int64_t, int64_t, S*);          \
  template void pack_nn<S>(int64_t, int64_t, const S*, int64_t, S*);                            \
  template void gemm_packed<S>(int64_t, int64_t, const S*, int64_t, const S*, int64_t, S*,      \
                               int64_t);
CUDNN_RNN_KERNELS(float)
CUDNN_RNN_KERNELS(double)
#undef CUDNN_RNN_KERNELS

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
