/**
 * The web console: a local dashboard over the embedded stack, on node:http.
 * It listens on 127.0.0.1 only and answers only requests addressed to that
 * host (a DNS-rebinding page cannot reach it through another name); requests
 * that change something must carry the console's header, which a page on
 * another origin cannot send without a CORS preflight that is never granted.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import type { Logger } from '../functions/scorer/domain/ports.js';
import type { LocalStack } from '../infra/local/local-stack.js';
import type { AdminContext } from '../manage/deployment-admin.js';
import { createApi } from './api-routes.js';
import { CONSOLE_REQUEST_HEADER } from './api-types.js';
import { loadConsoleAssets, type Assets } from './console-assets.js';
import { sendJson } from './http-io.js';
import { createModelCache } from './model-cache.js';
import { createOutcomeFeed } from './outcome-feed.js';

export interface ConsoleOptions {
  readonly stack: LocalStack;
  readonly manifestPath: string;
  readonly modelsRoot: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Loopback only: the console has no authentication. */
  readonly host?: '127.0.0.1';
  readonly log?: Logger;
}

export interface ConsoleHandle {
  readonly url: string;
  close(): Promise<void>;
}

const HOST = '127.0.0.1';

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

const quiet: Logger = { info: () => {}, warn: () => {}, error: () => {} };

export async function startConsole(options: ConsoleOptions): Promise<ConsoleHandle> {
  if (options.host !== undefined && options.host !== HOST) throw new Error(`the console listens on ${HOST} only, not ${String(options.host)}`);
  const { stack } = options;
  const modelsRoot = resolve(options.modelsRoot);
  const ctx: AdminContext = {
    target: 'local',
    deployments: stack.deployments,
    usage: stack.usage,
    s3: stack.s3,
    manifestPath: resolve(options.manifestPath),
    modelsRoot,
    reconcile: () => stack.reconcile(),
  };
  const log = options.log ?? quiet;
  const api = createApi({ ctx, s3: stack.s3, models: createModelCache(modelsRoot), scoreOnline: stack.scoreOnline, outcomes: createOutcomeFeed(stack.s3), log });
  const assets = await loadConsoleAssets();

  let allowedHosts: ReadonlySet<string> = new Set();
  // Requests still working on the stack when the browser goes away: close() waits for them, so none touches a closed stack.
  const inFlight = new Set<Promise<void>>();
  const server = createServer((request, response) => {
    const handled = route(request, response).catch((error: unknown) => {
      log.error('console request failed', { path: request.url, reason: String(error) });
      if (!response.headersSent) sendJson(response, 500, { error: { code: 'INTERNAL_ERROR', message: String(error) } });
      else response.destroy();
    });
    inFlight.add(handled);
    void handled.finally(() => inFlight.delete(handled));
  });

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const host = request.headers.host ?? '';
    if (!allowedHosts.has(host)) {
      sendJson(response, 421, { error: { code: 'WRONG_HOST', message: `the console answers on ${[...allowedHosts].join(' or ')} only` } });
      return;
    }
    const url = new URL(request.url ?? '/', `http://${host}`);
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const origin = request.headers.origin;
      if (request.headers[CONSOLE_REQUEST_HEADER] !== '1' || (origin !== undefined && !allowedHosts.has(origin.replace(/^http:\/\//, '')))) {
        sendJson(response, 403, { error: { code: 'FORBIDDEN', message: `changes need the ${CONSOLE_REQUEST_HEADER} header, from the console's own pages` } });
        return;
      }
    }
    if (url.pathname.startsWith('/api/')) {
      await api.handle(request, response, url);
      return;
    }
    serveAsset(assets, url.pathname, request, response);
  }

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port, HOST, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = new Set([`${HOST}:${port}`, `localhost:${port}`]);

  return {
    url: `http://${HOST}:${port}/`,
    async close() {
      const closed = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
      // Browsers keep connections alive: close them, or close() waits for their timeout.
      server.closeAllConnections();
      await closed;
      await Promise.all([...inFlight]);
      await api.settle();
    },
  };
}

function serveAsset(assets: Assets, path: string, request: IncomingMessage, response: ServerResponse): void {
  // Pages are routed in the browser (#/models/...): every page is index.html.
  const asset = assets.get(path === '/index.html' ? '/' : path);
  if (!asset) {
    response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', ...PAGE_HEADERS });
    response.end('not found');
    return;
  }
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD', ...PAGE_HEADERS });
    response.end();
    return;
  }
  response.writeHead(200, { 'content-type': asset.contentType, 'content-length': asset.body.length, ...PAGE_HEADERS });
  response.end(request.method === 'HEAD' ? undefined : asset.body);
}
