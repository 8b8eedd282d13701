// GPU discovery for lib/cuda.ts: what src/cuda/discovery found, as plain
// objects. lib/ decides what it means (usable or not, warnings, errors).
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "convert.h"
#include "cuda/cudnn_status.h"
#include "cuda/discovery.h"
#include "registry.h"

namespace cudnn_rnn {
namespace binding {

namespace {

Napi::Array Strings(Napi::Env env, const std::vector<std::string>& lines) {
  Napi::Array out = Napi::Array::New(env, lines.size());
  for (uint32_t i = 0; i < lines.size(); ++i) out.Set(i, lines[i]);
  return out;
}

std::string CudaVersionText(int v) { return v ? cuda::cuda_version_text(v) : ""; }

Napi::Object Library(Napi::Env env, const cuda::LibraryInfo& lib) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("found", lib.found);
  o.Set("path", lib.path);
  o.Set("version", lib.version);
  o.Set("major", lib.major);
  o.Set("versionCode", lib.version_code);
  o.Set("cudaVersion", CudaVersionText(lib.cuda_version));
  o.Set("source", lib.source);
  o.Set("reason", lib.reason);
  o.Set("tried", Strings(env, lib.tried));
  o.Set("searched", Strings(env, lib.searched));
  return o;
}

Napi::Object Driver(Napi::Env env, const cuda::DriverInfo& d) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("found", d.found);
  o.Set("initialized", d.initialized);
  o.Set("path", d.path);
  o.Set("version", d.version);
  o.Set("cudaVersion", CudaVersionText(d.cuda_version));
  o.Set("reason", d.reason);
  o.Set("tried", Strings(env, d.tried));
  return o;
}

Napi::Array Devices(Napi::Env env, const std::vector<cuda::Device>& devices) {
  Napi::Array out = Napi::Array::New(env, devices.size());
  for (uint32_t i = 0; i < devices.size(); ++i) {
    const cuda::Device& dev = devices[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", dev.index);
    o.Set("name", dev.name);
    o.Set("totalMemory", double(dev.total_memory));  // exact below 2^53 bytes
    o.Set("computeCapability", std::to_string(dev.cc_major) + "." + std::to_string(dev.cc_minor));
    out.Set(i, o);
  }
  return out;
}

std::string StringOption(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

// cudaDiscover({ cudnnPath?, cublasPath?, pythonSites?, libraries?, force? })
Napi::Value CudaDiscover(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  cuda::Options options;
  bool force = false;
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    options.cudnn_path = StringOption(o, "cudnnPath");
    options.cublas_path = StringOption(o, "cublasPath");
    Napi::Value sites = o.Get("pythonSites");
    if (sites.IsArray()) {
      Napi::Array a = sites.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i) {
        Napi::Value s = a.Get(i);
        if (s.IsString()) options.python_sites.push_back(s.As<Napi::String>().Utf8Value());
      }
    }
    Napi::Value libraries = o.Get("libraries");
    if (libraries.IsBoolean()) options.libraries = libraries.As<Napi::Boolean>().Value();
    force = o.Get("force").ToBoolean().Value();
  }
  cuda::Discovery d;
  try {
    d = cuda::discover(options, force);
  } catch (const std::exception& e) {  // bad_alloc: never let it cross into Node
    throw Napi::Error::New(env, std::string("cudnn-rnn native: GPU discovery failed: ") + e.what());
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("driver", Driver(env, d.driver));
  out.Set("devices", Devices(env, d.driver.devices));
  out.Set("cudnn", Library(env, d.cudnn));
  out.Set("cublas", Library(env, d.cublas));
  return out;
}

// cudnnStatusName(major, code) -> "CUDNN_STATUS_BAD_PARAM"
Napi::Value CudnnStatusName(const Napi::CallbackInfo& info) {
  const int64_t major = ToInt64(info[0]);
  const int64_t code = ToInt64(info[1]);
  if (major < 0 || major > 1000 || code < INT32_MIN || code > INT32_MAX)
    return Napi::String::New(info.Env(), "CUDNN_STATUS_UNKNOWN");
  return Napi::String::New(info.Env(), cuda::cudnn_status_name(int(major), int(code)));
}

}  // namespace

void RegisterCuda(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaDiscover", Napi::Function::New(env, CudaDiscover, "cudaDiscover"));
  exports.Set("cudnnStatusName", Napi::Function::New(env, CudnnStatusName, "cudnnStatusName"));
  RegisterCudaPolicy(env, exports);
}

}  // namespace binding
}  // namespace cudnn_rnn
