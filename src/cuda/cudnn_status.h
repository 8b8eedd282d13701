// cuDNN status names. cuDNN 8 numbers its statuses 0-14 and cuDNN 9 uses
// category*1000 + detail (shared/reference/cudnn-api.md §3.1), so the same
// number means different things: 3 is BAD_PARAM in 8 and unused in 9.
#pragma once
#include <string>

#include "cudnn_api.h"

namespace cudnn_rnn {
namespace cuda {

// "CUDNN_STATUS_BAD_PARAM" for (8, 3) and (9, 2000). A cuDNN 9 code this
// table does not know is named by its category ("CUDNN_STATUS_NOT_SUPPORTED
// (detail 99)"), since minor 9.x releases add codes; anything else is
// "CUDNN_STATUS_UNKNOWN". Majors other than 8 and 9 use 9's numbering when
// >= 9, 8's otherwise.
std::string cudnn_status_name(int major, int code);

// For error messages: "CUDNN_STATUS_BAD_PARAM (2000): <the library's own
// text>", the text from cudnnGetErrorString when `get_error_string` is given.
std::string cudnn_status_message(int major, int code, cudnn::GetErrorStringFn get_error_string);

}  // namespace cuda
}  // namespace cudnn_rnn
