// The LSTM forward of the whole multi-layer, possibly bidirectional sequence
// in one call, shaped like the RNN/GRU driver (rnn_forward.cc): per layer one
// BLAS GEMM for the input projections of all time steps per direction, then
// the recurrence, each step cut into chunks (a direction's slice of hidden
// units) that the team's threads share: a chunk is one recurrent product for
// its slice of the four gates and one fused gate pass (rnn_cells_lstm.cc).
//
// With a projection (proj_size P > 0) a step has two phases: the gate phase
// makes the unprojected h~ = o * tanh(c') for every unit, then the projection
// phase h = h~ W_hr^T, each chunk a slice of h's P units (the next step's
// product needs all of h, and the projection all of h~). The cell state keeps
// H units; hy/hx have R = P (or H) units.
#include <algorithm>

#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

template <typename S>
Status lstm_forward_impl(const ForwardArgs& args) {
  const Dims d = make_dims(args.cfg, args.seq_len, args.batch);
  const int64_t T = d.T, N = d.N, H = d.H, P = d.P, R = d.R, G = d.G, D = d.D, L = d.L;
  const StepRows st(args.batch_sizes, T, N);
  const int64_t GH = G * H, TN = st.total(), DR = D * R;
  const bool proj = P > 0;
  const bool training = args.reserve != nullptr;
  const double p = (training && L > 1) ? args.dropout : 0.0;
  const int64_t sw = save_width(d);
  const bool packed = packs_w_hh(N);

  const S* x = static_cast<const S*>(args.x);
  const S* hx = static_cast<const S*>(args.hx);
  const S* cx = static_cast<const S*>(args.cx);
  const S* w = static_cast<const S*>(args.w);
  S* y = static_cast<S*>(args.y);
  S* hy = static_cast<S*>(args.hy);
  S* cy = static_cast<S*>(args.cy);
  S* reserve = static_cast<S*>(args.reserve);

  TeamLease team(wanted_threads(d));
  Chunk chunks[kMaxChunks];
  const int n_chunks = make_chunks(D, H, team.size(), chunks);
  // A chunk's share of the projection: h's units in proportion to its slice
  // of the hidden units (consecutive chunks of a direction tile [0, P)).
  int64_t pj0[kMaxChunks], pj1[kMaxChunks];
  for (int c = 0; c < n_chunks; ++c) {
    pj0[c] = chunks[c].u0 * P / H;
    pj1[c] = (chunks[c].u0 + chunks[c].units) * P / H;
  }

  // Scratch: the input projections of every step for each direction; zeros
  // (absent bias, cx); in inference the intermediate layers' outputs (two,
  // used alternately), the running cell state and, with a projection, the
  // step's h~; per chunk its step product and its packed slices of W_hh
  // (and of W_hr).
  ScratchPlan plan;
  const size_t o_gi = plan.add<S>(D * TN * GH);
  const size_t o_pack_ih = plan.add<S>(projection_pack_numel<S>(d, team));
  const int64_t zero_n = std::max(N * H, GH);
  const size_t o_zero = plan.add<S>(zero_n);
  const int64_t n_mid = training ? 0 : std::min<int64_t>(L - 1, 2);
  const size_t o_mid = plan.add<S>(n_mid * TN * DR);
  const size_t o_cstate = plan.add<S>(training ? 0 : D * N * H);
  const size_t o_hfull = plan.add<S>(training || !proj ? 0 : D * N * H);
  size_t o_prod[kMaxChunks], o_pack[kMaxChunks], o_pack_hr[kMaxChunks];
  int64_t ldp[kMaxChunks];
  for (int c = 0; c < n_chunks; ++c) {
    const int64_t cols = G * chunks[c].units;
    ldp[c] = packed_width<S>(cols);  // also holds the projection slice (fewer columns)
    o_prod[c] = plan.add<S>(N * ldp[c]);
    o_pack[c] = plan.add<S>(packed ? packed_numel<S>(R, cols) : 0);
    o_pack_hr[c] = plan.add<S>(packed && proj ? packed_numel<S>(H, pj1[c] - pj0[c]) : 0);
  }
  ScratchLease scratch(plan.bytes());
  S* gi_all = scratch.ptr<S>(o_gi);
  S* pack_ih = scratch.ptr<S>(o_pack_ih);
  S* zero = scratch.ptr<S>(o_zero);
  S* mid = scratch.ptr<S>(o_mid);
  S* cstate = scratch.ptr<S>(o_cstate);
  S* hfull = scratch.ptr<S>(o_hfull);
  std::fill(zero, zero + zero_n, S(0));

  if (training) write_reserve_header(reserve, p);

  const S* in = x;  // this layer's input, (T, N, in_size)
  for (int64_t l = 0; l < L; ++l) {
    const LayerOutput<S> lo = layer_output(d, l, reserve, y, mid, TN * DR);
    S* out = lo.out;
    S* out2 = lo.out2;
    const ReserveOffsets& ro = lo.ro;

    project_inputs(d, w, l, in, TN, gi_all, team, pack_ih);  // gi = X W_ih^T for every step

    // Without a projection phase s is time step s (the reverse direction's
    // t = T-1-s); with one, phases 2s and 2s+1 are step s's gates and projection.
    auto task = [&](int64_t ph, int c) {
      const bool proj_phase = proj && (ph % 2 == 1);
      const int64_t s = proj ? ph / 2 : ph;
      const int64_t dir = chunks[c].dir, u0 = chunks[c].u0, U = chunks[c].units;
      const WeightOffsets wo = weight_offsets(d, l, dir);
      const int64_t t = dir == 0 ? s : T - 1 - s;
      // Step t runs its first n rows; the first n_cont continue from the
      // step before in the walk, the rest start from hx/cx (rnn_forward.cc).
      const int64_t n = st.rows(t);
      const int64_t n_cont = s == 0 ? 0 : (dir == 0 ? n : st.rows(t + 1));
      const int64_t row_t = st.at(t);
      // Rows [f0, n) end here: their final states go to hy/cy.
      const int64_t f0 = dir == 0 ? st.rows(t + 1) : (t == 0 ? 0 : n);
      S* prod = scratch.ptr<S>(o_prod[c]);
      S* save_t = training ? reserve + ro.gates[dir] + row_t * sw : nullptr;

      if (proj_phase) {
        const int64_t q0 = pj0[c], qc = pj1[c] - pj0[c];
        if (qc == 0) return;
        const S* w_hr = w + wo.w_hr + q0 * H;
        S* pk = scratch.ptr<S>(o_pack_hr[c]);
        if (s == 0 && packed) pack_nt<S>(H, 1, qc, w_hr, H, 0, pk);
        const S* hf = training ? save_t + 6 * H : hfull + dir * N * H;
        const int64_t ldhf = training ? sw : H;
        const int64_t lq = packed_width<S>(qc);
        if (packed) gemm_packed<S>(n, H, hf, ldhf, pk, lq, prod, lq);
        else gemm_nt_small<S>(n, qc, H, hf, ldhf, w_hr, H, prod, lq);
        S* o = out + row_t * DR + dir * R + q0;
        S* o2 = out2 ? out2 + row_t * DR + dir * R + q0 : nullptr;
        S* fin = hy ? hy + (l * D + dir) * N * R + q0 : nullptr;
        for (int64_t row = 0; row < n; ++row) {
          const S* src = prod + row * lq;
          std::copy(src, src + qc, o + row * DR);
          if (o2) std::copy(src, src + qc, o2 + row * DR);
          if (fin && row >= f0) std::copy(src, src + qc, fin + row * R);
        }
        return;
      }

      const S* w_hh = w + wo.w_hh;
      S* pk = scratch.ptr<S>(o_pack[c]);
      if (s == 0 && packed) pack_nt<S>(R, G, U, w_hh + u0 * R, R, H, pk);
      const S* b_ih = (d.bias ? w + wo.b_ih : zero) + u0;
      const S* b_hh = (d.bias ? w + wo.b_hh : zero) + u0;
      const int64_t tp = dir == 0 ? t - 1 : t + 1;
      const int64_t lp = ldp[c];
      S* cs = cstate + dir * N * H + u0;
      S* o;
      int64_t ldo;
      S* o2 = nullptr;
      if (proj) {
        o = training ? save_t + 6 * H + u0 : hfull + dir * N * H + u0;
        ldo = training ? sw : H;
      } else {
        o = out + row_t * DR + dir * R + u0;
        ldo = DR;
        if (out2) o2 = out2 + row_t * DR + dir * R + u0;
      }
      // Rows [r0, r1) from the previous hidden state hp (row stride ldh,
      // null: zeros) and cell state cp (row stride ldc).
      auto segment = [&](int64_t r0, int64_t r1, const S* hp, int64_t ldh, const S* cp,
                         int64_t ldc) {
        const int64_t m = r1 - r0;
        if (m <= 0) return;
        S* pr = prod + r0 * lp;
        if (!hp) {
          std::fill(pr, pr + m * lp, S(0));  // h0 = 0: no product to compute
        } else if (packed) {
          gemm_packed<S>(m, R, hp, ldh, pk, lp, pr, lp);
        } else if (U == H) {
          gemm_nt_small<S>(m, GH, R, hp, ldh, w_hh, R, pr, lp);
        } else {
          for (int64_t g = 0; g < G; ++g)
            gemm_nt_small<S>(m, U, R, hp, ldh, w_hh + (g * H + u0) * R, R, pr + g * U, lp);
        }
        S* git = gi_all + dir * TN * GH + (row_t + r0) * GH + u0;
        lstm_step_forward<S>(m, U, H, git, GH, pr, lp, b_ih, b_hh, cp + u0, ldc, cs + r0 * H, H,
                             nullptr, H, o + r0 * ldo, ldo, o2 ? o2 + r0 * DR : nullptr, DR,
                             save_t ? save_t + r0 * sw + u0 : nullptr, sw);
      };
      // Continuing rows: this direction's own output at the neighbouring step
      // (row stride D*R) and the cell state saved there (training) or
      // updated in place (inference).
      if (n_cont > 0) {
        const S* cp = training ? reserve + ro.gates[dir] + st.at(tp) * sw + 4 * H
                               : cstate + dir * N * H;
        segment(0, n_cont, out + st.at(tp) * DR + dir * R, DR, cp, training ? sw : H);
      }
      segment(n_cont, n, hx ? hx + (l * D + dir) * N * R + n_cont * R : nullptr, R,
              cx ? cx + (l * D + dir) * N * H + n_cont * H : zero, H);
      // Final states of the rows that end at this step.
      if (cy) {
        const S* c_new = training ? save_t + 4 * H + u0 : cs;
        const int64_t ld = training ? sw : H;
        S* dst = cy + (l * D + dir) * N * H + u0;
        for (int64_t row = f0; row < n; ++row)
          std::copy(c_new + row * ld, c_new + row * ld + U, dst + row * H);
      }
      if (!proj && hy) {
        S* dst = hy + (l * D + dir) * N * R + u0;
        for (int64_t row = f0; row < n; ++row)
          std::copy(o + row * DR, o + row * DR + U, dst + row * R);
      }
    };
    if (N > 0) team.run_phases(proj ? 2 * T : T, n_chunks, task);

    if (l < L - 1) in = next_layer_input(args.cfg.dtype, p, lo, reserve, TN * DR);
  }
  return Status::Ok();
}

template Status lstm_forward_impl<float>(const ForwardArgs&);
template Status lstm_forward_impl<double>(const ForwardArgs&);

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
