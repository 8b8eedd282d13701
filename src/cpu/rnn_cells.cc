// The gate maths of one time step for one slice of hidden units and all N
// rows, fused: after the step's recurrent product, each kernel makes one pass
// over the row, plus vectorised transcendental calls on contiguous chunks
// (std::tanh per element would cost more than the product at small sizes).
//
// Forward follows PyTorch's CPU cells (reference §2): gi and gh each carry
// their own bias; GRU n = tanh(gi_n + r * gh_n), h' = (h - n) * z + n.
// Backward is the chain rule through exactly those ops.
//
// The project is built for baseline x86-64; these loops are compiled once
// more for AVX2+FMA and once for AVX-512 and picked at run time (isa.h).
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "rnn_internal.h"
#include "vmath.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

namespace {

template <typename S>
CUDNN_RNN_INLINE void gru_forward_body(int64_t N, int64_t U, int64_t H, S* gi, int64_t ldgi, S* gh,
                                       int64_t ldgh, const S* b_ih, const S* b_hh, const S* hp,
                                       int64_t ldh, S* out, int64_t ldo, S* out2, int64_t ldo2,
                                       S* save) {
  for (int64_t row = 0; row < N; ++row) {
    S* gir = gi + row * ldgi;
    S* ghr = gh + row * ldgh;
    const S* h = hp + row * ldh;
    // Training writes the activations straight into the reserve; inference
    // reuses the row's (already consumed) product and projection slots.
    S* sv = save ? save + row * 4 * H : nullptr;
    S* r = sv ? sv : ghr;
    S* z = sv ? sv + H : ghr + U;
    S* n = sv ? sv + 2 * H : gir + 2 * H;
    S* hn = sv ? sv + 3 * H : ghr + 2 * U;
    CUDNN_RNN_IVDEP
    for (int64_t j = 0; j < U; ++j) {
      r[j] = (ghr[j] + b_hh[j]) + (gir[j] + b_ih[j]);
      z[j] = (ghr[U + j] + b_hh[H + j]) + (gir[H + j] + b_ih[H + j]);
    }
    if (z == r + U) {
      vmath::sigmoid(r, r, 2 * U);
    } else {
      vmath::sigmoid(r, r, U);
      vmath::sigmoid(z, z, U);
    }
    CUDNN_RNN_IVDEP
    for (int64_t j = 0; j < U; ++j) {
      const S v = ghr[2 * U + j] + b_hh[2 * H + j];
      hn[j] = v;
      n[j] = (gir[2 * H + j] + b_ih[2 * H + j]) + r[j] * v;
    }
    vmath::tanh(n, n, U);
    S* o = out + row * ldo;
    CUDNN_RNN_IVDEP
    for (int64_t j = 0; j < U; ++j) o[j] = (h[j] - n[j]) * z[j] + n[j];
    if (out2) std::copy(o, o + U, out2 + row * ldo2);
  }
}

template <typename S>
CUDNN_RNN_INLINE void rnn_forward_body(bool relu, int64_t N, int64_t U, const S* gi, int64_t ldgi,
                                       const S* gh, int64_t ldgh, const S* b_ih, const S* b_hh,
                                       S* out, int64_t ldo, S* out2, int64_t ldo2) {
  for (int64_t row = 0; row < N; ++row) {
    const S* gir = gi + row * ldgi;
    const S* ghr = gh + row * ldgh;
    S* o = out + row * ldo;
    if (relu) {
      CUDNN_RNN_IVDEP
      for (int64_t j = 0; j < U; ++j) {
        const S v = (ghr[j] + b_hh[j]) + (gir[j] + b_ih[j]);
        o[j] = v < S(0) ? S(0) : v;  // keeps NaN, like torch.relu
      }
    } else {
      CUDNN_RNN_IVDEP
      for (int64_t j = 0; j < U; ++j) o[j] = (ghr[j] + b_hh[j]) + (gir[j] + b_ih[j]);
      vmath::tanh(o, o, U);
    }
    if (out2) std::copy(o, o + U, out2 + row * ldo2);
  }
}

// c ? v : 0 as bit operations: a plain ternary lets GCC move v's computation
// into the branch (-ftrapping-math) and the loop no longer vectorises. Also
// keeps torch's semantics for a NaN/inf gradient (0 where masked, not NaN).
CUDNN_RNN_INLINE float keep_if(bool c, float v) {
  uint32_t b;
  std::memcpy(&b, &v, sizeof b);
  b &= 0u - static_cast<uint32_t>(c);
  std::memcpy(&v, &b, sizeof v);
  return v;
}
CUDNN_RNN_INLINE double keep_if(bool c, double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  b &= uint64_t(0) - static_cast<uint64_t>(c);
  std::memcpy(&v, &b, sizeof v);
  return v;
}

// One row of the GRU backward. The flags are template parameters so that the
// loop has no branch in it and vectorises.
template <typename S, bool kDy, bool kProd>
CUDNN_RNN_INLINE void gru_row_backward(int64_t U, int64_t H, const S* sv, const S* h,
                                       const S* dy, S* carry, const S* prod, S* g) {
  const S* r = sv;
  const S* z = sv + H;
  const S* n = sv + 2 * H;
  const S* hn = sv + 3 * H;
  CUDNN_RNN_IVDEP
  for (int64_t j = 0; j < U; ++j) {
    S d = carry[j];  // dL/dh'
    if (kProd) d += prod[j];
    if (kDy) d += dy[j];
    // h' = (h - n) * z + n
    const S dn = d - d * z[j];
    const S dz = d * (h[j] - n[j]);
    carry[j] = d * z[j];
    // n = tanh(a_n), a_n = gi_n + r * hn
    const S dan = dn * (S(1) - n[j] * n[j]);
    const S dr = dan * hn[j];
    g[j] = dr * (r[j] * (S(1) - r[j]));  // through the sigmoids
    g[H + j] = dz * (z[j] * (S(1) - z[j]));
    g[2 * H + j] = dan * r[j];  // d(W_hn h + b_hn)
    g[3 * H + j] = dan;         // d(gi_n)
  }
}

template <typename S, bool kDy, bool kProd>
CUDNN_RNN_INLINE void rnn_row_backward(bool relu, int64_t U, const S* o, const S* dy, S* carry,
                                       const S* prod, S* g) {
  if (relu) {
    CUDNN_RNN_IVDEP
    for (int64_t j = 0; j < U; ++j) {
      S d = carry[j];
      if (kProd) d += prod[j];
      if (kDy) d += dy[j];
      carry[j] = S(0);
      g[j] = keep_if(o[j] > S(0), d);  // torch's threshold_backward on the output
    }
  } else {
    CUDNN_RNN_IVDEP
    for (int64_t j = 0; j < U; ++j) {
      S d = carry[j];
      if (kProd) d += prod[j];
      if (kDy) d += dy[j];
      carry[j] = S(0);
      g[j] = d * (S(1) - o[j] * o[j]);
    }
  }
}

template <typename S>
CUDNN_RNN_INLINE void add_colsum(int64_t blocks, int64_t U, int64_t H, const S* g, S* colsum) {
  for (int64_t b = 0; b < blocks; ++b)
    CUDNN_RNN_IVDEP
    for (int64_t j = 0; j < U; ++j) colsum[b * H + j] += g[b * H + j];
}

template <typename S>
CUDNN_RNN_INLINE void gru_backward_body(int64_t N, int64_t U, int64_t H, const S* save,
                                        const S* hp, int64_t ldh, const S* dy, int64_t ldy,
                                        S* carry, const S* prod, int64_t ldp, S* dg, S* colsum) {
  for (int64_t row = 0; row < N; ++row) {
    const S* sv = save + row * 4 * H;
    const S* h = hp + row * ldh;
    const S* dyr = dy ? dy + row * ldy : nullptr;
    const S* pr = prod ? prod + row * ldp : nullptr;
    S* c = carry + row * H;
    S* g = dg + row * 4 * H;
    if (dyr && pr) gru_row_backward<S, true, true>(U, H, sv, h, dyr, c, pr, g);
    else if (dyr) gru_row_backward<S, true, false>(U, H, sv, h, dyr, c, pr, g);
    else if (pr) gru_row_backward<S, false, true>(U, H, sv, h, dyr, c, pr, g);
    else gru_row_backward<S, false, false>(U, H, sv, h, dyr, c, pr, g);
    if (colsum) add_colsum(4, U, H, g, colsum);
  }
}

template <typename S>
CUDNN_RNN_INLINE void rnn_backward_body(bool relu, int64_t N, int64_t U, int64_t H, const S* h,
                                        int64_t ldh, const S* dy, int64_t ldy, S* carry,
                                        const S* prod, int64_t ldp, S* dg, S* colsum) {
  for (int64_t row = 0; row < N; ++row) {
    const S* o = h + row * ldh;
    const S* dyr = dy ? dy + row * ldy : nullptr;
    const S* pr = prod ? prod + row * ldp : nullptr;
    S* c = carry + row * H;
    S* g = dg + row * H;
    if (dyr && pr) rnn_row_backward<S, true, true>(relu, U, o, dyr, c, pr, g);
    else if (dyr) rnn_row_backward<S, true, false>(relu, U, o, dyr, c, pr, g);
    else if (pr) rnn_row_backward<S, false, true>(relu, U, o, dyr, c, pr, g);
    else rnn_row_backward<S, false, false>(relu, U, o, dyr, c, pr, g);
    if (colsum) add_colsum(1, U, H, g, colsum);
  }
}


// Each kernel three times: plain, AVX2 and AVX-512 (the bodies above are
// inlined into each; isa.h).
#define GRU_FWD_PARAMS                                                                         \
  (int64_t N, int64_t U, int64_t H, S* gi, int64_t ldgi, S* gh, int64_t ldgh, const S* b_ih, \
   const S* b_hh, const S* hp, int64_t ldh, S* out, int64_t ldo, S* out2, int64_t ldo2, S* save)
#define GRU_FWD_ARGS (N, U, H, gi, ldgi, gh, ldgh, b_ih, b_hh, hp, ldh, out, ldo, out2, ldo2, save)
#define RNN_FWD_PARAMS                                                                        \
  (bool relu, int64_t N, int64_t U, const S* gi, int64_t ldgi, const S* gh, int64_t ldgh,   \
   const S* b_ih, const S* b_hh, S* out, int64_t ldo, S* out2, int64_t ldo2)
#define RNN_FWD_ARGS (relu, N, U, gi, ldgi, gh, ldgh, b_ih, b_hh, out, ldo, out2, ldo2)
#define GRU_BWD_PARAMS                                                                        \
  (int64_t N, int64_t U, int64_t H, const S* save, const S* hp, int64_t ldh, const S* dy,   \
   int64_t ldy, S* carry, const S* prod, int64_t ldp, S* dg, S* colsum)
#define GRU_BWD_ARGS (N, U, H, save, hp, ldh, dy, ldy, carry, prod, ldp, dg, colsum)
#define RNN_BWD_PARAMS                                                                        \
  (bool relu, int64_t N, int64_t U, int64_t H, const S* h, int64_t ldh, const S* dy,        \
   int64_t ldy, S* carry, const S* prod, int64_t ldp, S* dg, S* colsum)
#define RNN_BWD_ARGS (relu, N, U, H, h, ldh, dy, ldy, carry, prod, ldp, dg, colsum)

CUDNN_RNN_ISA_COPIES(gru_forward, gru_forward_body, GRU_FWD_PARAMS, GRU_FWD_ARGS)
CUDNN_RNN_ISA_COPIES(rnn_forward, rnn_forward_body, RNN_FWD_PARAMS, RNN_FWD_ARGS)
CUDNN_RNN_ISA_COPIES(gru_backward, gru_backward_body, GRU_BWD_PARAMS, GRU_BWD_ARGS)
CUDNN_RNN_ISA_COPIES(rnn_backward, rnn_backward_body, RNN_BWD_PARAMS, RNN_BWD_ARGS)

}  // namespace

template <typename S>
void gru_step_forward GRU_FWD_PARAMS { CUDNN_RNN_ISA_CALL(gru_forward, GRU_FWD_ARGS); }
template <typename S>
void rnn_step_forward RNN_FWD_PARAMS { CUDNN_RNN_ISA_CALL(rnn_forward, RNN_FWD_ARGS); }
template <typename S>
void gru_step_backward GRU_BWD_PARAMS { CUDNN_RNN_ISA_CALL(gru_backward, GRU_BWD_ARGS); }
template <typename S>
void rnn_step_backward RNN_BWD_PARAMS { CUDNN_RNN_ISA_CALL(rnn_backward, RNN_BWD_ARGS); }

#define CUDNN_RNN_CELLS(S)                                                                       \
  template void gru_step_forward<S>(int64_t, int64_t, int64_t, S*, int64_t, S*, int64_t,        \
                                    const S*, const S*, const S*, int64_t, S*, int64_t, S*,     \
                                    int64_t, S*);                                                \
  template void rnn_step_forward<S>(bool, int64_t, int64_t, const S*, int64_t, const S*,        \
                                    int64_t, const S*, const S*, S*, int64_t, S*, int64_t);     \
  template void gru_step_backward<S>(int64_t, int64_t, int64_t, const S*, const S*, int64_t,    \
                                     const S*, int64_t, S*, const S*, int64_t, S*, S*);         \
  template void rnn_step_backward<S>(bool, int64_t, int64_t, int64_t, const S*, int64_t,        \
                                     const S*, int64_t, S*, const S*, int64_t, S*, S*);
CUDNN_RNN_CELLS(float)
CUDNN_RNN_CELLS(double)
#undef CUDNN_RNN_CELLS

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
