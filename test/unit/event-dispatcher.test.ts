import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DeploymentBinding, Logger } from '../../functions/scorer/domain/ports.js';
import { createEventDispatcher, type Delivery } from '../../infra/local/event-dispatcher.js';
import { tempRoot } from '../support/model-dir.js';

const root = tempRoot();
afterAll(() => rmSync(root, { recursive: true, force: true }));
const quietLog: Logger = { info: () => {}, warn: () => {}, error: () => {} };
const binding: DeploymentBinding = { id: 'd', name: 'dep', model: 'm', source: { bucket: 'in', prefix: '' }, target: { bucket: 'out', prefix: '' } };
const event = (key: string, bucket = 'in') => [{ record: { eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: bucket }, object: { key } } } }];

function dispatcherWith(handle: (event: unknown) => Promise<never> | Promise<{ results: [] }>, deadLetterDir: string) {
  const deliveries: Delivery[] = [];
  const dispatcher = createEventDispatcher({
    subscribers: () => [{ binding, handle: handle as never }],
    concurrency: 2,
    retryDelaysMs: [1, 1],
    deadLetterDir,
    log: quietLog,
    onDelivered: (d) => void deliveries.push(d),
  });
  return { dispatcher, deliveries };
}

describe('local event dispatcher', () => {
  it('retries a failing invocation like Lambda async invoke', async () => {
    let calls = 0;
    const { dispatcher, deliveries } = dispatcherWith(async () => {
      if (++calls < 3) throw new Error('transient');
      return { results: [] };
    }, join(root, 'dl-1'));
    dispatcher.dispatch(event('a+b.json'));
    await dispatcher.idle();
    expect(calls).toBe(3);
    expect(deliveries).toEqual([{ deployment: 'dep', keys: ['a b.json'], report: { results: [] } }]);
  });

  it('dead-letters the event after the retries, keeping the event', async () => {
    const dir = join(root, 'dl-2');
    const { dispatcher, deliveries } = dispatcherWith(async () => {
      throw new Error('S3 is down');
    }, dir);
    dispatcher.dispatch(event('x.json'));
    await dispatcher.idle();
    const [file] = readdirSync(dir);
    const saved = JSON.parse(readFileSync(join(dir, file!), 'utf8'));
    expect(saved).toMatchObject({ deployment: 'dep', error: 'S3 is down', event: { Records: event('x.json').map((d) => d.record) } });
    expect(deliveries[0]).toMatchObject({ keys: ['x.json'], error: 'S3 is down' });
  });

  it('gathers records that arrive within the batching window into one invocation', async () => {
    const events: { Records: unknown[] }[] = [];
    const dispatcher = createEventDispatcher({
      subscribers: () => [{ binding, handle: async (event) => (events.push(event as { Records: unknown[] }), { results: [] }) }],
      concurrency: 2,
      retryDelaysMs: [],
      deadLetterDir: join(root, 'dl-4'),
      log: quietLog,
      batchWindowMs: 30,
      maxBatchSize: 3,
    });
    for (const key of ['a.json', 'b.json', 'c.json', 'd.json']) dispatcher.dispatch(event(key));
    await dispatcher.idle();
    expect(events.map((e) => e.Records.length)).toEqual([3, 1]); // a full batch at once, the rest after the window
  });

  it('drops nothing into a deployment for a bucket it does not watch', async () => {
    let calls = 0;
    const { dispatcher } = dispatcherWith(async () => ((calls++), { results: [] }), join(root, 'dl-3'));
    dispatcher.dispatch(event('x.json', 'unwatched'));
    await dispatcher.idle();
    expect(calls).toBe(0);
  });
});
