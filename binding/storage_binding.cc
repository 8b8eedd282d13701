// Storage on any device: allocation, explicit free, and copies to and from JS
// typed arrays (host memory directly, GPU memory through dispatch/storage.h).
#include <cstring>
#include <string>
#include <vector>

#include "convert.h"
#include "dispatch/storage.h"
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
  Storage* storage = TakeStorage(info[0]);
  if (storage != nullptr) {
    if (storage->device.type == DeviceType::Cpu) {
      Napi::MemoryManagement::AdjustExternalMemory(env, -static_cast<int64_t>(storage->nbytes));
    }
    storage_free(storage);
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
  Status st = dispatch::storage_write(*storage, static_cast<size_t>(offset), bytes, nbytes);
  if (!st.ok()) ThrowStatus(env, st);
  return env.Undefined();
}

// The byte range a read asks for, checked against the storage.
void CheckRange(Napi::Env env, const Storage* storage, int64_t offset, int64_t nbytes, const char* what) {
  if (offset < 0 || nbytes < 0 || static_cast<size_t>(offset + nbytes) > storage->nbytes) {
    throw Napi::RangeError::New(env, std::string("cudnn-rnn native: ") + what + " outside storage");
  }
}

// storageRead(handle, byteOffset, nbytes) -> ArrayBuffer (a copy: safe after dispose).
Napi::Value StorageRead(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* storage = UnwrapStorage(info[0]);
  int64_t offset = ToInt64(info[1]);
  int64_t nbytes = ToInt64(info[2]);
  CheckRange(env, storage, offset, nbytes, "read");
  Napi::ArrayBuffer out = Napi::ArrayBuffer::New(env, static_cast<size_t>(nbytes));
  Status st = dispatch::storage_read(*storage, static_cast<size_t>(offset), out.Data(), static_cast<size_t>(nbytes));
  if (!st.ok()) ThrowStatus(env, st);
  return out;
}

// Reads on libuv's pool, so waiting for the GPU does not block the event
// loop. lib/ keeps the storage alive (retained) until the promise settles.
class ReadWorker : public Napi::AsyncWorker {
 public:
  ReadWorker(Napi::Env env, const Storage* storage, size_t offset, size_t nbytes)
      : Napi::AsyncWorker(env, "cudnn-rnn:read"), storage_(storage), offset_(offset), bytes_(nbytes),
        deferred_(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute() override { status_ = GuardNative([&] { return dispatch::storage_read(*storage_, offset_, bytes_.data(), bytes_.size()); }); }
  void OnOK() override {
    if (!status_.ok()) {
      deferred_.Reject(StatusToError(Env(), status_).Value());
      return;
    }
    Napi::ArrayBuffer out = Napi::ArrayBuffer::New(Env(), bytes_.size());
    if (!bytes_.empty()) std::memcpy(out.Data(), bytes_.data(), bytes_.size());
    deferred_.Resolve(out);
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  const Storage* storage_;
  size_t offset_;
  std::vector<char> bytes_;
  Status status_;
  Napi::Promise::Deferred deferred_;
};

// storageReadAsync(handle, byteOffset, nbytes) -> Promise<ArrayBuffer>
Napi::Value StorageReadAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* storage = UnwrapStorage(info[0]);
  int64_t offset = ToInt64(info[1]);
  int64_t nbytes = ToInt64(info[2]);
  CheckRange(env, storage, offset, nbytes, "read");
  auto* worker = new ReadWorker(env, storage, static_cast<size_t>(offset), static_cast<size_t>(nbytes));
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

// storageCopy(src, srcByteOffset, dst, dstByteOffset, nbytes): between any two devices.
Napi::Value StorageCopy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* src = UnwrapStorage(info[0]);
  int64_t src_offset = ToInt64(info[1]);
  Storage* dst = UnwrapStorage(info[2]);
  int64_t dst_offset = ToInt64(info[3]);
  int64_t nbytes = ToInt64(info[4]);
  CheckRange(env, src, src_offset, nbytes, "copy source");
  CheckRange(env, dst, dst_offset, nbytes, "copy destination");
  Status st = dispatch::storage_copy(*src, static_cast<size_t>(src_offset), *dst, static_cast<size_t>(dst_offset), static_cast<size_t>(nbytes));
  if (!st.ok()) ThrowStatus(env, st);
  return env.Undefined();
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
  exports.Set("storageReadAsync", Napi::Function::New(env, StorageReadAsync, "storageReadAsync"));
  exports.Set("storageCopy", Napi::Function::New(env, StorageCopy, "storageCopy"));
  exports.Set("hostBytesLive", Napi::Function::New(env, HostBytesLive, "hostBytesLive"));
  exports.Set("hostBytesCached", Napi::Function::New(env, HostBytesCached, "hostBytesCached"));
  exports.Set("hostCacheRelease", Napi::Function::New(env, HostCacheRelease, "hostCacheRelease"));
}

}  // namespace binding
}  // namespace cudnn_rnn
