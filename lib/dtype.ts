// Element types. The numeric codes are the native DType enum (src/core/dtype.h).
export type DType = 'float32' | 'float64' | 'int32';
export type FloatDType = 'float32' | 'float64';

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : Int32Array;

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

export const DTYPE_CODE: Record<DType, number> = { float32: 0, float64: 1, int32: 2 };

export const ITEM_SIZE: Record<DType, number> = { float32: 4, float64: 8, int32: 4 };

export function isDType(value: unknown): value is DType {
  return value === 'float32' || value === 'float64' || value === 'int32';
}

export function isFloatDType(dtype: DType): dtype is FloatDType {
  return dtype !== 'int32';
}

export function typedArrayCtor(dtype: DType): Float32ArrayConstructor | Float64ArrayConstructor | Int32ArrayConstructor {
  switch (dtype) {
    case 'float32': return Float32Array;
    case 'float64': return Float64Array;
    case 'int32': return Int32Array;
  }
}

/** PyTorch's type promotion restricted to our dtypes: float64 > float32 > int32. */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

/**
 * PyTorch's result_type for two tensors: a 0-d tensor only decides the dtype
 * when it is of a higher category (float over int) than the dimensioned one.
 */
export function resultType(a: DType, aNdim: number, b: DType, bNdim: number): DType {
  if ((aNdim === 0) === (bNdim === 0)) return promoteTypes(a, b);
  const [dim, zero] = aNdim === 0 ? [b, a] : [a, b];
  return isFloatDType(zero) && !isFloatDType(dim) ? zero : dim;
}

/** The dtype of `tensor op scalar`: a non-integer scalar lifts an int tensor to float32. */
export function promoteWithScalar(dtype: DType, scalar: number): DType {
  if (dtype === 'int32' && !Number.isInteger(scalar)) return 'float32';
  return dtype;
}

/** How PyTorch prints a dtype: torch.float32. */
export function torchDTypeName(dtype: DType): string {
  return `torch.${dtype}`;
}
