#include "rnn.h"

#include "../cpu/rnn.h"
#include "../cuda/rnn.h"

namespace cudnn_rnn {
namespace dispatch {
namespace rnn {

namespace {
bool on_gpu(Device d) { return d.type == DeviceType::Cuda; }
}  // namespace

Status weight_layout(Device device, const Config& cfg, std::vector<ParamSlot>* slots, int64_t* numel) {
  if (on_gpu(device)) return cuda::rnn::weight_layout(device.index, cfg, slots, numel);
  *slots = cpu::rnn::weight_layout(cfg);
  *numel = cpu::rnn::weight_numel(cfg);
  return Status::Ok();
}

Status reserve_numel(Device device, const Config& cfg, int64_t seq_len, int64_t batch, double dropout, int64_t* numel,
                     const int64_t* batch_sizes) {
  if (on_gpu(device)) return cuda::rnn::reserve_numel(device.index, cfg, seq_len, batch, dropout, numel, batch_sizes);
  // The CPU reserve keeps its padded size for packed input (rnn_contract.h).
  *numel = cpu::rnn::reserve_numel(cfg, seq_len, batch);
  return Status::Ok();
}

Status forward(Device device, const ForwardArgs& args) {
  return on_gpu(device) ? cuda::rnn::forward(device.index, args) : cpu::rnn::forward(args);
}

Status backward(Device device, const BackwardArgs& args) {
  return on_gpu(device) ? cuda::rnn::backward(device.index, args) : cpu::rnn::backward(args);
}

}  // namespace rnn
}  // namespace dispatch
}  // namespace cudnn_rnn
