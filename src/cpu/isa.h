// The widest x86 vector instruction set the CPU kernels may use. The addon
// is built for baseline x86-64; each hot kernel is compiled once per set
// (with the target attributes below) and picked at run time, so it never
// executes an instruction the CPU lacks. CUDNN_RNN_CPU_ISA=baseline|avx2
// caps the choice (tests, and a way out should a wide kernel misbehave on
// some CPU); it never raises it.
#pragma once

namespace cudnn_rnn {
namespace cpu {

enum class Isa { Baseline, Avx2, Avx512 };
Isa cpu_isa();

}  // namespace cpu
}  // namespace cudnn_rnn

#if defined(__GNUC__) && defined(__x86_64__)
#define CUDNN_RNN_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define CUDNN_RNN_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma")))
#endif
