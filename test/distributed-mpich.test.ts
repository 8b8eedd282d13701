// MPICH's ABI (integer handles: MPI_COMM_WORLD 0x44000000, MPI_FLOAT
// 0x4c00040a, MPI_SUM 0x58000003, ..., MPI_IN_PLACE -1) through the addon,
// as a singleton (one process, no launcher), where Debian's libmpich12 is
// installed. An invalid handle would make MPICH abort the process.
import * as fs from 'fs';
import { runChild } from './helpers/child';

const MPICH = ['/usr/lib/x86_64-linux-gnu/libmpich.so.12', '/usr/lib/aarch64-linux-gnu/libmpich.so.12'].find((p) => fs.existsSync(p));
const testMpich = MPICH ? test : test.skip;
if (!MPICH) console.log('MPICH test skipped: no libmpich.so.12 (apt-get install libmpich12)');

testMpich('collectives run on MPICH as a singleton', () => {
  const { out } = runChild(`
const d = cr.distributed;
out.info = d.mpiInfo();
d.initProcessGroup({ backend: 'mpi' });
out.rankSize = [d.getRank(), d.getWorldSize()];
for (const dtype of ['float32', 'float64', 'int32']) {
  const t = cr.tensor([1, -2, 3], { dtype });
  d.allReduce(t); d.allReduce(t, { op: 'max' }); d.broadcast(t, { src: 0 });
  out[dtype] = Array.from(t.dataSync());
}
d.barrier();
`, { ...process.env, CUDNN_RNN_MPI_LIBRARY: MPICH as string });
  expect(out.info).toMatchObject({ available: true, flavor: 'MPICH', path: MPICH });
  expect((out.info as { version: string }).version).toMatch(/^MPICH \d/);
  expect(out.rankSize).toEqual([0, 1]);
  for (const dtype of ['float32', 'float64', 'int32']) expect(out[dtype]).toEqual([1, -2, 3]);
});
