// The CUDA implementation of the cell seam (core/cell_contract.h): the two
// products through cuBLAS (cuda::matmul, the same path as tensor matmul,
// so TF32 follows cuda.setAllowTF32 there too), the gate maths as one .cu
// kernel that adds the biases itself (like PyTorch's _thnn_fused_*_cell),
// and one kernel for the gate gradients; the bias gradients are column sums.
// All pointers are device pointers on `device`; work is queued on the
// device's stream and the calls return without waiting for it.
#pragma once
#include "../core/cell_contract.h"
#include "../core/status.h"

namespace cudnn_rnn {
namespace cuda {
namespace cell {

using ::cudnn_rnn::cell::BackwardArgs;
using ::cudnn_rnn::cell::ForwardArgs;

Status forward(int device, const ForwardArgs& args);
Status backward(int device, const BackwardArgs& args);

}  // namespace cell
}  // namespace cuda
}  // namespace cudnn_rnn
