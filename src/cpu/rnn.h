// The CPU implementation of the RNN seam (core/rnn_contract.h).
#pragma once
#include <cstdint>
#include <vector>

#include "../core/rnn_contract.h"
#include "../core/status.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {

using ::cudnn_rnn::rnn::BackwardArgs;
using ::cudnn_rnn::rnn::Config;
using ::cudnn_rnn::rnn::ForwardArgs;
using ::cudnn_rnn::rnn::Mode;
using ::cudnn_rnn::rnn::ParamSlot;

using ::cudnn_rnn::rnn::gate_count;

// PyTorch's registration order: for layer, for direction: w_ih, w_hh, then
// b_ih, b_hh when cfg.bias, then w_hr when cfg.proj_size > 0 (LSTM). Each
// parameter is contiguous, row-major.
std::vector<ParamSlot> weight_layout(const Config& cfg);
int64_t weight_numel(const Config& cfg);

// Elements (of cfg.dtype) the training-mode forward saves for backward.
int64_t reserve_numel(const Config& cfg, int64_t seq_len, int64_t batch);

Status forward(const ForwardArgs& args);

Status backward(const BackwardArgs& args);

}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
