// Host storage: allocation, explicit free, and copies to and from JS typed arrays.
#include <cstring>

#include "convert.h"
#include "registry.h"

namespace cudnn_rnn {
namespace binding {

namespace {

Napi::Value StorageAlloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int64_t nbytes = ToInt64(info[0]);
  if (nbytes < 0) throw Napi::RangeError::New(env, "cudnn-rnn native: negative allocation size");
  Device device;
  device.type = static_cast<DeviceType>(ToInt64(info[1]));
  device.index = static_cast<int32_t>(ToInt64(info[2]));
  // Zero-filled unless the caller says a kernel will overwrite every byte.
  bool zero = info.Length() < 4 || info[3].ToBoolean();
  Storage* storage = nullptr;
  Status st = storage_alloc(static_cast<size_t>(nbytes), device, zero, &storage);
  if (!st.ok()) ThrowStatus(env, st);
  if (device.type == DeviceType::Cpu) Napi::MemoryManagement::AdjustExternalMemory(env, nbytes);
  return WrapStorage(env, storage);
}

Napi::Value StorageFree(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsExternal()) throw Napi::TypeError::New(env, "cudnn-rnn native: expected a storage handle");
  StorageHandle* handle = info[0].As<Napi::External<StorageHandle>>().Data();
  if (handle->storage != nullptr) {
    if (handle->storage->device.type == DeviceType::Cpu) {
      Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(handle->storage->nbytes));
    }
    storage_free(handle->storage);
    handle->storage = nullptr;
  }
  return env.Undefined();
}

// storageWrite(handle, byteOffset, typedArray): copies the typed array's bytes in.
Napi::Value StorageWrite(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* storage = UnwrapStorage(info[0]);
  int64_t offset = ToInt64(info[1]);
  if (!info[2].IsTypedArray()) throw Napi::TypeError::New(env, "cudnn-rnn native: expected a typed array");
  Napi::TypedArray src = info[2].As<Napi::TypedArray>();
  size_t nbytes = src.ByteLength();
  if (offset < 0 || static_cast<size_t>(offset) + nbytes > storage->nbytes) {
    throw Napi::RangeError::New(env, "cudnn-rnn native: write outside storage");
  }
  const uint8_t* bytes = static_cast<const uint8_t*>(src.ArrayBuffer().Data()) + src.ByteOffset();
  std::memcpy(static_cast<uint8_t*>(storage->data) + offset, bytes, nbytes);
  return env.Undefined();
}

// storageRead(handle, byteOffset, nbytes) -> ArrayBuffer (a copy: safe after dispose).
Napi::Value StorageRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* storage = UnwrapStorage(info[0]);
  int64_t offset = ToInt64(info[1]);
  int64_t nbytes = ToInt64(info[2]);
  if (offset < 0 || nbytes < 0 || static_cast<size_t>(offset + nbytes) > storage->nbytes) {
    throw Napi::RangeError::New(env, "cudnn-rnn native: read outside storage");
  }
  Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, static_cast<size_t>(nbytes));
  std::memcpy(out.Data(), static_cast<uint8_t*>(storage->data) + offset, static_cast<size_t>(nbytes));
  return out;
}

Napi::Value HostBytesLive(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(host_bytes_live()));
}

Napi::Value HostBytesCached(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(host_bytes_cached()));
}

Napi::Value HostCacheRelease(const Napi::CallbackInfo& info) {
  host_cache_release();
  return info.Env().Undefined();
}

}  // namespace

void RegisterStorage(Napi::Env env, Napi::Object exports) {
  exports.Set("storageAlloc", Napi::Function::New(env, StorageAlloc, "storageAlloc"));
  exports.Set("storageFree", Napi::Function::New(env, StorageFree, "storageFree"));
  exports.Set("storageWrite", Napi::Function::New(env, StorageWrite, "storageWrite"));
  exports.Set("storageRead", Napi::Function::New(env, StorageRead, "storageRead"));
  exports.Set("hostBytesLive", Napi::Function::New(env, HostBytesLive, "hostBytesLive"));
  exports.Set("hostBytesCached", Napi::Function::New(env, HostBytesCached, "hostBytesCached"));
  exports.Set("hostCacheRelease", Napi::Function::New(env, HostCacheRelease, "hostCacheRelease"));
}

}  // namespace binding
}  // namespace cudnn_rnn
