// Branch-free exp / tanh / sigmoid that GCC auto-vectorises (see vmath.h for
// the accuracy contract, vmath_core.h for the scalar cores). `in` may equal
// `out`.
//
// Each function is its core force-inlined into a plain loop, compiled three
// times: for AVX-512 (16 floats / 8 doubles a step), for AVX2+FMA (8 / 4) and
// for baseline x86-64 (SSE2: 4 floats a step; the double loops stay scalar
// because SSE2 has no 64-bit compare for the selects). The widest copy the
// CPU runs is chosen at run time (cpu_isa(), which CUDNN_RNN_CPU_ISA caps). A
// function-pointer dispatch is used rather than target_clones because
// target_clones needs ifunc, which musl libc lacks; the addon never executes
// an AVX2 instruction on a CPU without it.
//
// The FMA copies (where GCC contracts a*b+c into FMA) and the baseline copy /
// scalar forms can differ in the last bit; all meet the contract.
#include "vmath.h"

#include <cstdint>

#include "isa.h"
#include "vmath_core.h"

namespace cudnn_rnn {
namespace cpu {
namespace vmath {
namespace {

using namespace core;

// ---------------------------------------------------------------------------
// Loops and run-time selection of the widest copy.

struct ExpOp {
  template <typename T>
  static VMATH_INLINE T apply(T x) { return exp_core(x); }
};
struct TanhOp {
  template <typename T>
  static VMATH_INLINE T apply(T x) { return tanh_core(x); }
};
struct SigmoidOp {
  template <typename T>
  static VMATH_INLINE T apply(T x) { return sigmoid_core(x); }
};

// No __restrict: GCC versions the loop with a run-time overlap check, which
// lets in == out (in-place) through to the vector code and falls back to the
// scalar loop only for overlaps that the vector code would get wrong.
template <typename Op, typename T>
VMATH_INLINE void apply_loop(const T* in, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = Op::template apply<T>(in[i]);
}

#if defined(__GNUC__) && defined(__x86_64__)
#define VMATH_HAS_WIDE_COPIES 1
#define VMATH_DEFINE_KERNELS(NAME, OP, T)                                                     \
  void NAME##_baseline(const T* in, T* out, int64_t n) { apply_loop<OP, T>(in, out, n); }     \
  CUDNN_RNN_TARGET_AVX2 void NAME##_avx2(const T* in, T* out, int64_t n) {                    \
    apply_loop<OP, T>(in, out, n);                                                            \
  }                                                                                           \
  CUDNN_RNN_TARGET_AVX512 void NAME##_avx512(const T* in, T* out, int64_t n) {                \
    apply_loop<OP, T>(in, out, n);                                                            \
  }
#define VMATH_PICK(NAME)                                 \
  (cpu_isa() == Isa::Avx512 ? NAME##_avx512               \
   : cpu_isa() == Isa::Avx2 ? NAME##_avx2 : NAME##_baseline)
#else
#define VMATH_DEFINE_KERNELS(NAME, OP, T) \
  void NAME##_baseline(const T* in, T* out, int64_t n) { apply_loop<OP, T>(in, out, n); }
#define VMATH_PICK(NAME) (NAME##_baseline)
#endif

VMATH_DEFINE_KERNELS(exp_f32, ExpOp, float)
VMATH_DEFINE_KERNELS(exp_f64, ExpOp, double)
VMATH_DEFINE_KERNELS(tanh_f32, TanhOp, float)
VMATH_DEFINE_KERNELS(tanh_f64, TanhOp, double)
VMATH_DEFINE_KERNELS(sigmoid_f32, SigmoidOp, float)
VMATH_DEFINE_KERNELS(sigmoid_f64, SigmoidOp, double)

}  // namespace

void exp(const float* in, float* out, int64_t n) { VMATH_PICK(exp_f32)(in, out, n); }
void exp(const double* in, double* out, int64_t n) { VMATH_PICK(exp_f64)(in, out, n); }
void tanh(const float* in, float* out, int64_t n) { VMATH_PICK(tanh_f32)(in, out, n); }
void tanh(const double* in, double* out, int64_t n) { VMATH_PICK(tanh_f64)(in, out, n); }
void sigmoid(const float* in, float* out, int64_t n) { VMATH_PICK(sigmoid_f32)(in, out, n); }
void sigmoid(const double* in, double* out, int64_t n) { VMATH_PICK(sigmoid_f64)(in, out, n); }

float exp1(float x) { return exp_core(x); }
double exp1(double x) { return exp_core(x); }
float tanh1(float x) { return tanh_core(x); }
double tanh1(double x) { return tanh_core(x); }
float sigmoid1(float x) { return sigmoid_core(x); }
double sigmoid1(double x) { return sigmoid_core(x); }

}  // namespace vmath
}  // namespace cpu
}  // namespace cudnn_rnn
