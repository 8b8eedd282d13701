// Owned device or host memory. One Storage backs any number of tensor views;
// lib/ reference-counts the views and frees the Storage when the last goes.
#pragma once
#include <cstddef>
#include <cstdint>

#include "device.h"
#include "status.h"

namespace cudnn_rnn {

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device;
};

// Allocates memory (64-byte aligned on the host), zero-filled when `zero`;
// callers pass zero=false only for outputs a kernel overwrites entirely.
Status storage_alloc(size_t nbytes, Device device, bool zero, Storage** out);
// Frees the Storage; large host blocks go back to a cache for reuse. Safe on nullptr.
void storage_free(Storage* storage);

// Live host bytes held by Storages, for memory() and the external-memory hint.
int64_t host_bytes_live();
// Host bytes held in the block cache (not live), and a way to release them.
int64_t host_bytes_cached();
void host_cache_release();

}  // namespace cudnn_rnn
