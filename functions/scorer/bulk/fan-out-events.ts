/**
 * The events the bulk fan-out state machine (AWS Step Functions, one per
 * deployment) sends the scorer, one per step: plan the file's parts, score a
 * batch of parts, assemble the ordered outcome — or, when a step failed for
 * good, give the file its error outcome. The scorer tells them apart by
 * `dropscore`, like its warm-up event.
 */
import type { InputRef } from '../domain/outcome-object.js';
import type { BulkPartItem } from './bulk-plan.js';
import type { PlannedFile } from './fan-out-steps.js';

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


/** The scorer's payload for each step, as the state machine's tasks send it. */
export type FanOutStepEvent =
  | { readonly dropscore: typeof BULK_STEP.plan; readonly input: InputRef }
  | { readonly dropscore: typeof BULK_STEP.parts; readonly items: readonly BulkPartItem[] }
  | { readonly dropscore: typeof BULK_STEP.assemble; readonly input: InputRef; readonly plan: PlannedFile }
  | { readonly dropscore: typeof BULK_STEP.abandon; readonly input: InputRef; readonly failure: { readonly Error?: string; readonly Cause?: string } };

/** The step an event asks for; `undefined` when it is no fan-out step; a clear error when it is one but malformed. */
export function fanOutStepOf(event: unknown): FanOutStepEvent | undefined {
  const step = (event as { dropscore?: unknown } | null)?.dropscore;
  if (!Object.values(BULK_STEP).includes(step as BulkStep)) return undefined;
  const fields = event as Record<string, unknown>;
  const isInput = (value: unknown) => typeof (value as InputRef | undefined)?.bucket === 'string' && typeof (value as InputRef).key === 'string' && typeof (value as InputRef).eTag === 'string';
  if (step === BULK_STEP.parts) {
    if (!Array.isArray(fields['items']) || !fields['items'].every((item) => isInput((item as BulkPartItem | undefined)?.input))) {
      throw new Error(`a ${step} event needs an "items" array of bulk-file parts, each with its input {bucket, key, eTag}`);
    }
  } else if (!isInput(fields['input'])) {
    throw new Error(`a ${step} event needs the input version {bucket, key, eTag}`);
  }
  return event as FanOutStepEvent;
}
