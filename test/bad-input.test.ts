// Wrong calls: every one must throw a TypeError / RangeError / coded Error whose message
// names the offending argument (DESIGN.md decision 7), never crash the process or leak.
//
// Under jest, errors created in another realm (native code) can fail `instanceof`, so rows
// assert on `.name`, `.code` and the message.
import * as cr from '../lib';
import type { Tensor } from '../lib';

interface Row {
  call: string;
  fn: () => unknown;
  name: 'TypeError' | 'RangeError' | 'Error';
  /** Every pattern must occur in the message. */
  message: Array<string | RegExp>;
  code?: string;
}

const r = (call: string, fn: () => unknown, name: Row['name'], message: Array<string | RegExp> | string | RegExp, code?: string): Row => ({
  call, fn, name, message: Array.isArray(message) ? message : [message], code,
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const any = (v: unknown): any => v;

let a: Tensor; // (2, 3) float32
let b: Tensor; // (3, 4) float32
let c: Tensor; // (2, 4) float32
let v3: Tensor; // (3,)
let v4: Tensor; // (4,)
let i32: Tensor; // (2, 3) int32
let b3: Tensor; // (2, 3, 4)
let b4: Tensor; // (3, 4, 5)
let gone: Tensor; // disposed
let leaf: Tensor; // requires grad
let scratch: Tensor; // target of in-place rows that might (wrongly) succeed
let scratchInt: Tensor;
let baseline = 0;

beforeAll(() => {
  baseline = cr.memory().numTensors;
  a = cr.tensor([[1, 2, 3], [4, 5, 6]]);
  b = cr.ones([3, 4]);
  c = cr.ones([2, 4]);
  v3 = cr.ones([3]);
  v4 = cr.ones([4]);
  i32 = cr.tensor(Int32Array.from([1, 2, 3, 4, 5, 6]), { shape: [2, 3] });
  b3 = cr.ones([2, 3, 4]);
  b4 = cr.ones([3, 4, 5]);
  gone = cr.ones([2, 3]);
  gone.dispose();
  leaf = cr.ones([2], { requiresGrad: true });
  scratch = cr.ones([2]);
  scratchInt = cr.ones([2], { dtype: 'int32' });
});

const ROWS: Row[] = [
  // ---- creation: shapes
  r('zeros([NaN])', () => cr.zeros([NaN]), 'TypeError', ['zeros', 'shape', 'NaN']),
  r('zeros(NaN)', () => cr.zeros(NaN), 'TypeError', ['shape', 'NaN']),
  r('zeros([2, -3])', () => cr.zeros([2, -3]), 'RangeError', ['shape', '-3']),
  r('ones([-1])', () => cr.ones([-1]), 'RangeError', ['shape']),
  r('zeros([1.5])', () => cr.zeros([1.5]), 'TypeError', ['shape', '1.5']),
  r('zeros([Infinity])', () => cr.zeros([Infinity]), 'TypeError', ['shape']),
  r("zeros(['2'])", () => cr.zeros(any(['2'])), 'TypeError', ['shape', '2']),
  r("zeros('3')", () => cr.zeros(any('3')), 'TypeError', ['shape']),
  r('zeros(undefined)', () => cr.zeros(any(undefined)), 'TypeError', ['shape', 'undefined']),
  r('zeros(null)', () => cr.zeros(any(null)), 'TypeError', ['shape', 'null']),
  r('zeros({})', () => cr.zeros(any({})), 'TypeError', ['shape']),
  r('zeros([2n])', () => cr.zeros(any([2n])), 'TypeError', ['shape', '2n']),
  r('zeros(2n)', () => cr.zeros(any(2n)), 'TypeError', ['shape']),
  r('zeros(17 dims)', () => cr.zeros(new Array(17).fill(1)), 'RangeError', ['shape']),
  r('zeros(huge)', () => cr.zeros([2 ** 40, 2 ** 20]), 'RangeError', ['shape']),
  r('rand([-1])', () => cr.rand([-1]), 'RangeError', ['rand', 'shape']),
  r('randn([2.5])', () => cr.randn([2.5]), 'TypeError', ['randn', 'shape']),
  // ---- creation: options
  r('zeros([2], {batch_first: true})', () => cr.zeros([2], any({ batch_first: true })), 'TypeError', ['zeros', 'batch_first']),
  r('ones([2], {requires_grad: true})', () => cr.ones([2], any({ requires_grad: true })), 'TypeError', ['requires_grad', 'requiresGrad']),
  r('tensor([1], {batchFirst: true})', () => cr.tensor([1], any({ batchFirst: true })), 'TypeError', ['tensor', 'batchFirst']),
  r('arange(3, {batch_first: true})', () => cr.arange(3, any({ batch_first: true })), 'TypeError', ['arange', 'batch_first']),
  r('rand([2], {seed: 1})', () => cr.rand([2], any({ seed: 1 })), 'TypeError', ['rand', 'seed']),
  r('full([2], 1, {dtyp: ...})', () => cr.full([2], 1, any({ dtyp: 'float64' })), 'TypeError', ['full', 'dtyp']),
  r("zeros([2], {dtype: 'int64'})", () => cr.zeros([2], any({ dtype: 'int64' })), 'TypeError', ['options.dtype', 'int64']),
  r("zeros([2], {dtype: 'float16'})", () => cr.zeros([2], any({ dtype: 'float16' })), 'TypeError', ['options.dtype']),
  r("zeros([2], {requiresGrad: 'yes'})", () => cr.zeros([2], any({ requiresGrad: 'yes' })), 'TypeError', ['options.requiresGrad']),
  r("zeros([2], {device: 'tpu'})", () => cr.zeros([2], any({ device: 'tpu' })), 'TypeError', ['device', 'tpu']),
  r("zeros([2], 'float64')", () => cr.zeros([2], any('float64')), 'TypeError', ['options']),
  r('zeros([2], null)', () => cr.zeros([2], any(null)), 'TypeError', ['options']),
  r("full([2], '1')", () => cr.full([2], any('1')), 'TypeError', ['full', 'value']),
  r('full([2], undefined)', () => cr.full([2], any(undefined)), 'TypeError', ['value']),
  r("rand([2], {dtype: 'int32'})", () => cr.rand([2], { dtype: 'int32' }), 'TypeError', ['rand', 'int32']),
  r('zerosLike(array)', () => cr.zerosLike(any([1, 2])), 'TypeError', ['zerosLike', 'input']),
  r('onesLike(a, 5)', () => cr.onesLike(a, any(5)), 'TypeError', ['options']),
  // ---- creation: data
  r("tensor('abc')", () => cr.tensor(any('abc')), 'TypeError', ['tensor', 'data']),
  r("tensor([1, 'a'])", () => cr.tensor(any([1, 'a'])), 'TypeError', ['data[1]']),
  r('tensor([1, null])', () => cr.tensor(any([1, null])), 'TypeError', ['data[1]', 'null']),
  r('tensor([[1], [undefined]])', () => cr.tensor(any([[1], [undefined]])), 'TypeError', ['data[1][0]', 'undefined']),
  r('tensor([1n])', () => cr.tensor(any([1n])), 'TypeError', ['data[0]', '1n']),
  r('tensor(undefined)', () => cr.tensor(any(undefined)), 'TypeError', ['data', 'undefined']),
  r('tensor({})', () => cr.tensor(any({})), 'TypeError', ['data']),
  r('tensor([[1, 2], [3]])', () => cr.tensor([[1, 2], [3]]), 'RangeError', ['ragged', 'data[1]']),
  // torch: "value cannot be converted to type int32 without overflow"
  r("tensor([3e9], {dtype: 'int32'})", () => cr.tensor([3e9], { dtype: 'int32' }), 'RangeError', ['tensor', 'int32']),
  r('tensor([1, 2], {shape: [3]})', () => cr.tensor([1, 2], { shape: [3] }), 'RangeError', ['shape', '[3]']),
  r('tensor(Float32Array(4), {shape: [2, -2]})', () => cr.tensor(new Float32Array(4), { shape: [2, -2] }), 'RangeError', ['options.shape']),
  r("tensor([1], {shape: 'x'})", () => cr.tensor([1], any({ shape: 'x' })), 'TypeError', ['options.shape']),
  r('tensor(disposed)', () => cr.tensor(gone), 'Error', ['tensor', 'data', 'disposed'], 'ERR_CUDNN_RNN_DISPOSED'),
  // ---- arange / manualSeed
  r('arange(NaN)', () => cr.arange(NaN), 'TypeError', ['arange', 'end', 'NaN']),
  r("arange('5')", () => cr.arange(any('5')), 'TypeError', ['arange', 'end']),
  r('arange(5n)', () => cr.arange(any(5n)), 'TypeError', ['arange']),
  r('arange(0, 5, 0)', () => cr.arange(0, 5, 0), 'RangeError', ['step']),
  r('arange(0, 5, NaN)', () => cr.arange(0, 5, NaN), 'TypeError', ['step']),
  r('arange(1, 2, 3, 4)', () => cr.arange(any(1), 2, 3, any(4)), 'TypeError', ['arange']),
  r('arange(5, 0)', () => cr.arange(5, 0), 'RangeError', ['bound']),
  r('manualSeed(1.5)', () => cr.manualSeed(1.5), 'TypeError', ['seed', '1.5']),
  r('manualSeed(NaN)', () => cr.manualSeed(NaN), 'TypeError', ['seed']),
  r("manualSeed('1')", () => cr.manualSeed(any('1')), 'TypeError', ['seed']),
  r('manualSeed(2n**64n)', () => cr.manualSeed(2n ** 64n), 'RangeError', ['seed']),
  // ---- pointwise
  r("add(a, '1')", () => cr.add(a, any('1')), 'TypeError', ['add', 'other', '"1"']),
  r('add(a, null)', () => cr.add(a, any(null)), 'TypeError', ['other', 'null']),
  r('add(a, undefined)', () => cr.add(a, any(undefined)), 'TypeError', ['other', 'undefined']),
  r('add(a, {})', () => cr.add(a, any({})), 'TypeError', ['other']),
  r('add(a, 1n)', () => cr.add(a, any(1n)), 'TypeError', ['other', '1n']),
  r("add('x', a)", () => cr.add(any('x'), a), 'TypeError', ['add', 'input']),
  r('add(a, b) shapes', () => cr.add(a, b), 'RangeError', ['[2, 3]', '[3, 4]']),
  r('sub(b, c) shapes', () => cr.sub(b, c), 'RangeError', ['[3, 4]', '[2, 4]']),
  r('mul(b3, c) shapes', () => cr.mul(b3, c), 'RangeError', ['[2, 3, 4]', '[2, 4]']),
  r('div(a, v4) shapes', () => cr.div(a, v4), 'RangeError', ['[2, 3]', '[4]']),
  r("add(a, b, {alpha: '2'})", () => cr.add(a, a, any({ alpha: '2' })), 'TypeError', ['alpha']),
  r('add(a, 1, 5)', () => cr.add(a, 1, any(5)), 'TypeError', ['options']),
  r("sub(a, a, {alpha: '2'})", () => cr.sub(a, a, any({ alpha: '2' })), 'TypeError', ['alpha']),
  r('mul(a, disposed)', () => cr.mul(a, gone), 'Error', ['mul', 'other', 'disposed'], 'ERR_CUDNN_RNN_DISPOSED'),
  r('mul(disposed, a)', () => cr.mul(gone, a), 'Error', ['mul', 'input', 'disposed'], 'ERR_CUDNN_RNN_DISPOSED'),
  r("pow(a, 'x')", () => cr.pow(a, any('x')), 'TypeError', ['pow', 'exponent']),
  r('pow(int32, -1)', () => cr.pow(i32, -1), 'Error', ['Integers to negative integer powers are not allowed']),
  r('maximum(a, 1)', () => cr.maximum(a, any(1)), 'TypeError', ['maximum', 'other']),
  r('minimum(a, b) shapes', () => cr.minimum(a, b), 'RangeError', ['[2, 3]', '[3, 4]']),
  r('eq(a, b) shapes', () => cr.eq(a, b), 'RangeError', ['[2, 3]', '[3, 4]']),
  r("gt(a, '1')", () => cr.gt(a, any('1')), 'TypeError', ['gt', 'other']),
  r("clamp(a, '0')", () => cr.clamp(a, any('0')), 'TypeError', ['clamp', 'min']),
  r('clamp(a, 0, {})', () => cr.clamp(a, 0, any({})), 'TypeError', ['clamp', 'max']),
  r('clamp(a)', () => cr.clamp(a), 'TypeError', ["'min'", "'max'"]),
  r("exp('a')", () => cr.exp(any('a')), 'TypeError', ['exp', 'input']),
  r('tanh(null)', () => cr.tanh(any(null)), 'TypeError', ['tanh', 'input', 'null']),
  r('relu(disposed)', () => cr.relu(gone), 'Error', ['relu', 'disposed'], 'ERR_CUDNN_RNN_DISPOSED'),
  // ---- reductions
  r('sum(a, 2)', () => cr.sum(a, 2), 'RangeError', ['sum', /Dimension out of range/, '2']),
  r('sum(a, -3)', () => cr.sum(a, -3), 'RangeError', ['sum', /Dimension out of range/, '-3']),
  r('sum(a, 1.5)', () => cr.sum(a, 1.5), 'TypeError', ['sum', 'dim', '1.5']),
  r("sum(a, '0')", () => cr.sum(a, any('0')), 'TypeError', ['sum', 'dim']),
  r('sum(a, NaN)', () => cr.sum(a, NaN), 'TypeError', ['sum', 'dim', 'NaN']),
  r('sum(a, [0, 0])', () => cr.sum(a, [0, 0]), 'RangeError', ['dim 0 appears multiple times']),
  r("sum(a, 0, 'yes')", () => cr.sum(a, 0, any('yes')), 'TypeError', ['keepdim']),
  r('mean(int32)', () => cr.mean(i32), 'Error', ['mean', 'dtype']),
  r('mean(a, 5)', () => cr.mean(a, 5), 'RangeError', ['mean', /Dimension out of range/]),
  r('amax(zeros([0, 3]), 0)', () => cr.tidy(() => cr.amax(cr.zeros([0, 3]), 0)), 'RangeError', ['amax', 'non-zero size']),
  r('amax(a, [1, 1])', () => cr.amax(a, [1, 1]), 'RangeError', ['amax', 'multiple times']),
  r('argmax(a, 5)', () => cr.argmax(a, 5), 'RangeError', ['argmax', /Dimension out of range/]),
  r('argmax(a, [0])', () => cr.argmax(a, any([0])), 'TypeError', ['argmax', 'dim']),
  r('argmax(empty)', () => cr.tidy(() => cr.argmax(cr.zeros([0]))), 'RangeError', ['argmax', 'numel']),
  r('softmax(a, 2)', () => cr.softmax(a, 2), 'RangeError', ['softmax', /Dimension out of range/]),
  r('softmax(a)', () => cr.softmax(a, any(undefined)), 'TypeError', ['softmax', 'dim', 'undefined']),
  r('logSoftmax(a, NaN)', () => cr.logSoftmax(a, NaN), 'TypeError', ['logSoftmax', 'dim']),
  // ---- matmul
  r('matmul((2,3), (2,4))', () => cr.matmul(a, c), 'RangeError', ['matmul', '[2, 3]', '[2, 4]']),
  r('matmul((3,), (4,))', () => cr.matmul(v3, v4), 'RangeError', ['matmul', '[3]', '[4]']),
  r('matmul((2,3), (4,))', () => cr.matmul(a, v4), 'RangeError', ['matmul', '[2, 3]', '[4]']),
  r('matmul((4,), (3,4)) ', () => cr.matmul(v4, b), 'RangeError', ['matmul', '[4]', '[3, 4]']),
  r('matmul batch (2,3,4)x(3,4,5)', () => cr.matmul(b3, b4), 'RangeError', ['matmul', '[2, 3, 4]', '[3, 4, 5]']),
  r('matmul(0-d, a)', () => cr.tidy(() => cr.matmul(cr.tensor(1), a)), 'RangeError', ['matmul', '1D']),
  r("matmul(a, 'x')", () => cr.matmul(a, any('x')), 'TypeError', ['matmul', 'other']),
  r('matmul(a, disposed)', () => cr.matmul(a, gone), 'Error', ['matmul', 'other', 'disposed'], 'ERR_CUDNN_RNN_DISPOSED'),
  // ---- shapes
  r('reshape(a, [4, 2])', () => cr.reshape(a, [4, 2]), 'RangeError', ['reshape', '[4, 2]', '6']),
  r('reshape(a, [-1, -1])', () => cr.reshape(a, [-1, -1]), 'RangeError', ['reshape', 'only one dimension can be inferred']),
  r('reshape(a, [-2, -3])', () => cr.reshape(a, [-2, -3]), 'RangeError', ['reshape', '-2']),
  r('reshape(a, [2, NaN])', () => cr.reshape(a, [2, NaN]), 'TypeError', ['reshape', 'shape[1]', 'NaN']),
  r('reshape(a, [2, 1.5])', () => cr.reshape(a, [2, 1.5]), 'TypeError', ['shape[1]', '1.5']),
  r("reshape(a, 'x')", () => cr.reshape(a, any('x')), 'TypeError', ['reshape', 'shape']),
  r('reshape(a, [2n, 3n])', () => cr.reshape(a, any([2n, 3n])), 'TypeError', ['shape[0]', '2n']),
  r('a.reshape(2, [3])', () => a.reshape(2, [3]), 'TypeError', ['shape']),
  r('view(t(a), [6])', () => cr.tidy(() => cr.view(cr.t(a), [6])), 'Error', ['view', 'reshape'], 'ERR_CUDNN_RNN_NOT_VIEWABLE'),
  r('view(a, [5])', () => cr.view(a, [5]), 'RangeError', ['view', '[5]', '6']),
  r('flatten(a, 1, 0)', () => cr.flatten(a, 1, 0), 'RangeError', ['flatten', 'start_dim']),
  r('flatten(a, 5)', () => cr.flatten(a, 5), 'RangeError', ['flatten', /Dimension out of range/]),
  r("flatten(a, 'x')", () => cr.flatten(a, any('x')), 'TypeError', ['flatten', 'startDim']),
  r('permute(a, [0])', () => cr.permute(a, [0]), 'RangeError', ['permute', 'dims']),
  r('permute(a, [0, 0])', () => cr.permute(a, [0, 0]), 'RangeError', ['permute', 'repeated dim']),
  r('permute(a, [0, 2])', () => cr.permute(a, [0, 2]), 'RangeError', ['permute', /Dimension out of range/]),
  r('permute(a, 1)', () => cr.permute(a, any(1)), 'TypeError', ['permute', 'dims']),
  r('transpose(a, 0, 2)', () => cr.transpose(a, 0, 2), 'RangeError', ['transpose', /Dimension out of range/]),
  r("transpose(a, 0, '1')", () => cr.transpose(a, 0, any('1')), 'TypeError', ['transpose', 'dim1']),
  r('t(3-D)', () => cr.t(b3), 'RangeError', ['t()', '3D']),
  r('select(a, 0, 2)', () => cr.select(a, 0, 2), 'RangeError', ['select', 'index 2']),
  r('select(a, 1, -4)', () => cr.select(a, 1, -4), 'RangeError', ['select', 'index -4']),
  r('select(a, 0, 1.5)', () => cr.select(a, 0, 1.5), 'TypeError', ['select', 'index', '1.5']),
  r('select(a, 2, 0)', () => cr.select(a, 2, 0), 'RangeError', ['select', /Dimension out of range/]),
  r('narrow(a, 1, 2, 2)', () => cr.narrow(a, 1, 2, 2), 'RangeError', ['narrow', 'length (2)', 'size (3)']),
  r('narrow(a, 1, -5, 1)', () => cr.narrow(a, 1, -5, 1), 'RangeError', ['narrow', 'start (-5)']),
  r('narrow(a, 1, 0, -1)', () => cr.narrow(a, 1, 0, -1), 'RangeError', ['narrow', 'length']),
  r('narrow(a, 1, NaN, 1)', () => cr.narrow(a, 1, NaN, 1), 'TypeError', ['narrow', 'start', 'NaN']),
  r('narrow(a, 1, 0, undefined)', () => cr.narrow(a, 1, 0, any(undefined)), 'TypeError', ['narrow', 'length', 'undefined']),
  r('squeeze(a, 3)', () => cr.squeeze(a, 3), 'RangeError', ['squeeze', /Dimension out of range/]),
  r('squeeze(a, 0.5)', () => cr.squeeze(a, 0.5), 'TypeError', ['squeeze', 'dim', '0.5']),
  r('unsqueeze(a, 4)', () => cr.unsqueeze(a, 4), 'RangeError', ['unsqueeze', /Dimension out of range/]),
  r('unsqueeze(a, null)', () => cr.unsqueeze(a, any(null)), 'TypeError', ['unsqueeze', 'dim', 'null']),
  r('expand(a, [4, 3])', () => cr.expand(a, [4, 3]), 'RangeError', ['expand', '[4, 3]', '[2, 3]']),
  r('expand(a, [3])', () => cr.expand(a, [3]), 'RangeError', ['expand', 'number of sizes']),
  r('expand(a, [2, -2])', () => cr.expand(a, [2, -2]), 'RangeError', ['expand', 'shape[1]']),
  r('expand(a, [2, 1.5])', () => cr.expand(a, [2, 1.5]), 'TypeError', ['expand', 'shape[1]']),
  r('cat([a, b], 0)', () => cr.cat([a, b], 0), 'RangeError', ['cat', '[2, 3]', '[3, 4]']),
  r('cat([a, v3], 0)', () => cr.cat([a, v3], 0), 'RangeError', ['cat', 'same number of dimensions']),
  r('cat([], 0)', () => cr.cat([], 0), 'RangeError', ['cat', 'non-empty']),
  r('cat(a)', () => cr.cat(any(a)), 'TypeError', ['cat', 'tensors']),
  r("cat([a, 'x'])", () => cr.cat([a, any('x')]), 'TypeError', ['cat', 'tensors[1]']),
  r('cat([a, disposed])', () => cr.cat([a, gone]), 'Error', ['cat', 'tensors[1]', 'disposed'], 'ERR_CUDNN_RNN_DISPOSED'),
  r('cat([a, a], 2)', () => cr.cat([a, a], 2), 'RangeError', ['cat', /Dimension out of range/]),
  r('cat([0-d])', () => cr.tidy(() => cr.cat([cr.tensor(1)])), 'RangeError', ['cat', 'zero-dimensional']),
  r('stack([a, b])', () => cr.stack([a, b]), 'RangeError', ['stack', '[2, 3]', '[3, 4]']),
  r('stack([a, a], 3)', () => cr.stack([a, a], 3), 'RangeError', ['stack', /Dimension out of range/]),
  r('stack([])', () => cr.stack([]), 'RangeError', ['stack', 'non-empty']),
  r('chunk(a, 0)', () => cr.chunk(a, 0), 'RangeError', ['chunk', 'chunks']),
  r('chunk(a, 1.5)', () => cr.chunk(a, 1.5), 'TypeError', ['chunk', 'chunks']),
  r('chunk(a, 2, 2)', () => cr.chunk(a, 2, 2), 'RangeError', ['chunk', /Dimension out of range/]),
  r('split(a, 0)', () => cr.split(a, 0), 'RangeError', ['split', 'splitSize']),
  r("split(a, '1')", () => cr.split(a, any('1')), 'TypeError', ['split', 'splitSize']),
  r('split(a, [1, 1], 1)', () => cr.split(a, [1, 1], 1), 'RangeError', ['split', '[1, 1]', '3']),
  r('split(a, [1, -1, 3], 1)', () => cr.split(a, [1, -1, 3], 1), 'RangeError', ['split', 'splitSize[1]']),
  r('unbind(a, 2)', () => cr.unbind(a, 2), 'RangeError', ['unbind', /Dimension out of range/]),
  r('indexSelect(a, 0, [5])', () => cr.tidy(() => cr.indexSelect(a, 0, cr.tensor(Int32Array.from([5])) as Tensor<'int32'>)), 'RangeError', ['indexSelect', 'index', '5']),
  r('indexSelect(a, 0, [-1])', () => cr.tidy(() => cr.indexSelect(a, 0, cr.tensor(Int32Array.from([-1])) as Tensor<'int32'>)), 'RangeError', ['indexSelect', '-1']),
  r('indexSelect(a, 0, float index)', () => cr.tidy(() => cr.indexSelect(a, 0, any(cr.tensor([0])))), 'TypeError', ['indexSelect', 'index', 'int32']),
  r('indexSelect(a, 0, [0])', () => cr.indexSelect(a, 0, any([0])), 'TypeError', ['indexSelect', 'index']),
  r('indexSelect(a, 0, 2-D index)', () => cr.indexSelect(a, 0, any(i32)), 'RangeError', ['indexSelect', 'vector']),
  r('indexSelect(a, 3, idx)', () => cr.tidy(() => cr.indexSelect(a, 3, cr.tensor(Int32Array.from([0])) as Tensor<'int32'>)), 'RangeError', ['indexSelect', /Dimension out of range/]),
  // ---- conversion and devices
  r("to(a, 'float16')", () => cr.to(a, any('float16')), 'TypeError', ['to', 'float16']),
  r('to(a, 5)', () => cr.to(a, any(5)), 'TypeError', ['to', 'target']),
  r('to(a, null)', () => cr.to(a, any(null)), 'TypeError', ['to', 'target']),
  r("to(a, {dtype: 'int8'})", () => cr.to(a, any({ dtype: 'int8' })), 'TypeError', ['to', 'dtype', 'int8']),
  r("to(a, 'cuda')", () => cr.to(a, 'cuda'), 'Error', ['cuda'], 'ERR_CUDNN_RNN_CUDA_UNAVAILABLE'),
  r("zeros([2], {device: 'cuda:0'})", () => cr.zeros([2], { device: 'cuda:0' }), 'Error', ['zeros', 'cuda'], 'ERR_CUDNN_RNN_CUDA_UNAVAILABLE'),
  r("setDefaultDevice('gpu')", () => cr.setDefaultDevice('gpu'), 'TypeError', ['device', 'gpu']),
  // ---- in place
  r('a.add_(b) shapes', () => cr.noGrad(() => a.add_(b)), 'RangeError', ['add_', '[2, 3]', '[3, 4]']),
  r('a.add_(ones([2,2,3])) grows', () => cr.tidy(() => cr.noGrad(() => a.add_(cr.ones([2, 2, 3])))), 'RangeError', ['add_', '[2, 3]', '[2, 2, 3]']),
  r('a.copy_(b) shapes', () => cr.noGrad(() => a.copy_(b)), 'RangeError', ['copy_', '[2, 3]', '[3, 4]']),
  r("a.copy_('x')", () => cr.noGrad(() => a.copy_(any('x'))), 'TypeError', ['copy_', 'src']),
  r("a.fill_('1')", () => a.fill_(any('1')), 'TypeError', ['fill_', 'value']),
  r("a.mul_('x')", () => a.mul_(any('x')), 'TypeError', ['mul_', 'other']),
  r("a.add_('x')", () => a.add_(any('x')), 'TypeError', ['add_', 'other']),
  r("a.add_(1, {alpha: 'x'})", () => a.add_(1, any({ alpha: 'x' })), 'TypeError', ['alpha']),
  r("s.sub_(1, {alpha: 'x'})", () => scratch.sub_(1, any({ alpha: 'x' })), 'TypeError', ['alpha']),
  r("s.sub_(s, {alpha: 'x'})", () => scratch.sub_(scratch, any({ alpha: 'x' })), 'TypeError', ['alpha']),
  r('int32.div_(2)', () => i32.div_(2), 'Error', ['div_', 'Int']),
  // torch: "result type Float can't be cast to the desired output type Int"
  r('int32.add_(2.5)', () => cr.noGrad(() => scratchInt.add_(2.5)), 'Error', ['add_', /int/i]),
  r('int32.mul_(0.5)', () => cr.noGrad(() => scratchInt.mul_(0.5)), 'Error', ['mul_', /int/i]),
  r('int32.add_(float32 tensor)', () => cr.tidy(() => cr.noGrad(() => scratchInt.add_(cr.tensor([0.5, 0.5])))), 'Error', ['add_', /int/i]),
  r('a.uniform_(2, 1)', () => a.uniform_(2, 1), 'RangeError', ['uniform_', 'from=2', 'to=1']),
  r('a.normal_(0, -1)', () => a.normal_(0, -1), 'RangeError', ['normal_', 'std']),
  r('a.normal_(0, NaN)', () => a.normal_(0, NaN), 'RangeError', ['normal_', 'std']),
  r('leaf.add_(1)', () => leaf.add_(1), 'Error', ['add_', 'leaf Variable'], 'ERR_CUDNN_RNN_INPLACE_LEAF'),
  r('disposed.fill_(1)', () => gone.fill_(1), 'Error', ['fill_', 'disposed'], 'ERR_CUDNN_RNN_DISPOSED'),
  // ---- autograd and misc
  r("backward('x')", () => cr.tidy(() => cr.sum(leaf).backward(any('x'))), 'TypeError', ['backward', 'gradient']),
  r('backward(wrong shape)', () => cr.tidy(() => cr.mul(leaf, 2).backward(cr.ones([3]))), 'RangeError', ['backward', '[3]', '[2]']),
  r("backward(undefined, {retainGraph: 'yes'})", () => cr.tidy(() => cr.sum(leaf).backward(undefined, any({ retainGraph: 'yes' }))), 'TypeError', ['retainGraph']),
  r('backward(undefined, 5)', () => cr.tidy(() => cr.sum(leaf).backward(undefined, any(5))), 'TypeError', ['backward', 'options']),
  r('non-scalar backward()', () => cr.tidy(() => cr.mul(leaf, 2).backward()), 'Error', ['grad can be implicitly created only for scalar outputs'], 'ERR_CUDNN_RNN_NON_SCALAR'),
  r("requiresGrad = 'yes'", () => { b.requiresGrad = any('yes'); }, 'TypeError', ['requiresGrad', 'boolean']),
  r('int32.requiresGrad = true', () => { i32.requiresGrad = true; }, 'Error', ['floating point'], 'ERR_CUDNN_RNN_INT_GRAD'),
  r('noGrad(5)', () => cr.noGrad(any(5)), 'TypeError', ['noGrad', 'fn']),
  r('enableGrad(null)', () => cr.enableGrad(any(null)), 'TypeError', ['enableGrad', 'fn']),
  r("setGradEnabled('no')", () => cr.setGradEnabled(any('no')), 'TypeError', ['setGradEnabled', 'mode']),
  r('tidy(5)', () => cr.tidy(any(5)), 'TypeError', ['tidy', 'fn']),
  r('a.size(2)', () => a.size(2), 'RangeError', ['size', /Dimension out of range/]),
  r('a.item()', () => a.item(), 'RangeError', ['item', '6 elements']),
  r('disposed.dataSync()', () => gone.dataSync(), 'Error', ['dataSync', 'disposed'], 'ERR_CUDNN_RNN_DISPOSED'),
];

describe('bad input table', () => {
  test.each(ROWS.map((row) => [row.call, row] as const))('%s', (_call, row) => {
    let err: unknown;
    let threw = false;
    const tensorsBefore = cr.memory().numTensors;
    try {
      const result = row.fn();
      // a row that wrongly succeeds must not make the leak check below fail too
      for (const t of Array.isArray(result) ? result : [result]) if (cr.isTensor(t)) t.dispose();
    } catch (e) {
      threw = true;
      err = e;
    }
    if (!threw) throw new Error(`${row.call} did not throw`);
    // a failed call leaves no tensor behind
    expect({ call: row.call, leaked: cr.memory().numTensors - tensorsBefore }).toEqual({ call: row.call, leaked: 0 });
    const e = err as Error & { code?: string };
    expect(typeof e).toBe('object');
    expect(typeof e.message).toBe('string');
    expect({ call: row.call, name: e.name }).toEqual({ call: row.call, name: row.name });
    for (const m of row.message) {
      if (typeof m === 'string') expect(e.message).toContain(m);
      else expect(e.message).toMatch(m);
    }
    if (row.code !== undefined) expect(e.code).toBe(row.code);
  });

  test('after the whole table the process is fine and nothing leaked', () => {
    expect(cr.isGradEnabled()).toBe(true);
    // the operands were not modified by the failed in-place calls
    expect(a.arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(Array.from(i32.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(leaf.grad).toBeNull();
    const y = cr.tidy(() => cr.sum(cr.matmul(a, b)));
    expect(y.item()).toBe(84);
    y.dispose();
    for (const t of [a, b, c, v3, v4, i32, b3, b4, leaf, scratch, scratchInt]) t.dispose();
    expect(cr.memory().numTensors).toBe(baseline);
  });
});
