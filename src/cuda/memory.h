// Device memory and copies of the CUDA backend. No CUDA headers here: this is
// what core/ and binding/ see, in CUDA builds (runtime/) and in CPU-only
// builds (cpu_only/, where every call reports BackendUnavailable).
//
// Every device has one stream that all our work is ordered on (kernels,
// cuBLAS, cuDNN, copies). Memory comes from a caching allocator in the
// PyTorch manner: a freed block returns to a per-device pool and is reused by
// later allocations, which are ordered after its last use on that stream.
#pragma once
#include <cstddef>
#include <cstdint>

#include "../core/status.h"

namespace cudnn_rnn {
namespace cuda {

// True when this addon was compiled with nvcc (it carries GPU kernels).
bool built_with_cuda();

// `nbytes` of device memory on `device` (zero-filled when `zero`). Never
// returns nullptr on success (0 bytes still gives a valid address). On
// cudaMalloc failure the pool's idle blocks are released and the allocation
// retried once; OutOfMemory then carries PyTorch's style of message:
// "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.10 GiB total
// capacity; 1.20 GiB already allocated; 3.00 GiB reserved by cudnn-rnn)".
Status device_alloc(int device, size_t nbytes, bool zero, void** out);
// Returns a block to its device's pool. Safe on nullptr.
void device_free(int device, void* ptr);

struct MemoryStats {
  int64_t allocated = 0;       // bytes in live blocks (as requested, rounded)
  int64_t reserved = 0;        // bytes held from the driver: live + idle pooled
  int64_t peak_allocated = 0;  // high-water mark of `allocated` since start or reset
  int64_t driver_allocs = 0;   // cudaMalloc calls so far (a steady loop adds none)
};
MemoryStats memory_stats(int device);
void reset_peak(int device);
// Frees the pool's idle blocks back to the driver (PyTorch's empty_cache).
Status empty_cache(int device);

// Copies `nbytes`. to_device returns once `src` may be reused; to_host
// returns when `dst` holds the data (it waits for the stream's earlier work).
Status copy_to_device(int device, void* dst, const void* src, size_t nbytes);
Status copy_to_host(int device, void* dst, const void* src, size_t nbytes);
// Within one device, ordered on its stream.
Status copy_on_device(int device, void* dst, const void* src, size_t nbytes);
// Waits for all work queued on the device's stream; reports a kernel fault
// that happened asynchronously.
Status synchronize(int device);

}  // namespace cuda
}  // namespace cudnn_rnn
