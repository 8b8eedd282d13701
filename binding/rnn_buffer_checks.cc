#include "rnn_buffer_checks.h"

#include <string>
#include <vector>

#include "view_extents.h"

namespace cudnn_rnn {
namespace binding {

namespace {

constexpr int64_t kMaxIndex = 2147483647;  // INT32_MAX: BLAS and cuDNN dimensions
constexpr int64_t kMaxLayers = 1 << 20;     // lib/nn/rnn-limits.ts MAX_RNN_PARAMETERS

Status Invalid(const std::string& msg) {
  return Status(StatusCode::InvalidArgument, "cudnn-rnn native: " + msg);
}

// a * b without overflow, or false.
bool Mul(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }

struct Sizes {
  int64_t x = 0, state = 0, cell = 0, y = 0, w = 0;  // state: h's (proj_size units for a projected LSTM); cell: c's
};

// A packed input's per-step batch sizes: each in [1, batch], non-increasing,
// the first equal to batch. Returns their sum, the rows of x and y.
Status PackedRows(const int64_t* batch_sizes, int64_t seq_len, int64_t batch, int64_t* rows) {
  if (batch_sizes[0] != batch) return Invalid("packed batch sizes must start with the batch");
  int64_t total = 0;
  for (int64_t t = 0; t < seq_len; ++t) {
    const int64_t b = batch_sizes[t];
    if (b < 1 || b > batch || (t > 0 && b > batch_sizes[t - 1])) return Invalid("packed batch sizes must be non-increasing and in [1, batch]");
    total += b;  // <= seq_len * batch, which the caller has checked
  }
  *rows = total;
  return Status::Ok();
}

Status ComputeSizes(Device device, const rnn::Config& cfg, int64_t seq_len, int64_t batch, const int64_t* batch_sizes, Sizes* s) {
  if (seq_len < 1 || batch < 0) return Invalid("bad sequence length or batch");
  const int64_t dirs = cfg.bidirectional ? 2 : 1;
  const int64_t units = rnn::output_size(cfg);
  int64_t sb = 0, t = 0;
  if (!Mul(seq_len, batch, &sb)) return Invalid("RNN buffer sizes overflow");
  if (batch_sizes != nullptr) CUDNN_RNN_RETURN_IF_ERROR(PackedRows(batch_sizes, seq_len, batch, &sb));
  if ( !Mul(sb, cfg.input_size, &s->x) || !Mul(sb, dirs * units, &s->y) ||
      !Mul(cfg.num_layers * dirs, batch, &t) || !Mul(t, units, &s->state) || !Mul(t, cfg.hidden_size, &s->cell)) {
    return Invalid("RNN buffer sizes overflow");
  }
  // The flat weight buffer's size as this backend lays it out, for the last config seen
  // (a training loop repeats one config; the CPU layout is cheap, cuDNN's is not).
  static rnn::Config last_cfg;
  static Device last_device;
  static int64_t last_numel = -1;
  const bool same = last_numel >= 0 && last_device.type == device.type && last_device.index == device.index &&
                    last_cfg.mode == cfg.mode && last_cfg.dtype == cfg.dtype && last_cfg.input_size == cfg.input_size &&
                    last_cfg.hidden_size == cfg.hidden_size && last_cfg.num_layers == cfg.num_layers &&
                    last_cfg.bidirectional == cfg.bidirectional && last_cfg.bias == cfg.bias &&
                    last_cfg.proj_size == cfg.proj_size;
  if (!same) {
    std::vector<rnn::ParamSlot> slots;
    int64_t numel = 0;
    CUDNN_RNN_RETURN_IF_ERROR(dispatch::rnn::weight_layout(device, cfg, &slots, &numel));
    last_cfg = cfg;
    last_device = device;
    last_numel = numel;
  }
  s->w = last_numel;
  return Status::Ok();
}

// `data` must be a contiguous view of the config's dtype, on `device`, of exactly `numel` elements.
Status CheckBuffer(const char* name, const void* data, int64_t numel, DType dtype, Device device, bool required) {
  if (data == nullptr) return required ? Invalid(std::string(name) + " is missing") : Status::Ok();
  const View* v = LatestViewAt(data);
  if (v == nullptr) return Invalid(std::string(name) + " was not passed as a view");
  if (v->dtype != dtype) return Invalid(std::string(name) + " has the wrong dtype for the RNN config");
  if (v->device.type != device.type || v->device.index != device.index) return Invalid(std::string(name) + " is on another device");
  // An empty view reads nothing; its strides (lib/ uses max(size, 1)) need not look contiguous.
  if (v->numel() != 0 && !v->is_contiguous()) return Invalid(std::string(name) + " is not contiguous");
  if (v->numel() != numel) {
    return Invalid(std::string(name) + " has " + std::to_string(v->numel()) + " elements but the RNN config needs " + std::to_string(numel));
  }
  return Status::Ok();
}

}  // namespace

Status CheckRnnConfig(const rnn::Config& cfg) {
  const int64_t mode = static_cast<int64_t>(cfg.mode);
  if (mode < 0 || mode > 3) return Invalid("bad RNN mode");
  if (cfg.dtype != DType::Float32 && cfg.dtype != DType::Float64) return Invalid("RNN dtype must be float32 or float64");
  const int64_t blocks = rnn::gate_count(cfg.mode) * (cfg.bidirectional ? 2 : 1);
  if (cfg.input_size < 1 || cfg.input_size > kMaxIndex) return Invalid("input_size out of range");
  if (cfg.hidden_size < 1 || cfg.hidden_size > kMaxIndex / blocks) return Invalid("hidden_size out of range");
  if (cfg.num_layers < 1 || cfg.num_layers > kMaxLayers) return Invalid("num_layers out of range");
  if (cfg.proj_size < 0 || cfg.proj_size >= cfg.hidden_size) return Invalid("proj_size out of range");
  if (cfg.proj_size > 0 && cfg.mode != rnn::Mode::Lstm) return Invalid("proj_size is only supported for LSTM");
  return Status::Ok();
}

// The cell state exists only for LSTM: anything else must pass none.
static Status CheckCell(const char* name, const void* data, const rnn::Config& cfg, const Sizes& s, Device device) {
  if (cfg.mode == rnn::Mode::Lstm) return CheckBuffer(name, data, s.cell, cfg.dtype, device, false);
  return data == nullptr ? Status::Ok() : Invalid(std::string(name) + " given to an RNN without a cell state");
}

Status CheckForwardBuffers(Device device, const rnn::ForwardArgs& a) {
  CUDNN_RNN_RETURN_IF_ERROR(CheckRnnConfig(a.cfg));
  Sizes s;
  CUDNN_RNN_RETURN_IF_ERROR(ComputeSizes(device, a.cfg, a.seq_len, a.batch, a.batch_sizes, &s));
  const DType dt = a.cfg.dtype;
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("x", a.x, s.x, dt, device, true));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("hx", a.hx, s.state, dt, device, false));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("w", a.w, s.w, dt, device, true));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("y", a.y, s.y, dt, device, true));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("hy", a.hy, s.state, dt, device, true));
  CUDNN_RNN_RETURN_IF_ERROR(CheckCell("cx", a.cx, a.cfg, s, device));
  CUDNN_RNN_RETURN_IF_ERROR(CheckCell("cy", a.cy, a.cfg, s, device));
  if (a.reserve != nullptr) {
    int64_t reserve = 0;
    CUDNN_RNN_RETURN_IF_ERROR(dispatch::rnn::reserve_numel(device, a.cfg, a.seq_len, a.batch, a.dropout, &reserve, a.batch_sizes));
    CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("reserve", a.reserve, reserve, dt, device, true));
  }
  return Status::Ok();
}

Status CheckBackwardBuffers(Device device, const rnn::BackwardArgs& a) {
  CUDNN_RNN_RETURN_IF_ERROR(CheckRnnConfig(a.cfg));
  Sizes s;
  CUDNN_RNN_RETURN_IF_ERROR(ComputeSizes(device, a.cfg, a.seq_len, a.batch, a.batch_sizes, &s));
  const DType dt = a.cfg.dtype;
  int64_t reserve = 0;
  CUDNN_RNN_RETURN_IF_ERROR(dispatch::rnn::reserve_numel(device, a.cfg, a.seq_len, a.batch, a.dropout, &reserve, a.batch_sizes));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("x", a.x, s.x, dt, device, true));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("hx", a.hx, s.state, dt, device, false));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("w", a.w, s.w, dt, device, true));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("y", a.y, s.y, dt, device, true));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("reserve", a.reserve, reserve, dt, device, true));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("dy", a.dy, s.y, dt, device, false));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("dhy", a.dhy, s.state, dt, device, false));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("dx", a.dx, s.x, dt, device, false));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("dhx", a.dhx, s.state, dt, device, false));
  CUDNN_RNN_RETURN_IF_ERROR(CheckBuffer("dw", a.dw, s.w, dt, device, false));
  CUDNN_RNN_RETURN_IF_ERROR(CheckCell("cx", a.cx, a.cfg, s, device));
  CUDNN_RNN_RETURN_IF_ERROR(CheckCell("dcy", a.dcy, a.cfg, s, device));
  CUDNN_RNN_RETURN_IF_ERROR(CheckCell("dcx", a.dcx, a.cfg, s, device));
  return Status::Ok();
}

}  // namespace binding
}  // namespace cudnn_rnn
