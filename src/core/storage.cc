#include "storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

#include "../cuda/memory.h"
#include "host_cache.h"

namespace cudnn_rnn {

namespace {
std::atomic<int64_t> g_host_bytes{0};
constexpr size_t kHostAlignment = 64;  // one cache line; AVX-512 loads stay aligned

// Host storages remember their block's capacity so the cache can reuse it.
struct HostStorage : Storage {
  size_t capacity = 0;
};
// GPU memory comes from the CUDA backend's caching allocator (cuda/memory.h).
Status device_storage_alloc(size_t nbytes, Device device, bool zero, Storage** out) {
  Storage* s = new (std::nothrow) Storage();
  if (s == nullptr) return Status(StatusCode::OutOfMemory, "out of host memory allocating a storage header");
  Status st = cuda::device_alloc(device.index, nbytes, zero, &s->data);
  if (!st.ok()) {
    delete s;
    return st;
  }
  s->nbytes = nbytes;
  s->device = device;
  *out = s;
  return Status::Ok();
}
}  // namespace

Status storage_alloc(size_t nbytes, Device device, bool zero, Storage** out) {
  *out = nullptr;
  if (device.type == DeviceType::Cuda) return device_storage_alloc(nbytes, device, zero, out);
  HostStorage* s = new (std::nothrow) HostStorage();
  if (s == nullptr) return Status(StatusCode::OutOfMemory, "out of host memory allocating a storage header");
  // posix_memalign(0) may return nullptr legitimately; keep a real pointer so
  // views of empty tensors still have a valid base address.
  size_t rounded = ((nbytes + kHostAlignment - 1) / kHostAlignment) * kHostAlignment;
  if (rounded == 0) rounded = kHostAlignment;
  size_t capacity = 0;
  bool zeroed = false;
  void* p = host_cache_take(rounded, &capacity);
  if (p == nullptr) {
    for (int attempt = 0; attempt < 2 && p == nullptr; ++attempt) {
      if (attempt == 1) host_cache_clear();  // idle cached blocks may be what stands in the way
      if (rounded >= kHostCacheMinBytes) {
        p = host_block_map(rounded, &capacity);  // fresh pages are zero
        zeroed = p != nullptr;
      } else if (posix_memalign(&p, kHostAlignment, rounded) != 0) {
        p = nullptr;
      } else {
        capacity = rounded;
      }
    }
    if (p == nullptr) {
      delete s;
      return Status(StatusCode::OutOfMemory, "out of host memory allocating " + std::to_string(nbytes) + " bytes");
    }
  }
  if (zero && !zeroed) std::memset(p, 0, rounded);
  s->data = p;
  s->nbytes = nbytes;
  s->device = device;
  s->capacity = capacity;
  g_host_bytes += static_cast<int64_t>(nbytes);
  *out = s;
  return Status::Ok();
}

void storage_free(Storage* storage) {
  if (storage == nullptr) return;
  if (storage->device.type == DeviceType::Cpu) {
    auto* host = static_cast<HostStorage*>(storage);
    if (host->capacity >= kHostCacheMinBytes) {
      if (!host_cache_put(host->data, host->capacity)) host_block_unmap(host->data, host->capacity);
    } else {
      std::free(host->data);
    }
    g_host_bytes -= static_cast<int64_t>(storage->nbytes);
    delete host;
    return;
  }
  cuda::device_free(storage->device.index, storage->data);
  delete storage;
}

int64_t host_bytes_live() { return g_host_bytes.load(); }

int64_t host_bytes_cached() { return host_cache_bytes(); }

void host_cache_release() { host_cache_clear(); }

}  // namespace cudnn_rnn
