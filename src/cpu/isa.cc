// cpu_isa(): CPUID once, then the CUDNN_RNN_CPU_ISA cap (isa.h).
#include "isa.h"

#include <cstdlib>
#include <cstring>

namespace cudnn_rnn {
namespace cpu {

Isa cpu_isa() {
  static const Isa chosen = [] {
    Isa best = Isa::Baseline;
#if defined(__GNUC__) && defined(__x86_64__)
    // __builtin_cpu_init makes the check valid even during static initialisation.
    __builtin_cpu_init();
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (avx2) best = __builtin_cpu_supports("avx512f") ? Isa::Avx512 : Isa::Avx2;
#endif
    if (const char* cap = std::getenv("CUDNN_RNN_CPU_ISA")) {
      if (std::strcmp(cap, "baseline") == 0) best = Isa::Baseline;
      else if (std::strcmp(cap, "avx2") == 0 && best == Isa::Avx512) best = Isa::Avx2;
    }
    return best;
  }();
  return chosen;
}

}  // namespace cpu
}  // namespace cudnn_rnn
