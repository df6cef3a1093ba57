/**
 * The events the bulk fan-out state machine (AWS Step Functions, one per
 * deployment) sends the scorer, one per step: plan the file's parts, score a
 * batch of parts, assemble the ordered outcome — or, when a step failed for
 * good, give the file its error outcome. The scorer tells them apart by
 * `dropscore`, like its warm-up event.
 */
import type { InputRef } from '../domain/outcome-object.js';

export const BULK_STEP = Object.freeze({
  plan: 'bulk-plan',
  parts: 'bulk-parts',
  assemble: 'bulk-assemble',
  abandon: 'bulk-abandon',
} as const);

export type BulkStep = (typeof BULK_STEP)[keyof typeof BULK_STEP];

/** What the scorer starts an execution with: the one input version it fans out. */
export interface FanOutInput {
  readonly input: InputRef;
}

/** Where the plan step wrote the parts (a JSON array the Distributed Map's ItemReader reads). */
export interface PlanLocation {
  readonly planBucket: string;
  readonly planKey: string;
}

