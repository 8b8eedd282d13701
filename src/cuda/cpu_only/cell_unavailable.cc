// The CUDA cell step's stand-in in an addon built without nvcc (cuda/cell.h),
// beside backend_unavailable.cc's for the rest of the CUDA backend: lib/
// refuses 'cuda' before this runs; it keeps a bug there from becoming a crash.
#include "../cell.h"

namespace cudnn_rnn {
namespace cuda {
namespace cell {

namespace {
Status unavailable() {
  return Status(StatusCode::BackendUnavailable,
                "this cudnn-rnn addon was built without CUDA (nvcc was not found when it was compiled), so its "
                "cells cannot run on a GPU; rebuild on a machine with the CUDA toolkit, or use a prebuilt binary");
}
}  // namespace

Status forward(int, const ForwardArgs&) { return unavailable(); }
Status backward(int, const BackwardArgs&) { return unavailable(); }

}  // namespace cell
}  // namespace cuda
}  // namespace cudnn_rnn
