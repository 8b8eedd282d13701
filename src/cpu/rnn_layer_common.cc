// Pieces every whole-sequence driver (RNN/GRU and LSTM, forward and
// backward) shares: the reserve header and a layer's input projection.
#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

template <typename S>
void write_reserve_header(S* reserve, double p) {
  std::fill(reserve, reserve + kReserveHeader, S(0));
  reserve[0] = S(kReserveMagic);
  reserve[1] = S(p);
}

template <typename S>
Status read_reserve_header(const S* reserve, bool* dropped) {
  if (reserve[0] != S(kReserveMagic))
    return Status(StatusCode::InvalidArgument, "rnn backward: the reserve was not filled by a training-mode forward");
  *dropped = reserve[1] > S(0);
  return Status::Ok();
}

template <typename S>
void project_inputs(const Dims& d, const S* w, int64_t layer, const S* in, int64_t rows, S* gi_all) {
  const int64_t I = d.in_size(layer), GH = d.G * d.H;
  // A tiny one (the latency case: 20 x 192 x 64) is cheaper on the dot
  // kernel, which reads W_ih in place, than in a BLAS that packs it first.
  const bool tiny = rows * GH * I <= (int64_t(1) << 18) && cpu_isa() != Isa::Baseline;
  for (int64_t dir = 0; dir < d.D; ++dir) {
    const S* w_ih = w + weight_offsets(d, layer, dir).w_ih;
    S* gi = gi_all + dir * rows * GH;
    if (tiny) gemm_nt_small<S>(rows, GH, I, in, I, w_ih, I, gi, GH);
    else gemm<S>(false, true, rows, GH, I, S(1), in, I, w_ih, I, S(0), gi, GH);
  }
}

template void write_reserve_header<float>(float*, double);
template void write_reserve_header<double>(double*, double);
template Status read_reserve_header<float>(const float*, bool*);
template Status read_reserve_header<double>(const double*, bool*);
template void project_inputs<float>(const Dims&, const float*, int64_t, const float*, int64_t, float*);
template void project_inputs<double>(const Dims&, const double*, int64_t, const double*, int64_t, double*);

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
