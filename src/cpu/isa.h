// The widest x86 vector instruction set the CPU kernels may use. The addon
// is built for baseline x86-64; each hot kernel is compiled once per set
// (with the target attributes below) and picked at run time, so it never
// executes an instruction the CPU lacks. CUDNN_RNN_CPU_ISA=baseline|avx2
// caps the choice (tests, and a way out should a wide kernel misbehave on
// some CPU); it never raises it.
//
// Also the macros every kernel file shares: force-inlining of the bodies
// that are compiled into each copy, and the loop pragma for gate loops.
#pragma once

namespace cudnn_rnn {
namespace cpu {

enum class Isa { Baseline, Avx2, Avx512 };
Isa cpu_isa();

}  // namespace cpu
}  // namespace cudnn_rnn

#if defined(__GNUC__) && defined(__x86_64__)
#define CUDNN_RNN_X86 1
#define CUDNN_RNN_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CUDNN_RNN_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#else
#define CUDNN_RNN_X86 0
#endif

#if defined(__GNUC__)
#define CUDNN_RNN_INLINE inline __attribute__((always_inline))
#else
#define CUDNN_RNN_INLINE inline
#endif

// A gate loop reads and writes a dozen rows; proving them disjoint would take
// the vectoriser more run-time alias checks than it allows (10), so each loop
// is declared free of loop-carried dependences. That holds even where
// inference writes a gate in place of the product it was computed from:
// element j only ever touches index j.
#if defined(__clang__)
#define CUDNN_RNN_IVDEP _Pragma("clang loop vectorize(assume_safety)")
#elif defined(__GNUC__)
#define CUDNN_RNN_IVDEP _Pragma("GCC ivdep")
#else
#define CUDNN_RNN_IVDEP
#endif

// A kernel compiled three times from one body (a force-inlined template
// body<S>): name_plain, name_avx2 and name_avx512; CUDNN_RNN_ISA_CALL runs
// the widest copy this CPU may use.
#if CUDNN_RNN_X86
#define CUDNN_RNN_ISA_COPIES(name, body, params, args)                  \
  template <typename S>                                                \
  void name##_plain params { body<S> args; }                           \
  template <typename S>                                                \
  CUDNN_RNN_TARGET_AVX2 void name##_avx2 params { body<S> args; }      \
  template <typename S>                                                \
  CUDNN_RNN_TARGET_AVX512 void name##_avx512 params { body<S> args; }
#define CUDNN_RNN_ISA_CALL(name, args)                                              \
  do {                                                                              \
    const ::cudnn_rnn::cpu::Isa isa_ = ::cudnn_rnn::cpu::cpu_isa();                 \
    if (isa_ == ::cudnn_rnn::cpu::Isa::Avx512) return name##_avx512<S> args;        \
    if (isa_ == ::cudnn_rnn::cpu::Isa::Avx2) return name##_avx2<S> args;            \
    return name##_plain<S> args;                                                    \
  } while (0)
#else
#define CUDNN_RNN_ISA_COPIES(name, body, params, args) \
  template <typename S>                               \
  void name##_plain params { body<S> args; }
#define CUDNN_RNN_ISA_CALL(name, args) return name##_plain<S> args
#endif
