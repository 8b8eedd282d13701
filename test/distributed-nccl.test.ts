// NCCL's side of the binding, on CPU CI: a fake libnccl.so.2 built here from C
// (declaring NCCL's C API as nccl.h does) whose collectives are done with
// Open MPI's own MPI_Allreduce/MPI_Bcast on host memory, found in the global
// scope where src/dist/mpi.cc opened libmpi. It checks what our side must get
// right: the unique id bootstrap (rank 0's id reaches every rank through MPI),
// nccl.h's enum values for dtypes and ops (a wrong code gives an error or
// wrong sums), in-place buffers, and error strings. The public API's GPU path
// (backend 'nccl' with CUDA tensors) needs a GPU: test/gpu/ runs it there.
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { mpirunPath, runMpi } from './helpers/mpi';

const FAKE_NCCL = String.raw`
#include <stdio.h>
#include <string.h>
#include <unistd.h>
typedef struct { char internal[128]; } ncclUniqueId;
typedef void* ncclComm_t;
/* Open MPI's handles: addresses of its global objects. */
extern char ompi_mpi_comm_world[], ompi_mpi_float[], ompi_mpi_double[], ompi_mpi_int[], ompi_mpi_byte[], ompi_mpi_op_sum[], ompi_mpi_op_max[], ompi_mpi_op_min[];
int MPI_Allreduce(const void*, void*, int, void*, void*, void*);
int MPI_Bcast(void*, int, void*, int, void*);
int MPI_Comm_rank(void*, int*);
static int g_nranks, g_rank;
static char g_comm;
int ncclGetVersion(int* v) { *v = 21903; return 0; }
int ncclGetUniqueId(ncclUniqueId* id) { memset(id, 0, sizeof *id); snprintf(id->internal, 128, "fake-nccl-id-%d", (int)getpid()); return 0; }
const char* ncclGetErrorString(int r) { return r == 4 ? "invalid argument (fake)" : r == 5 ? "invalid usage (fake)" : "unhandled error (fake)"; }
int ncclCommInitRank(ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  int mpi_rank = -1; MPI_Comm_rank(ompi_mpi_comm_world, &mpi_rank);
  if (rank != mpi_rank || strncmp(id.internal, "fake-nccl-id-", 13) != 0) return 5;
  /* Every rank must hold rank 0's id: compare the byte-wise min and max over ranks. */
  char lo[128], hi[128];
  MPI_Allreduce(id.internal, lo, 128, ompi_mpi_byte, ompi_mpi_op_min, ompi_mpi_comm_world);
  MPI_Allreduce(id.internal, hi, 128, ompi_mpi_byte, ompi_mpi_op_max, ompi_mpi_comm_world);
  if (memcmp(lo, hi, 128) != 0) return 5;
  g_nranks = nranks; g_rank = rank; *comm = &g_comm; return 0;
}
static void* type_of(int t) { return t == 2 ? ompi_mpi_int : t == 7 ? ompi_mpi_float : t == 8 ? ompi_mpi_double : 0; }
int ncclAllReduce(const void* send, void* recv, size_t count, int dtype, int op, ncclComm_t comm, void* stream) {
  void* t = type_of(dtype);
  if (!t || comm != &g_comm || stream != 0 || send != recv || (op != 0 && op != 2 && op != 4)) return 4;
  MPI_Allreduce((void*)1 /* MPI_IN_PLACE */, recv, (int)count, t, op == 2 ? ompi_mpi_op_max : ompi_mpi_op_sum, ompi_mpi_comm_world);
  if (op == 4) {
    for (size_t i = 0; i < count; i++) {
      if (dtype == 7) ((float*)recv)[i] /= g_nranks;
      else if (dtype == 8) ((double*)recv)[i] /= g_nranks;
      else ((int*)recv)[i] /= g_nranks;
    }
  }
  return 0;
}
int ncclBroadcast(const void* send, void* recv, size_t count, int dtype, int root, ncclComm_t comm, void* stream) {
  void* t = type_of(dtype);
  if (!t || comm != &g_comm || send != recv || root < 0 || root >= g_nranks) return 4;
  return MPI_Bcast(recv, (int)count, t, root, ompi_mpi_comm_world);
}
int ncclCommDestroy(ncclComm_t comm) { return comm == &g_comm ? 0 : 4; }
`;

const haveMpi = mpirunPath() !== null;
const openMpi = haveMpi && /Open MPI/.test(execFileSync('mpirun', ['--version'], { encoding: 'utf8' }));
const describeFake = openMpi ? describe : describe.skip;

describeFake('NCCL binding against a fake libnccl.so.2 (2 processes)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-fake-nccl-'));
  const lib = path.join(dir, 'libnccl.so.2');
  let r: ReturnType<typeof runMpi>;
  const saved = process.env.CUDNN_RNN_NCCL_LIBRARY;

  beforeAll(() => {
    fs.writeFileSync(path.join(dir, 'fake_nccl.c'), FAKE_NCCL);
    execFileSync('gcc', ['-shared', '-fPIC', '-O1', '-o', lib, path.join(dir, 'fake_nccl.c')]);
    process.env.CUDNN_RNN_NCCL_LIBRARY = lib;
    r = runMpi(2, `
const { native } = require(${JSON.stringify(path.join(__dirname, '..', 'lib', 'native.ts'))});
const d = cr.distributed;
d.initProcessGroup({ backend: 'mpi' });
const rank = d.getRank(); out.rank = rank;
out.info = d.ncclInfo();
out.versionsNccl = cr.versions().nccl.version;
const id = rank === 0 ? native.distNcclUniqueId() : Buffer.alloc(128);
native.distBroadcastBytes(id, 0);
out.id = id.toString('latin1').replace(/\\0+$/, '');
native.distNcclInit(id, 2, rank, -1);
const make = (dtype, n, k) => cr.tensor(Array.from({ length: n }, (_, i) => dtype === 'int32' ? (i % 13) * (rank + k) - 5 : (i + 0.25) * (rank + k) / 3), { dtype });
for (const dtype of ['float32', 'float64', 'int32']) {
  const n = 1001;
  const s = make(dtype, n, 1); native.distNcclAllReduce(...s._view(), 0, -1); out['sum_' + dtype] = Array.from(s.dataSync());
  const m = make(dtype, n, 2); native.distNcclAllReduce(...m._view(), 1, -1); out['max_' + dtype] = Array.from(m.dataSync());
  const b = make(dtype, n, 4); await native.distNcclBroadcastAsync(...b._view(), 1, -1); out['bcast_' + dtype] = Array.from(b.dataSync());
  if (dtype !== 'int32') { const a = make(dtype, n, 3); await native.distNcclAllReduceAsync(...a._view(), 2, -1); out['avg_' + dtype] = Array.from(a.dataSync()); }
}
attempt('badRoot', () => native.distNcclBroadcast(...make('float32', 3, 1)._view(), 7, -1));
attempt('noGpu', () => { d.destroyProcessGroup(); d.initProcessGroup({ backend: 'nccl' }); });
native.distNcclDestroy();
attempt('afterDestroy', () => native.distNcclAllReduce(...make('float32', 3, 1)._view(), 0, -1));
`);
  }, 180_000);

  afterAll(() => {
    if (saved === undefined) delete process.env.CUDNN_RNN_NCCL_LIBRARY;
    else process.env.CUDNN_RNN_NCCL_LIBRARY = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const value = (dtype: string, i: number, rank: number, k: number): number => {
    if (dtype === 'int32') return (i % 13) * (rank + k) - 5;
    const v = ((i + 0.25) * (rank + k)) / 3;
    return dtype === 'float32' ? Math.fround(v) : v;
  };

  test('the library is found and reported, and rank 0\'s unique id reaches every rank', () => {
    expect(r.status).toBe(0);
    expect(r.results).toHaveLength(2);
    for (const o of r.results) {
      expect(o.info).toMatchObject({ available: true, version: '2.19.3', path: lib, reason: '' });
      expect(o.versionsNccl).toBe('2.19.3');
    }
    expect(r.results[0].id).toMatch(/^fake-nccl-id-\d+$/);
    expect(r.results[1].id).toBe(r.results[0].id);
  });

  test.each(['float32', 'float64', 'int32'])('sum, max, avg and broadcast with nccl.h\'s codes, %s', (dtype) => {
    const round = dtype === 'float32' ? Math.fround : (x: number): number => x;
    const idx = Array.from({ length: 1001 }, (_, i) => i);
    for (const o of r.results) {
      expect(o[`sum_${dtype}`]).toEqual(idx.map((i) => round(value(dtype, i, 0, 1) + value(dtype, i, 1, 1))));
      expect(o[`max_${dtype}`]).toEqual(idx.map((i) => Math.max(value(dtype, i, 0, 2), value(dtype, i, 1, 2))));
      expect(o[`bcast_${dtype}`]).toEqual(idx.map((i) => value(dtype, i, 1, 4)));
      if (dtype !== 'int32') expect(o[`avg_${dtype}`]).toEqual(idx.map((i) => round(round(value(dtype, i, 0, 3) + value(dtype, i, 1, 3)) / 2)));
    }
  });

  test('errors carry NCCL\'s own text, and backend \'nccl\' without a GPU says so', () => {
    const o = r.results[0];
    expect((o.badRoot as { message: string }).message).toMatch(/ncclBroadcast failed: invalid argument \(fake\)/);
    expect((o.noGpu as { message: string }).message).toMatch(/backend 'nccl' needs CUDA GPUs and none is usable here/);
    expect((o.afterDestroy as { message: string }).message).toMatch(/no NCCL communicator/);
  });
});

test('a missing libnccl.so.2 is named, with what to install', () => {
  const { distributed } = require('../lib') as typeof import('../lib');
  const info = distributed.ncclInfo();
  if (info.available) return; // a machine with NCCL installed
  expect(info.reason).toMatch(/libnccl\.so\.2 could not be opened \(install NCCL: apt-get install libnccl2, or pip install nvidia-nccl-cu12/);
});
