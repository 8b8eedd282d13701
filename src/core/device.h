// Where memory lives. The numeric values are part of the binding contract
// (lib/device.ts deviceTypeCode).
#pragma once
#include <cstdint>

namespace cudnn_rnn {

enum class DeviceType : int32_t { Cpu = 0, Cuda = 1 };

struct Device {
  DeviceType type = DeviceType::Cpu;
  int32_t index = 0;
};

inline bool same_device(const Device& a, const Device& b) { return a.type == b.type && a.index == b.index; }

}  // namespace cudnn_rnn
