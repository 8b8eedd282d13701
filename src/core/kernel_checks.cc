#include "kernel_checks.h"

namespace cudnn_rnn {
namespace kernels {

Status check_view(const char* where, const char* name, const View& v) {
  if (dtype_size(v.dtype) == 0) {
    return invalid(std::string(where) + ": " + name + " has an unknown dtype code");
  }
  if (v.ndim < 0 || v.ndim > kMaxDims) {
    return invalid(std::string(where) + ": " + name + " has rank " + std::to_string(v.ndim) +
                   ", more than " + std::to_string(kMaxDims));
  }
  for (int i = 0; i < v.ndim; ++i) {
    if (v.shape[i] < 0) return invalid(std::string(where) + ": " + name + " has a negative size");
  }
  if (v.data == nullptr && v.numel() > 0) {
    return invalid(std::string(where) + ": " + name + " has no data");
  }
  return Status::Ok();
}

Status check_same_shape(const char* where, const char* name, const View& v, const View& like) {
  if (same_shape(v, like)) return Status::Ok();
  return invalid(std::string(where) + ": " + name + " does not have the expected shape");
}

Status unsupported_dtype(const char* where, DType t) {
  return invalid(std::string(where) + ": unsupported dtype " + dtype_name(t));
}

Status check_unary_views(const char* where, const View& in, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(check_view(where, "input", in));
  CUDNN_RNN_RETURN_IF_ERROR(check_view(where, "output", out));
  return check_same_shape(where, "output", out, in);
}

Status check_kept_shape(const char* where, const char* name, const View& v, const View& in) {
  if (v.ndim != in.ndim) return invalid(std::string(where) + ": " + name + " must have the input's rank");
  for (int d = 0; d < in.ndim; ++d) {
    if (v.shape[d] != in.shape[d] && v.shape[d] != 1) {
      return invalid(std::string(where) + ": " + name + " does not match the input's shape");
    }
  }
  return Status::Ok();
}

Status check_dim(const char* where, const View& v, int dim) {
  const bool ok = v.ndim == 0 ? dim == 0 : (dim >= 0 && dim < v.ndim);
  if (!ok) return invalid(std::string(where) + ": dim " + std::to_string(dim) + " is out of range");
  return Status::Ok();
}

Status check_binary_views(const char* where, const View& a, const View& b, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(check_view(where, "a", a));
  CUDNN_RNN_RETURN_IF_ERROR(check_view(where, "b", b));
  CUDNN_RNN_RETURN_IF_ERROR(check_view(where, "output", out));
  CUDNN_RNN_RETURN_IF_ERROR(check_same_shape(where, "a", a, out));
  CUDNN_RNN_RETURN_IF_ERROR(check_same_shape(where, "b", b, out));
  if (a.dtype != b.dtype) return invalid(std::string(where) + ": a and b have different dtypes");
  return Status::Ok();
}

Status check_softmax(const View& in, int dim, const View& out) {
  CUDNN_RNN_RETURN_IF_ERROR(check_view("softmax", "input", in));
  CUDNN_RNN_RETURN_IF_ERROR(check_view("softmax", "output", out));
  CUDNN_RNN_RETURN_IF_ERROR(check_same_shape("softmax", "output", out, in));
  CUDNN_RNN_RETURN_IF_ERROR(check_dim("softmax", in, dim));
  if (in.dtype != out.dtype) return invalid("softmax: input and output dtypes differ");
  return Status::Ok();
}

Status check_softmax_backward(const View& grad_out, const View& out, int dim, const View& grad_in) {
  CUDNN_RNN_RETURN_IF_ERROR(check_view("softmax_backward", "grad_out", grad_out));
  CUDNN_RNN_RETURN_IF_ERROR(check_view("softmax_backward", "out", out));
  CUDNN_RNN_RETURN_IF_ERROR(check_view("softmax_backward", "grad_in", grad_in));
  CUDNN_RNN_RETURN_IF_ERROR(check_same_shape("softmax_backward", "out", out, grad_out));
  CUDNN_RNN_RETURN_IF_ERROR(check_same_shape("softmax_backward", "grad_in", grad_in, grad_out));
  CUDNN_RNN_RETURN_IF_ERROR(check_dim("softmax_backward", grad_out, dim));
  if (out.dtype != grad_out.dtype || grad_in.dtype != grad_out.dtype) {
    return invalid("softmax_backward: dtypes differ");
  }
  return Status::Ok();
}

Status check_rows_args(const char* where, const View& table, const View& index, const View& other,
                       const char* other_name) {
  CUDNN_RNN_RETURN_IF_ERROR(check_view(where, "table", table));
  CUDNN_RNN_RETURN_IF_ERROR(check_view(where, "index", index));
  CUDNN_RNN_RETURN_IF_ERROR(check_view(where, other_name, other));
  if (table.ndim != 2 || index.ndim != 1 || other.ndim != 2) {
    return invalid(std::string(where) + ": expected a 2-d table, a 1-d index and 2-d rows");
  }
  if (index.dtype != DType::Int32) return invalid(std::string(where) + ": index must be int32");
  if (other.dtype != table.dtype) return invalid(std::string(where) + ": dtypes differ");
  if (other.shape[0] != index.shape[0] || other.shape[1] != table.shape[1]) {
    return invalid(std::string(where) + ": shapes do not match");
  }
  return Status::Ok();
}

Status check_max_dim(const View& in, int dim, const View& values, const View* indices, int64_t* len,
                     int64_t* step, bool* empty) {
  CUDNN_RNN_RETURN_IF_ERROR(check_view("max_dim", "input", in));
  CUDNN_RNN_RETURN_IF_ERROR(check_view("max_dim", "values", values));
  if (indices) CUDNN_RNN_RETURN_IF_ERROR(check_view("max_dim", "indices", *indices));
  // A 0-d input is a single run of length 1 along "dim 0".
  const bool scalar = in.ndim == 0;
  if (scalar ? dim != 0 : (dim < 0 || dim >= in.ndim)) {
    return invalid("max_dim: dim " + std::to_string(dim) + " is out of range");
  }
  CUDNN_RNN_RETURN_IF_ERROR(check_kept_shape("max_dim", "values", values, in));
  if (!scalar && values.shape[dim] != 1) return invalid("max_dim: values must have size 1 at dim");
  if (values.dtype != in.dtype) return invalid("max_dim: values must have the input's dtype");
  if (indices) {
    CUDNN_RNN_RETURN_IF_ERROR(check_same_shape("max_dim", "indices", *indices, values));
    if (indices->dtype != DType::Int32) return invalid("max_dim: indices must be int32");
  }
  *len = scalar ? 1 : in.shape[dim];
  *step = scalar ? 0 : in.strides[dim];
  *empty = values.numel() == 0;
  if (*empty) return Status::Ok();
  if (*len == 0) return invalid("max_dim: cannot take the max over an empty dim");
  if (*len > INT32_MAX) return invalid("max_dim: dim too long for int32 indices");
  return Status::Ok();
}

}  // namespace kernels
}  // namespace cudnn_rnn
