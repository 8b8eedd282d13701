// The safetensors format (https://github.com/huggingface/safetensors), the way
// weights move between PyTorch and cudnn-rnn:
//
//   u64 little-endian N | N bytes of JSON header, space-padded to 8 bytes | data
//
// header: { "<name>": { "dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end] },
//           "__metadata__": { "<key>": "<string>" } }   (offsets relative to the data)
//
// Writing reproduces the Python package byte for byte: tensors ordered by dtype
// (F64, F32, I32: the package's descending dtype order) then by name (bytewise),
// compact JSON with __metadata__ first, row-major little-endian data.
//
// Reading validates everything before allocating tensor memory, like the Rust
// reader: header length (at most 100 MB and within the file), UTF-8, JSON,
// dtypes, shapes, offsets that tile the data section exactly. Every failure is an
// Error with code ERR_CUDNN_RNN_SAFETENSORS saying what is wrong. Files are read
// in chunks straight into tensor storage, so a file is never held in memory whole.
//
// dtypes: F32, F64, I32 load as float32, float64, int32. Other dtypes are
// converted where that is exact: F16 and BF16 to float32; BOOL, U8, I8, U16, I16
// to int32; U32, I64, U64 to int32 when every value fits (otherwise an error
// naming the tensor and the value). F8 variants, F4/F6 and C64 are refused.
// Little-endian hosts only (every platform Node's prebuilds target).
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as nodePath from 'path';
import { fileURLToPath } from 'url';
import * as os from 'os';
import { getDefaultDevice, resolveDevice } from '../backend';
import { Device } from '../device';
import { DType, ITEM_SIZE } from '../dtype';
import { CodedError, checkOptionKeys, describe, formatShape, MAX_DIMS, typeError } from '../errors';
import { native } from '../native';
import { checkTensor, Tensor } from '../tensor';

const CODE = 'ERR_CUDNN_RNN_SAFETENSORS';
/** The Rust reader's limit on the header length. */
export const MAX_HEADER_BYTES = 100_000_000;
/** Bytes read (and converted) at a time when loading. */
const CHUNK_BYTES = 16 * 1024 * 1024;

function fail(message: string): never {
  throw new CodedError(`safetensors: ${message}`, CODE);
}

function checkHost(): void {
  if (os.endianness() !== 'LE') fail('big-endian hosts are not supported (tensor data is little-endian)');
}

// ------------------------------------------------------------------ dtypes

const WRITE_DTYPE: Record<DType, string> = { float64: 'F64', float32: 'F32', int32: 'I32' };
/** The package writes larger dtypes first (its dtype enum, descending). */
const WRITE_RANK: Record<DType, number> = { float64: 0, float32: 1, int32: 2 };

/** Converts `count` elements of `src` (8-byte aligned, little-endian) into `out`. */
type Converter = (src: Uint8Array, out: Float32Array | Int32Array, count: number, name: string, first: number) => void;

interface ReadDType {
  size: number;
  to: DType;
  /** Absent: the bytes are copied as they are. */
  convert?: Converter;
}

/** A typed view of aligned bytes. */
function view<T>(Ctor: new (b: ArrayBufferLike, o: number, n: number) => T, src: Uint8Array, count: number): T {
  return new Ctor(src.buffer, src.byteOffset, count);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac === 0 ? sign * Infinity : NaN;
  return sign * (1024 + frac) * 2 ** (exp - 25);
}

/** Every float16 value as float32 (256 KiB, built on first use): conversion is one lookup per element. */
let halfTable: Float32Array | null = null;
function halfs(): Float32Array {
  if (halfTable === null) halfTable = Float32Array.from({ length: 65536 }, (_, h) => halfToFloat(h));
  return halfTable;
}

function tooWide(name: string, dtype: string, value: bigint, index: number): never {
  fail(`tensor ${JSON.stringify(name)} (${dtype}) holds ${value} at element ${index}, which does not fit in int32`);
}

/** Plain widening copies (every value fits). */
function widen(Ctor: new (b: ArrayBufferLike, o: number, n: number) => ArrayLike<number>): Converter {
  return (s, o, n) => o.set(view(Ctor, s, n));
}

const READ_DTYPES: Record<string, ReadDType> = {
  F32: { size: 4, to: 'float32' },
  F64: { size: 8, to: 'float64' },
  I32: { size: 4, to: 'int32' },
  F16: {
    size: 2, to: 'float32',
    convert: (s, o, n) => {
      const table = halfs();
      const h = view(Uint16Array, s, n);
      for (let i = 0; i < n; ++i) o[i] = table[h[i]];
    },
  },
  BF16: {
    size: 2, to: 'float32',
    // bfloat16 is the high half of a float32.
    convert: (s, o, n) => {
      const bits = new Uint32Array(o.buffer, o.byteOffset, n);
      const h = view(Uint16Array, s, n);
      for (let i = 0; i < n; ++i) bits[i] = h[i] << 16;
    },
  },
  BOOL: {
    size: 1, to: 'int32',
    // A bool is one byte holding 0 or 1; anything else is a corrupt file, not a number to pass on.
    convert: (s, o, n, name, first) => {
      for (let i = 0; i < n; ++i) {
        if (s[i] > 1) fail(`tensor ${JSON.stringify(name)} (BOOL) holds byte ${s[i]} at element ${first + i}; a BOOL element must be 0 or 1`);
        o[i] = s[i];
      }
    },
  },
  U8: { size: 1, to: 'int32', convert: widen(Uint8Array) },
  I8: { size: 1, to: 'int32', convert: widen(Int8Array) },
  U16: { size: 2, to: 'int32', convert: widen(Uint16Array) },
  I16: { size: 2, to: 'int32', convert: widen(Int16Array) },
  U32: {
    size: 4, to: 'int32',
    convert: (s, o, n, name, first) => {
      const v = view(Uint32Array, s, n);
      for (let i = 0; i < n; ++i) {
        if (v[i] > 0x7fffffff) tooWide(name, 'U32', BigInt(v[i]), first + i);
        o[i] = v[i];
      }
    },
  },
  I64: {
    size: 8, to: 'int32',
    convert: (s, o, n, name, first) => {
      const w = view(Int32Array, s, 2 * n);
      for (let i = 0; i < n; ++i) {
        // Fits in int32 when the high word is the sign extension of the low word.
        const lo = w[2 * i];
        if (w[2 * i + 1] !== (lo < 0 ? -1 : 0)) tooWide(name, 'I64', view(BigInt64Array, s, n)[i], first + i);
        o[i] = lo;
      }
    },
  },
  U64: {
    size: 8, to: 'int32',
    convert: (s, o, n, name, first) => {
      const w = view(Int32Array, s, 2 * n);
      for (let i = 0; i < n; ++i) {
        const lo = w[2 * i];
        if (w[2 * i + 1] !== 0 || lo < 0) tooWide(name, 'U64', view(BigUint64Array, s, n)[i], first + i);
        o[i] = lo;
      }
    },
  },
};

/** Valid safetensors dtypes that have no exact cudnn-rnn representation. */
const UNSUPPORTED_DTYPES = new Set(['F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F4', 'F6_E2M3', 'F6_E3M2', 'C64']);

// ------------------------------------------------------------------ writing

export interface SaveOptions {
  /** String-to-string metadata stored under "__metadata__". */
  metadata?: Record<string, string> | null;
}

interface Planned {
  header: Buffer;
  entries: Array<{ name: string; tensor: Tensor }>;
}

function checkMetadata(where: string, metadata: unknown): Array<[string, string]> | null {
  if (metadata === undefined || metadata === null) return null;
  if (typeof metadata !== 'object' || Array.isArray(metadata)) throw typeError(where, 'options.metadata', 'an object mapping strings to strings', metadata);
  return Object.entries(metadata).map(([k, v]) => {
    if (typeof v !== 'string') throw typeError(where, `options.metadata[${JSON.stringify(k)}]`, 'a string', v);
    return [k, v];
  });
}

function bytewise(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/** The header bytes (length prefix included) and the tensors in file order. */
function plan(where: string, tensors: unknown, options: unknown): Planned {
  if (typeof tensors !== 'object' || tensors === null || Array.isArray(tensors) || tensors instanceof Tensor || tensors instanceof Map) {
    throw typeError(where, 'tensors', 'an object mapping names to Tensors (e.g. module.stateDict())', tensors);
  }
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw typeError(where, 'options', 'an object', options);
  checkOptionKeys(where, options ?? {}, ['metadata']);
  const metadata = checkMetadata(where, (options as SaveOptions | undefined)?.metadata);
  const entries = Object.entries(tensors).map(([name, t]) => {
    if (name === '__metadata__') throw new RangeError(`${where}: the name "__metadata__" is reserved for metadata; rename that tensor`);
    return { name, tensor: checkTensor(where, `tensors[${JSON.stringify(name)}]`, t) };
  });
  entries.sort((a, b) => WRITE_RANK[a.tensor.dtype] - WRITE_RANK[b.tensor.dtype] || bytewise(a.name, b.name));
  // Built by hand: a JS object would move integer-like names ("0", "1") to the front.
  const parts: string[] = [];
  if (metadata !== null) {
    parts.push(`"__metadata__":{${metadata.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`);
  }
  let offset = 0;
  for (const { name, tensor } of entries) {
    const end = offset + tensor.numel * ITEM_SIZE[tensor.dtype];
    parts.push(`${JSON.stringify(name)}:{"dtype":"${WRITE_DTYPE[tensor.dtype]}","shape":${JSON.stringify(tensor.shape)},"data_offsets":[${offset},${end}]}`);
    offset = end;
  }
  const json = `{${parts.join(',')}}`;
  const length = Buffer.byteLength(json, 'utf8');
  const padded = length + ((8 - (length % 8)) % 8);
  const header = Buffer.alloc(8 + padded, 0x20);
  header.writeBigUInt64LE(BigInt(padded), 0);
  header.write(json, 8, 'utf8');
  return { header, entries };
}

function tensorBytes(t: Tensor): Uint8Array {
  const data = t.dataSync();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The safetensors bytes of `tensors` (e.g. a stateDict()). Views and non-contiguous tensors are written by value. */
export function serialize(tensors: Record<string, Tensor>, options?: SaveOptions): Buffer {
  checkHost();
  const { header, entries } = plan('safetensors.serialize', tensors, options);
  return Buffer.concat([header, ...entries.map((e) => tensorBytes(e.tensor))]);
}

/**
 * Writes `tensors` to `path` as a .safetensors file, one tensor in memory at a
 * time. The file is written beside `path` under a temporary name, flushed to
 * disk and renamed over `path`: a full disk, a file-size limit or a kill
 * mid-write leaves the previous file intact (rename is atomic on POSIX).
 */
export function save(tensors: Record<string, Tensor>, path: fs.PathLike, options?: SaveOptions): void {
  checkHost();
  const { header, entries } = plan('safetensors.save', tensors, options);
  const target = pathString('safetensors.save', path);
  const dir = nodePath.dirname(target);
  const temp = nodePath.join(dir, `.${nodePath.basename(target)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  let fd: number | null = fs.openSync(temp, 'wx', 0o666);
  try {
    writeAll(fd, header);
    for (const e of entries) writeAll(fd, tensorBytes(e.tensor));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(temp, target);
  } catch (err) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(temp, { force: true });
    throw err;
  }
  syncDirectory(dir);
}

function pathString(where: string, path: unknown): string {
  if (typeof path === 'string') return path;
  if (Buffer.isBuffer(path)) return path.toString();
  if (path instanceof URL) return fileURLToPath(path);
  throw typeError(where, 'path', 'a string, a Buffer or a file: URL', path);
}

/** Makes the rename itself durable; some systems cannot open a directory, which only costs durability. */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort (e.g. Windows)
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let done = 0; done < bytes.length;) done += fs.writeSync(fd, bytes, done, Math.min(bytes.length - done, CHUNK_BYTES));
}

// ------------------------------------------------------------------ reading

/** Random access to the bytes of a file or a buffer. */
interface Source {
  size: number;
  /** Exactly `length` bytes at `position` (the caller has checked the range). */
  read(position: number, length: number): Uint8Array;
}

function bufferSource(buf: Uint8Array): Source {
  return { size: buf.length, read: (position, length) => buf.subarray(position, position + length) };
}

function fileSource(fd: number, size: number): Source {
  return {
    size,
    read(position, length) {
      const out = Buffer.alloc(length);
      for (let done = 0; done < length;) {
        const n = fs.readSync(fd, out, done, Math.min(length - done, CHUNK_BYTES), position + done);
        if (n === 0) fail(`the file ended at byte ${position + done} while ${position + length} bytes were expected (was it truncated while being read?)`);
        done += n;
      }
      return out;
    },
  };
}

interface TensorInfo {
  name: string;
  dtype: string;
  shape: number[];
  begin: number;
  end: number;
}

interface Header {
  tensors: TensorInfo[];
  metadata: Record<string, string> | null;
  dataStart: number;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function defineEntry<T>(target: Record<string, T>, key: string, value: T): void {
  // defineProperty, so that a tensor named "__proto__" is an ordinary entry.
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function parseTensorInfo(name: string, raw: unknown, dataLength: number): TensorInfo {
  const what = `tensor ${JSON.stringify(name)}`;
  if (!isPlainObject(raw)) fail(`${what}: expected an object with dtype, shape and data_offsets, but got ${describe(raw)}`);
  const { dtype, shape, data_offsets: offsets } = raw;
  if (typeof dtype !== 'string') fail(`${what}: dtype must be a string, but got ${describe(dtype)}`);
  if (!Object.hasOwn(READ_DTYPES, dtype)) {
    if (UNSUPPORTED_DTYPES.has(dtype)) {
      fail(`${what} has dtype ${dtype}, which cudnn-rnn cannot represent exactly (it reads F32, F64, I32, F16/BF16 as float32 and BOOL/U8/I8/U16/I16/U32/I64/U64 as int32)`);
    }
    fail(`${what} has unknown dtype ${JSON.stringify(dtype)}`);
  }
  if (!Array.isArray(shape) || shape.some((s) => !Number.isSafeInteger(s) || s < 0)) {
    fail(`${what}: shape must be an array of non-negative integers, but got ${JSON.stringify(shape)}`);
  }
  if (shape.length > MAX_DIMS) fail(`${what} has ${shape.length} dimensions; cudnn-rnn tensors have at most ${MAX_DIMS}`);
  if (!Array.isArray(offsets) || offsets.length !== 2 || offsets.some((o) => !Number.isSafeInteger(o) || o < 0)) {
    fail(`${what}: data_offsets must be [begin, end] with non-negative integers, but got ${JSON.stringify(offsets)}`);
  }
  const [begin, end] = offsets as number[];
  if (end < begin) fail(`${what}: data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength) {
    fail(`${what}: data_offsets [${begin}, ${end}] go past the end of the data (${dataLength} bytes): the file is truncated or the offsets are wrong`);
  }
  // Element count without overflow: any product beyond the byte span is already a mismatch.
  const span = end - begin;
  const size = READ_DTYPES[dtype].size;
  let numel = shape.includes(0) ? 0 : 1;
  for (const s of shape as number[]) {
    numel *= s;
    if (numel * size > span) break;
  }
  if (numel * size !== span) {
    fail(`${what}: shape ${formatShape(shape as number[])} of ${dtype} needs ${shape.includes(0) ? 0 : (shape as number[]).reduce((p, q) => p * q, size)} bytes, but data_offsets [${begin}, ${end}] hold ${span}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

/** Checks that the tensors tile [0, dataLength) exactly: no gap, no overlap, nothing left over. */
function checkCoverage(tensors: TensorInfo[], dataLength: number): void {
  const sorted = [...tensors].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  let previous: TensorInfo | null = null;
  for (const t of sorted) {
    if (t.begin < expected && previous !== null) {
      fail(`tensors ${JSON.stringify(previous.name)} [${previous.begin}, ${previous.end}] and ${JSON.stringify(t.name)} [${t.begin}, ${t.end}] overlap`);
    }
    if (t.begin > expected) fail(`data bytes [${expected}, ${t.begin}) belong to no tensor (before ${JSON.stringify(t.name)})`);
    expected = t.end;
    previous = t;
  }
  if (expected !== dataLength) {
    fail(`the data section has ${dataLength} bytes but the tensors cover only ${expected} (${dataLength - expected} trailing bytes)`);
  }
}

function parseHeader(src: Source): Header {
  if (src.size < 8) fail(`the input is ${src.size} bytes, too short for the 8-byte header length`);
  const prefix = src.read(0, 8);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES)) fail(`the header length ${n} is larger than the ${MAX_HEADER_BYTES}-byte limit`);
  const headerLength = Number(n);
  if (8 + headerLength > src.size) {
    fail(`the header length ${headerLength} is larger than the rest of the input (${src.size - 8} bytes): the file is truncated or not safetensors`);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(src.read(8, headerLength));
  } catch {
    fail('the header is not valid UTF-8');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    fail(`the header is not valid JSON (${(err as Error).message})`);
  }
  if (!isPlainObject(raw)) fail(`the header must be a JSON object, but it is ${describe(raw)}`);
  const dataLength = src.size - 8 - headerLength;
  let metadata: Record<string, string> | null = null;
  const tensors: TensorInfo[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (key === '__metadata__') {
      if (!isPlainObject(value)) fail(`__metadata__ must be an object mapping strings to strings, but got ${describe(value)}`);
      metadata = {};
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') fail(`__metadata__ must map strings to strings, but ${JSON.stringify(k)} maps to ${describe(v)}`);
        defineEntry(metadata, k, v);
      }
    } else {
      tensors.push(parseTensorInfo(key, value, dataLength));
    }
  }
  checkCoverage(tensors, dataLength);
  tensors.sort((a, b) => a.begin - b.begin || a.end - b.end);
  return { tensors, metadata, dataStart: 8 + headerLength };
}

/** One tensor, filled chunk by chunk from the source (converting where its dtype needs it). */
function readTensor(src: Source, dataStart: number, info: TensorInfo, device: Device): Tensor {
  const spec = READ_DTYPES[info.dtype];
  const out = Tensor.empty(info.shape, spec.to, device);
  try {
    const total = info.end - info.begin;
    const step = CHUNK_BYTES - (CHUNK_BYTES % spec.size);
    for (let done = 0; done < total; done += step) {
      const bytes = src.read(dataStart + info.begin + done, Math.min(step, total - done));
      const count = bytes.length / spec.size;
      const first = done / spec.size;
      if (spec.convert === undefined) {
        native.storageWrite(out._storage.handle, done, bytes);
      } else {
        const chunk = spec.to === 'float32' ? new Float32Array(count) : new Int32Array(count);
        // Typed views need aligned bytes; a buffer given to deserialize() may not be (new Uint8Array copies;
        // Buffer.slice would not).
        const aligned = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
        spec.convert(aligned, chunk, count, info.name, first);
        native.storageWrite(out._storage.handle, first * ITEM_SIZE[spec.to], chunk);
      }
    }
  } catch (err) {
    out.dispose();
    throw err;
  }
  return out;
}

export interface LoadOptions {
  /** Where the tensors go (default: the default device). */
  device?: string;
}

function resolveLoad(where: string, options: unknown): Device {
  if (options === undefined) return getDefaultDevice();
  if (typeof options !== 'object' || options === null) throw typeError(where, 'options', 'an object', options);
  checkOptionKeys(where, options, ['device']);
  const device = (options as LoadOptions).device;
  return device === undefined ? getDefaultDevice() : resolveDevice(where, device);
}

function readAll(src: Source, device: Device): Record<string, Tensor> {
  checkHost();
  const header = parseHeader(src);
  const out: Record<string, Tensor> = {};
  try {
    for (const info of header.tensors) defineEntry(out, info.name, readTensor(src, header.dataStart, info, device));
  } catch (err) {
    for (const t of Object.values(out)) t.dispose();
    throw err;
  }
  return out;
}

function checkBuffer(where: string, buf: unknown): Uint8Array {
  if (!(buf instanceof Uint8Array)) throw typeError(where, 'buffer', 'a Buffer or Uint8Array', buf);
  return buf;
}

/** Tensors from safetensors bytes, keyed by name (in file order). */
export function deserialize(buf: Uint8Array, options?: LoadOptions): Record<string, Tensor> {
  const device = resolveLoad('safetensors.deserialize', options);
  return readAll(bufferSource(checkBuffer('safetensors.deserialize', buf)), device);
}

function withFile<R>(path: fs.PathLike, fn: (src: Source) => R): R {
  const fd = fs.openSync(path, 'r');
  try {
    return fn(fileSource(fd, fs.fstatSync(fd).size));
  } finally {
    fs.closeSync(fd);
  }
}

/** Tensors of a .safetensors file, keyed by name (e.g. for module.loadStateDict()). */
export function load(path: fs.PathLike, options?: LoadOptions): Record<string, Tensor> {
  const device = resolveLoad('safetensors.load', options);
  return withFile(path, (src) => readAll(src, device));
}

/** The "__metadata__" of safetensors bytes (null when absent); reads only the header. */
export function deserializeMetadata(buf: Uint8Array): Record<string, string> | null {
  return parseHeader(bufferSource(checkBuffer('safetensors.deserializeMetadata', buf))).metadata;
}

/** The "__metadata__" of a .safetensors file (null when absent); reads only the header. */
export function loadMetadata(path: fs.PathLike): Record<string, string> | null {
  return withFile(path, (src) => parseHeader(src).metadata);
}
