/**
 * Where the AWS clients connect: real AWS or any S3/DynamoDB-compatible
 * endpoint (the embedded local stack, LocalStack). No SDK here: the clients
 * made lazily (step-functions-client.ts) share it without pulling the others.
 */
export interface AwsConnection {
  readonly region: string;
  /** Unset for real AWS; e.g. http://127.0.0.1:4566 for a local stack. */
  readonly endpoint?: string;
  /** Static credentials for local endpoints; real AWS uses the default chain. */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

/** The connection's static credentials, if any, as a client may take them. */
export function clientCredentials(connection: AwsConnection): AwsConnection['credentials'] {
  // The SDK annotates the credentials object it is given, so it must not be a shared frozen one.
  return connection.credentials && { ...connection.credentials };
}
