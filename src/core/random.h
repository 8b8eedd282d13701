// PyTorch's CPU generator: mt19937 seeded with init_genrand, producing the same
// stream as torch.manual_seed(s) so that manualSeed(s); rand(n) equals
// torch.manual_seed(s); torch.rand(n) bit for bit. One process-wide generator,
// guarded by a mutex because forwardAsync draws dropout masks on a worker.
#pragma once
#include <cstdint>
#include <mutex>

#include "dtype.h"

namespace cudnn_rnn {

class Generator {
 public:
  Generator();
  void seed(uint64_t seed);
  uint64_t initial_seed() const { return seed_; }

  // The caller must hold lock() for the raw draws.
  std::mutex& lock() { return mutex_; }
  uint32_t next_u32();
  uint64_t next_u64();  // two draws, the first is the high word (PyTorch's random64)

  // Fill contiguous memory like torch.rand/uniform_(from, to): one draw per
  // float32 element (24-bit mantissa), two per float64 element (53-bit).
  void uniform_fill(DType dtype, void* data, int64_t n, double from, double to);
  // Normal(mean, std) like torch.randn/normal_ (Box-Muller on the same stream;
  // PyTorch's vectorised layout for n >= 16 is reproduced where possible).
  void normal_fill(DType dtype, void* data, int64_t n, double mean, double std);
  // Dropout keep-mask: element = scale with probability keep_prob, else 0.
  void bernoulli_scaled_fill(DType dtype, void* data, int64_t n, double keep_prob, double scale);

 private:
  void twist();
  std::mutex mutex_;
  uint64_t seed_ = 0;
  uint32_t state_[624];
  int index_ = 625;
};

Generator& default_generator();

}  // namespace cudnn_rnn
