// Compiled by nvcc when it is found at build time (CMakeLists.txt), linking
// the CUDA runtime statically (DESIGN.md decision 1): the addon then carries
// its own runtime and needs only the driver on the user's machine. Reports
// the runtime version; the GPU kernels join this folder with the cuDNN backend.
#include <cuda_runtime_api.h>

#include "../runtime_probe.h"

extern "C" int cudnn_rnn_cudart_version(void) {
  int version = 0;
  // Needs no driver: the static runtime knows its own version.
  if (cudaRuntimeGetVersion(&version) != cudaSuccess) return 0;
  return version;
}
