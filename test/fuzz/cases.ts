// The fuzz cases, by class of failure the reliability review found. Each
// generator draws from pools of right and wrong values and says what must
// happen (test/helpers/fuzz-runner.ts); expectations are PyTorch's results
// or an error naming the argument.
import type { FuzzCase } from '../helpers/fuzz-runner';
import { Rng } from './random';

type Gen = (r: Rng, id: string) => FuzzCase;

// ------------------------------------------------------------ RNN sizes and options

const BAD_SIZES = ['0', '-1', '1.5', 'NaN', 'Infinity', 'null', '"8"', 'new Number(8)', 'true', '2 ** 31', '2 ** 40', '2 ** 53', '1e308', '8n', '[8]'];
const BAD_LAYERS = ['0', '-1', '1.5', 'NaN', 'null', '"2"', 'new Number(2)', '2 ** 31', '2 ** 53', 'true', '8n', '[2]'];
const BAD_FLAGS = ['null', '0', '1', '"true"', 'new Boolean(true)', '{}'];
const BAD_DROPOUT = ['null', 'NaN', '-0.1', '1.5', '"0.5"', 'Infinity'];
const FLAG_NAMES: Record<string, string> = { bias: 'bias', batchFirst: 'batch_first', bidirectional: 'bidirectional' };

const rnnCtor: Gen = (r, id) => {
  const cls = r.pick(['GRU', 'RNN']);
  let input = String(r.int(1, 5));
  let hidden = String(r.int(1, 5));
  let layers = String(r.int(1, 3));
  const opts: Record<string, string> = {};
  for (const k of Object.keys(FLAG_NAMES)) if (r.chance(0.3)) opts[k] = r.pick(['true', 'false']);
  if (r.chance(0.2)) opts.dropout = r.pick(['0', '0.25']);
  let arg: string | undefined;
  const slot = r.pick(['none', 'none', 'input', 'hidden', 'layers', 'flag', 'dropout']);
  if (slot === 'input') { input = r.pick(BAD_SIZES); arg = 'input_size'; }
  if (slot === 'hidden') { hidden = r.pick(BAD_SIZES); arg = 'hidden_size'; }
  if (slot === 'layers') { layers = r.pick(BAD_LAYERS); arg = 'num_layers'; }
  if (slot === 'flag') { const k = r.pick(Object.keys(FLAG_NAMES)); opts[k] = r.pick(BAD_FLAGS); arg = FLAG_NAMES[k]; }
  if (slot === 'dropout') { opts.dropout = r.pick(BAD_DROPOUT); arg = 'dropout'; }
  const optText = Object.entries(opts).map(([k, v]) => `${k}: ${v}`).join(', ');
  const inOptions = r.chance(0.5);
  const args = inOptions ? `${input}, ${hidden}, { numLayers: ${layers}${optText ? `, ${optText}` : ''} }` : `${input}, ${hidden}, ${layers}${optText ? `, { ${optText} }` : ''}`;
  const code = `
const m = new cr.nn.${cls}(${args});
h.assert(m.parameters().length > 0, 'a module without parameters');
const x = cr.randn(m.batchFirst ? [2, 3, m.inputSize] : [3, 2, m.inputSize]);
const [y, hn] = m.forward(x);
h.assert(h.finite(y) && h.finite(hn), 'non-finite output');
h.assert(y.shape[2] === m.hiddenSize * (m.bidirectional ? 2 : 1), 'output width ' + y.shape);
m.dispose(); x.dispose(); y.dispose(); hn.dispose();`;
  return arg === undefined ? { id, code, expect: 'ok' } : { id, code, expect: 'error', arg };
};

const CONFIG_FIELDS = ['inputSize', 'hiddenSize', 'numLayers', 'bias', 'batchFirst', 'bidirectional', 'mode', 'flatWeightsNames'];

const configMutation: Gen = (r, id) => {
  const field = r.pick(CONFIG_FIELDS);
  const value = r.pick(['1', '0', '64', '3', 'true', 'false', 'null', '"GRU"', '[]']);
  const [i, hd, l] = [r.int(1, 6), r.int(1, 6), r.int(1, 3)];
  const code = `
const m = new cr.nn.GRU(${i}, ${hd}, ${l}).eval();
const x = cr.randn([4, 2, ${i}]);
const before = m.forward(x)[0].dataSync();
const original = m[${JSON.stringify(field)}];
let err = null;
try { m[${JSON.stringify(field)}] = ${value}; } catch (e) { err = e; }
h.assert(err instanceof TypeError && err.message.includes(${JSON.stringify(field)}), 'assignment of ${field} was not refused: ' + (err && err.message));
h.assert(m[${JSON.stringify(field)}] === original, '${field} changed');
const after = m.forward(x)[0].dataSync();
h.assert(h.same(before, after), 'forward changed after the refused assignment');`;
  return { id, code, expect: 'ok' };
};

// ------------------------------------------------------------ creation

const INT32_VALUES = ['NaN', 'Infinity', '-Infinity', '3e9', '-3e9', '2.5', '-1.5', '-2147483648', '2147483647', '2147483648', '-2147483649', '0', '7', '1e308', '-0'];
function int32Expected(code: string): number | null {
  const v = Number(eval(code));
  const t = Math.trunc(v);
  return t >= -2147483648 && t <= 2147483647 ? t + 0 : null;
}

const fullInt32: Gen = (r, id) => {
  const v = r.pick(INT32_VALUES);
  const how = r.pick(['full', 'fill_', 'fullLike', 'tensor']);
  const expected = int32Expected(v);
  const make = {
    full: `cr.full([2], ${v}, { dtype: 'int32' })`,
    fill_: `cr.zeros([2], { dtype: 'int32' }).fill_(${v})`,
    fullLike: `cr.fullLike(cr.zeros([2], { dtype: 'int32' }), ${v})`,
    tensor: `cr.tensor(new Float64Array([${v}, ${v}]), { dtype: 'int32' })`,
  }[how];
  const code = `const t = ${make}; h.assert(h.same(t.dataSync(), [${expected}, ${expected}]), 'got ' + t.dataSync());`;
  return expected === null ? { id, code, expect: 'error', arg: 'value|int32' } : { id, code, expect: 'ok' };
};

const fullFloat: Gen = (r, id) => {
  const v = r.pick(INT32_VALUES);
  const dtype = r.pick(['float32', 'float64']);
  const expected = dtype === 'float32' ? Math.fround(Number(eval(v))) : Number(eval(v));
  const code = `const t = cr.full([3], ${v}, { dtype: '${dtype}' }); h.assert(h.same(t.dataSync(), [${expected}, ${expected}, ${expected}].map(Number)), 'got ' + t.dataSync());`;
  return { id, code, expect: 'ok' };
};

const sumInt32: Gen = (r, id) => {
  const n = r.int(1, 6);
  const values = Array.from({ length: n }, () => r.pick([2 ** 30, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31), r.int(-1000, 1000), 123456789]));
  const total = values.reduce((a, b) => a + b, 0);
  const fits = total >= -(2 ** 31) && total <= 2 ** 31 - 1;
  const dim = r.chance(0.5) ? '' : '0';
  const code = `const t = cr.tensor([${values.join(', ')}], { dtype: 'int32' }).sum(${dim}); h.assert(t.dtype === 'int32' && t.item() === ${total}, 'sum gave ' + t.item());`;
  return fits ? { id, code, expect: 'ok' } : { id, code, expect: 'error', arg: 'sum.*int32' };
};

const ARANGE_STARTS = [-5, 0, 2.5, -1e308, 1e308, 3];
const ARANGE_ENDS = [0, 10, 7.5, 1e308, -1e308, -3];
const ARANGE_STEPS = [1, 0.5, -1, -0.5, 2, 1e-300, 0];
const arange: Gen = (r, id) => {
  const [s, e, st] = [r.pick(ARANGE_STARTS), r.pick(ARANGE_ENDS), r.pick(ARANGE_STEPS)];
  const dtype = r.pick(['float32', 'float64', 'int32']);
  const code = `const t = cr.arange(${s}, ${e}, ${st}, { dtype: '${dtype}' }); h.assert(t.shape[0] === ${Math.ceil((e - s) / st)}, 'shape ' + t.shape);`;
  if (st === 0) return { id, code, expect: 'error', arg: 'step' };
  if ((st > 0 && e < s) || (st < 0 && e > s)) return { id, code, expect: 'error', arg: 'bound' };
  const n = Math.ceil((e - s) / st);
  if (!Number.isFinite(n) || n > 1e7) return { id, code, expect: 'error', arg: 'arange.*(size|overflow)' };
  if (dtype === 'int32' && n > 0 && (int32Expected(String(s)) === null || int32Expected(String(s + (n - 1) * st)) === null)) return { id, code, expect: 'error', arg: 'int32' };
  return { id, code, expect: 'ok' };
};

const emptyRandom: Gen = (r, id) => {
  const shape = [r.int(0, 3), r.int(0, 3)];
  if (!shape.includes(0)) shape[r.int(0, 1)] = 0;
  const make = r.pick([`cr.randn([${shape}])`, `cr.rand([${shape}])`, `cr.zeros([${shape}]).normal_()`, `cr.zeros([${shape}]).uniform_()`,
    `cr.randnLike(cr.zeros([${shape}]))`, `cr.zeros([${shape}]).t().normal_()`]);
  const code = `const t = ${make}; h.assert(t.numel === 0 && t.dataSync().length === 0, 'shape ' + t.shape);`;
  return { id, code, expect: 'ok' };
};

const BAD_DATA = ['new BigInt64Array(2)', 'new BigUint64Array(2)', 'new DataView(new ArrayBuffer(8))', 'h.deep(17)', 'h.deep(100)', 'h.deep(20000)',
  '[1, [2]]', '[1, "a"]', '[[1, 2], [3]]', '{ length: 2, 0: 1, 1: 2 }', 'new ArrayBuffer(8)', 'null', '"abc"', 'Symbol("s")', 'h.fake()', 'h.protoFake()',
  '[1, null]', '[1, undefined]', '[[1], 2]', '[new Number(1)]', '[1n]', 'new Map()', 'new Set([1])', 'h.disposed()'];
const GOOD_DATA = ['[NaN, 1]', 'new Float32Array(3)', 'h.deep(16)', '[[1, 2], [3, 4]]', 'new Uint8Array([1, 2])', '[]', '[[], []]', '5', 'new Int32Array([1, -1])'];
const tensorData: Gen = (r, id) => {
  const bad = r.chance(0.7);
  const data = bad ? r.pick(BAD_DATA) : r.pick(GOOD_DATA);
  const code = `const t = cr.tensor(${data}); h.assert(h.sane(t), 'insane tensor');`;
  return bad ? { id, code, expect: 'error', arg: 'data' } : { id, code, expect: 'ok' };
};

const BAD_SHAPES = ['[-1]', '[1.5]', '[NaN]', '["2"]', 'null', '[2 ** 53]', '[2 ** 31, 2 ** 31, 2 ** 31]', 'Array(17).fill(1)', '{}', '[Infinity]'];
const badShape: Gen = (r, id) => {
  const fn = r.pick(['zeros', 'ones', 'rand', 'randn', 'full']);
  const shape = r.pick(BAD_SHAPES);
  const code = fn === 'full' ? `cr.full(${shape}, 1)` : `cr.${fn}(${shape})`;
  return { id, code, expect: 'error', arg: 'shape' };
};

// ------------------------------------------------------------ gradients, optimizers, modules

const BAD_GRADS = ['5', '"x"', '{}', '[]', 'cr.zeros([3, 2])', 'cr.zeros([6])', 'cr.zeros([2, 3, 1])', "cr.zeros([2, 3], { dtype: 'float64' })", 'h.disposed([2, 3])', 'h.protoFake()', 'h.fake()', 'new Float32Array(6)'];
const gradAssign: Gen = (r, id) => {
  const bad = r.chance(0.8);
  const value = bad ? r.pick(BAD_GRADS) : r.pick(['cr.ones([2, 3])', 'null']);
  const opt = r.pick(['SGD', 'Adam', 'AdamW']);
  const code = `
const p = cr.zeros([2, 3]).requiresGrad_();
const opt = new cr.optim.${opt}([p], { lr: 0.1 });
p.grad = ${value};
opt.step();
h.assert(h.finite(p), 'parameter not finite');`;
  return bad ? { id, code, expect: 'error', arg: 'grad' } : { id, code, expect: 'ok' };
};

const disposedParam: Gen = (r, id) => {
  const opt = r.pick(['SGD', 'Adam', 'AdamW']);
  const which = r.int(0, 1);
  const code = `
const ps = [cr.zeros([2]).requiresGrad_(), cr.zeros([3]).requiresGrad_()];
const opt = new cr.optim.${opt}(ps, { lr: 0.1 });
ps.forEach((p) => { p.grad = cr.ones(p.shape); });
ps[${which}].dispose();
opt.step();`;
  return { id, code, expect: 'error', arg: `params\\[${which}\\].*disposed` };
};

const MODULES = ['new cr.nn.GRU(3, 4)', 'new cr.nn.RNN(3, 4, 2)', 'new cr.nn.GRU(3, 4, { bidirectional: true })', 'new cr.nn.Linear(3, 4)'];
const toIdentity: Gen = (r, id) => {
  const make = r.pick(MODULES);
  const opt = r.pick(['SGD', 'Adam', 'AdamW']);
  const stepsBefore = r.int(0, 2);
  const code = `
cr.manualSeed(${r.int(0, 1000)});
const m = ${make};
const isRnn = m instanceof cr.nn.RNNBase;
const params = m.parameters();
const opt = new cr.optim.${opt}(params, { lr: 0.05 });
const x32 = cr.randn(isRnn ? [5, 2, 3] : [6, 3]);
const x64 = x32.double();
const run = (dtype) => cr.tidy(() => {
  const x = dtype === 'float64' ? x64 : x32;
  const out = isRnn ? m.forward(x)[0] : m.forward(x);
  const loss = out.square().mean();
  opt.zeroGrad();
  loss.backward();
  opt.step();
  return loss.item();
});
for (let i = 0; i < ${stepsBefore}; ++i) run('float32');
m.to('float64');
h.assert(m.parameters().every((p, i) => p === params[i]), 'parameter objects replaced by to()');
h.assert(params.every((p) => p.dtype === 'float64' && !p.isDisposed), 'parameters not moved');
const first = run('float64');
let last = first;
for (let i = 0; i < 8; ++i) last = run('float64');
h.assert(last < first, 'loss did not move: ' + first + ' -> ' + last);
h.assert([...opt.state.values()].every((s) => Object.values(s).every((v) => !(v instanceof cr.Tensor) || v.dtype === 'float64')), 'optimizer state not moved');`;
  return { id, code, expect: 'ok' };
};

const BAD_TO = ["'int32'", "'float16'", '5', 'null', "{ dtype: 'x' }", '[]', "'gpu'"];
const moduleMisc: Gen = (r, id) => {
  const kind = r.pick(['loadOptions', 'loadDict', 'to']);
  if (kind === 'loadOptions') {
    const o = r.pick(['null', '5', '"x"', '[]', '{ strict: 1 }', '{ strictt: true }']);
    return { id, code: `const m = new cr.nn.GRU(2, 2); m.loadStateDict(m.stateDict(), ${o});`, expect: 'error', arg: 'options' };
  }
  if (kind === 'loadDict') {
    const d = r.pick(['null', '5', '"x"', '[]', 'undefined']);
    return { id, code: `new cr.nn.GRU(2, 2).loadStateDict(${d});`, expect: 'error', arg: 'stateDict' };
  }
  return { id, code: `${r.pick(MODULES)}.to(${r.pick(BAD_TO)});`, expect: 'error', arg: 'dtype|target|device' };
};

// ------------------------------------------------------------ safetensors

function stBytes(header: Record<string, unknown>, data: number[]): string {
  return `(() => { const json = ${JSON.stringify(JSON.stringify(header))}; const hb = Buffer.from(json); const b = Buffer.alloc(8 + hb.length + ${data.length});
b.writeBigUInt64LE(BigInt(hb.length), 0); hb.copy(b, 8); Buffer.from(${JSON.stringify(data)}).copy(b, 8 + hb.length); return b; })()`;
}
const ST_DTYPES = ['__proto__', 'constructor', 'toString', 'valueOf', 'hasOwnProperty', 'F32', 'BOOL', 'U8', 'I8', 'X', 'f32', ''];
const SIZES: Record<string, number> = { F32: 4, BOOL: 1, U8: 1, I8: 1 };
const safetensorsDtype: Gen = (r, id) => {
  const dtype = r.pick(ST_DTYPES);
  const size = SIZES[dtype] ?? 4;
  const data = Array.from({ length: 2 * size }, () => (dtype === 'BOOL' ? r.pick([0, 1, 1, 0, 2, 255]) : r.int(0, 255)));
  const buf = stBytes({ t: { dtype, shape: [2], data_offsets: [0, 2 * size] } }, data);
  if (!Object.hasOwn(SIZES, dtype)) return { id, code: `cr.deserialize(${buf});`, expect: 'error', arg: 'dtype' };
  if (dtype === 'BOOL' && data.some((b) => b > 1)) return { id, code: `cr.deserialize(${buf});`, expect: 'error', arg: 'BOOL' };
  const expected = dtype === 'BOOL' || dtype === 'U8' ? data : dtype === 'I8' ? data.map((b) => (b > 127 ? b - 256 : b)) : null;
  const check = expected === null ? 'h.assert(t.t.numel === 2, "numel")' : `h.assert(h.same(t.t.dataSync(), ${JSON.stringify(expected)}), 'got ' + t.t.dataSync())`;
  return { id, code: `const t = cr.deserialize(${buf}); ${check};`, expect: 'ok' };
};

const safetensorsGarbage: Gen = (r, id) => {
  const n = r.int(0, 80);
  const bytes = Array.from({ length: n }, () => r.int(0, 255));
  if (n >= 8 && r.chance(0.5)) { bytes.fill(0, 0, 8); bytes[0] = Math.max(0, n - 8 - r.int(0, 4)); }
  return { id, code: `cr.deserialize(Buffer.from(${JSON.stringify(bytes)}));`, expect: 'either' };
};

const safetensorsMutation: Gen = (r, id) => {
  const pos = r.int(0, 120);
  const byte = r.int(0, 255);
  const code = `
const m = { a: cr.tensor([[1, 2], [3, 4]]), b: cr.tensor([1, 2, 3], { dtype: 'int32' }) };
const buf = cr.serialize(m);
buf[${pos} % buf.length] = ${byte};
const out = cr.deserialize(buf);
Object.values(out).forEach((t) => h.assert(h.sane(t), 'insane tensor'));`;
  return { id, code, expect: 'either' };
};

// ------------------------------------------------------------ broad op fuzzing

const OPERANDS = ['cr.randn([2, 3])', "cr.randn([2, 3], { dtype: 'float64' })", "cr.tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'int32' })", 'cr.randn([3])', 'cr.randn([1])',
  'cr.zeros([0, 3])', 'cr.randn([2, 3]).t()', 'cr.tensor(5)', '0', '1', '-1', '2.5', 'NaN', 'Infinity', '2 ** 31', '2 ** 53', '-0', 'null', 'undefined', '"a"', '{}', '[]',
  '[1, 2]', 'true', '8n', 'h.disposed([2, 3])', 'h.fake()', 'h.protoFake()', 'new Float32Array(6)', '{ alpha: 2 }', '{ alpha: "x" }', "cr.tensor([0, 1], { dtype: 'int32' })", '[0, 1]', '[-1, 0]', '[[0]]'];
const METHODS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'eq', 'lt', 'matmul', 'reshape', 'view', 'sum', 'mean', 'amax', 'argmax', 'softmax', 'logSoftmax',
  'select', 'narrow', 'transpose', 'permute', 'expand', 'squeeze', 'unsqueeze', 'chunk', 'split', 'unbind', 'indexSelect', 'clamp', 'to', 'copy_', 'fill_', 'add_', 'mul_',
  'uniform_', 'normal_', 'flatten', 'size', 'item', 'backward', 'requiresGrad_', 'contiguous', 'clone', 'detach', 'abs', 'exp', 'sqrt', 'relu', 'tanh', 'neg', 'square'];
const opFuzz: Gen = (r, id) => {
  const self = r.pick(OPERANDS.slice(0, 8));
  const method = r.pick(METHODS);
  const args = Array.from({ length: r.int(0, 3) }, () => r.pick(OPERANDS));
  const code = `
const a = ${self};
const out = a.${method}(${args.join(', ')});
for (const t of [out].flat()) if (t instanceof cr.Tensor) h.assert(h.sane(t), 'insane result');`;
  return { id, code, expect: 'either' };
};

const FUNCTIONS = ['cr.zeros', 'cr.ones', 'cr.full', 'cr.arange', 'cr.rand', 'cr.randn', 'cr.tensor', 'cr.zerosLike', 'cr.fullLike', 'cr.tidy', 'cr.keep', 'cr.manualSeed',
  'cr.nn.functional.dropout', 'cr.nn.utils.clipGradNorm_', 'cr.serialize', 'cr.deserialize', 'cr.setDefaultDevice'];
const fnFuzz: Gen = (r, id) => {
  const fn = r.pick(FUNCTIONS);
  const args = Array.from({ length: r.int(0, 3) }, () => r.pick(OPERANDS));
  return { id, code: `const out = ${fn}(${args.join(', ')}); for (const t of [out].flat()) if (t instanceof cr.Tensor) h.assert(h.sane(t), 'insane result');`, expect: 'either' };
};

const rnnForwardFuzz: Gen = (r, id) => {
  const input = r.pick(['cr.randn([3, 2, 4])', 'cr.randn([3, 4])', 'cr.randn([3, 2, 5])', 'cr.randn([0, 2, 4])', 'cr.randn([3, 0, 4])', "cr.randn([3, 2, 4], { dtype: 'float64' })",
    'cr.randn([3, 2, 4]).transpose(0, 1)', 'cr.randn([2, 3, 2, 4])', 'h.disposed([3, 2, 4])', 'h.protoFake()', 'null', '5']);
  const hx = r.pick(['undefined', 'null', 'cr.randn([2, 2, 6])', 'cr.randn([2, 6])', 'cr.randn([1, 2, 6])', 'cr.randn([2, 3, 6])', "cr.randn([2, 2, 6], { dtype: 'float64' })", 'h.disposed([2, 2, 6])', '"x"']);
  const asyncCall = r.chance(0.3);
  const code = `
const m = new cr.nn.GRU(4, 6, 2);
${asyncCall ? 'return m.forwardAsync' : 'const res = m.forward'}(${input}, ${hx})${asyncCall ? '.then((res) => { res.forEach((t) => h.assert(h.sane(t) && h.finite(t), "bad output")); });' : ';\nres.forEach((t) => h.assert(h.sane(t) && h.finite(t), "bad output"));'}`;
  return { id, code, expect: 'either' };
};

// ------------------------------------------------------------ the native seam directly

const nativeRnn: Gen = (r, id) => {
  // A correct GRU forward call, then one thing broken the way a slip in lib/ could break it.
  const mutation = r.pick(['seqLen+1', 'batch+1', 'cfgInput+1', 'cfgHidden+1', 'cfgLayers+1', 'cfgBidir', 'cfgDtype', 'xSmall', 'ySmall', 'hySmall', 'wSmall', 'hxSmall',
    'cfgHuge', 'cfgMode', 'cfgProj', 'cxOnGru', 'packedRising', 'packedFirst', 'packedZero', 'packedLong', 'packedOk', 'none']);
  const code = `
const m = new cr.nn.GRU(4, 6, 2);
const F = m.flat._view(); // the flat weight buffer every parameter views
let seq = 3, batch = 2;
const cfg = [3, 0, 4, 6, 2, false, true];
const view = (t) => t._view();
let x = cr.randn([3, 2, 4]), y = cr.zeros([3, 2, 6]), hy = cr.zeros([2, 2, 6]), hx = cr.zeros([2, 2, 6]), wv = F, cx = null;
switch (${JSON.stringify(mutation)}) {
  case 'seqLen+1': seq += 1; break;
  case 'batch+1': batch += 1; break;
  case 'cfgInput+1': cfg[2] += 1; break;
  case 'cfgHidden+1': cfg[3] += 1; break;
  case 'cfgLayers+1': cfg[4] += 1; break;
  case 'cfgBidir': cfg[5] = true; break;
  case 'cfgDtype': cfg[1] = 1; break;
  case 'xSmall': x = cr.randn([3, 2, 3]); break;
  case 'ySmall': y = cr.zeros([3, 2, 5]); break;
  case 'hySmall': hy = cr.zeros([1, 2, 6]); break;
  case 'hxSmall': hx = cr.zeros([2, 1, 6]); break;
  case 'wSmall': wv = [F[0], F[1], F[2], [F[3][0] - 7], [1]]; break;
  case 'cfgHuge': cfg[3] = 2 ** 31; break;
  case 'cfgMode': cfg[0] = 9; break;
  case 'cfgProj': cfg[7] = false; cfg[8] = 3; break;  // a projection on a GRU
  case 'cxOnGru': cx = cr.zeros([2, 2, 6]); break;
  // A packed batch: per-step batch sizes in place of the sequence length.
  case 'packedRising': seq = [1, 2, 2]; break;
  case 'packedFirst': seq = [1, 1, 1]; break;
  case 'packedZero': seq = [2, 0, 0]; break;
  case 'packedLong': seq = [2, 2, 2, 2]; break;
  case 'packedOk': seq = [2, 2, 1]; x = cr.randn([5, 4]); y = cr.zeros([5, 6]); break;
}
const none = [null, 0, 0, [], []];
const cxArgs = cx === null ? none : view(cx);
native.rnnForward(cfg, seq, batch, ...view(x), ...view(hx), ...cxArgs, ...wv, ...view(y), ...view(hy), ...none, ...none, 0);
h.assert(h.finite(y), 'non-finite');`;
  return mutation === 'none' || mutation === 'packedOk' ? { id, code, expect: 'ok' } : { id, code, expect: 'error', arg: '.', native: true };
};

/** The generators and how many cases each contributes. */
export const GENERATORS: Array<[string, Gen, number]> = [
  ['rnn-ctor', rnnCtor, 420],
  ['config-mutation', configMutation, 80],
  ['full-int32', fullInt32, 160],
  ['full-float', fullFloat, 60],
  ['sum-int32', sumInt32, 120],
  ['arange', arange, 160],
  ['empty-random', emptyRandom, 80],
  ['tensor-data', tensorData, 200],
  ['bad-shape', badShape, 80],
  ['grad-assign', gradAssign, 200],
  ['disposed-param', disposedParam, 40],
  ['to-identity', toIdentity, 24],
  ['module-misc', moduleMisc, 120],
  ['safetensors-dtype', safetensorsDtype, 160],
  ['safetensors-garbage', safetensorsGarbage, 120],
  ['safetensors-mutation', safetensorsMutation, 160],
  ['op-fuzz', opFuzz, 716],
  ['fn-fuzz', fnFuzz, 200],
  ['rnn-forward', rnnForwardFuzz, 160],
  ['native-rnn', nativeRnn, 150],
];

export function generateCases(seed: number): FuzzCase[] {
  const r = new Rng(seed);
  const cases: FuzzCase[] = [];
  for (const [name, gen, count] of GENERATORS) {
    for (let i = 0; i < count; ++i) cases.push(gen(r, `${name}#${i}`));
  }
  return cases;
}
