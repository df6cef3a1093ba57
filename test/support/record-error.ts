import { InvalidRecordError } from '../../functions/scorer/domain/errors.js';

/** Runs `fn`, expecting it to reject the record: returns the InvalidRecordError (anything else fails the test). */
export function recordError(fn: () => unknown): InvalidRecordError {
  try {
    fn();
  } catch (error) {
    if (error instanceof InvalidRecordError) return error;
    throw error;
  }
  throw new Error('expected an InvalidRecordError');
}
