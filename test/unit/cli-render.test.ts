import { describe, expect, it } from 'vitest';
import { progressLine } from '../../cli/progress.js';
import { formatLimit, keyValues, table } from '../../cli/render.js';

describe('CLI rendering', () => {
  it('aligns table columns without trailing spaces', () => {
    expect(table(['NAME', 'STATUS'], [['mnist', 'DEPLOY_SUCCESS'], ['a-much-longer-name', 'FAILED']])).toBe(
      ['NAME                STATUS', 'mnist               DEPLOY_SUCCESS', 'a-much-longer-name  FAILED'].join('\n'),
    );
  });

  it('aligns key/value blocks', () => {
    expect(keyValues([['name', 'digits'], ['status_details', 'x']])).toBe('name:           digits\nstatus_details: x');
  });

  it('shows limits and says when one is reached', () => {
    expect([formatLimit(3, undefined), formatLimit(3, 10), formatLimit(10, 10)]).toEqual(['3 (no limit)', '3 of 10', '10 of 10  LIMIT REACHED']);
  });

  it('draws progress with done, failed, pending, rate and ETA', () => {
    expect(progressLine({ total: 8, done: 2, failed: 1, pending: 6, ratePerSecond: 4, etaSeconds: 1.5 }, 8)).toBe('[##------] 2/8 done, 1 failed, 6 pending, 4.0 files/s, ETA 2s');
    expect(progressLine({ total: 0, done: 0, failed: 0, pending: 0, ratePerSecond: 0 }, 4)).toBe('[####] 0/0 done, 0 failed, 0 pending, 0.0 files/s');
    expect(progressLine({ total: 1, done: 0, failed: 0, pending: 1, ratePerSecond: 0, bulk: [{ key: 'in/big.jsonl', done: 1200, total: 2000 }] }, 4)).toBe('[----] 0/1 done, 0 failed, 1 pending, 0.0 files/s; big.jsonl 1200/2000 records');
  });
});
