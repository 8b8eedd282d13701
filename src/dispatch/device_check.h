// One check every routed call makes: all of its views live on one device.
// lib/ refuses mixed devices with PyTorch's message first; this keeps a slip
// there from handing host memory to a GPU kernel (or the reverse).
#pragma once
#include <initializer_list>
#include <string>

#include "../core/status.h"
#include "../core/view.h"

namespace cudnn_rnn {
namespace dispatch {

// No heap: this runs on every kernel call.
using ViewList = std::initializer_list<const View*>;

inline std::string device_text(const Device& d) {
  return d.type == DeviceType::Cpu ? "cpu" : "cuda:" + std::to_string(d.index);
}

inline Status common_device(const char* what, const ViewList& views, Device* out) {
  *out = views.size() == 0 ? Device() : (*views.begin())->device;
  for (const View* v : views) {
    if (!same_device(v->device, *out)) {
      return Status(StatusCode::InvalidArgument, std::string(what) + ": views on two devices, " +
                                                     device_text(*out) + " and " + device_text(v->device));
    }
  }
  return Status::Ok();
}

}  // namespace dispatch
}  // namespace cudnn_rnn
