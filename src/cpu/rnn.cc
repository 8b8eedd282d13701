// Entry points of the CPU RNN (rnn.h): refuse what the kernels cannot run,
// pick the dtype, and turn every C++ failure into a Status so nothing throws
// across the binding (DESIGN.md decision 7). lib/ has validated user input
// already; these checks only keep a lib/ bug from becoming a crash.
#include <new>
#include <string>

#include "rnn_internal.h"

namespace cudnn_rnn {
namespace cpu {
namespace rnn {

namespace {

Status invalid(const std::string& what) {
  return Status(StatusCode::InvalidArgument, "rnn (cpu): " + what);
}

Status check_common(const Config& cfg, int64_t seq_len, int64_t batch) {
  if (cfg.dtype != DType::Float32 && cfg.dtype != DType::Float64)
    return invalid(std::string("dtype must be float32 or float64, got ") + dtype_name(cfg.dtype));
  if (gate_count(cfg.mode) == 0) return invalid("unknown mode " + std::to_string(int(cfg.mode)));
  if (cfg.proj_size != 0 && cfg.mode != Mode::Lstm) return invalid("proj_size is only for LSTM");
  if (cfg.proj_size < 0 || (cfg.proj_size > 0 && cfg.proj_size >= cfg.hidden_size))
    return invalid("proj_size must be in [0, hidden_size), got " + std::to_string(cfg.proj_size));
  if (!detail::shape_sane(cfg, seq_len, batch))
    return invalid("bad shape: input_size " + std::to_string(cfg.input_size) + ", hidden_size " +
                   std::to_string(cfg.hidden_size) + ", num_layers " +
                   std::to_string(cfg.num_layers) + ", seq_len " + std::to_string(seq_len) +
                   ", batch " + std::to_string(batch));
  return Status::Ok();
}

// A buffer may be null only when it holds no elements.
bool present(const void* p, int64_t numel) { return p != nullptr || numel == 0; }

Status out_of_memory() {
  return Status(StatusCode::OutOfMemory, "rnn (cpu): out of memory for scratch buffers");
}

}  // namespace

Status forward(const ForwardArgs& args) {
  CUDNN_RNN_RETURN_IF_ERROR(check_common(args.cfg, args.seq_len, args.batch));
  const detail::Dims d = detail::make_dims(args.cfg, args.seq_len, args.batch);
  if (args.batch_sizes && !detail::batch_sizes_sane(args.batch_sizes, d.T, d.N))
    return invalid("batch_sizes must be non-increasing, start at batch and end >= 1");
  const int64_t tn = detail::StepRows(args.batch_sizes, d.T, d.N).total();
  if (!present(args.x, tn * d.I)) return invalid("x is null");
  if (!present(args.w, weight_numel(args.cfg))) return invalid("w is null");
  if (!present(args.y, tn * d.D * d.R)) return invalid("y is null");
  if (!(args.dropout >= 0.0 && args.dropout <= 1.0)) return invalid("dropout must be in [0, 1]");
  const bool lstm = args.cfg.mode == Mode::Lstm;
  if (!lstm && (args.cx || args.cy)) return invalid("cx/cy are only for LSTM");
  try {
    if (lstm) {
      if (args.cfg.dtype == DType::Float32) return detail::lstm_forward_impl<float>(args);
      return detail::lstm_forward_impl<double>(args);
    }
    if (args.cfg.dtype == DType::Float32) return detail::forward_impl<float>(args);
    return detail::forward_impl<double>(args);
  } catch (const std::bad_alloc&) {
    return out_of_memory();
  } catch (const std::exception& e) {
    return Status(StatusCode::Internal, std::string("rnn (cpu) forward: ") + e.what());
  } catch (...) {
    return Status(StatusCode::Internal, "rnn (cpu) forward: unknown failure");
  }
}

Status backward(const BackwardArgs& args) {
  CUDNN_RNN_RETURN_IF_ERROR(check_common(args.cfg, args.seq_len, args.batch));
  const detail::Dims d = detail::make_dims(args.cfg, args.seq_len, args.batch);
  if (args.batch_sizes && !detail::batch_sizes_sane(args.batch_sizes, d.T, d.N))
    return invalid("batch_sizes must be non-increasing, start at batch and end >= 1");
  const int64_t tn = detail::StepRows(args.batch_sizes, d.T, d.N).total();
  if (!args.reserve) return invalid("backward needs the reserve of a training-mode forward");
  if (!present(args.x, tn * d.I)) return invalid("x is null");
  if (!present(args.w, weight_numel(args.cfg))) return invalid("w is null");
  const bool lstm = args.cfg.mode == Mode::Lstm;
  if (!lstm && (args.cx || args.dcy || args.dcx)) return invalid("cx/dcy/dcx are only for LSTM");
  try {
    if (lstm) {
      if (args.cfg.dtype == DType::Float32) return detail::lstm_backward_impl<float>(args);
      return detail::lstm_backward_impl<double>(args);
    }
    if (args.cfg.dtype == DType::Float32) return detail::backward_impl<float>(args);
    return detail::backward_impl<double>(args);
  } catch (const std::bad_alloc&) {
    return out_of_memory();
  } catch (const std::exception& e) {
    return Status(StatusCode::Internal, std::string("rnn (cpu) backward: ") + e.what());
  } catch (...) {
    return Status(StatusCode::Internal, "rnn (cpu) backward: unknown failure");
  }
}

}  // namespace rnn
}  // namespace cpu
}  // namespace cudnn_rnn
