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
}

export async function readCounters(ledger: InputLedger, deployments: DeploymentStore, usage: UsageMeter): Promise<CounterReading> {
  const [tallies, records, used] = await Promise.all([ledger.tallies(), deployments.list(), usage.read()]);
  // Deleted deployments' predictions still count.
  let truth = 0;
  for (const tally of tallies.values()) truth += tally.scored;
  return {
    deployments: records.map((record) => ({ id: record.id, name: record.name, counters: record.counters, truth: tallies.get(ledgerOwner(record.id, record.generation)) ?? NONE })),
    batchPredictions: { counted: used.predictions - used.onlinePredictions, truth },
  };
}

export function sameCounters(a: Counters, b: Counters): boolean {
  return a.received === b.received && a.scored === b.scored && a.failed === b.failed;
}

/** Writes the ledger's counts where they differ; returns the names of the deployments corrected. */
export async function correctCounters(reading: CounterReading, deployments: DeploymentStore, usage: UsageMeter): Promise<string[]> {
  const corrected: string[] = [];
  for (const { id, name, counters, truth } of reading.deployments) {
    if (sameCounters(counters, truth)) continue;
    await deployments.setCounters(id, truth);
    corrected.push(name);
  }
  const { counted, truth } = reading.batchPredictions;
  if (counted !== truth) await usage.setBatchPredictions(truth);
  return corrected;
}

/** Reads and corrects at once: for a stack nothing else writes to yet (the local stack's start). */
export async function recountCounters(ledger: InputLedger, deployments: DeploymentStore, usage: UsageMeter): Promise<string[]> {
  return correctCounters(await readCounters(ledger, deployments, usage), deployments, usage);
}
