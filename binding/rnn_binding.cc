// The RNN seam: weight layout queries, forward (sync and on a worker thread)
// and backward, each one native call for the whole multi-layer sequence.
#include "convert.h"
#include "cpu/rnn.h"
#include "registry.h"

namespace cudnn_rnn {
namespace binding {

namespace {

namespace rnn = cpu::rnn;

// config: [mode, dtype, inputSize, hiddenSize, numLayers, bidirectional, bias]
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
  return cfg;
}

const void* OptionalData(const Napi::CallbackInfo& info, size_t first) {
  View v;
  return ReadOptionalView(info, first, &v) ? v.data : nullptr;
}

void* OptionalMutableData(const Napi::CallbackInfo& info, size_t first) {
  View v;
  return ReadOptionalView(info, first, &v) ? v.data : nullptr;
}

Napi::Value WeightLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<rnn::ParamSlot> slots = rnn::weight_layout(ReadConfig(info[0]));
  Napi::Array out = Napi::Array::New(env, slots.size());
  for (size_t i = 0; i < slots.size(); ++i) {
    Napi::Array slot = Napi::Array::New(env, 3);
    slot.Set(0u, Napi::Number::New(env, static_cast<double>(slots[i].offset)));
    slot.Set(1u, Napi::Number::New(env, static_cast<double>(slots[i].rows)));
    slot.Set(2u, Napi::Number::New(env, static_cast<double>(slots[i].cols)));
    out.Set(static_cast<uint32_t>(i), slot);
  }
  return out;
}

Napi::Value WeightNumel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(rnn::weight_numel(ReadConfig(info[0]))));
}

// reserveNumel(cfg, seqLen, batch)
Napi::Value ReserveNumel(const Napi::CallbackInfo& info) {
  int64_t n = rnn::reserve_numel(ReadConfig(info[0]), ToInt64(info[1]), ToInt64(info[2]));
  return Napi::Number::New(info.Env(), static_cast<double>(n));
}

// The arguments forward and backward begin with:
// (cfg, seqLen, batch, x..., hx...|null, w...). Returns the next position.
template <typename Args>
size_t ReadLeadingArgs(const Napi::CallbackInfo& info, Args* args) {
  args->cfg = ReadConfig(info[0]);
  args->seq_len = ToInt64(info[1]);
  args->batch = ToInt64(info[2]);
  size_t at = 3;
  args->x = ReadView(info, at).data; at += kViewArgs;
  args->hx = OptionalData(info, at); at += kViewArgs;
  args->w = ReadView(info, at).data; at += kViewArgs;
  return at;
}

// Argument order shared by the sync and async forward:
// (cfg, seqLen, batch, x..., hx...|null, w..., y..., hy..., reserve...|null, dropout)
rnn::ForwardArgs ReadForwardArgs(const Napi::CallbackInfo& info) {
  rnn::ForwardArgs args;
  size_t at = ReadLeadingArgs(info, &args);
  args.y = ReadView(info, at).data; at += kViewArgs;
  args.hy = ReadView(info, at).data; at += kViewArgs;
  args.reserve = OptionalMutableData(info, at); at += kViewArgs;
  args.dropout = ToDouble(info[at]);
  return args;
}

Napi::Value Forward(const Napi::CallbackInfo& info) {
  Status st = rnn::forward(ReadForwardArgs(info));
  if (!st.ok()) ThrowStatus(info.Env(), st);
  return info.Env().Undefined();
}

// Runs the forward on libuv's pool. lib/ keeps every storage involved alive
// (retained) until the promise settles, so the raw pointers stay valid.
class ForwardWorker : public Napi::AsyncWorker {
 public:
  ForwardWorker(Napi::Env env, rnn::ForwardArgs args)
      : Napi::AsyncWorker(env, "cudnn-rnn:forward"), args_(args), deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { status_ = rnn::forward(args_); }
  void OnOK() override {
    if (status_.ok()) deferred_.Resolve(Env().Undefined());
    else deferred_.Reject(StatusToError(Env(), status_).Value());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  rnn::ForwardArgs args_;
  Status status_;
  Napi::Promise::Deferred deferred_;
};

Napi::Value ForwardAsync(const Napi::CallbackInfo& info) {
  auto* worker = new ForwardWorker(info.Env(), ReadForwardArgs(info));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// (cfg, seqLen, batch, x..., hx...|null, w..., reserve..., dy...|null, dhy...|null,
//  dx...|null, dhx...|null, dw...|null)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  rnn::BackwardArgs args;
  size_t at = ReadLeadingArgs(info, &args);
  args.reserve = ReadView(info, at).data; at += kViewArgs;
  args.dy = OptionalData(info, at); at += kViewArgs;
  args.dhy = OptionalData(info, at); at += kViewArgs;
  args.dx = OptionalMutableData(info, at); at += kViewArgs;
  args.dhx = OptionalMutableData(info, at); at += kViewArgs;
  args.dw = OptionalMutableData(info, at);
  Status st = rnn::backward(args);
  if (!st.ok()) ThrowStatus(info.Env(), st);
  return info.Env().Undefined();
}

}  // namespace

void RegisterRnn(Napi::Env env, Napi::Object exports) {
  exports.Set("rnnWeightLayout", Napi::Function::New(env, WeightLayout, "rnnWeightLayout"));
  exports.Set("rnnWeightNumel", Napi::Function::New(env, WeightNumel, "rnnWeightNumel"));
  exports.Set("rnnReserveNumel", Napi::Function::New(env, ReserveNumel, "rnnReserveNumel"));
  exports.Set("rnnForward", Napi::Function::New(env, Forward, "rnnForward"));
  exports.Set("rnnForwardAsync", Napi::Function::New(env, ForwardAsync, "rnnForwardAsync"));
  exports.Set("rnnBackward", Napi::Function::New(env, Backward, "rnnBackward"));
}

}  // namespace binding
}  // namespace cudnn_rnn
