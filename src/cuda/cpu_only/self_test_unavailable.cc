// The CPU-only build's self-test: there is no GPU code to test.
#include "../self_test.h"

namespace cudnn_rnn {
namespace cuda {

SelfTestResult self_test(int) {
  SelfTestResult r;
  r.step = "build";
  r.reason = "this cudnn-rnn addon was built without CUDA, so it has no GPU kernels";
  return r;
}

}  // namespace cuda
}  // namespace cudnn_rnn
