// Internals of the CPU RNN (rnn.h) shared by its .cc files: derived shapes,
// where each parameter and each saved tensor lives, the scratch arena, the
// matrix products, the thread team and the per-time-step cell kernels.
// Nothing here is part of the backend seam.
//
// Files: rnn.cc (entry points, checks, dtype dispatch), rnn_layout.cc (weight
// and reserve layout), rnn_scratch.cc (thread-local scratch), rnn_gemm.cc
// (BLAS with degenerate shapes handled), rnn_kernels_small.cc and
// rnn_kernels_packed.cc (per-step recurrent products; the packed kernel also
// runs the team's all-steps input projection), rnn_layer_common.cc (what
// every driver shares), rnn_team.cc (threads sharing a step), rnn_cells.cc
// and rnn_cells_lstm.cc (fused gate maths per step), rnn_forward.cc,
// rnn_forward_lstm.cc, rnn_backward.cc, rnn_backward_lstm.cc; isa.h picks
// each kernel's instruction-set copy.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "isa.h"
#include "rnn.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

// Shapes of one call, derived once from the Config.
struct Dims {
  Mode mode;
  bool bias;
  int64_t T;  // seq_len
  int64_t N;  // batch
  int64_t I;  // input_size
  int64_t H;  // hidden_size
  int64_t P;  // proj_size (LSTM), 0 = no projection
  int64_t R;  // units of h and of each output row: P when projecting, else H
  int64_t G;  // gates (1, 3, 4)
  int64_t D;  // directions
  int64_t L;  // layers
  int64_t in_size(int64_t layer) const { return layer == 0 ? I : D * R; }
};
Dims make_dims(const Config& cfg, int64_t seq_len, int64_t batch);

// A known mode, positive sizes, and element counts far from int64 overflow.
bool config_sane(const Config& cfg);
bool shape_sane(const Config& cfg, int64_t seq_len, int64_t batch);  // + T >= 1, N >= 0

// Rows of each time step: all N of the padded layout, or batch_sizes[t] of
// packed input, where step t's rows start at row at(t) of x and y.
class StepRows {
 public:
  StepRows(const int64_t* batch_sizes, int64_t T, int64_t N);
  int64_t rows(int64_t t) const { return t < 0 || t >= T_ ? 0 : (bs_ ? bs_[t] : N_); }
  int64_t at(int64_t t) const { return bs_ ? off_[static_cast<size_t>(t)] : t * N_; }
  int64_t total() const { return at(T_); }
  bool packed() const { return bs_ != nullptr; }

 private:
  const int64_t* bs_;
  int64_t T_, N_;
  std::vector<int64_t> off_;  // T+1 prefix sums (packed only)
};
// batch_sizes valid for (T, N): non-increasing, [0] == N, [T-1] >= 1.
bool batch_sizes_sane(const int64_t* batch_sizes, int64_t T, int64_t N);

// ---- Flat weight buffer (PyTorch's registration order, see rnn.h) ----------

// Element offsets of one (layer, direction)'s parameters; b_* are -1 without
// bias, w_hr -1 without projection.
struct WeightOffsets {
  int64_t w_ih, w_hh, b_ih, b_hh, w_hr;
};
WeightOffsets weight_offsets(const Dims& d, int64_t layer, int64_t dir);

// ---- Reserve (what the training forward saves for backward) -----------------
//
// In elements of the dtype, every region starting on a multiple of kAlign:
//   header (kReserveHeader): [0] = kReserveMagic, [1] = dropout p applied
//                            (0 when no mask was drawn), rest 0
//   for each layer l (R = output units: H, or P for a projecting LSTM):
//     out   (T, N, D*R)  the layer's output before dropout = every hidden state
//     mask  (T, N, D*R)  l < L-1 only: dropout keep mask, 0 or 1/(1-p)
//     drop  (T, N, D*R)  l < L-1 only: out * mask = the next layer's input
//     gates[dir] (T, N, save_width) per direction, GRU and LSTM:
//                        GRU rows [r | z | n | hn] with hn = W_hn h + b_hn;
//                        LSTM rows [i | f | g | o | c | tanh(c)], activated,
//                        c the new cell state, then with a projection
//                        [| o * tanh(c)] (the unprojected h, for dW_hr)
// RNN cells save no gates: act'(pre) is a function of the output itself.
// mask/drop are laid out even when p = 0 (reserve_numel cannot know p);
// header[1] tells backward whether they were filled.
constexpr int64_t kAlign = 16;
constexpr int64_t kReserveHeader = 16;
constexpr double kReserveMagic = 7919.0;  // exact in float32 and float64
constexpr int64_t kNone = -1;

int64_t save_width(const Dims& d);  // saved gate values per (t, n) row
// The header, written by every training forward and checked by its backward
// (rnn_layer_common.cc); *dropped = whether mask/drop were filled.
template <typename S>
void write_reserve_header(S* reserve, double p);
template <typename S>
Status read_reserve_header(const S* reserve, bool* dropped);
struct ReserveOffsets {
  int64_t out;
  int64_t mask;      // kNone for the last layer
  int64_t drop;      // kNone for the last layer
  int64_t gates[2];  // kNone when the mode saves no gates (or no such direction)
};
ReserveOffsets reserve_offsets(const Dims& d, int64_t layer);
int64_t reserve_total(const Dims& d);

// ---- Scratch -----------------------------------------------------------------
//
// One arena per thread (forward on a worker and backward on the main thread
// may run at the same time), grown to the largest request and kept so that
// repeated small calls never reach malloc. Arenas above kScratchKeepBytes are
// released when the call that needed them ends.
constexpr size_t kScratchKeepBytes = size_t(64) << 20;

// Every buffer of a call is planned up front (ScratchPlan::add returns its
// offset), then one ScratchLease of plan.bytes() hands out the pointers.
class ScratchPlan {
 public:
  template <typename S>
  size_t add(int64_t n) {
    size_t at = bytes_;
    size_t sz = static_cast<size_t>(n > 0 ? n : 0) * sizeof(S);
    bytes_ += (sz + 63) & ~size_t(63);  // 64-byte aligned slices
    return at;
  }
  size_t bytes() const { return bytes_; }

 private:
  size_t bytes_ = 0;
};

class ScratchLease {
 public:
  explicit ScratchLease(size_t bytes);  // throws std::bad_alloc
  ~ScratchLease();                      // releases an oversized arena
  ScratchLease(const ScratchLease&) = delete;
  ScratchLease& operator=(const ScratchLease&) = delete;
  template <typename S>
  S* ptr(size_t offset) const {
    return reinterpret_cast<S*>(base_ + offset);
  }

 private:
  char* base_;
};

// ---- Whole-sequence products (BLAS) --------------------------------------------

// blas::gemm (row-major) that also accepts m, n or k = 0 (empty batch, T = 1):
// k = 0 leaves C = beta * C, which no BLAS promises to do.
template <typename S>
void gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, S alpha, const S* a,
          int64_t lda, const S* b, int64_t ldb, S beta, S* c, int64_t ldc);

// All steps' input projections of `layer` at once, per direction:
// gi_all + dir * rows * G*H = X W_ih^T, (rows, G*H) (rnn_layer_common.cc).
// With a team (and a vector ISA) the team computes it with the packed
// kernel, packing W_ih into pack_ws (projection_pack_numel elements, for
// any layer; 0 when the BLAS will do it); otherwise the BLAS does.
class TeamLease;
template <typename S>
int64_t projection_pack_numel(const Dims& d, const TeamLease& team);
template <typename S>
void project_inputs(const Dims& d, const S* w, int64_t layer, const S* in, int64_t rows, S* gi_all,
                    TeamLease& team, S* pack_ws);

// Where layer l's output goes (rnn_layer_common.cc): in training the
// reserve's out region (backward reads it; the last layer is also copied to
// y as it is produced, out2), in inference y for the last layer, else one of
// two scratch buffers of `mid_numel` used alternately (mid).
template <typename S>
struct LayerOutput {
  S* out;
  S* out2;            // null but for the last layer in training
  ReserveOffsets ro;  // training only
};
template <typename S>
LayerOutput<S> layer_output(const Dims& d, int64_t layer, S* reserve, S* y, S* mid, int64_t mid_numel);
// What the layer after it reads: its output, or in training with dropout p > 0
// that output through a freshly drawn mask (both kept in the reserve); n elements.
template <typename S>
const S* next_layer_input(DType dtype, double p, const LayerOutput<S>& lo, S* reserve, int64_t n);
// Backward through that dropout: grad (n elements of layer `layer`'s output)
// times the mask the forward drew.
template <typename S>
void dropout_backward(const Dims& d, int64_t layer, const S* reserve, S* grad, int64_t n);

// ---- Per-step recurrent products ------------------------------------------------

// Widest kernels this CPU runs (isa.h).
using cpu::Isa;
using cpu::cpu_isa;

// Tiny batches (N <= 4, rnn_kernels_small.cc), reading W_hh where it lies.
// C (m x n) = A (m x k) * B^T with B n x k (forward: h W_hh^T), overwritten.
template <typename S>
void gemm_nt_small(int64_t m, int64_t n, int64_t k, const S* a, int64_t lda, const S* b,
                   int64_t ldb, S* c, int64_t ldc);
// C (m x n) = A (m x k) * B with B k x n (backward: dG W_hh), overwritten.
template <typename S>
void gemm_nn_small(int64_t m, int64_t n, int64_t k, const S* a, int64_t lda, const S* b,
                   int64_t ldb, S* c, int64_t ldc);

// Larger batches (rnn_kernels_packed.cc): B packed once per call into panels
// of packed_nr() columns (zero-padded), then C (m x n) = A (m x k) * B; the
// panels must cover n columns, and no column of C past n is written.
template <typename S>
int64_t packed_nr();
template <typename S>
int64_t packed_numel(int64_t k, int64_t n);  // elements of a packed k x n matrix
template <typename S>
int64_t packed_width(int64_t n);  // n rounded up to whole panels
// Up to four rows a step's product reads W_hh in place (rnn_kernels_small.cc);
// beyond, every driver packs it once per layer for the packed kernel.
inline bool packs_w_hh(int64_t rows) { return rows > 4; }
// Columns are rows of W (forward, B = W_rows^T): `blocks` blocks of `cols`
// consecutive rows, block b starting at row b * block_rows of w; k = row length.
template <typename S>
void pack_nt(int64_t k, int64_t blocks, int64_t cols, const S* w, int64_t ldw,
             int64_t block_rows, S* out);
// Columns are columns of W (backward, B = W[:, cols]): w points at the first.
template <typename S>
void pack_nn(int64_t k, int64_t cols, const S* w, int64_t ldw, S* out);
template <typename S>
void gemm_packed(int64_t m, int64_t k, const S* a, int64_t lda, const S* bp, int64_t n, S* c,
                 int64_t ldc);

// ---- Thread team (rnn_team.cc) -------------------------------------------------------

// A slice of one step's work: hidden units [u0, u0 + units) of direction dir.
struct Chunk {
  int64_t dir, u0, units;
};
constexpr int kMaxChunks = 32;
constexpr int kMaxRunChunks = 64;  // run_phases with more chunks runs on the caller alone
// One chunk per direction for one thread; otherwise about two per thread, of
// at least 32 units, so that a thread that is descheduled (a loaded machine)
// holds up little. Returns the count written to out[kMaxChunks].
int make_chunks(int64_t D, int64_t H, int threads, Chunk* out);

int team_max_threads();             // min(BLAS threads (CUDNN_RNN_NUM_THREADS), cores, 8)
int wanted_threads(const Dims& d);  // 1 when a step is too small to share

// Borrows the team for one call (never blocks: size() is 1 when it is busy).
class TeamLease {
 public:
  explicit TeamLease(int wanted);
  ~TeamLease();
  TeamLease(const TeamLease&) = delete;
  TeamLease& operator=(const TeamLease&) = delete;
  int size() const { return size_; }
  // Runs task(phase, chunk) for every phase in [0, phases) and chunk in
  // [0, chunks); a phase starts only when the previous one is complete (a
  // time step needs all of the previous one). Each thread (the caller's
  // included) runs its own block of chunks first, then claims any left, so
  // chunk c of consecutive phases usually runs on the same core; returns
  // when all are done. At most kMaxRunChunks chunks share the team. task
  // must not throw.
  template <typename F>
  void run_phases(int64_t phases, int chunks, F& task) {
    run_impl(
        phases, chunks, [](void* c, int64_t ph, int ch) { (*static_cast<F*>(c))(ph, ch); }, &task);
  }

 private:
  void run_impl(int64_t phases, int chunks, void (*fn)(void*, int64_t, int), void* ctx);
  void* team_ = nullptr;
  int size_ = 1;
};

// ---- Cell kernels: one time step, one slice of units, all N rows -------------
//
// Slices: pointers arrive offset to the slice's first unit u0; gate g of a
// row sits at +g*H in gi, the biases, save and dg (row strides as given),
// and at +g*U in the slice's private product buffer.

// GRU forward. gi: x W_ih^T rows (no bias), overwritten in inference; gh:
// h W_hh^T for the slice (no bias), overwritten; hp: previous hidden rows.
// Writes h' to out (and out2 when not null). save: training rows (stride 4H)
// [r | z | n | hn], hn = W_hn h + b_hn, or null.
template <typename S>
void gru_step_forward(int64_t N, int64_t U, int64_t H, S* gi, int64_t ldgi, S* gh, int64_t ldgh,
                      const S* b_ih, const S* b_hh, const S* hp, int64_t ldh, S* out,
                      int64_t ldo, S* out2, int64_t ldo2, S* save);

// RNN forward: h' = act((gh + b_hh) + (gi + b_ih)).
template <typename S>
void rnn_step_forward(bool relu, int64_t N, int64_t U, const S* gi, int64_t ldgi, const S* gh,
                      int64_t ldgh, const S* b_ih, const S* b_hh, S* out, int64_t ldo, S* out2,
                      int64_t ldo2);

// GRU backward. dL/dh' = carry + prod + dy, where carry holds what reaches h'
// directly (dhy, or dh'' * z from the later step) and prod = dG W_hh from the
// later step (null: none yet); dy null = zeros. Writes dg rows (stride 4H)
// [da_r | da_z | dhn | da_n], so dg[:, 0:3H] is the gradient of
// h W_hh^T + b_hh and [0:2H] + [3H:4H] that of x W_ih^T + b_ih, and sets
// carry = dh' * z. colsum (4 blocks) += column sums of dg, when not null.
template <typename S>
void gru_step_backward(int64_t N, int64_t U, int64_t H, const S* save, const S* hp, int64_t ldh,
                       const S* dy, int64_t ldy, S* carry, const S* prod, int64_t ldp, S* dg,
                       S* colsum);

// RNN backward: dg = (carry + prod + dy) * act'(h') with act' from the output
// (tanh: 1 - h'^2, relu: h' > 0); carry is consumed (set to 0).
template <typename S>
void rnn_step_backward(bool relu, int64_t N, int64_t U, int64_t H, const S* h, int64_t ldh,
                       const S* dy, int64_t ldy, S* carry, const S* prod, int64_t ldp, S* dg,
                       S* colsum);

// LSTM forward (PyTorch's order: gates = gh + gi; c' = f * c + i * g;
// h' = o * tanh(c')). save: training rows (stride ldsave) [i | f | g | o |
// c' | tanh(c') ...], or null in inference. gi: x W_ih^T rows (no bias),
// overwritten in inference; gh: h W_hh^T for the slice (no bias),
// overwritten; cp: the previous cell state rows (row stride ldc). c' goes to
// the save row in training, else to cn (which may alias cp: element j only
// reads and writes j), and also to cn2 when not null (cy). h' goes to out
// (and out2 when not null).
template <typename S>
void lstm_step_forward(int64_t N, int64_t U, int64_t H, S* gi, int64_t ldgi, S* gh, int64_t ldgh,
                       const S* b_ih, const S* b_hh, const S* cp, int64_t ldc, S* cn, int64_t ldcn,
                       S* cn2, int64_t ldcn2, S* out, int64_t ldo, S* out2, int64_t ldo2, S* save,
                       int64_t ldsave);

// LSTM backward. dL/dh' = dh (rows of stride ldd, consumed: set to 0) + prod
// (null: none) + dy (null: none); carry_c (stride H) holds dL/dc' from the
// later step (or dcy) and becomes dL/dc for the step before. cp: the
// previous cell state rows. Writes dg rows (stride 4H) [da_i | da_f | da_g |
// da_o], the gradient of both gi and gh; colsum (4 blocks) += column sums.
template <typename S>
void lstm_step_backward(int64_t N, int64_t U, int64_t H, const S* save, int64_t ldsave,
                        const S* cp, int64_t ldc, S* dh, int64_t ldd, const S* prod, int64_t ldp,
                        const S* dy, int64_t ldy, S* carry_c, S* dg, S* colsum);

// The layer output after dropout (the next layer's input): mask = keep ?
// 1/(1-p) : 0, drawn from the default generator (p = 1 drops everything).
template <typename S>
void apply_dropout(DType dtype, double p, const S* in, S* mask, S* out, int64_t n);

// ---- Drivers (one per file) ---------------------------------------------------
template <typename S>
Status forward_impl(const ForwardArgs& args);
template <typename S>
Status backward_impl(const BackwardArgs& args);
// LSTM (with or without projection): rnn_forward_lstm.cc, rnn_backward_lstm.cc.
template <typename S>
Status lstm_forward_impl(const ForwardArgs& args);
template <typename S>
Status lstm_backward_impl(const BackwardArgs& args);

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
