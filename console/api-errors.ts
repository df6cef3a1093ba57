/**
 * Errors of the management code as API answers: a status, a code and, for
 * the Add Deployment form, the field the error belongs to, so the console can
 * show it next to that field. The management code reports problems as
 * messages (it was written for the CLI), so the field is recognised from the
 * message; test/unit/console-api-errors.test.ts produces each error with the
 * real management code, so a reworded message fails there first.
 */
import { ConfigError, DropscoreError, InvalidRecordError, ModelLoadError, UsageLimitError, describeError } from '../functions/scorer/domain/errors.js';
import { UnknownDeploymentError } from '../manage/deployment-admin.js';
import type { ApiErrorBody, DeploymentField } from './api-types.js';
import { HttpError } from './http-io.js';

export interface ApiErrorAnswer {
  readonly status: number;
  readonly body: ApiErrorBody;
}

interface FieldRule {
  readonly pattern: RegExp;
  readonly field: DeploymentField;
  readonly code: string;
  readonly status: number;
}

const FIELD_RULES: readonly FieldRule[] = [
  { pattern: /^no model named "/, field: 'model', code: 'UNKNOWN_MODEL', status: 422 },
  { pattern: /^a deployment named ".*" exists already/, field: 'name', code: 'NAME_TAKEN', status: 409 },
  { pattern: /deployment name ".*" is used twice/, field: 'name', code: 'NAME_TAKEN', status: 409 },
  { pattern: /"name" must be lowercase/, field: 'name', code: 'INVALID_NAME', status: 422 },
  { pattern: /"model" must name a folder/, field: 'model', code: 'UNKNOWN_MODEL', status: 422 },
  { pattern: /\.source: "bucket" must be/, field: 'source', code: 'INVALID_BUCKET', status: 422 },
  { pattern: /\.target: "bucket" must be/, field: 'target', code: 'INVALID_BUCKET', status: 422 },
  { pattern: /\.source: "prefix" must be/, field: 'sourcePrefix', code: 'INVALID_PREFIX', status: 422 },
  { pattern: /\.target: "prefix" must be/, field: 'targetPrefix', code: 'INVALID_PREFIX', status: 422 },
  // The target is the field to change: the user picked the source first.
  { pattern: /source and target share bucket/, field: 'target', code: 'SAME_BUCKET', status: 422 },
  { pattern: /watch overlapping keys/, field: 'source', code: 'SOURCE_IN_USE', status: 409 },
];

// One deployment would score another's outcomes: the message names both, and either binding may be the one to change.
const LOOP = /the target of deployment ".*" \(.*\) overlaps the source of deployment/;

export function toApiError(error: unknown): ApiErrorAnswer {
  if (error instanceof HttpError) return answer(error.status, error.code, error.message, error.field);
  if (error instanceof UnknownDeploymentError) return answer(404, 'DEPLOYMENT_NOT_FOUND', error.message);
  if (error instanceof UsageLimitError) return answer(409, error.code, error.message);
  if (error instanceof ConfigError) {
    const rule = FIELD_RULES.find((r) => r.pattern.test(error.message));
    const message = forConsole(error.message);
    if (LOOP.test(error.message)) return answer(409, 'DEPLOYMENT_LOOP', message);
    return rule ? answer(rule.status, rule.code, message, rule.field) : answer(422, error.code, message);
  }
  if (error instanceof InvalidRecordError || error instanceof ModelLoadError) return answer(422, error.code, error.message);
  if (error instanceof DropscoreError) return answer(500, error.code, error.message);
  return answer(500, 'INTERNAL_ERROR', describeError(error));
}

/**
 * Drops what only makes sense on a command line or in the manifest file: the
 * manifest path and entry index before the message, and CLI flag hints.
 */
export function forConsole(message: string): string {
  const entry = /^.*?deployments\[\d+\](?: \([^)]*\))?(?:\.(?:source|target))?: /;
  return message
    .replace(entry.test(message) ? entry : /^(?:\/|\.{1,2}\/|[A-Za-z]:\\)[^:]*?\.json: /, '')
    .replace(/ \(choose another with --name, or delete it first\)$/, ': choose another name, or delete that deployment first');
}

function answer(status: number, code: string, message: string, field?: DeploymentField): ApiErrorAnswer {
  return { status, body: { error: { code, message, ...(field ? { field } : {}) } } };
}
