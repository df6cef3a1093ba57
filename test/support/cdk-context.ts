/** The context `cdk synth` runs with (cdk.json: the manifest path and CDK's feature flags), so tests synthesize what deploys. */
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from './paths.js';

export const CDK_JSON_CONTEXT: Readonly<Record<string, unknown>> = Object.freeze(
  (JSON.parse(readFileSync(`${REPO_ROOT}cdk.json`, 'utf8')) as { context: Record<string, unknown> }).context,
);
