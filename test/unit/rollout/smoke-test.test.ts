import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  DescribeTaskDefinitionCommand,
  DescribeTasksCommand,
  ECSClient,
  ListTasksCommand,
  type Task,
} from '@aws-sdk/client-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import type { EnvironmentConfig } from '../../../lambdas/domain/environments';
import { environments } from '../../support/afu9-config';
import type { DeploymentRequest } from '../../../lambdas/domain/workflow-state';
import { createSmokeTestHandler } from '../../../lambdas/handlers/smoke-test';
import { testDeps } from '../../support/deps';
import {
  ACCOUNT,
  CLUSTER,
  NEW_TASK_DEF,
  OLD_TASK_DEF,
  OUR_DEPLOYMENT,
  SERVICE,
  taskArn,
} from './ecs-fixtures';

const BASE = environments.staging.smoke.baseUrl;

const request = {
  kind: 'deploy',
  environment: 'staging',
  clusterName: 'afu9-cluster',
  serviceName: 'afu9-control-center-staging',
  taskFamily: 'afu9-control-center',
  stackName: 'Afu9EcsStack',
  images: [{ container: 'control-center', repository: 'afu9/control-center', tag: 'stage-3f9c2ab' }],
  version: 'stage-3f9c2ab',
  skipDiffGate: false,
  requestedBy: 'test',
  trigger: 'manual',
  deploymentKey: 'staging#stage-3f9c2ab',
  redeploy: false,
  safetyNetPollSeconds: 300,
} satisfies DeploymentRequest;
const input = {
  executionId: 'arn:aws:states:eu-central-1:123456789012:execution:deploy:x',
  request,
  update: { taskDefinitionArn: NEW_TASK_DEF },
};

const ecs = mockClient(ECSClient);

/** The new revision: the primary and one sidecar define container health checks, the others none. */
function revisionWithHealthChecks(names: readonly string[] = ['control-center', 'mcp-github']) {
  const healthCheck = (port: number) => ({
    command: ['CMD-SHELL', `curl -f http://localhost:${port}/health || exit 1`],
    interval: 30,
    timeout: 5,
    retries: 3,
    startPeriod: 60,
  });
  return {
    $metadata: { httpStatusCode: 200 },
    taskDefinition: {
      taskDefinitionArn: NEW_TASK_DEF,
      family: 'afu9-control-center',
      revision: 43,
      containerDefinitions: [
        { name: 'control-center', image: 'x', essential: true, portMappings: [{ containerPort: 3000 }] },
        { name: 'mcp-github', image: 'x', essential: false },
        { name: 'mcp-deploy', image: 'x', essential: false },
        { name: 'mcp-observability', image: 'x', essential: false },
      ].map((container, index) =>
        names.includes(container.name) ? { ...container, healthCheck: healthCheck(3000 + index) } : container,
      ),
    },
  };
}

/** A task of the service as DescribeTasks shows it, each container with the health ECS reports. */
function runningTask(
  id: string,
  health: Record<string, 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN'>,
  taskDefinitionArn = NEW_TASK_DEF,
): Task {
  return {
    taskArn: taskArn(id),
    clusterArn: `arn:aws:ecs:eu-central-1:${ACCOUNT}:cluster/${CLUSTER}`,
    taskDefinitionArn,
    group: `service:${SERVICE}`,
    startedBy: OUR_DEPLOYMENT,
    lastStatus: 'RUNNING',
    desiredStatus: 'RUNNING',
    launchType: 'FARGATE',
    healthStatus: health['control-center'] ?? 'UNKNOWN',
    containers: Object.entries(health).map(([name, healthStatus]) => ({
      containerArn: `arn:aws:ecs:eu-central-1:${ACCOUNT}:container/${CLUSTER}/${id}/${name}`,
      taskArn: taskArn(id),
      name,
      lastStatus: 'RUNNING',
      healthStatus,
    })),
  };
}

const allHealthy = {
  'control-center': 'HEALTHY',
  'mcp-github': 'HEALTHY',
  'mcp-deploy': 'UNKNOWN',
  'mcp-observability': 'UNKNOWN',
} as const;

function ecsReports(tasks: Task[], definition = revisionWithHealthChecks()) {
  ecs.on(DescribeTaskDefinitionCommand).resolves(definition);
  ecs.on(ListTasksCommand).resolves({ $metadata: {}, taskArns: tasks.map((task) => task.taskArn!) });
  ecs.on(DescribeTasksCommand).resolves({ $metadata: {}, tasks, failures: [] });
}

beforeEach(() => {
  ecs.reset();
  ecsReports([runningTask('0f3a7c1e9b2d4f6a8c0e1b3d5f7a9c2e', allHealthy)]);
});

type Route = (call: { url: URL; count: number; signal: AbortSignal }) => Response | Promise<Response>;

const healthy: Record<string, Route> = {
  '/api/health': () =>
    Response.json({ status: 'ok', service: 'afu9-control-center', version: '3f9c2ab', timestamp: 'now' }),
  '/api/ready': () => Response.json({ ready: true, service: 'afu9-control-center', checks: {} }),
  '/': () => new Response('<html>AFU-9</html>', { headers: { 'content-type': 'text/html' } }),
};

/** A fake of the live service: answers by path and records every URL it was asked for. */
function fakeService(overrides: Record<string, Route> = {}) {
  const routes = { ...healthy, ...overrides };
  const calls: string[] = [];
  const counts = new Map<string, number>();
  const fakeFetch = (async (resource: URL | RequestInfo, init?: RequestInit) => {
    const url = new URL(String(resource));
    calls.push(url.href);
    const count = (counts.get(url.pathname) ?? 0) + 1;
    counts.set(url.pathname, count);
    const route = routes[url.pathname];
    if (!route) return new Response('not found', { status: 404 });
    return route({ url, count, signal: init!.signal! });
  }) as typeof fetch;
  return { fetch: fakeFetch, calls };
}

function withSmoke(smoke: Partial<EnvironmentConfig['smoke']>) {
  return {
    ...environments,
    staging: { ...environments.staging, smoke: { ...environments.staging.smoke, ...smoke } },
  };
}

describe('smoke-test handler', () => {
  it('passes the five runbook checks against the configured base URL only', async () => {
    // Prepare
    const service = fakeService();
    const deps = testDeps({ fetch: service.fetch });

    // Act
    const result = await createSmokeTestHandler(deps)(input);

    // Assess
    expect(result.passed).toBe(true);
    expect(result.baseUrl).toBe(`${BASE}/`);
    expect(result.checks.map((c) => [c.name, c.status, c.httpStatus, c.attempts])).toEqual([
      ['health', 'PASS', 200, 1],
      ['readiness', 'PASS', 200, 1],
      ['root-page', 'PASS', 200, 1],
      ['service-identity', 'PASS', 200, 1],
      ['version', 'PASS', 200, 1],
      ['container-health', 'PASS', undefined, 1],
    ]);
    expect(result.checks.every((c) => c.latencyMs >= 0)).toBe(true);
    expect(service.calls.every((url) => url.startsWith(`${BASE}/`))).toBe(true);
    expect(deps.sleptMs()).toBe(0);
  });

  it('accepts the newer health shape (ok: true, service "control")', async () => {
    const service = fakeService({
      '/api/health': () => Response.json({ ok: true, service: 'control', version: 'v3f9c2ab' }),
    });
    const result = await createSmokeTestHandler(testDeps({ fetch: service.fetch }))(input);
    expect(result.passed).toBe(true);
  });

  it.each([
    [
      'health',
      {
        '/api/health': () =>
          Response.json({ status: 'degraded', service: 'afu9-control-center', version: '3f9c2ab' }),
      },
      'status "degraded"',
    ],
    ['readiness', { '/api/ready': () => Response.json({ ready: false }, { status: 503 }) }, 'not ready yet'],
    ['root-page', { '/': () => new Response('oops', { status: 500 }) }, 'expected HTTP 200, got 500'],
    [
      'service-identity',
      { '/api/health': () => Response.json({ status: 'ok', service: 'grafana', version: '3f9c2ab' }) },
      'calls itself "grafana"',
    ],
    [
      'version',
      { '/api/health': () => Response.json({ status: 'ok', service: 'control', version: '0.2.5' }) },
      'version "0.2.5", deployed "stage-3f9c2ab"',
    ],
  ])('reports a failing %s check as a result, not an error', async (name, overrides, reason) => {
    const service = fakeService(overrides);

    const result = await createSmokeTestHandler(testDeps({ fetch: service.fetch }))(input);

    expect(result.passed).toBe(false);
    const failed = result.checks.find((c) => c.name === name)!;
    expect(failed.status).toBe('FAIL');
    expect(failed.reason).toContain(reason);
    expect(failed.url.startsWith(BASE)).toBe(true);
  });

  it('retries with backoff while the service warms up, then passes', async () => {
    const service = fakeService({
      '/api/health': ({ count }) =>
        count < 4
          ? new Response('Service Unavailable', { status: 503 })
          : Response.json({ status: 'ok', service: 'afu9-control-center', version: '3f9c2ab' }),
    });
    const deps = testDeps({ fetch: service.fetch });

    const result = await createSmokeTestHandler(deps)(input);

    expect(result.passed).toBe(true);
    expect(result.checks[0]).toMatchObject({ name: 'health', status: 'PASS', attempts: 4 });
    expect(deps.sleptMs()).toBe(1000 + 2000 + 4000);
  });

  it('gives up when the warm-up window ends, saying how often it tried', async () => {
    const service = fakeService({ '/api/ready': () => Response.json({ ready: false }, { status: 503 }) });
    const deps = testDeps({ fetch: service.fetch });

    const result = await createSmokeTestHandler(deps)(input);

    const readiness = result.checks.find((c) => c.name === 'readiness')!;
    expect(readiness.status).toBe('FAIL');
    expect(readiness.httpStatus).toBe(503);
    expect(readiness.attempts).toBeGreaterThan(5);
    expect(readiness.reason).toContain('warm-up window ended');
    expect(deps.sleptMs()).toBe(environments.staging.smoke.warmUpSeconds * 1000);
  });

  it('does not retry a wrong service identity (it will not heal)', async () => {
    const service = fakeService({
      '/api/health': () => Response.json({ status: 'ok', service: 'grafana', version: '3f9c2ab' }),
    });
    const result = await createSmokeTestHandler(testDeps({ fetch: service.fetch }))(input);
    expect(result.checks.find((c) => c.name === 'service-identity')).toMatchObject({
      status: 'FAIL',
      attempts: 1,
    });
  });

  it('ends a request that does not answer within the per-request timeout', async () => {
    const hanging: Route = ({ signal }) =>
      new Promise<Response>((_resolve, reject) =>
        signal.addEventListener('abort', () => reject(signal.reason)),
      );
    const service = fakeService({ '/': hanging });
    const deps = {
      ...testDeps({ fetch: service.fetch }),
      environments: withSmoke({ requestTimeoutMs: 30, warmUpSeconds: 2 }),
    };

    const result = await createSmokeTestHandler(deps)(input);

    const root = result.checks.find((c) => c.name === 'root-page')!;
    expect(root.status).toBe('FAIL');
    expect(root.reason).toContain('no complete answer within 30 ms');
    expect(root.httpStatus).toBeUndefined();
    // 1 s and then the last 1 s of the 2 s window between attempts.
    expect(root.attempts).toBe(3);
    expect(deps.sleptMs()).toBe(2000);
  });

  it('follows a redirect within the base URL', async () => {
    const service = fakeService({
      '/': () => new Response(null, { status: 302, headers: { location: '/dashboard' } }),
      '/dashboard': () =>
        new Response('<html>dashboard</html>', { headers: { 'content-type': 'text/html' } }),
    });
    const result = await createSmokeTestHandler(testDeps({ fetch: service.fetch }))(input);
    expect(result.checks.find((c) => c.name === 'root-page')).toMatchObject({
      status: 'PASS',
      httpStatus: 200,
    });
    expect(service.calls).toContain(`${BASE}/dashboard`);
  });

  it('never follows a redirect to another host', async () => {
    const service = fakeService({
      '/': () => new Response(null, { status: 301, headers: { location: 'https://elsewhere.example/' } }),
    });

    const result = await createSmokeTestHandler(testDeps({ fetch: service.fetch }))(input);

    expect(result.checks.find((c) => c.name === 'root-page')).toMatchObject({
      status: 'FAIL',
      attempts: 1,
      reason: expect.stringContaining('only calls https://stage.afu-9.com'),
    });
    expect(service.calls.every((url) => url.startsWith(BASE))).toBe(true);
  });

  it('never takes a URL from the request', async () => {
    const service = fakeService();
    const sneaky = { ...request, baseUrl: 'https://attacker.example', smokeUrl: 'https://attacker.example' };

    await createSmokeTestHandler(testDeps({ fetch: service.fetch }))({ ...input, request: sneaky });

    expect(service.calls.length).toBeGreaterThan(0);
    expect(service.calls.every((url) => url.startsWith(`${BASE}/`))).toBe(true);
  });

  it('does not put response bodies into the result', async () => {
    const body = 'x'.repeat(200_000);
    const service = fakeService({
      '/api/health': () => new Response(body, { headers: { 'content-type': 'text/plain' } }),
    });
    const result = await createSmokeTestHandler(testDeps({ fetch: service.fetch }))(input);
    expect(JSON.stringify(result).length).toBeLessThan(5000);
  });

  it('refuses a configured base URL that is not http(s)', async () => {
    const service = fakeService();
    const deps = {
      ...testDeps({ fetch: service.fetch }),
      environments: withSmoke({ baseUrl: 'file:///etc/passwd' }),
    };

    await expect(createSmokeTestHandler(deps)(input)).rejects.toMatchObject({
      name: 'SmokeTestFailed',
      message: expect.stringContaining('must be http or https'),
    });
    expect(service.calls).toEqual([]);
  });

  it("runs the environment's configured checks, and only those", async () => {
    const service = fakeService();
    const deps = testDeps({ fetch: service.fetch });
    const staging = deps.environments.staging!;
    const readyOnly: EnvironmentConfig = {
      ...staging,
      smoke: {
        ...staging.smoke,
        checks: [{ name: 'ready-only', path: '/api/ready', expectStatus: 200, expectBody: 'ready' }],
      },
    };
    const handler = createSmokeTestHandler({
      ...deps,
      environments: { ...deps.environments, staging: readyOnly },
    });
    const result = await handler(input);
    expect(result.checks.map((check) => check.name)).toEqual(['ready-only', 'container-health']);
    expect(service.calls).toEqual([`${BASE}/api/ready`]);
  });

  describe('a deployment that leaves the reporting container alone', () => {
    const sidecarOnly = {
      ...input,
      request: {
        ...request,
        images: [
          {
            container: 'mcp-github',
            repository: 'afu9/mcp-github',
            tag: 'stage-5e6f7a8',
            digest: `sha256:${'5e'.repeat(32)}`,
          },
        ],
        version: 'stage-5e6f7a8',
        deploymentKey: 'staging#afu9/mcp-github@sha256:5e5e',
      },
    };

    it("skips the version check with its reason and never compares another container's tag", async () => {
      // control-center still reports its own version, 3f9c2ab; the sidecar's tag is stage-5e6f7a8.
      const service = fakeService();

      const result = await createSmokeTestHandler(testDeps({ fetch: service.fetch }))(sidecarOnly);

      expect(result.passed).toBe(true);
      expect(result.checks.map((c) => [c.name, c.status])).toEqual([
        ['health', 'PASS'],
        ['readiness', 'PASS'],
        ['root-page', 'PASS'],
        ['service-identity', 'PASS'],
        ['version', 'SKIP'],
        ['container-health', 'PASS'],
      ]);
      expect(result.checks.find((c) => c.name === 'version')).toMatchObject({
        attempts: 0,
        reason: "mcp-github was deployed; /api/health reports control-center's version",
      });
    });

    it('still fails on health, readiness and identity', async () => {
      const service = fakeService({ '/api/ready': () => Response.json({ ready: false }, { status: 503 }) });

      const result = await createSmokeTestHandler(testDeps({ fetch: service.fetch }))(sidecarOnly);

      expect(result.passed).toBe(false);
      expect(result.checks.find((c) => c.name === 'readiness')?.status).toBe('FAIL');
      expect(result.checks.find((c) => c.name === 'version')?.status).toBe('SKIP');
    });

    it('checks the version of the container smoke.versionReportedBy names', async () => {
      const service = fakeService({
        '/api/health': () =>
          Response.json({ status: 'ok', service: 'afu9-control-center', version: '5e6f7a8' }),
      });
      const deps = {
        ...testDeps({ fetch: service.fetch }),
        environments: withSmoke({ versionReportedBy: 'mcp-github' }),
      };

      const result = await createSmokeTestHandler(deps)(sidecarOnly);

      expect(result.checks.find((c) => c.name === 'version')).toMatchObject({ status: 'PASS', attempts: 1 });
    });

    it('skips it when the configured reporter was not deployed, naming that container', async () => {
      const deps = {
        ...testDeps({ fetch: fakeService().fetch }),
        environments: withSmoke({ versionReportedBy: 'mcp-deploy' }),
      };

      const result = await createSmokeTestHandler(deps)(input);

      expect(result.checks.find((c) => c.name === 'version')).toMatchObject({
        status: 'SKIP',
        reason: "control-center was deployed; /api/health reports mcp-deploy's version",
      });
    });
  });

  describe("the containers' own health (ECS health checks)", () => {
    const id = '0f3a7c1e9b2d4f6a8c0e1b3d5f7a9c2e';

    it('fails at once when a container with a health check is UNHEALTHY in a task of the new revision', async () => {
      ecsReports([runningTask(id, { ...allHealthy, 'mcp-github': 'UNHEALTHY' })]);
      const deps = testDeps({ fetch: fakeService().fetch });

      const result = await createSmokeTestHandler(deps)(input);

      expect(result.passed).toBe(false);
      expect(result.checks.find((c) => c.name === 'container-health')).toMatchObject({
        status: 'FAIL',
        attempts: 1,
        url: NEW_TASK_DEF,
        reason: expect.stringContaining(`mcp-github is UNHEALTHY in task ${id}`),
      });
      expect(deps.sleptMs()).toBe(0);
    });

    it('asks again while a container is still UNKNOWN (in its start period), then passes', async () => {
      ecs
        .on(DescribeTasksCommand)
        .resolvesOnce({ $metadata: {}, tasks: [runningTask(id, { ...allHealthy, 'mcp-github': 'UNKNOWN' })] })
        .resolves({ $metadata: {}, tasks: [runningTask(id, allHealthy)] });
      const deps = testDeps({ fetch: fakeService().fetch });

      const result = await createSmokeTestHandler(deps)(input);

      expect(result.checks.find((c) => c.name === 'container-health')).toMatchObject({
        status: 'PASS',
        attempts: 2,
      });
      expect(deps.sleptMs()).toBe(1000);
    });

    it('judges only the tasks of the new revision, and fails when none runs by the end of the warm-up', async () => {
      ecsReports([runningTask(id, allHealthy, OLD_TASK_DEF)]);
      const deps = testDeps({ fetch: fakeService().fetch });

      const result = await createSmokeTestHandler(deps)(input);

      expect(result.checks.find((c) => c.name === 'container-health')).toMatchObject({
        status: 'FAIL',
        reason: expect.stringMatching(/^no task of .*:43 is RUNNING.*warm-up window ended$/),
      });
    });

    it('ignores containers without a health check (ECS reports them UNKNOWN)', async () => {
      ecsReports(
        [runningTask(id, { ...allHealthy, 'mcp-deploy': 'UNKNOWN' })],
        revisionWithHealthChecks(['control-center']),
      );

      const result = await createSmokeTestHandler(testDeps({ fetch: fakeService().fetch }))(input);

      expect(result.checks.find((c) => c.name === 'container-health')?.status).toBe('PASS');
    });

    it('skips the check, saying so, when no container of the revision defines a health check', async () => {
      ecsReports([], revisionWithHealthChecks([]));

      const result = await createSmokeTestHandler(testDeps({ fetch: fakeService().fetch }))(input);

      expect(result.passed).toBe(true);
      expect(result.checks.find((c) => c.name === 'container-health')).toMatchObject({
        status: 'SKIP',
        reason: expect.stringContaining('defines a health check'),
      });
    });

    it('fails the check, naming the permission, when ECS refuses to describe the tasks', async () => {
      ecs.on(DescribeTasksCommand).rejects(
        Object.assign(new Error('User is not authorized to perform: ecs:DescribeTasks'), {
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        }),
      );

      const result = await createSmokeTestHandler(testDeps({ fetch: fakeService().fetch }))(input);

      expect(result.passed).toBe(false);
      expect(result.checks.find((c) => c.name === 'container-health')).toMatchObject({
        status: 'FAIL',
        reason: expect.stringContaining('ecs:DescribeTasks'),
      });
    });

    it('refuses to judge without the deployed revision ($.update)', async () => {
      const { update: _update, ...withoutUpdate } = input;

      await expect(
        createSmokeTestHandler(testDeps({ fetch: fakeService().fetch }))(
          withoutUpdate as unknown as typeof input,
        ),
      ).rejects.toMatchObject({ name: 'SmokeTestFailed', message: expect.stringContaining('$.update') });
    });
  });

  describe('over real HTTP (the platform fetch)', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/') {
          res.writeHead(307, { location: '/home' }).end();
        } else if (req.url === '/home') {
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>home</html>');
        } else if (req.url === '/api/ready') {
          res.writeHead(200, { 'content-type': 'application/json' }).end('{"ready":true}');
        } else {
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end('{"status":"ok","service":"afu9-control-center","version":"0.2.6"}');
        }
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('passes, following the redirect itself', async () => {
      const deps = { ...testDeps({ fetch: globalThis.fetch }), environments: withSmoke({ baseUrl: base }) };
      const result = await createSmokeTestHandler(deps)({
        ...input,
        request: {
          ...request,
          images: [{ container: 'control-center', repository: 'afu9/control-center', tag: 'v0.2.6' }],
          version: 'v0.2.6',
        },
      });
      expect(result.checks.map((c) => `${c.name}:${c.status}:${c.reason ?? ''}`)).toEqual([
        'health:PASS:',
        'readiness:PASS:',
        'root-page:PASS:',
        'service-identity:PASS:',
        'version:PASS:',
        'container-health:PASS:',
      ]);
    });
  });
});
