// Decisions of the cuDNN backend that need no GPU to make, kept apart from
// runtime/ (which needs the CUDA headers) so that CPU-only CI tests them
// through the binding's cudaPolicy: which RNN algorithm PyTorch would pick,
// whether cuDNN wants devSeqLengths, which library statuses mean "out of
// memory, release the cache and retry", and whether the parameter slots
// cover the weight space.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "../core/rnn_contract.h"

namespace cudnn_rnn {
namespace cuda {
namespace policy {

// cudnnRNNAlgo_t (the same numbers in cuDNN 8 and 9).
constexpr int kAlgoStandard = 0;
constexpr int kAlgoPersistStatic = 1;
constexpr int kAlgoPersistDynamic = 2;
constexpr int kAlgoPersistStaticSmallH = 3;

// cudnnDataType_t of the RNN's tensors.
constexpr int kDataFloat = 0;
constexpr int kDataDouble = 1;
constexpr int kDataHalf = 2;

struct AlgoQuery {
  int cudnn_version = 0;  // cudnnGetVersion()
  int cc_major = 0;       // the device's compute capability
  int cc_minor = 0;
  int sm_count = 0;       // multiprocessors
  ::cudnn_rnn::rnn::Mode mode = ::cudnn_rnn::rnn::Mode::RnnTanh;
  int data_type = kDataFloat;
  int64_t input_size = 0;
  int64_t hidden_size = 0;
  int64_t proj_size = 0;  // 0: no projection
  int64_t num_layers = 1;
  bool bidirectional = false;
  bool packed = false;  // a PackedSequence (per-step batch sizes)
  int64_t seq_len = 0;
  int64_t batch = 0;
  bool training = false;
};

// PyTorch's get_algo (aten/src/ATen/native/cudnn/RNN.cpp): STANDARD with a
// projection or packed input; PERSIST_STATIC_SMALL_H for non-double input on
// sm >= 6.0 (cuDNN >= 8.2.1) with hidden <= 384 (tanh/relu) or <= 192
// (LSTM/GRU) forward, <= 256 / <= 128 backward; PERSIST_STATIC for half
// precision when use_persist_common_heuristics and ..._device_heuristics
// agree; else STANDARD. PyTorch picks forward and backward separately, so a
// GRU with hidden 160 trains forward with SMALL_H and backward with STANDARD
// over the same reserve. cuDNN asks that one step not mix algorithms (the
// reserve's layout is the algorithm's), and our training forward and
// backward share one descriptor: a training descriptor takes the backward
// thresholds (the stricter ones), an inference descriptor the forward ones.
int choose_rnn_algo(const AlgoQuery& q);
const char* algo_name(int algo);

// cuDNN's "this algorithm cannot do this shape" (8: NOT_SUPPORTED = 9;
// 9: the 3xxx NOT_SUPPORTED category), after which STANDARD is used.
bool is_not_supported(int cudnn_major, int status);

// cuDNN 8 (every 8.x: the "ignored from 8.9.1" note is not what every 8.x
// build does) reads devSeqLengths; cuDNN 9 is given NULL, as PyTorch does.
bool pass_dev_seq_lengths(int cudnn_major);

// Statuses that mean the library could not allocate its own memory (outside
// our caching allocator): cuDNN 8 ALLOC_FAILED (2); cuDNN 9 host/device
// allocation failed (4003, 4004) and EXECUTION_FAILED_CUBLAS (5002, cuBLAS
// inside cuDNN failing, typically to allocate); cuBLAS ALLOC_FAILED (3).
enum class Library { Cudnn, Cublas };
bool is_library_alloc_failure(Library lib, int cudnn_major, int status);

// Runs `call` (returning the library's status); on an allocation failure,
// runs `release` (frees our idle cached blocks; false when that failed) and
// the call once more. Returns the last status; `retried` says whether the
// second call was made.
template <typename Call, typename Release>
int call_with_release_retry(Library lib, int cudnn_major, Call&& call, Release&& release, bool* retried = nullptr) {
  if (retried) *retried = false;
  const int first = call();
  if (first == 0 || !is_library_alloc_failure(lib, cudnn_major, first)) return first;
  if (!release()) return first;
  if (retried) *retried = true;
  return call();
}

// The parameter slots laid over a weight space of `total` elements: each
// inside it, no two overlapping, and slots plus gaps adding up to `total`
// (cuDNN may pad between parameters; the padding is zeroed with the rest).
// "" when so, else what is wrong; `gaps` gets the elements no slot covers.
std::string check_weight_cover(const std::vector<::cudnn_rnn::rnn::ParamSlot>& slots, int64_t total, int64_t* gaps);

}  // namespace policy
}  // namespace cuda
}  // namespace cudnn_rnn
