#include "storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>

namespace cudnn_rnn {

namespace {
std::atomic<int64_t> g_host_bytes{0};
constexpr size_t kHostAlignment = 64;  // one cache line; AVX-512 loads stay aligned
}  // namespace

Status storage_alloc(size_t nbytes, Device device, Storage** out) {
  *out = nullptr;
  if (device.type != DeviceType::Cpu) {
    return Status(StatusCode::BackendUnavailable, "device memory is allocated by the CUDA backend");
  }
  Storage* s = new (std::nothrow) Storage();
  if (s == nullptr) return Status(StatusCode::OutOfMemory, "out of host memory allocating a storage header");
  // posix_memalign(0) may return nullptr legitimately; keep a real pointer so
  // views of empty tensors still have a valid base address.
  size_t rounded = ((nbytes + kHostAlignment - 1) / kHostAlignment) * kHostAlignment;
  if (rounded == 0) rounded = kHostAlignment;
  void* p = nullptr;
  if (posix_memalign(&p, kHostAlignment, rounded) != 0 || p == nullptr) {
    delete s;
    return Status(StatusCode::OutOfMemory,
                  "out of host memory allocating " + std::to_string(nbytes) + " bytes");
  }
  std::memset(p, 0, rounded);
  s->data = p;
  s->nbytes = nbytes;
  s->device = device;
  g_host_bytes += static_cast<int64_t>(nbytes);
  *out = s;
  return Status::Ok();
}

void storage_free(Storage* storage) {
  if (storage == nullptr) return;
  if (storage->device.type == DeviceType::Cpu) {
    std::free(storage->data);
    g_host_bytes -= static_cast<int64_t>(storage->nbytes);
  }
  delete storage;
}

int64_t host_bytes_live() { return g_host_bytes.load(); }

}  // namespace cudnn_rnn
