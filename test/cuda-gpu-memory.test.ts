// GPU suite: device memory. The caching allocator's counters, 1,000 training
// steps with flat device memory, and out-of-memory errors that leave the
// process usable. Skipped, with the reason printed, where 'cuda' is not usable.
//
// Run the GPU suites in one process (`npx jest test/cuda-gpu --runInBand`) when
// other work shares the GPU: nothing here holds more than a few MiB, and the
// out-of-memory cases ask for more than the device has in one request, so
// they fail at once without squeezing anything else.
import * as cr from '../lib';
import type { Tensor } from '../lib';
import { compareArrays, gpu, gpuDescribe } from './gpu/common';

const { nn, optim } = cr;
const MiB = 2 ** 20;
const onGpu = gpuDescribe('cuda-gpu-memory');

onGpu('device memory (cuda-gpu-memory)', () => {
  beforeAll(() => {
    cr.setDefaultDevice('cpu');
  });

  test('the memory counters follow allocations, frees, the cache and emptyCache()', () => {
    gpu.synchronize();
    gpu.emptyCache();
    const base = gpu.memoryStats();
    expect(base.allocated).toBe(gpu.memoryAllocated());
    expect(base.reserved).toBe(gpu.memoryReserved());
    expect(base.reserved).toBeGreaterThanOrEqual(base.allocated);
    for (const arg of [undefined, 0, 'cuda', 'cuda:0']) {
      expect(() => gpu.synchronize(arg)).not.toThrow();
      expect(gpu.memoryAllocated(arg)).toBe(base.allocated);
    }

    const t = cr.zeros([16 * MiB], { device: 'cuda' }); // 64 MiB
    const s1 = gpu.memoryStats();
    expect(s1.allocated - base.allocated).toBeGreaterThanOrEqual(64 * MiB);
    expect(s1.allocated - base.allocated).toBeLessThan(66 * MiB); // rounding, not waste
    expect(s1.reserved).toBeGreaterThanOrEqual(s1.allocated);
    expect(s1.driverAllocs).toBeGreaterThan(base.driverAllocs); // the cache was empty: a cudaMalloc
    expect(gpu.maxMemoryAllocated()).toBeGreaterThanOrEqual(s1.allocated);

    t.dispose();
    const s2 = gpu.memoryStats();
    expect(s2.allocated).toBe(base.allocated); // freed at dispose(), not at GC
    expect(s2.reserved).toBe(s1.reserved); // kept in the cache

    const again = cr.zeros([16 * MiB], { device: 'cuda' });
    expect(gpu.memoryStats().driverAllocs).toBe(s1.driverAllocs); // served from the cache
    expect(Array.from(again.narrow(0, 16 * MiB - 3, 3).dataSync())).toEqual([0, 0, 0]); // zeros, even from a reused block
    again.dispose();

    gpu.resetPeakMemoryStats();
    expect(gpu.maxMemoryAllocated()).toBe(gpu.memoryAllocated());
    gpu.emptyCache();
    expect(gpu.memoryReserved()).toBeLessThanOrEqual(s1.reserved - 64 * MiB);
    expect(gpu.memoryAllocated()).toBe(base.allocated);
  });

  test('tidy() and dispose() return every GPU tensor of a forward + backward to the allocator', () => {
    const gru = new nn.GRU(8, 16, { numLayers: 2, device: 'cuda' });
    const x = cr.randn([5, 3, 8], { device: 'cuda' });
    gpu.synchronize();
    const before = gpu.memoryAllocated();
    const tensorsBefore = cr.memory().numTensors;
    cr.tidy(() => {
      const [y, h] = gru.forward(x);
      cr.add(cr.sum(y), cr.sum(h)).backward();
    });
    gru.zeroGrad({ setToNone: true });
    gpu.synchronize();
    expect(cr.memory().numTensors).toBe(tensorsBefore);
    expect(gpu.memoryAllocated()).toBe(before);
    x.dispose();
    gru.dispose();
  });

  test('1,000 training steps of a GRU + Linear with Adam on cuda: device memory is flat after warm-up, and the loss goes down', () => {
    cr.manualSeed(0);
    const T = 20;
    const N = 8;
    const C = 10;
    const makeNet = (device: string) => ({
      gru: new nn.GRU(16, 32, { numLayers: 2, device }),
      head: new nn.Linear(32, C, { device }),
    });
    const net = makeNet('cpu');
    const ref = makeNet('cpu');
    ref.gru.loadStateDict(net.gru.stateDict());
    ref.head.loadStateDict(net.head.stateDict());
    net.gru.to('cuda');
    net.head.to('cuda');
    const xc = cr.randn([T, N, 16], { device: 'cpu' });
    const targetValues = Int32Array.from({ length: T * N }, (_v, i) => (i * 7 + 3) % C);
    const tc = cr.tensor(targetValues, { dtype: 'int32', device: 'cpu' });
    const x = xc.to('cuda');
    const target = tc.to('cuda');
    const params = (n: typeof net) => [...n.gru.parameters(), ...n.head.parameters()];
    const opt = new optim.Adam(params(net), { lr: 1e-2 });
    const optRef = new optim.Adam(params(ref), { lr: 1e-2 });
    const step = (n: typeof net, o: cr.optim.Adam, xs: Tensor, ts: Tensor): number => cr.tidy(() => {
      o.zeroGrad();
      const [y] = n.gru.forward(xs);
      const logits = n.head.forward(y).reshape([T * N, C]);
      const loss = cr.nn.functional.crossEntropy(logits, ts);
      loss.backward();
      o.step();
      return loss.item();
    });

    const losses: number[] = [];
    const refLosses: number[] = [];
    const allocatedOff: string[] = [];
    let warm: { stats: ReturnType<typeof gpu.memoryStats>; tensors: number } | null = null;
    let peakAt100 = 0;
    const levels = new Set<number>();
    try {
      for (let i = 0; i < 1000; ++i) {
        losses.push(step(net, opt, x, target));
        if (i < 10) refLosses.push(step(ref, optRef, xc, tc)); // the same steps on the CPU backend
        gpu.synchronize();
        if (i === 19) {
          warm = { stats: gpu.memoryStats(), tensors: cr.memory().numTensors };
          gpu.resetPeakMemoryStats();
        } else if (warm !== null) {
          // Never above the warm-up level. (Below it only if the garbage collector
          // reclaims a tensor some earlier suite in this process leaked: see atEnd.)
          const a = gpu.memoryAllocated();
          if (a > warm.stats.allocated && allocatedOff.length < 5) allocatedOff.push(`step ${i}: allocated ${a}, after warm-up ${warm.stats.allocated}`);
          levels.add(a);
          if (i === 99) peakAt100 = gpu.maxMemoryAllocated();
        }
      }
      const end = gpu.memoryStats();
      const w = (warm as NonNullable<typeof warm>).stats;
      expect(allocatedOff).toEqual([]);
      // No cudaMalloc after warm-up and nothing more held from the driver.
      expect({ driverAllocs: end.driverAllocs, reserved: end.reserved }).toEqual({ driverAllocs: w.driverAllocs, reserved: w.reserved });
      // allocated came back to one level after every step: the warm-up level, unless
      // an unrelated leaked tensor of an earlier suite was collected (a drop, once).
      expect(levels.size).toBeLessThanOrEqual(2);
      if (levels.size === 1) expect([...levels]).toEqual([w.allocated]);
      expect(gpu.maxMemoryAllocated()).toBeLessThanOrEqual(peakAt100); // each step peaks at the same height
      expect(cr.memory().numTensors).toBe((warm as NonNullable<typeof warm>).tensors);
      // The same first steps as the CPU backend (float32 differences ~1e-7; Adam's
      // sign-like update near zero gradients can amplify them a little).
      expect(compareArrays('first 10 losses', losses.slice(0, 10), refLosses, { rel: 1e-3 })).toEqual([]);
      // It trained: 160 fixed samples are memorised (on the CPU backend: 2.32 -> 8e-5).
      expect(losses[999]).toBeLessThan(0.1 * losses[0]);
      expect(losses.every(Number.isFinite)).toBe(true);
    } finally {
      opt.dispose();
      optRef.dispose();
      for (const m of [net.gru, net.head, ref.gru, ref.head]) m.dispose();
      for (const t of [xc, tc, x, target]) t.dispose();
    }
  }, 300000);

  describe('out of memory', () => {
    const total = (): number => gpu.devices()[0].totalMemory;
    const oom = expect.objectContaining({ code: 'ERR_CUDNN_RNN_OUT_OF_MEMORY', message: expect.stringMatching(/out of memory/i) });

    test('an absurd tensor (2^48 bytes) throws ERR_CUDNN_RNN_OUT_OF_MEMORY; nothing leaks and the device keeps working', () => {
      gpu.synchronize();
      const before = gpu.memoryAllocated();
      expect(() => cr.zeros([2 ** 20, 2 ** 20, 64], { device: 'cuda' })).toThrow(oom);
      expect(() => cr.randn([2 ** 20, 2 ** 20, 64], { device: 'cuda' })).toThrow(oom);
      expect(gpu.memoryAllocated()).toBe(before);
      const t = cr.arange(0, 1000, 1, { device: 'cuda' });
      expect(cr.sum(t).item()).toBe(499500);
      t.dispose();
    });

    test('one request larger than the device (total memory + 1 GiB) throws the same, after trying the cache', () => {
      const n = Math.ceil((total() + 2 ** 30) / 4);
      const keepAlive = cr.ones([MiB], { device: 'cuda' });
      const before = gpu.memoryAllocated();
      expect(() => cr.zeros([n], { device: 'cuda' })).toThrow(oom);
      expect(() => cr.ones([2, n], { dtype: 'float64', device: 'cuda' })).toThrow(oom);
      expect(gpu.memoryAllocated()).toBe(before);
      // Tensors that existed are intact; new ones work.
      expect(cr.sum(keepAlive).item()).toBe(MiB);
      const after = cr.full([4], 2.5, { device: 'cuda' });
      expect(Array.from(after.dataSync())).toEqual([2.5, 2.5, 2.5, 2.5]);
      after.dispose();
      keepAlive.dispose();
    });

    test('an RNN forward whose output cannot fit throws ERR_CUDNN_RNN_OUT_OF_MEMORY; the module then runs normally', () => {
      const H = 4096;
      const N = 1024;
      // y alone is (L, N, H) float32: 1.25x the device's memory, while x is (L, N, 1) (a few MiB).
      const L = Math.ceil((1.25 * total()) / (N * H * 4));
      const gru = new nn.GRU(1, H, { device: 'cuda' });
      const x = cr.zeros([L, N, 1], { device: 'cuda' });
      gpu.synchronize();
      const before = gpu.memoryAllocated();
      try {
        gru.eval();
        expect(() => cr.noGrad(() => gru.forward(x))).toThrow(oom);
        gru.train();
        expect(() => gru.forward(x)).toThrow(oom);
        gpu.synchronize();
        expect(gpu.memoryAllocated()).toBe(before);
        const small = cr.zeros([3, 2, 1], { device: 'cuda' });
        const [y, h] = cr.noGrad(() => gru.forward(small));
        expect([[...y.shape], [...h.shape]]).toEqual([[3, 2, H], [1, 2, H]]);
        expect(y.dataSync().every(Number.isFinite)).toBe(true);
        for (const t of [small, y, h]) t.dispose();
      } finally {
        x.dispose();
        gru.dispose();
      }
    });
  });
});
