// See rnn_policy.h. The algorithm conditions are PyTorch's, read from
// aten/src/ATen/native/cudnn/RNN.cpp (get_algo, use_rnn_persist_small_h,
// use_persist_common_heuristics, use_persist_device_heuristics).
#include "rnn_policy.h"

#include <algorithm>
#include <utility>

namespace cudnn_rnn {
namespace cuda {
namespace policy {

namespace {

using ::cudnn_rnn::rnn::Mode;

bool is_lstm_or_gru(Mode m) { return m == Mode::Lstm || m == Mode::Gru; }

// use_rnn_persist_small_h. PyTorch guarded it with CUDNN_VERSION >= 8201
// (8.2.1) while it still built against older cuDNN.
bool persist_small_h(const AlgoQuery& q, bool forward) {
  if (q.cudnn_version < 8201) return false;
  if (q.cc_major < 6) return false;
  if (forward) return is_lstm_or_gru(q.mode) ? q.hidden_size <= 192 : q.hidden_size <= 384;
  return is_lstm_or_gru(q.mode) ? q.hidden_size <= 128 : q.hidden_size <= 256;
}

// use_persist_common_heuristics.
bool persist_common(const AlgoQuery& q) {
  return q.num_layers == 1 && q.hidden_size <= 1024 && !q.bidirectional && q.hidden_size % 128 == 0 &&
         q.input_size % 128 == 0;
}

// use_persist_device_heuristics.
bool persist_device(const AlgoQuery& q) {
  const int64_t b = q.batch;
  if (q.cc_major == 7) {
    if (q.cc_minor == 5) return false;  // Turing: excluded
    return ((b % 16 == 0 && b != 80 && b != 112) || b == 8) &&
           ((q.seq_len >= 40 && b <= 128) || (q.seq_len >= 20 && b <= 96) || (q.seq_len >= 10 && b <= 32));
  }
  if (q.cc_major >= 8 && q.sm_count >= 98) {  // the SM count excludes A30
    if (q.cc_minor == 6) return false;       // sm_86 (A40) edge cases
    if (q.mode == Mode::Gru) return false;   // "persistent GRU performance is flakier"
    if (q.mode == Mode::Lstm) return b % 8 == 0 && b <= 128;
    return b % 8 == 0 && b <= 128 && (b < 96 || q.hidden_size < 896);
  }
  return false;
}

}  // namespace

int choose_rnn_algo(const AlgoQuery& q) {
  if (q.proj_size != 0) return kAlgoStandard;  // "LSTM with projections only works with standard algorithm"
  if (q.packed) return kAlgoStandard;          // persistent algos refuse varying lengths
  const bool forward = !q.training;
  if (q.data_type != kDataDouble && persist_small_h(q, forward)) return kAlgoPersistStaticSmallH;
  if (q.data_type == kDataHalf && persist_common(q) && persist_device(q)) return kAlgoPersistStatic;
  return kAlgoStandard;
}

const char* algo_name(int algo) {
  switch (algo) {
    case kAlgoStandard: return "CUDNN_RNN_ALGO_STANDARD";
    case kAlgoPersistStatic: return "CUDNN_RNN_ALGO_PERSIST_STATIC";
    case kAlgoPersistDynamic: return "CUDNN_RNN_ALGO_PERSIST_DYNAMIC";
    case kAlgoPersistStaticSmallH: return "CUDNN_RNN_ALGO_PERSIST_STATIC_SMALL_H";
    default: return "CUDNN_RNN_ALGO_UNKNOWN";
  }
}

bool is_not_supported(int cudnn_major, int status) {
  if (cudnn_major == 8) return status == 9;
  return status / 1000 == 3;
}

bool pass_dev_seq_lengths(int cudnn_major) { return cudnn_major == 8; }

bool is_library_alloc_failure(Library lib, int cudnn_major, int status) {
  if (lib == Library::Cublas) return status == 3;
  if (cudnn_major == 8) return status == 2;
  return status == 4003 || status == 4004 || status == 5002;
}

std::string check_weight_cover(const std::vector<::cudnn_rnn::rnn::ParamSlot>& slots, int64_t total, int64_t* gaps) {
  if (gaps) *gaps = 0;
  if (total < 0) return "the weight space has " + std::to_string(total) + " elements";
  std::vector<std::pair<int64_t, int64_t>> spans;  // [offset, end)
  int64_t covered = 0;
  for (const auto& p : slots) {
    const int64_t n = p.rows * (p.cols ? p.cols : 1);
    if (p.offset < 0 || n < 0 || p.offset > total || n > total - p.offset)
      return "a parameter of " + std::to_string(n) + " elements at element " + std::to_string(p.offset) +
             " runs past the " + std::to_string(total) + "-element weight space";
    spans.emplace_back(p.offset, p.offset + n);
    covered += n;
  }
  std::sort(spans.begin(), spans.end());
  int64_t gap = 0, at = 0;
  for (const auto& s : spans) {
    if (s.first < at) return "two parameters overlap at element " + std::to_string(s.first);
    gap += s.first - at;
    at = s.second;
  }
  gap += total - at;
  if (covered + gap != total)
    return "the parameters (" + std::to_string(covered) + " elements) and the gaps (" + std::to_string(gap) +
           ") add up to " + std::to_string(covered + gap) + ", not the weight space's " + std::to_string(total);
  if (gaps) *gaps = gap;
  return "";
}

}  // namespace policy
}  // namespace cuda
}  // namespace cudnn_rnn
