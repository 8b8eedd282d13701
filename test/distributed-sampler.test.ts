// DistributedSampler gives torch's indices exactly (fixture:
// test/fixtures/gen_sampler.py), with numReplicas and rank given, so no MPI.
import * as fs from 'fs';
import * as path from 'path';
import { distributed } from '../lib';

interface Case { n: number; numReplicas: number; rank: number; shuffle: boolean; seed: number; dropLast: boolean; epoch: number; length: number; indices: number[] }
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'sampler.json'), 'utf8')) as { cases: Case[] };

test.each(fixture.cases.map((c) => [`n=${c.n} replicas=${c.numReplicas} rank=${c.rank} shuffle=${c.shuffle} seed=${c.seed} dropLast=${c.dropLast} epoch=${c.epoch}`, c] as const))(
  'torch order: %s', (_name, c) => {
    const s = new distributed.DistributedSampler(c.n, { numReplicas: c.numReplicas, rank: c.rank, shuffle: c.shuffle, seed: c.seed, dropLast: c.dropLast });
    s.setEpoch(c.epoch);
    expect(s.length).toBe(c.length);
    expect(s.indices()).toEqual(c.indices);
    expect([...s]).toEqual(c.indices);
  });

test('bad arguments are named', () => {
  expect(() => new distributed.DistributedSampler(10, { numReplicas: 2, rank: 2 })).toThrow('Invalid rank 2, rank should be in the interval [0, 1]');
  expect(() => new distributed.DistributedSampler(-1, { numReplicas: 2, rank: 0 })).toThrow(/dataset/);
  expect(() => new distributed.DistributedSampler(10)).toThrow(/initProcessGroup/);
  const s = new distributed.DistributedSampler({ length: 4 }, { numReplicas: 1, rank: 0 });
  expect(() => s.setEpoch(-1)).toThrow(/epoch/);
});
