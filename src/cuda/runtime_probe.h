// The statically linked CUDA runtime, when the build had nvcc.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

// CUDART_VERSION-style number (e.g. 13000), or 0 when unavailable.
int cudnn_rnn_cudart_version(void);

#ifdef __cplusplus
}
#endif

namespace cudnn_rnn {
namespace cuda {

// 0 when the addon was built without nvcc (CPU-only build).
inline int linked_runtime_version() {
#ifdef CUDNN_RNN_WITH_CUDA_RUNTIME
  return cudnn_rnn_cudart_version();
#else
  return 0;
#endif
}

}  // namespace cuda
}  // namespace cudnn_rnn
