/**
 * What keeps web pages away from the embedded stack, for both of its doors
 * (the S3 server and the DynamoDB edge): requests must be addressed to a
 * loopback host (a page cannot reach it by DNS rebinding) and carry no sign of
 * a browser (an Origin header, a CORS preflight).
 */
import type { IncomingMessage } from 'node:http';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** The Host header without its port. */
export function hostOf(req: IncomingMessage): string {
  return (req.headers.host ?? '').replace(/:\d+$/, '');
}

export function isAddressedToLoopback(req: IncomingMessage): boolean {
  return LOOPBACK_HOSTS.has(hostOf(req));
}

export function comesFromWebPage(req: IncomingMessage): boolean {
  return req.headers.origin !== undefined || req.method === 'OPTIONS';
}
