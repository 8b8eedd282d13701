// The built-in GEMM (blas.h): what runs when no BLAS library is found, or
// CUDNN_RNN_BLAS=none. Correct for every shape and stride first, then fast
// enough that a machine without a BLAS is slow rather than unusable.
//
// Two paths:
//  - Few rows (m <= 32 with B as stored, m <= 4 with B transposed; n <= 4
//    becomes m <= 4 through C^T = B^T A^T): no packing, no allocation;
//    register tiles read B in place, or dot products when B is transposed.
//    These are the per-step products of a small batch, where packing B would
//    cost more than the arithmetic.
//  - Everything else: the usual Goto/BLIS scheme. Pack a KC x NC panel of B
//    and an MC x KC block of A into contiguous, zero-padded slivers
//    (thread_local buffers, reused), then an MR x NR register-blocked
//    micro-kernel runs over them.
//
// Kernels are written once with GCC vector extensions and compiled three
// times: baseline 16-byte vectors (SSE2 on x86-64, NEON on arm64), AVX2+FMA
// and AVX-512, because the addon is built for baseline x86-64; the widest
// set the CPU and OS support is picked at run time.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>

#include "blas.h"

#if defined(__GNUC__)
#define GB_INLINE inline __attribute__((always_inline))
#else
#define GB_INLINE inline
#endif

#if defined(__GNUC__) && defined(__x86_64__)
#define GB_X86 1
#else
#define GB_X86 0
#endif

namespace cudnn_rnn {
namespace cpu {
namespace blas {
namespace {

// One product with op() folded into strides: op(A)(i, p) = a[i * ars + p * acs],
// op(B)(p, j) = b[p * brs + j * bcs], C(i, j) = c[i * crs + j * ccs].
template <typename T>
struct Problem {
  int64_t m, n, k;
  T alpha;
  const T* a;
  int64_t ars, acs;
  const T* b;
  int64_t brs, bcs;
  T beta;
  T* c;
  int64_t crs, ccs;
};

// C^T = op(B)^T op(A)^T: the same product with rows and columns swapped.
template <typename T>
Problem<T> transposed(const Problem<T>& q) {
  return Problem<T>{q.n, q.m, q.k, q.alpha, q.b, q.bcs, q.brs, q.a, q.acs, q.ars,
                    q.beta, q.c, q.ccs, q.crs};
}

// C(i, j) = alpha * acc + beta * C(i, j), never reading C when beta == 0
// (BLAS semantics: a NaN already in C must not survive).
template <typename T>
GB_INLINE void update(T* cij, T acc, T alpha, T beta) {
  *cij = beta == T(0) ? alpha * acc : alpha * acc + beta * *cij;
}

// ---- Packing buffers --------------------------------------------------------

// 64-byte aligned scratch that only grows; one per thread and role, so the
// packed path allocates only the first time a thread meets a larger size.
// Returns nullptr when memory runs out (nothing may throw out of the core).
class Scratch {
 public:
  void* get(size_t bytes) {
    if (bytes > size_) {
      storage_.reset(new (std::nothrow) char[bytes + 64]);
      size_ = storage_ ? bytes : 0;
      if (!storage_) return nullptr;
    }
    uintptr_t p = reinterpret_cast<uintptr_t>(storage_.get());
    return reinterpret_cast<void*>((p + 63) & ~uintptr_t(63));
  }

 private:
  std::unique_ptr<char[]> storage_;
  size_t size_ = 0;
};

thread_local Scratch tls_pack_a, tls_pack_b;

// ---- Vector helpers (always inlined, so they take the caller's ISA) ----------

// Unaligned vector loads and stores through an under-aligned, may_alias
// vector type. (memcpy does the same for one vector, but GCC merged the
// memcpys filling an array of vectors into one block copy and kept the
// whole tile in memory.) Vectors go by reference: passing or returning them
// by value from these baseline-compiled templates would change the ABI
// (-Wpsabi).
template <typename V, typename T>
GB_INLINE void load(V& v, const T* p) {
  typedef T U __attribute__((vector_size(sizeof(V)), aligned(alignof(T)), may_alias));
  v = *reinterpret_cast<const U*>(p);
}
template <typename V, typename T>
GB_INLINE void store(T* p, const V& v) {
  typedef T U __attribute__((vector_size(sizeof(V)), aligned(alignof(T)), may_alias));
  *reinterpret_cast<U*>(p) = v;
}

// Writes the mr x nr corner of a tile (spilled to an array) to C with the
// alpha/beta rule, one element at a time: for edge tiles and strided C.
template <typename T, int VB, int MR, int NV>
GB_INLINE void store_tile(T (*acc)[NV * (VB / sizeof(T))], int mr, int nr, T alpha, T beta, T* c,
                          int64_t crs, int64_t ccs) {
  for (int i = 0; i < mr; ++i)
    for (int j = 0; j < nr; ++j) update(c + i * crs + j * ccs, acc[i][j], alpha, beta);
}

// The last resort when scratch memory cannot be had: plain dot products.
template <typename T>
void gemm_naive(const Problem<T>& q) {
  for (int64_t i = 0; i < q.m; ++i)
    for (int64_t j = 0; j < q.n; ++j) {
      T s = 0;
      for (int64_t p = 0; p < q.k; ++p) s += q.a[i * q.ars + p * q.acs] * q.b[p * q.brs + j * q.bcs];
      update(q.c + i * q.crs + j * q.ccs, s, q.alpha, q.beta);
    }
}

// ---- Packed path --------------------------------------------------------------

// The register-blocked micro-kernel: an MR x NR tile of C (NR = NV vectors)
// from kc steps of packed A (MR values a step) and packed B (NR a step). The
// packed slivers are zero-padded, so it always computes the full tile; mr, nr
// say how much of it lies inside C.
template <typename T, int VB, int MR, int NV>
GB_INLINE void micro_kernel(int64_t kc, const T* __restrict ap, const T* __restrict bp, T alpha,
                            T beta, T* c, int64_t crs, int64_t ccs, int mr, int nr) {
  typedef T V __attribute__((vector_size(VB)));
  constexpr int L = VB / sizeof(T), NR = NV * L;
  V acc[MR][NV];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) acc[i][v] = V{};
  for (int64_t p = 0; p < kc; ++p) {
    V bv[NV];
    for (int v = 0; v < NV; ++v) load(bv[v], bp + v * L);
    for (int i = 0; i < MR; ++i) {
      const T ai = ap[i];
      for (int v = 0; v < NV; ++v) acc[i][v] += ai * bv[v];
    }
    ap += MR;
    bp += NR;
  }
  if (nr == NR && ccs == 1) {  // full-width rows: vector stores, however many rows
    for (int i = 0; i < mr; ++i) {
      T* ci = c + i * crs;
      for (int v = 0; v < NV; ++v) {
        V r = alpha * acc[i][v];
        if (beta != T(0)) {
          V old;
          load(old, ci + v * L);
          r += beta == T(1) ? old : beta * old;
        }
        store(ci + v * L, r);
      }
    }
    return;
  }
  T tile[MR][NR];
  for (int i = 0; i < MR; ++i)
    for (int v = 0; v < NV; ++v) store(&tile[i][v * L], acc[i][v]);
  store_tile<T, VB, MR, NV>(tile, mr, nr, alpha, beta, c, crs, ccs);
}

// mc x kc block of op(A) -> slivers of MR rows, each kc steps of MR values.
template <typename T, int MR>
GB_INLINE void pack_a(int64_t mc, int64_t kc, const T* a, int64_t ars, int64_t acs, T* dst) {
  for (int64_t i0 = 0; i0 < mc; i0 += MR, dst += MR * kc) {
    const int64_t rows = std::min<int64_t>(MR, mc - i0);
    const T* src = a + i0 * ars;
    if (rows == MR && ars == 1) {  // transposed A: each step is a contiguous run
      for (int64_t p = 0; p < kc; ++p)
        for (int i = 0; i < MR; ++i) dst[p * MR + i] = src[p * acs + i];
    } else {  // read each row of A along p, write it across the sliver
      for (int64_t i = 0; i < MR; ++i) {
        if (i < rows)
          for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = src[i * ars + p * acs];
        else
          for (int64_t p = 0; p < kc; ++p) dst[p * MR + i] = T(0);
      }
    }
  }
}

// kc x nc panel of op(B) -> slivers of NR columns, each kc steps of NR values.
template <typename T, int NR>
GB_INLINE void pack_b(int64_t kc, int64_t nc, const T* b, int64_t brs, int64_t bcs, T* dst) {
  for (int64_t j0 = 0; j0 < nc; j0 += NR, dst += NR * kc) {
    const int64_t cols = std::min<int64_t>(NR, nc - j0);
    const T* src = b + j0 * bcs;
    if (cols == NR && bcs == 1) {  // B as stored: each step is a contiguous run
      for (int64_t p = 0; p < kc; ++p) std::memcpy(dst + p * NR, src + p * brs, NR * sizeof(T));
    } else {  // transposed B: read each stored row along p, write it across the sliver
      for (int64_t j = 0; j < NR; ++j) {
        if (j < cols)
          for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = src[p * brs + j * bcs];
        else
          for (int64_t p = 0; p < kc; ++p) dst[p * NR + j] = T(0);
      }
    }
  }
}

// A micro-kernel compiled for one ISA. It is a separate (not inlined)
// function so the register allocator sees only its loop: inlined into the
// whole GEMM, GCC spilled an accumulator and lost a third of the speed.
template <typename T>
using MicroFn = void (*)(int64_t kc, const T* ap, const T* bp, T alpha, T beta, T* c,
                         int64_t crs, int64_t ccs, int mr, int nr);

// Block sizes: a kc x NR sliver of B stays in L1 across the MR slivers of
// A, the mc x kc block of A in L2, the kc x nc panel of B in L3.
template <typename T, int MR, int NR, int KC, int MC, int NC, MicroFn<T> micro>
GB_INLINE void gemm_packed(const Problem<T>& q) {
  static_assert(MC % MR == 0 && NC % NR == 0, "blocks must hold whole slivers");
  const int64_t nc_max = std::min<int64_t>(NC, (q.n + NR - 1) / NR * NR);
  const int64_t mc_max = std::min<int64_t>(MC, (q.m + MR - 1) / MR * MR);
  const int64_t kc_max = std::min<int64_t>(KC, q.k);
  T* bpk = static_cast<T*>(tls_pack_b.get(sizeof(T) * kc_max * nc_max));
  T* apk = static_cast<T*>(tls_pack_a.get(sizeof(T) * kc_max * mc_max));
  if (!bpk || !apk) return gemm_naive(q);
  for (int64_t jc = 0; jc < q.n; jc += NC) {
    const int64_t nc = std::min<int64_t>(NC, q.n - jc);
    for (int64_t pc = 0; pc < q.k; pc += KC) {
      const int64_t kc = std::min<int64_t>(KC, q.k - pc);
      const T beta = pc == 0 ? q.beta : T(1);  // later k blocks accumulate
      pack_b<T, NR>(kc, nc, q.b + pc * q.brs + jc * q.bcs, q.brs, q.bcs, bpk);
      for (int64_t ic = 0; ic < q.m; ic += MC) {
        const int64_t mc = std::min<int64_t>(MC, q.m - ic);
        pack_a<T, MR>(mc, kc, q.a + ic * q.ars + pc * q.acs, q.ars, q.acs, apk);
        for (int64_t jr = 0; jr < nc; jr += NR) {
          const int nr = int(std::min<int64_t>(NR, nc - jr));
          for (int64_t ir = 0; ir < mc; ir += MR) {
            const int mr = int(std::min<int64_t>(MR, mc - ir));
            T* c = q.c + (ic + ir) * q.crs + (jc + jr) * q.ccs;
            micro(kc, apk + ir * kc, bpk + jr * kc, q.alpha, beta, c, q.crs, q.ccs, mr, nr);
          }
        }
      }
    }
  }
}

// ---- Few-rows path ---------------------------------------------------------------

// R rows of C, NV vectors wide, with B rows read in place (bcs == 1): each
// step loads a stretch of one row of B and broadcasts R values of A into it.
template <typename T, int VB, int R, int NV>
GB_INLINE void rows_tile(const Problem<T>& q, const T* a, const T* b, T* c, int nr) {
  typedef T V __attribute__((vector_size(VB)));
  constexpr int L = VB / sizeof(T), W = NV * L;
  V acc[R][NV];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) acc[r][v] = V{};
  for (int64_t p = 0; p < q.k; ++p) {
    const T* bp = b + p * q.brs;
    V bv[NV];
    for (int v = 0; v < NV; ++v) load(bv[v], bp + v * L);
    for (int r = 0; r < R; ++r) {
      const T ar = a[r * q.ars + p * q.acs];
      for (int v = 0; v < NV; ++v) acc[r][v] += ar * bv[v];
    }
  }
  T tile[R][W];
  for (int r = 0; r < R; ++r)
    for (int v = 0; v < NV; ++v) store(&tile[r][v * L], acc[r][v]);
  store_tile<T, VB, R, NV>(tile, R, nr, q.alpha, q.beta, c, q.crs, q.ccs);
}

// Fewer than L columns: scalar, but with R x L independent sums so the
// adds do not wait on each other.
template <typename T, int VB, int R>
GB_INLINE void rows_tail(const Problem<T>& q, const T* a, const T* b, T* c, int nr) {
  constexpr int L = VB / sizeof(T);
  T acc[R][L];
  std::memset(acc, 0, sizeof acc);
  if (nr >= L) __builtin_unreachable();  // lets GCC see acc is never read past its end
  for (int64_t p = 0; p < q.k; ++p) {
    const T* bp = b + p * q.brs;
    for (int r = 0; r < R; ++r) {
      const T ar = a[r * q.ars + p * q.acs];
      for (int j = 0; j < nr; ++j) acc[r][j] += ar * bp[j];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < nr; ++j) update(c + r * q.crs + j * q.ccs, acc[r][j], q.alpha, q.beta);
}

// Columns j.. of R rows: whole NV-vector tiles, then halving tile widths, then
// the tail. NV is chosen so R * NV accumulators hide the FMA latency even for
// a single row.
template <typename T, int VB, int R, int NV>
GB_INLINE void rows_columns(const Problem<T>& q, const T* a, T* c, int64_t j) {
  constexpr int L = VB / sizeof(T), W = NV * L;
  for (; j + W <= q.n; j += W) rows_tile<T, VB, R, NV>(q, a, q.b + j, c + j * q.ccs, W);
  if constexpr (NV > 1) {
    rows_columns<T, VB, R, NV / 2>(q, a, c, j);
  } else if (j < q.n) {
    rows_tail<T, VB, R>(q, a, q.b + j, c + j * q.ccs, int(q.n - j));
  }
}

// Rows in groups of RMAX (each group reads B once), the rest in smaller
// groups; ACC is the number of accumulator registers to fill.
template <typename T, int VB, int ACC, int RMAX>
GB_INLINE void gemm_rows(const Problem<T>& q) {
  int64_t i = 0;
  for (; i + RMAX <= q.m; i += RMAX)
    rows_columns<T, VB, RMAX, ACC / RMAX>(q, q.a + i * q.ars, q.c + i * q.crs, 0);
  if constexpr (RMAX > 4) {
    if (i + 4 <= q.m) {
      rows_columns<T, VB, 4, ACC / 4>(q, q.a + i * q.ars, q.c + i * q.crs, 0);
      i += 4;
    }
  }
  const T* a = q.a + i * q.ars;
  T* c = q.c + i * q.crs;
  switch (q.m - i) {
    case 3: rows_columns<T, VB, 3, ACC / 4>(q, a, c, 0); break;
    case 2: rows_columns<T, VB, 2, ACC / 2>(q, a, c, 0); break;
    case 1: rows_columns<T, VB, 1, ACC>(q, a, c, 0); break;
    default: break;
  }
}

// Sum of the lanes of a vector, by halving: log2(L) vector adds instead of
// L dependent scalar ones.
template <typename T, int L, typename V>
GB_INLINE T hsum(const V& v) {
  if constexpr (L <= 2) {
    return L == 1 ? v[0] : v[0] + v[1];
  } else {
    typedef T H __attribute__((vector_size(sizeof(V) / 2)));
    H lo, hi;
    load(lo, reinterpret_cast<const T*>(&v));
    load(hi, reinterpret_cast<const T*>(&v) + L / 2);
    const H sum = lo + hi;
    return hsum<T, L / 2>(sum);
  }
}

// R rows x 4 columns of C with B transposed (brs == 1): dot products of rows
// of A with stored rows of B; each load of A serves four columns and each
// load of B serves R rows.
template <typename T, int VB, int R>
GB_INLINE void dots_block(const Problem<T>& q, const T* const* arow, T* c) {
  typedef T V __attribute__((vector_size(VB)));
  constexpr int L = VB / sizeof(T);
  int64_t j = 0;
  for (; j + 4 <= q.n; j += 4) {
    const T* b0 = q.b + j * q.bcs;
    V s[R][4];
    for (int r = 0; r < R; ++r)
      for (int t = 0; t < 4; ++t) s[r][t] = V{};
    int64_t p = 0;
    for (; p + L <= q.k; p += L) {
      V x[R], y;
      for (int r = 0; r < R; ++r) load(x[r], arow[r] + p);
      for (int t = 0; t < 4; ++t) {
        load(y, b0 + t * q.bcs + p);
        for (int r = 0; r < R; ++r) s[r][t] += x[r] * y;
      }
    }
    for (int r = 0; r < R; ++r) {
      for (int t = 0; t < 4; ++t) {
        T sum = hsum<T, L>(s[r][t]);
        for (int64_t pp = p; pp < q.k; ++pp) sum += arow[r][pp] * b0[t * q.bcs + pp];
        update(c + r * q.crs + (j + t) * q.ccs, sum, q.alpha, q.beta);
      }
    }
  }
  for (; j < q.n; ++j) {  // the last few columns, one at a time
    const T* bj = q.b + j * q.bcs;
    for (int r = 0; r < R; ++r) {
      V s = V{}, x, y;
      int64_t p = 0;
      for (; p + L <= q.k; p += L) {
        load(x, arow[r] + p);
        load(y, bj + p);
        s += x * y;
      }
      T sum = hsum<T, L>(s);
      for (; p < q.k; ++p) sum += arow[r][p] * bj[p];
      update(c + r * q.crs + j * q.ccs, sum, q.alpha, q.beta);
    }
  }
}

// Few rows, B transposed. Rows of a transposed A are gathered once into
// scratch so every dot product reads contiguous memory.
template <typename T, int VB, int R>
GB_INLINE void gemm_dots(const Problem<T>& q) {
  T* copies = nullptr;
  if (q.acs != 1) {
    copies = static_cast<T*>(tls_pack_a.get(sizeof(T) * R * q.k));
    if (!copies) return gemm_naive(q);
  }
  for (int64_t i = 0; i < q.m; i += R) {
    const int rows = int(std::min<int64_t>(R, q.m - i));
    const T* arow[R];
    for (int r = 0; r < rows; ++r) {
      arow[r] = q.a + (i + r) * q.ars;
      if (copies) {
        T* dst = copies + r * q.k;
        for (int64_t p = 0; p < q.k; ++p) dst[p] = arow[r][p * q.acs];
        arow[r] = dst;
      }
    }
    T* c = q.c + i * q.crs;
    if (rows == R) {
      dots_block<T, VB, R>(q, arow, c);
    } else {
      for (int r = 0; r < rows; ++r) dots_block<T, VB, 1>(q, arow + r, c + r * q.crs);
    }
  }
}

// ---- Per-ISA entry points --------------------------------------------------------

// One ISA's choices for one type. VB: vector bytes. MR x NV vectors: the
// packed tile (MR * NV accumulators, NV values of B and one broadcast of A:
// 15 of 16 registers for SSE2 and AVX2, 27 of 32 for AVX-512). KC, MC, NC:
// cache blocks. ACC, RMAX: accumulators and rows per group on the few-rows
// path; RDOTS: rows per group of dot products.
template <typename T, int VB_, int MR_, int NV_, int KC_, int MC_, int NC_, int ACC_, int RMAX_,
          int RDOTS_>
struct Config {
  static constexpr int VB = VB_, MR = MR_, NV = NV_, NR = NV_ * int(VB_ / sizeof(T));
  static constexpr int KC = KC_, MC = MC_, NC = NC_, ACC = ACC_, RMAX = RMAX_, RDOTS = RDOTS_;
};

using BaseF = Config<float, 16, 6, 2, 256, 96, 2048, 8, 4, 2>;
using BaseD = Config<double, 16, 6, 2, 256, 96, 1024, 8, 4, 2>;
using Avx2F = Config<float, 32, 6, 2, 256, 96, 2048, 8, 4, 2>;
using Avx2D = Config<double, 32, 6, 2, 256, 96, 1024, 8, 4, 2>;
using Avx512F = Config<float, 64, 12, 2, 256, 144, 2048, 16, 8, 4>;
using Avx512D = Config<double, 64, 12, 2, 256, 96, 1024, 16, 8, 4>;

// Up to this many rows, reading B in place (RMAX rows per pass) beats
// packing it: packing costs about as much as the arithmetic of ~32 rows.
constexpr int64_t kRowsPathMax = 32;
// Dot products (B transposed) only for a handful of rows, and, when A is
// transposed too, for rows short enough to copy.
constexpr int64_t kFewRows = 4;
constexpr int64_t kMaxRowCopy = 1 << 16;

template <typename T, typename C, MicroFn<T> micro>
GB_INLINE void run(const Problem<T>& q0) {
  Problem<T> q = q0;
  if (q.m > kFewRows && q.n <= kFewRows) q = transposed(q);
  if (q.bcs == 1 && q.m <= kRowsPathMax) return gemm_rows<T, C::VB, C::ACC, C::RMAX>(q);
  if (q.brs == 1 && q.m <= kFewRows && (q.acs == 1 || q.k <= kMaxRowCopy))
    return gemm_dots<T, C::VB, C::RDOTS>(q);
  gemm_packed<T, C::MR, C::NR, C::KC, C::MC, C::NC, micro>(q);
}

#define GB_MICRO(NAME, TARGET, T, C)                                                          \
  TARGET __attribute__((noinline)) void NAME(int64_t kc, const T* ap, const T* bp, T alpha,   \
                                             T beta, T* c, int64_t crs, int64_t ccs, int mr, \
                                             int nr) {                                        \
    micro_kernel<T, C::VB, C::MR, C::NV>(kc, ap, bp, alpha, beta, c, crs, ccs, mr, nr);       \
  }
#define GB_RUN(NAME, TARGET, T, C, MICRO) \
  TARGET void NAME(const Problem<T>& q) { run<T, C, MICRO>(q); }

#define GB_BASE
GB_MICRO(micro_base_f, GB_BASE, float, BaseF)
GB_MICRO(micro_base_d, GB_BASE, double, BaseD)
GB_RUN(run_base, GB_BASE, float, BaseF, micro_base_f)
GB_RUN(run_base, GB_BASE, double, BaseD, micro_base_d)

#if GB_X86
#define GB_AVX2 __attribute__((target("avx2,fma")))
#define GB_AVX512 __attribute__((target("avx512f,avx2,fma")))
GB_MICRO(micro_avx2_f, GB_AVX2, float, Avx2F)
GB_MICRO(micro_avx2_d, GB_AVX2, double, Avx2D)
GB_RUN(run_avx2, GB_AVX2, float, Avx2F, micro_avx2_f)
GB_RUN(run_avx2, GB_AVX2, double, Avx2D, micro_avx2_d)
GB_MICRO(micro_avx512_f, GB_AVX512, float, Avx512F)
GB_MICRO(micro_avx512_d, GB_AVX512, double, Avx512D)
GB_RUN(run_avx512, GB_AVX512, float, Avx512F, micro_avx512_f)
GB_RUN(run_avx512, GB_AVX512, double, Avx512D, micro_avx512_d)
#endif

enum class Isa { kBase, kAvx2, kAvx512 };

// __builtin_cpu_supports checks that the OS saves the wider registers too.
// Tests build with CUDNN_RNN_BUILTIN_MAX_ISA=0 or 1 to run the SSE2 or AVX2
// kernels on a newer CPU.
Isa pick_isa() {
#if GB_X86
#if defined(CUDNN_RNN_BUILTIN_MAX_ISA)
  constexpr int kMaxIsa = CUDNN_RNN_BUILTIN_MAX_ISA;
#else
  constexpr int kMaxIsa = 2;
#endif
  __builtin_cpu_init();
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (kMaxIsa >= 2 && avx2 && __builtin_cpu_supports("avx512f")) return Isa::kAvx512;
  if (kMaxIsa >= 1 && avx2) return Isa::kAvx2;
#endif
  return Isa::kBase;
}

template <typename T>
void dispatch(const Problem<T>& q) {
  static const Isa isa = pick_isa();
#if GB_X86
  if (isa == Isa::kAvx512) return run_avx512(q);
  if (isa == Isa::kAvx2) return run_avx2(q);
#endif
  run_base(q);
}

// Shapes no kernel needs to see: nothing to write, or C = beta * C.
template <typename T>
void gemm_any(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, T alpha, const T* a,
              int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == T(0)) {
    for (int64_t i = 0; i < m; ++i) {
      T* ci = c + i * ldc;
      if (beta == T(0)) std::fill(ci, ci + n, T(0));
      else if (beta != T(1))
        for (int64_t j = 0; j < n; ++j) ci[j] *= beta;
    }
    return;
  }
  Problem<T> q{m, n, k, alpha, a, trans_a ? 1 : lda, trans_a ? lda : 1, b, trans_b ? 1 : ldb,
               trans_b ? ldb : 1, beta, c, ldc, 1};
  dispatch(q);
}

}  // namespace

void builtin_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc) {
  gemm_any(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

void builtin_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                  const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                  double* c, int64_t ldc) {
  gemm_any(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
}

}  // namespace blas
}  // namespace cpu
}  // namespace cudnn_rnn
