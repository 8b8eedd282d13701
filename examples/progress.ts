// A one-line progress bar on stderr: redrawn in place on a terminal, printed
// every 10% otherwise (CI logs stay readable).
export class ProgressBar {
  private lastPrinted = -1;
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(private readonly label: string, private readonly device: string) {}

  update(fraction: number, loss: number, charsPerSecond: number): void {
    const width = 24;
    const filled = Math.round(Math.min(1, fraction) * width);
    const line = `${this.label} [${'='.repeat(filled)}${filled < width ? '>' : ''}${' '.repeat(Math.max(0, width - filled - 1))}] ` +
      `${(fraction * 100).toFixed(0).padStart(3)}%  loss ${loss.toFixed(3)}  ${formatRate(charsPerSecond)} chars/s  ${this.device}`;
    if (this.tty) {
      process.stderr.write(`\r${line}`);
    } else {
      const decile = Math.floor(fraction * 10);
      if (decile > this.lastPrinted) {
        this.lastPrinted = decile;
        process.stderr.write(`${line}\n`);
      }
    }
  }

  finish(message: string): void {
    process.stderr.write(this.tty ? `  ${message}\n` : `${this.label}: ${message}\n`);
  }
}

function formatRate(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(0);
}
