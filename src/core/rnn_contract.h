// The RNN backend seam (DESIGN.md decision 2): the one contract both the CPU
// and the cuDNN backend implement. A flat weight buffer with the parameters
// as views into it, x/hx in, y/hy/reserve out; backward consumes the reserve.
// Layout conversions (batch_first, unbatched) happen in lib/.
#pragma once
#include <cstdint>

#include "dtype.h"

namespace cudnn_rnn {
namespace rnn {

// Values are cuDNN's cudnnRNNMode_t so both backends share them.
enum class Mode : int32_t { RnnRelu = 0, RnnTanh = 1, Lstm = 2, Gru = 3 };

// Gate blocks per layer: RNN 1, GRU 3, LSTM 4.
inline int64_t gate_count(Mode mode) {
  switch (mode) {
    case Mode::RnnRelu:
    case Mode::RnnTanh: return 1;
    case Mode::Gru: return 3;
    case Mode::Lstm: return 4;
  }
  return 0;
}

struct Config {
  Mode mode = Mode::RnnTanh;
  DType dtype = DType::Float32;  // Float32 or Float64
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 1;
  bool bidirectional = false;
  bool bias = true;
  // LSTM only: the size of the projection h = (o * tanh(c)) W_hr^T; 0 = none.
  // The recurrent state and every output row then have proj_size units,
  // the cell state keeps hidden_size (cuDNN's projSize; PyTorch's proj_size).
  int64_t proj_size = 0;
  // float32 may use TF32 tensor cores (cuDNN backend; the CPU ignores it).
  // Captured per forward so that its backward runs the same descriptor.
  bool allow_tf32 = false;
};

// Units of the hidden state h (hx, hy, each output row): proj_size when
// the LSTM projects, hidden_size otherwise. The cell state c keeps hidden_size.
inline int64_t output_size(const Config& cfg) {
  return cfg.proj_size > 0 ? cfg.proj_size : cfg.hidden_size;
}

// One parameter's place in the flat weight buffer, in elements.
struct ParamSlot {
  int64_t offset;
  int64_t rows;
  int64_t cols;  // 0 for a bias vector
};

struct ForwardArgs {
  Config cfg;
  int64_t seq_len = 0;
  int64_t batch = 0;
  // Shapes with R = output_size(cfg) (the hidden units, or proj_size).
  const void* x = nullptr;   // (seq_len, batch, input_size), contiguous, time-major
  const void* hx = nullptr;  // (layers*dirs, batch, R) or nullptr for zeros
  const void* cx = nullptr;  // LSTM: (layers*dirs, batch, hidden) or nullptr for zeros
  const void* w = nullptr;   // weight_numel(cfg) elements laid out as weight_layout(cfg)
  void* y = nullptr;         // out: (seq_len, batch, dirs*R)
  void* hy = nullptr;        // out: (layers*dirs, batch, R)
  void* cy = nullptr;        // out, LSTM: (layers*dirs, batch, hidden), or nullptr (not wanted)
  void* reserve = nullptr;   // out: reserve_numel elements; nullptr = inference (saves nothing)
  double dropout = 0.0;      // applied to every layer's output but the last, when reserve != nullptr
  // Packed input (PyTorch's PackedSequence, cuDNN's SEQ_MAJOR_PACKED), or
  // nullptr for the padded (seq_len, batch) layout. batch_sizes[t], t <
  // seq_len, is non-increasing with batch_sizes[0] == batch: step t runs only
  // the first batch_sizes[t] sequences. x, y (and dx, dy) then hold
  // sum(batch_sizes) time-major rows; hx/hy keep (layers*dirs, batch, .),
  // hy being each sequence's state at its own last step (the reverse
  // direction starts there). The reserve keeps its padded size.
  const int64_t* batch_sizes = nullptr;
};

struct BackwardArgs {
  Config cfg;
  int64_t seq_len = 0;
  int64_t batch = 0;
  const void* x = nullptr;
  const void* hx = nullptr;       // as given to forward (nullptr = zeros)
  const void* cx = nullptr;       // LSTM: as given to forward (nullptr = zeros)
  const void* w = nullptr;
  const void* y = nullptr;        // the forward's output (cuDNN's backward reads it; the CPU's does not)
  const void* reserve = nullptr;  // filled by the training-mode forward
  const void* dy = nullptr;       // (seq_len, batch, dirs*R); nullptr = zeros
  const void* dhy = nullptr;      // (layers*dirs, batch, R); nullptr = zeros
  const void* dcy = nullptr;      // LSTM: (layers*dirs, batch, hidden); nullptr = zeros
  void* dx = nullptr;             // out, or nullptr when not needed
  void* dhx = nullptr;            // out, or nullptr when not needed
  void* dcx = nullptr;            // out, LSTM, or nullptr when not needed
  void* dw = nullptr;             // out (overwritten, same layout as w), or nullptr
  double dropout = 0.0;           // as given to the training forward (cuDNN's descriptor must match)
  const int64_t* batch_sizes = nullptr;  // as given to the forward (see ForwardArgs)
};

}  // namespace rnn
}  // namespace cudnn_rnn
