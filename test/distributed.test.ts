// Two processes under mpirun (Open MPI on CI; .ci/run installs it): the
// collectives on odd sizes and every dtype, DistributedDataParallel against
// one process on the concatenated batch, and a failing rank ending the job.
import { mpirunPath, runMpi } from './helpers/mpi';

const haveMpi = mpirunPath() !== null;
const describeMpi = haveMpi ? describe : describe.skip;
if (!haveMpi) console.warn('distributed tests skipped: no mpirun on PATH (apt-get install openmpi-bin libopenmpi3)');

const SIZES = [1, 7, 1001];

describeMpi('collectives on 2 processes', () => {
  let r: ReturnType<typeof runMpi>;
  beforeAll(() => {
    r = runMpi(2, `
const d = cr.distributed;
out.before = d.isInitialized();
attempt('allReduceBeforeInit', () => d.allReduce(cr.zeros([2])));
d.initProcessGroup({ backend: 'mpi' });
const rank = d.getRank();
out.rank = rank; out.size = d.getWorldSize(); out.initialized = d.isInitialized(); out.backend = d.getBackend();
const make = (dtype, n, k) => cr.tensor(Array.from({ length: n }, (_, i) => dtype === 'int32' ? (i % 13) * (rank + k) - 5 : (i + 0.25) * (rank + k) / 3), { dtype });
for (const dtype of ['float32', 'float64', 'int32']) {
  for (const n of ${JSON.stringify(SIZES)}) {
    const key = dtype + '_' + n;
    const sum = make(dtype, n, 1); d.allReduce(sum); out['sum_' + key] = Array.from(sum.dataSync());
    const max = make(dtype, n, 2); d.allReduce(max, { op: 'max' }); out['max_' + key] = Array.from(max.dataSync());
    if (dtype !== 'int32') { const avg = make(dtype, n, 3); d.allReduce(avg, { op: 'avg' }); out['avg_' + key] = Array.from(avg.dataSync()); }
    const b = make(dtype, n, 4); d.broadcast(b, { src: 1 }); out['bcast_' + key] = Array.from(b.dataSync());
    const sa = make(dtype, n, 1); const ba = make(dtype, n, 4);
    const [ra, rb] = await Promise.all([d.allReduceAsync(sa), d.broadcastAsync(ba, { src: 0 }), d.barrierAsync()]);
    out['asum_' + key] = Array.from(ra.dataSync()); out['abcast_' + key] = Array.from(rb.dataSync());
  }
}
// The event loop keeps running while an async collective waits for the other rank.
let ticks = 0; const timer = setInterval(() => ticks++, 5);
if (rank === 1) await new Promise((res) => setTimeout(res, 300));
await d.barrierAsync();
clearInterval(timer); out.ticksDuringBarrier = ticks;
d.barrier();
const pendingOne = d.allReduceAsync(cr.ones([2]));
attempt('syncWhilePending', () => d.barrier());
await pendingOne;
attempt('intAvg', () => d.allReduce(cr.zeros([3], { dtype: 'int32' }), { op: 'avg' }));
attempt('badOp', () => d.allReduce(cr.zeros([3]), { op: 'min' }));
attempt('badSrc', () => d.broadcast(cr.zeros([3]), { src: 2 }));
attempt('nonContiguous', () => d.allReduce(cr.zeros([3, 4]).t()));
attempt('notTensor', () => d.allReduce([1, 2]));
attempt('twice', () => d.initProcessGroup({ backend: 'mpi' }));
attempt('badBackend', () => cr.distributed.initProcessGroup({ backend: 'gloo' }));
d.destroyProcessGroup();
out.afterDestroy = d.isInitialized();
attempt('rankAfterDestroy', () => d.getRank());
d.initProcessGroup({ backend: 'mpi' });
const again = cr.tensor([rank + 1]); d.allReduce(again); out.reinit = again.item();
`);
  }, 180_000);

  const value = (dtype: string, i: number, rank: number, k: number): number => {
    if (dtype === 'int32') return (i % 13) * (rank + k) - 5;
    const v = ((i + 0.25) * (rank + k)) / 3;
    return dtype === 'float32' ? Math.fround(v) : v;
  };

  test('both ranks report', () => {
    expect(r.stderr).not.toMatch(/rank \d failed/);
    expect(r.status).toBe(0);
    expect(r.results.map((o) => [o.rank, o.size, o.initialized, o.backend, o.before])).toEqual([[0, 2, true, 'mpi', false], [1, 2, true, 'mpi', false]]);
  });

  test.each(['float32', 'float64', 'int32'])('allReduce sum/max/avg and broadcast, %s, odd sizes', (dtype) => {
    // Exact: MPI adds two values once, in the tensor's own precision.
    const round = dtype === 'float32' ? Math.fround : (x: number): number => x;
    const close = (got: unknown, want: number[]): void => {
      expect(got).toEqual(want.map(round));
    };
    for (const o of r.results) {
      for (const n of SIZES) {
        const key = `${dtype}_${n}`;
        const idx = Array.from({ length: n }, (_, i) => i);
        const sum = idx.map((i) => value(dtype, i, 0, 1) + value(dtype, i, 1, 1));
        close(o[`sum_${key}`], sum);
        close(o[`asum_${key}`], sum);
        close(o[`max_${key}`], idx.map((i) => Math.max(value(dtype, i, 0, 2), value(dtype, i, 1, 2))));
        if (dtype !== 'int32') close(o[`avg_${key}`], idx.map((i) => round(value(dtype, i, 0, 3) + value(dtype, i, 1, 3)) / 2));
        close(o[`bcast_${key}`], idx.map((i) => value(dtype, i, 1, 4)));
        close(o[`abcast_${key}`], idx.map((i) => value(dtype, i, 0, 4)));
      }
    }
  });

  test('async collectives leave the event loop running', () => {
    expect(r.results[0].ticksDuringBarrier as number).toBeGreaterThan(5);
  });

  test('errors name the argument', () => {
    const o = r.results[0];
    expect((o.allReduceBeforeInit as { message: string }).message).toMatch(/allReduce: Default process group has not been initialized/);
    expect((o.intAvg as { message: string }).message).toMatch(/op 'avg' needs a floating-point tensor, got int32/);
    expect((o.badOp as { message: string }).message).toMatch(/options.op must be 'sum', 'avg' or 'max', got "min"/);
    expect((o.badSrc as { message: string }).message).toMatch(/options.src must be an integer rank in \[0, 1\], got 2/);
    expect((o.nonContiguous as { message: string }).message).toMatch(/Tensors must be contiguous/);
    expect((o.notTensor as { message: string }).message).toMatch(/tensor must be a Tensor/);
    expect((o.twice as { message: string }).message).toMatch(/initialize the default process group twice/);
    expect((o.badBackend as { message: string }).message).toMatch(/'mpi' or 'nccl', got "gloo"/);
    expect((o.syncWhilePending as { message: string }).message).toMatch(/barrier: 1 async collective\(s\) still pending/);
    expect(o.afterDestroy).toBe(false);
    expect((o.rankAfterDestroy as { message: string }).message).toMatch(/getRank/);
    expect(r.results.map((x) => x.reinit)).toEqual([3, 3]);
  });
});

describeMpi('DistributedDataParallel', () => {
  test('20 Adam steps of a GRU on 2 ranks equal one process on the concatenated batch (float64)', () => {
    const r = runMpi(2, `
const d = cr.distributed;
d.initProcessGroup({ backend: 'mpi' });
const rank = d.getRank(); out.rank = rank;
const T = 5, N = 3, I = 4, H = 6;
const data = (step, r) => cr.tensor(Array.from({ length: T * N * I }, (_, i) => Math.sin(0.37 * i + 1.3 * step + 2.1 * r)), { dtype: 'float64' }).reshape([T, N, I]);
const target = (step, r) => cr.tensor(Array.from({ length: T * N * H }, (_, i) => Math.cos(0.11 * i + 0.7 * step + 0.9 * r)), { dtype: 'float64' }).reshape([T, N, H]);
const build = (seed) => { cr.manualSeed(seed); return new cr.nn.GRU(I, H, { numLayers: 2, dtype: 'float64' }); };
// Replicas start from different weights: DDP must hand every rank rank 0's.
const ddp = new cr.nn.parallel.DistributedDataParallel(build(100 + rank));
const opt = new cr.optim.Adam(ddp.parameters(), { lr: 0.01 });
for (let step = 0; step < 20; step++) {
  opt.zeroGrad();
  const [y] = ddp.forward(data(step, rank));
  cr.nn.functional.mseLoss(y, target(step, rank)).backward();
  opt.step();
}
// The reference: one process, rank 0's initial weights, both ranks' batches.
const ref = build(100);
const refOpt = new cr.optim.Adam(ref.parameters(), { lr: 0.01 });
for (let step = 0; step < 20; step++) {
  refOpt.zeroGrad();
  const [y] = ref.forward(cr.cat([data(step, 0), data(step, 1)], 1));
  cr.nn.functional.mseLoss(y, cr.cat([target(step, 0), target(step, 1)], 1)).backward();
  refOpt.step();
}
const mine = ddp.module.parameters(), theirs = ref.parameters();
out.maxDiff = Math.max(...mine.map((p, i) => cr.amax(cr.abs(cr.sub(p, theirs[i]))).item()));
out.moved = cr.amax(cr.abs(cr.sub(mine[0], build(100).parameters()[0]))).item();
out.keys = Object.keys(ddp.stateDict()).slice(0, 2);
out.first = mine[0].dataSync()[0];
`);
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.status).toBe(0);
    expect(r.results).toHaveLength(2);
    for (const o of r.results) {
      expect(o.maxDiff as number).toBeLessThan(1e-10);
      expect(o.moved as number).toBeGreaterThan(1e-3);
      expect(o.keys).toEqual(['module.weight_ih_l0', 'module.weight_hh_l0']);
    }
    expect(r.results[0].first).toBe(r.results[1].first);
  }, 180_000);
});

describeMpi('a failing rank', () => {
  test('ends the job with its error instead of leaving the others waiting', () => {
    const r = runMpi(2, `
const d = cr.distributed;
d.initProcessGroup({ backend: 'mpi' });
if (d.getRank() === 1) throw new Error('rank one broke on purpose');
d.allReduce(cr.ones([5]));
`, 60_000);
    expect(r.timedOut).toBe(false);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/rank 1 failed, aborting every rank \(MPI_Abort\)/);
    expect(r.stderr).toMatch(/rank one broke on purpose/);
    expect(r.results).toHaveLength(0);
  }, 90_000);
});
