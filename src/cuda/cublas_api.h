// The cuBLAS (v2 API) functions used so far, declared here (DESIGN.md 1).
// Names and prototypes from shared/reference/cudnn-api.md §5.1: identical in
// CUDA 11.4 to 13.0. Always dlsym the *_v2 names: a bare "cublasCreate" or
// "cublasSgemm" may be the legacy API with a different signature.
#pragma once
#include <cstddef>

namespace cudnn_rnn {
namespace cuda {
namespace cublas {

using Status = int;  // cublasStatus_t
constexpr Status kSuccess = 0;

// libraryPropertyType (library_types.h), argument of cublasGetProperty.
constexpr int kMajorVersion = 0;
constexpr int kMinorVersion = 1;
constexpr int kPatchLevel = 2;

struct Context;                // opaque, cublasContext
using Handle = Context*;       // cublasHandle_t

// cublasOperation_t (reference §5.2). C enums are int-sized in the ABI.
using Operation = int;
constexpr Operation kOpN = 0;
constexpr Operation kOpT = 1;

// cublasMath_t (reference §5.2). DEFAULT keeps strict FP32; TF32 is opt-in.
using Math = int;
constexpr Math kDefaultMath = 0;
constexpr Math kTf32TensorOpMath = 3;

// cublasStatus_t values the backend tells apart (reference §5.2).
constexpr Status kStatusAllocFailed = 3;

extern "C" {
typedef Status (*GetPropertyFn)(int type, int* value);
typedef size_t (*GetCudartVersionFn)(void);
typedef Status (*CreateFn)(Handle* handle);
typedef Status (*DestroyFn)(Handle handle);
typedef const char* (*GetStatusStringFn)(Status status);
typedef Status (*SetStreamFn)(Handle handle, void* stream);  // cudaStream_t
typedef Status (*SetMathModeFn)(Handle handle, Math mode);
typedef Status (*SgemmStridedBatchedFn)(Handle handle, Operation transa, Operation transb, int m, int n, int k,
                                        const float* alpha, const float* A, int lda, long long strideA,
                                        const float* B, int ldb, long long strideB, const float* beta, float* C,
                                        int ldc, long long strideC, int batchCount);
typedef Status (*DgemmStridedBatchedFn)(Handle handle, Operation transa, Operation transb, int m, int n, int k,
                                        const double* alpha, const double* A, int lda, long long strideA,
                                        const double* B, int ldb, long long strideB, const double* beta, double* C,
                                        int ldc, long long strideC, int batchCount);
}

struct Api {
  GetPropertyFn cublasGetProperty = nullptr;
  CreateFn cublasCreate_v2 = nullptr;
  DestroyFn cublasDestroy_v2 = nullptr;
  GetStatusStringFn cublasGetStatusString = nullptr;
  GetCudartVersionFn cublasGetCudartVersion = nullptr;  // optional
  // Bound when present (discovery accepts a library without them, as the
  // test suite's fake cuBLAS libraries lack them); the backend reports any it
  // lacks when it first needs it (runtime/context.cc, runtime/matmul.cc).
  SetStreamFn cublasSetStream_v2 = nullptr;
  SetMathModeFn cublasSetMathMode = nullptr;  // no _v2 name exists
  SgemmStridedBatchedFn cublasSgemmStridedBatched = nullptr;
  DgemmStridedBatchedFn cublasDgemmStridedBatched = nullptr;
};

}  // namespace cublas
}  // namespace cuda
}  // namespace cudnn_rnn
