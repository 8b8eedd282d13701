// The CPU backend's tensor kernels; the contract is core/kernel_contract.inc.
#pragma once
#include <cstdint>

#include "../core/op_codes.h"
#include "../core/status.h"
#include "../core/view.h"

namespace cudnn_rnn {
namespace cpu {

using ::cudnn_rnn::BinaryOp;
using ::cudnn_rnn::UnaryOp;

#include "../core/kernel_contract.inc"

}  // namespace cpu
}  // namespace cudnn_rnn
