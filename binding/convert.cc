#include "convert.h"

#include "view_extents.h"

#include <string>

namespace cudnn_rnn {
namespace binding {

namespace {
[[noreturn]] void ThrowType(const Napi::Env& env, const std::string& msg) {
  throw Napi::TypeError::New(env, "cudnn-rnn native: " + msg);
}
}  // namespace

int64_t ToInt64(const Napi::Value& v) {
  if (!v.IsNumber()) ThrowType(v.Env(), "expected a number");
  return v.As<Napi::Number>().Int64Value();
}

double ToDouble(const Napi::Value& v) {
  if (!v.IsNumber()) ThrowType(v.Env(), "expected a number");
  return v.As<Napi::Number>().DoubleValue();
}

View ReadView(const Napi::CallbackInfo& info, size_t first) {
  Napi::Env env = info.Env();
  Storage* storage = UnwrapStorage(info[first]);
  View view;
  int64_t dtype = ToInt64(info[first + 1]);
  if (dtype < 0 || dtype > 2) ThrowType(env, "bad dtype code");
  view.dtype = static_cast<DType>(dtype);
  int64_t offset = ToInt64(info[first + 2]);
  if (!info[first + 3].IsArray() || !info[first + 4].IsArray()) ThrowType(env, "expected shape and strides arrays");
  Napi::Array shape = info[first + 3].As<Napi::Array>();
  Napi::Array strides = info[first + 4].As<Napi::Array>();
  uint32_t ndim = shape.Length();
  if (ndim > static_cast<uint32_t>(kMaxDims) || strides.Length() != ndim) ThrowType(env, "bad view rank");
  view.ndim = static_cast<int>(ndim);
  // Bounds: the furthest element reachable must lie inside the storage.
  // Every product and sum is overflow-checked: sizes come from JS numbers (up to 2^53).
  int64_t lo = offset, hi = offset, numel = 1;
  bool overflow = offset < 0;
  for (uint32_t i = 0; i < ndim; ++i) {
    view.shape[i] = ToInt64(shape.Get(i));
    view.strides[i] = ToInt64(strides.Get(i));
    if (view.shape[i] < 0) ThrowType(env, "negative size in view");
    overflow |= __builtin_mul_overflow(numel, view.shape[i], &numel);
    if (view.shape[i] > 0) {
      int64_t reach = 0;
      overflow |= __builtin_mul_overflow(view.shape[i] - 1, view.strides[i], &reach);
      overflow |= reach < 0 ? __builtin_add_overflow(lo, reach, &lo) : __builtin_add_overflow(hi, reach, &hi);
    }
  }
  if (overflow) throw Napi::RangeError::New(env, "cudnn-rnn native: view size overflows");
  int64_t capacity = static_cast<int64_t>(storage->nbytes / dtype_size(view.dtype));
  if (numel > 0 && (lo < 0 || hi >= capacity)) {
    throw Napi::RangeError::New(env, "cudnn-rnn native: view reaches outside its storage");
  }
  view.device = storage->device;
  view.data = static_cast<char*>(storage->data) + offset * static_cast<int64_t>(dtype_size(view.dtype));
  NoteView(view);
  return view;
}

bool ReadOptionalView(const Napi::CallbackInfo& info, size_t first, View* out) {
  if (info[first].IsNull() || info[first].IsUndefined()) return false;
  *out = ReadView(info, first);
  return true;
}

Napi::Error StatusToError(Napi::Env env, const Status& status) {
  Napi::Error err = Napi::Error::New(env, status.message());
  err.Set("code", status_code_name(status.code()));
  return err;
}

void ThrowStatus(Napi::Env env, const Status& status) { throw StatusToError(env, status); }

}  // namespace binding
}  // namespace cudnn_rnn
