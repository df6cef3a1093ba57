/**
 * A stage (`-c stage=dev`) is one independent copy of the stack in an
 * account: its own stack name and table names. No stage is the stack as it
 * always was (`Dropscore`, `dropscore-deployments`), which the CLI finds.
 * Bucket names come from each stage's own manifest (S3 names are global).
 */
import { ConfigError } from '../../functions/scorer/domain/errors.js';
import { DEFAULT_TABLES, type TableNames } from '../local/provision.js';

// Short, so `dropscore-<stage>-deployments` and `Dropscore-<stage>` stay valid names everywhere.
const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,19}$/;

export function checkStage(stage: string): string {
  if (!STAGE_PATTERN.test(stage)) {
    throw new ConfigError(`stage must be 1-20 lowercase letters, digits and hyphens, starting with a letter, got ${JSON.stringify(stage)}`);
  }
  return stage;
}

export function stackNameFor(stage: string | undefined): string {
  return stage ? `Dropscore-${checkStage(stage)}` : 'Dropscore';
}

export function tableNamesFor(stage: string | undefined): TableNames {
  if (!stage) return DEFAULT_TABLES;
  checkStage(stage);
  return Object.freeze({ deploymentsTable: `dropscore-${stage}-deployments`, ledgerTable: `dropscore-${stage}-ledger` });
}
