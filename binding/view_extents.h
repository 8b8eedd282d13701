// The views the current binding call has read, by data pointer: lets a
// validation function (rnn_buffer_checks.h) check a kernel's raw pointers
// against the shapes and storages they came from, without knowing the
// argument positions each binding uses.
#pragma once
#include "core/view.h"

namespace cudnn_rnn {
namespace binding {

// Called by ReadView for every view it returns (bounds already checked).
void NoteView(const View& view);
// The most recently read view starting at `data`, or nullptr. The newest
// entries are the current call's, so an older view at a reused address is
// never the one found for a pointer this call read.
const View* LatestViewAt(const void* data);

}  // namespace binding
}  // namespace cudnn_rnn
