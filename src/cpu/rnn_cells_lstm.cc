// The LSTM's gate maths for one time step, one slice of hidden units and all
// N rows. The forward is one vectorised pass per row: per unit the four gate
// pre-activations, their sigmoid/tanh (vmath_core.h, inlined), the cell state
// and h', with nothing stored in between. Forward follows PyTorch's CPU LSTMCell
// (reference §2): gates = (h W_hh^T + b_hh) + (x W_ih^T + b_ih), split
// i|f|g|o; c' = f * c + i * g; h' = o * tanh(c'). Backward is the chain rule
// through those ops, with sigmoid'/tanh' taken from the saved outputs.
//
// A file of its own so that the RNN/GRU kernels stay as they are; compiled
// plain, for AVX2+FMA and for AVX-512, picked at run time (isa.h).
#include <algorithm>
#include <cstdint>

#include "rnn_internal.h"
#include "vmath_core.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

namespace {

// One row's gates in a single pass: for each unit the four pre-activations,
// their sigmoid/tanh (vmath's cores, inlined so the loop vectorises), the
// new cell state and h', with nothing written in between. kSave: training
// writes the activations to the reserve row; inference keeps only c' and h'.
template <typename S, bool kSave>
CUDNN_RNN_INLINE void lstm_row_forward(int64_t U, int64_t H, const S* gir, const S* ghr,
                                  const S* b_ih, const S* b_hh, const S* c0, S* c, S* o, S* sv) {
  using namespace vmath::core;
  CUDNN_RNN_IVDEP
  for (int64_t j = 0; j < U; ++j) {
    const S i = sigmoid_core((ghr[j] + b_hh[j]) + (gir[j] + b_ih[j]));
    const S f = sigmoid_core((ghr[U + j] + b_hh[H + j]) + (gir[H + j] + b_ih[H + j]));
    const S g = tanh_core((ghr[2 * U + j] + b_hh[2 * H + j]) + (gir[2 * H + j] + b_ih[2 * H + j]));
    const S og = sigmoid_core((ghr[3 * U + j] + b_hh[3 * H + j]) + (gir[3 * H + j] + b_ih[3 * H + j]));
    const S cn = f * c0[j] + i * g;
    const S tc = tanh_core(cn);
    o[j] = og * tc;
    if (kSave) {
      sv[j] = i;
      sv[H + j] = f;
      sv[2 * H + j] = g;
      sv[3 * H + j] = og;
      sv[4 * H + j] = cn;
      sv[5 * H + j] = tc;
    } else {
      c[j] = cn;
    }
  }
}

template <typename S>
CUDNN_RNN_INLINE void lstm_forward_body(int64_t N, int64_t U, int64_t H, S* gi, int64_t ldgi, S* gh,
                                   int64_t ldgh, const S* b_ih, const S* b_hh, const S* cp,
                                   int64_t ldc, S* cn, int64_t ldcn, S* cn2, int64_t ldcn2, S* out,
                                   int64_t ldo, S* out2, int64_t ldo2, S* save, int64_t ldsave) {
  for (int64_t row = 0; row < N; ++row) {
    const S* gir = gi + row * ldgi;
    const S* ghr = gh + row * ldgh;
    const S* c0 = cp + row * ldc;
    S* o = out + row * ldo;
    // Training writes the activations (and c') straight into the reserve.
    S* sv = save ? save + row * ldsave : nullptr;
    S* c = sv ? sv + 4 * H : cn + row * ldcn;
    if (sv) lstm_row_forward<S, true>(U, H, gir, ghr, b_ih, b_hh, c0, c, o, sv);
    else lstm_row_forward<S, false>(U, H, gir, ghr, b_ih, b_hh, c0, c, o, sv);
    if (out2) std::copy(o, o + U, out2 + row * ldo2);
    if (cn2) std::copy(c, c + U, cn2 + row * ldcn2);
  }
}

template <typename S, bool kProd, bool kDy>
CUDNN_RNN_INLINE void lstm_row_backward(int64_t U, int64_t H, const S* sv, const S* c0, S* dh,
                                   const S* prod, const S* dy, S* cc, S* g) {
  const S* ig = sv;
  const S* fg = sv + H;
  const S* gg = sv + 2 * H;
  const S* og = sv + 3 * H;
  const S* tc = sv + 5 * H;
  CUDNN_RNN_IVDEP
  for (int64_t j = 0; j < U; ++j) {
    S d = dh[j];  // dL/dh'
    if (kProd) d += prod[j];
    if (kDy) d += dy[j];
    dh[j] = S(0);
    // h' = o * tanh(c'), c' = f * c + i * g
    const S t = tc[j];
    const S dc = cc[j] + d * og[j] * (S(1) - t * t);
    const S dout = d * t;
    cc[j] = dc * fg[j];  // dL/dc for the step before
    // Through the sigmoids (i, f, o) and the tanh (g), from their outputs.
    g[j] = (dc * gg[j]) * (ig[j] * (S(1) - ig[j]));
    g[H + j] = (dc * c0[j]) * (fg[j] * (S(1) - fg[j]));
    g[2 * H + j] = (dc * ig[j]) * (S(1) - gg[j] * gg[j]);
    g[3 * H + j] = dout * (og[j] * (S(1) - og[j]));
  }
}

template <typename S>
CUDNN_RNN_INLINE void lstm_backward_body(int64_t N, int64_t U, int64_t H, const S* save,
                                    int64_t ldsave, const S* cp, int64_t ldc, S* dh, int64_t ldd,
                                    const S* prod, int64_t ldp, const S* dy, int64_t ldy,
                                    S* carry_c, S* dg, S* colsum) {
  for (int64_t row = 0; row < N; ++row) {
    const S* sv = save + row * ldsave;
    const S* c0 = cp + row * ldc;
    S* d = dh + row * ldd;
    const S* pr = prod ? prod + row * ldp : nullptr;
    const S* dyr = dy ? dy + row * ldy : nullptr;
    S* cc = carry_c + row * H;
    S* g = dg + row * 4 * H;
    if (pr && dyr) lstm_row_backward<S, true, true>(U, H, sv, c0, d, pr, dyr, cc, g);
    else if (pr) lstm_row_backward<S, true, false>(U, H, sv, c0, d, pr, dyr, cc, g);
    else if (dyr) lstm_row_backward<S, false, true>(U, H, sv, c0, d, pr, dyr, cc, g);
    else lstm_row_backward<S, false, false>(U, H, sv, c0, d, pr, dyr, cc, g);
    if (colsum) {
      for (int64_t b = 0; b < 4; ++b)
        CUDNN_RNN_IVDEP
        for (int64_t j = 0; j < U; ++j) colsum[b * H + j] += g[b * H + j];
    }
  }
}

#define LSTM_FWD_PARAMS                                                                         \
  (int64_t N, int64_t U, int64_t H, S* gi, int64_t ldgi, S* gh, int64_t ldgh, const S* b_ih,  \
   const S* b_hh, const S* cp, int64_t ldc, S* cn, int64_t ldcn, S* cn2, int64_t ldcn2, S* out, \
   int64_t ldo, S* out2, int64_t ldo2, S* save, int64_t ldsave)
#define LSTM_FWD_ARGS \
  (N, U, H, gi, ldgi, gh, ldgh, b_ih, b_hh, cp, ldc, cn, ldcn, cn2, ldcn2, out, ldo, out2, ldo2, save, ldsave)
#define LSTM_BWD_PARAMS                                                                         \
  (int64_t N, int64_t U, int64_t H, const S* save, int64_t ldsave, const S* cp, int64_t ldc,    \
   S* dh, int64_t ldd, const S* prod, int64_t ldp, const S* dy, int64_t ldy, S* carry_c, S* dg, \
   S* colsum)
#define LSTM_BWD_ARGS (N, U, H, save, ldsave, cp, ldc, dh, ldd, prod, ldp, dy, ldy, carry_c, dg, colsum)

CUDNN_RNN_ISA_COPIES(lstm_forward, lstm_forward_body, LSTM_FWD_PARAMS, LSTM_FWD_ARGS)
CUDNN_RNN_ISA_COPIES(lstm_backward, lstm_backward_body, LSTM_BWD_PARAMS, LSTM_BWD_ARGS)

}  // namespace

template <typename S>
void lstm_step_forward LSTM_FWD_PARAMS {
  CUDNN_RNN_ISA_CALL(lstm_forward, LSTM_FWD_ARGS);
}

template <typename S>
void lstm_step_backward LSTM_BWD_PARAMS {
  CUDNN_RNN_ISA_CALL(lstm_backward, LSTM_BWD_ARGS);
}

#define LSTM_CELLS(S)                                                                             \
  template void lstm_step_forward<S>(int64_t, int64_t, int64_t, S*, int64_t, S*, int64_t,        \
                                     const S*, const S*, const S*, int64_t, S*, int64_t, S*,     \
                                     int64_t, S*, int64_t, S*, int64_t, S*, int64_t);            \
  template void lstm_step_backward<S>(int64_t, int64_t, int64_t, const S*, int64_t, const S*,    \
                                      int64_t, S*, int64_t, const S*, int64_t, const S*,         \
                                      int64_t, S*, S*, S*);
LSTM_CELLS(float)
LSTM_CELLS(double)
#undef LSTM_CELLS

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
