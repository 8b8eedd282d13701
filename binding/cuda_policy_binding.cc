// cudaPolicy: the cuDNN backend's GPU-free decisions (src/cuda/rnn_policy.h)
// for lib/ and for the tests that pin them on CPU-only CI; and cudaSelfTest,
// the one-time GPU probe that 'auto' and 'cuda' run before choosing the GPU.
#include <string>
#include <vector>

#include "convert.h"
#include "cuda/rnn_policy.h"
#include "cuda/self_test.h"
#include "registry.h"

namespace cudnn_rnn {
namespace binding {

namespace {

namespace policy = cuda::policy;

int64_t Field(const Napi::Object& o, const char* key, int64_t fallback = 0) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? ToInt64(v) : fallback;
}

bool Flag(const Napi::Object& o, const char* key) { return o.Get(key).ToBoolean().Value(); }

// rnnAlgo({ cudnnVersion, ccMajor, ccMinor, smCount, mode, dataType, inputSize,
//           hiddenSize, projSize, numLayers, bidirectional, packed, seqLen,
//           batch, training }) -> cudnnRNNAlgo_t
Napi::Value RnnAlgo(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "rnnAlgo: expected an object");
  Napi::Object o = info[0].As<Napi::Object>();
  policy::AlgoQuery q;
  q.cudnn_version = int(Field(o, "cudnnVersion"));
  q.cc_major = int(Field(o, "ccMajor"));
  q.cc_minor = int(Field(o, "ccMinor"));
  q.sm_count = int(Field(o, "smCount"));
  q.mode = static_cast<rnn::Mode>(Field(o, "mode"));
  q.data_type = int(Field(o, "dataType"));
  q.input_size = Field(o, "inputSize");
  q.hidden_size = Field(o, "hiddenSize");
  q.proj_size = Field(o, "projSize");
  q.num_layers = Field(o, "numLayers", 1);
  q.bidirectional = Flag(o, "bidirectional");
  q.packed = Flag(o, "packed");
  q.seq_len = Field(o, "seqLen");
  q.batch = Field(o, "batch");
  q.training = Flag(o, "training");
  return Napi::Number::New(info.Env(), policy::choose_rnn_algo(q));
}

Napi::Value AlgoName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), policy::algo_name(int(ToInt64(info[0]))));
}

Napi::Value IsNotSupported(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), policy::is_not_supported(int(ToInt64(info[0])), int(ToInt64(info[1]))));
}

Napi::Value PassDevSeqLengths(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), policy::pass_dev_seq_lengths(int(ToInt64(info[0]))));
}

policy::Library LibraryArg(const Napi::Value& v) {
  return v.IsString() && v.As<Napi::String>().Utf8Value() == "cublas" ? policy::Library::Cublas
                                                                      : policy::Library::Cudnn;
}

// libraryAllocFailure('cudnn' | 'cublas', cudnnMajor, status) -> boolean
Napi::Value LibraryAllocFailure(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), policy::is_library_alloc_failure(LibraryArg(info[0]), int(ToInt64(info[1])),
                                                                         int(ToInt64(info[2]))));
}

// retryScript(lib, cudnnMajor, statuses, releaseOk) -> { status, calls, releases, retried }:
// call_with_release_retry over a call that returns statuses[0], statuses[1], ...
Napi::Value RetryScript(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[2].IsArray()) throw Napi::TypeError::New(env, "retryScript: bad arguments");
  Napi::Array a = info[2].As<Napi::Array>();
  std::vector<int> statuses;
  for (uint32_t i = 0; i < a.Length(); ++i) statuses.push_back(int(ToInt64(a.Get(i))));
  const bool release_ok = info[3].ToBoolean().Value();
  size_t calls = 0;
  int releases = 0;
  bool retried = false;
  const int status = policy::call_with_release_retry(
      LibraryArg(info[0]), int(ToInt64(info[1])),
      [&] { return calls < statuses.size() ? statuses[calls++] : (++calls, 0); },
      [&] {
        ++releases;
        return release_ok;
      },
      &retried);
  Napi::Object out = Napi::Object::New(env);
  out.Set("status", status);
  out.Set("calls", double(calls));
  out.Set("releases", releases);
  out.Set("retried", retried);
  return out;
}

// weightCover([[offset, rows, cols], ...], total) -> { error, gaps }
Napi::Value WeightCover(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray()) throw Napi::TypeError::New(env, "weightCover: bad arguments");
  Napi::Array a = info[0].As<Napi::Array>();
  std::vector<rnn::ParamSlot> slots;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Array s = a.Get(i).As<Napi::Array>();
    slots.push_back({ToInt64(s.Get(0u)), ToInt64(s.Get(1u)), ToInt64(s.Get(2u))});
  }
  int64_t gaps = 0;
  const std::string error = policy::check_weight_cover(slots, ToInt64(info[1]), &gaps);
  Napi::Object out = Napi::Object::New(env);
  out.Set("error", error);
  out.Set("gaps", double(gaps));
  return out;
}

// cudaSelfTest(device) -> { ok, step, reason }: runs once per device and
// process (later calls return the first verdict).
Napi::Value SelfTest(const Napi::CallbackInfo& info) {
  const int device = info.Length() > 0 ? int(ToInt64(info[0])) : 0;
  const cuda::SelfTestResult r = cuda::self_test(device);
  Napi::Object out = Napi::Object::New(info.Env());
  out.Set("ok", r.ok);
  out.Set("step", r.step);
  out.Set("reason", r.reason);
  return out;
}

}  // namespace

void RegisterCudaPolicy(Napi::Env env, Napi::Object exports) {
  Napi::Object p = Napi::Object::New(env);
  p.Set("rnnAlgo", Napi::Function::New(env, RnnAlgo, "rnnAlgo"));
  p.Set("algoName", Napi::Function::New(env, AlgoName, "algoName"));
  p.Set("isNotSupported", Napi::Function::New(env, IsNotSupported, "isNotSupported"));
  p.Set("passDevSeqLengths", Napi::Function::New(env, PassDevSeqLengths, "passDevSeqLengths"));
  p.Set("libraryAllocFailure", Napi::Function::New(env, LibraryAllocFailure, "libraryAllocFailure"));
  p.Set("retryScript", Napi::Function::New(env, RetryScript, "retryScript"));
  p.Set("weightCover", Napi::Function::New(env, WeightCover, "weightCover"));
  exports.Set("cudaPolicy", p);
  exports.Set("cudaSelfTest", Napi::Function::New(env, SelfTest, "cudaSelfTest"));
}

}  // namespace binding
}  // namespace cudnn_rnn
