// GPU suite: backend 'nccl' with a real libnccl.so.2, one process per GPU
// (NCCL refuses two ranks on one GPU), so as many ranks as this machine has
// GPUs, at most 2: allReduce / broadcast on CUDA tensors, and
// DistributedDataParallel on a GRU on cuda:<rank> against one process on the
// concatenated batch (float64, 1e-10). Skipped, with the reason printed,
// without GPUs, mpirun or NCCL; the binding's logic is tested on CPU CI
// against a fake NCCL (test/distributed-nccl.test.ts).
import * as cr from '../lib';
import { gpuDescribe } from './gpu/common';
import { mpirunPath, runMpi } from './helpers/mpi';

const nccl = cr.distributed.ncclInfo();
const usable = mpirunPath() !== null && nccl.available;
if (!usable) console.log(`NCCL GPU suite skipped: ${mpirunPath() === null ? 'no mpirun on PATH' : nccl.reason}`);
const describeNccl = usable ? gpuDescribe('NCCL GPU suite') : describe.skip;

describeNccl('backend nccl on GPUs', () => {
  test('collectives on CUDA tensors and DDP of a GRU equal one process on the whole batch', () => {
    const np = Math.min(2, cr.cuda.deviceCount());
    const r = runMpi(np, `
const d = cr.distributed;
d.initProcessGroup({ backend: 'nccl' });
const rank = d.getRank(), size = d.getWorldSize(); out.rank = rank;
const dev = 'cuda:' + rank;
const s = cr.tensor(Array.from({ length: 1001 }, (_, i) => i * (rank + 1)), { dtype: 'float64', device: dev });
d.allReduce(s); out.sum = Array.from(s.dataSync()).slice(0, 5);
const a = cr.tensor([1 + rank, 3], { dtype: 'float32', device: dev });
await d.allReduceAsync(a, { op: 'avg' }); out.avg = Array.from(a.dataSync());
const b = cr.tensor([rank, rank, rank], { dtype: 'int32', device: dev });
d.broadcast(b, { src: size - 1 }); out.bcast = Array.from(b.dataSync());
const T = 5, N = 3, I = 4, H = 6;
const data = (step, r) => cr.tensor(Array.from({ length: T * N * I }, (_, i) => Math.sin(0.37 * i + 1.3 * step + 2.1 * r)), { dtype: 'float64', device: dev }).reshape([T, N, I]);
const target = (step, r) => cr.tensor(Array.from({ length: T * N * H }, (_, i) => Math.cos(0.11 * i + 0.7 * step + 0.9 * r)), { dtype: 'float64', device: dev }).reshape([T, N, H]);
const build = (seed) => { cr.manualSeed(seed); return new cr.nn.GRU(I, H, { numLayers: 2, dtype: 'float64' }).to(dev); };
const ddp = new cr.nn.parallel.DistributedDataParallel(build(100 + rank));
const opt = new cr.optim.Adam(ddp.parameters(), { lr: 0.01 });
for (let step = 0; step < 20; step++) {
  opt.zeroGrad();
  const [y] = ddp.forward(data(step, rank));
  cr.nn.functional.mseLoss(y, target(step, rank)).backward();
  opt.step();
}
const ref = build(100);
const refOpt = new cr.optim.Adam(ref.parameters(), { lr: 0.01 });
for (let step = 0; step < 20; step++) {
  refOpt.zeroGrad();
  const xs = [], ts = [];
  for (let r = 0; r < size; r++) { xs.push(data(step, r)); ts.push(target(step, r)); }
  const [y] = ref.forward(cr.cat(xs, 1));
  cr.nn.functional.mseLoss(y, cr.cat(ts, 1)).backward();
  refOpt.step();
}
const mine = ddp.module.parameters(), theirs = ref.parameters();
out.maxDiff = Math.max(...mine.map((p, i) => cr.amax(cr.abs(cr.sub(p, theirs[i]))).item()));
d.destroyProcessGroup();
`, 300_000);
    expect(r.stderr).not.toMatch(/failed/);
    expect(r.status).toBe(0);
    expect(r.results).toHaveLength(np);
    const tri = (k: number): number => (k * (k + 1)) / 2;
    for (const o of r.results) {
      expect(o.sum).toEqual([0, 1, 2, 3, 4].map((i) => i * tri(np)));
      expect(o.avg).toEqual([(tri(np)) / np, 3]);
      expect(o.bcast).toEqual([np - 1, np - 1, np - 1]);
      expect(o.maxDiff as number).toBeLessThan(1e-10);
    }
  }, 360_000);
});
