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

extern "C" {
typedef Status (*GetPropertyFn)(int type, int* value);
typedef size_t (*GetCudartVersionFn)(void);
typedef Status (*CreateFn)(Handle* handle);
typedef Status (*DestroyFn)(Handle handle);
typedef const char* (*GetStatusStringFn)(Status status);
}

struct Api {
  GetPropertyFn cublasGetProperty = nullptr;
  CreateFn cublasCreate_v2 = nullptr;
  DestroyFn cublasDestroy_v2 = nullptr;
  GetStatusStringFn cublasGetStatusString = nullptr;
  GetCudartVersionFn cublasGetCudartVersion = nullptr;  // optional
};

}  // namespace cublas
}  // namespace cuda
}  // namespace cudnn_rnn
