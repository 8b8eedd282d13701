// The caching device allocator of memory.h, in the manner of PyTorch's
// CUDACachingAllocator, simplified by one fact: every piece of our work on a
// device is ordered on that device's one stream (context.h). A freed block
// therefore goes back to the pool at once and may be handed to the next
// allocation without waiting: whatever the new owner queues runs after the
// old owner's queued work on the same stream.
//
// Size classes: a request below 1 MiB is "small" and rounded up to a multiple
// of 512 bytes (0 bytes gives a 512-byte block, so every allocation has its
// own address); a request of 1 MiB or more is "large" and rounded up to a
// multiple of 2 MiB. Blocks are never split or merged.
//
// Reuse (best fit: the smallest idle block that is big enough), accepted only
// when the block is not wastefully larger than the rounded request r:
//   small: block < 2 * r (so at most one extra 512 B step for r = 512, and a
//          small request never takes a large block, whose minimum is 2 MiB);
//   large: block <= r + max(2 MiB, r / 8) (at most 12.5% or one 2 MiB step
//          wasted; lets sequence-length-dependent buffers that vary a little
//          from call to call share blocks).
// Otherwise a new block comes from cudaMalloc.
//
// Out of memory: when cudaMalloc fails, its error is cleared, every idle
// block of the device is returned to the driver (after synchronising the
// stream, so no queued work still uses them) and cudaMalloc retried once;
// then OutOfMemory with PyTorch's style of message. The pool stays usable.
//
// Threads: one pool per device, each under its own mutex. device_free makes
// no CUDA call (it may run in a GC finalizer on the main thread while a
// worker thread allocates) and never blocks on the GPU. cudaMalloc, cudaFree
// and stream synchronisation run outside the pool's lock.
//
// Accounting: `allocated` counts each live block by its rounded request,
// `reserved` by the size of the blocks we hold from the driver (live + idle),
// so allocated <= reserved. Pools are never destroyed (no cudaFree at exit:
// the driver may already be gone).
#include <algorithm>
#include <cstdio>
#include <limits>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../memory.h"
#include "context.h"

namespace cudnn_rnn {
namespace cuda {
namespace {

constexpr int kMaxDevices = 64;
constexpr size_t kSmallLimit = size_t(1) << 20;  // requests below this are small
constexpr size_t kSmallStep = 512;
constexpr size_t kLargeStep = size_t(2) << 20;

// The block size class of a request; 0 when the request is too large to
// round (no device has that much memory anyway).
size_t round_size(size_t nbytes) {
  if (nbytes == 0) return kSmallStep;
  if (nbytes < kSmallLimit) return (nbytes + kSmallStep - 1) / kSmallStep * kSmallStep;
  if (nbytes > std::numeric_limits<size_t>::max() - kLargeStep) return 0;
  return (nbytes + kLargeStep - 1) / kLargeStep * kLargeStep;
}

// The largest idle block a request of rounded size r may take.
size_t max_reuse(size_t r) {
  if (r < kSmallLimit) return 2 * r - 1;
  const size_t slack = std::max(kLargeStep, r / 8);
  return r > std::numeric_limits<size_t>::max() - slack ? std::numeric_limits<size_t>::max() : r + slack;
}

struct LiveBlock {
  size_t size = 0;     // the block's size
  size_t charged = 0;  // the rounded request it serves (counted in `allocated`)
};

struct Pool {
  std::mutex mu;
  std::unordered_map<void*, LiveBlock> live;
  std::multimap<size_t, void*> idle;  // by size, for best fit
  int64_t allocated = 0;
  int64_t reserved = 0;
  int64_t peak = 0;
  int64_t driver_allocs = 0;

  void charge(size_t n) {
    allocated += static_cast<int64_t>(n);
    peak = std::max(peak, allocated);
  }
  // Under mu: an idle block for rounded request r, made live; nullptr if none fits.
  void* take(size_t r) {
    auto it = idle.lower_bound(r);
    if (it == idle.end() || it->first > max_reuse(r)) return nullptr;
    void* ptr = it->second;
    live[ptr] = LiveBlock{it->first, r};
    idle.erase(it);
    charge(r);
    return ptr;
  }
  // Under mu: every idle block, removed from the pool and from `reserved`.
  std::vector<std::pair<void*, size_t>> drain_idle() {
    std::vector<std::pair<void*, size_t>> out;
    out.reserve(idle.size());
    for (const auto& e : idle) {
      out.emplace_back(e.second, e.first);
      reserved -= static_cast<int64_t>(e.first);
    }
    idle.clear();
    return out;
  }
};

// Never destroyed: device_free may run from finalizers late in shutdown.
Pool* pools() {
  static Pool* p = new Pool[kMaxDevices];
  return p;
}

bool valid_device(int device) { return device >= 0 && device < kMaxDevices; }

// "512 bytes", "2.50 KiB", "20.00 MiB", "79.10 GiB" (PyTorch's format_size).
std::string format_size(uint64_t n) {
  if (n < 1024) return std::to_string(n) + " bytes";
  double v = static_cast<double>(n);
  const char* unit;
  if (n < (uint64_t(1) << 20)) {
    v /= 1024.0, unit = "KiB";
  } else if (n < (uint64_t(1) << 30)) {
    v /= 1024.0 * 1024.0, unit = "MiB";
  } else {
    v /= 1024.0 * 1024.0 * 1024.0, unit = "GiB";
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %s", v, unit);
  return buf;
}

// Returns the device's idle blocks to the driver. The stream is synchronised
// after the blocks have left the pool and before they are freed: every use
// of a block was queued before its device_free, so none is still pending.
Status release_idle(DeviceContext* ctx, Pool& pool) {
  std::vector<std::pair<void*, size_t>> blocks;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    blocks = pool.drain_idle();
  }
  if (blocks.empty()) return Status::Ok();
  Status st = cuda_status(cudaStreamSynchronize(ctx->stream), "cudaStreamSynchronize");
  for (const auto& b : blocks) {
    const cudaError_t err = cudaFree(b.first);
    if (err != cudaSuccess) {
      const Status freed = cuda_status(err, "cudaFree");
      if (st.ok()) st = freed;
    }
  }
  return st;
}

Status out_of_memory(int device, size_t nbytes, Pool& pool) {
  int64_t allocated = 0, reserved = 0;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    allocated = pool.allocated;
    reserved = pool.reserved;
  }
  size_t free_bytes = 0, total_bytes = 0;
  std::string capacity;
  if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) {
    capacity = format_size(total_bytes) + " total capacity; ";
  } else {
    cudaGetLastError();
  }
  return Status(StatusCode::OutOfMemory,
                "CUDA out of memory. Tried to allocate " + format_size(nbytes) + " (GPU " + std::to_string(device) +
                    "; " + capacity + format_size(static_cast<uint64_t>(allocated)) + " already allocated; " +
                    format_size(static_cast<uint64_t>(reserved)) + " reserved by cudnn-rnn)");
}

// A new block of `size` bytes from the driver, made live in the pool; on
// cudaErrorMemoryAllocation the idle blocks are released and it tries again
// (first the pool, which another thread may have refilled, then the driver).
Status new_block(int device, DeviceContext* ctx, Pool& pool, size_t nbytes, size_t size, void** out) {
  void* ptr = nullptr;
  cudaError_t err = cudaMalloc(&ptr, size);
  if (err == cudaErrorMemoryAllocation) {
    cudaGetLastError();  // not sticky: clear it so the next check_launch is clean
    CUDNN_RNN_RETURN_IF_ERROR(release_idle(ctx, pool));
    {
      std::lock_guard<std::mutex> lock(pool.mu);
      if (void* p = pool.take(size)) {
        *out = p;
        return Status::Ok();
      }
    }
    ptr = nullptr;
    err = cudaMalloc(&ptr, size);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      return out_of_memory(device, nbytes, pool);
    }
  }
  if (err != cudaSuccess) return cuda_status(err, "cudaMalloc");
  std::lock_guard<std::mutex> lock(pool.mu);
  pool.live[ptr] = LiveBlock{size, size};
  pool.reserved += static_cast<int64_t>(size);
  pool.driver_allocs += 1;
  pool.charge(size);
  *out = ptr;
  return Status::Ok();
}

}  // namespace

Status device_alloc(int device, size_t nbytes, bool zero, void** out) {
  *out = nullptr;
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));  // also makes `device` current
  if (!valid_device(device)) return Status(StatusCode::Internal, "device_alloc: device index out of range");
  Pool& pool = pools()[device];
  const size_t size = round_size(nbytes);
  if (size == 0) return out_of_memory(device, nbytes, pool);
  void* ptr = nullptr;
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    ptr = pool.take(size);
  }
  if (ptr == nullptr) CUDNN_RNN_RETURN_IF_ERROR(new_block(device, ctx, pool, nbytes, size, &ptr));
  if (zero && nbytes > 0) {
    const Status st = cuda_status(cudaMemsetAsync(ptr, 0, nbytes, ctx->stream), "cudaMemsetAsync");
    if (!st.ok()) {
      device_free(device, ptr);
      return st;
    }
  }
  *out = ptr;
  return Status::Ok();
}

void device_free(int device, void* ptr) {
  if (ptr == nullptr || !valid_device(device)) return;
  Pool& pool = pools()[device];
  std::lock_guard<std::mutex> lock(pool.mu);
  auto it = pool.live.find(ptr);
  if (it == pool.live.end()) return;  // not ours, or freed twice: ignore
  pool.allocated -= static_cast<int64_t>(it->second.charged);
  pool.idle.emplace(it->second.size, ptr);
  pool.live.erase(it);
}

MemoryStats memory_stats(int device) {
  MemoryStats s;
  if (!valid_device(device)) return s;
  Pool& pool = pools()[device];
  std::lock_guard<std::mutex> lock(pool.mu);
  s.allocated = pool.allocated;
  s.reserved = pool.reserved;
  s.peak_allocated = pool.peak;
  s.driver_allocs = pool.driver_allocs;
  return s;
}

void reset_peak(int device) {
  if (!valid_device(device)) return;
  Pool& pool = pools()[device];
  std::lock_guard<std::mutex> lock(pool.mu);
  pool.peak = pool.allocated;
}

Status empty_cache(int device) {
  if (!valid_device(device)) return Status::Ok();  // nothing can be cached there
  Pool& pool = pools()[device];
  {
    std::lock_guard<std::mutex> lock(pool.mu);
    if (pool.idle.empty()) return Status::Ok();  // no CUDA call on a device never used
  }
  DeviceContext* ctx = nullptr;
  CUDNN_RNN_RETURN_IF_ERROR(device_context(device, &ctx));
  return release_idle(ctx, pool);
}

}  // namespace cuda
}  // namespace cudnn_rnn
