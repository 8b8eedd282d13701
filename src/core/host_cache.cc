#include "host_cache.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>

namespace cudnn_rnn {

namespace {

// Bound on the cached (idle) bytes: CUDNN_RNN_HOST_CACHE_MB, default 1024.
size_t cache_limit() {
  static const size_t limit = [] {
    const char* env = std::getenv("CUDNN_RNN_HOST_CACHE_MB");
    long mb = env != nullptr ? std::strtol(env, nullptr, 10) : 1024;
    return static_cast<size_t>(mb > 0 ? mb : 0) << 20;
  }();
  return limit;
}

struct Cache {
  std::mutex mutex;
  std::multimap<size_t, void*> blocks;  // capacity -> block
  size_t bytes = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: blocks may be freed during exit
  return *c;
}

size_t page_size() {
  static const size_t page = [] {
    long p = sysconf(_SC_PAGESIZE);
    return static_cast<size_t>(p > 0 ? p : 4096);
  }();
  return page;
}

}  // namespace

void* host_block_map(size_t nbytes, size_t* capacity) {
  const size_t page = page_size();
  if (nbytes > SIZE_MAX - page) return nullptr;
  const size_t size = (nbytes + page - 1) / page * page;
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  *capacity = size;
  return p;
}

void host_block_unmap(void* block, size_t capacity) {
  if (block != nullptr) munmap(block, capacity);
}

void* host_cache_take(size_t nbytes, size_t* capacity) {
  if (nbytes < kHostCacheMinBytes) return nullptr;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  auto it = c.blocks.lower_bound(nbytes);
  // Accept up to 25% slack so a slightly smaller request reuses a block
  // without pinning far more memory than it needs.
  if (it == c.blocks.end() || it->first > nbytes + nbytes / 4) return nullptr;
  void* block = it->second;
  *capacity = it->first;
  c.bytes -= it->first;
  c.blocks.erase(it);
  return block;
}

bool host_cache_put(void* block, size_t capacity) {
  if (capacity < kHostCacheMinBytes) return false;
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (capacity > cache_limit()) return false;
  // Make room by dropping the largest idle blocks first.
  while (c.bytes + capacity > cache_limit() && !c.blocks.empty()) {
    auto last = std::prev(c.blocks.end());
    host_block_unmap(last->second, last->first);
    c.bytes -= last->first;
    c.blocks.erase(last);
  }
  c.blocks.emplace(capacity, block);
  c.bytes += capacity;
  return true;
}

int64_t host_cache_bytes() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return static_cast<int64_t>(c.bytes);
}

void host_cache_clear() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  for (auto& kv : c.blocks) host_block_unmap(kv.second, kv.first);
  c.blocks.clear();
  c.bytes = 0;
}

}  // namespace cudnn_rnn
