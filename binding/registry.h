// Each binding file registers its functions on the module's exports.
#pragma once
#include <napi.h>

namespace cudnn_rnn {
namespace binding {

void RegisterStorage(Napi::Env env, Napi::Object exports);
void RegisterKernels(Napi::Env env, Napi::Object exports);
void RegisterRandom(Napi::Env env, Napi::Object exports);
void RegisterRnn(Napi::Env env, Napi::Object exports);
void RegisterCell(Napi::Env env, Napi::Object exports);
void RegisterSystem(Napi::Env env, Napi::Object exports);
void RegisterCuda(Napi::Env env, Napi::Object exports);
void RegisterCudaPolicy(Napi::Env env, Napi::Object exports);  // called by RegisterCuda
void RegisterCudaMemory(Napi::Env env, Napi::Object exports);
void RegisterDist(Napi::Env env, Napi::Object exports);

}  // namespace binding
}  // namespace cudnn_rnn
