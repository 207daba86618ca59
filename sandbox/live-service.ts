/**
 * A real HTTP server on 127.0.0.1 standing in for the configured service behind its load balancer:
 * every path the environment's smoke checks ask answers as the revision the simulated service is
 * serving (the one with healthy, registered tasks) would, and as the load balancer does when no task
 * is healthy (503). A health document names the environment's first expected service name and the
 * served version; a readiness document says whether the revision is ready; any other checked path is
 * a page. One server serves every environment: `/<environment>/<path>` asks that environment's
 * service; paths without a configured environment prefix ask the default one.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { environmentNamed, type EnvironmentConfig, type Environments } from '../lambdas/domain/environments';
import { BodyExpectation } from '../lambdas/domain/smoke';
import type { RevisionBehaviour } from './account/simulated-account';

/** What the environment's load balancer routes to right now. */
export interface ServedRevision {
  readonly taskDefinitionArn: string;
  /** What the build reports as its version: the primary container's image tag. */
  readonly version: string;
  readonly behaviour: RevisionBehaviour;
}

export interface LiveServiceOptions {
  /** The configured environments: their smoke checks say which paths answer what. */
  readonly environments: Environments;
  readonly servedRevision: (environment: string) => ServedRevision | undefined;
  readonly defaultEnvironment: string;
  readonly now: () => Date;
  /** When true, requests are accepted and never answered (a hanging smoke target). */
  readonly hangs: () => boolean;
}

export interface LiveService {
  /** Base URL of the default environment. */
  readonly url: string;
  urlFor(environment: string): string;
  close(): Promise<void>;
}

/** What a path of the service is, judged by what the configured checks expect of it. */
type PathKind = 'health' | 'ready' | 'page';

function pathKinds(environment: EnvironmentConfig): ReadonlyMap<string, PathKind> {
  const kinds = new Map<string, PathKind>();
  for (const check of environment.smoke.checks) {
    const kind: PathKind =
      check.expectBody === BodyExpectation.ready ? 'ready' : check.expectBody ? 'health' : 'page';
    if (!kinds.has(check.path)) kinds.set(check.path, kind);
  }
  return kinds;
}

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
  const prefixed = environmentNamed(options.environments, segments[0]);
  const environment = prefixed ?? environmentNamed(options.environments, options.defaultEnvironment);
  const path = `/${(prefixed ? segments.slice(1) : segments).join('/')}`;
  const served = environment ? options.servedRevision(environment.name) : undefined;
  if (!environment || !served) {
    send(response, 503, 'text/html', loadBalancerUnavailable);
    return;
  }
  const serviceName = environment.smoke.expectedServiceNames[0];
  const identity = { service: serviceName, version: served.version };
  switch (pathKinds(environment).get(path)) {
    case 'health':
      sendJson(response, 200, { status: 'ok', ...identity, timestamp: options.now().toISOString() });
      return;
    case 'ready':
      if (served.behaviour.kind === 'not-ready') {
        sendJson(response, 503, {
          ready: false,
          ...identity,
          checks: { database: 'error: connection refused', dependencies: 'ok' },
        });
      } else {
        sendJson(response, 200, { ready: true, ...identity, checks: { database: 'ok', dependencies: 'ok' } });
      }
      return;
    case 'page':
      send(
        response,
        200,
        'text/html; charset=utf-8',
        `<!DOCTYPE html><html><head><title>${escapeHtml(String(serviceName))}</title></head>` +
          `<body><h1>${escapeHtml(String(serviceName))}</h1><p>Version ${escapeHtml(served.version)}</p></body></html>`,
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
