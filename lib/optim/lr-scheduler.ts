// torch.optim.lr_scheduler: StepLR and CosineAnnealingLR with PyTorch's
// recursive ("chainable") formulas, so the lr sequence matches torch step for
// step, including when another scheduler or the user also changes the lr.
import { checkInteger, checkOptionKeys, describe, typeError } from '../errors';
import { Optimizer } from './optimizer';

/** PyTorch's scheduler.state_dict(): its attributes except the optimizer. */
export type SchedulerStateDict = Record<string, unknown>;

function checkOptions(where: string, options: unknown, known: string[]): Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw typeError(where, 'options', 'an object', options);
  checkOptionKeys(where, options, known);
  return options as Record<string, unknown>;
}

function checkNumber(where: string, arg: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw typeError(where, arg, 'a number', value);
  return value;
}

/** Python's % (the result takes the divisor's sign). */
function pyMod(a: number, b: number): number {
  return ((a % b) + b) % b;
}

/** PyTorch's _LRScheduler. Subclasses set their fields, then call initialStep(). */
export abstract class LRScheduler {
  readonly optimizer: Optimizer;
  /** Each group's initial_lr. */
  baseLrs: number[];
  /** The index of the last epoch (step() count - 1 when started fresh). */
  lastEpoch: number;
  /** @internal How many times step() ran (PyTorch's _step_count); the cosine formula reads it. */
  protected stepCount = 0;
  private lastLr: number[] = [];
  private readonly where: string;

  protected constructor(where: string, optimizer: Optimizer, lastEpoch: number) {
    this.where = where;
    if (!(optimizer instanceof Optimizer)) throw new TypeError(`${where}: ${describe(optimizer)} is not an Optimizer`);
    checkInteger(where, 'options.lastEpoch', lastEpoch, -1);
    this.optimizer = optimizer;
    if (lastEpoch === -1) {
      for (const group of optimizer.paramGroups) if (group.initialLr === undefined) group.initialLr = group.lr;
    } else {
      optimizer.paramGroups.forEach((group, i) => {
        if (group.initialLr === undefined) {
          throw new RangeError(`${where}: param 'initial_lr' is not specified in param_groups[${i}] when resuming an optimizer`);
        }
      });
    }
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr as number);
    this.lastEpoch = lastEpoch;
  }

  /** PyTorch's _initial_step(): the constructor's step, which sets the epoch-0 lr. */
  protected initialStep(): void {
    this.stepCount = 0;
    this.step();
  }

  /** The new lr of every group for this.lastEpoch, from the current lrs. */
  protected abstract computeLr(): number[];

  /** Advances one epoch and writes the new lr into every param group. Call after optimizer.step(). */
  step(): void {
    this.stepCount += 1;
    this.lastEpoch += 1;
    const values = this.computeLr();
    this.optimizer.paramGroups.forEach((group, i) => {
      group.lr = values[i];
    });
    this.lastLr = this.optimizer.paramGroups.map((g) => g.lr);
  }

  /** The lrs the last step() set, one per param group. */
  getLastLr(): number[] {
    return this.lastLr.slice();
  }

  /** This scheduler's own hyperparameters under PyTorch's attribute names. */
  protected abstract ownState(): Record<string, number>;
  /** Restores one hyperparameter from ownState()'s keys. */
  protected abstract loadOwn(key: string, value: number): void;

  /** PyTorch's state_dict() keys, so it maps 1:1 to torch's scheduler.state_dict(). */
  stateDict(): SchedulerStateDict {
    return {
      ...this.ownState(),
      base_lrs: this.baseLrs.slice(),
      last_epoch: this.lastEpoch,
      verbose: false,
      _step_count: this.stepCount,
      _get_lr_called_within_step: false,
      _last_lr: this.lastLr.slice(),
    };
  }

  /** Restores what stateDict() (ours or torch's) saved; the lrs themselves live in the optimizer's state dict. */
  loadStateDict(stateDict: SchedulerStateDict): void {
    const where = `${this.where}.loadStateDict`;
    if (typeof stateDict !== 'object' || stateDict === null || Array.isArray(stateDict)) throw typeError(where, 'stateDict', 'an object', stateDict);
    const own = Object.keys(this.ownState());
    checkOptionKeys(where, stateDict, [...own, 'base_lrs', 'last_epoch', 'verbose', '_step_count', '_get_lr_called_within_step', '_last_lr']);
    const lrList = (key: string): number[] | undefined => {
      const v = stateDict[key];
      if (v === undefined) return undefined;
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw typeError(where, key, 'an array of numbers', v);
      return v.slice();
    };
    const baseLrs = lrList('base_lrs');
    const lastLr = lrList('_last_lr');
    const lastEpoch = stateDict.last_epoch === undefined ? undefined : checkInteger(where, 'last_epoch', stateDict.last_epoch, -1);
    const stepCount = stateDict._step_count === undefined ? undefined : checkInteger(where, '_step_count', stateDict._step_count, 0);
    const ownValues = own.filter((k) => stateDict[k] !== undefined).map((k) => [k, checkNumber(where, k, stateDict[k])] as const);
    // Validated everything; now apply.
    for (const [k, v] of ownValues) this.loadOwn(k, v);
    if (baseLrs !== undefined) this.baseLrs = baseLrs;
    if (lastLr !== undefined) this.lastLr = lastLr;
    if (lastEpoch !== undefined) this.lastEpoch = lastEpoch;
    if (stepCount !== undefined) this.stepCount = stepCount;
  }
}

export interface StepLROptions {
  /** Period of the decay, in epochs (PyTorch's step_size). */
  stepSize: number;
  gamma?: number;
  lastEpoch?: number;
}

/** Multiplies every group's lr by gamma every stepSize epochs. */
export class StepLR extends LRScheduler {
  stepSize: number;
  gamma: number;

  constructor(optimizer: Optimizer, options: StepLROptions) {
    const o = checkOptions('StepLR', options, ['stepSize', 'gamma', 'lastEpoch']);
    const stepSize = checkInteger('StepLR', 'options.stepSize', o.stepSize, 1);
    const gamma = checkNumber('StepLR', 'options.gamma', o.gamma ?? 0.1);
    super('StepLR', optimizer, (o.lastEpoch ?? -1) as number);
    this.stepSize = stepSize;
    this.gamma = gamma;
    this.initialStep();
  }

  protected override computeLr(): number[] {
    const groups = this.optimizer.paramGroups;
    if (this.lastEpoch === 0 || this.lastEpoch % this.stepSize !== 0) return groups.map((g) => g.lr);
    return groups.map((g) => g.lr * this.gamma);
  }

  protected override ownState(): Record<string, number> {
    return { step_size: this.stepSize, gamma: this.gamma };
  }

  protected override loadOwn(key: string, value: number): void {
    if (key === 'step_size') this.stepSize = checkInteger('StepLR.loadStateDict', 'step_size', value, 1);
    else this.gamma = value;
  }
}

export interface CosineAnnealingLROptions {
  /** Half-period of the cosine, in epochs (PyTorch's T_max). */
  tMax: number;
  etaMin?: number;
  lastEpoch?: number;
}

/** lr follows a cosine from the initial lr down to etaMin over tMax epochs, then back up. */
export class CosineAnnealingLR extends LRScheduler {
  tMax: number;
  etaMin: number;

  constructor(optimizer: Optimizer, options: CosineAnnealingLROptions) {
    const o = checkOptions('CosineAnnealingLR', options, ['tMax', 'etaMin', 'lastEpoch']);
    const tMax = checkNumber('CosineAnnealingLR', 'options.tMax', o.tMax);
    if (!(tMax > 0)) throw new RangeError(`CosineAnnealingLR: expected options.tMax to be a positive number, but got ${describe(tMax)}`);
    const etaMin = checkNumber('CosineAnnealingLR', 'options.etaMin', o.etaMin ?? 0);
    super('CosineAnnealingLR', optimizer, (o.lastEpoch ?? -1) as number);
    this.tMax = tMax;
    this.etaMin = etaMin;
    this.initialStep();
  }

  protected override computeLr(): number[] {
    const { tMax, etaMin, lastEpoch } = this;
    const groups = this.optimizer.paramGroups;
    if (lastEpoch === 0) return groups.map((g) => g.lr);
    if (this.stepCount === 1 && lastEpoch > 0) {
      // Resumed with lastEpoch: the closed form, once.
      return this.baseLrs.map((base) => etaMin + ((base - etaMin) * (1 + Math.cos((lastEpoch * Math.PI) / tMax))) / 2);
    }
    if (pyMod(lastEpoch - 1 - tMax, 2 * tMax) === 0) {
      // Just past the minimum: the recursive ratio below would divide by 1 + cos(pi) = 0.
      return groups.map((g, i) => g.lr + ((this.baseLrs[i] - etaMin) * (1 - Math.cos(Math.PI / tMax))) / 2);
    }
    return groups.map((g) => ((1 + Math.cos((Math.PI * lastEpoch) / tMax)) / (1 + Math.cos((Math.PI * (lastEpoch - 1)) / tMax))) * (g.lr - etaMin) + etaMin);
  }

  protected override ownState(): Record<string, number> {
    return { T_max: this.tMax, eta_min: this.etaMin };
  }

  protected override loadOwn(key: string, value: number): void {
    if (key === 'T_max') this.tMax = value;
    else this.etaMin = value;
  }
}
