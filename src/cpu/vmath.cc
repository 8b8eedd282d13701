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
  static CUDNN_RNN_INLINE T apply(T x) { return exp_core(x); }
};
struct TanhOp {
  template <typename T>
  static CUDNN_RNN_INLINE T apply(T x) { return tanh_core(x); }
};
struct SigmoidOp {
  template <typename T>
  static CUDNN_RNN_INLINE T apply(T x) { return sigmoid_core(x); }
};

// No __restrict: GCC versions the loop with a run-time overlap check, which
// lets in == out (in-place) through to the vector code and falls back to the
// scalar loop only for overlaps that the vector code would get wrong.
template <typename Op, typename T>
CUDNN_RNN_INLINE void apply_loop(const T* in, T* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = Op::template apply<T>(in[i]);
}

// Each function three times (isa.h): plain, AVX2 and AVX-512.
#define VMATH_PARAMS (const S* in, S* out, int64_t n)
#define VMATH_ARGS (in, out, n)
template <typename S>
CUDNN_RNN_INLINE void exp_body VMATH_PARAMS { apply_loop<ExpOp, S> VMATH_ARGS; }
template <typename S>
CUDNN_RNN_INLINE void tanh_body VMATH_PARAMS { apply_loop<TanhOp, S> VMATH_ARGS; }
template <typename S>
CUDNN_RNN_INLINE void sigmoid_body VMATH_PARAMS { apply_loop<SigmoidOp, S> VMATH_ARGS; }
CUDNN_RNN_ISA_COPIES(exp_k, exp_body, VMATH_PARAMS, VMATH_ARGS)
CUDNN_RNN_ISA_COPIES(tanh_k, tanh_body, VMATH_PARAMS, VMATH_ARGS)
CUDNN_RNN_ISA_COPIES(sigmoid_k, sigmoid_body, VMATH_PARAMS, VMATH_ARGS)

template <typename S>
void exp_any VMATH_PARAMS { CUDNN_RNN_ISA_CALL(exp_k, VMATH_ARGS); }
template <typename S>
void tanh_any VMATH_PARAMS { CUDNN_RNN_ISA_CALL(tanh_k, VMATH_ARGS); }
template <typename S>
void sigmoid_any VMATH_PARAMS { CUDNN_RNN_ISA_CALL(sigmoid_k, VMATH_ARGS); }

}  // namespace

void exp(const float* in, float* out, int64_t n) { exp_any<float>(in, out, n); }
void exp(const double* in, double* out, int64_t n) { exp_any<double>(in, out, n); }
void tanh(const float* in, float* out, int64_t n) { tanh_any<float>(in, out, n); }
void tanh(const double* in, double* out, int64_t n) { tanh_any<double>(in, out, n); }
void sigmoid(const float* in, float* out, int64_t n) { sigmoid_any<float>(in, out, n); }
void sigmoid(const double* in, double* out, int64_t n) { sigmoid_any<double>(in, out, n); }

float exp1(float x) { return exp_core(x); }
double exp1(double x) { return exp_core(x); }
float tanh1(float x) { return tanh_core(x); }
double tanh1(double x) { return tanh_core(x); }
float sigmoid1(float x) { return sigmoid_core(x); }
double sigmoid1(double x) { return sigmoid_core(x); }

}  // namespace vmath
}  // namespace cpu
}  // namespace cudnn_rnn
