// cuda/stream.h on the CUDA runtime.
#include "../stream.h"

#include "context.h"

namespace cudnn_rnn {
namespace cuda {

Status device_stream(int device, void** stream) {
  DeviceContext* ctx = nullptr;
  Status s = device_context(device, &ctx);
  if (!s.ok()) return s;
  *stream = ctx->stream;
  return Status::Ok();
}

Status synchronize_stream(int device) {
  DeviceContext* ctx = nullptr;
  Status s = device_context(device, &ctx);
  if (!s.ok()) return s;
  return cuda_status(cudaStreamSynchronize(ctx->stream), "cudaStreamSynchronize");
}

}  // namespace cuda
}  // namespace cudnn_rnn
