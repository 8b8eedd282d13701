#include "cell.h"

#include "../cpu/cell.h"
#include "../cuda/cell.h"

namespace cudnn_rnn {
namespace dispatch {
namespace cell {

Status forward(Device device, const ForwardArgs& args) {
  return device.type == DeviceType::Cuda ? cuda::cell::forward(device.index, args) : cpu::cell::forward(args);
}

Status backward(Device device, const BackwardArgs& args) {
  return device.type == DeviceType::Cuda ? cuda::cell::backward(device.index, args) : cpu::cell::backward(args);
}

}  // namespace cell
}  // namespace dispatch
}  // namespace cudnn_rnn
