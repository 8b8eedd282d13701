// The RNN seam: weight layout queries, forward (sync and on a worker thread)
// and backward, each one native call for the whole multi-layer sequence, on
// the backend that holds the tensors (dispatch/rnn.h).
#include <utility>
#include <vector>
#include "convert.h"
#include "cuda/rnn.h"
#include "dispatch/rnn.h"
#include "registry.h"
#include "rnn_buffer_checks.h"

namespace cudnn_rnn {
namespace binding {

namespace {

namespace rnn = dispatch::rnn;

// config: [mode, dtype, inputSize, hiddenSize, numLayers, bidirectional, bias, allowTf32?, projSize?]
rnn::Config ReadConfig(const Napi::Value& value) {
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), "cudnn-rnn native: expected an RNN config array");
  Napi::Array a = value.As<Napi::Array>();
  rnn::Config cfg;
  cfg.mode = static_cast<rnn::Mode>(ToInt64(a.Get(0u)));
  cfg.dtype = static_cast<DType>(ToInt64(a.Get(1u)));
  cfg.input_size = ToInt64(a.Get(2u));
  cfg.hidden_size = ToInt64(a.Get(3u));
  cfg.num_layers = ToInt64(a.Get(4u));
  cfg.bidirectional = a.Get(5u).ToBoolean();
  cfg.bias = a.Get(6u).ToBoolean();
  cfg.allow_tf32 = a.Length() > 7 && a.Get(7u).ToBoolean();
  cfg.proj_size = a.Length() > 8 ? ToInt64(a.Get(8u)) : 0;
  Check(value.Env(), CheckRnnConfig(cfg));
  return cfg;
}

// A view's data, checked to live on `device` (x's): a GPU kernel handed host
// memory (or the reverse) would fault, and a GPU fault poisons the process's
// CUDA context. lib/ checks devices first; this keeps a slip there harmless.
// Optional views may be null (nullptr then).
void* DataOn(const Napi::CallbackInfo& info, size_t first, Device device, bool optional = false) {
  View v;
  if (optional) {
    if (!ReadOptionalView(info, first, &v)) return nullptr;
  } else {
    v = ReadView(info, first);
  }
  if (!same_device(v.device, device)) {
    ThrowStatus(info.Env(), Status(StatusCode::InvalidArgument, "cudnn-rnn native: the RNN's tensors are on two devices"));
  }
  return v.data;
}

Device ReadDevice(const Napi::CallbackInfo& info, size_t first) {
  Device d;
  d.type = static_cast<DeviceType>(ToInt64(info[first]));
  d.index = static_cast<int32_t>(ToInt64(info[first + 1]));
  return d;
}

// rnnWeightLayout(cfg, deviceType, deviceIndex) -> [numel, [[offset, rows, cols], ...]]
Napi::Value WeightLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<rnn::ParamSlot> slots;
  int64_t numel = 0;
  Check(env, rnn::weight_layout(ReadDevice(info, 1), ReadConfig(info[0]), &slots, &numel));
  Napi::Array out = Napi::Array::New(env, slots.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    Napi::Array slot = Napi::Array::New(env, 3);
    slot.Set(0u, Napi::Number::New(env, static_cast<double>(slots[i].offset)));
    slot.Set(1u, Napi::Number::New(env, static_cast<double>(slots[i].rows)));
    slot.Set(2u, Napi::Number::New(env, static_cast<double>(slots[i].cols)));
    out.Set(static_cast<uint32_t>(i), slot);
  }
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, static_cast<double>(numel)));
  result.Set(1u, out);
  return result;
}

// reserveNumel(cfg, seqLen | batchSizes[], batch, deviceType, deviceIndex, dropout)
Napi::Value ReserveNumel(const Napi::CallbackInfo& info) {
  int64_t n = 0;
  std::vector<int64_t> batch_sizes;
  int64_t seq_len = 0;
  if (info[1].IsArray()) {
    Napi::Array a = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < a.Length(); ++i) batch_sizes.push_back(ToInt64(a.Get(i)));
    seq_len = static_cast<int64_t>(batch_sizes.size());
  } else {
    seq_len = ToInt64(info[1]);
  }
  Check(info.Env(), rnn::reserve_numel(ReadDevice(info, 3), ReadConfig(info[0]), seq_len, ToInt64(info[2]),
                                       ToDouble(info[5]), &n, batch_sizes.empty() ? nullptr : batch_sizes.data()));
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// The arguments forward and backward begin with:
// (cfg, seqLen, batch, x..., hx...|null, cx...|null, w...). Returns the next position;
// `device` is x's (lib/ has put every tensor of the call on it).
// seqLen may instead be the array of a packed input's batch sizes (one per
// step), copied into *batch_sizes which must outlive the call.
template <typename Args>
size_t ReadLeadingArgs(const Napi::CallbackInfo& info, Args* args, Device* device,
                       std::vector<int64_t>* batch_sizes) {
  args->cfg = ReadConfig(info[0]);
  if (info[1].IsArray()) {
    Napi::Array a = info[1].As<Napi::Array>();
    batch_sizes->resize(a.Length());
    for (uint32_t i = 0; i < a.Length(); ++i) (*batch_sizes)[i] = ToInt64(a.Get(i));
    args->seq_len = static_cast<int64_t>(a.Length());
    args->batch_sizes = batch_sizes->data();
  } else {
    args->seq_len = ToInt64(info[1]);
  }
  args->batch = ToInt64(info[2]);
  size_t at = 3;
  View x = ReadView(info, at);
  args->x = x.data; at += kViewArgs;
  *device = x.device;
  args->hx = DataOn(info, at, *device, true); at += kViewArgs;
  args->cx = DataOn(info, at, *device, true); at += kViewArgs;
  args->w = DataOn(info, at, *device); at += kViewArgs;
  return at;
}

// Argument order shared by the sync and async forward:
// (cfg, seqLen, batch, x..., hx...|null, cx...|null, w..., y..., hy..., cy...|null,
//  reserve...|null, dropout)
rnn::ForwardArgs ReadForwardArgs(const Napi::CallbackInfo& info, Device* device,
                                 std::vector<int64_t>* batch_sizes) {
  rnn::ForwardArgs args;
  size_t at = ReadLeadingArgs(info, &args, device, batch_sizes);
  args.y = DataOn(info, at, *device); at += kViewArgs;
  args.hy = DataOn(info, at, *device); at += kViewArgs;
  args.cy = DataOn(info, at, *device, true); at += kViewArgs;
  args.reserve = DataOn(info, at, *device, true); at += kViewArgs;
  args.dropout = ToDouble(info[at]);
  Check(info.Env(), CheckForwardBuffers(*device, args));
  return args;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  Device device;
  std::vector<int64_t> batch_sizes;
  rnn::ForwardArgs args = ReadForwardArgs(info, &device, &batch_sizes);
  Check(info.Env(), rnn::forward(device, args));
  return info.Env().Undefined();
}

// Runs the forward on libuv's pool. lib/ keeps every storage involved alive
// (retained) until the promise settles, so the raw pointers stay valid.
class ForwardWorker : public Napi::AsyncWorker {
 public:
  ForwardWorker(Napi::Env env, Device device, rnn::ForwardArgs args, std::vector<int64_t> batch_sizes)
      : Napi::AsyncWorker(env, "cudnn-rnn:forward"), device_(device), args_(args),
        batch_sizes_(std::move(batch_sizes)), deferred_(Napi::Promise::Deferred::New(env)) {
    if (args_.batch_sizes) args_.batch_sizes = batch_sizes_.data();  // the worker's own copy
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  // On a GPU this only queues the work; later reads wait on the stream.
  void Execute() override { status_ = GuardNative([&] { return rnn::forward(device_, args_); }); }
  void OnOK() override {
    if (status_.ok()) deferred_.Resolve(Env().Undefined());
    else deferred_.Reject(StatusToError(Env(), status_).Value());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Device device_;
  rnn::ForwardArgs args_;
  std::vector<int64_t> batch_sizes_;
  Status status_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value ForwardAsync(const Napi::CallbackInfo& info) {
  Device device;
  std::vector<int64_t> batch_sizes;
  rnn::ForwardArgs args = ReadForwardArgs(info, &device, &batch_sizes);
  auto* worker = new ForwardWorker(info.Env(), device, args, std::move(batch_sizes));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// (cfg, seqLen, batch, x..., hx...|null, cx...|null, w..., y..., reserve..., dy...|null,
//  dhy...|null, dcy...|null, dx...|null, dhx...|null, dcx...|null, dw...|null, dropout)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  rnn::BackwardArgs args;
  Device device;
  std::vector<int64_t> batch_sizes;
  size_t at = ReadLeadingArgs(info, &args, &device, &batch_sizes);
  args.y = DataOn(info, at, device); at += kViewArgs;
  args.reserve = DataOn(info, at, device); at += kViewArgs;
  args.dy = DataOn(info, at, device, true); at += kViewArgs;
  args.dhy = DataOn(info, at, device, true); at += kViewArgs;
  args.dcy = DataOn(info, at, device, true); at += kViewArgs;
  args.dx = DataOn(info, at, device, true); at += kViewArgs;
  args.dhx = DataOn(info, at, device, true); at += kViewArgs;
  args.dcx = DataOn(info, at, device, true); at += kViewArgs;
  args.dw = DataOn(info, at, device, true); at += kViewArgs;
  args.dropout = ToDouble(info[at]);
  Check(info.Env(), CheckBackwardBuffers(device, args));
  Check(info.Env(), rnn::backward(device, args));
  return info.Env().Undefined();
}

// rnnTimeRawForward(forward args..., iters) -> ms per cudnnRNNForward call (GPU only).
Napi::Value TimeRawForward(const Napi::CallbackInfo& info) {
  Device device;
  std::vector<int64_t> batch_sizes;
  rnn::ForwardArgs args = ReadForwardArgs(info, &device, &batch_sizes);
  int iters = static_cast<int>(ToInt64(info[info.Length() - 1]));
  if (device.type != DeviceType::Cuda) throw Napi::TypeError::New(info.Env(), "cudnn-rnn native: raw cuDNN timing needs cuda tensors");
  double ms = 0;
  Check(info.Env(), cuda::rnn::time_raw_forward(device.index, args, iters, &ms));
  return Napi::Number::New(info.Env(), ms);
}

}  // namespace

void RegisterRnn(Napi::Env env, Napi::Object exports) {
  exports.Set("rnnWeightLayout", Napi::Function::New(env, WeightLayout, "rnnWeightLayout"));
  exports.Set("rnnReserveNumel", Napi::Function::New(env, ReserveNumel, "rnnReserveNumel"));
  exports.Set("rnnForward", Napi::Function::New(env, Forward, "rnnForward"));
  exports.Set("rnnForwardAsync", Napi::Function::New(env, ForwardAsync, "rnnForwardAsync"));
  exports.Set("rnnBackward", Napi::Function::New(env, Backward, "rnnBackward"));
  exports.Set("rnnTimeRawForward", Napi::Function::New(env, TimeRawForward, "rnnTimeRawForward"));
}

}  // namespace binding
}  // namespace cudnn_rnn
