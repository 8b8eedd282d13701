// The cell seam (DESIGN.md decision 2, last line): one time step of
// nn.RNNCell / nn.GRUCell / nn.LSTMCell, forward and backward each one call
// on the backend that holds the tensors. Both products (x W_ih^T, h W_hh^T)
// and the gate maths happen inside the call; the training forward saves the
// activations its backward needs, and the backward gives every gradient at
// once. The parameters are the module's own four tensors (a cell has no flat
// weight buffer); unbatched input and argument checks are lib/'s job.
#pragma once
#include <cstdint>

#include "dtype.h"
#include "rnn_contract.h"

namespace cudnn_rnn {
namespace cell {

// RnnTanh, RnnRelu, Gru, Lstm: the same codes as the RNN seam.
using Mode = ::cudnn_rnn::rnn::Mode;
using ::cudnn_rnn::rnn::gate_count;

struct Config {
  Mode mode = Mode::RnnTanh;
  DType dtype = DType::Float32;  // Float32 or Float64
  int64_t input_size = 0;        // may be 0 (PyTorch's cells check nothing)
  int64_t hidden_size = 0;       // may be 0
  bool bias = true;
};

// Values per batch row the training forward saves for its backward (lib/ops/cell.ts
// mirrors this): RNN h' (act' is a function of the output); GRU [r | z | n | hn]
// with hn = W_hn h + b_hn (the reset gate multiplies it); LSTM
// [i | f | g | o | tanh(c')].
inline int64_t save_width(Mode mode, int64_t hidden) {
  switch (mode) {
    case Mode::RnnRelu:
    case Mode::RnnTanh: return hidden;
    case Mode::Gru: return 4 * hidden;
    case Mode::Lstm: return 5 * hidden;
  }
  return 0;
}

// Every buffer is contiguous and row-major, with G = gate_count(mode) and
// H = hidden_size; PyTorch's gate order (GRU r|z|n, LSTM i|f|g|o).
struct ForwardArgs {
  Config cfg;
  int64_t batch = 0;
  const void* x = nullptr;     // (batch, input_size)
  const void* hx = nullptr;    // (batch, H), nullptr = zeros
  const void* cx = nullptr;    // LSTM: (batch, H), nullptr = zeros; else unused
  const void* w_ih = nullptr;  // (G*H, input_size)
  const void* w_hh = nullptr;  // (G*H, H)
  const void* b_ih = nullptr;  // (G*H); nullptr when !cfg.bias
  const void* b_hh = nullptr;  // (G*H); nullptr when !cfg.bias
  void* hy = nullptr;          // out: (batch, H)
  void* cy = nullptr;          // out, LSTM only: (batch, H)
  void* save = nullptr;        // out: (batch, save_width); nullptr = inference
};

struct BackwardArgs {
  Config cfg;
  int64_t batch = 0;
  const void* x = nullptr;     // as given to forward
  const void* hx = nullptr;    // as given to forward (nullptr = zeros)
  const void* cx = nullptr;    // as given to forward (LSTM; nullptr = zeros)
  const void* w_ih = nullptr;
  const void* w_hh = nullptr;
  const void* save = nullptr;  // filled by the training forward
  const void* dhy = nullptr;   // (batch, H); nullptr = zeros
  const void* dcy = nullptr;   // LSTM: (batch, H); nullptr = zeros
  // Outputs, each overwritten, or nullptr when not wanted.
  void* dx = nullptr;     // (batch, input_size)
  void* dhx = nullptr;    // (batch, H)
  void* dcx = nullptr;    // LSTM: (batch, H)
  void* dw_ih = nullptr;  // (G*H, input_size)
  void* dw_hh = nullptr;  // (G*H, H); zeros when hx is nullptr
  void* db_ih = nullptr;  // (G*H)
  void* db_hh = nullptr;  // (G*H)
};

}  // namespace cell
}  // namespace cudnn_rnn
