// One step of an RNN/GRU/LSTM cell on the CPU (cpu/cell.h), forward and
// backward, each a single call: the products go to the BLAS through the
// RNN's gemm wrapper (degenerate shapes handled: batch 0, input_size 0,
// hidden_size 0), the gate maths is one pass per batch row.
//
// Forward, as PyTorch's CPU cells (reference §2 "Cell maths"):
//   gi = x W_ih^T + b_ih, gh = h W_hh^T + b_hh
//   RNN   h' = act(gh + gi)
//   GRU   r = σ(gh_r + gi_r), z = σ(gh_z + gi_z), n = tanh(gi_n + r * gh_n),
//         h' = (h - n) * z + n
//   LSTM  [i f g o] = gh + gi; i, f, o = σ, g = tanh; c' = f c + i g;
//         h' = o tanh(c')
// Backward is the chain rule through exactly those ops, then
//   dx = dGi W_ih, dh = dGh W_hh (+ the direct GRU term dh' z),
//   dW_ih = dGi^T x, dW_hh = dGh^T h, db_ih = Σ_rows dGi, db_hh = Σ_rows dGh,
// where dGi = dGh except for GRU's n block (dGi_n = da_n, dGh_n = da_n r).
#include <algorithm>
#include <cstdint>
#include <new>
#include <string>

#include "cell.h"
#include "rnn_internal.h"
#include "vmath.h"

namespace cudnn_rnn {
namespace cpu {
namespace cell {

namespace {

using ::cudnn_rnn::cell::gate_count;
using ::cudnn_rnn::cell::Mode;
using ::cudnn_rnn::cell::save_width;
using rnn::detail::gemm;
using rnn::detail::ScratchLease;
using rnn::detail::ScratchPlan;

Status invalid(const std::string& what) { return Status(StatusCode::InvalidArgument, "cell (cpu): " + what); }

// Sizes a lib/ bug could get wrong: negative, or element counts near int64's range.
Status check_config(const Config& cfg, int64_t batch) {
  if (cfg.dtype != DType::Float32 && cfg.dtype != DType::Float64)
    return invalid(std::string("dtype must be float32 or float64, got ") + dtype_name(cfg.dtype));
  if (gate_count(cfg.mode) == 0) return invalid("unknown mode " + std::to_string(static_cast<int>(cfg.mode)));
  const int64_t limit = int64_t(1) << 31;
  if (batch < 0 || cfg.input_size < 0 || cfg.hidden_size < 0 || batch >= limit || cfg.input_size >= limit ||
      cfg.hidden_size >= limit) {
    return invalid("bad sizes: batch " + std::to_string(batch) + ", input_size " + std::to_string(cfg.input_size) +
                   ", hidden_size " + std::to_string(cfg.hidden_size));
  }
  const double gh = 5.0 * static_cast<double>(cfg.hidden_size);
  if (static_cast<double>(batch) * gh > 1e15 || gh * static_cast<double>(cfg.input_size) > 1e15 ||
      gh * static_cast<double>(cfg.hidden_size) > 1e15) {
    return invalid("sizes too large");
  }
  return Status::Ok();
}

// A buffer may be null only when it holds no elements.
bool present(const void* p, int64_t numel) { return p != nullptr || numel == 0; }

template <typename S>
const S* cptr(const void* p) {
  return static_cast<const S*>(p);
}
template <typename S>
S* mptr(void* p) {
  return static_cast<S*>(p);
}

// Row `row` of an optional (rows, width) buffer; `zeros` (at least width long) when absent.
template <typename S>
const S* row_or(const S* base, int64_t row, int64_t width, const S* zeros) {
  return base != nullptr ? base + row * width : zeros;
}

template <typename S>
void forward_impl(const ForwardArgs& a) {
  const Config& cfg = a.cfg;
  const int64_t N = a.batch, I = cfg.input_size, H = cfg.hidden_size, GH = gate_count(cfg.mode) * H;
  ScratchPlan plan;
  const size_t at_gi = plan.add<S>(N * GH), at_gh = plan.add<S>(N * GH), at_zero = plan.add<S>(GH);
  ScratchLease lease(plan.bytes());
  S* gi = lease.ptr<S>(at_gi);
  S* gh = lease.ptr<S>(at_gh);
  S* zeros = lease.ptr<S>(at_zero);
  std::fill(zeros, zeros + GH, S(0));

  const S* x = cptr<S>(a.x);
  const S* hx = cptr<S>(a.hx);
  gemm<S>(false, true, N, GH, I, S(1), x, I, cptr<S>(a.w_ih), I, S(0), gi, GH);
  if (hx != nullptr) gemm<S>(false, true, N, GH, H, S(1), hx, H, cptr<S>(a.w_hh), H, S(0), gh, GH);
  else std::fill(gh, gh + N * GH, S(0));
  // Without bias the sums are (gh + 0) + (gi + 0): the same values as PyTorch's gh + gi.
  const S* bi = cfg.bias ? cptr<S>(a.b_ih) : zeros;
  const S* bh = cfg.bias ? cptr<S>(a.b_hh) : zeros;
  S* save = mptr<S>(a.save);
  const int64_t sw = save_width(cfg.mode, H);

  for (int64_t row = 0; row < N; ++row) {
    S* gir = gi + row * GH;  // becomes the activated gates
    S* ghr = gh + row * GH;
    S* out = mptr<S>(a.hy) + row * H;
    S* sv = save != nullptr ? save + row * sw : nullptr;
    switch (cfg.mode) {
      case Mode::RnnTanh:
      case Mode::RnnRelu: {
        for (int64_t j = 0; j < H; ++j) out[j] = (ghr[j] + bh[j]) + (gir[j] + bi[j]);
        if (cfg.mode == Mode::RnnTanh) vmath::tanh(out, out, H);
        else for (int64_t j = 0; j < H; ++j) out[j] = out[j] < S(0) ? S(0) : out[j];  // keeps NaN, like torch.relu
        if (sv) std::copy(out, out + H, sv);
        break;
      }
      case Mode::Gru: {
        for (int64_t k = 0; k < 2 * H; ++k) gir[k] = (ghr[k] + bh[k]) + (gir[k] + bi[k]);
        vmath::sigmoid(gir, gir, 2 * H);
        const S* r = gir;
        const S* z = gir + H;
        S* n = gir + 2 * H;
        S* hn = ghr + 2 * H;
        for (int64_t j = 0; j < H; ++j) {
          hn[j] = hn[j] + bh[2 * H + j];
          n[j] = (n[j] + bi[2 * H + j]) + r[j] * hn[j];
        }
        vmath::tanh(n, n, H);
        const S* h = row_or(hx, row, H, zeros);
        for (int64_t j = 0; j < H; ++j) out[j] = (h[j] - n[j]) * z[j] + n[j];
        if (sv) {
          std::copy(gir, gir + 3 * H, sv);
          std::copy(hn, hn + H, sv + 3 * H);
        }
        break;
      }
      case Mode::Lstm: {
        for (int64_t k = 0; k < 4 * H; ++k) gir[k] = (ghr[k] + bh[k]) + (gir[k] + bi[k]);
        vmath::sigmoid(gir, gir, 2 * H);  // i, f
        vmath::tanh(gir + 2 * H, gir + 2 * H, H);
        vmath::sigmoid(gir + 3 * H, gir + 3 * H, H);
        const S* i = gir;
        const S* f = gir + H;
        const S* g = gir + 2 * H;
        const S* o = gir + 3 * H;
        const S* c = row_or(cptr<S>(a.cx), row, H, zeros);
        S* cout = mptr<S>(a.cy) + row * H;
        S* tc = ghr;  // the row's product is consumed: tanh(c') goes there
        for (int64_t j = 0; j < H; ++j) {
          cout[j] = f[j] * c[j] + i[j] * g[j];
          tc[j] = cout[j];
        }
        vmath::tanh(tc, tc, H);
        for (int64_t j = 0; j < H; ++j) out[j] = o[j] * tc[j];
        if (sv) {
          std::copy(gir, gir + 4 * H, sv);
          std::copy(tc, tc + H, sv + 4 * H);
        }
        break;
      }
    }
  }
}

template <typename S>
void backward_impl(const BackwardArgs& a) {
  const Config& cfg = a.cfg;
  const int64_t N = a.batch, I = cfg.input_size, H = cfg.hidden_size, GH = gate_count(cfg.mode) * H;
  const bool gru = cfg.mode == Mode::Gru;
  ScratchPlan plan;
  const size_t at_dgi = plan.add<S>(N * GH), at_dgh = plan.add<S>(gru ? N * GH : 0), at_zero = plan.add<S>(GH);
  ScratchLease lease(plan.bytes());
  S* dgi = lease.ptr<S>(at_dgi);
  S* dgh = gru ? lease.ptr<S>(at_dgh) : dgi;  // RNN, LSTM: both products see the same gate gradient
  S* zeros = lease.ptr<S>(at_zero);
  std::fill(zeros, zeros + GH, S(0));

  const S* x = cptr<S>(a.x);
  const S* hx = cptr<S>(a.hx);
  const S* save = cptr<S>(a.save);
  const int64_t sw = save_width(cfg.mode, H);
  S* dhx = mptr<S>(a.dhx);
  S* dcx = mptr<S>(a.dcx);

  for (int64_t row = 0; row < N; ++row) {
    const S* sv = save + row * sw;
    const S* dh = row_or(cptr<S>(a.dhy), row, H, zeros);
    S* gi = dgi + row * GH;
    S* gh = dgh + row * GH;
    switch (cfg.mode) {
      case Mode::RnnTanh:
        for (int64_t j = 0; j < H; ++j) gi[j] = dh[j] * (S(1) - sv[j] * sv[j]);
        break;
      case Mode::RnnRelu:
        // torch's threshold_backward on the output: 0 where masked, even for a NaN gradient.
        for (int64_t j = 0; j < H; ++j) gi[j] = sv[j] > S(0) ? dh[j] : S(0);
        break;
      case Mode::Gru: {
        const S* r = sv;
        const S* z = sv + H;
        const S* n = sv + 2 * H;
        const S* hn = sv + 3 * H;
        const S* h = row_or(hx, row, H, zeros);
        S* direct = dhx != nullptr ? dhx + row * H : nullptr;
        for (int64_t j = 0; j < H; ++j) {
          const S d = dh[j];
          // h' = (h - n) * z + n
          const S dn = d - d * z[j];
          const S dz = d * (h[j] - n[j]);
          if (direct) direct[j] = d * z[j];
          // n = tanh(a_n), a_n = gi_n + r * hn
          const S dan = dn * (S(1) - n[j] * n[j]);
          const S dar = dan * hn[j] * (r[j] * (S(1) - r[j]));
          const S daz = dz * (z[j] * (S(1) - z[j]));
          gi[j] = dar;
          gh[j] = dar;
          gi[H + j] = daz;
          gh[H + j] = daz;
          gi[2 * H + j] = dan;
          gh[2 * H + j] = dan * r[j];
        }
        break;
      }
      case Mode::Lstm: {
        const S* i = sv;
        const S* f = sv + H;
        const S* g = sv + 2 * H;
        const S* o = sv + 3 * H;
        const S* tc = sv + 4 * H;
        const S* c = row_or(cptr<S>(a.cx), row, H, zeros);
        const S* dc = row_or(cptr<S>(a.dcy), row, H, zeros);
        S* dcr = dcx != nullptr ? dcx + row * H : nullptr;
        for (int64_t j = 0; j < H; ++j) {
          // h' = o tanh(c'), c' = f c + i g
          const S d = dh[j];
          const S dct = dc[j] + d * o[j] * (S(1) - tc[j] * tc[j]);
          gi[j] = dct * g[j] * (i[j] * (S(1) - i[j]));
          gi[H + j] = dct * c[j] * (f[j] * (S(1) - f[j]));
          gi[2 * H + j] = dct * i[j] * (S(1) - g[j] * g[j]);
          gi[3 * H + j] = d * tc[j] * (o[j] * (S(1) - o[j]));
          if (dcr) dcr[j] = dct * f[j];
        }
        break;
      }
    }
  }

  if (a.dx) gemm<S>(false, false, N, I, GH, S(1), dgi, GH, cptr<S>(a.w_ih), I, S(0), mptr<S>(a.dx), I);
  // GRU's dhx already holds the direct term dh' z.
  if (dhx) gemm<S>(false, false, N, H, GH, S(1), dgh, GH, cptr<S>(a.w_hh), H, gru ? S(1) : S(0), dhx, H);
  if (a.dw_ih) gemm<S>(true, false, GH, I, N, S(1), dgi, GH, x, I, S(0), mptr<S>(a.dw_ih), I);
  if (a.dw_hh) {
    S* dw = mptr<S>(a.dw_hh);
    if (hx != nullptr) gemm<S>(true, false, GH, H, N, S(1), dgh, GH, hx, H, S(0), dw, H);
    else std::fill(dw, dw + GH * H, S(0));
  }
  for (int pass = 0; pass < 2; ++pass) {
    S* db = mptr<S>(pass == 0 ? a.db_ih : a.db_hh);
    if (db == nullptr) continue;
    const S* dg = pass == 0 ? dgi : dgh;
    std::fill(db, db + GH, S(0));
    for (int64_t row = 0; row < N; ++row)
      for (int64_t k = 0; k < GH; ++k) db[k] += dg[row * GH + k];
  }
}

// Runs `fn` for the dtype, turning every C++ failure into a Status.
template <typename F32, typename F64>
Status run(const char* what, DType dtype, F32 f32, F64 f64) {
  try {
    if (dtype == DType::Float32) f32();
    else f64();
    return Status::Ok();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::OutOfMemory, std::string("cell (cpu) ") + what + ": out of memory for scratch buffers");
  } catch (const std::exception& e) {
    return Status(StatusCode::Internal, std::string("cell (cpu) ") + what + ": " + e.what());
  } catch (...) {
    return Status(StatusCode::Internal, std::string("cell (cpu) ") + what + ": unknown failure");
  }
}

}  // namespace

Status forward(const ForwardArgs& args) {
  const Config& cfg = args.cfg;
  CUDNN_RNN_RETURN_IF_ERROR(check_config(cfg, args.batch));
  const int64_t N = args.batch, I = cfg.input_size, H = cfg.hidden_size, GH = gate_count(cfg.mode) * H;
  if (!present(args.x, N * I)) return invalid("x is null");
  if (!present(args.w_ih, GH * I) || !present(args.w_hh, GH * H)) return invalid("a weight is null");
  if (cfg.bias && (!present(args.b_ih, GH) || !present(args.b_hh, GH))) return invalid("a bias is null");
  if (!present(args.hy, N * H)) return invalid("hy is null");
  if (cfg.mode == Mode::Lstm && !present(args.cy, N * H)) return invalid("cy is null");
  return run("forward", cfg.dtype, [&] { forward_impl<float>(args); }, [&] { forward_impl<double>(args); });
}

Status backward(const BackwardArgs& args) {
  const Config& cfg = args.cfg;
  CUDNN_RNN_RETURN_IF_ERROR(check_config(cfg, args.batch));
  const int64_t N = args.batch, I = cfg.input_size, H = cfg.hidden_size, GH = gate_count(cfg.mode) * H;
  if (!present(args.save, N * save_width(cfg.mode, H)))
    return invalid("backward needs what the training-mode forward saved");
  if (!present(args.x, N * I)) return invalid("x is null");
  if (!present(args.w_ih, GH * I) || !present(args.w_hh, GH * H)) return invalid("a weight is null");
  return run("backward", cfg.dtype, [&] { backward_impl<float>(args); }, [&] { backward_impl<double>(args); });
}

}  // namespace cell
}  // namespace cpu
}  // namespace cudnn_rnn
