// The Tensor API: creation, reads, conversion, views sharing storage, and memory
// management (tidy/keep/dispose/memory()).
import * as cr from '../lib';
import type { Tensor } from '../lib';
import { expectMatches, loadOpsFixture, toleranceFor } from './helpers/fixtures';

function thrown(fn: () => unknown): Error & { code?: string } {
  try {
    fn();
  } catch (e) {
    return e as Error & { code?: string };
  }
  throw new Error('expected the call to throw');
}

let baseline = { numTensors: 0, numBytes: 0, numStorages: 0 };
beforeEach(() => {
  const m = cr.memory();
  baseline = { numTensors: m.numTensors, numBytes: m.numBytes, numStorages: m.numStorages };
});
afterEach(() => {
  const m = cr.memory();
  expect({ numTensors: m.numTensors, numBytes: m.numBytes, numStorages: m.numStorages }).toEqual(baseline);
});

describe('creation', () => {
  test('tensor(number) is a 0-d float32 tensor', () => {
    cr.tidy(() => {
      const t = cr.tensor(2.5);
      expect(t.shape).toEqual([]);
      expect(t.ndim).toBe(0);
      expect(t.numel).toBe(1);
      expect(t.dtype).toBe('float32');
      expect(t.item()).toBe(2.5);
      expect(t.arraySync()).toBe(2.5);
    });
  });

  test('nested arrays give the nested shape; JS numbers default to float32', () => {
    cr.tidy(() => {
      const t = cr.tensor([[1, 2, 3], [4, 5, 6]]);
      expect(t.shape).toEqual([2, 3]);
      expect(t.dtype).toBe('float32');
      expect(t.dataSync()).toBeInstanceOf(Float32Array);
      expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
      expect(t.arraySync()).toEqual([[1, 2, 3], [4, 5, 6]]);
      const d = cr.tensor([[[0.1]], [[0.2]]], { dtype: 'float64' });
      expect(d.shape).toEqual([2, 1, 1]);
      expect(d.dtype).toBe('float64');
      expect(Array.from(d.dataSync())).toEqual([0.1, 0.2]);
      const f = cr.tensor([0.1]);
      expect(f.dataSync()[0]).toBe(Math.fround(0.1));
    });
  });

  test('empty nested arrays', () => {
    cr.tidy(() => {
      expect(cr.tensor([]).shape).toEqual([0]);
      expect(cr.tensor([[], []]).shape).toEqual([2, 0]);
    });
  });

  test('typed arrays keep their type; other typed arrays become float32', () => {
    cr.tidy(() => {
      expect(cr.tensor(new Float32Array([1, 2])).dtype).toBe('float32');
      expect(cr.tensor(new Float64Array([1, 2])).dtype).toBe('float64');
      const i = cr.tensor(new Int32Array([1, -2]));
      expect(i.dtype).toBe('int32');
      expect(i.dataSync()).toBeInstanceOf(Int32Array);
      const u = cr.tensor(new Uint8Array([255, 0]));
      expect(u.dtype).toBe('float32');
      expect(Array.from(u.dataSync())).toEqual([255, 0]);
    });
  });

  test('the shape option reshapes flat data (typed or plain)', () => {
    cr.tidy(() => {
      const t = cr.tensor(new Float64Array([1, 2, 3, 4, 5, 6]), { shape: [3, 2] });
      expect(t.shape).toEqual([3, 2]);
      expect(t.dtype).toBe('float64');
      expect(t.arraySync()).toEqual([[1, 2], [3, 4], [5, 6]]);
      expect(cr.tensor([1, 2, 3, 4], { shape: [2, 2] }).arraySync()).toEqual([[1, 2], [3, 4]]);
      expect(cr.tensor(new Float32Array([7]), { shape: [] }).shape).toEqual([]);
      const e = thrown(() => cr.tensor(new Float32Array(5), { shape: [2, 3] }));
      expect(e.name).toBe('RangeError');
      expect(e.message).toContain('[2, 3]');
    });
  });

  test('the dtype option converts data (float -> int32 truncates)', () => {
    cr.tidy(() => {
      const t = cr.tensor([1.7, -1.7, 2], { dtype: 'int32' });
      expect(t.dtype).toBe('int32');
      expect(Array.from(t.dataSync())).toEqual([1, -1, 2]);
      const d = cr.tensor(new Float32Array([0.1]), { dtype: 'float64' });
      expect(d.dataSync()[0]).toBe(Math.fround(0.1));
    });
  });

  test('ragged nested arrays throw a RangeError naming the offending element', () => {
    const e = thrown(() => cr.tensor([[1, 2], [3]]));
    expect(e.name).toBe('RangeError');
    expect(e.message).toMatch(/ragged/);
    expect(e.message).toContain('data[1]');
    const e2 = thrown(() => cr.tensor([[1, 2], 3] as unknown as number[][]));
    expect(e2.message).toMatch(/ragged/);
    const e3 = thrown(() => cr.tensor([[[1], [2]], [[3], [4, 5]]]));
    expect(e3.message).toContain('data[1][1]');
  });

  test('tensor(Tensor) copies', () => {
    cr.tidy(() => {
      const a = cr.tensor([1, 2]);
      const b = cr.tensor(a);
      expect(b).not.toBe(a);
      cr.noGrad(() => a.fill_(9));
      expect(Array.from(b.dataSync())).toEqual([1, 2]);
      const c = cr.tensor(a, { dtype: 'float64' });
      expect(c.dtype).toBe('float64');
    });
  });

  test('zeros / ones / full / *Like', () => {
    cr.tidy(() => {
      const z = cr.zeros([2, 3]);
      expect(z.shape).toEqual([2, 3]);
      expect(z.dtype).toBe('float32');
      expect(Array.from(z.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
      expect(Array.from(cr.ones(3, { dtype: 'int32' }).dataSync())).toEqual([1, 1, 1]);
      expect(cr.ones(3, { dtype: 'int32' }).dtype).toBe('int32');
      expect(Array.from(cr.full([2], -1.5, { dtype: 'float64' }).dataSync())).toEqual([-1.5, -1.5]);
      expect(cr.zeros([]).shape).toEqual([]);
      expect(cr.zeros([0, 4]).numel).toBe(0);
      const base = cr.tensor(new Float64Array([1, 2, 3]), { shape: [3, 1] });
      const zl = cr.zerosLike(base);
      expect(zl.shape).toEqual([3, 1]);
      expect(zl.dtype).toBe('float64');
      expect(Array.from(cr.onesLike(base).dataSync())).toEqual([1, 1, 1]);
      expect(Array.from(cr.fullLike(base, 4).dataSync())).toEqual([4, 4, 4]);
      expect(cr.zerosLike(base, { dtype: 'int32' }).dtype).toBe('int32');
      const r = cr.randLike(base);
      expect(r.dtype).toBe('float64');
      expect(r.shape).toEqual([3, 1]);
      expect(cr.randnLike(base).shape).toEqual([3, 1]);
      expect(cr.ones([2], { requiresGrad: true }).requiresGrad).toBe(true);
    });
  });

  test('rand in [0, 1), randn roughly standard normal', () => {
    cr.tidy(() => {
      cr.manualSeed(3);
      const r = Array.from(cr.rand([2000]).dataSync());
      expect(Math.min(...r)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...r)).toBeLessThan(1);
      const n = Array.from(cr.randn([4000], { dtype: 'float64' }).dataSync());
      const mean = n.reduce((p, q) => p + q, 0) / n.length;
      const variance = n.reduce((p, q) => p + (q - mean) ** 2, 0) / n.length;
      expect(Math.abs(mean)).toBeLessThan(0.1);
      expect(Math.abs(variance - 1)).toBeLessThan(0.1);
      expect(() => cr.rand([2], { dtype: 'int32' })).toThrow(TypeError);
    });
  });
});

describe('arange against torch.arange', () => {
  const fixture = loadOpsFixture();
  test.each(fixture.arange.map((c) => [`arange(${c.args.join(', ')}) ${c.dtype}`, c] as const))('%s', (_n, c) => {
    const t = cr.arange(...c.args, { dtype: c.dtype });
    try {
      expectMatches(t, c.out, toleranceFor(c.dtype, false), 'arange');
    } finally {
      t.dispose();
    }
  });

  test('arange defaults to float32', () => {
    cr.tidy(() => {
      const t = cr.arange(4);
      expect(t.dtype).toBe('float32');
      expect(Array.from(t.dataSync())).toEqual([0, 1, 2, 3]);
    });
  });

  test('arange errors', () => {
    expect(thrown(() => cr.arange(0, 5, 0)).message).toContain('step must be nonzero');
    expect(thrown(() => cr.arange(5, 0, 1)).message).toContain('upper bound and larger bound inconsistent with step sign');
    expect(thrown(() => cr.arange(NaN)).name).toBe('TypeError');
    expect(thrown(() => cr.arange(0, Infinity)).name).toBe('TypeError');
  });
});

describe('reads', () => {
  test('dataSync / data / arraySync / array / item', async () => {
    const t = cr.tensor([[1, 2], [3, 4]], { dtype: 'float64' });
    try {
      const d = t.dataSync();
      expect(d).toBeInstanceOf(Float64Array);
      expect(Array.from(d)).toEqual([1, 2, 3, 4]);
      d[0] = 100; // a copy: the tensor is unchanged
      expect(t.dataSync()[0]).toBe(1);
      const p = t.data();
      expect(p).toBeInstanceOf(Promise);
      expect(Array.from(await p)).toEqual([1, 2, 3, 4]);
      expect(t.arraySync()).toEqual([[1, 2], [3, 4]]);
      expect(await t.array()).toEqual([[1, 2], [3, 4]]);
      const e = thrown(() => t.item());
      expect(e.name).toBe('RangeError');
      expect(e.message).toContain('4 elements');
    } finally {
      t.dispose();
    }
  });

  test('reads of non-contiguous views are in logical order', () => {
    cr.tidy(() => {
      const x = cr.tensor([[1, 2, 3], [4, 5, 6]]);
      const v = cr.t(x);
      expect(v.isContiguous).toBe(false);
      expect(Array.from(v.dataSync())).toEqual([1, 4, 2, 5, 3, 6]);
      expect(v.arraySync()).toEqual([[1, 4], [2, 5], [3, 6]]);
      expect(cr.select(x, 1, 2).arraySync()).toEqual([3, 6]);
      expect(cr.select(cr.select(x, 1, 2), 0, 1).item()).toBe(6);
      expect(cr.expand(cr.tensor([7]), [2, 2]).arraySync()).toEqual([[7, 7], [7, 7]]);
    });
  });

  test('data() rejects (does not throw) for a disposed tensor', async () => {
    const t = cr.tensor([1]);
    t.dispose();
    await expect(t.data()).rejects.toMatchObject({ code: 'ERR_CUDNN_RNN_DISPOSED' });
    await expect(t.array()).rejects.toMatchObject({ code: 'ERR_CUDNN_RNN_DISPOSED' });
  });

  test('size(), dim(), shape, strides, toString', () => {
    cr.tidy(() => {
      const x = cr.zeros([2, 3, 4]);
      expect(x.size()).toEqual([2, 3, 4]);
      expect(x.size(-1)).toBe(4);
      expect(x.dim()).toBe(3);
      expect(x.rank).toBe(3);
      expect(x.strides).toEqual([12, 4, 1]);
      expect(Object.isFrozen(x.shape)).toBe(true);
      const p = cr.permute(x, [2, 0, 1]);
      expect(p.strides).toEqual([1, 12, 4]);
      expect(p.isContiguous).toBe(false);
      expect(x.device).toBe('cpu');
      expect(String(cr.tensor([1, 2]))).toBe('tensor([1., 2.])');
    });
  });
});

describe('conversion', () => {
  test('to(dtype) converts; to the same dtype returns the tensor itself', () => {
    cr.tidy(() => {
      const x = cr.tensor([1.5, -2.5]);
      expect(cr.to(x, 'float32')).toBe(x);
      expect(x.to('cpu')).toBe(x);
      const d = x.to('float64');
      expect(d.dtype).toBe('float64');
      expect(Array.from(d.dataSync())).toEqual([1.5, -2.5]);
      expect(Array.from(x.to({ dtype: 'int32' }).dataSync())).toEqual([1, -2]);
      expect(x.double().dtype).toBe('float64');
      expect(x.int().dtype).toBe('int32');
      expect(d.float().dtype).toBe('float32');
      expect(x.cpu()).toBe(x);
    });
  });

  test('clone copies into new contiguous storage', () => {
    cr.tidy(() => {
      const x = cr.tensor([[1, 2], [3, 4]]);
      const c = cr.t(x).clone();
      expect(c.isContiguous).toBe(true);
      expect(c.arraySync()).toEqual([[1, 3], [2, 4]]);
      cr.noGrad(() => x.fill_(0));
      expect(c.arraySync()).toEqual([[1, 3], [2, 4]]);
    });
  });

  test('contiguous() returns the tensor itself when already contiguous', () => {
    cr.tidy(() => {
      const x = cr.tensor([[1, 2], [3, 4]]);
      expect(x.contiguous()).toBe(x);
      const c = cr.t(x).contiguous();
      expect(c).not.toBe(x);
      expect(c.isContiguous).toBe(true);
    });
  });
});

describe('views share storage', () => {
  test('writes to the base (copy_ under noGrad) are seen through views', () => {
    cr.tidy(() => {
      const base = cr.zeros([2, 3]);
      const views = [cr.t(base), cr.reshape(base, [6]), cr.view(base, [3, 2]), cr.narrow(base, 1, 1, 2), cr.select(base, 0, 1),
        cr.unsqueeze(base, 0), cr.permute(base, [1, 0]), cr.expand(cr.unsqueeze(base, 0), [2, 2, 3]), cr.squeeze(cr.unsqueeze(base, 1)),
        ...cr.chunk(base, 3, 1), ...cr.split(base, 1, 0), ...cr.unbind(base, 1), cr.flatten(base), base.detach()];
      cr.noGrad(() => base.copy_(cr.tensor([[1, 2, 3], [4, 5, 6]])));
      const got = views.map((v) => v.arraySync());
      expect(got).toEqual([
        [[1, 4], [2, 5], [3, 6]], [1, 2, 3, 4, 5, 6], [[1, 2], [3, 4], [5, 6]], [[2, 3], [5, 6]], [4, 5, 6],
        [[[1, 2, 3], [4, 5, 6]]], [[1, 4], [2, 5], [3, 6]], [[[1, 2, 3], [4, 5, 6]], [[1, 2, 3], [4, 5, 6]]], [[1, 2, 3], [4, 5, 6]],
        [[1], [4]], [[2], [5]], [[3], [6]], [[1, 2, 3]], [[4, 5, 6]], [1, 4], [2, 5], [3, 6], [1, 2, 3, 4, 5, 6], [[1, 2, 3], [4, 5, 6]],
      ]);
    });
  });

  test('writes through a view are seen in the base', () => {
    cr.tidy(() => {
      const base = cr.zeros([3, 4]);
      const col = cr.select(base, 1, 2);
      cr.noGrad(() => col.copy_(cr.tensor([7, 8, 9])));
      const block = cr.narrow(cr.t(base), 0, 0, 2);
      cr.noGrad(() => block.fill_(1));
      expect(base.arraySync()).toEqual([[1, 1, 7, 0], [1, 1, 8, 0], [1, 1, 9, 0]]);
      cr.noGrad(() => cr.narrow(base, 0, 2, 1).add_(cr.tensor([10, 10, 10, 10])));
      expect(base.arraySync()).toEqual([[1, 1, 7, 0], [1, 1, 8, 0], [11, 11, 19, 10]]);
    });
  });

  test('copy_ broadcasts and converts dtype', () => {
    cr.tidy(() => {
      const x = cr.zeros([2, 3], { dtype: 'int32' });
      cr.noGrad(() => x.copy_(cr.tensor([1.9, -2.9, 3])));
      expect(x.arraySync()).toEqual([[1, -2, 3], [1, -2, 3]]);
    });
  });

  test('a view keeps the storage alive after its base is disposed', () => {
    const before = cr.memory().numStorages;
    const base = cr.tensor([1, 2, 3, 4]);
    const v = cr.narrow(base, 0, 1, 2);
    expect(cr.memory().numStorages).toBe(before + 1);
    base.dispose();
    expect(cr.memory().numStorages).toBe(before + 1);
    expect(Array.from(v.dataSync())).toEqual([2, 3]);
    v.dispose();
    expect(cr.memory().numStorages).toBe(before);
  });
});

describe('memory management', () => {
  test('memory() counts tensors and bytes', () => {
    const m0 = cr.memory();
    const a = cr.zeros([10], { dtype: 'float64' });
    const b = cr.zeros([3], { dtype: 'int32' });
    const v = cr.narrow(a, 0, 0, 5);
    const m1 = cr.memory();
    expect(m1.numTensors - m0.numTensors).toBe(3);
    expect(m1.numStorages - m0.numStorages).toBe(2);
    expect(m1.numBytes - m0.numBytes).toBe(80 + 12);
    expect(m1.hostBytes).toBeGreaterThanOrEqual(m1.numBytes);
    a.dispose();
    b.dispose();
    v.dispose();
  });

  test('tidy disposes intermediates but not the returned tensor', () => {
    const x = cr.tensor([1, 2, 3]);
    const before = cr.memory().numTensors;
    let inner: Tensor | null = null;
    const y = cr.tidy(() => {
      inner = cr.mul(x, 2);
      return cr.add(inner, 1);
    });
    expect(cr.memory().numTensors).toBe(before + 1);
    expect(inner!.isDisposed).toBe(true);
    expect(y.isDisposed).toBe(false);
    expect(x.isDisposed).toBe(false);
    expect(Array.from(y.dataSync())).toEqual([3, 5, 7]);
    x.dispose();
    y.dispose();
  });

  test('tidy keeps tensors in returned arrays, nested objects and Maps', () => {
    const before = cr.memory().numTensors;
    const r = cr.tidy('named', () => {
      const a = cr.ones([2]);
      const b = cr.mul(a, 3);
      const c = cr.add(b, 1);
      const d = cr.exp(c);
      cr.neg(d); // dropped
      return { list: [a, { deep: [b] }], map: new Map([['c', c]]), n: 1 };
    });
    expect(cr.memory().numTensors).toBe(before + 3);
    expect(Array.from((r.list[0] as Tensor).dataSync())).toEqual([1, 1]);
    expect(Array.from(((r.list[1] as { deep: Tensor[] }).deep[0]).dataSync())).toEqual([3, 3]);
    expect(Array.from(r.map.get('c')!.dataSync())).toEqual([4, 4]);
    (r.list[0] as Tensor).dispose();
    ((r.list[1] as { deep: Tensor[] }).deep[0]).dispose();
    r.map.get('c')!.dispose();
    expect(cr.memory().numTensors).toBe(before);
  });

  test('nested tidy: a tensor returned by the inner scope belongs to the outer one', () => {
    const before = cr.memory().numTensors;
    let fromInner: Tensor | null = null;
    const out = cr.tidy(() => {
      fromInner = cr.tidy(() => cr.mul(cr.ones([2]), 2));
      expect(fromInner.isDisposed).toBe(false);
      return cr.add(fromInner, 1);
    });
    expect(fromInner!.isDisposed).toBe(true);
    expect(Array.from(out.dataSync())).toEqual([3, 3]);
    out.dispose();
    expect(cr.memory().numTensors).toBe(before);
  });

  test('keep() exempts a tensor from tidy', () => {
    let kept: Tensor | null = null;
    cr.tidy(() => {
      kept = cr.keep(cr.ones([3]));
      cr.ones([4]);
    });
    expect(kept!.isDisposed).toBe(false);
    expect(Array.from(kept!.dataSync())).toEqual([1, 1, 1]);
    kept!.dispose();
  });

  test('tidy disposes everything when fn throws, and rejects async functions', () => {
    const before = cr.memory().numTensors;
    expect(() => cr.tidy(() => {
      cr.ones([5]);
      throw new Error('inside');
    })).toThrow('inside');
    expect(cr.memory().numTensors).toBe(before);
    expect(() => cr.tidy((async () => cr.ones([1])) as unknown as () => Tensor)).toThrow(/Promise/);
    expect(() => cr.tidy(42 as unknown as () => void)).toThrow(TypeError);
  });

  test('dispose is idempotent and disposes .grad', () => {
    const before = cr.memory().numTensors;
    const x = cr.tensor([1, 2], { requiresGrad: true });
    cr.tidy(() => cr.sum(cr.mul(x, x)).backward());
    expect(cr.memory().numTensors).toBe(before + 2);
    x.dispose();
    x.dispose();
    expect(x.isDisposed).toBe(true);
    expect(cr.memory().numTensors).toBe(before);
    expect(String(x)).toBe('Tensor(disposed)');
  });

  test('numTensors / numBytes go back to the baseline after a training-like loop', () => {
    const m0 = cr.memory();
    const w = cr.tensor(new Float64Array([0.1, -0.2, 0.3, 0.4, 0.5, -0.6]), { shape: [3, 2], dtype: 'float64', requiresGrad: true });
    for (let step = 0; step < 5; ++step) {
      cr.tidy(() => {
        const x = cr.randn([4, 3], { dtype: 'float64' });
        const loss = cr.mean(cr.logSoftmax(cr.matmul(x, w), 1));
        loss.backward();
        cr.noGrad(() => w.sub_(w.grad!, { alpha: 0.1 }));
        w.grad!.zero_();
      });
    }
    w.dispose();
    const m1 = cr.memory();
    expect(m1.numTensors).toBe(m0.numTensors);
    expect(m1.numBytes).toBe(m0.numBytes);
    expect(m1.numStorages).toBe(m0.numStorages);
  });

  test('use after dispose throws an Error with code ERR_CUDNN_RNN_DISPOSED', () => {
    const x = cr.tensor([1, 2]);
    const y = cr.tensor([3, 4]);
    x.dispose();
    const calls: Array<() => unknown> = [
      () => x.dataSync(), () => x.arraySync(), () => x.item(), () => cr.add(x, y), () => cr.add(y, x), () => x.add(1),
      () => cr.matmul(x, y), () => cr.exp(x), () => cr.sum(x), () => cr.reshape(x, [2, 1]), () => cr.cat([y, x]),
      () => x.clone(), () => x.to('float64'), () => x.detach(), () => cr.zerosLike(x), () => x.backward(),
      () => cr.noGrad(() => y.copy_(x)), () => cr.noGrad(() => x.fill_(1)), () => cr.tensor(x),
    ];
    for (const call of calls) {
      const e = thrown(call);
      expect(e).toBeInstanceOf(Error);
      expect(e.code).toBe('ERR_CUDNN_RNN_DISPOSED');
      expect(e.message).toMatch(/disposed/);
    }
    y.dispose();
  });
});
