// Backpropagation through time for the whole stack in one call, from the
// reserve the training forward filled. Layers run top to bottom. Within a
// layer time runs opposite to the forward, each step cut into chunks (a
// direction's slice of hidden units) that the team's threads share
// (rnn_team.cc): a chunk is its slice of dh = dG W_hh from the step before,
// then one fused elementwise pass that writes its slice of this step's gate
// gradients (all steps' are kept). The bias gradients are column sums
// accumulated in the loop. After the loop the big
// products run once over the whole sequence on the BLAS:
// dX += dG_i W_ih, dW_ih = dG_i^T X, dW_hh = dG_h^T H_prev.
#include <algorithm>

#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

template <typename S>
Status backward_impl(const BackwardArgs& args) {
  const Dims d = make_dims(args.cfg, args.seq_len, args.batch);
  const int64_t T = d.T, N = d.N, H = d.H, G = d.G, D = d.D, L = d.L;
  const StepRows st(args.batch_sizes, T, N);
  const int64_t GH = G * H, TN = st.total(), DH = D * H;
  const bool gru = d.mode == Mode::Gru;
  const bool relu = d.mode == Mode::RnnRelu;
  // dG row width: GRU [da_r | da_z | dhn | da_n], RNN the pre-activation.
  const int64_t W = gru ? 4 * H : H;
  const int64_t blocks = gru ? 4 : 1;
  const bool packed = packs_w_hh(N);

  const S* x = static_cast<const S*>(args.x);
  const S* hx = static_cast<const S*>(args.hx);
  const S* w = static_cast<const S*>(args.w);
  const S* reserve = static_cast<const S*>(args.reserve);
  const S* dhy = static_cast<const S*>(args.dhy);
  S* dw = static_cast<S*>(args.dw);
  S* dhx = static_cast<S*>(args.dhx);

  bool dropped = false;
  CUDNN_RNN_RETURN_IF_ERROR(read_reserve_header(reserve, &dropped));

  TeamLease team(wanted_threads(d));
  Chunk chunks[kMaxChunks];
  const int n_chunks = make_chunks(D, H, team.size(), chunks);

  // Scratch: per direction every step's gate gradients, the carried
  // gradient, this step's and the running bias sums; a zero state (hx
  // absent); the output gradients of the layer below (two, used
  // alternately); per chunk its slice of dG W_hh and of packed W_hh.
  ScratchPlan plan;
  const size_t o_dg = plan.add<S>(D * TN * W);
  const size_t o_carry = plan.add<S>(D * N * H);
  const size_t o_sums = plan.add<S>(D * 2 * W);
  const size_t o_zero = plan.add<S>(N * H);
  const int64_t n_mid = std::min<int64_t>(L - 1, 2);
  const size_t o_mid = plan.add<S>(n_mid * TN * DH);
  // Packed input: every row's previous hidden state gathered (for dW_hh).
  const size_t o_hprev = plan.add<S>(st.packed() ? TN * H : 0);
  size_t o_prod[kMaxChunks], o_pack[kMaxChunks];
  int64_t ldp[kMaxChunks];
  for (int c = 0; c < n_chunks; ++c) {
    const int64_t cols = chunks[c].units;
    ldp[c] = packed_width<S>(cols);
    o_prod[c] = plan.add<S>(N * ldp[c]);
    o_pack[c] = plan.add<S>(packed ? packed_numel<S>(GH, cols) : 0);
  }
  ScratchLease scratch(plan.bytes());
  S* dg_all = scratch.ptr<S>(o_dg);
  S* carry_all = scratch.ptr<S>(o_carry);
  S* sums = scratch.ptr<S>(o_sums);
  S* zero = scratch.ptr<S>(o_zero);
  S* mid = scratch.ptr<S>(o_mid);
  S* hprev = scratch.ptr<S>(o_hprev);
  std::fill(zero, zero + N * H, S(0));

  // Gradient w.r.t. this layer's output (T, N, D*H); null means zeros.
  const S* dy = static_cast<const S*>(args.dy);
  for (int64_t l = L - 1; l >= 0; --l) {
    const int64_t I = d.in_size(l);
    const ReserveOffsets ro = reserve_offsets(d, l);
    const S* out = reserve + ro.out;
    // The layer's input as the forward saw it (after dropout).
    const S* in = x;
    if (l > 0) {
      const ReserveOffsets below = reserve_offsets(d, l - 1);
      in = reserve + (dropped ? below.drop : below.out);
    }
    // Where dL/d(input) goes: dx for layer 0 (if wanted), else scratch that
    // becomes the next (lower) layer's output gradient.
    S* din = l == 0 ? static_cast<S*>(args.dx) : mid + ((l - 1) % 2) * TN * DH;
    if (l == 0 && !din && !dw && !dhx) break;  // nothing left that anyone asked for

    // Phase s: the slice of dL/dh_prev = dG W_hh for step s-1 (it needs
    // every slice of that step's dG), then step s's elementwise pass; phase T
    // (only when dhx is wanted) finishes the product of the last step.
    auto task = [&](int64_t s, int c) {
      const int64_t dir = chunks[c].dir, u0 = chunks[c].u0, U = chunks[c].units;
      const WeightOffsets wo = weight_offsets(d, l, dir);
      S* pk = scratch.ptr<S>(o_pack[c]);
      S* prod = scratch.ptr<S>(o_prod[c]);
      const int64_t lp = ldp[c];
      S* carry = carry_all + dir * N * H + u0;
      S* step_sum = dw ? sums + dir * 2 * W + u0 : nullptr;
      S* total = dw ? step_sum + W : nullptr;
      if (s == 0) {
        if (packed) pack_nn<S>(GH, U, w + wo.w_hh + u0, H, pk);
        if (total)
          for (int64_t b = 0; b < blocks; ++b) std::fill(total + b * H, total + b * H + U, S(0));
      } else {
        // dL/dh_prev of the step just done (tp) for its np rows.
        const int64_t tp = dir == 0 ? T - s : s - 1;
        const int64_t np = st.rows(tp);
        const S* dgp = dg_all + dir * TN * W + st.at(tp) * W;
        if (packed) gemm_packed<S>(np, GH, dgp, W, pk, lp, prod, lp);
        else gemm_nn_small<S>(np, U, GH, dgp, W, w + wo.w_hh + u0, H, prod, lp);
        // Rows of tp that started from hx: all at the forward walk's first
        // step, else the reverse direction's rows past rows(tp+1).
        const int64_t h0_from = dir == 0 ? (tp == 0 ? 0 : np) : st.rows(tp + 1);
        if (dhx) {
          S* dst = dhx + (l * D + dir) * N * H + u0;
          for (int64_t row = h0_from; row < np; ++row)
            for (int64_t j = 0; j < U; ++j)
              dst[row * H + j] = carry[row * H + j] + prod[row * lp + j];
        }
      }
      if (s == T) return;
      const int64_t t = dir == 0 ? T - 1 - s : s;  // opposite to the forward walk
      const int64_t n = st.rows(t);
      const int64_t row_t = st.at(t);
      // Rows whose last forward step is t take dhy and no later gradient:
      // the forward direction's rows past rows(t+1), all rows of the reverse
      // direction's t = 0.
      const int64_t fresh = s == 0 ? 0 : (dir == 0 ? st.rows(t + 1) : n);
      for (int64_t row = fresh; row < n; ++row) {
        const S* src = dhy ? dhy + (l * D + dir) * N * H + row * H + u0 : zero;
        std::copy(src, src + U, carry + row * H);
        if (s > 0) std::fill(prod + row * lp, prod + row * lp + U, S(0));
      }
      if (step_sum)
        for (int64_t b = 0; b < blocks; ++b)
          std::fill(step_sum + b * H, step_sum + b * H + U, S(0));
      const S* pr = s > 0 ? prod : nullptr;
      // Rows [r0, r1) of step t whose previous state is hp (row stride ldh).
      auto segment = [&](int64_t r0, int64_t r1, const S* hp, int64_t ldh) {
        const int64_t m = r1 - r0;
        if (m <= 0) return;
        const int64_t row = row_t + r0;
        const S* dyt = dy ? dy + row * DH + dir * H + u0 : nullptr;
        S* dgt = dg_all + dir * TN * W + row * W + u0;
        const S* prr = pr ? pr + r0 * lp : nullptr;
        if (gru) {
          const S* save = reserve + ro.gates[dir] + row * 4 * H + u0;
          gru_step_backward<S>(m, U, H, save, hp + u0, ldh, dyt, DH, carry + r0 * H, prr, lp, dgt,
                               step_sum);
        } else {
          rnn_step_backward<S>(relu, m, U, H, out + row * DH + dir * H + u0, DH, dyt, DH,
                               carry + r0 * H, prr, lp, dgt, step_sum);
        }
      };
      // Forward walk: rows continuing from the neighbouring step, then rows
      // that started from hx (or zeros), as in rnn_forward.cc.
      const bool first = dir == 0 ? t == 0 : t == T - 1;
      const int64_t n_cont = first ? 0 : (dir == 0 ? n : st.rows(t + 1));
      const int64_t tn = dir == 0 ? t - 1 : t + 1;
      if (n_cont > 0) segment(0, n_cont, out + st.at(tn) * DH + dir * H, DH);
      if (hx) segment(n_cont, n, hx + (l * D + dir) * N * H + n_cont * H, H);
      else segment(n_cont, n, zero, 0);
      if (step_sum)
        for (int64_t b = 0; b < blocks; ++b)
          for (int64_t j = 0; j < U; ++j) total[b * H + j] += step_sum[b * H + j];
    };
    if (N > 0) team.run_phases(dhx ? T + 1 : T, n_chunks, task);

    for (int64_t dir = 0; dir < D; ++dir) {
      const WeightOffsets wo = weight_offsets(d, l, dir);
      const S* w_ih = w + wo.w_ih;
      const S* dg = dg_all + dir * TN * W;
      // dL/d(input) += dG_i W_ih; GRU's dG_i is columns [0, 2H) and [3H, 4H).
      if (din) {
        const S beta = dir == 0 ? S(0) : S(1);  // the directions add up
        if (gru) {
          gemm<S>(false, false, TN, I, 2 * H, S(1), dg, W, w_ih, I, beta, din, I);
          gemm<S>(false, false, TN, I, H, S(1), dg + 3 * H, W, w_ih + 2 * H * I, I, S(1), din, I);
        } else {
          gemm<S>(false, false, TN, I, H, S(1), dg, W, w_ih, I, beta, din, I);
        }
      }
      if (!dw) continue;
      S* dw_ih = dw + wo.w_ih;
      S* dw_hh = dw + wo.w_hh;
      if (gru) {
        gemm<S>(true, false, 2 * H, I, TN, S(1), dg, W, in, I, S(0), dw_ih, I);
        gemm<S>(true, false, H, I, TN, S(1), dg + 3 * H, W, in, I, S(0), dw_ih + 2 * H * I, I);
      } else {
        gemm<S>(true, false, H, I, TN, S(1), dg, W, in, I, S(0), dw_ih, I);
      }
      // dW_hh = sum_t dG_h[t]^T h_prev[t]. Steps whose previous state is in
      // the sequence form one product over (T-1)*N rows; the step that
      // started from hx adds its own term (none when hx is absent: zeros).
      if (st.packed()) {
        // Packed steps have no common row stride: gather each row's previous
        // state (hx or zeros where it started), then one product.
        for (int64_t t = 0; t < T; ++t) {
          const int64_t n = st.rows(t);
          const bool first = dir == 0 ? t == 0 : t == T - 1;
          const int64_t n_cont = first ? 0 : (dir == 0 ? n : st.rows(t + 1));
          const int64_t tn = dir == 0 ? t - 1 : t + 1;
          S* dst = hprev + st.at(t) * H;
          for (int64_t row = 0; row < n; ++row) {
            const S* src = row < n_cont ? out + (st.at(tn) + row) * DH + dir * H
                                        : (hx ? hx + (l * D + dir) * N * H + row * H : zero);
            std::copy(src, src + H, dst + row * H);
          }
        }
        gemm<S>(true, false, GH, H, TN, S(1), dg, W, hprev, H, S(0), dw_hh, H);
      }
      const S* dg_inner = dir == 0 ? dg + N * W : dg;
      const S* h_inner = dir == 0 ? out + dir * H : out + N * DH + dir * H;
      if (!st.packed())
        gemm<S>(true, false, GH, H, (T - 1) * N, S(1), dg_inner, W, h_inner, DH, S(0), dw_hh, H);
      if (hx && !st.packed()) {
        const S* dg_first = dir == 0 ? dg : dg + (T - 1) * N * W;
        const S* h0 = hx + (l * D + dir) * N * H;
        gemm<S>(true, false, GH, H, N, S(1), dg_first, W, h0, H, S(1), dw_hh, H);
      }
      if (d.bias) {
        const S* total = sums + dir * 2 * W + W;
        S* db_ih = dw + wo.b_ih;
        S* db_hh = dw + wo.b_hh;
        if (N == 0) {
          std::fill(db_ih, db_ih + GH, S(0));
          std::fill(db_hh, db_hh + GH, S(0));
        } else if (gru) {
          std::copy(total, total + 2 * H, db_ih);
          std::copy(total + 3 * H, total + 4 * H, db_ih + 2 * H);
          std::copy(total, total + 3 * H, db_hh);
        } else {
          std::copy(total, total + H, db_ih);
          std::copy(total, total + H, db_hh);
        }
      }
    }

    if (l > 0) {
      if (dropped) dropout_backward(d, l - 1, reserve, din, TN * DH);  // between layers l-1 and l
      dy = din;
    }
  }
  return Status::Ok();
}

template Status backward_impl<float>(const BackwardArgs&);
template Status backward_impl<double>(const BackwardArgs&);

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
