/** `dropscore score` on AWS: a SigV4-signed POST for the lambda service, checked by a local server standing in for the function URL. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreRemotely } from '../../manage/scoring-endpoint.js';

const seen: { authorization?: string; date?: string; body: string }[] = [];
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    seen.push({ authorization: req.headers.authorization, date: req.headers['x-amz-date'] as string | undefined, body });
    res.writeHead(body.includes('bad') ? 400 : 200, { 'content-type': 'application/json' });
    res.end(body.includes('bad') ? '{"error":{"code":"SHAPE_MISMATCH","message":"nope"}}' : '{"fields":["y"],"values":[[1]]}');
  });
});
let url = '';
const credentials = async () => ({ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' });

beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => {
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  resolve();
})));
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('online scoring on AWS', () => {
  it('signs the request for the lambda service and returns the answer', async () => {
    const answer = await scoreRemotely(url, new TextEncoder().encode('{"values": [[0]]}'), 'eu-west-1', credentials);
    expect(answer).toEqual({ status: 200, body: { fields: ['y'], values: [[1]] } });
    expect(seen[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/lambda\/aws4_request, SignedHeaders=[^,]*host[^,]*, Signature=[0-9a-f]{64}$/);
    expect(seen[0]!.date).toMatch(/^\d{8}T\d{6}Z$/);
    expect(seen[0]!.body).toBe('{"values": [[0]]}');
  });

  it('passes an error answer through', async () => {
    expect(await scoreRemotely(url, new TextEncoder().encode('{"bad": 1}'), 'eu-west-1', credentials)).toEqual({ status: 400, body: { error: { code: 'SHAPE_MISMATCH', message: 'nope' } } });
  });
});
