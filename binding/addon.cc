// Module entry: only registration happens here; each binding file owns its calls.
#include <napi.h>

#include "registry.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace cudnn_rnn::binding;
  RegisterStorage(env, exports);
  RegisterKernels(env, exports);
  RegisterRandom(env, exports);
  RegisterRnn(env, exports);
  RegisterCell(env, exports);
  RegisterSystem(env, exports);
  RegisterCuda(env, exports);
  RegisterCudaMemory(env, exports);
  RegisterDist(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(cudnn_rnn, Init)
