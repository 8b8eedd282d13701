// The process-wide generator (PyTorch's CPU mt19937 stream).
#include "convert.h"
#include "core/random.h"
#include "cuda/rnn.h"
#include "dispatch/random.h"
#include "registry.h"

namespace cudnn_rnn {
namespace binding {

namespace {

View ReadContiguousFloatView(const Napi::CallbackInfo& info, size_t first) {
  View v = ReadView(info, first);
  if (!v.is_contiguous() || v.dtype == DType::Int32) {
    throw Napi::TypeError::New(info.Env(), "cudnn-rnn native: random fills need a contiguous float view");
  }
  return v;
}

// manualSeed(seed: bigint)
Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  if (!info[0].IsBigInt()) throw Napi::TypeError::New(info.Env(), "cudnn-rnn native: seed must be a bigint");
  bool lossless = true;
  uint64_t seed = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  default_generator().seed(seed);
  cuda::rnn::set_dropout_seed(seed);  // cuDNN's dropout generator follows the manual seed
  return info.Env().Undefined();
}

Napi::Value InitialSeed(const Napi::CallbackInfo& info) {
  return Napi::BigInt::New(info.Env(), default_generator().initial_seed());
}

// (view..., a, b): the fill's two parameters follow the view.
Napi::Value Fill(const Napi::CallbackInfo& info, dispatch::RandomFill kind) {
  View v = ReadContiguousFloatView(info, 0);
  Status st = dispatch::random_fill(kind, v, ToDouble(info[kViewArgs]), ToDouble(info[kViewArgs + 1]));
  if (!st.ok()) ThrowStatus(info.Env(), st);
  return info.Env().Undefined();
}

// uniformFill(view..., from, to)
Napi::Value UniformFill(const Napi::CallbackInfo& info) { return Fill(info, dispatch::RandomFill::Uniform); }
// normalFill(view..., mean, std)
Napi::Value NormalFill(const Napi::CallbackInfo& info) { return Fill(info, dispatch::RandomFill::Normal); }
// bernoulliScaledFill(view..., keepProb, scale)
Napi::Value BernoulliScaledFill(const Napi::CallbackInfo& info) { return Fill(info, dispatch::RandomFill::BernoulliScaled); }

}  // namespace

void RegisterRandom(Napi::Env env, Napi::Object exports) {
  exports.Set("manualSeed", Napi::Function::New(env, ManualSeed, "manualSeed"));
  exports.Set("initialSeed", Napi::Function::New(env, InitialSeed, "initialSeed"));
  exports.Set("uniformFill", Napi::Function::New(env, UniformFill, "uniformFill"));
  exports.Set("normalFill", Napi::Function::New(env, NormalFill, "normalFill"));
  exports.Set("bernoulliScaledFill", Napi::Function::New(env, BernoulliScaledFill, "bernoulliScaledFill"));
}

}  // namespace binding
}  // namespace cudnn_rnn
