/**
 * A real HTTP server on 127.0.0.1 standing in for the AFU-9 Control Center behind its load
 * balancer: `/api/health`, `/api/ready` and `/` answer as the revision the simulated service is
 * serving (the one with healthy, registered tasks) would, and as the load balancer does when no
 * task is healthy (503). One server serves every environment: `/<environment>/api/health` asks that
 * environment's service; paths without a prefix ask the default one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isEnvironmentName, type EnvironmentName } from '../lambdas/domain/environments';
import type { RevisionBehaviour } from './account/simulated-account';

/** What the environment's load balancer routes to right now. */
export interface ServedRevision {
  readonly taskDefinitionArn: string;
  /** What the build reports as its version: the primary container's image tag. */
  readonly version: string;
  readonly behaviour: RevisionBehaviour;
}

export interface LiveServiceOptions {
  readonly servedRevision: (environment: EnvironmentName) => ServedRevision | undefined;
  readonly defaultEnvironment: EnvironmentName;
  readonly now: () => Date;
  /** When true, requests are accepted and never answered (a hanging smoke target). */
  readonly hangs: () => boolean;
}

export interface LiveService {
  /** Base URL of the default environment. */
  readonly url: string;
  urlFor(environment: EnvironmentName): string;
  close(): Promise<void>;
}

const SERVICE_NAME = 'afu9-control-center';

const loadBalancerUnavailable =
  '<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n' +
  '<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n';

export async function startLiveService(options: LiveServiceOptions): Promise<LiveService> {
  const server = createServer((request, response) => {
    if (options.hangs()) return;
    answer(request, response, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    urlFor: (environment) => `${base}/${environment}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function answer(request: IncomingMessage, response: ServerResponse, options: LiveServiceOptions): void {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  const prefixed = isEnvironmentName(segments[0]);
  const environment = prefixed ? (segments[0] as EnvironmentName) : options.defaultEnvironment;
  const path = `/${(prefixed ? segments.slice(1) : segments).join('/')}`;
  const served = options.servedRevision(environment);
  if (!served) {
    send(response, 503, 'text/html', loadBalancerUnavailable);
    return;
  }
  const identity = { service: SERVICE_NAME, version: served.version };
  switch (path) {
    case '/api/health':
      sendJson(response, 200, { status: 'ok', ...identity, timestamp: options.now().toISOString() });
      return;
    case '/api/ready':
      if (served.behaviour.kind === 'not-ready') {
        sendJson(response, 503, {
          ready: false,
          ...identity,
          checks: { database: 'error: connection refused', github: 'ok', llm: 'ok' },
        });
      } else {
        sendJson(response, 200, {
          ready: true,
          ...identity,
          checks: { database: 'ok', github: 'ok', llm: 'ok' },
        });
      }
      return;
    case '/':
      send(
        response,
        200,
        'text/html; charset=utf-8',
        `<!DOCTYPE html><html><head><title>AFU-9 Control Center</title></head>` +
          `<body><h1>AFU-9 Control Center</h1><p>Version ${escapeHtml(served.version)}</p></body></html>`,
      );
      return;
    default:
      sendJson(response, 404, { error: 'Not Found', path });
  }
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json', JSON.stringify(body));
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
