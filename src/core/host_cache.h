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
// Blocks from this size up are mapped from the OS directly (host_block_map)
// and cached; smaller ones are left to malloc, which reuses them well. Why not
// malloc for big blocks: glibc raises its mmap threshold to the size of every
// mapped block freed (up to 32 MiB), after which big blocks come from its heap
// and stay there when freed. A training loop's RSS then sat at 3-4x its live
// plus cached memory (705 MB for ~20 MB in use).
constexpr size_t kHostCacheMinBytes = 128 * 1024;

// A zero-filled, page-aligned block of at least nbytes (its size in
// *capacity), or nullptr when the OS refuses.
void* host_block_map(size_t nbytes, size_t* capacity);
// Returns a block from host_block_map to the OS.
void host_block_unmap(void* block, size_t capacity);

}  // namespace cudnn_rnn
