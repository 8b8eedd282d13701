// Thread-local scratch for the CPU RNN. A 1-layer GRU step on one sequence is
// a few hundred nanoseconds of arithmetic, so the latency path must not call
// malloc; and forward (libuv worker) and backward (main thread) may run at the
// same time, hence one arena per thread rather than a shared one.
#include <new>

#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

namespace {

constexpr std::align_val_t kArenaAlign{64};

struct Arena {
  char* data = nullptr;
  size_t capacity = 0;
  void release() {
    ::operator delete(data, kArenaAlign);
    data = nullptr;
    capacity = 0;
  }
  ~Arena() { release(); }
};

thread_local Arena t_arena;

}  // namespace

ScratchLease::ScratchLease(size_t bytes) {
  Arena& a = t_arena;
#ifdef CUDNN_RNN_SCRATCH_EXACT
  // Test builds: a fresh block of exactly the size asked for, so that an
  // address sanitizer sees any write past the planned scratch.
  a.release();
#endif
  if (bytes > a.capacity) {
    a.release();
    // A little headroom so a slowly growing batch does not reallocate each call.
    size_t want = bytes + bytes / 8;
    want = (want + 4095) & ~size_t(4095);
#ifdef CUDNN_RNN_SCRATCH_EXACT
    want = bytes > 0 ? bytes : 1;
#endif
    a.data = static_cast<char*>(::operator new(want, kArenaAlign));  // may throw bad_alloc
    a.capacity = want;
  }
  base_ = a.data;
}

ScratchLease::~ScratchLease() {
  // Keep small arenas for the next call; give large ones back to the system.
  if (t_arena.capacity > kScratchKeepBytes) t_arena.release();
}

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
