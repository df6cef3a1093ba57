/**
 * The embedded stack's one key pair. Every S3 and DynamoDB request to the
 * stack must be signed with it (SigV4), as AWS requires a real key pair.
 * Read once from the environment, with a documented default so the README's
 * commands work out of the box; set your own to keep other local programs out.
 */
import type { KeyPair } from './sigv4-verifier.js';

export const DEFAULT_LOCAL_KEY_PAIR: KeyPair = Object.freeze({ accessKeyId: 'DROPSCORELOCAL', secretAccessKey: 'dropscore-local-secret' });

export function localKeyPairFrom(env: Readonly<Record<string, string | undefined>>): KeyPair {
  const accessKeyId = env['DROPSCORE_ACCESS_KEY_ID'] || DEFAULT_LOCAL_KEY_PAIR.accessKeyId;
  const secretAccessKey = env['DROPSCORE_SECRET_ACCESS_KEY'] || DEFAULT_LOCAL_KEY_PAIR.secretAccessKey;
  return Object.freeze({ accessKeyId, secretAccessKey });
}

/** The key pair of this process's environment: what `npm start`, the CLI and the tests use. */
export const LOCAL_CREDENTIALS: KeyPair = localKeyPairFrom(process.env);

/** The lines a user pastes into a shell so the aws CLI talks to the stack. */
export function awsCliExports(keys: KeyPair, region: string): string {
  return `export AWS_ACCESS_KEY_ID=${keys.accessKeyId} AWS_SECRET_ACCESS_KEY=${keys.secretAccessKey} AWS_DEFAULT_REGION=${region}`;
}
