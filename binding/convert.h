// Turning JS arguments into core structs and core Status into JS errors.
// lib/ has validated everything already; these checks only keep a bug in
// lib/ from turning into a crash.
#pragma once
#include <napi.h>

#include <exception>
#include <new>
#include <string>

#include "core/status.h"
#include "core/storage.h"
#include "core/view.h"
#include "storage_handles.h"

namespace cudnn_rnn {
namespace binding {


// A view is passed as five consecutive arguments:
//   handle, dtype code, element offset, shape (number[]), strides (number[]).
constexpr int kViewArgs = 5;
View ReadView(const Napi::CallbackInfo& info, size_t first);
// Same, but null/undefined at `first` gives has_value=false.
bool ReadOptionalView(const Napi::CallbackInfo& info, size_t first, View* out);

// Raises a JS Error with `code` (ERR_CUDNN_RNN_*) from a failed Status.
void ThrowStatus(Napi::Env env, const Status& status);
// Throws only when `status` failed: the tail of most bindings.
inline void Check(Napi::Env env, const Status& status) {
  if (!status.ok()) ThrowStatus(env, status);
}
Napi::Error StatusToError(Napi::Env env, const Status& status);

// Runs core work on a worker thread, where an escaping C++ exception would
// terminate the process: it becomes a failed Status instead.
template <typename Work>
Status GuardNative(Work work) {
  try {
    return work();
  } catch (const std::bad_alloc&) {
    return Status(StatusCode::OutOfMemory, "cudnn-rnn native: out of host memory");
  } catch (const std::exception& e) {
    return Status(StatusCode::Internal, std::string("cudnn-rnn native: ") + e.what());
  } catch (...) {
    return Status(StatusCode::Internal, "cudnn-rnn native: unknown C++ exception");
  }
}

int64_t ToInt64(const Napi::Value& v);
double ToDouble(const Napi::Value& v);

}  // namespace binding
}  // namespace cudnn_rnn
