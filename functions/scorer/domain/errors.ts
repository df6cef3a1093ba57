/**
 * One error family for the whole scorer. A `code` is what users see in error
 * records and what tests match on; messages say what was wrong and where.
 */
export class DropscoreError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The input record is not what the model expects: the user's to fix, never retried. */
export class InvalidRecordError extends DropscoreError {}

/** The model artifact or its metadata cannot be loaded: the deployment is FAILED. */
export class ModelLoadError extends DropscoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_LOAD_FAILED', message, options);
  }
}

/** A model load's failure as a ModelLoadError (a loader may throw anything). */
export function asModelLoadError(error: unknown): ModelLoadError {
  return error instanceof ModelLoadError ? error : new ModelLoadError(describeError(error), { cause: error });
}

/** The engine rejected a record that passed validation. */
export class PredictionError extends DropscoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PREDICTION_FAILED', message, options);
  }
}

/** The instance reached a configured usage limit (model, deployment or prediction count). */
export class UsageLimitError extends DropscoreError {}

export function predictionLimitReached(quota: { readonly used: number; readonly limit?: number }): UsageLimitError {
  return new UsageLimitError('PREDICTION_LIMIT_REACHED', `the instance has used ${quota.used} of its ${quota.limit} predictions (limit prediction_count); raise the limit in deployments.json to score more`);
}

/** A manifest, model folder or environment setting is wrong: fails fast at start. */
export class ConfigError extends DropscoreError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG_INVALID', message, options);
  }
}

/** The key no longer holds the version being read (overwritten or deleted): score what it holds now. */
export class ObjectChangedError extends Error {
  constructor(readonly bucket: string, readonly key: string, readonly eTag: string) {
    super(`s3://${bucket}/${key} no longer holds version ${eTag}`);
    this.name = 'ObjectChangedError';
  }
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The message, after the error's name when that says more (AWS SDK errors: AccessDenied, NoSuchBucket…). */
export function describeNamedError(error: unknown): string {
  const name = (error as { name?: string } | undefined)?.name;
  const message = describeError(error);
  return name && name !== 'Error' && !message.startsWith(name) ? `${name}: ${message}` : message;
}
