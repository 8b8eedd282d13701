// Backpropagation through time for the LSTM stack in one call, from the
// reserve the training forward filled; shaped like rnn_backward.cc. Layers
// run top to bottom, time opposite to the forward, each step cut into chunks
// (a direction's slice of units) that the team's threads share. Two carried
// gradients: dL/dh (R units) and dL/dc (H units, dcy first).
//
// Without a projection phase s of a chunk is its slice of dh = dG W_hh from
// the step before, then the fused elementwise pass (rnn_cells_lstm.cc) that
// writes its slice of this step's gate gradients. With one, phase 2s makes
// the chunk's slice of h's P units: dh_t = dy_t + dG_{t+1} W_hh (dhy at the
// first step), kept for dW_hr; phase 2s+1 its slice of dh~ = dh_t W_hr and
// the elementwise pass. After the loop the big products run once over the
// whole sequence on the BLAS: dX += dG W_ih, dW_ih = dG^T X,
// dW_hh = dG^T H_prev, dW_hr = dH^T H~.
#include <algorithm>

#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

template <typename S>
Status lstm_backward_impl(const BackwardArgs& args) {
  const Dims d = make_dims(args.cfg, args.seq_len, args.batch);
  const int64_t T = d.T, N = d.N, H = d.H, P = d.P, R = d.R, G = d.G, D = d.D, L = d.L;
  const StepRows st(args.batch_sizes, T, N);
  const int64_t GH = G * H, TN = st.total(), DR = D * R;
  const bool proj = P > 0;
  const int64_t sw = save_width(d);
  const bool packed = packs_w_hh(N);

  const S* x = static_cast<const S*>(args.x);
  const S* hx = static_cast<const S*>(args.hx);
  const S* cx = static_cast<const S*>(args.cx);
  const S* w = static_cast<const S*>(args.w);
  const S* reserve = static_cast<const S*>(args.reserve);
  const S* dhy = static_cast<const S*>(args.dhy);
  const S* dcy = static_cast<const S*>(args.dcy);
  S* dw = static_cast<S*>(args.dw);
  S* dhx = static_cast<S*>(args.dhx);
  S* dcx = static_cast<S*>(args.dcx);

  bool dropped = false;
  CUDNN_RNN_RETURN_IF_ERROR(read_reserve_header(reserve, &dropped));

  TeamLease team(wanted_threads(d));
  Chunk chunks[kMaxChunks];
  const int n_chunks = make_chunks(D, H, team.size(), chunks);
  int64_t pj0[kMaxChunks], pj1[kMaxChunks];  // as in the forward
  for (int c = 0; c < n_chunks; ++c) {
    pj0[c] = chunks[c].u0 * P / H;
    pj1[c] = (chunks[c].u0 + chunks[c].units) * P / H;
  }

  // Scratch: per direction every step's gate gradients, the carried dL/dh
  // and dL/dc, this step's and the running bias sums; zeros (hx, cx absent);
  // the output gradients of the layer below (two, used alternately); with a
  // projection every step's dL/dh; per chunk its product slice and its
  // packed slices of W_hh (and W_hr).
  ScratchPlan plan;
  const size_t o_dg = plan.add<S>(D * TN * GH);
  const size_t o_carry_h = plan.add<S>(D * N * R);
  const size_t o_carry_c = plan.add<S>(D * N * H);
  const size_t o_sums = plan.add<S>(D * 2 * GH);
  const size_t o_zero = plan.add<S>(N * H);
  const int64_t n_mid = std::min<int64_t>(L - 1, 2);
  const size_t o_mid = plan.add<S>(n_mid * TN * DR);
  const size_t o_dh = plan.add<S>(proj ? D * TN * P : 0);
  // Packed input: every row's previous hidden state gathered (for dW_hh).
  const size_t o_hprev = plan.add<S>(st.packed() ? TN * R : 0);
  size_t o_prod[kMaxChunks], o_pack[kMaxChunks], o_pack_hr[kMaxChunks];
  int64_t ldp[kMaxChunks];
  for (int c = 0; c < n_chunks; ++c) {
    const int64_t cols = chunks[c].units;  // the projection slice has no more
    ldp[c] = packed_width<S>(cols);
    o_prod[c] = plan.add<S>(N * ldp[c]);
    o_pack[c] = plan.add<S>(packed ? packed_numel<S>(GH, cols) : 0);
    o_pack_hr[c] = plan.add<S>(packed && proj ? packed_numel<S>(P, cols) : 0);
  }
  ScratchLease scratch(plan.bytes());
  S* dg_all = scratch.ptr<S>(o_dg);
  S* carry_h_all = scratch.ptr<S>(o_carry_h);
  S* carry_c_all = scratch.ptr<S>(o_carry_c);
  S* sums = scratch.ptr<S>(o_sums);
  S* zero = scratch.ptr<S>(o_zero);
  S* mid = scratch.ptr<S>(o_mid);
  S* dh_all = scratch.ptr<S>(o_dh);
  S* hprev = scratch.ptr<S>(o_hprev);
  std::fill(zero, zero + N * H, S(0));

  // Gradient w.r.t. this layer's output (T, N, D*R); null means zeros.
  const S* dy = static_cast<const S*>(args.dy);
  for (int64_t l = L - 1; l >= 0; --l) {
    const int64_t I = d.in_size(l);
    const ReserveOffsets ro = reserve_offsets(d, l);
    const S* out = reserve + ro.out;
    const S* in = x;
    if (l > 0) {
      const ReserveOffsets below = reserve_offsets(d, l - 1);
      in = reserve + (dropped ? below.drop : below.out);
    }
    S* din = l == 0 ? static_cast<S*>(args.dx) : mid + ((l - 1) % 2) * TN * DR;
    if (l == 0 && !din && !dw && !dhx && !dcx) break;  // nothing left that anyone asked for

    // Step t's rows [0, n_cont) continued from the neighbouring step of the
    // forward walk, the rest of its n rows started from hx/cx (or zeros).
    auto cont_rows = [&](int64_t dir, int64_t t) -> int64_t {
      const bool first = dir == 0 ? t == 0 : t == T - 1;
      return first ? 0 : (dir == 0 ? st.rows(t) : st.rows(t + 1));
    };
    // Rows of step t whose last forward step it is (they take dhy/dcy and no
    // later gradient): the forward direction's past rows(t+1), all of the
    // reverse direction's t = 0.
    auto fresh_from = [&](int64_t dir, int64_t s, int64_t t) -> int64_t {
      return s == 0 ? 0 : (dir == 0 ? st.rows(t + 1) : st.rows(t));
    };
    // Rows of the step tp just done that started from hx: their dL/dh_prev
    // is dhx (as in rnn_backward.cc).
    auto h0_from = [&](int64_t dir, int64_t tp) -> int64_t {
      return dir == 0 ? (tp == 0 ? 0 : st.rows(tp)) : st.rows(tp + 1);
    };
    // First phase of a chunk: the bias sums start from 0.
    auto start = [&](int64_t dir, int64_t u0, int64_t U) {
      if (dw) {
        S* total = sums + dir * 2 * GH + GH + u0;
        for (int64_t b = 0; b < G; ++b) std::fill(total + b * H, total + b * H + U, S(0));
      }
    };
    // The elementwise pass of step s for a chunk, dL/dh' = dh + prod + dy,
    // rows of dh/prod/dyt from step t's first row.
    auto gates = [&](int64_t s, int64_t dir, int64_t u0, int64_t U, S* dh, int64_t ldd,
                     const S* prod, int64_t lp, const S* dyt) {
      const int64_t t = dir == 0 ? T - 1 - s : s;
      const int64_t n = st.rows(t), row_t = st.at(t);
      S* cc = carry_c_all + dir * N * H + u0;
      for (int64_t row = fresh_from(dir, s, t); row < n; ++row) {
        const S* src = dcy ? dcy + (l * D + dir) * N * H + row * H + u0 : zero;
        std::copy(src, src + U, cc + row * H);
      }
      S* step_sum = dw ? sums + dir * 2 * GH + u0 : nullptr;
      if (step_sum)
        for (int64_t b = 0; b < G; ++b) std::fill(step_sum + b * H, step_sum + b * H + U, S(0));
      auto segment = [&](int64_t r0, int64_t r1, const S* cp, int64_t ldc) {
        if (r1 <= r0) return;
        const int64_t row = row_t + r0;
        lstm_step_backward<S>(r1 - r0, U, H, reserve + ro.gates[dir] + row * sw + u0, sw, cp + u0,
                              ldc, dh + r0 * ldd, ldd, prod ? prod + r0 * lp : nullptr, lp,
                              dyt ? dyt + r0 * DR : nullptr, DR, cc + r0 * H,
                              dg_all + dir * TN * GH + row * GH + u0, step_sum);
      };
      const int64_t n_cont = cont_rows(dir, t);
      const int64_t tn = dir == 0 ? t - 1 : t + 1;
      if (n_cont > 0) segment(0, n_cont, reserve + ro.gates[dir] + st.at(tn) * sw + 4 * H, sw);
      segment(n_cont, n, cx ? cx + (l * D + dir) * N * H + n_cont * H : zero, H);
      if (step_sum) {
        S* total = step_sum + GH;
        for (int64_t b = 0; b < G; ++b)
          for (int64_t j = 0; j < U; ++j) total[b * H + j] += step_sum[b * H + j];
      }
      if (dcx) {
        S* dst = dcx + (l * D + dir) * N * H + u0;
        for (int64_t row = n_cont; row < n; ++row)
          std::copy(cc + row * H, cc + row * H + U, dst + row * H);
      }
    };

    auto task_plain = [&](int64_t s, int c) {
      const int64_t dir = chunks[c].dir, u0 = chunks[c].u0, U = chunks[c].units;
      const S* w_hh = w + weight_offsets(d, l, dir).w_hh;
      S* pk = scratch.ptr<S>(o_pack[c]);
      S* prod = scratch.ptr<S>(o_prod[c]);
      const int64_t lp = ldp[c];
      S* carry = carry_h_all + dir * N * R + u0;
      if (s == 0) {
        if (packed) pack_nn<S>(GH, U, w_hh + u0, R, pk);
        start(dir, u0, U);
      } else {
        const int64_t tp = dir == 0 ? T - s : s - 1;  // the step just done
        const int64_t np = st.rows(tp);
        const S* dgp = dg_all + dir * TN * GH + st.at(tp) * GH;
        if (packed) gemm_packed<S>(np, GH, dgp, GH, pk, lp, prod, lp);
        else gemm_nn_small<S>(np, U, GH, dgp, GH, w_hh + u0, R, prod, lp);
        if (dhx) {
          S* dst = dhx + (l * D + dir) * N * R + u0;
          for (int64_t row = h0_from(dir, tp); row < np; ++row)
            for (int64_t j = 0; j < U; ++j)
              dst[row * R + j] = carry[row * R + j] + prod[row * lp + j];
        }
      }
      if (s == T) return;
      const int64_t t = dir == 0 ? T - 1 - s : s;
      for (int64_t row = fresh_from(dir, s, t); row < st.rows(t); ++row) {
        const S* src = dhy ? dhy + (l * D + dir) * N * R + row * R + u0 : zero;
        std::copy(src, src + U, carry + row * R);
        if (s > 0) std::fill(prod + row * lp, prod + row * lp + U, S(0));
      }
      const S* dyt = dy ? dy + st.at(t) * DR + dir * R + u0 : nullptr;
      gates(s, dir, u0, U, carry, R, s > 0 ? prod : nullptr, lp, dyt);
    };

    auto task_proj = [&](int64_t ph, int c) {
      const int64_t s = ph / 2;
      const int64_t dir = chunks[c].dir, u0 = chunks[c].u0, U = chunks[c].units;
      const WeightOffsets wo = weight_offsets(d, l, dir);
      S* prod = scratch.ptr<S>(o_prod[c]);
      S* dh_dir = dh_all + dir * TN * P;
      if (ph % 2 == 1) {
        // dh~ = dh_t W_hr for this chunk's units, then the gate pass.
        const int64_t t = dir == 0 ? T - 1 - s : s;
        const S* dht = dh_dir + st.at(t) * P;
        const int64_t lp = ldp[c];
        const int64_t n = st.rows(t);
        if (packed) gemm_packed<S>(n, P, dht, P, scratch.ptr<S>(o_pack_hr[c]), lp, prod, lp);
        else gemm_nn_small<S>(n, U, P, dht, P, w + wo.w_hr + u0, H, prod, lp);
        gates(s, dir, u0, U, prod, lp, nullptr, 0, nullptr);
        return;
      }
      if (s == 0) {
        if (packed) pack_nn<S>(P, U, w + wo.w_hr + u0, H, scratch.ptr<S>(o_pack_hr[c]));
        start(dir, u0, U);
      }
      // This chunk's slice of h's units: dh_t = dy_t + (dhy | dG_{t+1} W_hh),
      // or dhx = dG W_hh for the rows that started from hx.
      const int64_t q0 = pj0[c], qc = pj1[c] - pj0[c];
      if (qc == 0) return;
      const S* w_hh = w + wo.w_hh + q0;
      S* pk = scratch.ptr<S>(o_pack[c]);
      const int64_t lq = packed_width<S>(qc);
      if (s == 0 && packed) pack_nn<S>(GH, qc, w_hh, R, pk);
      if (s > 0) {
        const int64_t tp = dir == 0 ? T - s : s - 1;
        const int64_t np = st.rows(tp);
        const S* dgp = dg_all + dir * TN * GH + st.at(tp) * GH;
        if (packed) gemm_packed<S>(np, GH, dgp, GH, pk, lq, prod, lq);
        else gemm_nn_small<S>(np, qc, GH, dgp, GH, w_hh, R, prod, lq);
        if (dhx) {
          S* dst = dhx + (l * D + dir) * N * R + q0;
          for (int64_t row = h0_from(dir, tp); row < np; ++row)
            std::copy(prod + row * lq, prod + row * lq + qc, dst + row * R);
        }
      }
      if (s == T) return;
      const int64_t t = dir == 0 ? T - 1 - s : s;
      const int64_t n = st.rows(t), fresh = fresh_from(dir, s, t);
      S* dst = dh_dir + st.at(t) * P + q0;
      for (int64_t row = 0; row < n; ++row) {
        const S* a = row >= fresh ? (dhy ? dhy + (l * D + dir) * N * R + row * R + q0 : zero)
                                  : prod + row * lq;
        S* o = dst + row * P;
        if (dy) {
          const S* b = dy + (st.at(t) + row) * DR + dir * R + q0;
          for (int64_t j = 0; j < qc; ++j) o[j] = a[j] + b[j];
        } else {
          std::copy(a, a + qc, o);
        }
      }
    };
    if (N > 0) {
      if (proj) team.run_phases(dhx ? 2 * T + 1 : 2 * T, n_chunks, task_proj);
      else team.run_phases(dhx ? T + 1 : T, n_chunks, task_plain);
    }

    for (int64_t dir = 0; dir < D; ++dir) {
      const WeightOffsets wo = weight_offsets(d, l, dir);
      const S* dg = dg_all + dir * TN * GH;
      if (din) {
        const S beta = dir == 0 ? S(0) : S(1);  // the directions add up
        gemm<S>(false, false, TN, I, GH, S(1), dg, GH, w + wo.w_ih, I, beta, din, I);
      }
      if (!dw) continue;
      gemm<S>(true, false, GH, I, TN, S(1), dg, GH, in, I, S(0), dw + wo.w_ih, I);
      // dW_hh = sum_t dG[t]^T h_prev[t]: the steps whose previous state is in
      // the sequence in one product, then the one that started from hx.
      S* dw_hh = dw + wo.w_hh;
      if (st.packed()) {
        // Packed steps have no common row stride: gather each row's previous
        // state (hx or zeros where it started), then one product.
        for (int64_t t = 0; t < T; ++t) {
          const int64_t n = st.rows(t), n_cont = cont_rows(dir, t);
          const int64_t tn = dir == 0 ? t - 1 : t + 1;
          S* dsth = hprev + st.at(t) * R;
          for (int64_t row = 0; row < n; ++row) {
            const S* src = row < n_cont ? out + (st.at(tn) + row) * DR + dir * R
                                        : (hx ? hx + (l * D + dir) * N * R + row * R : zero);
            std::copy(src, src + R, dsth + row * R);
          }
        }
        gemm<S>(true, false, GH, R, TN, S(1), dg, GH, hprev, R, S(0), dw_hh, R);
      } else {
        const S* dg_inner = dir == 0 ? dg + N * GH : dg;
        const S* h_inner = dir == 0 ? out + dir * R : out + N * DR + dir * R;
        gemm<S>(true, false, GH, R, (T - 1) * N, S(1), dg_inner, GH, h_inner, DR, S(0), dw_hh, R);
      }
      if (hx && !st.packed()) {
        const S* dg_first = dir == 0 ? dg : dg + (T - 1) * N * GH;
        gemm<S>(true, false, GH, R, N, S(1), dg_first, GH, hx + (l * D + dir) * N * R, R, S(1), dw_hh, R);
      }
      if (proj) {
        // dW_hr = sum_t dh_t^T h~_t, h~ saved beside the gates.
        gemm<S>(true, false, P, H, TN, S(1), dh_all + dir * TN * P, P,
                reserve + ro.gates[dir] + 6 * H, sw, S(0), dw + wo.w_hr, H);
      }
      if (d.bias) {
        const S* total = sums + dir * 2 * GH + GH;
        S* db_ih = dw + wo.b_ih;
        S* db_hh = dw + wo.b_hh;
        if (N == 0) {
          std::fill(db_ih, db_ih + GH, S(0));
          std::fill(db_hh, db_hh + GH, S(0));
        } else {
          std::copy(total, total + GH, db_ih);
          std::copy(total, total + GH, db_hh);
        }
      }
    }

    if (l > 0) {
      if (dropped) dropout_backward(d, l - 1, reserve, din, TN * DR);  // between layers l-1 and l
      dy = din;
    }
  }
  return Status::Ok();
}

template Status lstm_backward_impl<float>(const BackwardArgs&);
template Status lstm_backward_impl<double>(const BackwardArgs&);

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
