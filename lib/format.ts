// PyTorch's tensor printing (torch/_tensor_str.py, 1.13, default print
// options), so that String(tensor) reads exactly like str(t) in Python.

export type FormatDType = 'float32' | 'float64' | 'int32';

export interface FormatExtra {
  requiresGrad?: boolean;
  gradFn?: string;
  device?: string;
}

// torch's PRINT_OPTS defaults.
const PRECISION = 4;
const THRESHOLD = 1000;
const EDGE_ITEMS = 3;
const LINE_WIDTH = 80;
const PREFIX = 'tensor(';

// ---------------------------------------------------------------------------
// Python's float formatting ('{:.4f}', '{:.4e}', '{:.0f}'). JavaScript's
// toFixed/toExponential round exact ties away from zero and lose the sign of
// -0; Python rounds the exact binary value half to even and keeps the sign.
// So the digits are computed exactly, from the double's mantissa and exponent.

interface ExactDouble {
  mantissa: bigint; // |value| = mantissa * 2^exponent, exactly
  exponent: number;
}

function decompose(magnitude: number): ExactDouble {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, magnitude);
  const high = view.getUint32(0);
  const low = view.getUint32(4);
  const biased = (high >>> 20) & 0x7ff;
  const fraction = (BigInt(high & 0xfffff) << 32n) | BigInt(low);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 }; // subnormal
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

const pow10 = (n: number): bigint => 10n ** BigInt(n);

/** round(mantissa * 2^exponent * 10^scale) with ties to even, exactly. */
function roundScaled(x: ExactDouble, scale: number): bigint {
  let num = x.mantissa * pow10(Math.max(scale, 0));
  let den = pow10(Math.max(-scale, 0));
  if (x.exponent >= 0) num <<= BigInt(x.exponent);
  else den <<= BigInt(-x.exponent);
  const quotient = num / den;
  const twiceRemainder = 2n * (num % den);
  if (twiceRemainder > den || (twiceRemainder === den && (quotient & 1n) === 1n)) return quotient + 1n;
  return quotient;
}

function isNegative(value: number): boolean {
  return value < 0 || Object.is(value, -0);
}

function nonFinite(value: number): string | undefined {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return undefined;
}

/** Python's '{:.<precision>f}'.format(value). */
export function pythonFixed(value: number, precision: number): string {
  const special = nonFinite(value);
  if (special !== undefined) return special;
  const digits = roundScaled(decompose(Math.abs(value)), precision).toString().padStart(precision + 1, '0');
  const body = precision > 0 ? `${digits.slice(0, -precision)}.${digits.slice(-precision)}` : digits;
  return (isNegative(value) ? '-' : '') + body;
}

/** Python's '{:.<precision>e}'.format(value). */
export function pythonExponential(value: number, precision: number): string {
  const special = nonFinite(value);
  if (special !== undefined) return special;
  const sign = isNegative(value) ? '-' : '';
  const magnitude = Math.abs(value);
  let digits: bigint;
  let exp10 = 0;
  if (magnitude === 0) {
    digits = 0n;
  } else {
    const exact = decompose(magnitude);
    // Math.log10 can be off by one near powers of ten; the exact rounding
    // below tells: too small an exponent gives precision + 2 digits.
    exp10 = Math.floor(Math.log10(magnitude));
    digits = roundScaled(exact, precision - exp10);
    if (digits < pow10(precision)) {
      exp10 -= 1;
      digits = roundScaled(exact, precision - exp10);
    }
    while (digits >= pow10(precision + 1)) {
      exp10 += 1;
      digits = roundScaled(exact, precision - exp10);
    }
  }
  const text = digits.toString().padStart(precision + 1, '0');
  const mantissa = precision > 0 ? `${text[0]}.${text.slice(1)}` : text;
  const expText = String(Math.abs(exp10)).padStart(2, '0');
  return `${sign}${mantissa}e${exp10 < 0 ? '-' : '+'}${expText}`;
}

// ---------------------------------------------------------------------------
// torch's _Formatter: one number style and width for the whole tensor,
// chosen from the values that will be shown.

type Mode = 'int' | 'integral-float' | 'fixed' | 'sci';

class Formatter {
  readonly mode: Mode;
  readonly width: number;

  constructor(shown: number[], dtype: FormatDType) {
    if (dtype === 'int32') {
      this.mode = 'int';
      let width = 1;
      for (const v of shown) width = Math.max(width, String(v).length);
      this.width = width;
      return;
    }
    const finite = shown.filter((v) => Number.isFinite(v) && v !== 0);
    if (finite.length === 0) {
      // No number to measure: nan/inf/zeros print as '0.' / 'nan' at width 1.
      this.mode = 'integral-float';
      this.width = 1;
      return;
    }
    let max = 0;
    let min = Infinity;
    for (const v of finite) {
      max = Math.max(max, Math.abs(v));
      min = Math.min(min, Math.abs(v));
    }
    const integral = finite.every((v) => v === Math.ceil(v));
    const needsSci = max / min > 1000 || max > 1e8 || (!integral && min < 1e-4);
    let width = 1;
    if (needsSci) {
      this.mode = 'sci';
      for (const v of finite) width = Math.max(width, pythonExponential(v, PRECISION).length);
    } else if (integral) {
      // Integral floats print as '3.': one more column than the digits.
      this.mode = 'integral-float';
      for (const v of finite) width = Math.max(width, pythonFixed(v, 0).length + 1);
    } else {
      this.mode = 'fixed';
      for (const v of finite) width = Math.max(width, pythonFixed(v, PRECISION).length);
    }
    this.width = width;
  }

  format(value: number): string {
    let text: string;
    switch (this.mode) {
      case 'int':
        text = String(value);
        break;
      case 'sci':
        text = pythonExponential(value, PRECISION);
        break;
      case 'integral-float':
        text = pythonFixed(value, 0) + (Number.isFinite(value) ? '.' : '');
        break;
      case 'fixed':
        text = pythonFixed(value, PRECISION);
        break;
    }
    return text.padStart(this.width, ' ');
  }
}

// ---------------------------------------------------------------------------
// Layout: nested brackets, wrapping at 80 columns, '...' when summarised.

interface Block {
  read: (offset: number) => number;
  shape: number[];
  strides: number[];
}

function contiguousStrides(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = stride;
    stride *= shape[d];
  }
  return strides;
}

/** Indices along one dimension that are printed: all, or 3 at each end. */
function shownIndices(size: number, summarize: boolean): { head: number[]; tail: number[] } {
  const all = Array.from({ length: size }, (_, i) => i);
  if (summarize && size > 2 * EDGE_ITEMS) {
    return { head: all.slice(0, EDGE_ITEMS), tail: all.slice(size - EDGE_ITEMS) };
  }
  return { head: all, tail: [] };
}

/** The values get_summarized_data keeps, which are also the ones printed. */
function collectShown(block: Block, summarize: boolean, dim: number, offset: number, out: number[]): void {
  if (dim === block.shape.length) {
    out.push(block.read(offset));
    return;
  }
  const { head, tail } = shownIndices(block.shape[dim], summarize);
  for (const i of [...head, ...tail]) collectShown(block, summarize, dim + 1, offset + i * block.strides[dim], out);
}

function vectorString(block: Block, offset: number, indent: number, summarize: boolean, formatter: Formatter): string {
  const dim = block.shape.length - 1;
  const elementLength = formatter.width + 2; // the ', ' after each element
  const perLine = Math.max(1, Math.floor((LINE_WIDTH - indent) / elementLength));
  const { head, tail } = shownIndices(block.shape[dim], summarize);
  const at = (i: number) => formatter.format(block.read(offset + i * block.strides[dim]));
  const items = tail.length > 0 ? [...head.map(at), ' ...', ...tail.map(at)] : head.map(at);
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
  return '[' + lines.join(',\n' + ' '.repeat(indent + 1)) + ']';
}

function blockString(
  block: Block,
  dim: number,
  offset: number,
  indent: number,
  summarize: boolean,
  formatter: Formatter,
): string {
  const rank = block.shape.length;
  if (rank === 0) return formatter.format(block.read(0));
  if (dim === rank - 1) return vectorString(block, offset, indent, summarize, formatter);
  const { head, tail } = shownIndices(block.shape[dim], summarize);
  const sub = (i: number) =>
    blockString(block, dim + 1, offset + i * block.strides[dim], indent + 1, summarize, formatter);
  const slices = tail.length > 0 ? [...head.map(sub), '...', ...tail.map(sub)] : head.map(sub);
  // One blank line between slices per dimension below the innermost.
  const separator = ',' + '\n'.repeat(rank - dim - 1) + ' '.repeat(indent + 1);
  return '[' + slices.join(separator) + ']';
}

/** _add_suffixes: ', suffix' on the last line, or a new line past 80 columns. */
function addSuffixes(text: string, suffixes: string[], indent: number): string {
  const parts = [text];
  let lastLineLength = text.length - text.lastIndexOf('\n') + 1; // torch's count, off by its +1
  for (const suffix of suffixes) {
    if (lastLineLength + suffix.length + 2 > LINE_WIDTH) {
      parts.push(',\n' + ' '.repeat(indent) + suffix);
      lastLineLength = indent + suffix.length;
    } else {
      parts.push(', ' + suffix);
      lastLineLength += suffix.length + 2;
    }
  }
  parts.push(')');
  return parts.join('');
}

/**
 * What PyTorch 1.13 prints for str(t)/repr(t) of a strided tensor with these
 * row-major values. float32 values must be exact float32 values (a
 * Float32Array's elements); they are formatted as the doubles they widen to,
 * as PyTorch does.
 */
export function formatTensor(
  values: ArrayLike<number>,
  shape: number[],
  dtype: FormatDType,
  extra: FormatExtra = {},
): string {
  const numel = shape.reduce((n, s) => n * s, 1);
  const suffixes: string[] = [];
  if (extra.device !== undefined && extra.device !== 'cpu') suffixes.push(`device='${extra.device}'`);

  let body: string;
  if (numel === 0) {
    // No element shows the type, so any non-default dtype is named.
    if (shape.length !== 1) suffixes.push(`size=${pythonTuple(shape)}`);
    body = '[]';
  } else {
    // fround is a no-op on a Float32Array's elements and makes any other
    // input the float32 value PyTorch would hold.
    const read = dtype === 'float32' ? (i: number) => Math.fround(values[i]) : (i: number) => values[i];
    const block: Block = { read, shape, strides: contiguousStrides(shape) };
    const summarize = numel > THRESHOLD;
    const shown: number[] = [];
    collectShown(block, summarize, 0, 0, shown);
    const formatter = new Formatter(shown, dtype);
    body = blockString(block, 0, 0, PREFIX.length, summarize, formatter);
  }
  if (dtype !== 'float32') suffixes.push(`dtype=torch.${dtype}`);
  if (extra.gradFn !== undefined) suffixes.push(`grad_fn=<${extra.gradFn}>`);
  else if (extra.requiresGrad) suffixes.push('requires_grad=True');
  return addSuffixes(PREFIX + body, suffixes, PREFIX.length);
}

function pythonTuple(shape: number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}
