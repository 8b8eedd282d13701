// The tensor kernels as binding/ calls them: each call goes to the backend
// that owns its views' memory (View::device), after checking that they all
// live on one device. Same contract as every backend: core/kernel_contract.inc.
#pragma once
#include "../core/op_codes.h"
#include "../core/status.h"
#include "../core/view.h"

namespace cudnn_rnn {
namespace dispatch {

#include "../core/kernel_contract.inc"

}  // namespace dispatch
}  // namespace cudnn_rnn
