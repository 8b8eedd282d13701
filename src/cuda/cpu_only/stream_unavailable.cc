// cuda/stream.h without the CUDA runtime (a CPU-only build).
#include "../stream.h"

namespace cudnn_rnn {
namespace cuda {

namespace {
Status Unavailable() { return Status(StatusCode::BackendUnavailable, "cudnn-rnn: this build has no CUDA backend"); }
}  // namespace

Status device_stream(int, void**) { return Unavailable(); }
Status synchronize_stream(int) { return Unavailable(); }

}  // namespace cuda
}  // namespace cudnn_rnn
