// The GPU self-test that 'auto' and 'cuda' run once, before choosing the GPU
// (lib/backend.ts): discovery only proves that the libraries open and cuInit
// works; the first real CUDA work would otherwise happen at `new nn.GRU` and
// fail there as an exception. Each step names what failed; lib/cuda.ts words
// the fix.
//   driver          the driver runs the CUDA major of the addon's static runtime
//                   (13.0 needs driver >= 580; else a newer driver or cuda-compat)
//   context         a CUDA context and our stream on the device
//   cudnnCreate     a cuDNN handle
//   cublasCreate    a cuBLAS handle
//   kernel          one tiny kernel of ours (a fill), read back and checked
//   cudnnRNNForward one tiny GRU training forward through cuDNN
//   cudnnRNNBackward its backward (data and weights)
#pragma once
#include <string>

namespace cudnn_rnn {
namespace cuda {

struct SelfTestResult {
  bool ok = false;
  std::string step;    // the step that failed ("" when ok)
  std::string reason;  // its error ("" when ok)
};

// Runs once per device and process; later calls return the first verdict.
// Never throws. In a CPU-only build: not ok, step "build".
SelfTestResult self_test(int device);

}  // namespace cuda
}  // namespace cudnn_rnn
