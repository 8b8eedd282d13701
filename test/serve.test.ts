// The example service's edges: where it listens, oversized and non-object
// bodies, and a temperature too small for float32 (greedy, not NaN sampling).
import * as http from 'http';
import { AddressInfo } from 'net';
import { CharGRU } from '../examples/char-model';
import { createServer, MAX_BODY_BYTES, parseArgs } from '../examples/serve';
import { manualSeed } from '../lib';

let server: http.Server;
let port: number;
let model: CharGRU;

beforeAll(async () => {
  manualSeed(3);
  model = new CharGRU({ vocab: Array.from('abcdefgh '), embed: 8, hidden: 16, layers: 1, dropout: 0 });
  model.eval();
  server = createServer(model);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  model.dispose();
});

function post(body: string | Buffer): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/generate', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('listens on 127.0.0.1 unless --host says otherwise', () => {
  expect(parseArgs([], {}).host).toBe('127.0.0.1');
  expect(parseArgs(['model.safetensors', '--port', '9000'], {})).toEqual({ host: '127.0.0.1', port: 9000, checkpoint: 'model.safetensors' });
  expect(parseArgs(['--host', '0.0.0.0'], {}).host).toBe('0.0.0.0');
});

test('a body over the documented limit is answered 413 with a JSON error, not a reset connection', async () => {
  const big = JSON.stringify({ prompt: 'a'.repeat(100 * 1024) });
  expect(big.length).toBeGreaterThan(MAX_BODY_BYTES);
  const r = await post(big);
  expect(r.status).toBe(413);
  expect(r.json.error).toMatch(/larger than 65536 bytes/);
});

test('a JSON body that is not an object is answered 400', async () => {
  for (const body of ['[]', '[{"prompt": "a"}]', 'null', '5', '"abc"']) {
    const r = await post(body);
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/JSON object/);
  }
});

test('a temperature too small for float32 decodes greedily, like temperature 0', async () => {
  const greedy = await post(JSON.stringify({ prompt: 'abc', length: 30, temperature: 0 }));
  const tiny = await post(JSON.stringify({ prompt: 'abc', length: 30, temperature: 1e-320 }));
  expect(greedy.status).toBe(200);
  expect(tiny.status).toBe(200);
  expect(tiny.json.text).toBe(greedy.json.text);
});
