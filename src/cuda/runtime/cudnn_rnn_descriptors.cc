// Descriptors and the per-shape cache (cudnn_rnn_descriptors.h).
#include "cudnn_rnn_descriptors.h"

#include <iterator>
#include <list>
#include <mutex>
#include <utility>
#include <vector>

#include "../memory.h"
#include "cudnn_rnn_dropout.h"

namespace cudnn_rnn {
namespace cuda {
namespace rnn {
namespace detail {

namespace {

constexpr size_t kEntryCapacity = 32;
constexpr size_t kReserveCapacity = 64;

struct EntryCache {
  std::mutex mu;  // taken with a handle_mu held, never the other way round
  std::list<std::shared_ptr<Entry>> lru;  // most recently used first
};

struct ReserveCache {
  std::mutex mu;
  std::list<std::pair<Key, size_t>> lru;
};

// Never destroyed (no cuDNN calls or device frees from static destructors at
// exit, when the driver may be gone).
EntryCache& entry_cache() {
  static EntryCache* c = new EntryCache();
  return *c;
}

ReserveCache& reserve_cache() {
  static ReserveCache* c = new ReserveCache();
  return *c;
}

std::shared_ptr<Entry> lookup(const Key& key) {
  EntryCache& c = entry_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto it = c.lru.begin(); it != c.lru.end(); ++it) {
    if ((*it)->key == key) {
      c.lru.splice(c.lru.begin(), c.lru, it);
      return c.lru.front();
    }
  }
  return nullptr;
}

// Inserts `e` (or returns the entry already there for its key, unless
// `replace`, when `e` takes its place).
std::shared_ptr<Entry> insert(std::shared_ptr<Entry> e, bool replace = false) {
  std::list<std::shared_ptr<Entry>> evicted;  // destroyed after the lock is released
  std::shared_ptr<Entry> result;
  {
    EntryCache& c = entry_cache();
    std::lock_guard<std::mutex> lock(c.mu);
    for (auto it = c.lru.begin(); it != c.lru.end(); ++it) {
      if (!((*it)->key == e->key)) continue;
      if (!replace) return *it;
      evicted.splice(evicted.begin(), c.lru, it);
      break;
    }
    c.lru.push_front(std::move(e));
    result = c.lru.front();
    while (c.lru.size() > kEntryCapacity) evicted.splice(evicted.begin(), c.lru, std::prev(c.lru.end()));
  }
  return result;
}

// PyTorch's choice for this entry (rnn_policy.h): the device's compute
// capability and multiprocessor count come from the runtime.
cudnn::RNNAlgo choose_algo(const Session& s, const Key& key) {
  policy::AlgoQuery q;
  q.cudnn_version = static_cast<int>(s.api.cudnnGetVersion());
  int value = 0;
  if (cudaDeviceGetAttribute(&value, cudaDevAttrComputeCapabilityMajor, s.device) == cudaSuccess) q.cc_major = value;
  if (cudaDeviceGetAttribute(&value, cudaDevAttrComputeCapabilityMinor, s.device) == cudaSuccess) q.cc_minor = value;
  if (cudaDeviceGetAttribute(&value, cudaDevAttrMultiProcessorCount, s.device) == cudaSuccess) q.sm_count = value;
  cudaGetLastError();  // a failed query leaves nothing for check_launch
  q.mode = key.mode;
  q.data_type = key.dtype == DType::Float64 ? policy::kDataDouble : policy::kDataFloat;
  q.input_size = key.input_size;
  q.hidden_size = key.hidden_size;
  q.proj_size = key.proj_size;
  q.num_layers = key.num_layers;
  q.bidirectional = key.bidirectional;
  q.seq_len = key.seq_len;
  q.batch = key.batch;
  q.packed = !key.packed_lengths.empty();
  q.training = key.training;
  return policy::choose_rnn_algo(q);
}

Status build_entry_with(const Session& s, const Key& key, cudnn::RNNAlgo algo, Entry* e, int* raw);

// The chosen algorithm, else STANDARD when cuDNN refuses it while the
// descriptors are made: NOT_SUPPORTED (a shape or GPU the persistent kernels
// do not cover), or any other refusal of a persistent algorithm (STANDARD
// then reports its own error if the shape is wrong for every algorithm).
Status build_entry(const Session& s, const Key& key, std::shared_ptr<Entry>* out, bool force_standard = false) {
  const cudnn::RNNAlgo algo = force_standard ? cudnn::kRnnAlgoStandard : choose_algo(s, key);
  int raw = 0;
  *out = std::make_shared<Entry>();
  Status st = build_entry_with(s, key, algo, out->get(), &raw);
  if (st.ok() || algo == cudnn::kRnnAlgoStandard || raw == 0) return st;  // raw 0: not cuDNN's refusal
  *out = std::make_shared<Entry>();
  return build_entry_with(s, key, cudnn::kRnnAlgoStandard, out->get(), &raw);
}

// Records the failing cuDNN status in `raw` for build_entry's fallback.
Status noted(cudnn::Status code, const char* what, int* raw) {
  *raw = code;
  return cudnn_check(code, what);
}

Status build_entry_with(const Session& s, const Key& key, cudnn::RNNAlgo algo, Entry* e, int* raw) {
  const Config cfg = key.config();
  if (key.batch < 1 || key.seq_len < 1) return Status(StatusCode::Internal, "rnn (cuda): descriptor for an empty batch");
  const cudnn::Api& a = s.api;
  const cudnn::DataType dt = data_type(cfg);
  const int64_t d = directions(cfg);
  const int seq = static_cast<int>(key.seq_len);
  const int batch = static_cast<int>(key.batch);
  const int hidden = static_cast<int>(cfg.hidden_size);
  const int units = static_cast<int>(::cudnn_rnn::rnn::output_size(cfg));  // h's units: proj_size or hidden
  e->key = key;
  e->algo = algo;
  *raw = 0;
  {
    Status st = make_model(s, cfg, key.dropout, /*init_dropout=*/true, key.math, &e->model, algo,
                           /*packed=*/!key.packed_lengths.empty());
    if (!st.ok()) {
      *raw = e->model.last_status;
      return st;
    }
  }

  // Unpacked input: every sequence is full length (PyTorch's padded input),
  // lengths = seq_len. Packed: the real lengths, longest first, on the
  // packed layout (PyTorch's PackedSequence path).
  const bool packed = !key.packed_lengths.empty();
  const std::vector<int> lengths = packed ? key.packed_lengths : std::vector<int>(static_cast<size_t>(batch), seq);
  const cudnn::RNNDataLayout layout = packed ? cudnn::kSeqMajorPacked : cudnn::kSeqMajorUnpacked;
  CUDNN_RNN_RETURN_IF_ERROR(create(s, &e->x));
  CUDNN_RNN_RETURN_IF_ERROR(cudnn_check(a.cudnnSetRNNDataDescriptor(e->x.get(), dt, layout, seq,
                                                                    batch, static_cast<int>(cfg.input_size),
                                                                    lengths.data(), nullptr),
                                        "cudnnSetRNNDataDescriptor (x)"));
  CUDNN_RNN_RETURN_IF_ERROR(create(s, &e->y));
  CUDNN_RNN_RETURN_IF_ERROR(cudnn_check(a.cudnnSetRNNDataDescriptor(e->y.get(), dt, layout, seq,
                                                                    batch, static_cast<int>(d * units),
                                                                    lengths.data(), nullptr),
                                        "cudnnSetRNNDataDescriptor (y)"));
  // With a projection h and c differ: h has proj_size units, c hidden_size.
  CUDNN_RNN_RETURN_IF_ERROR(create(s, &e->h));
  const int hdims[3] = {static_cast<int>(cfg.num_layers * d), batch, units};
  const int hstrides[3] = {batch * units, units, 1};
  CUDNN_RNN_RETURN_IF_ERROR(
      cudnn_check(a.cudnnSetTensorNdDescriptor(e->h.get(), dt, 3, hdims, hstrides), "cudnnSetTensorNdDescriptor (h)"));
  CUDNN_RNN_RETURN_IF_ERROR(create(s, &e->c));
  const int cdims[3] = {static_cast<int>(cfg.num_layers * d), batch, hidden};
  const int cstrides[3] = {batch * hidden, hidden, 1};
  CUDNN_RNN_RETURN_IF_ERROR(
      cudnn_check(a.cudnnSetTensorNdDescriptor(e->c.get(), dt, 3, cdims, cstrides), "cudnnSetTensorNdDescriptor (c)"));

  CUDNN_RNN_RETURN_IF_ERROR(cudnn_check(
      a.cudnnGetRNNWeightSpaceSize(s.handle, e->model.rnn.get(), &e->weight_bytes), "cudnnGetRNNWeightSpaceSize"));
  size_t work = 0, reserve = 0;
  CUDNN_RNN_RETURN_IF_ERROR(noted(
      a.cudnnGetRNNTempSpaceSizes(s.handle, e->model.rnn.get(),
                                  key.training ? cudnn::kFwdModeTraining : cudnn::kFwdModeInference, e->x.get(), &work,
                                  &reserve),
      "cudnnGetRNNTempSpaceSizes", raw));
  e->work_bytes = work;
  e->reserve_bytes = key.training ? reserve : 0;

  // cuDNN 9 is given NULL devSeqLengths (as PyTorch does): no device buffer,
  // and no synchronising copy on a miss. Every cuDNN 8 gets the device copy
  // (8.9.1+ ignore it, but not every 8.x build says so; it costs nothing).
  if (!policy::pass_dev_seq_lengths(loaded().cudnn_major)) return Status::Ok();
  const size_t length_bytes = static_cast<size_t>(batch) * sizeof(int32_t);
  CUDNN_RNN_RETURN_IF_ERROR(e->seq_lengths.allocate(s.device, length_bytes, false));
  CUDNN_RNN_RETURN_IF_ERROR(copy_to_device(s.device, e->seq_lengths.get(), lengths.data(), length_bytes));
  return Status::Ok();
}

}  // namespace

Status create(const Session& s, TensorDesc* d) {
  return d->create(s.api.cudnnCreateTensorDescriptor, s.api.cudnnDestroyTensorDescriptor,
                   "cudnnCreateTensorDescriptor");
}

Status create(const Session& s, DropoutDesc* d) {
  return d->create(s.api.cudnnCreateDropoutDescriptor, s.api.cudnnDestroyDropoutDescriptor,
                   "cudnnCreateDropoutDescriptor");
}

Status create(const Session& s, RnnDesc* d) {
  return d->create(s.api.cudnnCreateRNNDescriptor, s.api.cudnnDestroyRNNDescriptor, "cudnnCreateRNNDescriptor");
}

Status create(const Session& s, RnnDataDesc* d) {
  return d->create(s.api.cudnnCreateRNNDataDescriptor, s.api.cudnnDestroyRNNDataDescriptor,
                   "cudnnCreateRNNDataDescriptor");
}

Status make_model(const Session& s, const Config& cfg, float p, bool init_dropout, cudnn::MathType math,
                  Model* m, cudnn::RNNAlgo algo, bool packed) {
  const cudnn::Api& a = s.api;
  CUDNN_RNN_RETURN_IF_ERROR(create(s, &m->dropout));
  if (p > 0.0f) {
    CUDNN_RNN_RETURN_IF_ERROR(attach_dropout(s, m->dropout.get(), p, init_dropout));
  } else {
    // No dropout: no states, which makes this cheap (PyTorch's set_no_dropout).
    CUDNN_RNN_RETURN_IF_ERROR(cudnn_check(a.cudnnSetDropoutDescriptor(m->dropout.get(), s.handle, 0.0f, nullptr, 0, 0),
                                          "cudnnSetDropoutDescriptor"));
  }
  CUDNN_RNN_RETURN_IF_ERROR(create(s, &m->rnn));
  const cudnn::DataType dt = data_type(cfg);
  const int32_t hidden = static_cast<int32_t>(cfg.hidden_size);
  // cuDNN's projSize: the LSTM's recurrent projection, = hiddenSize for none.
  const int32_t proj = static_cast<int32_t>(::cudnn_rnn::rnn::output_size(cfg));
  m->last_status = a.cudnnSetRNNDescriptor_v8(m->rnn.get(), algo, static_cast<cudnn::RNNMode>(cfg.mode),
                                 cfg.bias ? cudnn::kRnnDoubleBias : cudnn::kRnnNoBias,
                                 cfg.bidirectional ? cudnn::kBidirectional : cudnn::kUnidirectional,
                                 cudnn::kLinearInput, dt, dt, math, static_cast<int32_t>(cfg.input_size), hidden,
                                 /*projSize=*/proj, static_cast<int32_t>(cfg.num_layers), m->dropout.get(),
                                 packed ? cudnn::kRnnPaddedIoDisabled : cudnn::kRnnPaddedIoEnabled);
  return cudnn_check(m->last_status, "cudnnSetRNNDescriptor_v8");
}

Config Key::config() const {
  Config c;
  c.mode = mode;
  c.dtype = dtype;
  c.input_size = input_size;
  c.hidden_size = hidden_size;
  c.num_layers = num_layers;
  c.bidirectional = bidirectional;
  c.bias = bias;
  c.proj_size = proj_size;
  return c;
}

bool Key::operator==(const Key& o) const {
  return lib == o.lib && device == o.device && mode == o.mode && dtype == o.dtype && input_size == o.input_size &&
         hidden_size == o.hidden_size && num_layers == o.num_layers && bidirectional == o.bidirectional &&
         bias == o.bias && proj_size == o.proj_size && seq_len == o.seq_len && batch == o.batch && dropout == o.dropout && math == o.math &&
         training == o.training && packed_lengths == o.packed_lengths;
}

Key make_key(const Session& s, const Config& cfg, int64_t seq_len, int64_t batch, float dropout,
             cudnn::MathType math, bool training, const int64_t* batch_sizes) {
  Key k;
  k.lib = s.lib;
  k.device = s.device;
  k.mode = cfg.mode;
  k.dtype = cfg.dtype;
  k.input_size = cfg.input_size;
  k.hidden_size = cfg.hidden_size;
  k.num_layers = cfg.num_layers;
  k.bidirectional = cfg.bidirectional;
  k.bias = cfg.bias;
  k.proj_size = cfg.proj_size;
  k.seq_len = seq_len;
  k.batch = batch;
  k.dropout = dropout;
  k.math = math;
  k.training = training;
  if (batch_sizes != nullptr) {
    // Sequence b runs the steps whose batch size exceeds b.
    k.packed_lengths.assign(static_cast<size_t>(batch), 0);
    for (int64_t t = 0; t < seq_len; ++t)
      for (int64_t b = 0; b < batch_sizes[t] && b < batch; ++b) ++k.packed_lengths[static_cast<size_t>(b)];
  }
  return k;
}

Status acquire_entry(const Session& s, const Key& key, std::shared_ptr<Entry>* out) {
  *out = lookup(key);
  if (*out) return Status::Ok();
  std::shared_ptr<Entry> e;
  CUDNN_RNN_RETURN_IF_ERROR(build_entry(s, key, &e));
  *out = insert(std::move(e));
  return Status::Ok();
}

Status replace_with_standard(const Session& s, const Key& key, std::shared_ptr<Entry>* out) {
  std::shared_ptr<Entry> e;
  CUDNN_RNN_RETURN_IF_ERROR(build_entry(s, key, &e, /*force_standard=*/true));
  if (key.training) remember_reserve_bytes(key, e->reserve_bytes);
  *out = insert(std::move(e), /*replace=*/true);
  return Status::Ok();
}

bool cached_reserve_bytes(const Key& key, size_t* bytes) {
  ReserveCache& c = reserve_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto it = c.lru.begin(); it != c.lru.end(); ++it) {
    if (it->first == key) {
      *bytes = it->second;
      c.lru.splice(c.lru.begin(), c.lru, it);
      return true;
    }
  }
  return false;
}

void remember_reserve_bytes(const Key& key, size_t bytes) {
  ReserveCache& c = reserve_cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& have : c.lru) {
    if (have.first == key) {
      have.second = bytes;
      return;
    }
  }
  c.lru.emplace_front(key, bytes);
  while (c.lru.size() > kReserveCapacity) c.lru.pop_back();
}

}  // namespace detail
}  // namespace rnn
}  // namespace cuda
}  // namespace cudnn_rnn
