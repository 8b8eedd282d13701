// `npm run serve -- [checkpoint] [--port 8080] [--host 127.0.0.1]`
// A small HTTP service answering generation requests from a checkpoint made by
// the trainer. Generation awaits the GRU on a worker thread one character at
// a time, so other requests (and /health) keep being served meanwhile.
//   GET  /health    -> { ok: true, device, vocab }
//   POST /generate  { "prompt": "function ", "length": 200, "temperature": 0.8 } -> { text }
// It listens on 127.0.0.1 only unless --host says otherwise (e.g. --host 0.0.0.0).
// A body over MAX_BODY_BYTES (64 KiB) is answered 413, a body that is not a
// JSON object 400; a temperature below GREEDY_TEMPERATURE decodes greedily.
import * as http from 'http';
import { AddressInfo } from 'net';
import { load, loadMetadata, getDefaultDevice } from 'cudnn-rnn';
import { CharGRU, CharModelConfig } from './char-model';

/** A request the client got wrong, answered with `status` and a JSON error. */
class RequestError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

const MAX_LENGTH = 5000;
/** The largest request body accepted (413 beyond). */
export const MAX_BODY_BYTES = 64 * 1024;

/** Rebuilds the model from a checkpoint written by train-char-gru. */
export function loadModel(checkpoint: string): CharGRU {
  const meta = loadMetadata(checkpoint);
  if (meta === null || meta.format !== 'cudnn-rnn/char-gru' || typeof meta.config !== 'string') {
    throw new Error(`${checkpoint} is not a char-gru checkpoint (its metadata has no cudnn-rnn/char-gru config)`);
  }
  const config = JSON.parse(meta.config) as CharModelConfig;
  const model = new CharGRU(config);
  const weights = load(checkpoint);
  model.loadStateDict(weights);
  for (const t of Object.values(weights)) t.dispose();
  model.eval();
  return model;
}

interface GenerateRequest {
  prompt: string;
  length: number;
  temperature: number;
}

function parseGenerate(body: string): GenerateRequest {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new RangeError('the body must be JSON: { "prompt": string, "length"?: number, "temperature"?: number }');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new RangeError(`the body must be a JSON object, but got ${Array.isArray(json) ? 'an array' : json === null ? 'null' : typeof json}`);
  }
  const o = json as Record<string, unknown>;
  const prompt = o.prompt ?? '';
  const length = o.length ?? 200;
  const temperature = o.temperature ?? 0.8;
  if (typeof prompt !== 'string') throw new RangeError(`prompt must be a string, got ${typeof prompt}`);
  if (typeof length !== 'number' || !Number.isInteger(length) || length < 1 || length > MAX_LENGTH) {
    throw new RangeError(`length must be an integer in [1, ${MAX_LENGTH}], got ${JSON.stringify(length)}`);
  }
  if (typeof temperature !== 'number' || !(temperature >= 0) || temperature > 10) {
    throw new RangeError(`temperature must be a number in [0, 10], got ${JSON.stringify(temperature)}`);
  }
  return { prompt, length, temperature };
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    let tooLarge = false;
    const declared = Number(req.headers['content-length']);
    if (declared > MAX_BODY_BYTES) tooLarge = true;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) tooLarge = true;
      if (!tooLarge) chunks.push(c);
    });
    // The rest of an oversized body is read and dropped (not the connection
    // reset), so that the client gets the 413 answer.
    req.on('end', () => {
      if (tooLarge) reject(new RequestError(413, `the body is larger than ${MAX_BODY_BYTES} bytes`));
      else resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', reject);
  });
}

export function createServer(model: CharGRU): http.Server {
  return http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/health') {
      send(res, 200, { ok: true, device: getDefaultDevice().type, vocab: model.config.vocab.length });
      return;
    }
    if (req.method === 'POST' && req.url === '/generate') {
      readBody(req)
        .then(async (body) => {
          const r = parseGenerate(body);
          const text = await model.generate(r.prompt, r.length, r.temperature);
          send(res, 200, { text });
        })
        .catch((err: unknown) => {
          const status = err instanceof RequestError ? err.status : err instanceof RangeError ? 400 : 500;
          send(res, status, { error: err instanceof Error ? err.message : String(err) });
        });
      return;
    }
    send(res, 404, { error: `no route ${req.method} ${req.url}; try GET /health or POST /generate` });
  });
}

/** The command line: [checkpoint] [--port N] [--host ADDRESS] (127.0.0.1 unless said otherwise). */
export function parseArgs(args: string[], env: NodeJS.ProcessEnv = process.env): { port: number; host: string; checkpoint: string } {
  let port = Number(env.PORT ?? 8080);
  let host = '127.0.0.1';
  let checkpoint = 'char-gru-out/model.safetensors';
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--port') port = Number(args[++i]);
    else if (args[i] === '--host') host = args[++i];
    else checkpoint = args[i];
  }
  return { port, host, checkpoint };
}

async function main(): Promise<void> {
  const { port, host, checkpoint } = parseArgs(process.argv.slice(2));
  const model = loadModel(checkpoint);
  const server = createServer(model);
  server.listen(port, host, () => {
    const { address, port: bound } = server.address() as AddressInfo;
    const shown = address.includes(':') ? `[${address}]` : address;
    console.log(`char-gru service on http://${shown}:${bound} (checkpoint ${checkpoint}); POST /generate {"prompt": "...", "length": 200}`);
  });
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
