#include "kernels.h"

#include <string>

#include "../cpu/kernels.h"
#include "../cuda/kernels.h"
#include "device_check.h"

namespace cudnn_rnn {
namespace dispatch {

// Runs `call(cpu-or-cuda)` for the device all `views` share.
#define CUDNN_RNN_ROUTE(fn, views, ...)                                         \
  do {                                                                          \
    Device device;                                                              \
    CUDNN_RNN_RETURN_IF_ERROR(common_device(#fn, views, &device));             \
    return device.type == DeviceType::Cuda ? cuda::fn(__VA_ARGS__) : cpu::fn(__VA_ARGS__); \
  } while (0)

Status unary(UnaryOp op, const View& in, const View& out) {
  CUDNN_RNN_ROUTE(unary, (ViewList{&in, &out}), op, in, out);
}
Status binary(BinaryOp op, const View& a, const View& b, const View& out) {
  CUDNN_RNN_ROUTE(binary, (ViewList{&a, &b, &out}), op, a, b, out);
}
Status binary_scalar(BinaryOp op, const View& a, double s, bool scalar_first, const View& out) {
  CUDNN_RNN_ROUTE(binary_scalar, (ViewList{&a, &out}), op, a, s, scalar_first, out);
}
Status axpy(const View& a, double alpha, const View& b, const View& out) {
  CUDNN_RNN_ROUTE(axpy, (ViewList{&a, &b, &out}), a, alpha, b, out);
}
Status copy(const View& src, const View& dst) {
  CUDNN_RNN_ROUTE(copy, (ViewList{&src, &dst}), src, dst);
}
Status fill(const View& dst, double value) {
  CUDNN_RNN_ROUTE(fill, (ViewList{&dst}), dst, value);
}
Status arange(const View& dst, double start, double step) {
  CUDNN_RNN_ROUTE(arange, (ViewList{&dst}), dst, start, step);
}
Status sum(const View& in, const View& out) {
  CUDNN_RNN_ROUTE(sum, (ViewList{&in, &out}), in, out);
}
Status max_dim(const View& in, int dim, const View& values, const View* indices) {
  const View* idx = indices != nullptr ? indices : &values;  // absent: nothing more to check
  CUDNN_RNN_ROUTE(max_dim, (ViewList{&in, &values, idx}), in, dim, values, indices);
}
Status softmax(const View& in, int dim, bool log, const View& out) {
  CUDNN_RNN_ROUTE(softmax, (ViewList{&in, &out}), in, dim, log, out);
}
Status softmax_backward(const View& grad_out, const View& out, int dim, bool log, const View& grad_in) {
  CUDNN_RNN_ROUTE(softmax_backward, (ViewList{&grad_out, &out, &grad_in}), grad_out, out, dim, log, grad_in);
}
Status matmul(const View& a, const View& b, const View& out) {
  CUDNN_RNN_ROUTE(matmul, (ViewList{&a, &b, &out}), a, b, out);
}
Status index_select_rows(const View& table, const View& index, const View& out) {
  CUDNN_RNN_ROUTE(index_select_rows, (ViewList{&table, &index, &out}), table, index, out);
}
Status index_add_rows(const View& grad, const View& index, const View& table_grad) {
  CUDNN_RNN_ROUTE(index_add_rows, (ViewList{&grad, &index, &table_grad}), grad, index, table_grad);
}

#undef CUDNN_RNN_ROUTE

}  // namespace dispatch
}  // namespace cudnn_rnn
