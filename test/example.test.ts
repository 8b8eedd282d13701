// The main job, on short settings: the char-GRU trainer's loss goes down and
// beats the unigram baseline, it writes a loadable checkpoint and a loss curve,
// and the service answers /health while a long generation runs.
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { AddressInfo } from 'net';
import { train, TrainSummary } from '../examples/train-char-gru';
import { createServer, loadModel } from '../examples/serve';
import { memory } from '../lib';

const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cudnn-rnn-example-'));
let summary: TrainSummary;

beforeAll(async () => {
  summary = await train({
    inputs: [path.join(__dirname, '..', 'lib')], epochs: 2, minutes: 5, stepsPerEpoch: 40, seqLen: 32, batch: 16,
    embed: 32, hidden: 96, layers: 1, lr: 5e-3, out, seed: 0, sample: 40,
  });
}, 180_000);

afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

test('training lowers the loss below the unigram baseline', () => {
  expect(summary.steps).toBe(80);
  expect(summary.lastLoss).toBeLessThan(summary.firstLoss - 1);
  expect(summary.heldOut).toHaveLength(2);
  expect(summary.heldOut[1]).toBeLessThan(summary.heldOut[0]);
  expect(summary.heldOut[1]).toBeLessThan(summary.unigramBaseline);
  expect(summary.sample).toHaveLength(40);
});

test('writes a checkpoint, a loss curve and a summary', () => {
  expect(fs.existsSync(summary.checkpoint)).toBe(true);
  const svg = fs.readFileSync(path.join(out, 'loss.svg'), 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  expect(svg).toContain('<polyline');
  expect(svg).toContain('unigram baseline');
  const written = JSON.parse(fs.readFileSync(path.join(out, 'summary.json'), 'utf8')) as TrainSummary;
  expect(written.steps).toBe(summary.steps);
});

function request(port: number, method: string, route: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port, method, path: route, headers: data ? { 'content-type': 'application/json' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

test('the service keeps answering /health during a long generation', async () => {
  const model = loadModel(summary.checkpoint);
  const server = createServer(model);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    const before = memory().numTensors;
    let generationDone = false;
    const generation = request(port, 'POST', '/generate', { prompt: 'function ', length: 1500, temperature: 0.8 }).then((r) => {
      generationDone = true;
      return r;
    });
    let healthyDuring = 0;
    while (!generationDone) {
      const h = await request(port, 'GET', '/health');
      expect(h.status).toBe(200);
      if (!generationDone) healthyDuring += 1;
    }
    const g = await generation;
    expect(g.status).toBe(200);
    expect(String(g.json.text)).toHaveLength(1500);
    // Several health checks were answered while the generation was running.
    expect(healthyDuring).toBeGreaterThanOrEqual(3);
    expect(memory().numTensors).toBe(before);

    const bad = await request(port, 'POST', '/generate', { prompt: 'x', length: -1 });
    expect(bad.status).toBe(400);
    expect(String(bad.json.error)).toContain('length');
  } finally {
    await new Promise((resolve) => server.close(resolve));
    model.dispose();
  }
}, 120_000);
