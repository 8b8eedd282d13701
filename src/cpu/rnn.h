// The RNN backend seam (DESIGN.md decision 2), CPU implementation. The same
// contract is implemented by the cuDNN backend: a flat weight buffer with the
// parameters as views into it, x/hx in, y/hy/reserve out; backward consumes
// the reserve. Layout conversions (batch_first, unbatched) happen in lib/.
#pragma once
#include <cstdint>
#include <vector>

#include "../core/dtype.h"
#include "../core/status.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {

// Values are cuDNN's cudnnRNNMode_t so both backends share them.
enum class Mode : int32_t { RnnRelu = 0, RnnTanh = 1, Lstm = 2, Gru = 3 };

struct Config {
  Mode mode = Mode::RnnTanh;
  DType dtype = DType::Float32;  // Float32 or Float64
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 1;
  bool bidirectional = false;
  bool bias = true;
};

int64_t gate_count(Mode mode);  // RNN 1, GRU 3, LSTM 4

// One parameter's place in the flat weight buffer, in elements.
struct ParamSlot {
  int64_t offset;
  int64_t rows;
  int64_t cols;  // 0 for a bias vector
};

// PyTorch's registration order: for layer, for direction: w_ih, w_hh, then
// b_ih, b_hh when cfg.bias. Each parameter is contiguous, row-major.
std::vector<ParamSlot> weight_layout(const Config& cfg);
int64_t weight_numel(const Config& cfg);

// Elements (of cfg.dtype) the training-mode forward saves for backward.
int64_t reserve_numel(const Config& cfg, int64_t seq_len, int64_t batch);

struct ForwardArgs {
  Config cfg;
  int64_t seq_len = 0;
  int64_t batch = 0;
  const void* x = nullptr;   // (seq_len, batch, input_size), contiguous, time-major
  const void* hx = nullptr;  // (layers*dirs, batch, hidden) or nullptr for zeros
  const void* w = nullptr;   // weight_numel(cfg) elements laid out as weight_layout(cfg)
  void* y = nullptr;         // out: (seq_len, batch, dirs*hidden)
  void* hy = nullptr;        // out: (layers*dirs, batch, hidden)
  void* reserve = nullptr;   // out: reserve_numel elements; nullptr = inference (saves nothing)
  double dropout = 0.0;      // applied to every layer's output but the last, when reserve != nullptr
};

Status forward(const ForwardArgs& args);

struct BackwardArgs {
  Config cfg;
  int64_t seq_len = 0;
  int64_t batch = 0;
  const void* x = nullptr;
  const void* hx = nullptr;       // as given to forward (nullptr = zeros)
  const void* w = nullptr;
  const void* reserve = nullptr;  // filled by the training-mode forward
  const void* dy = nullptr;       // (seq_len, batch, dirs*hidden); nullptr = zeros
  const void* dhy = nullptr;      // (layers*dirs, batch, hidden); nullptr = zeros
  void* dx = nullptr;             // out, or nullptr when not needed
  void* dhx = nullptr;            // out, or nullptr when not needed
  void* dw = nullptr;             // out (overwritten, same layout as w), or nullptr
};

Status backward(const BackwardArgs& args);

}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
