// What the addon found on this machine, for versions() and `cudnn-rnn doctor`,
// and a GEMM timer so the benchmark can quote its results against the peak.
#include <chrono>
#include <vector>

#include "convert.h"
#include "cpu/blas.h"
#include "cuda/runtime_probe.h"
#include "registry.h"

namespace cudnn_rnn {
namespace binding {

namespace {

Napi::Value BlasInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const cpu::blas::Info& blas = cpu::blas::info();
  Napi::Object out = Napi::Object::New(env);
  out.Set("vendor", blas.vendor);
  out.Set("version", blas.version);
  out.Set("path", blas.path);
  out.Set("core", blas.core);
  out.Set("config", blas.config);
  out.Set("threads", blas.threads);
  out.Set("reason", blas.reason);
  out.Set("tried", blas.tried);
  return out;
}

template <typename T>
double TimeGemm(int64_t n, int64_t repeats, bool builtin) {
  std::vector<T> a(n * n, T(0.5)), b(n * n, T(0.25)), c(n * n, T(0));
  auto run = [&] {
    if (builtin) cpu::blas::builtin_gemm(false, false, n, n, n, T(1), a.data(), n, b.data(), n, T(0), c.data(), n);
    else cpu::blas::gemm(false, false, n, n, n, T(1), a.data(), n, b.data(), n, T(0), c.data(), n);
  };
  run();  // warm-up: thread pool start, page faults
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < repeats; ++i) run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// gemmBench(dtype, n, repeats, builtin) -> seconds for `repeats` n^3 GEMMs.
Napi::Value GemmBench(const Napi::CallbackInfo& info) {
  int64_t dtype = ToInt64(info[0]);
  int64_t n = ToInt64(info[1]);
  int64_t repeats = ToInt64(info[2]);
  bool builtin = info[3].ToBoolean();
  if (n <= 0 || n > 8192 || repeats <= 0) throw Napi::RangeError::New(info.Env(), "cudnn-rnn native: bad gemmBench sizes");
  double s = dtype == 1 ? TimeGemm<double>(n, repeats, builtin) : TimeGemm<float>(n, repeats, builtin);
  return Napi::Number::New(info.Env(), s);
}

}  // namespace

void RegisterSystem(Napi::Env env, Napi::Object exports) {
  exports.Set("blasInfo", Napi::Function::New(env, BlasInfo, "blasInfo"));
  exports.Set("gemmBench", Napi::Function::New(env, GemmBench, "gemmBench"));
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  // The statically linked CUDA runtime's version, 0 in a CPU-only build.
  exports.Set("cudaRuntimeVersion", Napi::Number::New(env, cuda::linked_runtime_version()));
}

}  // namespace binding
}  // namespace cudnn_rnn
