// Owned device or host memory. One Storage backs any number of tensor views;
// lib/ reference-counts the views and frees the Storage when the last goes.
#pragma once
#include <cstddef>
#include <cstdint>

#include "status.h"

namespace cudnn_rnn {

enum class DeviceType : int32_t { Cpu = 0, Cuda = 1 };

struct Device {
  DeviceType type = DeviceType::Cpu;
  int32_t index = 0;
};

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
};

// Allocates zero-initialised memory (64-byte aligned on the host).
Status storage_alloc(size_t nbytes, Device device, Storage** out);
// Frees the memory and the Storage itself. Safe on nullptr.
void storage_free(Storage* storage);

// Live host bytes held by Storages, for memory() and the external-memory hint.
int64_t host_bytes_live();

}  // namespace cudnn_rnn
