// Forward of the whole multi-layer, possibly bidirectional sequence in one
// call (DESIGN.md decision 3). Per layer: the input projections of all time
// steps in one BLAS GEMM per direction; then the recurrence, one step after
// the other, each step cut into chunks (a direction's slice of hidden units)
// that the team's threads share (rnn_team.cc): a chunk is one recurrent
// product for its slice and one fused gate pass (rnn_cells.cc). Training mode
// writes everything backward needs
// into the reserve (layout in rnn_internal.h); inference keeps nothing but
// the thread's scratch.
#include <algorithm>

#include "../core/random.h"
#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

template <typename S>
void apply_dropout(DType dtype, double p, const S* in, S* mask, S* out, int64_t n) {
  if (p >= 1.0) std::fill(mask, mask + n, S(0));
  else default_generator().bernoulli_scaled_fill(dtype, mask, n, 1.0 - p, 1.0 / (1.0 - p));
  for (int64_t i = 0; i < n; ++i) out[i] = in[i] * mask[i];
}
template void apply_dropout<float>(DType, double, const float*, float*, float*, int64_t);
template void apply_dropout<double>(DType, double, const double*, double*, double*, int64_t);

template <typename S>
Status forward_impl(const ForwardArgs& args) {
  const Dims d = make_dims(args.cfg, args.seq_len, args.batch);
  const int64_t T = d.T, N = d.N, H = d.H, G = d.G, D = d.D, L = d.L;
  const StepRows st(args.batch_sizes, T, N);
  const int64_t GH = G * H, TN = st.total(), DH = D * H;
  const bool gru = d.mode == Mode::Gru;
  const bool relu = d.mode == Mode::RnnRelu;
  const bool training = args.reserve != nullptr;
  const double p = (training && L > 1) ? args.dropout : 0.0;
  const bool packed = packs_w_hh(N);

  const S* x = static_cast<const S*>(args.x);
  const S* hx = static_cast<const S*>(args.hx);
  const S* w = static_cast<const S*>(args.w);
  S* y = static_cast<S*>(args.y);
  S* hy = static_cast<S*>(args.hy);
  S* reserve = static_cast<S*>(args.reserve);

  TeamLease team(wanted_threads(d));
  Chunk chunks[kMaxChunks];
  const int n_chunks = make_chunks(D, H, team.size(), chunks);

  // Scratch: the projections of every step for each direction; a zero
  // vector (absent bias, absent hx); in inference the intermediate layers'
  // outputs (two, used alternately); per chunk its step product and its
  // packed slice of W_hh.
  ScratchPlan plan;
  const size_t o_gi = plan.add<S>(D * TN * GH);
  const size_t o_pack_ih = plan.add<S>(projection_pack_numel<S>(d, team));
  const int64_t zero_n = std::max(N * H, GH);
  const size_t o_zero = plan.add<S>(zero_n);
  const int64_t n_mid = training ? 0 : std::min<int64_t>(L - 1, 2);
  const size_t o_mid = plan.add<S>(n_mid * TN * DH);
  size_t o_prod[kMaxChunks], o_pack[kMaxChunks];
  int64_t ldp[kMaxChunks];
  for (int c = 0; c < n_chunks; ++c) {
    const int64_t cols = G * chunks[c].units;
    ldp[c] = packed_width<S>(cols);
    o_prod[c] = plan.add<S>(N * ldp[c]);
    o_pack[c] = plan.add<S>(packed ? packed_numel<S>(H, cols) : 0);
  }
  ScratchLease scratch(plan.bytes());
  S* gi_all = scratch.ptr<S>(o_gi);
  S* pack_ih = scratch.ptr<S>(o_pack_ih);
  S* zero = scratch.ptr<S>(o_zero);
  S* mid = scratch.ptr<S>(o_mid);
  std::fill(zero, zero + zero_n, S(0));

  if (training) write_reserve_header(reserve, p);

  const S* in = x;  // this layer's input, (T, N, in_size)
  for (int64_t l = 0; l < L; ++l) {
    const LayerOutput<S> lo = layer_output(d, l, reserve, y, mid, TN * DH);
    S* out = lo.out;
    S* out2 = lo.out2;
    const ReserveOffsets& ro = lo.ro;

    project_inputs(d, w, l, in, TN, gi_all, team, pack_ih);  // gi = X W_ih^T for every step

    // Phase s is time step s (the reverse direction's t = T-1-s). Step t
    // runs its first n = rows(t) rows: those that ran the step before in the
    // walk (all of them forward; the reverse direction's first rows(t+1))
    // continue from it, the rest start from hx (or zeros).
    auto task = [&](int64_t s, int c) {
      const int64_t dir = chunks[c].dir, u0 = chunks[c].u0, U = chunks[c].units;
      const WeightOffsets wo = weight_offsets(d, l, dir);
      const S* w_hh = w + wo.w_hh;
      S* pk = scratch.ptr<S>(o_pack[c]);
      if (s == 0 && packed) pack_nt<S>(H, G, U, w_hh + u0 * H, H, H, pk);
      const S* b_ih = (d.bias ? w + wo.b_ih : zero) + u0;
      const S* b_hh = (d.bias ? w + wo.b_hh : zero) + u0;
      const int64_t t = dir == 0 ? s : T - 1 - s;
      const int64_t n = st.rows(t);
      const int64_t n_cont = s == 0 ? 0 : (dir == 0 ? n : st.rows(t + 1));
      const int64_t row_t = st.at(t);
      S* prod = scratch.ptr<S>(o_prod[c]);
      const int64_t lp = ldp[c];
      // Rows [r0, r1) of step t, all starting from hp (row stride ldh).
      auto segment = [&](int64_t r0, int64_t r1, const S* hp, int64_t ldh) {
        const int64_t m = r1 - r0;
        if (m <= 0) return;
        S* pr = prod + r0 * lp;
        if (!hp) {
          std::fill(pr, pr + m * lp, S(0));  // h0 = 0: no product to compute
          hp = zero;
          ldh = 0;
        } else if (packed) {
          gemm_packed<S>(m, H, hp, ldh, pk, lp, pr, lp);
        } else if (U == H) {
          gemm_nt_small<S>(m, GH, H, hp, ldh, w_hh, H, pr, lp);
        } else {
          for (int64_t g = 0; g < G; ++g)
            gemm_nt_small<S>(m, U, H, hp, ldh, w_hh + (g * H + u0) * H, H, pr + g * U, lp);
        }
        const int64_t row = row_t + r0;
        S* git = gi_all + dir * TN * GH + row * GH + u0;
        S* o = out + row * DH + dir * H + u0;
        S* o2 = out2 ? out2 + row * DH + dir * H + u0 : nullptr;
        if (gru) {
          S* save = training ? reserve + ro.gates[dir] + row * 4 * H + u0 : nullptr;
          gru_step_forward<S>(m, U, H, git, GH, pr, lp, b_ih, b_hh, hp + u0, ldh, o, DH, o2, DH,
                              save);
        } else {
          rnn_step_forward<S>(relu, m, U, git, GH, pr, lp, b_ih, b_hh, o, DH, o2, DH);
        }
      };
      // This direction's own output at the neighbouring step (row stride D*H).
      const int64_t tp = dir == 0 ? t - 1 : t + 1;
      if (n_cont > 0) segment(0, n_cont, out + st.at(tp) * DH + dir * H, DH);
      const S* h0 = hx ? hx + (l * D + dir) * N * H + n_cont * H : nullptr;
      segment(n_cont, n, h0, H);
      // Final states of the rows that end here: the forward direction's
      // rows past rows(t+1) (all at T-1), the reverse direction's at t = 0.
      const int64_t f0 = dir == 0 ? st.rows(t + 1) : (t == 0 ? 0 : n);
      if (hy) {
        S* dst = hy + (l * D + dir) * N * H + u0;
        for (int64_t row = f0; row < n; ++row)
          std::copy(out + (row_t + row) * DH + dir * H + u0,
                    out + (row_t + row) * DH + dir * H + u0 + U, dst + row * H);
      }
    };
    if (N > 0) team.run_phases(T, n_chunks, task);

    if (l < L - 1) in = next_layer_input(args.cfg.dtype, p, lo, reserve, TN * DH);
  }
  return Status::Ok();
}

template Status forward_impl<float>(const ForwardArgs&);
template Status forward_impl<double>(const ForwardArgs&);

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
