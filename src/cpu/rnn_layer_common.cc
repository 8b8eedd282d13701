// Pieces every whole-sequence driver (RNN/GRU and LSTM, forward and
// backward) shares: the reserve header and a layer's input projection.
#include <algorithm>

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

// The team computes a large projection itself with the packed kernel
// (rnn_kernels_packed.cc): it runs ~210 GFLOP/s a core here against ~180
// for OpenBLAS's sgemm, and the BLAS's own threads, which spin with
// sched_yield for a while after each call, then never compete with the team
// during the recurrence that follows (they took ~14% of the samples of an
// LSTM forward). Without a team (or a vector ISA) the BLAS does it.
static bool team_projects(const TeamLease& team) {
  return team.size() > 1 && cpu_isa() != Isa::Baseline;
}

template <typename S>
int64_t projection_pack_numel(const Dims& d, const TeamLease& team) {
  if (!team_projects(team)) return 0;
  int64_t most = 0;
  for (int64_t l = 0; l < d.L; ++l) most = std::max(most, packed_numel<S>(d.in_size(l), d.G * d.H));
  return d.D * most;
}

template <typename S>
void project_inputs(const Dims& d, const S* w, int64_t layer, const S* in, int64_t rows, S* gi_all,
                    TeamLease& team, S* pack_ws) {
  const int64_t I = d.in_size(layer), GH = d.G * d.H;
  if (rows <= 0) return;
  // A tiny one (the latency case: 20 x 192 x 64) is cheaper on the dot
  // kernel, which reads W_ih in place, than in a BLAS that packs it first.
  const bool tiny = rows * GH * I <= (int64_t(1) << 18) && cpu_isa() != Isa::Baseline;
  if (tiny || !team_projects(team)) {
    for (int64_t dir = 0; dir < d.D; ++dir) {
      const S* w_ih = w + weight_offsets(d, layer, dir).w_ih;
      S* gi = gi_all + dir * rows * GH;
      if (tiny) gemm_nt_small<S>(rows, GH, I, in, I, w_ih, I, gi, GH);
      else gemm<S>(false, true, rows, GH, I, S(1), in, I, w_ih, I, S(0), gi, GH);
    }
    return;
  }
  // Each task is a group of columns of one direction for every row: it packs
  // its slice of W_ih^T (panels of packed_nr() columns), which then stays in
  // its core's L2 while the rows stream past in blocks. Splitting by rows
  // instead re-read all of W_ih from L3 for every block (20% slower here).
  // About two groups a thread, so that a descheduled thread holds up little.
  const int64_t nr = packed_nr<S>();
  const int64_t panels = (GH + nr - 1) / nr;
  const int64_t per_dir = packed_numel<S>(I, GH);
  const int groups = static_cast<int>(std::min<int64_t>(panels, 2 * team.size()));
  const int64_t panels_per_group = (panels + groups - 1) / groups;
  const int64_t row_block = 64;
  auto task = [&](int64_t, int t) {
    const int64_t dir = t / groups;
    const int64_t c0 = (t % groups) * panels_per_group * nr;
    const int64_t c1 = std::min(GH, c0 + panels_per_group * nr);
    if (c0 >= c1) return;
    const S* w_ih = w + weight_offsets(d, layer, dir).w_ih;
    S* bp = pack_ws + dir * per_dir + c0 * I;
    pack_nt<S>(I, 1, c1 - c0, w_ih + c0 * I, I, 0, bp);
    S* gi = gi_all + dir * rows * GH + c0;
    for (int64_t r0 = 0; r0 < rows; r0 += row_block)
      gemm_packed<S>(std::min(row_block, rows - r0), I, in + r0 * I, I, bp, c1 - c0, gi + r0 * GH, GH);
  };
  team.run_phases(1, static_cast<int>(d.D) * groups, task);
}

template <typename S>
LayerOutput<S> layer_output(const Dims& d, int64_t layer, S* reserve, S* y, S* mid, int64_t mid_numel) {
  const bool last = layer == d.L - 1;
  if (reserve) {
    const ReserveOffsets ro = reserve_offsets(d, layer);
    return {reserve + ro.out, last ? y : nullptr, ro};
  }
  return {last ? y : mid + (layer % 2) * mid_numel, nullptr, ReserveOffsets{}};
}

template <typename S>
const S* next_layer_input(DType dtype, double p, const LayerOutput<S>& lo, S* reserve, int64_t n) {
  if (p <= 0.0) return lo.out;
  apply_dropout<S>(dtype, p, lo.out, reserve + lo.ro.mask, reserve + lo.ro.drop, n);
  return reserve + lo.ro.drop;
}

template <typename S>
void dropout_backward(const Dims& d, int64_t layer, const S* reserve, S* grad, int64_t n) {
  const S* mask = reserve + reserve_offsets(d, layer).mask;
  for (int64_t i = 0; i < n; ++i) grad[i] *= mask[i];
}

template void write_reserve_header<float>(float*, double);
template void write_reserve_header<double>(double*, double);
template Status read_reserve_header<float>(const float*, bool*);
template Status read_reserve_header<double>(const double*, bool*);
template LayerOutput<float> layer_output<float>(const Dims&, int64_t, float*, float*, float*, int64_t);
template LayerOutput<double> layer_output<double>(const Dims&, int64_t, double*, double*, double*,
                                                  int64_t);
template const float* next_layer_input<float>(DType, double, const LayerOutput<float>&, float*, int64_t);
template const double* next_layer_input<double>(DType, double, const LayerOutput<double>&, double*,
                                                int64_t);
template void dropout_backward<float>(const Dims&, int64_t, const float*, float*, int64_t);
template void dropout_backward<double>(const Dims&, int64_t, const double*, double*, int64_t);
template int64_t projection_pack_numel<float>(const Dims&, const TeamLease&);
template int64_t projection_pack_numel<double>(const Dims&, const TeamLease&);
template void project_inputs<float>(const Dims&, const float*, int64_t, const float*, int64_t,
                                    float*, TeamLease&, float*);
template void project_inputs<double>(const Dims&, const double*, int64_t, const double*, int64_t,
                                     double*, TeamLease&, double*);

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
