// A small team of threads for the recurrence. The time loop is serial, but
// within a step the hidden units are independent, and the two directions of
// a bidirectional layer are independent altogether: a step is cut into
// chunks (direction, slice of units), and a step's chunks start once the
// previous step's are all done. Each thread takes its own chunks first (they
// stay in its core's caches) and then claims whatever is left, rather than
// having a fixed slice and a barrier: a thread the OS deschedules (the
// build machines are shared) delays only the chunk it holds, not every step
// after.
//
// The whole-sequence products stay with the BLAS and its own threads, which
// run only between our phases: our helpers block (after a short spin) once a
// run ends, so the two pools never compete for the cores (DESIGN.md
// decision 3). One process-wide team; a call that finds it busy (forward on a
// worker and backward on the main thread at once) runs on its own thread.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "blas.h"
#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {
namespace detail {

namespace {

constexpr int kMaxTeam = 8;
// Pauses a thread that has run its own chunks waits for the phase to end
// before it takes another's (~6 us at ~19 ns a pause on the build machine:
// longer than the usual gap between two threads' finishing times, far
// shorter than a descheduling).
constexpr int kStealAfterSpins = 300;

inline void cpu_relax() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  __builtin_ia32_pause();
#endif
}

// Spin briefly (the other threads are normally microseconds away), then
// yield, so that on a loaded machine a descheduled thread is not waited for
// by burning the core it needs.
template <typename Pred>
void wait_until(Pred done) {
  for (int i = 0; i < 4000; ++i) {
    if (done()) return;
    cpu_relax();
  }
  while (!done()) std::this_thread::yield();
}

// Helper slot states: the caller posts a run, the helper takes it (or the
// caller takes it back if the helper has not woken by the time the run is
// over), and the helper returns the slot to idle when it leaves the run.
enum : int { kIdle = 0, kPosted = 1, kRunning = 2 };

struct Team {
  std::mutex busy;  // held by the current lease
  int helpers = 0;

  std::mutex m;  // with cv: wakes sleeping helpers
  std::condition_variable cv;
  std::atomic<int> slot[kMaxTeam];

  // The current run: `members` threads (the caller is rank 0) share
  // phases x chunks tasks.
  void (*fn)(void*, int64_t, int) = nullptr;
  void* ctx = nullptr;
  int chunks = 1;
  int members = 1;
  int64_t phases = 0;
  // Each counter on its own cache line: the cores are often on different
  // chiplets, where moving a line costs hundreds of nanoseconds, and a
  // claim must not drag the other thread's claims along with it.
  struct alignas(64) Counter {
    std::atomic<int64_t> v;
  };
  Counter claimed[kMaxRunChunks];  // per chunk: the last phase that claimed it
  Counter completed;               // tasks finished

  Team() {
    for (auto& s : slot) s.store(kIdle, std::memory_order_relaxed);
    for (auto& c : claimed) c.v.store(-1, std::memory_order_relaxed);
    completed.v.store(0, std::memory_order_relaxed);
  }

  // Runs tasks until every phase is claimed. Each thread owns a contiguous
  // block of chunks and takes those first in every phase, so a chunk (its
  // packed slice of W_hh, the rows it prefetched) stays with one core from
  // step to step. (Claiming from one shared counter moved each chunk's 256 KB
  // weight slice between the cores' caches at every step.) Once its own are
  // done it waits briefly for the phase to end, and only then takes the
  // others' unclaimed chunks from the far end: a descheduled thread holds up
  // only what it is running, while in the common case no thread touches
  // another's claims.
  void work(int rank) {
    const int C = chunks;
    const int own0 = rank * C / members, own1 = (rank + 1) * C / members;
    auto done = [&](int64_t n) { return completed.v.load(std::memory_order_acquire) >= n; };
    auto try_run = [&](int64_t ph, int c) {
      int64_t expected = ph - 1;  // every chunk was claimed for the phase before
      if (claimed[c].v.load(std::memory_order_relaxed) != expected) return;
      if (!claimed[c].v.compare_exchange_strong(expected, ph, std::memory_order_acq_rel)) return;
      fn(ctx, ph, c);
      completed.v.fetch_add(1, std::memory_order_acq_rel);
    };
    for (int64_t ph = completed.v.load(std::memory_order_acquire) / C; ph < phases; ++ph) {
      const int64_t need = ph * C;  // every task of the earlier phases
      if (!done(need)) wait_until([&] { return done(need); });
      for (int c = own0; c < own1; ++c) try_run(ph, c);
      bool ended = false;
      for (int i = 0; i < kStealAfterSpins && !(ended = done(need + C)); ++i) cpu_relax();
      if (ended) continue;
      for (int c = C - 1; c >= 0; --c)
        if (c < own0 || c >= own1) try_run(ph, c);
    }
  }

  void helper_main(int r) {
    for (;;) {
      // Runs of one call follow each other closely: stay awake ~20 us.
      bool posted = false;
      for (int i = 0; i < 2000 && !posted; ++i) {
        posted = slot[r].load(std::memory_order_acquire) == kPosted;
        if (!posted) cpu_relax();
      }
      if (!posted) {
        std::unique_lock<std::mutex> lk(m);
        cv.wait(lk, [&] { return slot[r].load(std::memory_order_acquire) == kPosted; });
      }
      int expected = kPosted;
      if (!slot[r].compare_exchange_strong(expected, kRunning, std::memory_order_acq_rel)) continue;
      work(r);
      slot[r].store(kIdle, std::memory_order_release);
    }
  }
};

// Below ~1 us of arithmetic per step, handing chunks around costs more than it saves.
constexpr int64_t kTeamMinStepMacs = int64_t(1) << 17;

Team* create_team() {
  // Never destroyed: at exit the helpers are blocked inside it.
  Team* t = new Team;
  const int n = team_max_threads();
  for (int r = 1; r < n; ++r) {
    try {
      std::thread(&Team::helper_main, t, r).detach();
      ++t->helpers;
    } catch (...) {
      break;  // fewer threads is fine
    }
  }
  return t;
}

Team* the_team() {
  static Team* t = create_team();
  return t;
}

}  // namespace

int team_max_threads() {
  static const int n = [] {
    const int hw = static_cast<int>(std::thread::hardware_concurrency());
    // The BLAS's thread count already honours CUDNN_RNN_NUM_THREADS.
    const int want = std::min(blas::info().threads, hw > 0 ? hw : 1);
    return std::max(1, std::min(want, kMaxTeam));
  }();
  return n;
}

int wanted_threads(const Dims& d) {
  const int64_t step_macs = d.N * d.G * d.H * d.H * d.D;
  return step_macs >= kTeamMinStepMacs ? team_max_threads() : 1;
}

int make_chunks(int64_t D, int64_t H, int threads, Chunk* out) {
  int64_t size = H;
  if (threads > 1) {
    // About two chunks per thread, at least 32 units, multiples of 16 so
    // every slice starts on a vector boundary.
    const int64_t target = (D * H + 2 * threads - 1) / (2 * threads);
    size = std::min(H, std::max<int64_t>(32, (target + 15) / 16 * 16));
  }
  const int64_t per_dir = kMaxChunks / D;  // never more chunks than the arrays hold
  size = std::max(size, (H + per_dir - 1) / per_dir);
  int n = 0;
  for (int64_t d = 0; d < D; ++d)
    for (int64_t u0 = 0; u0 < H; u0 += size) out[n++] = {d, u0, std::min(size, H - u0)};
  return n;
}

TeamLease::TeamLease(int wanted) {
  if (wanted <= 1) return;
  Team* t = the_team();
  if (t->helpers == 0 || !t->busy.try_lock()) return;
  team_ = t;
  size_ = std::min(wanted, 1 + t->helpers);
}

TeamLease::~TeamLease() {
  if (team_) static_cast<Team*>(team_)->busy.unlock();
}

void TeamLease::run_impl(int64_t phases, int chunks, void (*fn)(void*, int64_t, int), void* ctx) {
  if (phases <= 0 || chunks <= 0) return;
  if (size_ == 1 || chunks == 1 || chunks > kMaxRunChunks) {
    for (int64_t ph = 0; ph < phases; ++ph)
      for (int c = 0; c < chunks; ++c) fn(ctx, ph, c);
    return;
  }
  Team* t = static_cast<Team*>(team_);
  const int helpers = std::min(size_ - 1, chunks - 1);
  t->fn = fn;
  t->ctx = ctx;
  t->chunks = chunks;
  t->members = helpers + 1;
  t->phases = phases;
  for (int c = 0; c < chunks; ++c) t->claimed[c].v.store(-1, std::memory_order_relaxed);
  t->completed.v.store(0, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lk(t->m);
    for (int r = 1; r <= helpers; ++r) t->slot[r].store(kPosted, std::memory_order_release);
  }
  t->cv.notify_all();
  t->work(0);
  const int64_t total = phases * chunks;
  wait_until([t, total] { return t->completed.v.load(std::memory_order_acquire) == total; });
  // Take back the posts of helpers that never woke; wait for the others to leave.
  for (int r = 1; r <= helpers; ++r) {
    int expected = kPosted;
    if (!t->slot[r].compare_exchange_strong(expected, kIdle, std::memory_order_acq_rel))
      wait_until([t, r] { return t->slot[r].load(std::memory_order_acquire) == kIdle; });
  }
}

}  // namespace detail
}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
