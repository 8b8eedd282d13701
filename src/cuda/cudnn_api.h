// The cuDNN functions we call, declared here (DESIGN.md 1: the cuDNN headers
// are not on the build machines). Prototypes and values from
// shared/reference/cudnn-api.md §1.1, §2 and §3, identical in cuDNN 8 and 9:
// the library basics (version, errors, handle) and the v8 RNN API that the
// cuDNN backend (runtime/cudnn_rnn*.cc) uses: tensor, dropout, RNN and RNN
// data descriptors, weight/temp space queries, cudnnRNNForward,
// cudnnRNNBackwardData_v8 and cudnnRNNBackwardWeights_v8.
// Mind the argument orders: the RNN calls take each buffer's size *before*
// its pointer, and sizes are int, int32_t or size_t exactly as declared.
#pragma once
#include <cstddef>
#include <cstdint>

namespace cudnn_rnn {
namespace cuda {
namespace cudnn {

// cudnnStatus_t: an enum whose values differ between cuDNN 8 and 9; see
// cudnn_status.h for the names.
using Status = int;
constexpr Status kSuccess = 0;  // the one value both majors share

struct Context;           // opaque, cudnnContext
using Handle = Context*;  // cudnnHandle_t

// Opaque descriptor types (reference §2): pointers to incomplete structs.
struct TensorStruct;
using TensorDescriptor = TensorStruct*;  // cudnnTensorDescriptor_t
struct DropoutStruct;
using DropoutDescriptor = DropoutStruct*;  // cudnnDropoutDescriptor_t
struct RNNStruct;
using RNNDescriptor = RNNStruct*;  // cudnnRNNDescriptor_t
struct RNNDataStruct;
using RNNDataDescriptor = RNNDataStruct*;  // cudnnRNNDataDescriptor_t

// libraryPropertyType (library_types.h), argument of cudnnGetProperty.
constexpr int kMajorVersion = 0;
constexpr int kMinorVersion = 1;
constexpr int kPatchLevel = 2;

// The enums (reference §3.2, §3.3). C enums are int-sized in the ABI; only
// the members we use are named.
using DataType = int;  // cudnnDataType_t
constexpr DataType kDataFloat = 0;
constexpr DataType kDataDouble = 1;

using MathType = int;  // cudnnMathType_t
constexpr MathType kDefaultMath = 0;  // TF32 permitted on Ampere+
constexpr MathType kFmaMath = 3;      // FMA kernels only: strict FP32

using RNNMode = int;  // cudnnRNNMode_t (same values as rnn::Mode)
constexpr RNNMode kRnnRelu = 0;
constexpr RNNMode kRnnTanh = 1;
constexpr RNNMode kLstm = 2;
constexpr RNNMode kGru = 3;

using RNNBiasMode = int;  // cudnnRNNBiasMode_t
constexpr RNNBiasMode kRnnNoBias = 0;
constexpr RNNBiasMode kRnnDoubleBias = 2;

using DirectionMode = int;  // cudnnDirectionMode_t
constexpr DirectionMode kUnidirectional = 0;
constexpr DirectionMode kBidirectional = 1;

using RNNInputMode = int;  // cudnnRNNInputMode_t
constexpr RNNInputMode kLinearInput = 0;

using RNNAlgo = int;  // cudnnRNNAlgo_t
constexpr RNNAlgo kRnnAlgoStandard = 0;

using ForwardMode = int;  // cudnnForwardMode_t
constexpr ForwardMode kFwdModeInference = 0;
constexpr ForwardMode kFwdModeTraining = 1;

using RNNDataLayout = int;  // cudnnRNNDataLayout_t
constexpr RNNDataLayout kSeqMajorUnpacked = 0;
constexpr RNNDataLayout kSeqMajorPacked = 1;

using WgradMode = int;  // cudnnWgradMode_t
constexpr WgradMode kWgradModeAdd = 0;

// auxFlags of cudnnSetRNNDescriptor_v8 (macros in the real header).
constexpr uint32_t kRnnPaddedIoDisabled = 0;
constexpr uint32_t kRnnPaddedIoEnabled = 1;  // (1U << 0)

extern "C" {
typedef size_t (*GetVersionFn)(void);         // 8: M*1000+m*100+p; 9: M*10000+m*100+p
typedef size_t (*GetCudartVersionFn)(void);   // CUDA runtime it was built with, 12080 = 12.8
typedef const char* (*GetErrorStringFn)(Status status);
typedef Status (*GetPropertyFn)(int type, int* value);
typedef Status (*CreateFn)(Handle* handle);
typedef Status (*DestroyFn)(Handle handle);
typedef Status (*SetStreamFn)(Handle handle, void* stream);  // cudaStream_t

// Tensor descriptors (reference §2 #6-#9).
typedef Status (*CreateTensorDescriptorFn)(TensorDescriptor* tensorDesc);
typedef Status (*SetTensorNdDescriptorFn)(TensorDescriptor tensorDesc, DataType dataType, int nbDims,
                                          const int dimA[], const int strideA[]);
typedef Status (*GetTensorNdDescriptorFn)(const TensorDescriptor tensorDesc, int nbDimsRequested,
                                          DataType* dataType, int* nbDims, int dimA[], int strideA[]);
typedef Status (*DestroyTensorDescriptorFn)(TensorDescriptor tensorDesc);

// Dropout (reference §2 #10-#14). `dropout` is a float, `seed` an unsigned long long.
typedef Status (*CreateDropoutDescriptorFn)(DropoutDescriptor* dropoutDesc);
typedef Status (*DestroyDropoutDescriptorFn)(DropoutDescriptor dropoutDesc);
typedef Status (*DropoutGetStatesSizeFn)(Handle handle, size_t* sizeInBytes);
typedef Status (*SetDropoutDescriptorFn)(DropoutDescriptor dropoutDesc, Handle handle, float dropout, void* states,
                                         size_t stateSizeInBytes, unsigned long long seed);
typedef Status (*RestoreDropoutDescriptorFn)(DropoutDescriptor dropoutDesc, Handle handle, float dropout,
                                             void* states, size_t stateSizeInBytes, unsigned long long seed);

// RNN descriptor (reference §2 #15-#17): 15 parameters for _v8.
typedef Status (*CreateRNNDescriptorFn)(RNNDescriptor* rnnDesc);
typedef Status (*DestroyRNNDescriptorFn)(RNNDescriptor rnnDesc);
typedef Status (*SetRNNDescriptor_v8Fn)(RNNDescriptor rnnDesc, RNNAlgo algo, RNNMode cellMode,
                                        RNNBiasMode biasMode, DirectionMode dirMode, RNNInputMode inputMode,
                                        DataType dataType, DataType mathPrec, MathType mathType, int32_t inputSize,
                                        int32_t hiddenSize, int32_t projSize, int32_t numLayers,
                                        DropoutDescriptor dropoutDesc, uint32_t auxFlags);

// RNN data descriptor (reference §2 #18-#20): seqLengthArray and paddingFill are host pointers.
typedef Status (*CreateRNNDataDescriptorFn)(RNNDataDescriptor* rnnDataDesc);
typedef Status (*DestroyRNNDataDescriptorFn)(RNNDataDescriptor rnnDataDesc);
typedef Status (*SetRNNDataDescriptorFn)(RNNDataDescriptor rnnDataDesc, DataType dataType, RNNDataLayout layout,
                                         int maxSeqLength, int batchSize, int vectorSize,
                                         const int seqLengthArray[], void* paddingFill);

// Sizes and parameter locations (reference §2 #21-#23).
typedef Status (*GetRNNWeightSpaceSizeFn)(Handle handle, RNNDescriptor rnnDesc, size_t* weightSpaceSize);
typedef Status (*GetRNNTempSpaceSizesFn)(Handle handle, RNNDescriptor rnnDesc, ForwardMode fwdMode,
                                         RNNDataDescriptor xDesc, size_t* workSpaceSize, size_t* reserveSpaceSize);
typedef Status (*GetRNNWeightParamsFn)(Handle handle, RNNDescriptor rnnDesc, int32_t pseudoLayer,
                                       size_t weightSpaceSize, const void* weightSpace, int32_t linLayerID,
                                       TensorDescriptor mDesc, void** mAddr, TensorDescriptor bDesc, void** bAddr);

// Compute (reference §2 #24-#26): 20, 22 and 16 parameters.
typedef Status (*RNNForwardFn)(Handle handle, RNNDescriptor rnnDesc, ForwardMode fwdMode,
                               const int32_t devSeqLengths[], RNNDataDescriptor xDesc, const void* x,
                               RNNDataDescriptor yDesc, void* y, TensorDescriptor hDesc, const void* hx, void* hy,
                               TensorDescriptor cDesc, const void* cx, void* cy, size_t weightSpaceSize,
                               const void* weightSpace, size_t workSpaceSize, void* workSpace,
                               size_t reserveSpaceSize, void* reserveSpace);
typedef Status (*RNNBackwardData_v8Fn)(Handle handle, RNNDescriptor rnnDesc, const int32_t devSeqLengths[],
                                       RNNDataDescriptor yDesc, const void* y, const void* dy,
                                       RNNDataDescriptor xDesc, void* dx, TensorDescriptor hDesc, const void* hx,
                                       const void* dhy, void* dhx, TensorDescriptor cDesc, const void* cx,
                                       const void* dcy, void* dcx, size_t weightSpaceSize, const void* weightSpace,
                                       size_t workSpaceSize, void* workSpace, size_t reserveSpaceSize,
                                       void* reserveSpace);
typedef Status (*RNNBackwardWeights_v8Fn)(Handle handle, RNNDescriptor rnnDesc, WgradMode addGrad,
                                          const int32_t devSeqLengths[], RNNDataDescriptor xDesc, const void* x,
                                          TensorDescriptor hDesc, const void* hx, RNNDataDescriptor yDesc,
                                          const void* y, size_t weightSpaceSize, void* dweightSpace,
                                          size_t workSpaceSize, void* workSpace, size_t reserveSpaceSize,
                                          void* reserveSpace);
}

struct Api {
  GetVersionFn cudnnGetVersion = nullptr;
  GetErrorStringFn cudnnGetErrorString = nullptr;
  GetPropertyFn cudnnGetProperty = nullptr;
  GetCudartVersionFn cudnnGetCudartVersion = nullptr;  // optional
  // Bound when present (discovery accepts a library on the four above); the
  // backend reports any it lacks when it first needs a handle.
  CreateFn cudnnCreate = nullptr;
  DestroyFn cudnnDestroy = nullptr;
  SetStreamFn cudnnSetStream = nullptr;
  // The RNN API, also bound when present: the backend names the missing ones
  // (runtime/cudnn_rnn_common.cc) when an RNN call first needs them.
  CreateTensorDescriptorFn cudnnCreateTensorDescriptor = nullptr;
  SetTensorNdDescriptorFn cudnnSetTensorNdDescriptor = nullptr;
  GetTensorNdDescriptorFn cudnnGetTensorNdDescriptor = nullptr;
  DestroyTensorDescriptorFn cudnnDestroyTensorDescriptor = nullptr;
  CreateDropoutDescriptorFn cudnnCreateDropoutDescriptor = nullptr;
  DestroyDropoutDescriptorFn cudnnDestroyDropoutDescriptor = nullptr;
  DropoutGetStatesSizeFn cudnnDropoutGetStatesSize = nullptr;
  SetDropoutDescriptorFn cudnnSetDropoutDescriptor = nullptr;
  RestoreDropoutDescriptorFn cudnnRestoreDropoutDescriptor = nullptr;
  CreateRNNDescriptorFn cudnnCreateRNNDescriptor = nullptr;
  DestroyRNNDescriptorFn cudnnDestroyRNNDescriptor = nullptr;
  SetRNNDescriptor_v8Fn cudnnSetRNNDescriptor_v8 = nullptr;
  CreateRNNDataDescriptorFn cudnnCreateRNNDataDescriptor = nullptr;
  DestroyRNNDataDescriptorFn cudnnDestroyRNNDataDescriptor = nullptr;
  SetRNNDataDescriptorFn cudnnSetRNNDataDescriptor = nullptr;
  GetRNNWeightSpaceSizeFn cudnnGetRNNWeightSpaceSize = nullptr;
  GetRNNTempSpaceSizesFn cudnnGetRNNTempSpaceSizes = nullptr;
  GetRNNWeightParamsFn cudnnGetRNNWeightParams = nullptr;
  RNNForwardFn cudnnRNNForward = nullptr;
  RNNBackwardData_v8Fn cudnnRNNBackwardData_v8 = nullptr;
  RNNBackwardWeights_v8Fn cudnnRNNBackwardWeights_v8 = nullptr;
};

}  // namespace cudnn
}  // namespace cuda
}  // namespace cudnn_rnn
