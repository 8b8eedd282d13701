// Per-device state of the CUDA backend, shared by the allocator, the kernels,
// cuBLAS and cuDNN. Internal to runtime/ (it needs the CUDA runtime headers,
// which only CUDA builds have).
#pragma once
#include <cuda_runtime_api.h>

#include <mutex>

#include "../../core/status.h"
#include "../cublas_api.h"
#include "../cudnn_api.h"

namespace cudnn_rnn {
namespace cuda {

struct DeviceContext {
  int index = 0;
  // The stream every piece of our work on this device is ordered on. A
  // non-blocking stream: the legacy default stream would serialise us with
  // every other library in the process.
  cudaStream_t stream = nullptr;
  // Made on first use and bound to `stream` (cublas_handle / cudnn_handle).
  cublas::Handle cublas = nullptr;
  cudnn::Handle cudnn = nullptr;
  // cuBLAS and cuDNN handles are not safe to use from two threads at once;
  // forwardAsync runs on a worker thread while the main thread may queue
  // other work. Hold this around every call that uses a handle.
  std::mutex handle_mu;
};

// The context of `device`, made on first use, after making `device` current
// on the calling thread (cudaSetDevice is per thread). Fails with
// BackendUnavailable when there is no usable driver or no such device.
Status device_context(int device, DeviceContext** out);

// Ok, or BackendFailure "what: cudaErrorIllegalAddress (an illegal memory
// access was encountered)". cudaErrorMemoryAllocation gives OutOfMemory.
Status cuda_status(cudaError_t err, const char* what);

// After a kernel launch: reports a bad launch configuration at once (faults
// inside the kernel surface at the next synchronising call).
Status check_launch(const char* kernel);

// The handles, created on first use and bound to the context's stream. They
// need discovery to have found the library: BackendUnavailable with its
// reason otherwise. The caller holds ctx.handle_mu while using them.
Status cublas_handle(DeviceContext& ctx, cublas::Handle* out);
Status cudnn_handle(DeviceContext& ctx, cudnn::Handle* out);

}  // namespace cuda
}  // namespace cudnn_rnn
