// The cuDNN implementation of the RNN seam (core/rnn_contract.h), through
// cuDNN's v8 RNN API (shared/reference/cudnn-api.md §2 and §4):
//   - the weight buffer is cuDNN's weight space; weight_layout() locates every
//     PyTorch parameter in it with cudnnGetRNNWeightParams (so parameters are
//     views into it, PyTorch's flatten_parameters);
//   - forward is cudnnRNNForward (FWD_MODE_INFERENCE when args.reserve is
//     null, TRAINING otherwise), backward is cudnnRNNBackwardData_v8 then
//     cudnnRNNBackwardWeights_v8 (WGRAD_MODE_ADD into a zeroed dw);
//   - float32 runs with CUDNN_FMA_MATH unless set_allow_tf32(true);
//   - descriptors and workspace sizes are cached per shape, so a training
//     loop's steady state creates nothing new.
// All pointers are device pointers on `device`. Calls queue work on the
// device's stream and return without waiting for it.
#pragma once
#include <cstdint>
#include <vector>

#include "../core/rnn_contract.h"
#include "../core/status.h"

namespace cudnn_rnn {
namespace cuda {
namespace rnn {

using ::cudnn_rnn::rnn::BackwardArgs;
using ::cudnn_rnn::rnn::Config;
using ::cudnn_rnn::rnn::ForwardArgs;
using ::cudnn_rnn::rnn::ParamSlot;

// PyTorch's parameter order (as cpu::rnn::weight_layout), offsets into
// cuDNN's weight space in elements; `numel` is the weight space's size.
Status weight_layout(int device, const Config& cfg, std::vector<ParamSlot>* slots, int64_t* numel);
// Elements (of cfg.dtype) the training-mode forward's reserve space needs
// with this dropout (cuDNN keeps its masks there).
// batch_sizes: a packed input's (ForwardArgs::batch_sizes), or nullptr.
Status reserve_numel(int device, const Config& cfg, int64_t seq_len, int64_t batch, double dropout, int64_t* numel,
                     const int64_t* batch_sizes = nullptr);

Status forward(int device, const ForwardArgs& args);
// args.y is required; dx, dhx and dw may each be null (not wanted).
Status backward(int device, const BackwardArgs& args);

// The bench's reference point: cudnnRNNForward alone, `iters` times back to
// back between two CUDA events, after one warm-up call; no allocation inside
// the timed loop. Gives the mean milliseconds per call, so the bench can show
// our per-call overhead over raw cuDNN.
Status time_raw_forward(int device, const ForwardArgs& args, int iters, double* ms_per_call);

// TF32 for float32 RNNs (CUDNN_DEFAULT_MATH on Ampere+), off by default
// (DESIGN.md decision 5: CPU and GPU agree to ~1e-5). Also applies to matmul.
void set_allow_tf32(bool allow);
bool allow_tf32();

// cuDNN's dropout has its own generator, whose state is made once per device
// (expensive). manualSeed() passes its seed here; a device's state is
// re-made from the new seed at its next dropout use, so seeded runs repeat.
void set_dropout_seed(uint64_t seed);

}  // namespace rnn
}  // namespace cuda
}  // namespace cudnn_rnn
