// The last line of defence of the RNN seam: every buffer a kernel will read
// or write is checked against the config the kernel runs (not against what
// lib/ believed), so no slip in lib/ can make a kernel touch memory outside
// its storages. lib/ has checked all of this already, with clear messages;
// a failure here is reported as ERR_CUDNN_RNN_INVALID_ARGUMENT.
#pragma once
#include "core/status.h"
#include "dispatch/rnn.h"

namespace cudnn_rnn {
namespace binding {

// Sizes that can be allocated and indexed (32-bit BLAS/cuDNN dimensions).
Status CheckRnnConfig(const rnn::Config& cfg);
Status CheckForwardBuffers(Device device, const rnn::ForwardArgs& args);
Status CheckBackwardBuffers(Device device, const rnn::BackwardArgs& args);

}  // namespace binding
}  // namespace cudnn_rnn
