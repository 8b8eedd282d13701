// The CPU implementation of the cell seam (core/cell_contract.h): both
// products through the BLAS (or the built-in GEMM), the gate maths in one
// pass per batch row, vectorised transcendental calls on contiguous gate
// blocks. Follows PyTorch's CPU cell maths (RNN.cpp SimpleCell, GRUCell,
// LSTMCell): gi and gh each carry their own bias and are added as gh + gi.
#pragma once
#include "../core/cell_contract.h"
#include "../core/status.h"

namespace cudnn_rnn {
namespace cpu {
namespace cell {

using ::cudnn_rnn::cell::BackwardArgs;
using ::cudnn_rnn::cell::Config;
using ::cudnn_rnn::cell::ForwardArgs;

Status forward(const ForwardArgs& args);
Status backward(const BackwardArgs& args);

}  // namespace cell
}  // namespace cpu
}  // namespace cudnn_rnn
