/**
 * A live progress line for `dropscore batch`: redrawn in place on a terminal,
 * one line per second otherwise (logs and CI stay readable).
 */
import type { BatchProgress } from '../manage/batch-run.js';

export function progressLine(p: BatchProgress, width = 24): string {
  const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
  const eta = p.etaSeconds === undefined ? '' : `, ETA ${Math.ceil(p.etaSeconds)}s`;
  const bulk = (p.bulk ?? []).map((f) => `; ${f.key.slice(f.key.lastIndexOf('/') + 1)} ${f.done}/${f.total} records`).join('');
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${p.done}/${p.total} done, ${p.failed} failed, ${p.pending} pending, ${p.ratePerSecond.toFixed(1)} files/s${eta}${bulk}`;
}

export function createProgressReporter(stream: { write(text: string): unknown; isTTY?: boolean }): (p: BatchProgress) => void {
  let lastPrinted = 0;
  return (p) => {
    if (stream.isTTY) {
      stream.write(`\r${progressLine(p)}\u001b[K${p.pending === 0 ? '\n' : ''}`);
      return;
    }
    const now = Date.now();
    if (p.pending === 0 || now - lastPrinted >= 1000) {
      lastPrinted = now;
      stream.write(`${progressLine(p)}\n`);
    }
  };
}
