// Every tensor op, for the Tensor methods and the public functional API.
export * from './pointwise';
export * from './reduce';
export * from './shape';
export * from './matmul';
export * from './convert';
export * from './inplace';
export { normalizeDim, broadcastShapes, broadcastView, sumToShape, castIfNeeded } from './util';
