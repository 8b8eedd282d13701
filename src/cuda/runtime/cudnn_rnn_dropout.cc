// The per-device dropout generator state (cudnn_rnn_dropout.h) and
// set_dropout_seed (rnn.h).
#include "cudnn_rnn_dropout.h"

#include <list>
#include <mutex>

#include "../memory.h"
#include "../rnn.h"

namespace cudnn_rnn {
namespace cuda {
namespace rnn {
namespace detail {

namespace {

// PyTorch's default generator seed (c10 default_rng_seed_val): the seed used
// until manualSeed() passes one.
constexpr unsigned long long kDefaultSeed = 67280421310721ULL;

struct DeviceState {
  int device;
  cudnn::CreateFn lib;       // the cuDNN whose generator format the buffer holds
  void* states;              // device memory, never freed (descriptors point at it)
  size_t bytes;
  uint64_t made_generation;  // the seed generation it was made from; 0: never made
};

struct Registry {
  std::mutex mu;  // taken with a handle_mu held, never the other way round
  std::list<DeviceState> states;  // stable addresses; one per (device, library)
  unsigned long long seed = kDefaultSeed;
  uint64_t generation = 1;
};

// Never destroyed: nothing may run cuDNN or free device memory from static
// destructors at exit (the driver may be gone by then).
Registry& registry() {
  static Registry* r = new Registry();
  return *r;
}

// With r.mu held.
Status find_or_make(const Session& s, Registry& r, DeviceState** out) {
  for (DeviceState& st : r.states) {
    if (st.device == s.device && st.lib == s.lib) {
      *out = &st;
      return Status::Ok();
    }
  }
  size_t bytes = 0;
  CUDNN_RNN_RETURN_IF_ERROR(
      cudnn_check(s.api.cudnnDropoutGetStatesSize(s.handle, &bytes), "cudnnDropoutGetStatesSize"));
  void* p = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_alloc(s.device, bytes, false, &p));
  r.states.push_back(DeviceState{s.device, s.lib, p, bytes, 0});
  *out = &r.states.back();
  return Status::Ok();
}

Status make_state(const Session& s, Registry& r, DeviceState& st, cudnn::DropoutDescriptor desc, float p) {
  CUDNN_RNN_RETURN_IF_ERROR(cudnn_check(
      s.api.cudnnSetDropoutDescriptor(desc, s.handle, p, st.states, st.bytes, r.seed), "cudnnSetDropoutDescriptor"));
  st.made_generation = r.generation;
  return Status::Ok();
}

}  // namespace

Status attach_dropout(const Session& s, cudnn::DropoutDescriptor desc, float p, bool initialise) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  DeviceState* st = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(find_or_make(s, r, &st));
  if (initialise && st->made_generation != r.generation) return make_state(s, r, *st, desc, p);
  // The seed argument does not matter when restoring (the state is in the
  // buffer); pass the current one anyway.
  return cudnn_check(s.api.cudnnRestoreDropoutDescriptor(desc, s.handle, p, st->states, st->bytes, r.seed),
                     "cudnnRestoreDropoutDescriptor");
}

Status refresh_dropout(const Session& s, cudnn::DropoutDescriptor desc, float p) {
  Registry& r = registry();
  std::lock_guard<std::mutex> lock(r.mu);
  DeviceState* st = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(find_or_make(s, r, &st));
  if (st->made_generation == r.generation) return Status::Ok();
  return make_state(s, r, *st, desc, p);
}

}  // namespace detail

void set_dropout_seed(uint64_t seed) {
  detail::Registry& r = detail::registry();
  std::lock_guard<std::mutex> lock(r.mu);
  r.seed = static_cast<unsigned long long>(seed);
  ++r.generation;
}

}  // namespace rnn
}  // namespace cuda
}  // namespace cudnn_rnn
