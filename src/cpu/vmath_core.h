// The scalar cores of vmath (exp, tanh, sigmoid), force-inlined so that a
// loop calling them vectorises: vmath.cc wraps them in plain loops, and fused
// kernels (the LSTM gate pass, rnn_cells_lstm.cc) call them inside their own
// loops so that a whole gate step is one pass over registers. The accuracy
// contract is vmath.h's.
//
// How they vectorise: each core is made only of arithmetic, comparisons and
// bit selects. Two GCC habits shape the code:
//  * With -ftrapping-math (the default) GCC moves a computation that feeds
//    only one arm of `c ? a : b` into that arm, or threads a clamp's constant
//    through the rest of the function, and then cannot if-convert the loop.
//    `select` blends with integer masks instead, so both arms stay plain data.
//  * Float -> int conversions are avoided: k = round(x / ln2) is obtained by
//    adding 1.5 * 2^52 (the "shifter"), which leaves k in the low mantissa bits;
//    AVX2 has no double -> int64 conversion and no 64-bit arithmetic shift.
#pragma once
#include <cstdint>

#include "isa.h"

namespace cudnn_rnn {
namespace cpu {
namespace vmath {
namespace core {

// ---------------------------------------------------------------------------
// Bit-level helpers.

CUDNN_RNN_INLINE double double_from_bits(uint64_t u) { return __builtin_bit_cast(double, u); }
CUDNN_RNN_INLINE uint64_t to_bits(double d) { return __builtin_bit_cast(uint64_t, d); }
CUDNN_RNN_INLINE float float_from_bits(uint32_t u) { return __builtin_bit_cast(float, u); }
CUDNN_RNN_INLINE uint32_t to_bits(float f) { return __builtin_bit_cast(uint32_t, f); }

// c ? a : b, with both a and b always computed (see the file comment).
CUDNN_RNN_INLINE double select(bool c, double a, double b) {
  const uint64_t m = -static_cast<uint64_t>(c);
  return double_from_bits((to_bits(a) & m) | (to_bits(b) & ~m));
}
CUDNN_RNN_INLINE float select(bool c, float a, float b) {
  const uint32_t m = -static_cast<uint32_t>(c);
  return float_from_bits((to_bits(a) & m) | (to_bits(b) & ~m));
}

CUDNN_RNN_INLINE double abs_bits(double x) { return double_from_bits(to_bits(x) & 0x7fffffffffffffffULL); }
CUDNN_RNN_INLINE float abs_bits(float x) { return float_from_bits(to_bits(x) & 0x7fffffffU); }

// `magnitude` (>= 0) with the sign bit of `sign`.
CUDNN_RNN_INLINE double with_sign_of(double magnitude, double sign) {
  return double_from_bits(to_bits(magnitude) | (to_bits(sign) & 0x8000000000000000ULL));
}
CUDNN_RNN_INLINE float with_sign_of(float magnitude, float sign) {
  return float_from_bits(to_bits(magnitude) | (to_bits(sign) & 0x80000000U));
}

// ---------------------------------------------------------------------------
// exp: x = k*ln2 + r with |r| <= ln2/2, e^x = 2^k * e^r.
// e^r = 1 + r + r^2 * g(r); g is a Chebyshev fit of (e^r - 1 - r) / r^2 on
// [-0.348, 0.348] (error 1.4e-18 for double, 1.4e-9 for float, both far
// below half an ulp of e^r). 2^k is applied as two factors 2^k1 * 2^k2 so that
// both are normal numbers even when the result is subnormal or overflows:
// the product then rounds once, exactly like a correctly scaled result.

CUDNN_RNN_INLINE double exp_core(double x) {
  // Beyond these the result is 0 / inf anyway; clamping keeps k in the range the
  // two-factor scaling handles. NaN passes through (its comparisons are false).
  x = select(x > 710.0, 710.0, x);
  x = select(x < -746.0, -746.0, x);
  constexpr double kLog2e = 1.4426950408889634074;
  // ln2 split so that k * kLn2Hi is exact for |k| < 2^20 (fdlibm's constants).
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShifter = 0x1.8p52;
  const double t = x * kLog2e + kShifter;  // round(x / ln2) sits in t's low bits
  const double kd = t - kShifter;
  double r = x - kd * kLn2Hi;
  r = r - kd * kLn2Lo;

  double g = 2.09148987271755241e-09;
  g = g * r + 2.51055135418470858e-08;
  g = g * r + 2.75572731328960418e-07;
  g = g * r + 2.75572546857288035e-06;
  g = g * r + 2.48015873259511099e-05;
  g = g * r + 1.98412698753854796e-04;
  g = g * r + 1.38888888888836332e-03;
  g = g * r + 8.33333333332597279e-03;
  g = g * r + 4.16666666666666713e-02;
  g = g * r + 1.66666666666666713e-01;
  g = g * r + 0.5;
  const double p = 1.0 + (r + (r * r) * g);

  // k = k1 + k2 with k1 = round(k / 2); both in [-538, 512] for the clamped x.
  const uint64_t k = to_bits(t) - to_bits(kShifter);
  const uint64_t k1 = to_bits(kd * 0.5 + kShifter) - to_bits(kShifter);
  const uint64_t k2 = k - k1;
  const double scale1 = double_from_bits((k1 + 1023) << 52);
  const double scale2 = double_from_bits((k2 + 1023) << 52);
  return (p * scale1) * scale2;
}

CUDNN_RNN_INLINE float exp_core(float x) {
  x = select(x > 89.0f, 89.0f, x);
  x = select(x < -104.0f, -104.0f, x);
  constexpr float kLog2e = 1.44269504088896341f;
  // Cephes' split: 0.693359375 has 9 significant bits, so k * kLn2Hi is exact.
  constexpr float kLn2Hi = 0.693359375f;
  constexpr float kLn2Lo = -2.12194440e-4f;
  constexpr float kShifter = 0x1.8p23f;
  const float t = x * kLog2e + kShifter;
  const float kd = t - kShifter;
  float r = x - kd * kLn2Hi;
  r = r - kd * kLn2Lo;

  float g = 1.989126904e-04f;
  g = g * r + 1.393390005e-03f;
  g = g * r + 8.333310485e-03f;
  g = g * r + 4.166646302e-02f;
  g = g * r + 1.666666716e-01f;
  g = g * r + 0.5f;
  const float p = 1.0f + (r + (r * r) * g);

  // k in [-150, 129] for the clamped x; k1, k2 in [-75, 65].
  const uint32_t k = to_bits(t) - to_bits(kShifter);
  const uint32_t k1 = to_bits(kd * 0.5f + kShifter) - to_bits(kShifter);
  const uint32_t k2 = k - k1;
  const float scale1 = float_from_bits((k1 + 127) << 23);
  const float scale2 = float_from_bits((k2 + 127) << 23);
  return (p * scale1) * scale2;
}

// ---------------------------------------------------------------------------
// tanh: for |x| < 0.625, x + x^3 * P(x^2) (no cancellation; P is a Chebyshev
// fit of (tanh x - x) / x^3, error 4e-18 double / 1.6e-9 float); above,
// 1 - 2 / (e^{2|x|} + 1) with the sign of x. e^{2|x|} -> inf gives exactly 1.

CUDNN_RNN_INLINE double tanh_core(double x) {
  const double ax = abs_bits(x);
  const double z = x * x;
  double p = 6.48516348279311301e-06;
  p = p * z - 3.12011014257974025e-05;
  p = p * z + 9.25711612955676871e-05;
  p = p * z - 2.37590649605556203e-04;
  p = p * z + 5.89660657775704336e-04;
  p = p * z - 1.45577541204780546e-03;
  p = p * z + 3.59212175115496222e-03;
  p = p * z - 8.86323510324087821e-03;
  p = p * z + 2.18694885190083045e-02;
  p = p * z - 5.39682539678969925e-02;
  p = p * z + 1.33333333333330417e-01;
  p = p * z - 3.33333333333333315e-01;
  const double small = x + (x * z) * p;
  const double e = exp_core(2.0 * ax);
  const double large = with_sign_of(1.0 - 2.0 / (e + 1.0), x);
  return select(ax < 0.625, small, large);  // NaN takes the large path: NaN
}

CUDNN_RNN_INLINE float tanh_core(float x) {
  const float ax = abs_bits(x);
  const float z = x * x;
  float p = 2.292744815e-03f;
  p = p * z - 8.343945257e-03f;
  p = p * z + 2.176891826e-02f;
  p = p * z - 5.395925790e-02f;
  p = p * z + 1.333330423e-01f;
  p = p * z - 3.333333433e-01f;
  const float small = x + (x * z) * p;
  const float e = exp_core(2.0f * ax);
  const float large = with_sign_of(1.0f - 2.0f / (e + 1.0f), x);
  return select(ax < 0.625f, small, large);
}

// ---------------------------------------------------------------------------
// sigmoid: with e = e^{-|x|} in (0, 1] nothing overflows:
// x >= 0: 1 / (1 + e); x < 0: e / (1 + e) (which keeps subnormal results).

CUDNN_RNN_INLINE double sigmoid_core(double x) {
  const double e = exp_core(-abs_bits(x));
  return select(x >= 0.0, 1.0, e) / (1.0 + e);  // NaN: e is NaN, so is the result
}

// Float sigmoid is PyTorch's own formula, 1 / (1 + e^{-x}) in float (ATen's
// vectorised sigmoid on Sleef's 1-ulp expf): same maths, same accuracy. Its
// error peaks at 2.47 ulp near x = -16.6, as torch 1.13's does (2.46 ulp
// there, measured over 5e8 floats). An earlier version computed it in double
// to be correctly rounded; that cost a third of the LSTM gate pass. e^{-x}
// overflows to inf for x < -88.7, giving 0 as it should; NaN propagates.
CUDNN_RNN_INLINE float sigmoid_core(float x) { return 1.0f / (1.0f + exp_core(-x)); }

}  // namespace core
}  // namespace vmath
}  // namespace cpu
}  // namespace cudnn_rnn
