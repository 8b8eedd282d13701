// The cell seam as binding/ calls it: one step of an RNN/GRU/LSTM cell on
// the CPU backend or on a GPU, by the device that holds the tensors
// (core/cell_contract.h).
#pragma once
#include "../core/cell_contract.h"
#include "../core/device.h"
#include "../core/status.h"

namespace cudnn_rnn {
namespace dispatch {
namespace cell {

using ::cudnn_rnn::cell::BackwardArgs;
using ::cudnn_rnn::cell::Config;
using ::cudnn_rnn::cell::ForwardArgs;
using ::cudnn_rnn::cell::Mode;
using ::cudnn_rnn::cell::gate_count;
using ::cudnn_rnn::cell::save_width;

Status forward(Device device, const ForwardArgs& args);
Status backward(Device device, const BackwardArgs& args);

}  // namespace cell
}  // namespace dispatch
}  // namespace cudnn_rnn
