// The CUDA backend's tensor kernels (.cu files in runtime/; matmul through
// cuBLAS). Same contract as the CPU's: core/kernel_contract.inc. Every view
// lives on the device its `device` field names; work is queued on that
// device's stream and these calls return without waiting for it.
#pragma once
#include <cstdint>

#include "../core/op_codes.h"
#include "../core/status.h"
#include "../core/view.h"

namespace cudnn_rnn {
namespace cuda {

#include "../core/kernel_contract.inc"

// Random fills are made by the host generator (bit-identical to the CPU
// backend and to torch's CPU generator) and copied in; see dispatch/.

}  // namespace cuda
}  // namespace cudnn_rnn
