// CPU BLAS found at run time (DESIGN.md decision 1 and 3): OpenBLAS, MKL or
// BLIS through their CBLAS interface, opened with dlopen; a built-in GEMM
// when none is found. Row-major throughout.
#pragma once
#include <cstdint>
#include <string>

namespace cudnn_rnn {
namespace cpu {
namespace blas {

struct Info {
  std::string vendor;     // "OpenBLAS", "MKL", "BLIS" or "builtin"
  std::string version;    // as the library reports it ("" when unknown)
  std::string path;       // the file that was dlopened ("" for builtin)
  std::string core;       // kernel family in use (openblas_get_corename), "" when unknown
  std::string config;     // openblas_get_config() or equivalent, "" when unknown
  int threads = 1;        // threads the library will use
  std::string reason;     // why the built-in GEMM is in use, "" otherwise
  std::string tried;      // "path: dlerror" lines for every candidate that failed
};

// Loads the library on first use (thread-safe). Environment, read once:
//   CUDNN_RNN_BLAS          a library path to use, or "none" to force the built-in GEMM
//   CUDNN_RNN_NUM_THREADS   threads for the BLAS (default: online cores)
const Info& info();

// C = alpha * op(A) * op(B) + beta * C, row-major, op = transpose when trans*.
// A is M x K after op, B is K x N after op, C is M x N.
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
          const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
          int64_t ldc);
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
          const double* a, int64_t lda, const double* b, int64_t ldb, double beta, double* c,
          int64_t ldc);

// The built-in GEMM, exposed so tests and benchmarks can compare it to the BLAS.
void builtin_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
                  int64_t ldc);
void builtin_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                  const double* a, int64_t lda, const double* b, int64_t ldb, double beta,
                  double* c, int64_t ldc);

}  // namespace blas
}  // namespace cpu
}  // namespace cudnn_rnn
