// GPU suite: tensors on device 'cuda' (moves, reads, factories, every op
// family and its gradient) against the CPU backend on the same values.
// Skipped, with the reason printed, where 'cuda' is not usable.
//
// Tolerances (element passes when |gpu - cpu| <= tol * max(1, |cpu|)):
// float64 1e-12, float32 1e-5. Moves and copies are exact (bitwise).
import * as cr from '../lib';
import type { Tensor } from '../lib';
import { prng, normals } from './helpers/gradcheck';
import { compareTensors, CudaTensor, firstBitDifference, gpuDescribe, Tol } from './gpu/common';

type FloatDT = 'float32' | 'float64';
const TOL: Record<FloatDT, Tol> = { float64: { rel: 1e-12 }, float32: { rel: 1e-5 } };

const onGpu = gpuDescribe('cuda-gpu-tensors');

/** A CPU tensor of N(0,1) values (mapped), the same numbers for both dtypes (float32-exact). */
function cpuValues(rng: () => number, shape: number[], dtype: FloatDT, map: (v: number) => number = (v) => v): Tensor {
  const n = shape.reduce((p, q) => p * q, 1);
  const vals = Float64Array.from(normals(rng, n).map((v) => Math.fround(map(v))));
  return cr.tensor(vals, { shape, dtype: 'float64', device: 'cpu' }).to(dtype);
}

const positive = (v: number): number => Math.abs(v) + 0.5;
const awayFromZero = (v: number): number => Math.sign(v || 1) * (Math.abs(v) + 0.5);

interface OpSpec {
  name: string;
  inputs: Array<{ shape: number[]; map?: (v: number) => number }>;
  /** Extra non-differentiable operands made on the right device (e.g. int32 indices). */
  fn: (xs: Tensor[], device: string) => Tensor | Tensor[];
}

const idx = (values: number[], device: string): Tensor => cr.tensor(Int32Array.from(values), { dtype: 'int32', device });

const OPS: OpSpec[] = [
  // pointwise, with broadcasting and scalars
  { name: 'add broadcast [3,1,5] + [4,5]', inputs: [{ shape: [3, 1, 5] }, { shape: [4, 5] }], fn: ([a, b]) => cr.add(a, b) },
  { name: 'sub with alpha, broadcast [2,3] - 0.5*[3]', inputs: [{ shape: [2, 3] }, { shape: [3] }], fn: ([a, b]) => cr.sub(a, b, { alpha: 0.5 }) },
  { name: 'mul [4,1] * [1,6] * 1.5', inputs: [{ shape: [4, 1] }, { shape: [1, 6] }], fn: ([a, b]) => cr.mul(cr.mul(a, b), 1.5) },
  { name: 'div [3,4] / [4] and by a scalar', inputs: [{ shape: [3, 4] }, { shape: [4], map: awayFromZero }], fn: ([a, b]) => cr.div(cr.div(a, b), 3) },
  { name: 'pow by scalar and by broadcast tensor', inputs: [{ shape: [3, 4], map: positive }, { shape: [4] }], fn: ([a, b]) => [cr.pow(a, 2.5), cr.pow(a, b)] },
  { name: 'maximum / minimum', inputs: [{ shape: [5, 6] }, { shape: [5, 6] }], fn: ([a, b]) => [cr.maximum(a, b), cr.minimum(a, b)] },
  { name: 'neg, exp, tanh, sigmoid', inputs: [{ shape: [4, 5], map: (v) => 0.7 * v }], fn: ([a]) => [cr.neg(a), cr.exp(a), cr.tanh(a), cr.sigmoid(a)] },
  { name: 'log, sqrt of positive values', inputs: [{ shape: [6, 3], map: positive }], fn: ([a]) => [cr.log(a), cr.sqrt(a)] },
  { name: 'relu, abs, square, clamp', inputs: [{ shape: [7, 3] }], fn: ([a]) => [cr.relu(a), cr.abs(a), cr.square(a), cr.clamp(a, -0.5, 0.7)] },
  { name: 'pointwise on a transposed (non-contiguous) operand', inputs: [{ shape: [4, 6] }, { shape: [6, 4] }], fn: ([a, b]) => cr.mul(cr.tanh(a.t()), b) },
  // reductions
  { name: 'sum: all, dim 1, dims [0,2] keepdim', inputs: [{ shape: [3, 4, 5] }], fn: ([a]) => [cr.sum(a), cr.sum(a, 1), cr.sum(a, [0, 2], true)] },
  { name: 'mean: all and dim -1', inputs: [{ shape: [3, 4, 5] }], fn: ([a]) => [cr.mean(a), cr.mean(a, -1)] },
  { name: 'amax over dim 1 and all', inputs: [{ shape: [4, 9] }], fn: ([a]) => [cr.amax(a, 1), cr.amax(a)] },
  { name: 'sum of a permuted view', inputs: [{ shape: [3, 4, 5] }], fn: ([a]) => cr.sum(cr.permute(a, [2, 0, 1]), 1) },
  { name: 'softmax / logSoftmax over each dim', inputs: [{ shape: [4, 7], map: (v) => 3 * v }], fn: ([a]) => [cr.softmax(a, -1), cr.logSoftmax(a, 0), cr.softmax(a, 0), cr.logSoftmax(a, 1)] },
  // matmul
  { name: 'matmul [5,8] @ [8,3]', inputs: [{ shape: [5, 8] }, { shape: [8, 3] }], fn: ([a, b]) => cr.matmul(a, b) },
  { name: 'matmul a.t() @ b and a @ b.t() (transposed operands)', inputs: [{ shape: [8, 5] }, { shape: [8, 3] }], fn: ([a, b]) => [cr.matmul(a.t(), b), cr.matmul(b.t(), a)] },
  { name: 'matmul batched broadcast [2,1,4,6] @ [3,6,5]', inputs: [{ shape: [2, 1, 4, 6] }, { shape: [3, 6, 5] }], fn: ([a, b]) => cr.matmul(a, b) },
  { name: 'matmul with a permuted batch operand', inputs: [{ shape: [4, 3, 6] }, { shape: [3, 6, 2] }], fn: ([a, b]) => cr.matmul(cr.permute(a, [1, 0, 2]), b) },
  { name: 'matmul vec @ mat, mat @ vec, dot', inputs: [{ shape: [6] }, { shape: [6, 4] }, { shape: [4] }], fn: ([v, m, w]) => [cr.matmul(v, m), cr.matmul(m, w), cr.matmul(v, v)] },
  // Inner sizes stay <= 40: float32 rounding of a K-term dot product grows like sqrt(K) and must stay well inside 1e-5.
  { name: 'matmul [40,32] @ [32,40] (cuBLAS sized)', inputs: [{ shape: [40, 32] }, { shape: [32, 40] }], fn: ([a, b]) => cr.matmul(a, b) },
  // shape and index ops
  { name: 'cat along 1, stack along 0', inputs: [{ shape: [2, 3] }, { shape: [2, 4] }, { shape: [2, 3] }], fn: ([a, b, c]) => [cr.cat([a, b], 1), cr.stack([a, c], 0)] },
  { name: 'chunk, split, unbind', inputs: [{ shape: [6, 4] }], fn: ([a]) => [...cr.chunk(a, 3, 0), ...cr.split(a, [1, 3], 1), ...cr.unbind(a, 1)] },
  { name: 'narrow, select, expand, reshape of a transpose', inputs: [{ shape: [4, 5] }, { shape: [1, 5] }], fn: ([a, b]) => [cr.narrow(a, 1, 1, 3), cr.select(a, 0, 2), cr.mul(cr.expand(b, [3, 5]), 2), cr.reshape(cr.transpose(a, 0, 1), [10, 2])] },
  { name: 'indexSelect with repeated indices (gradient accumulation)', inputs: [{ shape: [5, 4] }], fn: ([a], device) => [cr.indexSelect(a, 0, idx([3, 0, 3, 1], device) as Tensor<'int32'>), cr.indexSelect(a, 1, idx([2, 2, 0], device) as Tensor<'int32'>)] },
  { name: 'to(other float dtype) and back', inputs: [{ shape: [3, 3] }], fn: ([a]) => cr.mul(a.to(a.dtype === 'float32' ? 'float64' : 'float32'), 2).to(a.dtype) },
  // losses
  { name: 'mseLoss and crossEntropy', inputs: [{ shape: [4, 5] }, { shape: [4, 5] }], fn: ([a, b], device) => [cr.nn.functional.mseLoss(a, b), cr.nn.functional.crossEntropy(a, idx([1, 4, 0, 2], device))] },
];

onGpu('tensors on cuda (cuda-gpu-tensors)', () => {
  beforeAll(() => {
    // Every tensor here names its device; 'auto' would put the CPU side on the GPU.
    cr.setDefaultDevice('cpu');
  });

  describe('moving data', () => {
    const SPECIAL: Record<'float32' | 'float64' | 'int32', number[]> = {
      float32: [0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 1e-40, 3.4028234663852886e38, -1e-20, 7, 8],
      float64: [0, -0, 1.5, -2.25, NaN, Infinity, -Infinity, 5e-324, Number.MAX_VALUE, -1e-300, Math.PI, 1 / 3],
      int32: [0, -1, 1, 2147483647, -2147483648, 12345, -54321, 7, 8, 9, 10, 11],
    };

    test.each(['float32', 'float64', 'int32'] as const)('%s: cpu -> cuda -> cpu is exact, for contiguous tensors, views and empty tensors', (dtype) => {
      const before = cr.memory().numTensors;
      cr.tidy(() => {
        const base = cr.tensor(SPECIAL[dtype], { shape: [2, 3, 2], dtype, device: 'cpu' });
        const views: Array<[string, Tensor]> = [
          ['contiguous', base],
          ['transpose(0, 2)', base.transpose(0, 2)],
          ['narrow(1, 1, 2)', base.narrow(1, 1, 2)],
          ['select(2, 1)', base.select(2, 1)],
          ['permute(2, 0, 1)', base.permute(2, 0, 1)],
          ['expand of a row (stride 0)', base.select(0, 1).select(1, 0).unsqueeze(0).expand(4, 3)],
          ['0-d', base.select(0, 0).select(0, 2).select(0, 1)],
          ['empty [0]', cr.zeros([0], { dtype, device: 'cpu' })],
          ['empty [3, 0, 2]', cr.zeros([3, 0, 2], { dtype, device: 'cpu' })],
        ];
        const fails: string[] = [];
        for (const [what, v] of views) {
          const g = v.to('cuda');
          const back = g.to('cpu');
          const expected = v.dataSync();
          const tag = `${dtype} ${what}`;
          if (g.device !== 'cuda:0') fails.push(`${tag}: device ${g.device} on the GPU`);
          if (back.device !== 'cpu') fails.push(`${tag}: device ${back.device} after to('cpu')`);
          if (g.dtype !== dtype || back.dtype !== dtype) fails.push(`${tag}: dtype ${g.dtype}/${back.dtype}`);
          if (JSON.stringify(g.shape) !== JSON.stringify(v.shape) || JSON.stringify(back.shape) !== JSON.stringify(v.shape)) {
            fails.push(`${tag}: shapes [${g.shape}] / [${back.shape}], expected [${v.shape}]`);
          }
          // A read of the GPU tensor itself, and of the copy back, bit for bit (NaN, -0, denormals).
          if (firstBitDifference(g.dataSync(), expected) !== -1) fails.push(`${tag}: cuda dataSync() differs from the source`);
          if (firstBitDifference(back.dataSync(), expected) !== -1) fails.push(`${tag}: the round trip differs from the source`);
          if (v.numel > 0 && (back as unknown) === (v as unknown)) fails.push(`${tag}: to('cpu') returned the source itself`);
        }
        expect(fails).toEqual([]);
      });
      expect(cr.memory().numTensors).toBe(before);
    });

    test('t.cuda() and t.cpu(); to() the device a tensor is already on returns it; dtype and device convert together', () => {
      cr.tidy(() => {
        const c = cr.tensor([[1, 2, 3], [4, 5, 6]], { device: 'cpu' }) as CudaTensor;
        const g = c.cuda();
        expect(g.device).toBe('cuda:0');
        expect(g.to('cuda')).toBe(g);
        expect(g.to('cuda:0')).toBe(g);
        expect(g.cpu().device).toBe('cpu');
        expect(Array.from(g.cpu().dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
        const both = c.to({ dtype: 'float64', device: 'cuda' });
        expect([both.device, both.dtype]).toEqual(['cuda:0', 'float64']);
        expect(Array.from(both.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
        const asInt = g.to('int32');
        expect([asInt.device, asInt.dtype]).toEqual(['cuda:0', 'int32']);
        expect(cr.tensor([-2.7, 2.7], { device: 'cuda' }).to('int32').arraySync()).toEqual([-2, 2]); // truncation, as on the CPU
      });
    });

    test.each(['float32', 'float64', 'int32'] as const)('%s: await data() equals dataSync(); array()/arraySync()/item() read the GPU', async (dtype) => {
      const c = cr.tensor(SPECIAL[dtype], { shape: [3, 4], dtype, device: 'cpu' });
      const g = c.to('cuda');
      const view = g.transpose(0, 1).narrow(0, 1, 2); // non-contiguous GPU view
      try {
        for (const t of [g, view]) {
          const sync = t.dataSync();
          const asyncRead = await t.data();
          expect(asyncRead.constructor).toBe(sync.constructor);
          expect(firstBitDifference(asyncRead, sync)).toBe(-1);
        }
        expect(firstBitDifference(await view.data(), c.transpose(0, 1).narrow(0, 1, 2).dataSync())).toBe(-1);
        expect(JSON.stringify(await view.array())).toBe(JSON.stringify(view.arraySync()));
        expect(JSON.stringify(g.arraySync())).toBe(JSON.stringify(c.arraySync()));
        expect(g.select(0, 0).select(0, 2).item()).toBe(c.select(0, 0).select(0, 2).item());
        // A GPU op then an async read: the read waits for the kernel.
        const doubled = cr.add(g.to('float64'), g.to('float64'));
        const got = await doubled.data();
        expect(Array.from(got)).toEqual(Array.from(c.dataSync()).map((v) => 2 * v));
        doubled.dispose();
      } finally {
        view.dispose();
        g.dispose();
        c.dispose();
      }
    });

    test('a large transfer (16 MiB) round-trips exactly, both reads', async () => {
      const n = 4 << 20;
      const src = new Float32Array(n);
      for (let i = 0; i < n; ++i) src[i] = Math.fround(Math.sin(i) * 1000);
      const g = cr.tensor(src, { shape: [1024, n / 1024], device: 'cuda' });
      try {
        expect(g.device).toBe('cuda:0');
        expect(firstBitDifference(g.dataSync(), src)).toBe(-1);
        expect(firstBitDifference(await g.data(), src)).toBe(-1);
      } finally {
        g.dispose();
      }
    });
  });

  test("factories with { device: 'cuda' } and *Like follow the device", () => {
    cr.tidy(() => {
      const made: Array<[string, Tensor, number[] | null]> = [
        ['zeros', cr.zeros([2, 3], { device: 'cuda' }), [0, 0, 0, 0, 0, 0]],
        ['ones float64', cr.ones([3], { dtype: 'float64', device: 'cuda' }), [1, 1, 1]],
        ['full int32', cr.full([2], 7, { dtype: 'int32', device: 'cuda' }), [7, 7]],
        ['arange', cr.arange(0, 5, 1, { device: 'cuda' }), [0, 1, 2, 3, 4]],
        ['tensor(nested)', cr.tensor([[1.5, -2], [3, 4]], { device: 'cuda' }), [1.5, -2, 3, 4]],
        ['tensor(typed array)', cr.tensor(Float64Array.from([0.1, 0.2]), { device: 'cuda:0' }), [0.1, 0.2]],
        ['rand', cr.rand([1000], { device: 'cuda' }), null],
        ['randn', cr.randn([1000], { dtype: 'float64', device: 'cuda' }), null],
      ];
      for (const [what, t, values] of made) {
        expect([what, t.device]).toEqual([what, 'cuda:0']);
        if (values !== null) expect([what, Array.from(t.dataSync())]).toEqual([what, values]);
      }
      const r = made[6][1].dataSync();
      expect(Math.min(...r)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...r)).toBeLessThan(1);
      const n = made[7][1].dataSync();
      const mean = Array.from(n).reduce((a, b) => a + b, 0) / n.length;
      expect(Math.abs(mean)).toBeLessThan(0.2); // 1000 N(0,1) draws: sd of the mean 0.03
      const base = made[1][1];
      for (const like of [cr.zerosLike(base), cr.onesLike(base), cr.fullLike(base, 2), cr.randLike(base), cr.randnLike(base)]) {
        expect([like.device, like.dtype]).toEqual(['cuda:0', 'float64']);
      }
      // requiresGrad on a cuda factory makes a cuda leaf.
      const leaf = cr.ones([2], { device: 'cuda', requiresGrad: true });
      cr.sum(cr.mul(leaf, 3)).backward();
      expect(leaf.grad?.device).toBe('cuda:0');
      expect(Array.from(leaf.grad?.dataSync() ?? [])).toEqual([3, 3]);
    });
  });

  test('manualSeed makes cuda random draws repeatable', () => {
    cr.manualSeed(123);
    const a = cr.randn([257], { device: 'cuda' });
    const u = cr.rand([33], { dtype: 'float64', device: 'cuda' });
    cr.manualSeed(123);
    const b = cr.randn([257], { device: 'cuda' });
    const v = cr.rand([33], { dtype: 'float64', device: 'cuda' });
    const c = cr.randn([257], { device: 'cuda' });
    expect(firstBitDifference(a.dataSync(), b.dataSync())).toBe(-1);
    expect(firstBitDifference(u.dataSync(), v.dataSync())).toBe(-1);
    expect(firstBitDifference(b.dataSync(), c.dataSync())).not.toBe(-1); // the stream moved on
    for (const t of [a, b, c, u, v]) t.dispose();
  });

  test('mixing cpu and cuda tensors in one op throws ERR_CUDNN_RNN_DEVICE_MISMATCH', () => {
    cr.tidy(() => {
      const c = cr.ones([3], { device: 'cpu' });
      const g = cr.ones([3], { device: 'cuda' });
      for (const f of [() => cr.add(c, g), () => cr.mul(g, c), () => cr.matmul(g, c), () => cr.cat([g, c])]) {
        expect(f).toThrow(expect.objectContaining({ code: 'ERR_CUDNN_RNN_DEVICE_MISMATCH', message: expect.stringContaining('cuda:0') }));
      }
      // Still usable afterwards.
      expect(Array.from(cr.add(g, g).dataSync())).toEqual([2, 2, 2]);
    });
  });

  describe.each(['float64', 'float32'] as const)('%s ops: values and gradients on cuda equal the CPU backend', (dtype) => {
    test.each(OPS.map((o) => [o.name, o] as [string, OpSpec]))('%s', (_name, op) => {
      const before = cr.memory().numTensors;
      cr.tidy(() => {
        const rng = prng(op.name.length * 7919 + (dtype === 'float32' ? 1 : 0));
        const cpuIn = op.inputs.map((s) => cpuValues(rng, s.shape, dtype, s.map).requiresGrad_());
        const gpuIn = op.inputs.map((_s, i) => cr.noGrad(() => cpuIn[i].to('cuda')).requiresGrad_());
        const asList = (r: Tensor | Tensor[]): Tensor[] => (Array.isArray(r) ? r : [r]);
        const cpuOut = asList(op.fn(cpuIn, 'cpu'));
        const gpuOut = asList(op.fn(gpuIn, 'cuda'));
        const fails: string[] = [];
        expect(gpuOut.length).toBe(cpuOut.length);
        gpuOut.forEach((g, k) => {
          if (g.device !== 'cuda:0') fails.push(`output ${k}: on ${g.device}`);
          fails.push(...compareTensors(`output ${k}`, g, cpuOut[k], TOL[dtype]));
        });
        // Same upstream gradients on both devices: L = sum_k <out_k, u_k>.
        const ups = cpuOut.map((o) => cpuValues(rng, [...o.shape], o.dtype as FloatDT));
        const loss = (outs: Tensor[], device: string): Tensor => {
          let l: Tensor | null = null;
          outs.forEach((o, k) => {
            if (!o.requiresGrad) return;
            const u = device === 'cpu' ? ups[k] : ups[k].to('cuda');
            const term = cr.sum(cr.mul(o, u));
            l = l === null ? term : cr.add(l, term);
          });
          if (l === null) throw new Error(`${op.name}: no output requires grad`);
          return l;
        };
        loss(cpuOut, 'cpu').backward();
        loss(gpuOut, 'cuda').backward();
        gpuIn.forEach((g, i) => {
          if (g.grad !== null && g.grad.device !== 'cuda:0') fails.push(`grad of input ${i}: on ${g.grad.device}`);
          fails.push(...compareTensors(`grad of input ${i}`, g.grad, cpuIn[i].grad, TOL[dtype]));
        });
        expect(fails).toEqual([]);
      });
      expect(cr.memory().numTensors).toBe(before);
    });
  });

  test('comparisons and argmax on cuda equal the CPU (exact)', () => {
    cr.tidy(() => {
      const rng = prng(99);
      const a = cpuValues(rng, [4, 6], 'float32');
      const b = cpuValues(rng, [6], 'float32');
      const ag = a.to('cuda');
      const bg = b.to('cuda');
      const pairs: Array<[string, Tensor, Tensor]> = [
        ['eq', cr.eq(ag, ag.select(0, 1)), cr.eq(a, a.select(0, 1))],
        ['ne', cr.ne(ag, 0), cr.ne(a, 0)],
        ['lt', cr.lt(ag, bg), cr.lt(a, b)],
        ['le', cr.le(ag, 0.25), cr.le(a, 0.25)],
        ['gt', cr.gt(ag, bg), cr.gt(a, b)],
        ['ge', cr.ge(bg, ag), cr.ge(b, a)],
        ['argmax dim 1', cr.argmax(ag, 1), cr.argmax(a, 1)],
        ['argmax all', cr.argmax(ag), cr.argmax(a)],
        ['int32 arithmetic', cr.add(cr.mul(cr.argmax(ag, 0), 3), 1), cr.add(cr.mul(cr.argmax(a, 0), 3), 1)],
      ];
      const fails: string[] = [];
      for (const [what, g, c] of pairs) {
        if (g.device !== 'cuda:0') fails.push(`${what}: on ${g.device}`);
        fails.push(...compareTensors(what, g, c, { abs: 0 }));
      }
      expect(fails).toEqual([]);
    });
  });

  test('in-place ops on cuda tensors and views write through, like on the CPU', () => {
    cr.tidy(() => {
      const rng = prng(5);
      const fails: string[] = [];
      for (const dtype of ['float64', 'float32'] as const) {
        const seed = cpuValues(rng, [4, 5], dtype);
        const b = cpuValues(rng, [5], dtype);
        const run = (device: string): Tensor => cr.noGrad(() => {
          const y = seed.to(device).clone();
          const bb = b.to(device);
          y.add_(bb); // broadcast
          y.mul_(2);
          y.sub_(bb, { alpha: 0.5 });
          y.div_(3);
          y.add_(1.25);
          y.mul_(bb.unsqueeze(0));
          const v = y.transpose(0, 1).narrow(0, 1, 2); // non-contiguous view of y
          v.fill_(7); // columns 1..2 of y
          y.select(0, 3).zero_(); // last row
          y.narrow(0, 0, 1).copy_(bb.unsqueeze(0).mul(-1)); // first row, broadcast source
          v.add_(v); // in place through the view, reading itself
          return y;
        });
        fails.push(...compareTensors(`${dtype} in-place sequence`, run('cuda'), run('cpu'), TOL[dtype]));
      }
      const iy = cr.arange(0, 6, 1, { dtype: 'int32', device: 'cuda' });
      iy.add_(3);
      iy.mul_(2);
      iy.narrow(0, 2, 2).fill_(-1);
      fails.push(...compareTensors('int32 in place', iy, { shape: [6], data: [6, 8, -1, -1, 14, 16] }, { abs: 0 }));
      expect(fails).toEqual([]);
      // The same refusals as on the CPU.
      const leaf = cr.ones([3], { device: 'cuda', requiresGrad: true });
      expect(() => leaf.add_(1)).toThrow(expect.objectContaining({ code: 'ERR_CUDNN_RNN_INPLACE_LEAF' }));
      cr.noGrad(() => leaf.add_(1));
      expect(Array.from(leaf.dataSync())).toEqual([2, 2, 2]);
    });
  });

  test('gradients flow across devices: a CPU leaf moved to cuda gets its gradient on the CPU', () => {
    cr.tidy(() => {
      const rng = prng(17);
      const x = cpuValues(rng, [3, 4], 'float64').requiresGrad_();
      const w = cpuValues(rng, [4, 2], 'float64');
      const onGpu = cr.sum(cr.tanh(cr.matmul(x.to('cuda'), w.to('cuda'))).to('cpu'));
      onGpu.backward();
      const gGpu = x.grad as Tensor;
      expect(gGpu.device).toBe('cpu');
      x.grad = null;
      cr.sum(cr.tanh(cr.matmul(x, w))).backward();
      expect(compareTensors('x.grad', gGpu, x.grad as Tensor | null, TOL.float64)).toEqual([]);
    });
  });

  test.each(['float64', 'float32'] as const)('%s: nn.Embedding -> nn.Linear -> crossEntropy on cuda: values and every parameter gradient equal the CPU', (dtype) => {
    cr.tidy(() => {
      cr.manualSeed(31);
      const makeNet = () => {
        const emb = new cr.nn.Embedding(11, 6, { paddingIdx: 2, dtype, device: 'cpu' });
        const lin = new cr.nn.Linear(6, 5, { dtype, device: 'cpu' });
        return { emb, lin };
      };
      const cpu = makeNet();
      const gpuNet = makeNet();
      gpuNet.emb.loadStateDict(cpu.emb.stateDict());
      gpuNet.lin.loadStateDict(cpu.lin.stateDict());
      gpuNet.emb.to('cuda');
      gpuNet.lin.to('cuda');
      expect(gpuNet.emb.weight.device).toBe('cuda:0');
      expect(gpuNet.lin.weight.device).toBe('cuda:0');
      // Repeated indices (gradient rows accumulate) and the padding index (its row's gradient stays 0).
      const ids = [[1, 2, 3, 1], [10, 1, 0, 2]];
      const target = [4, 0, 3, 1, 2, 2, 0, 4];
      const run = (net: typeof cpu, device: string): Tensor => {
        const x = cr.tensor(ids, { dtype: 'int32', device });
        const logits = net.lin.forward(net.emb.forward(x)).reshape([8, 5]);
        return cr.nn.functional.crossEntropy(logits, cr.tensor(target, { dtype: 'int32', device }));
      };
      const lc = run(cpu, 'cpu');
      const lg = run(gpuNet, 'cuda');
      lc.backward();
      lg.backward();
      const fails = compareTensors('loss', lg, lc, TOL[dtype]);
      for (const [mod, name] of [[gpuNet.emb, 'emb'], [gpuNet.lin, 'lin']] as const) {
        const other = name === 'emb' ? cpu.emb : cpu.lin;
        const ref = Object.fromEntries(other.namedParameters());
        for (const [pn, p] of mod.namedParameters()) {
          if (p.grad !== null && p.grad.device !== 'cuda:0') fails.push(`${name}.${pn}.grad on ${p.grad.device}`);
          fails.push(...compareTensors(`${name}.${pn}.grad`, p.grad, ref[pn].grad, TOL[dtype]));
        }
      }
      const padRow = (gpuNet.emb.weight.grad as Tensor).select(0, 2).dataSync();
      expect(Array.from(padRow)).toEqual([0, 0, 0, 0, 0, 0]);
      expect(fails).toEqual([]);
      for (const m of [cpu.emb, cpu.lin, gpuNet.emb, gpuNet.lin]) m.dispose();
    });
  });

  test('functional dropout on cuda: p=0 and eval are the identity, p=1 zeros, otherwise scaled 1/(1-p)', () => {
    cr.tidy(() => {
      const x = cr.ones([4000], { device: 'cuda' });
      const f = cr.nn.functional.dropout;
      expect(f(x, 0, true)).toBe(x);
      expect(f(x, 0.5, false)).toBe(x);
      expect(Array.from(new Set(f(x, 1, true).dataSync()))).toEqual([0]);
      const y = f(x, 0.25, true);
      expect(y.device).toBe('cuda:0');
      const vals = y.dataSync();
      const kept = vals.filter((v) => v !== 0);
      expect(Array.from(new Set(kept))).toEqual([Math.fround(1 / 0.75)]);
      // Binomial(4000, 0.75): sd ~27; 6 sd bounds.
      expect(Math.abs(kept.length - 3000)).toBeLessThan(165);
    });
  });
});
