import { describe, expect, it } from 'vitest';
import { createKeyedQueue } from '../../infra/local/s3rver-atomic-objects.js';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('keyed queue (per-key turns for the embedded S3)', () => {
  it('runs one key\'s work one at a time, in order, and other keys alongside', async () => {
    const inTurn = createKeyedQueue();
    const log: string[] = [];
    const job = (key: string, name: string) => inTurn(key, async () => {
      log.push(`${name} start`);
      await tick();
      log.push(`${name} end`);
      return name;
    });
    const results = await Promise.all([job('a', 'a1'), job('a', 'a2'), job('b', 'b1')]);
    expect(results).toEqual(['a1', 'a2', 'b1']);
    expect(log.indexOf('a1 end')).toBeLessThan(log.indexOf('a2 start'));
    expect(log.indexOf('b1 start')).toBeLessThan(log.indexOf('a1 end'));
  });

  it('lets the next work run after a failure, and passes the failure to its caller', async () => {
    const inTurn = createKeyedQueue();
    const failed = inTurn('k', async () => {
      throw new Error('disk full');
    });
    const next = inTurn('k', async () => 'ran');
    await expect(failed).rejects.toThrow('disk full');
    await expect(next).resolves.toBe('ran');
  });
});
