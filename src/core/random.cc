// PyTorch's CPU generator and the fills built on it, reproduced bit for bit
// against PyTorch 1.13 on x86-64 (the AVX2 kernels, which PyTorch 1.13
// dispatches to on every AVX2 machine, AVX-512 ones included).

#include "random.h"

#include <cmath>
#include <cstring>

// Every rounding step below is spelled out: std::fma where PyTorch's binary
// fuses a multiply-add (its AVX2 kernels are built with -mfma, and GCC
// contracts a*b+c even across _mm256_mul_ps/_mm256_add_ps), a plain * and +
// where it does not. So the compiler must not fuse anything on its own.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace cudnn_rnn {

namespace {

// at::mt19937 (aten/src/ATen/core/MT19937RNGEngine.h): the reference mt19937.
constexpr int kStateSize = 624;
constexpr int kShift = 397;
constexpr uint32_t kMatrixA = 0x9908b0dfu;
constexpr uint32_t kUpperMask = 0x80000000u;
constexpr uint32_t kLowerMask = 0x7fffffffu;

// c10::detail::default_rng_seed_val, the seed of a fresh torch.Generator().
// (torch's global generator is seeded from std::random_device in each
// process; we start reproducibly instead, until manualSeed is called.)
constexpr uint64_t kDefaultSeed = 67280421310721ull;

constexpr uint32_t kFloatMantissaMask = (1u << 24) - 1;
constexpr uint64_t kDoubleMantissaMask = (uint64_t{1} << 53) - 1;
constexpr float kFloatUnit = 1.0f / (1u << 24);
constexpr double kDoubleUnit = 1.0 / (uint64_t{1} << 53);
constexpr double kTwoPi = 2.0 * 3.14159265358979323846;

// Box-Muller works on blocks of 16 (8 pairs) in PyTorch's normal_fill.
constexpr int64_t kNormalBlock = 16;
constexpr int64_t kNormalHalf = 8;

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// One lane of log256_ps (aten/src/ATen/native/cpu/avx_mathfun.h, Cephes logf)
// with the multiply-adds PyTorch's AVX2 build fused (read from libtorch_cpu's
// disassembly). Only ever called with u in (0, 1].
float avx2_log(float u) {
  const bool invalid = u <= 0.0f;
  float v = u > bits_float(0x00800000u) ? u : bits_float(0x00800000u);  // no denormals
  const uint32_t bits = float_bits(v);
  float x = bits_float((bits & ~0x7f800000u) | float_bits(0.5f));  // mantissa in [0.5, 1)
  float e = static_cast<float>(static_cast<int32_t>(bits >> 23) - 0x7f);
  e = e + 1.0f;
  const bool below_sqrt_half = x < bits_float(0x3f3504f3u);  // sqrt(1/2)
  const float tmp = below_sqrt_half ? x : 0.0f;
  x = x + -1.0f;
  e = e - (below_sqrt_half ? 1.0f : 0.0f);
  const float e_q1 = e * -2.12194440e-4f;
  x = tmp + x;
  float y = 7.0376836292e-2f;
  y = std::fma(x, y, -1.1514610310e-1f);
  y = std::fma(x, y, 1.1676998740e-1f);
  y = std::fma(x, y, -1.2420140846e-1f);
  y = std::fma(x, y, 1.4249322787e-1f);
  y = std::fma(x, y, -1.6668057665e-1f);
  y = std::fma(x, y, 2.0000714765e-1f);
  y = std::fma(x, y, -2.4999993993e-1f);
  y = std::fma(x, y, 3.3333331174e-1f);
  const float z = x * x;
  y = x * y;
  y = std::fma(y, z, e_q1);
  y = std::fma(-z, 0.5f, y);
  x = x + y;
  x = std::fma(e, 0.693359375f, x);
  return invalid ? bits_float(0xffffffffu) : x;
}

// One lane of sincos256_ps (Cephes sinf/cosf), fused as in PyTorch's build.
void avx2_sincos(float theta, float* sin_out, float* cos_out) {
  const uint32_t theta_bits = float_bits(theta);
  uint32_t sign_sin = theta_bits & 0x80000000u;
  const float ax = bits_float(theta_bits & 0x7fffffffu);
  const float scaled = ax * 1.27323954473516f;  // 4 / pi
  const int32_t j_raw = static_cast<int32_t>(scaled) + 1;  // truncation, like cvttps2dq
  const int32_t j = j_raw & ~1;
  const float yj = static_cast<float>(j);
  const uint32_t swap_sign_sin = static_cast<uint32_t>(j & 4) << 29;
  const bool sine_polynomial = (j & 2) == 0;
  const uint32_t sign_cos = static_cast<uint32_t>(~(j - 2) & 4) << 29;
  sign_sin ^= swap_sign_sin;

  // Extended-precision reduction x = ((ax - j*DP1) - j*DP2) - j*DP3.
  float x = std::fma(yj, -0.78515625f, ax);
  x = std::fma(yj, -2.4187564849853515625e-4f, x);
  x = std::fma(yj, -3.77489497744594108e-8f, x);

  const float z = x * x;
  float yc = std::fma(z, 2.443315711809948e-5f, -1.388731625493765e-3f);
  yc = std::fma(z, yc, 4.166664568298827e-2f);
  const float half_z = z * 0.5f;
  yc = z * yc;
  yc = std::fma(yc, z, -half_z);
  yc = yc + 1.0f;

  float ys = std::fma(-1.9515295891e-4f, z, 8.3321608736e-3f);
  ys = std::fma(z, ys, -1.6666654611e-1f);
  ys = z * ys;
  ys = std::fma(ys, x, x);

  // The vector code computes both polynomials and moves each to its output
  // with masks and subtractions; the same steps keep the signs of zeros.
  const float sin_from_ys = sine_polynomial ? ys : 0.0f;
  const float sin_from_yc = sine_polynomial ? 0.0f : yc;
  ys = ys - sin_from_ys;
  yc = yc - sin_from_yc;
  const float s = sin_from_yc + sin_from_ys;
  const float c = yc + ys;
  *sin_out = bits_float(float_bits(s) ^ sign_sin);
  *cos_out = bits_float(float_bits(c) ^ sign_cos);
}

// normal_fill_16_AVX2: turns 16 uniforms into 16 normals in place, pairing
// element j with element j + 8.
void normal_block_float(float* data, float mean, float std) {
  const float two_pi = static_cast<float>(kTwoPi);
  for (int64_t j = 0; j < kNormalHalf; ++j) {
    const float u1 = 1.0f - data[j];  // [0, 1) -> (0, 1] for the log
    const float theta = two_pi * data[j + kNormalHalf];
    const float radius = std::sqrt(avx2_log(u1) * -2.0f);
    float sin_theta, cos_theta;
    avx2_sincos(theta, &sin_theta, &cos_theta);
    data[j] = std::fma(radius * cos_theta, std, mean);
    data[j + kNormalHalf] = std::fma(radius * sin_theta, std, mean);
  }
}

// normal_fill_16<double>: the scalar version with libm's log, sin and cos.
void normal_block_double(double* data, double mean, double std) {
  for (int64_t j = 0; j < kNormalHalf; ++j) {
    const double u1 = 1.0 - data[j];
    const double radius = std::sqrt(-2.0 * std::log(u1));
    const double theta = kTwoPi * data[j + kNormalHalf];
    data[j] = std::fma(radius * std::cos(theta), std, mean);
    data[j + kNormalHalf] = std::fma(radius * std::sin(theta), std, mean);
  }
}

}  // namespace

Generator::Generator() { seed(kDefaultSeed); }

void Generator::seed(uint64_t seed) {
  std::lock_guard<std::mutex> guard(mutex_);
  seed_ = seed;
  // init_genrand takes 32 bits: torch.manual_seed(2**32 + 5) equals manual_seed(5),
  // but initial_seed() still reports the full value.
  state_[0] = static_cast<uint32_t>(seed);
  for (int j = 1; j < kStateSize; ++j) {
    state_[j] = 1812433253u * (state_[j - 1] ^ (state_[j - 1] >> 30)) + static_cast<uint32_t>(j);
  }
  index_ = kStateSize;  // the first draw twists, as at::mt19937 does
  has_next_normal_ = false;
}

void Generator::twist() {
  for (int k = 0; k < kStateSize; ++k) {
    const uint32_t next = state_[(k + 1) % kStateSize];
    const uint32_t mixed = (state_[k] & kUpperMask) | (next & kLowerMask);
    state_[k] = state_[(k + kShift) % kStateSize] ^ (mixed >> 1) ^ ((next & 1u) ? kMatrixA : 0u);
  }
  index_ = 0;
}

uint32_t Generator::next_u32() {
  if (index_ >= kStateSize) twist();
  uint32_t y = state_[index_++];
  y ^= y >> 11;
  y ^= (y << 7) & 0x9d2c5680u;
  y ^= (y << 15) & 0xefc60000u;
  y ^= y >> 18;
  return y;
}

uint64_t Generator::next_u64() {
  const uint64_t hi = next_u32();
  const uint64_t lo = next_u32();
  return (hi << 32) | lo;
}

double Generator::next_uniform_double() {
  return static_cast<double>(next_u64() & kDoubleMantissaMask) * kDoubleUnit;
}

double Generator::next_normal_double(double mean, double std) {
  if (has_next_normal_) {
    has_next_normal_ = false;
    return std::fma(next_normal_, std, mean);
  }
  const double u1 = next_uniform_double();
  const double u2 = next_uniform_double();
  const double radius = std::sqrt(-2.0 * std::log(1.0 - u2));
  const double theta = kTwoPi * u1;
  next_normal_ = radius * std::sin(theta);
  has_next_normal_ = true;
  return std::fma(radius * std::cos(theta), std, mean);
}

void Generator::uniform_fill(DType dtype, void* data, int64_t n, double from, double to) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (dtype == DType::Float32) {
    // uniform_real_distribution<float> computes in float: from and to are
    // rounded first, then x * (to - from) + from is one fused multiply-add.
    const float lo = static_cast<float>(from);
    const float range = static_cast<float>(to) - lo;
    float* out = static_cast<float*>(data);
    for (int64_t i = 0; i < n; ++i) {
      const float x = static_cast<float>(next_u32() & kFloatMantissaMask) * kFloatUnit;
      out[i] = std::fma(x, range, lo);
    }
  } else if (dtype == DType::Float64) {
    const double range = to - from;
    double* out = static_cast<double*>(data);
    for (int64_t i = 0; i < n; ++i) {
      out[i] = std::fma(next_uniform_double(), range, from);
    }
  }
  // Int32 has no uniform_ in PyTorch; lib/ rejects it before it gets here.
}

void Generator::normal_fill(DType dtype, void* data, int64_t n, double mean, double std) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (n < kNormalBlock) {
    // Small tensors take the scalar at::normal_distribution<double>, which
    // draws two 53-bit uniforms per pair and caches the second sample.
    if (dtype == DType::Float32) {
      float* out = static_cast<float*>(data);
      for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(next_normal_double(mean, std));
    } else if (dtype == DType::Float64) {
      double* out = static_cast<double*>(data);
      for (int64_t i = 0; i < n; ++i) out[i] = next_normal_double(mean, std);
    }
    return;
  }
  // normal_fill: draw every uniform first, transform whole blocks of 16, then
  // (if n is not a multiple of 16) draw 16 fresh uniforms over the last 16
  // elements and transform those, overwriting part of the last whole block.
  if (dtype == DType::Float32) {
    float* out = static_cast<float*>(data);
    const float mean_f = static_cast<float>(mean);
    const float std_f = static_cast<float>(std);
    auto draw = [this](float* p, int64_t count) {
      for (int64_t i = 0; i < count; ++i) {
        p[i] = static_cast<float>(next_u32() & kFloatMantissaMask) * kFloatUnit;
      }
    };
    draw(out, n);
    for (int64_t i = 0; i + kNormalBlock <= n; i += kNormalBlock) normal_block_float(out + i, mean_f, std_f);
    if (n % kNormalBlock != 0) {
      draw(out + n - kNormalBlock, kNormalBlock);
      normal_block_float(out + n - kNormalBlock, mean_f, std_f);
    }
  } else if (dtype == DType::Float64) {
    double* out = static_cast<double*>(data);
    auto draw = [this](double* p, int64_t count) {
      for (int64_t i = 0; i < count; ++i) p[i] = next_uniform_double();
    };
    draw(out, n);
    for (int64_t i = 0; i + kNormalBlock <= n; i += kNormalBlock) normal_block_double(out + i, mean, std);
    if (n % kNormalBlock != 0) {
      draw(out + n - kNormalBlock, kNormalBlock);
      normal_block_double(out + n - kNormalBlock, mean, std);
    }
  }
}

void Generator::bernoulli_scaled_fill(DType dtype, void* data, int64_t n, double keep_prob, double scale) {
  std::lock_guard<std::mutex> guard(mutex_);
  // The keep decision is PyTorch's bernoulli_(keep_prob) on CPU (one 53-bit
  // uniform per element, kept when below keep_prob), so the masks match
  // torch's dropout masks for the same stream; the scaled value may differ
  // from torch's float32 1/(1-p) in the last bit.
  if (dtype == DType::Float32) {
    float* out = static_cast<float*>(data);
    const float kept = static_cast<float>(scale);
    for (int64_t i = 0; i < n; ++i) out[i] = next_uniform_double() < keep_prob ? kept : 0.0f;
  } else if (dtype == DType::Float64) {
    double* out = static_cast<double*>(data);
    for (int64_t i = 0; i < n; ++i) out[i] = next_uniform_double() < keep_prob ? scale : 0.0;
  }
}

Generator& default_generator() {
  static Generator generator;
  return generator;
}

}  // namespace cudnn_rnn
