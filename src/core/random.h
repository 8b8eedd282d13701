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
  void seed(uint64_t seed);  // takes lock() itself; also drops the cached normal sample
  uint64_t initial_seed() const { return seed_; }

  // The caller must hold lock() for the raw draws.
  std::mutex& lock() { return mutex_; }
  uint32_t next_u32();
  uint64_t next_u64();  // two draws, the first is the high word (PyTorch's random64)

  // Fill contiguous memory like torch.rand/uniform_(from, to): one draw per
  // float32 element (24-bit mantissa), two per float64 element (53-bit).
  void uniform_fill(DType dtype, void* data, int64_t n, double from, double to);
  // Normal(mean, std) like torch.randn/normal_, bit for bit with PyTorch 1.13
  // on x86-64: the scalar Box-Muller (with its cached second sample) below 16
  // elements, the blocks-of-16 layout and AVX2 Cephes log/sincos from 16 up.
  void normal_fill(DType dtype, void* data, int64_t n, double mean, double std);
  // Dropout keep-mask: element = scale with probability keep_prob, else 0.
  void bernoulli_scaled_fill(DType dtype, void* data, int64_t n, double keep_prob, double scale);

 private:
  void twist();
  double next_uniform_double();  // PyTorch's uniform_real_distribution<double>(0, 1)
  double next_normal_double(double mean, double std);  // at::normal_distribution<double>
  std::mutex mutex_;
  uint64_t seed_ = 0;
  uint32_t state_[624];
  int index_ = 625;
  // Box-Muller makes two samples; PyTorch's scalar path keeps the second for
  // the next small normal_ call (CPUGeneratorImpl::next_double_normal_sample).
  bool has_next_normal_ = false;
  double next_normal_ = 0.0;
};

Generator& default_generator();

}  // namespace cudnn_rnn
