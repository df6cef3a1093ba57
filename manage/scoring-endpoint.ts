/**
 * Online scoring on AWS: a POST to the deployment's function URL, signed with
 * SigV4 for the `lambda` service (the URL uses IAM auth), with credentials
 * from the usual AWS chain.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentityProvider, SourceData } from '@smithy/types';

export interface RemoteAnswer {
  readonly status: number;
  readonly body: unknown;
}

export async function scoreRemotely(url: string, payload: Uint8Array, region: string, credentials: AwsCredentialIdentityProvider = defaultProvider()): Promise<RemoteAnswer> {
  const target = new URL(url);
  const signer = new SignatureV4({ service: 'lambda', region, credentials, sha256: NodeSha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: target.protocol,
    hostname: target.hostname,
    port: target.port ? Number(target.port) : undefined,
    path: target.pathname,
    headers: { host: target.host, 'content-type': 'application/json' },
    body: payload,
  });
  const response = await fetch(url, { method: 'POST', headers: signed.headers, body: payload });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (e.g. an AWS error page): hand the text back as it is.
  }
  return { status: response.status, body };
}

/** SigV4's hash and HMAC, on Node's crypto. */
class NodeSha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function toBytes(data: SourceData): Uint8Array {
  if (typeof data === 'string') return new TextEncoder().encode(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return new Uint8Array(data);
}
