// Whether ops record the graph (torch.no_grad / torch.enable_grad).
let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

function withGradMode<R>(mode: boolean, fn: () => R): R {
  const previous = enabled;
  enabled = mode;
  try {
    return fn();
  } finally {
    enabled = previous;
  }
}

/** Runs fn without recording operations for autograd (torch.no_grad). */
export function noGrad<R>(fn: () => R): R {
  if (typeof fn !== 'function') throw new TypeError(`noGrad: expected fn to be a function, but got ${typeof fn}`);
  return withGradMode(false, fn);
}

/** Runs fn with recording on, e.g. inside noGrad (torch.enable_grad). */
export function enableGrad<R>(fn: () => R): R {
  if (typeof fn !== 'function') throw new TypeError(`enableGrad: expected fn to be a function, but got ${typeof fn}`);
  return withGradMode(true, fn);
}

/** Turns recording on or off globally (torch.set_grad_enabled). */
export function setGradEnabled(mode: boolean): void {
  if (typeof mode !== 'boolean') throw new TypeError(`setGradEnabled: expected mode to be a boolean, but got ${typeof mode}`);
  enabled = mode;
}
