// The cell seam: one step of nn.RNNCell / GRUCell / LSTMCell, forward and
// backward each one native call on the backend that holds the tensors
// (dispatch/cell.h). lib/ops/cell.ts has checked everything; each view is
// still checked here for dtype, device, contiguity and size, so that a slip
// there cannot make a kernel read or write outside a tensor.
#include <string>

#include "convert.h"
#include "dispatch/cell.h"
#include "registry.h"

namespace cudnn_rnn {
namespace binding {

namespace {

namespace cell = dispatch::cell;

// config: [mode, dtype, inputSize, hiddenSize, bias]
cell::Config ReadConfig(const Napi::Value& value) {
  if (!value.IsArray()) throw Napi::TypeError::New(value.Env(), "cudnn-rnn native: expected a cell config array");
  Napi::Array a = value.As<Napi::Array>();
  cell::Config cfg;
  cfg.mode = static_cast<cell::Mode>(ToInt64(a.Get(0u)));
  cfg.dtype = static_cast<DType>(ToInt64(a.Get(1u)));
  cfg.input_size = ToInt64(a.Get(2u));
  cfg.hidden_size = ToInt64(a.Get(3u));
  cfg.bias = a.Get(4u).ToBoolean();
  return cfg;
}

// Reads the views of one call in order, checking each against what the
// kernel will assume about it.
class Reader {
 public:
  Reader(const Napi::CallbackInfo& info, const cell::Config& cfg, size_t first) : info_(info), cfg_(cfg), at_(first) {}

  // The first view fixes the call's device.
  const void* First(const char* name, int64_t numel) {
    View v = ReadView(info_, at_);
    device_ = v.device;
    Expect(v, name, numel);
    at_ += kViewArgs;
    return v.data;
  }
  // A view (null allowed when `optional`) that must hold `numel` elements.
  void* Next(const char* name, int64_t numel, bool optional) {
    View v;
    bool has = true;
    if (optional) has = ReadOptionalView(info_, at_, &v);
    else v = ReadView(info_, at_);
    at_ += kViewArgs;
    if (!has) return nullptr;
    Expect(v, name, numel);
    return v.data;
  }
  Device device() const { return device_; }

 private:
  void Expect(const View& v, const char* name, int64_t numel) {
    std::string bad;
    if (v.dtype != cfg_.dtype) bad = "has the wrong dtype";
    else if (!same_device(v.device, device_)) bad = "is on another device";
    else if (v.numel() > 0 && !v.is_contiguous()) bad = "is not contiguous";  // empty: nothing is read
    else if (v.numel() != numel) bad = "has " + std::to_string(v.numel()) + " elements, expected " + std::to_string(numel);
    if (!bad.empty()) {
      ThrowStatus(info_.Env(), Status(StatusCode::InvalidArgument, std::string("cudnn-rnn native: cell ") + name + " " + bad));
    }
  }
  const Napi::CallbackInfo& info_;
  const cell::Config& cfg_;
  size_t at_;
  Device device_;
};

int64_t Gates(const cell::Config& cfg) { return cell::gate_count(cfg.mode) * cfg.hidden_size; }

void CheckConfig(Napi::Env env, const cell::Config& cfg, int64_t batch) {
  if (cell::gate_count(cfg.mode) == 0 || (cfg.dtype != DType::Float32 && cfg.dtype != DType::Float64) || batch < 0 ||
      cfg.input_size < 0 || cfg.hidden_size < 0) {
    ThrowStatus(env, Status(StatusCode::InvalidArgument, "cudnn-rnn native: bad cell config"));
  }
}

// cellForward(cfg, batch, x..., hx...|null, cx...|null, wIh..., wHh..., bIh...|null, bHh...|null,
//             hy..., cy...|null, save...|null)
Napi::Value Forward(const Napi::CallbackInfo& info) {
  cell::ForwardArgs args;
  args.cfg = ReadConfig(info[0]);
  args.batch = ToInt64(info[1]);
  CheckConfig(info.Env(), args.cfg, args.batch);
  const int64_t N = args.batch, I = args.cfg.input_size, H = args.cfg.hidden_size, GH = Gates(args.cfg);
  const bool lstm = args.cfg.mode == cell::Mode::Lstm;
  Reader r(info, args.cfg, 2);
  args.x = r.First("x", N * I);
  args.hx = r.Next("hx", N * H, true);
  args.cx = r.Next("cx", N * H, true);
  args.w_ih = r.Next("weight_ih", GH * I, false);
  args.w_hh = r.Next("weight_hh", GH * H, false);
  args.b_ih = r.Next("bias_ih", GH, !args.cfg.bias);
  args.b_hh = r.Next("bias_hh", GH, !args.cfg.bias);
  args.hy = r.Next("hy", N * H, false);
  args.cy = r.Next("cy", N * H, !lstm);
  args.save = r.Next("save", N * cell::save_width(args.cfg.mode, H), true);
  Check(info.Env(), cell::forward(r.device(), args));
  return info.Env().Undefined();
}

// cellBackward(cfg, batch, x..., hx...|null, cx...|null, wIh..., wHh..., save..., dhy...|null,
//              dcy...|null, dx...|null, dhx...|null, dcx...|null, dwIh...|null, dwHh...|null,
//              dbIh...|null, dbHh...|null)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  cell::BackwardArgs args;
  args.cfg = ReadConfig(info[0]);
  args.batch = ToInt64(info[1]);
  CheckConfig(info.Env(), args.cfg, args.batch);
  const int64_t N = args.batch, I = args.cfg.input_size, H = args.cfg.hidden_size, GH = Gates(args.cfg);
  Reader r(info, args.cfg, 2);
  args.x = r.First("x", N * I);
  args.hx = r.Next("hx", N * H, true);
  args.cx = r.Next("cx", N * H, true);
  args.w_ih = r.Next("weight_ih", GH * I, false);
  args.w_hh = r.Next("weight_hh", GH * H, false);
  args.save = r.Next("save", N * cell::save_width(args.cfg.mode, H), false);
  args.dhy = r.Next("grad of hy", N * H, true);
  args.dcy = r.Next("grad of cy", N * H, true);
  args.dx = r.Next("grad of x", N * I, true);
  args.dhx = r.Next("grad of hx", N * H, true);
  args.dcx = r.Next("grad of cx", N * H, true);
  args.dw_ih = r.Next("grad of weight_ih", GH * I, true);
  args.dw_hh = r.Next("grad of weight_hh", GH * H, true);
  args.db_ih = r.Next("grad of bias_ih", GH, true);
  args.db_hh = r.Next("grad of bias_hh", GH, true);
  Check(info.Env(), cell::backward(r.device(), args));
  return info.Env().Undefined();
}

}  // namespace

void RegisterCell(Napi::Env env, Napi::Object exports) {
  exports.Set("cellForward", Napi::Function::New(env, Forward, "cellForward"));
  exports.Set("cellBackward", Napi::Function::New(env, Backward, "cellBackward"));
}

}  // namespace binding
}  // namespace cudnn_rnn
