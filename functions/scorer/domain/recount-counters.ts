/**
 * Recounts every deployment's counters and the instance's prediction count
 * from the input ledger, the record of what happened. Counters are written
 * after the ledger; a process that dies between the two (no transactions in
 * the embedded DynamoDB) leaves them short, and this makes them true again.
 */
import { ledgerOwner } from './ledger-scope.js';
import type { Counters, DeploymentStore, InputLedger, UsageMeter } from './ports.js';

const NONE: Counters = { received: 0, scored: 0, failed: 0 };

/** Returns the names of the deployments whose counters were corrected. */
export async function recountCounters(ledger: InputLedger, deployments: DeploymentStore, usage: UsageMeter): Promise<string[]> {
  const tallies = await ledger.tallies();
  const corrected: string[] = [];
  for (const record of await deployments.list()) {
    const truth = tallies.get(ledgerOwner(record.id, record.generation)) ?? NONE;
    const { counters } = record;
    if (counters.received === truth.received && counters.scored === truth.scored && counters.failed === truth.failed) continue;
    await deployments.setCounters(record.id, truth);
    corrected.push(record.name);
  }
  // Each scored input is one prediction made; deleted deployments' predictions still count.
  let batchPredictions = 0;
  for (const tally of tallies.values()) batchPredictions += tally.scored;
  await usage.setBatchPredictions(batchPredictions);
  return corrected;
}
