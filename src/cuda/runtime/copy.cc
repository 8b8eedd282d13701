// Copies between host and device memory, and waiting for a device (memory.h).
//
// Host memory here is ordinary pageable memory (tensors' host storages and
// JS typed arrays). Both directions queue cudaMemcpyAsync on the device's
// stream, so the copy is ordered after the work already queued there (the
// kernels that produced a result, a reused block's previous owner), and then
// synchronise the stream:
//   - to the device: the caller may reuse or free `src` once we return. With
//     pageable memory the runtime would return after staging `src` anyway;
//     waiting for the whole copy is simpler to reason about and costs little
//     next to a pageable transfer. It also reports an earlier kernel fault
//     here rather than at some unrelated later call.
//   - to the host: `dst` holds the data when we return.
// A device-to-device copy is only queued.
#include "../memory.h"
#include "context.h"

namespace cudnn_rnn {
namespace cuda {

bool built_with_cuda() { return true; }

Status copy_to_device(int device, void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return Status::Ok();
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  CUDNN_RNN_RETURN_IF_ERROR(cuda_status(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyHostToDevice, ctx->stream),
                                        "cudaMemcpyAsync (host to device)"));
  return cuda_status(cudaStreamSynchronize(ctx->stream), "cudaStreamSynchronize after a copy to the device");
}

Status copy_to_host(int device, void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return Status::Ok();
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  CUDNN_RNN_RETURN_IF_ERROR(cuda_status(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToHost, ctx->stream),
                                        "cudaMemcpyAsync (device to host)"));
  return cuda_status(cudaStreamSynchronize(ctx->stream), "cudaStreamSynchronize after a copy to the host");
}

Status copy_on_device(int device, void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0 || dst == src) return Status::Ok();
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  return cuda_status(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, ctx->stream),
                     "cudaMemcpyAsync (device to device)");
}

Status synchronize(int device) {
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  // A fault inside an earlier kernel (an illegal address, say) surfaces here.
  return cuda_status(cudaStreamSynchronize(ctx->stream), "CUDA error in queued GPU work (reported by cudaStreamSynchronize)");
}

}  // namespace cuda
}  // namespace cudnn_rnn
