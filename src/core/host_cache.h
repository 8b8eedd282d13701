// A cache of freed large host blocks. A training loop allocates the same big
// buffers (outputs, reserves, gradients) every step; handing them back to the
// OS and faulting fresh pages in again cost ~30% of a step on large RNNs.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cudnn_rnn {

// A cached block of at least `capacity` bytes fitting `nbytes`, or nullptr.
void* host_cache_take(size_t nbytes, size_t* capacity);
// Keeps the block for reuse (returns false when it should be freed instead).
bool host_cache_put(void* block, size_t capacity);
int64_t host_cache_bytes();
void host_cache_clear();
// Blocks below this size are left to malloc, which already reuses them well.
constexpr size_t kHostCacheMinBytes = 256 * 1024;

}  // namespace cudnn_rnn
