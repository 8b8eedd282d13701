// formatTensor against what PyTorch 1.13 prints (fixtures from gen_format.py).
import * as fs from 'fs';
import * as path from 'path';
import { formatTensor, FormatDType, FormatExtra } from '../lib/format';

interface FormatCase {
  name: string;
  values: (number | string)[];
  shape: number[];
  dtype: FormatDType;
  extra: FormatExtra;
  expected: string;
}

const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'format.json'), 'utf8')) as {
  cases: FormatCase[];
};

// JSON has no nan/inf; the generator writes them as strings.
function decode(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v === 'nan') return NaN;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  throw new Error(`unexpected value ${v}`);
}

function asStored(values: number[], dtype: FormatDType): ArrayLike<number> {
  // Hand the formatter what a tensor's storage would give it.
  if (dtype === 'float32') return Float32Array.from(values);
  if (dtype === 'float64') return Float64Array.from(values);
  return Int32Array.from(values);
}

describe('formatTensor matches torch str()', () => {
  it('has the fixture cases', () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(40);
  });

  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const values = asStored(c.values.map(decode), c.dtype);
    expect(formatTensor(values, c.shape, c.dtype, c.extra)).toBe(c.expected);
  });

  it('keeps float32 values exact when given plain numbers', () => {
    expect(formatTensor([0.1, 0.2], [2], 'float32', {})).toBe('tensor([0.1000, 0.2000])');
  });
});
