// The RNN seam as binding/ calls it: to the CPU backend or to cuDNN,
// by the device that holds the tensors (core/rnn_contract.h).
#pragma once
#include <cstdint>
#include <vector>

#include "../core/device.h"
#include "../core/rnn_contract.h"
#include "../core/status.h"

namespace cudnn_rnn {
namespace dispatch {
namespace rnn {

using ::cudnn_rnn::rnn::BackwardArgs;
using ::cudnn_rnn::rnn::Config;
using ::cudnn_rnn::rnn::ForwardArgs;
using ::cudnn_rnn::rnn::Mode;
using ::cudnn_rnn::rnn::ParamSlot;

// Where each parameter lives in the flat weight buffer of `device`'s
// backend: our packed layout on the CPU, cuDNN's weight space on a GPU.
Status weight_layout(Device device, const Config& cfg, std::vector<ParamSlot>* slots, int64_t* numel);
// `dropout` as the training forward will get it (cuDNN's reserve holds its masks).
// batch_sizes: a packed input's (ForwardArgs::batch_sizes), or nullptr.
Status reserve_numel(Device device, const Config& cfg, int64_t seq_len, int64_t batch, double dropout, int64_t* numel,
                     const int64_t* batch_sizes = nullptr);
Status forward(Device device, const ForwardArgs& args);
Status backward(Device device, const BackwardArgs& args);

}  // namespace rnn
}  // namespace dispatch
}  // namespace cudnn_rnn
