/**
 * `dropscore recount`: makes the deployments' counters and the instance's
 * batch prediction count agree with the input ledger again, on a running
 * local stack or on AWS (where no restart recounts them). A delivery writes
 * the ledger first and the counters just after; one that died in between
 * (a Lambda timing out, DynamoDB failing the counter write) leaves them short.
 *
 * Correcting while deliveries are between those two writes would count them
 * twice, so it corrects only what stayed still: two readings `settleMs`
 * apart must agree on every counter and every ledger total, and each write
 * is conditional on its counter still holding what was read. Anything that
 * moved means scoring is going on: nothing more is written then.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { correctCounters, readCounters, sameCounters, type CounterReading } from '../functions/scorer/domain/recount-counters.js';
import type { Counters, DeploymentStore, InputLedger, UsageMeter } from '../functions/scorer/domain/ports.js';

export interface RecountOptions {
  readonly ledger: InputLedger;
  readonly deployments: DeploymentStore;
  readonly usage: UsageMeter;
  /** How long the counters and ledger must stay still before anything is corrected. */
  readonly settleMs: number;
  /** Report what differs, correct nothing. */
  readonly dryRun?: boolean;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface RecountReport {
  /** `busy`: counters or ledger totals moved during the check (scoring going on); those were not corrected. */
  readonly outcome: 'agree' | 'corrected' | 'differ' | 'busy';
  /** The deployments whose counters differ from the ledger's (before correcting). */
  readonly deployments: readonly { readonly name: string; readonly counters: Counters; readonly ledger: Counters }[];
  /** Set when the batch prediction count differs from the ledger's scored inputs. */
  readonly batchPredictions?: { readonly counted: number; readonly ledger: number };
  /** `busy`: what moved (deployment names, and `predictions` for the prediction count). */
  readonly moved?: readonly string[];
}

export async function recount(options: RecountOptions): Promise<RecountReport> {
  const { ledger, deployments, usage } = options;
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const first = await readCounters(ledger, deployments, usage);
  const differences = differencesOf(first);
  if (differences.deployments.length === 0 && !differences.batchPredictions) return { outcome: 'agree', ...differences };
  if (options.dryRun) return { outcome: 'differ', ...differences };
  await sleep(options.settleMs);
  const second = await readCounters(ledger, deployments, usage);
  const moved = movedBetween(first, second);
  if (moved.length > 0) return { outcome: 'busy', ...differences, moved };
  // Each write only while its counter holds what was read: one that moved since is left alone.
  const written = await correctCounters(second, deployments, usage, true);
  const movedSince = [...written.moved, ...(written.predictions === 'moved' ? ['predictions'] : [])];
  if (movedSince.length > 0) return { outcome: 'busy', ...differences, moved: movedSince };
  return { outcome: 'corrected', ...differences };
}

function differencesOf(reading: CounterReading): Pick<RecountReport, 'deployments' | 'batchPredictions'> {
  const { counted, truth } = reading.batchPredictions;
  return {
    deployments: reading.deployments.filter((d) => !sameCounters(d.counters, d.truth)).map((d) => ({ name: d.name, counters: d.counters, ledger: d.truth })),
    ...(counted === truth ? {} : { batchPredictions: { counted, ledger: truth } }),
  };
}

/** Names of the deployments (and `predictions`) whose counters or ledger totals changed between two readings. */
function movedBetween(before: CounterReading, after: CounterReading): string[] {
  const earlier = new Map(before.deployments.map((d) => [d.id, d]));
  const moved = after.deployments.filter((d) => {
    const was = earlier.get(d.id);
    return !was || !sameCounters(was.counters, d.counters) || !sameCounters(was.truth, d.truth);
  }).map((d) => d.name);
  const predictions = before.batchPredictions.counted !== after.batchPredictions.counted || before.batchPredictions.truth !== after.batchPredictions.truth;
  return predictions ? [...moved, 'predictions'] : moved;
}
