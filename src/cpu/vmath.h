// Vectorisable elementwise maths for the hot loops (RNN gates, pointwise ops).
// std::tanh/std::exp cost ~20 ns each and would dominate the GRU gate pass;
// these are branch-free polynomial versions that GCC vectorises.
// Accuracy contract (checked by test/vmath.test.ts against Math.*):
//   float32: exp and tanh within 2 ulp of the correctly rounded result on
//            [-88, 88]; sigmoid within 2.5 ulp (PyTorch's own formula and
//            accuracy, vmath_core.h)
//   float64: within 4 ulp (relative 1e-15) on [-700, 700]
// Inputs beyond those ranges saturate correctly (tanh -> +-1, sigmoid -> 0/1,
// exp -> 0/inf). NaN propagates. `in` may equal `out`. AVX-512 and AVX2+FMA
// copies are chosen at run time by CPUID, so the addon still runs on
// baseline x86-64.
#pragma once
#include <cstdint>

namespace cudnn_rnn {
namespace cpu {
namespace vmath {

void exp(const float* in, float* out, int64_t n);
void exp(const double* in, double* out, int64_t n);
void tanh(const float* in, float* out, int64_t n);
void tanh(const double* in, double* out, int64_t n);
void sigmoid(const float* in, float* out, int64_t n);
void sigmoid(const double* in, double* out, int64_t n);

// Scalar forms for code that cannot batch (same accuracy).
float exp1(float x);
double exp1(double x);
float tanh1(float x);
double tanh1(double x);
float sigmoid1(float x);
double sigmoid1(double x);

}  // namespace vmath
}  // namespace cpu
}  // namespace cudnn_rnn
