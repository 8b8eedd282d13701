// Where things live: the flat weight buffer (PyTorch's registration order, the
// contract shared with the cuDNN backend and lib/) and the reserve that the
// training forward fills for backward (layout described in rnn_internal.h).
#include <algorithm>
#include <vector>

#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {

namespace detail {
namespace {

int64_t round_up(int64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

}  // namespace

// Sizes a caller could ask for that would overflow int64 arithmetic below are
// refused up front (lib/ validates too; this only keeps bad input from
// turning into wild pointers). 2^50 elements is far beyond any real machine.
bool config_sane(const Config& cfg) {
  const double kMax = 1125899906842624.0;  // 2^50
  if (gate_count(cfg.mode) == 0) return false;
  if (cfg.input_size <= 0 || cfg.hidden_size <= 0 || cfg.num_layers <= 0) return false;
  // Only an LSTM projects, and only to fewer units than it has (PyTorch's rule).
  if (cfg.proj_size < 0 || (cfg.proj_size > 0 && (cfg.mode != Mode::Lstm || cfg.proj_size >= cfg.hidden_size)))
    return false;
  double g = static_cast<double>(gate_count(cfg.mode)) * static_cast<double>(cfg.hidden_size);
  double in = std::max(static_cast<double>(cfg.input_size), 2.0 * cfg.hidden_size);
  return g * (in + cfg.hidden_size + 2.0) * 2.0 * cfg.num_layers < kMax;
}

bool shape_sane(const Config& cfg, int64_t seq_len, int64_t batch) {
  if (!config_sane(cfg) || seq_len < 1 || batch < 0) return false;
  // Largest per-call buffer: the reserve, about T*N*D*H*(3 + 7D)*L elements.
  double d = cfg.bidirectional ? 2.0 : 1.0;
  double approx = static_cast<double>(seq_len) * static_cast<double>(batch) * d *
                  static_cast<double>(cfg.hidden_size) * (3.0 + 7.0 * d) * cfg.num_layers;
  double in = static_cast<double>(seq_len) * static_cast<double>(batch) *
              static_cast<double>(cfg.input_size);
  return approx < 1125899906842624.0 && in < 1125899906842624.0;
}

namespace {

// Elements of one (layer, direction) block of the flat weight buffer.
int64_t block_numel(const Dims& d, int64_t layer) {
  int64_t gh = d.G * d.H;
  return gh * d.in_size(layer) + gh * d.R + (d.bias ? 2 * gh : 0) + d.P * d.H;
}

}  // namespace

Dims make_dims(const Config& cfg, int64_t seq_len, int64_t batch) {
  Dims d;
  d.mode = cfg.mode;
  d.bias = cfg.bias;
  d.T = seq_len;
  d.N = batch;
  d.I = cfg.input_size;
  d.H = cfg.hidden_size;
  d.P = cfg.mode == Mode::Lstm ? cfg.proj_size : 0;
  d.R = d.P > 0 ? d.P : d.H;
  d.G = gate_count(cfg.mode);
  d.D = cfg.bidirectional ? 2 : 1;
  d.L = cfg.num_layers;
  return d;
}

WeightOffsets weight_offsets(const Dims& d, int64_t layer, int64_t dir) {
  // Layer 0 blocks take input_size columns, later ones D*H: sum the earlier blocks.
  int64_t at = 0;
  if (layer > 0) at = d.D * block_numel(d, 0) + (layer - 1) * d.D * block_numel(d, 1);
  at += dir * block_numel(d, layer);
  const int64_t gh = d.G * d.H;
  WeightOffsets w;
  w.w_ih = at;
  w.w_hh = at + gh * d.in_size(layer);
  w.b_ih = d.bias ? w.w_hh + gh * d.R : kNone;
  w.b_hh = d.bias ? w.b_ih + gh : kNone;
  w.w_hr = d.P > 0 ? w.w_hh + gh * d.R + (d.bias ? 2 * gh : 0) : kNone;
  return w;
}

int64_t save_width(const Dims& d) {
  switch (d.mode) {
    case Mode::Gru: return 4 * d.H;  // r, z, n, hn
    case Mode::Lstm: return (d.P > 0 ? 7 : 6) * d.H;  // i, f, g, o, c, tanh(c) [, o * tanh(c)]
    default: return 0;               // RNN: backward needs only the outputs
  }
}

namespace {

// Elements of layer `layer`'s part of the reserve.
int64_t reserve_layer_numel(const Dims& d, int64_t layer) {
  const int64_t tn = d.T * d.N;
  int64_t n = round_up(tn * d.D * d.R);                         // out
  if (layer < d.L - 1) n += 2 * round_up(tn * d.D * d.R);       // mask, drop
  n += d.D * round_up(tn * save_width(d));                      // gates
  return n;
}

}  // namespace

ReserveOffsets reserve_offsets(const Dims& d, int64_t layer) {
  // Every layer but the last has the same size, so no loop is needed.
  int64_t at = kReserveHeader + layer * reserve_layer_numel(d, 0);
  const int64_t y = round_up(d.T * d.N * d.D * d.R);
  ReserveOffsets r;
  r.out = at;
  at += y;
  r.mask = r.drop = kNone;
  if (layer < d.L - 1) {
    r.mask = at;
    r.drop = at + y;
    at += 2 * y;
  }
  const int64_t sw = round_up(d.T * d.N * save_width(d));
  for (int64_t dir = 0; dir < 2; ++dir)
    r.gates[dir] = (sw > 0 && dir < d.D) ? at + dir * sw : kNone;
  return r;
}

int64_t reserve_total(const Dims& d) {
  return kReserveHeader + (d.L - 1) * reserve_layer_numel(d, 0) + reserve_layer_numel(d, d.L - 1);
}

}  // namespace detail

std::vector<ParamSlot> weight_layout(const Config& cfg) {
  std::vector<ParamSlot> slots;
  if (!detail::config_sane(cfg)) return slots;
  detail::Dims d = detail::make_dims(cfg, 1, 1);
  const int64_t gh = d.G * d.H;
  for (int64_t l = 0; l < d.L; ++l) {
    for (int64_t dir = 0; dir < d.D; ++dir) {
      detail::WeightOffsets w = detail::weight_offsets(d, l, dir);
      slots.push_back({w.w_ih, gh, d.in_size(l)});
      slots.push_back({w.w_hh, gh, d.R});
      if (d.bias) {
        slots.push_back({w.b_ih, gh, 0});
        slots.push_back({w.b_hh, gh, 0});
      }
      if (d.P > 0) slots.push_back({w.w_hr, d.P, d.H});
    }
  }
  return slots;
}

int64_t weight_numel(const Config& cfg) {
  if (!detail::config_sane(cfg)) return 0;
  detail::Dims d = detail::make_dims(cfg, 1, 1);
  return d.D * detail::block_numel(d, 0) + (d.L - 1) * d.D * detail::block_numel(d, 1);
}

// -1 for a config or shape that forward() would refuse.
int64_t reserve_numel(const Config& cfg, int64_t seq_len, int64_t batch) {
  if (!detail::shape_sane(cfg, seq_len, batch)) return -1;
  return detail::reserve_total(detail::make_dims(cfg, seq_len, batch));
}

}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
