// How JS names a native Storage: an External whose value is a slot number
// and a generation in a table, not a pointer to memory.
//
// Why not an External pointing at a heap handle with a finalizer (as before):
// N-API runs finalizers from the event loop, after the GC. A training loop
// that never yields never runs them, and their queue grew the process heap by
// ~1 MB every 100 steps of a small GRU, tidy() or not. lib/ frees every
// storage itself (dispose, tidy, or its FinalizationRegistry), so no native
// finalizer is needed; a handle used after its storage was freed finds a
// bumped generation and is refused.
#pragma once
#include <napi.h>

#include "core/storage.h"

namespace cudnn_rnn {
namespace binding {

Napi::Value WrapStorage(Napi::Env env, Storage* storage);
// The live Storage a handle names; throws a JS Error if it is not one.
Storage* UnwrapStorage(const Napi::Value& handle);
// Detaches the Storage from its handle (freeing is the caller's), or nullptr
// if it was freed already: a second free is harmless. Throws on a non-handle.
Storage* TakeStorage(const Napi::Value& handle);

}  // namespace binding
}  // namespace cudnn_rnn
