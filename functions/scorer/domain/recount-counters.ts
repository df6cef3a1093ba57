/**
 * Recounts every deployment's counters and the instance's prediction count
 * from the input ledger, the record of what happened. Counters are written
 * after the ledger; a process that dies between the two (no transactions in
 * the embedded DynamoDB; a Lambda timing out on AWS) leaves them short, and
 * this makes them true again.
 */
import { ledgerOwner } from './ledger-scope.js';
import type { Counters, DeploymentStore, InputLedger, UsageMeter } from './ports.js';

const NONE: Counters = { received: 0, scored: 0, failed: 0 };

/** What the counters say beside what the ledger says, per deployment record and for batch predictions. */
export interface CounterReading {
  readonly deployments: readonly { readonly id: string; readonly name: string; readonly counters: Counters; readonly truth: Counters }[];
  /** The usage counter's predictions less its online ones, and the ledger's scored inputs (one prediction each). */
  readonly batchPredictions: { readonly counted: number; readonly truth: number };
  /** The usage counter's whole count (online ones too), as read. */
  readonly predictions: number;
}

export async function readCounters(ledger: InputLedger, deployments: DeploymentStore, usage: UsageMeter): Promise<CounterReading> {
  // The ledger first, then the counters, as deliveries write them. The scan takes time and is no snapshot:
  // a delivery it overlaps can leave this reading inconsistent, which the caller's second reading catches.
  const tallies = await ledger.tallies();
  const [records, used] = await Promise.all([deployments.list(), usage.read()]);
  // Deleted deployments' predictions still count.
  let truth = 0;
  for (const tally of tallies.values()) truth += tally.scored;
  return {
    deployments: records.map((record) => ({ id: record.id, name: record.name, counters: record.counters, truth: tallies.get(ledgerOwner(record.id, record.generation)) ?? NONE })),
    batchPredictions: { counted: used.predictions - used.onlinePredictions, truth },
    predictions: used.predictions,
  };
}

export function sameCounters(a: Counters, b: Counters): boolean {
  return a.received === b.received && a.scored === b.scored && a.failed === b.failed;
}

/** Which deployments' counters a correction wrote, which it left because they moved, and how the prediction count went. */
export interface Correction {
  readonly corrected: readonly string[];
  readonly moved: readonly string[];
  readonly predictions: 'agreed' | 'corrected' | 'moved';
}

/**
 * Writes the ledger's counts where they differ. `onlyIfUnchanged`: each write only while
 * its counter still holds what was read (one written meanwhile is left alone, and named).
 */
export async function correctCounters(reading: CounterReading, deployments: DeploymentStore, usage: UsageMeter, onlyIfUnchanged = false): Promise<Correction> {
  const corrected: string[] = [];
  const moved: string[] = [];
  for (const { id, name, counters, truth } of reading.deployments) {
    if (sameCounters(counters, truth)) continue;
    const written = await deployments.setCounters(id, truth, onlyIfUnchanged ? counters : undefined);
    (written ? corrected : moved).push(name);
  }
  const { counted, truth } = reading.batchPredictions;
  if (counted === truth) return { corrected, moved, predictions: 'agreed' };
  const written = await usage.setBatchPredictions(truth, onlyIfUnchanged ? reading.predictions : undefined);
  return { corrected, moved, predictions: written ? 'corrected' : 'moved' };
}

/** Reads and corrects at once, for a stack nothing else writes to yet (the local stack's start); names the deployments corrected. */
export async function recountCounters(ledger: InputLedger, deployments: DeploymentStore, usage: UsageMeter): Promise<readonly string[]> {
  const { corrected } = await correctCounters(await readCounters(ledger, deployments, usage), deployments, usage);
  return corrected;
}
