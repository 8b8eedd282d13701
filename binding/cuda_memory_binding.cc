// The CUDA backend's memory and runtime controls for lib/cuda.ts:
// allocator statistics, emptyCache, synchronize, TF32.
#include "convert.h"
#include "cuda/memory.h"
#include "cuda/rnn.h"
#include "registry.h"

namespace cudnn_rnn {
namespace binding {

namespace {

int DeviceIndex(const Napi::Value& v) {
  int64_t index = ToInt64(v);
  if (index < 0 || index > 1023) throw Napi::RangeError::New(v.Env(), "cudnn-rnn native: bad CUDA device index");
  return static_cast<int>(index);
}

// cudaMemoryStats(device) -> { allocated, reserved, peakAllocated, driverAllocs }
Napi::Value MemoryStats(const Napi::CallbackInfo& info) {
  cuda::MemoryStats s = cuda::memory_stats(DeviceIndex(info[0]));
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("allocated", static_cast<double>(s.allocated));
  o.Set("reserved", static_cast<double>(s.reserved));
  o.Set("peakAllocated", static_cast<double>(s.peak_allocated));
  o.Set("driverAllocs", static_cast<double>(s.driver_allocs));
  return o;
}

Napi::Value ResetPeak(const Napi::CallbackInfo& info) {
  cuda::reset_peak(DeviceIndex(info[0]));
  return info.Env().Undefined();
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  Check(info.Env(), cuda::empty_cache(DeviceIndex(info[0])));
  return info.Env().Undefined();
}

Napi::Value Synchronize(const Napi::CallbackInfo& info) {
  Check(info.Env(), cuda::synchronize(DeviceIndex(info[0])));
  return info.Env().Undefined();
}

Napi::Value SetAllowTf32(const Napi::CallbackInfo& info) {
  cuda::rnn::set_allow_tf32(info[0].ToBoolean());
  return info.Env().Undefined();
}

Napi::Value GetAllowTf32(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), cuda::rnn::allow_tf32());
}

}  // namespace

void RegisterCudaMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("cudaBuiltWithKernels", Napi::Boolean::New(env, cuda::built_with_cuda()));
  exports.Set("cudaMemoryStats", Napi::Function::New(env, MemoryStats, "cudaMemoryStats"));
  exports.Set("cudaResetPeak", Napi::Function::New(env, ResetPeak, "cudaResetPeak"));
  exports.Set("cudaEmptyCache", Napi::Function::New(env, EmptyCache, "cudaEmptyCache"));
  exports.Set("cudaSynchronize", Napi::Function::New(env, Synchronize, "cudaSynchronize"));
  exports.Set("cudaSetAllowTf32", Napi::Function::New(env, SetAllowTf32, "cudaSetAllowTf32"));
  exports.Set("cudaGetAllowTf32", Napi::Function::New(env, GetAllowTf32, "cudaGetAllowTf32"));
}

}  // namespace binding
}  // namespace cudnn_rnn
