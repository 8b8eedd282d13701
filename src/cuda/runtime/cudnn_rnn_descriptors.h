// cuDNN descriptors as RAII objects, and the per-shape cache that makes a
// training loop's steady state create nothing: one Entry per (library,
// device, config, seq_len, batch, dropout, math type, training/inference)
// holds the RNN descriptor with its dropout descriptor, the x/y data
// descriptors, the h descriptor, the weight/work/reserve sizes and the
// device copy of the sequence lengths. A small LRU (32 entries) under a
// mutex; entries are shared_ptr, so evicting one that a call still uses is
// safe. Everything taking a Session runs with ctx->handle_mu held.
#pragma once
#include <vector>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "cudnn_rnn_internal.h"

namespace cudnn_rnn {
namespace cuda {
namespace rnn {
namespace detail {

// Owns one descriptor; destroys it with the library that made it.
template <typename H, typename DestroyFn>
class Owned {
 public:
  Owned() = default;
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  ~Owned() { reset(); }
  H get() const { return handle_; }
  void reset() {
    if (handle_ != nullptr && destroy_ != nullptr) destroy_(handle_);
    handle_ = nullptr;
  }
  template <typename CreateFn>
  Status create(CreateFn create_fn, DestroyFn destroy_fn, const char* what) {
    reset();
    H h = nullptr;
    CUDNN_RNN_RETURN_IF_ERROR(cudnn_check(create_fn(&h), what));
    handle_ = h;
    destroy_ = destroy_fn;
    return Status::Ok();
  }

 private:
  H handle_ = nullptr;
  DestroyFn destroy_ = nullptr;
};

using TensorDesc = Owned<cudnn::TensorDescriptor, cudnn::DestroyTensorDescriptorFn>;
using DropoutDesc = Owned<cudnn::DropoutDescriptor, cudnn::DestroyDropoutDescriptorFn>;
using RnnDesc = Owned<cudnn::RNNDescriptor, cudnn::DestroyRNNDescriptorFn>;
using RnnDataDesc = Owned<cudnn::RNNDataDescriptor, cudnn::DestroyRNNDataDescriptorFn>;

Status create(const Session& s, TensorDesc* d);
Status create(const Session& s, DropoutDesc* d);
Status create(const Session& s, RnnDesc* d);
Status create(const Session& s, RnnDataDesc* d);

// The network: the RNN descriptor and the dropout descriptor it refers to
// (declared first, so destroyed after the RNN descriptor).
struct Model {
  DropoutDesc dropout;
  RnnDesc rnn;
  cudnn::Status last_status = 0;  // cudnnSetRNNDescriptor_v8's (NOT_SUPPORTED: try STANDARD)
};

// cudnnSetRNNDescriptor_v8 as PyTorch: `algo` (STANDARD for the weight
// layout, as PyTorch's flatten; the cache's choice otherwise), DOUBLE_BIAS (NO_BIAS
// without bias), LINEAR_INPUT, dataType = mathPrec, projSize = the LSTM's
// proj_size or hiddenSize (no projection), PADDED_IO_ENABLED, always a dropout descriptor: p == 0 has
// no states (cheap); p > 0 shares the device's state (attach_dropout with
// `init_dropout`, see cudnn_rnn_dropout.h).
// packed: PADDED_IO_DISABLED (the packed data layout) instead of ENABLED.
Status make_model(const Session& s, const Config& cfg, float p, bool init_dropout, cudnn::MathType math,
                  Model* m, cudnn::RNNAlgo algo = cudnn::kRnnAlgoStandard, bool packed = false);

struct Key {
  cudnn::CreateFn lib = nullptr;
  int device = 0;
  Mode mode = Mode::RnnTanh;
  DType dtype = DType::Float32;
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t num_layers = 0;
  bool bidirectional = false;
  bool bias = true;
  int64_t proj_size = 0;
  int64_t seq_len = 0;
  int64_t batch = 0;
  float dropout = 0.0f;  // effective_dropout(): 0 unless training a multi-layer net
  cudnn::MathType math = 0;
  bool training = false;
  // Packed input (SEQ_MAJOR_PACKED, PADDED_IO_DISABLED): each sequence's
  // length, longest first (cuDNN's seqLengthArray); empty for unpacked.
  std::vector<int> packed_lengths;

  Config config() const;
  bool operator==(const Key& o) const;
};

// batch_sizes: a packed input's per-step batch sizes (seq_len of them), or nullptr.
Key make_key(const Session& s, const Config& cfg, int64_t seq_len, int64_t batch, float dropout,
             cudnn::MathType math, bool training, const int64_t* batch_sizes = nullptr);

struct Entry {
  Key key;
  Model model;
  // SEQ_MAJOR_UNPACKED (seq_len, batch, input_size), every length = seq_len;
  // SEQ_MAJOR_PACKED with the key's packed_lengths for packed input.
  RnnDataDesc x;
  RnnDataDesc y;  // same with dirs*R features (R = proj_size, or hidden_size without a projection)
  TensorDesc h;   // [layers*dirs, batch, R] strides {batch*R, R, 1}
  // [layers*dirs, batch, hidden]: the LSTM's cell state (cDesc); RNN/GRU pass
  // it too (cuDNN wants a descriptor) with NULL cx/cy.
  TensorDesc c;
  size_t weight_bytes = 0;
  size_t work_bytes = 0;     // for key.training's mode (backward uses the training one)
  size_t reserve_bytes = 0;  // 0 for inference
  DeviceBuffer seq_lengths;  // `batch` int32 = seq_len on the device (cuDNN 8 only; NULL on 9)
  // The algorithm (policy::choose_rnn_algo, PyTorch's get_algo), or STANDARD
  // when cuDNN refused the chosen one (making the descriptors, or
  // NOT_SUPPORTED when it ran: replace_with_standard).
  cudnn::RNNAlgo algo = cudnn::kRnnAlgoStandard;
};

// The cached entry for `key` (batch >= 1), made on a miss.
Status acquire_entry(const Session& s, const Key& key, std::shared_ptr<Entry>* out);

// Remakes the entry for `key` with ALGO_STANDARD and puts it in the cache in
// place of the one there (cuDNN refused the persistent algorithm when it ran).
Status replace_with_standard(const Session& s, const Key& key, std::shared_ptr<Entry>* out);

// Reserve sizes already worked out by reserve_numel, keyed by a training Key
// with dropout 0 (cudnn_rnn_layout.cc). A small LRU too.
bool cached_reserve_bytes(const Key& key, size_t* bytes);
void remember_reserve_bytes(const Key& key, size_t bytes);

}  // namespace detail
}  // namespace rnn
}  // namespace cuda
}  // namespace cudnn_rnn
