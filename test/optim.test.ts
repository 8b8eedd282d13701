// Optimizers, LR schedulers and gradient clipping against PyTorch 1.13:
// trajectories, learning rates and state dicts from test/fixtures/optim.json
// (written by test/fixtures/gen_optim.py), plus argument errors and memory.
import * as fs from 'fs';
import * as path from 'path';
import * as cr from '../lib';
import type { Tensor } from '../lib';
import { clipGradNorm_, clipGradValue_ } from '../lib/nn/clip-grad';
import { Adam, AdamW, lrScheduler, Optimizer, SGD } from '../lib/optim';
import type { OptimizerStateDict, ParamGroupInput } from '../lib/optim';

interface Encoded {
  values: number[];
  shape: number[];
}
type TorchState = Record<string, number | null | Encoded>;
interface TorchStateDict {
  state: Record<string, TorchState>;
  param_groups: Array<Record<string, unknown> & { params: number[] }>;
}
interface Run {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, unknown>;
  groups?: Array<Record<string, unknown> & { params: number[] }>;
  scheduler?: { type: 'StepLR' | 'CosineAnnealingLR'; options: Record<string, number> };
  params: number[][][];
  lrs: number[][];
  state_dict_at_3: TorchStateDict;
  params_at_3: number[][];
  scheduler_state_at_3?: Record<string, unknown>;
}
interface ClipCase {
  fn: 'norm' | 'value';
  maxNorm?: number;
  normType?: number | 'inf';
  single?: boolean;
  clipValue?: number;
  total?: number;
  grads: number[][];
}
interface Fixture {
  torch: string;
  steps: number;
  problem: { X: Encoded; Y: Encoded; params: Encoded[] };
  runs: Run[];
  clip: { grads: Encoded[]; cases: ClipCase[] };
}

const fx = JSON.parse(fs.readFileSync(path.join(__dirname, 'fixtures', 'optim.json'), 'utf8')) as Fixture;

// float64 throughout: the only differences from torch are summation order in
// matmul/mean and libm vs V8 pow/cos, each ~1e-16 relative per step.
const RTOL = 1e-10;
const ATOL = 1e-13;
// Torch's param_groups keys that pick an implementation; we drop them.
const TORCH_IMPL_KEYS = ['foreach', 'capturable', 'differentiable', 'fused'];

function t64(e: Encoded, requiresGrad = false): Tensor {
  return cr.tensor(Float64Array.from(e.values), { shape: e.shape, dtype: 'float64', requiresGrad });
}

function expectClose(actual: ArrayLike<number>, expected: number[], what: string, rtol = RTOL, atol = ATOL): void {
  if (actual.length !== expected.length) throw new Error(`${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; ++i) {
    const err = Math.abs(actual[i] - expected[i]);
    if (!(err <= atol + rtol * Math.abs(expected[i]))) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, torch has ${expected[i]} (error ${err})`);
    }
  }
}

/** The least-squares problem of gen_optim.py: loss = mean((X @ W + b - Y)^2); c is unused. */
class Problem {
  readonly X = t64(fx.problem.X);
  readonly Y = t64(fx.problem.Y);
  readonly params: Tensor[];
  constructor(values: number[][] = fx.problem.params.map((p) => p.values)) {
    this.params = fx.problem.params.map((p, i) => t64({ values: values[i], shape: p.shape }, true));
  }
  loss(): Tensor {
    const [w, b] = this.params;
    return cr.mean(cr.pow(cr.sub(cr.add(cr.matmul(this.X, w), b), this.Y), 2));
  }
  /** zero_grad, backward, step: the loop of gen_optim.py. */
  trainStep(opt: Optimizer): void {
    opt.zeroGrad();
    cr.tidy(() => this.loss().backward());
    opt.step();
  }
  dispose(): void {
    for (const t of [this.X, this.Y, ...this.params]) t.dispose();
  }
}

function makeOptimizer(run: Run, params: Tensor[]): Optimizer {
  const Ctor = { SGD, Adam, AdamW }[run.optimizer] as unknown as new (p: unknown, o: unknown) => Optimizer;
  const groups = run.groups?.map(({ params: idx, ...rest }) => ({ ...rest, params: idx.map((i) => params[i]) } as ParamGroupInput<{ lr: number }>));
  return new Ctor(groups ?? params, run.options);
}

function makeScheduler(run: Run, opt: Optimizer): lrScheduler.LRScheduler | null {
  if (run.scheduler === undefined) return null;
  const { type, options } = run.scheduler;
  return type === 'StepLR'
    ? new lrScheduler.StepLR(opt, options as unknown as lrScheduler.StepLROptions)
    : new lrScheduler.CosineAnnealingLR(opt, options as unknown as lrScheduler.CosineAnnealingLROptions);
}

function groupLrs(opt: Optimizer): number[] {
  return opt.paramGroups.map((g) => g.lr);
}

/** A torch state dict from the fixture with its tensors made (ours to dispose). */
function torchStateDict(sd: TorchStateDict): OptimizerStateDict {
  const state: OptimizerStateDict['state'] = {};
  for (const [id, entry] of Object.entries(sd.state)) {
    state[Number(id)] = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, v !== null && typeof v === 'object' ? t64(v) : v]));
  }
  return { state, param_groups: sd.param_groups.map((g) => ({ ...g, params: g.params.slice() })) };
}

function disposeStateDict(sd: OptimizerStateDict): void {
  for (const entry of Object.values(sd.state)) for (const v of Object.values(entry)) if (v instanceof cr.Tensor) v.dispose();
}

describe('optimizer trajectories match PyTorch (float64, every step)', () => {
  test.each(fx.runs.map((r) => [r.name, r] as const))('%s', (_name, run) => {
    const problem = new Problem();
    const opt = makeOptimizer(run, problem.params);
    const sched = makeScheduler(run, opt);
    expectClose(groupLrs(opt), run.lrs[0], `${run.name}: lr after construction`, 1e-13, 0);
    for (let step = 0; step < fx.steps; ++step) {
      problem.trainStep(opt);
      if (sched !== null) {
        sched.step();
        expectClose(sched.getLastLr(), run.lrs[step + 1], `${run.name}: lr after step ${step + 1}`, 1e-13, 0);
        expect(groupLrs(opt)).toEqual(sched.getLastLr());
      }
      problem.params.forEach((p, i) => expectClose(p.dataSync(), run.params[step][i], `${run.name}: param ${i} after step ${step + 1}`));
    }
    // The unused parameter never had a gradient: skipped, so no state either.
    expect(problem.params[2].grad).toBeNull();
    expect(opt.state.has(problem.params[2])).toBe(false);
    expect(opt.state.size).toBe(2);
    opt.dispose();
    problem.dispose();
  });
});

const RESUMABLE = fx.runs.filter((r) => ['sgd_momentum_steplr', 'sgd_plain', 'sgd_groups', 'adam_amsgrad_cosine', 'adam_groups', 'adamw_default_steplr', 'adam_weight_decay'].includes(r.name));

describe('stateDict', () => {
  test.each(RESUMABLE.map((r) => [r.name, r] as const))('%s: after 3 steps equals torch.optim state_dict()', (_name, run) => {
    const problem = new Problem();
    const opt = makeOptimizer(run, problem.params);
    const sched = makeScheduler(run, opt);
    for (let step = 0; step < 3; ++step) {
      problem.trainStep(opt);
      sched?.step();
    }
    const ours = opt.stateDict();
    const theirs = run.state_dict_at_3;
    expect(Object.keys(ours.state).sort()).toEqual(Object.keys(theirs.state).sort());
    for (const [id, entry] of Object.entries(theirs.state)) {
      const mine = ours.state[Number(id)];
      expect(Object.keys(mine).sort()).toEqual(Object.keys(entry).sort());
      for (const [key, value] of Object.entries(entry)) {
        const got = mine[key];
        if (value === null || typeof value === 'number') {
          expect(got).toBe(value);
        } else {
          if (!(got instanceof cr.Tensor)) throw new Error(`${run.name}: state[${id}].${key} is not a Tensor`);
          expect(got.shape).toEqual(value.shape);
          expectClose(got.dataSync(), value.values, `${run.name}: state[${id}].${key}`);
        }
      }
    }
    expect(ours.param_groups.length).toBe(theirs.param_groups.length);
    theirs.param_groups.forEach((tg, gi) => {
      const og = ours.param_groups[gi];
      const expectedKeys = Object.keys(tg).filter((k) => !TORCH_IMPL_KEYS.includes(k)).sort();
      expect(Object.keys(og).sort()).toEqual(expectedKeys);
      for (const k of expectedKeys) {
        if (k === 'lr') expectClose([og.lr as number], [tg.lr as number], `${run.name}: group ${gi} lr`, 1e-13, 0);
        else expect(og[k]).toEqual(tg[k]);
      }
    });
    if (run.scheduler_state_at_3 !== undefined && sched !== null) {
      const s = sched.stateDict();
      expect(Object.keys(s).sort()).toEqual(Object.keys(run.scheduler_state_at_3).sort());
      for (const [k, v] of Object.entries(run.scheduler_state_at_3)) {
        if (k === '_last_lr') expectClose(s[k] as number[], v as number[], `${run.name}: scheduler ${k}`, 1e-13, 0);
        else expect(s[k]).toEqual(v);
      }
    }
    opt.dispose();
    problem.dispose();
  });

  /**
   * Resumes at step 3 from a state dict into a fresh optimizer (PyTorch's recipe:
   * loadStateDict, new scheduler, scheduler.loadStateDict) and checks steps 4..10.
   */
  function resumeAndCheck(run: Run, paramValues: number[][], sd: OptimizerStateDict, schedSd: Record<string, unknown> | null, label: string): void {
    const problem = new Problem(paramValues);
    const opt = makeOptimizer(run, problem.params);
    opt.loadStateDict(sd);
    const sched = makeScheduler(run, opt);
    if (sched !== null && schedSd !== null) sched.loadStateDict(schedSd);
    for (let step = 3; step < fx.steps; ++step) {
      problem.trainStep(opt);
      if (sched !== null) {
        sched.step();
        expectClose(sched.getLastLr(), run.lrs[step + 1], `${label}: lr after step ${step + 1}`, 1e-13, 0);
      }
      problem.params.forEach((p, i) => expectClose(p.dataSync(), run.params[step][i], `${label}: param ${i} after step ${step + 1}`));
    }
    opt.dispose();
    problem.dispose();
  }

  test.each(RESUMABLE.map((r) => [r.name, r] as const))('%s: our state dict round-trips into a new optimizer', (_name, run) => {
    const problem = new Problem();
    const opt = makeOptimizer(run, problem.params);
    const sched = makeScheduler(run, opt);
    for (let step = 0; step < 3; ++step) {
      problem.trainStep(opt);
      sched?.step();
    }
    const values = problem.params.map((p) => Array.from(p.dataSync()));
    const sd = opt.stateDict();
    resumeAndCheck(run, values, sd, sched?.stateDict() ?? null, `${run.name} (our state)`);
    // Loading copied the tensors: the source optimizer's state is untouched and alive.
    for (const s of opt.state.values()) for (const v of Object.values(s)) if (v instanceof cr.Tensor) expect(v.isDisposed).toBe(false);
    opt.dispose();
    problem.dispose();
  });

  test.each(RESUMABLE.map((r) => [r.name, r] as const))('%s: torch\'s state dict loads and continues torch\'s trajectory', (_name, run) => {
    const sd = torchStateDict(run.state_dict_at_3);
    resumeAndCheck(run, run.params_at_3, sd, run.scheduler_state_at_3 ?? null, `${run.name} (torch state)`);
    disposeStateDict(sd);
  });

  test('stateDict tensors are the live state; loadStateDict frees the state it replaces', () => {
    const problem = new Problem();
    const opt = new Adam(problem.params, { lr: 0.05 });
    problem.trainStep(opt);
    const sd = opt.stateDict();
    const live = opt.state.get(problem.params[0])?.exp_avg;
    expect(sd.state[0].exp_avg).toBe(live);
    expect(sd.state[0].step).toBe(1);
    const snapshot = Object.fromEntries(Object.entries(sd.state).map(([k, s]) => [k, { ...s, exp_avg: (s.exp_avg as Tensor).clone(), exp_avg_sq: (s.exp_avg_sq as Tensor).clone() }]));
    opt.loadStateDict({ state: snapshot, param_groups: sd.param_groups });
    expect((live as Tensor).isDisposed).toBe(true);
    const loaded = opt.state.get(problem.params[0])?.exp_avg as Tensor;
    expect(loaded).not.toBe(snapshot[0].exp_avg);
    expect(Array.from(loaded.dataSync())).toEqual(Array.from((snapshot[0].exp_avg as Tensor).dataSync()));
    for (const s of Object.values(snapshot)) for (const v of Object.values(s)) if (v instanceof cr.Tensor) v.dispose();
    opt.dispose();
    problem.dispose();
  });

  test('a float32 state is cast to float64 parameters on load', () => {
    const problem = new Problem();
    const opt = new SGD(problem.params, { lr: 0.1, momentum: 0.9 });
    const buf = cr.tensor([1, 2, 3, 4]);
    opt.loadStateDict({ state: { 1: { momentum_buffer: buf } }, param_groups: opt.stateDict().param_groups });
    const mine = opt.state.get(problem.params[1])?.momentum_buffer as Tensor;
    expect(mine.dtype).toBe('float64');
    expect(Array.from(mine.dataSync())).toEqual([1, 2, 3, 4]);
    buf.dispose();
    opt.dispose();
    problem.dispose();
  });
});

describe('memory', () => {
  test('a training step inside tidy() keeps optimizer state and leaks nothing (50 steps)', () => {
    const problem = new Problem();
    const opt = new Adam(problem.params, { lr: 0.01, amsgrad: true });
    const sched = new lrScheduler.CosineAnnealingLR(opt, { tMax: 7 });
    const counts: number[] = [];
    for (let i = 0; i < 50; ++i) {
      cr.tidy(() => {
        opt.zeroGrad();
        problem.loss().backward();
        opt.step();
        sched.step();
      });
      counts.push(cr.memory().numTensors);
    }
    // Step 1 creates the state (3 tensors for each of 2 parameters); then nothing grows.
    expect(new Set(counts).size).toBe(1);
    for (const s of opt.state.values()) {
      for (const key of ['exp_avg', 'exp_avg_sq', 'max_exp_avg_sq']) expect((s[key] as Tensor).isDisposed).toBe(false);
      expect(s.step).toBe(50);
    }
    const before = cr.memory().numTensors;
    opt.dispose();
    expect(cr.memory().numTensors).toBe(before - 6);
    problem.dispose();
  });

  test('SGD momentum buffers survive tidy() too', () => {
    const problem = new Problem();
    const opt = new SGD(problem.params, { lr: 0.01, momentum: 0.9, nesterov: true, weightDecay: 0.1, maximize: true });
    const counts: number[] = [];
    for (let i = 0; i < 20; ++i) {
      cr.tidy(() => problem.trainStep(opt));
      counts.push(cr.memory().numTensors);
    }
    expect(new Set(counts).size).toBe(1);
    opt.dispose();
    problem.dispose();
  });
});

describe('zeroGrad and step', () => {
  test('zeroGrad() frees gradients; zeroGrad({ setToNone: false }) zeroes them in place', () => {
    const problem = new Problem();
    const opt = new SGD(problem.params, { lr: 0.1 });
    cr.tidy(() => problem.loss().backward());
    const g = problem.params[0].grad as Tensor;
    opt.zeroGrad({ setToNone: false });
    expect(problem.params[0].grad).toBe(g);
    expect(Array.from(g.dataSync()).every((v) => v === 0)).toBe(true);
    opt.zeroGrad();
    expect(problem.params[0].grad).toBeNull();
    expect(g.isDisposed).toBe(true);
    expect(() => opt.zeroGrad({ set_to_none: true } as never)).toThrow(/did you mean "setToNone"/);
    problem.dispose();
  });

  test('step(closure) evaluates the loss with grad recording and returns it', () => {
    const problem = new Problem();
    const opt = new SGD(problem.params, { lr: 0.1 });
    cr.tidy(() => {
      const loss = cr.noGrad(() => opt.step(() => {
        opt.zeroGrad();
        const l = problem.loss();
        expect(l.requiresGrad).toBe(true);
        l.backward();
        return l;
      }));
      expect(loss).toBeInstanceOf(cr.Tensor);
    });
    expectClose(problem.params[0].dataSync(), fx.runs.find((r) => r.name === 'sgd_plain')?.params[0][0] as number[], 'closure step');
    expect(() => opt.step(5 as never)).toThrow('expected closure to be a function');
    opt.zeroGrad();
    problem.dispose();
  });

  test('float32 parameters follow the float64 trajectory to float32 precision', () => {
    const run = fx.runs.find((r) => r.name === 'adam_amsgrad') as Run;
    const f32 = (e: Encoded, requiresGrad = false): Tensor => cr.tensor(Float32Array.from(e.values), { shape: e.shape, requiresGrad });
    const p32 = fx.problem.params.map((p) => f32(p, true));
    const X = f32(fx.problem.X);
    const Y = f32(fx.problem.Y);
    const opt = new Adam(p32, run.options);
    for (let step = 0; step < fx.steps; ++step) {
      opt.zeroGrad();
      cr.tidy(() => cr.mean(cr.pow(cr.sub(cr.add(cr.matmul(X, p32[0]), p32[1]), Y), 2)).backward());
      opt.step();
    }
    expect((opt.state.get(p32[0])?.exp_avg as Tensor).dtype).toBe('float32');
    p32.slice(0, 2).forEach((p, i) => expectClose(p.dataSync(), run.params[fx.steps - 1][i], `float32 param ${i}`, 1e-4, 1e-5));
    opt.dispose();
    for (const t of [...p32, X, Y]) t.dispose();
  });

  test('paramGroups hold camelCase options with defaults filled in; groups do not share betas', () => {
    const problem = new Problem();
    const opt = new Adam([{ params: [problem.params[0]] }, { params: problem.params[1], lr: 0.5, weightDecay: 0.1 }], { lr: 0.01 });
    expect(opt.paramGroups[0]).toMatchObject({ lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, amsgrad: false, maximize: false });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.5, weightDecay: 0.1 });
    expect(opt.paramGroups[1].params).toEqual([problem.params[1]]);
    expect(opt.paramGroups[0].betas).not.toBe(opt.paramGroups[1].betas);
    opt.addParamGroup({ params: [problem.params[2]], amsgrad: true });
    expect(opt.paramGroups[2].amsgrad).toBe(true);
    expect(() => opt.addParamGroup({ params: [problem.params[2]] })).toThrow('some parameters appear in more than one parameter group');
    problem.dispose();
  });
});

describe('argument errors (PyTorch messages)', () => {
  const problem = new Problem();
  const ps = problem.params;
  afterAll(() => problem.dispose());

  test.each([
    ['SGD lr', () => new SGD(ps, { lr: -1 }), RangeError, 'Invalid learning rate: -1'],
    ['SGD lr NaN', () => new SGD(ps, { lr: NaN }), RangeError, 'Invalid learning rate: NaN'],
    ['SGD momentum', () => new SGD(ps, { lr: 0.1, momentum: -0.5 }), RangeError, 'Invalid momentum value: -0.5'],
    ['SGD weight decay', () => new SGD(ps, { lr: 0.1, weightDecay: -1 }), RangeError, 'Invalid weight_decay value: -1'],
    ['SGD nesterov without momentum', () => new SGD(ps, { lr: 0.1, nesterov: true }), RangeError, 'Nesterov momentum requires a momentum and zero dampening'],
    ['SGD nesterov with dampening', () => new SGD(ps, { lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), RangeError, 'Nesterov momentum requires a momentum and zero dampening'],
    ['SGD without lr', () => new SGD(ps), TypeError, "parameter group didn't specify a value of required optimization parameter lr"],
    ['SGD per-group lr', () => new SGD([{ params: [ps[0]], lr: -2 }], { lr: 0.1 }), RangeError, 'Invalid learning rate: -2'],
    ['SGD snake_case key', () => new SGD(ps, { lr: 0.1, weight_decay: 0.1 } as never), TypeError, 'did you mean "weightDecay"?'],
    ['SGD per-group unknown key', () => new SGD([{ params: [ps[0]], moment: 0.1 } as never], { lr: 0.1 }), TypeError, 'unknown option "moment"'],
    ['SGD lr as string', () => new SGD(ps, { lr: '0.1' } as never), TypeError, 'expected options.lr to be a number, but got "0.1"'],
    ['SGD nesterov as number', () => new SGD(ps, { lr: 0.1, nesterov: 1 } as never), TypeError, 'expected options.nesterov to be a boolean'],
    ['Adam beta 0', () => new Adam(ps, { betas: [1, 0.999] }), RangeError, 'Invalid beta parameter at index 0: 1'],
    ['Adam beta 1', () => new Adam(ps, { betas: [0.9, -0.1] }), RangeError, 'Invalid beta parameter at index 1: -0.1'],
    ['Adam betas shape', () => new Adam(ps, { betas: [0.9] } as never), TypeError, 'expected options.betas to be a pair of numbers'],
    ['Adam eps', () => new Adam(ps, { eps: -1e-8 }), RangeError, 'Invalid epsilon value: -1e-8'],
    ['Adam lr', () => new Adam(ps, { lr: -1 }), RangeError, 'Invalid learning rate: -1'],
    ['Adam weight decay', () => new Adam(ps, { weightDecay: -0.1 }), RangeError, 'Invalid weight_decay value: -0.1'],
    ['AdamW weight decay', () => new AdamW(ps, { weightDecay: -0.1 }), RangeError, 'AdamW: Invalid weight_decay value: -0.1'],
    ['AdamW amsgrad type', () => new AdamW(ps, { amsgrad: 'yes' } as never), TypeError, 'expected options.amsgrad to be a boolean'],
    ['empty params', () => new SGD([], { lr: 0.1 }), RangeError, 'optimizer got an empty parameter list'],
    ['a Tensor as params', () => new SGD(ps[0] as never, { lr: 0.1 }), TypeError, 'should be an iterable of Tensors or dicts, but got a Tensor'],
    ['a number in params', () => new SGD([ps[0], 3] as never, { lr: 0.1 }), TypeError, 'optimizer can only optimize Tensors, but one of the params is 3'],
    ['duplicate params', () => new SGD([ps[0], ps[0]], { lr: 0.1 }), RangeError, 'duplicate parameters'],
    ['params in two groups', () => new SGD([{ params: [ps[0]] }, { params: [ps[0], ps[1]] }], { lr: 0.1 }), RangeError, 'some parameters appear in more than one parameter group'],
    ['a Set of params', () => new SGD([{ params: new Set([ps[0]]) }], { lr: 0.1 }), TypeError, 'ordered collections'],
    ['options not an object', () => new Adam(ps, 0.1 as never), TypeError, 'expected options to be an object'],
  ])('%s', (_name, fn, type, message) => {
    expect(fn).toThrow(type as ErrorConstructor);
    expect(fn).toThrow(message as string);
  });

  test('a non-leaf tensor cannot be optimized', () => {
    cr.tidy(() => {
      const y = cr.mul(ps[0], 2);
      expect(() => new SGD([y], { lr: 0.1 })).toThrow("can't optimize a non-leaf Tensor");
    });
  });

  test('loadStateDict validates before changing anything', () => {
    const opt = new Adam(ps, { lr: 0.05 });
    problem.trainStep(opt);
    const good = opt.stateDict();
    const before = opt.state.get(ps[0])?.exp_avg;
    expect(() => opt.loadStateDict({ ...good, param_groups: [...good.param_groups, good.param_groups[0]] })).toThrow('loaded state dict has a different number of parameter groups');
    expect(() => opt.loadStateDict({ ...good, param_groups: [{ ...good.param_groups[0], params: [0, 1] }] })).toThrow("loaded state dict contains a parameter group that doesn't match the size of optimizer's group");
    expect(() => opt.loadStateDict({ ...good, state: { 0: { momentum_buffer: null } } })).toThrow('unexpected state key "momentum_buffer" for Adam');
    expect(() => opt.loadStateDict({ ...good, state: { 0: { ...good.state[1] } } })).toThrow('has shape [4] but its parameter has shape [3, 4]');
    expect(() => opt.loadStateDict({ ...good, state: { 7: { step: 1 } } })).toThrow('no param group lists');
    expect(() => opt.loadStateDict({ ...good, param_groups: [{ ...good.param_groups[0], lr: -1 }] })).toThrow('Invalid learning rate: -1');
    expect(() => opt.loadStateDict({ ...good, param_groups: [{ ...good.param_groups[0], differentiable: true }] })).toThrow('differentiable');
    expect(opt.state.get(ps[0])?.exp_avg).toBe(before);
    expect((before as Tensor).isDisposed).toBe(false);
    opt.dispose();
    opt.zeroGrad();
  });

  test('scheduler arguments', () => {
    const opt = new SGD(ps, { lr: 0.1 });
    expect(() => new lrScheduler.StepLR(opt, { stepSize: 0 })).toThrow(RangeError);
    expect(() => new lrScheduler.StepLR(opt, { step_size: 3 } as never)).toThrow('did you mean "stepSize"?');
    expect(() => new lrScheduler.CosineAnnealingLR(opt, { tMax: 0 })).toThrow(RangeError);
    expect(() => new lrScheduler.CosineAnnealingLR(opt, { T_max: 4 } as never)).toThrow(/unknown option "T_max"/);
    expect(() => new lrScheduler.StepLR({} as never, { stepSize: 2 })).toThrow('is not an Optimizer');
    expect(() => new lrScheduler.StepLR(opt, { stepSize: 2, lastEpoch: 4 })).toThrow("param 'initial_lr' is not specified in param_groups[0] when resuming an optimizer");
    const s = new lrScheduler.StepLR(opt, { stepSize: 2 });
    expect(opt.paramGroups[0].initialLr).toBe(0.1);
    expect(() => s.loadStateDict({ last_epoch: 1.5 })).toThrow(TypeError);
    expect(() => s.loadStateDict({ lastEpoch: 1 })).toThrow('unknown option "lastEpoch"');
  });

  test('resuming with lastEpoch uses the closed form once (CosineAnnealingLR)', () => {
    const opt = new SGD(ps, { lr: 0.1 });
    opt.paramGroups[0].initialLr = 0.2;
    const s = new lrScheduler.CosineAnnealingLR(opt, { tMax: 10, etaMin: 0.01, lastEpoch: 3 });
    // epoch 4 of a cosine from 0.2 to 0.01, whatever the current lr was.
    expectClose(s.getLastLr(), [0.01 + ((0.2 - 0.01) * (1 + Math.cos((4 * Math.PI) / 10))) / 2], 'closed form', 1e-15, 0);
    expect(s.lastEpoch).toBe(4);
  });
});

describe('gradient clipping matches torch.nn.utils', () => {
  function withGrads(): Tensor[] {
    const ps = fx.problem.params.map((p) => t64(p, true));
    ps[0].grad = cr.keep(t64(fx.clip.grads[0]));
    ps[1].grad = cr.keep(t64(fx.clip.grads[1]));
    return ps;
  }

  test.each(fx.clip.cases.map((c) => [JSON.stringify({ ...c, grads: undefined, total: undefined }), c] as const))('%s', (_name, c) => {
    const ps = withGrads();
    if (c.fn === 'norm') {
      const normType = c.normType === 'inf' ? Infinity : (c.normType as number);
      const total = clipGradNorm_(c.single ? ps[1] : ps, c.maxNorm as number, normType);
      expect(total.ndim).toBe(0);
      expect(total.dtype).toBe('float64');
      expectClose([total.item()], [c.total as number], 'total norm');
      total.dispose();
    } else {
      clipGradValue_(ps, c.clipValue as number);
    }
    expectClose((ps[0].grad as Tensor).dataSync(), c.grads[0], 'grad 0');
    expectClose((ps[1].grad as Tensor).dataSync(), c.grads[1], 'grad 1');
    expect(ps[2].grad).toBeNull();
    for (const p of ps) p.dispose();
  });

  test('no gradients: a zero norm; non-finite norms scale by 0 or throw when asked', () => {
    const ps = fx.problem.params.map((p) => t64(p, true));
    const zero = clipGradNorm_(ps, 1);
    expect(zero.item()).toBe(0);
    ps[1].grad = cr.keep(cr.tensor(Float64Array.from([1, Infinity, 2, 3]), { shape: [4] }));
    expect(() => clipGradNorm_(ps, 1, 2, { errorIfNonfinite: true })).toThrow('The total norm of order 2 for gradients from `parameters` is non-finite');
    const total = clipGradNorm_(ps, 1);
    expect(total.item()).toBe(Infinity);
    // torch: coef = 1 / (inf + 1e-6) = 0, so finite entries become 0 and inf * 0 = NaN.
    expect(Array.from((ps[1].grad as Tensor).dataSync()).map(String)).toEqual(['0', 'NaN', '0', '0']);
    expect(() => clipGradNorm_(ps, '1' as never)).toThrow(TypeError);
    expect(() => clipGradNorm_([ps[0], 5] as never, 1)).toThrow('expected parameters[1] to be a Tensor');
    expect(() => clipGradValue_(ps, null as never)).toThrow(TypeError);
    for (const t of [zero, total, ...ps]) t.dispose();
  });

  test('clipping allocates nothing that outlives it', () => {
    const ps = withGrads();
    const before = cr.memory().numTensors;
    clipGradNorm_(ps, 0.1).dispose();
    clipGradNorm_(ps, 0.1, Infinity).dispose();
    clipGradValue_(ps, 0.01);
    expect(cr.memory().numTensors).toBe(before);
    for (const p of ps) p.dispose();
  });
});
