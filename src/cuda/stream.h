// The stream our work on a device is ordered on, for libraries that queue
// work of their own beside ours (NCCL's collectives, src/dist/nccl.cc). The
// CPU-only build's stand-in (cpu_only/stream_unavailable.cc) reports
// BackendUnavailable.
#pragma once
#include "../core/status.h"

namespace cudnn_rnn {
namespace cuda {

// Makes `device` current on the calling thread and gives its stream (a cudaStream_t).
Status device_stream(int device, void** stream);
// Waits for everything queued on the device's stream.
Status synchronize_stream(int device);

}  // namespace cuda
}  // namespace cudnn_rnn
