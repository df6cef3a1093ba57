/**
 * `dropscore recount` (manage/recount.ts): counters set to the ledger's only
 * when two readings a settle time apart agree, on in-memory ports.
 */
import { describe, expect, it } from 'vitest';
import type { Counters, DeploymentRecord, DeploymentStore, InputLedger, LedgerTally, UsageMeter } from '../../functions/scorer/domain/ports.js';
import { recount } from '../../manage/recount.js';

const record = (id: string, counters: Counters): DeploymentRecord => ({
  id, name: `name-${id}`, model: 'm', description: '', framework: 'onnx', status: 'DEPLOY_SUCCESS', createdAt: '', modifiedAt: '', generation: 0, counters,
  source: { bucket: 'in', prefix: '' }, target: { bucket: 'out', prefix: '' },
});

/** A stack whose counters and ledger are plain values; `during` runs while recount waits (another delivery finishing). */
function stackOf(counters: Record<string, Counters>, tallies: Record<string, LedgerTally>, batchPredictions: number) {
  const writes: string[] = [];
  const state = { counters, tallies, batchPredictions };
  const deployments = {
    list: async () => Object.entries(state.counters).map(([id, c]) => record(id, c)),
    async setCounters(id: string, c: Counters, onlyIf?: Counters) {
      if (onlyIf && JSON.stringify(onlyIf) !== JSON.stringify(state.counters[id])) return false;
      writes.push(`counters ${id}`);
      state.counters = { ...state.counters, [id]: c };
      return true;
    },
  } as unknown as DeploymentStore;
  const ledger = { tallies: async () => new Map(Object.entries(state.tallies)) } as unknown as InputLedger;
  const usage = {
    read: async () => ({ predictions: state.batchPredictions + 3, onlinePredictions: 3, limits: {} }),
    async setBatchPredictions(n: number, onlyIf?: number) {
      if (onlyIf !== undefined && onlyIf !== state.batchPredictions + 3) return false;
      writes.push(`predictions ${n}`);
      state.batchPredictions = n;
      return true;
    },
  } as unknown as UsageMeter;
  return { deployments, ledger, usage, writes, state };
}

describe('recount', () => {
  it('sets counters that stayed still and differ to the ledger\'s, and the batch predictions to its scored inputs', async () => {
    const s = stackOf({ a: { received: 5, scored: 3, failed: 1 }, b: { received: 2, scored: 2, failed: 0 } }, { a: { received: 5, scored: 4, failed: 1 }, b: { received: 2, scored: 2, failed: 0 } }, 5);
    const waits: number[] = [];
    const report = await recount({ ...s, settleMs: 1500, sleep: async (ms) => void waits.push(ms) });
    expect(report).toEqual({ outcome: 'corrected', deployments: [{ name: 'name-a', counters: { received: 5, scored: 3, failed: 1 }, ledger: { received: 5, scored: 4, failed: 1 } }], batchPredictions: { counted: 5, ledger: 6 } });
    expect(waits).toEqual([1500]);
    expect(s.writes).toEqual(['counters a', 'predictions 6']);
  });

  it('writes nothing when something moved during the settle time (a delivery between its ledger and counter writes)', async () => {
    const s = stackOf({ a: { received: 5, scored: 3, failed: 1 } }, { a: { received: 5, scored: 4, failed: 1 } }, 4);
    const report = await recount({ ...s, settleMs: 10, sleep: async () => {
      // The delivery's counter write lands meanwhile: what looked like drift was work in flight.
      s.state.counters = { a: { received: 5, scored: 4, failed: 1 } };
    } });
    expect(report).toMatchObject({ outcome: 'busy', moved: ['name-a'] });
    expect(s.writes).toEqual([]);
  });

  it('leaves a counter written between its second reading and the correction alone (each write is conditional on what was read)', async () => {
    const s = stackOf({ a: { received: 5, scored: 3, failed: 1 } }, { a: { received: 6, scored: 5, failed: 1 } }, 5);
    const read = s.deployments.list.bind(s.deployments);
    let readings = 0;
    s.deployments.list = async () => {
      const records = await read();
      // Right after the second reading, a delivery's counter write lands.
      if (++readings === 2) s.state.counters = { a: { received: 6, scored: 4, failed: 1 } };
      return records;
    };
    expect(await recount({ ...s, settleMs: 10, sleep: async () => {} })).toMatchObject({ outcome: 'busy', moved: ['name-a'] });
    expect(s.writes).toEqual([]);
    expect(s.state.counters['a']).toEqual({ received: 6, scored: 4, failed: 1 });
  });

  it('only reports with dryRun, and waits for nothing when every counter agrees', async () => {
    const drifting = stackOf({ a: { received: 1, scored: 0, failed: 0 } }, { a: { received: 1, scored: 1, failed: 0 } }, 1);
    expect(await recount({ ...drifting, settleMs: 10, dryRun: true, sleep: async () => expect.fail('no wait in a dry run') })).toMatchObject({ outcome: 'differ' });
    expect(drifting.writes).toEqual([]);
    const agreeing = stackOf({ a: { received: 1, scored: 1, failed: 0 } }, { a: { received: 1, scored: 1, failed: 0 } }, 1);
    expect(await recount({ ...agreeing, settleMs: 10, sleep: async () => expect.fail('no wait when nothing differs') })).toEqual({ outcome: 'agree', deployments: [] });
  });
});
