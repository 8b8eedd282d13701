#include "storage_handles.h"

#include <cstdint>
#include <string>
#include <vector>

namespace cudnn_rnn {
namespace binding {

namespace {

struct Slot {
  Storage* storage = nullptr;
  uint32_t generation = 0;
};

// Touched only from the JS thread (bindings), so no lock.
std::vector<Slot> g_slots;
std::vector<uint32_t> g_free;

// token = generation << 32 | (index + 1): never 0, never a real address we dereference.
uintptr_t Token(uint32_t index, uint32_t generation) {
  return (static_cast<uintptr_t>(generation) << 32) | (static_cast<uintptr_t>(index) + 1);
}

[[noreturn]] void Throw(const Napi::Env& env, const char* msg, const char* code) {
  Napi::Error err = Napi::Error::New(env, std::string("cudnn-rnn native: ") + msg);
  if (code != nullptr) err.Set("code", code);
  throw err;
}

// The slot a handle names, or nullptr when its storage was freed (the generation moved on).
Slot* Find(const Napi::Value& value) {
  if (!value.IsExternal()) throw Napi::TypeError::New(value.Env(), "cudnn-rnn native: expected a storage handle");
  const uintptr_t token = reinterpret_cast<uintptr_t>(value.As<Napi::External<void>>().Data());
  const uint64_t index = (token & 0xffffffffu) - 1;
  const uint32_t generation = static_cast<uint32_t>(static_cast<uint64_t>(token) >> 32);
  if ((token & 0xffffffffu) == 0 || index >= g_slots.size()) Throw(value.Env(), "not a storage handle", nullptr);
  Slot& slot = g_slots[index];
  if (slot.generation != generation || slot.storage == nullptr) return nullptr;
  return &slot;
}

}  // namespace

Napi::Value WrapStorage(Napi::Env env, Storage* storage) {
  uint32_t index;
  if (!g_free.empty()) {
    index = g_free.back();
    g_free.pop_back();
  } else {
    if (g_slots.size() >= 0xfffffffeu) {
      storage_free(storage);
      Throw(env, "too many live storages", "ERR_CUDNN_RNN_OUT_OF_MEMORY");
    }
    index = static_cast<uint32_t>(g_slots.size());
    g_slots.emplace_back();
  }
  g_slots[index].storage = storage;
  return Napi::External<void>::New(env, reinterpret_cast<void*>(Token(index, g_slots[index].generation)));
}

Storage* UnwrapStorage(const Napi::Value& value) {
  Slot* slot = Find(value);
  if (slot == nullptr) Throw(value.Env(), "storage was already freed", "ERR_CUDNN_RNN_DISPOSED");
  return slot->storage;
}

Storage* TakeStorage(const Napi::Value& value) {
  Slot* slot = Find(value);
  if (slot == nullptr) return nullptr;
  Storage* storage = slot->storage;
  slot->storage = nullptr;
  slot->generation += 1;
  g_free.push_back(static_cast<uint32_t>(slot - g_slots.data()));
  return storage;
}

}  // namespace binding
}  // namespace cudnn_rnn
