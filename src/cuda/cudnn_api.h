// The cuDNN functions used so far, declared here (DESIGN.md 1: the cuDNN
// headers are not on the build machines). Prototypes and values from
// shared/reference/cudnn-api.md §1.1 and §2, identical in cuDNN 8 and 9.
// The RNN functions join this table when the cuDNN backend arrives.
#pragma once
#include <cstddef>

namespace cudnn_rnn {
namespace cuda {
namespace cudnn {

// cudnnStatus_t: an enum whose values differ between cuDNN 8 and 9; see
// cudnn_status.h for the names.
using Status = int;
constexpr Status kSuccess = 0;  // the one value both majors share

// libraryPropertyType (library_types.h), argument of cudnnGetProperty.
constexpr int kMajorVersion = 0;
constexpr int kMinorVersion = 1;
constexpr int kPatchLevel = 2;

extern "C" {
typedef size_t (*GetVersionFn)(void);         // 8: M*1000+m*100+p; 9: M*10000+m*100+p
typedef size_t (*GetCudartVersionFn)(void);   // CUDA runtime it was built with, 12080 = 12.8
typedef const char* (*GetErrorStringFn)(Status status);
typedef Status (*GetPropertyFn)(int type, int* value);
}

struct Api {
  GetVersionFn cudnnGetVersion = nullptr;
  GetErrorStringFn cudnnGetErrorString = nullptr;
  GetPropertyFn cudnnGetProperty = nullptr;
  GetCudartVersionFn cudnnGetCudartVersion = nullptr;  // optional
};

}  // namespace cudnn
}  // namespace cuda
}  // namespace cudnn_rnn
