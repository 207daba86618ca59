import {
  checkUrl,
  judgeContainerHealth,
  judgeSmokeResponse,
  parseSmokeBaseUrl,
  redirectTarget,
  retryDelayMs,
  versionCheckScope,
  versionsMatch,
  type SmokeExpectations,
  type TaskHealthObservation,
} from '../../../lambdas/domain/smoke';
import { environments } from '../../support/afu9-config';

const prefixes = ['stage-', 'prod-'];
const expectations: SmokeExpectations = {
  expectedServiceNames: ['afu9-control-center', 'control'],
  deployedVersion: 'stage-3f9c2ab',
  versionTagPrefixes: prefixes,
};
const check = (name: string) => environments.staging!.smoke.checks.find((c) => c.name === name)!;
const json = (status: number, body: unknown) => ({
  status,
  contentType: 'application/json',
  body: JSON.stringify(body),
  truncated: false,
});

describe('versionsMatch', () => {
  it.each([
    ['stage-3f9c2ab', '3f9c2ab'],
    ['stage-3f9c2ab', '3f9c2ab41e0d7c5b9a8f6e4d2c1b0a9f8e7d6c5b'],
    ['prod-3F9C2AB41E', '3f9c2ab'],
    ['v0.2.6', '0.2.6'],
    ['0.2.6', 'v0.2.6'],
    ['stage-3f9c2ab', 'stage-3f9c2ab'],
  ])('%s matches %s', (deployed, reported) => {
    expect(versionsMatch(deployed, reported, prefixes)).toBe(true);
  });

  it.each([
    ['stage-3f9c2ab', '0.2.5', 'a tag against a package version'],
    ['stage-3f9c2ab', '3f9c2a', 'a sha prefix shorter than 7'],
    ['stage-3f9c2ab', '3f9c2ac', 'a different sha'],
    ['v0.2.6', '0.2.60', 'a longer version'],
    ['stage-', '', 'empty after normalising'],
  ])('%s does not match %s (%s)', (deployed, reported) => {
    expect(versionsMatch(deployed, reported, prefixes)).toBe(false);
  });
});

describe('judgeSmokeResponse', () => {
  it('accepts both health shapes the runbook knows', () => {
    expect(judgeSmokeResponse(check('health'), json(200, { status: 'ok' }), expectations).passed).toBe(true);
    expect(judgeSmokeResponse(check('health'), json(200, { ok: true }), expectations).passed).toBe(true);
  });

  it('calls a 503 from readiness "not ready" and lets it be retried', () => {
    expect(judgeSmokeResponse(check('readiness'), json(503, { ready: false }), expectations)).toEqual({
      passed: false,
      reason: 'the service answers 503: not ready yet',
      retryable: true,
    });
  });

  it('does not retry a service that names itself differently', () => {
    const verdict = judgeSmokeResponse(
      check('service-identity'),
      json(200, { service: 'grafana' }),
      expectations,
    );
    expect(verdict).toMatchObject({ passed: false, retryable: false });
    expect(verdict.passed || verdict.reason).toContain('"grafana"');
  });

  it('fails the version check for a digest-only deployment, saying how to fix it', () => {
    const verdict = judgeSmokeResponse(check('version'), json(200, { version: '0.2.6' }), {
      ...expectations,
      deployedVersion: 'sha256:' + 'a'.repeat(64),
    });
    expect(verdict).toMatchObject({
      passed: false,
      retryable: false,
      reason: expect.stringContaining('image tag'),
    });
  });

  it('quotes a reported value only up to a bound', () => {
    const verdict = judgeSmokeResponse(
      check('version'),
      json(200, { version: 'x'.repeat(5000) }),
      expectations,
    );
    expect(verdict.passed || verdict.reason.length).toBeLessThan(200);
  });

  it('fails a JSON check on an HTML answer without quoting the page', () => {
    const verdict = judgeSmokeResponse(
      check('health'),
      { status: 200, contentType: 'text/html', body: '<html>secret-looking</html>', truncated: false },
      expectations,
    );
    expect(verdict).toMatchObject({ passed: false, retryable: true });
    expect(verdict.passed || verdict.reason).not.toContain('secret-looking');
  });
});

describe('parseSmokeBaseUrl and checkUrl', () => {
  it.each([
    ['ftp://stage.afu-9.com', 'http or https'],
    ['file:///etc/passwd', 'http or https'],
    ['https://user:pw@stage.afu-9.com', 'credentials'],
    ['not a url', 'not a URL'],
  ])('refuses %s', (raw, problem) => {
    expect(parseSmokeBaseUrl(raw)).toEqual({ problem: expect.stringContaining(problem) });
  });

  it('keeps a base path when joining a check path', () => {
    const parsed = parseSmokeBaseUrl('https://stage.afu-9.com/cc');
    expect('url' in parsed && checkUrl(parsed.url, '/api/health').href).toBe(
      'https://stage.afu-9.com/cc/api/health',
    );
  });
});

describe('redirectTarget', () => {
  const base = new URL('http://stage.afu-9.com');

  it('follows a redirect within the same origin and an upgrade to https', () => {
    expect(redirectTarget(base, new URL('http://stage.afu-9.com/'), '/login')).toEqual({
      url: new URL('http://stage.afu-9.com/login'),
    });
    expect(redirectTarget(base, new URL('http://stage.afu-9.com/'), 'https://stage.afu-9.com/')).toEqual({
      url: new URL('https://stage.afu-9.com/'),
    });
  });

  it('refuses a redirect to another host', () => {
    expect(redirectTarget(base, new URL('http://stage.afu-9.com/'), 'https://evil.example/')).toEqual({
      refused: expect.stringContaining('only calls http://stage.afu-9.com'),
    });
  });

  it('refuses a downgrade from https to http', () => {
    const secure = new URL('https://stage.afu-9.com');
    expect(redirectTarget(secure, secure, 'http://stage.afu-9.com/')).toHaveProperty('refused');
  });
});

describe('retryDelayMs', () => {
  it('backs off exponentially up to 15 s', () => {
    expect([1, 2, 3, 4, 5, 6].map(retryDelayMs)).toEqual([1000, 2000, 4000, 8000, 15000, 15000]);
  });
});

describe('versionCheckScope', () => {
  const digest = `sha256:${'5e'.repeat(32)}`;

  it('applies when the reporting container was deployed, against its own tag', () => {
    expect(
      versionCheckScope(
        [
          { container: 'mcp-github', tag: 'stage-5e6f7a8', digest },
          { container: 'control-center', tag: 'stage-3f9c2ab', digest },
        ],
        'control-center',
        '/api/health',
      ),
    ).toEqual({ applies: true, deployedVersion: 'stage-3f9c2ab' });
  });

  it("is skipped, with its reason, when only a sidecar was deployed: never another container's tag", () => {
    expect(
      versionCheckScope(
        [{ container: 'mcp-github', tag: 'stage-5e6f7a8', digest }],
        'control-center',
        '/api/health',
      ),
    ).toEqual({
      applies: false,
      reason: "mcp-github was deployed; /api/health reports control-center's version",
    });
  });

  it('names every container deployed when several sidecars were', () => {
    const scope = versionCheckScope(
      [
        { container: 'mcp-github', tag: 'stage-5e6f7a8' },
        { container: 'mcp-deploy', tag: 'stage-5e6f7a8' },
      ],
      'control-center',
      '/api/health',
    );
    expect(scope).toMatchObject({
      reason: "mcp-github, mcp-deploy were deployed; /api/health reports control-center's version",
    });
  });

  it('applies to an image given by digest alone (the version judgement then explains why it cannot pass)', () => {
    expect(
      versionCheckScope([{ container: 'control-center', digest }], 'control-center', '/api/health'),
    ).toEqual({
      applies: true,
      deployedVersion: digest,
    });
  });
});

describe('judgeContainerHealth (DescribeTasks containers[].healthStatus)', () => {
  const revision = 'arn:aws:ecs:eu-central-1:123456789012:task-definition/afu9-control-center-staging:43';
  const task = (
    id: string,
    health: Record<string, string>,
    lastStatus = 'RUNNING',
  ): TaskHealthObservation => ({
    taskArn: `arn:aws:ecs:eu-central-1:123456789012:task/afu9-cluster/${id}`,
    lastStatus,
    containers: Object.entries(health).map(([name, healthStatus]) => ({ name, healthStatus })),
  });
  const checked = ['control-center', 'mcp-github'];

  it('passes when every health-checked container is HEALTHY in every running task', () => {
    const tasks = [
      task('a1', { 'control-center': 'HEALTHY', 'mcp-github': 'HEALTHY', 'mcp-deploy': 'UNKNOWN' }),
      task('b2', { 'control-center': 'HEALTHY', 'mcp-github': 'HEALTHY', 'mcp-deploy': 'UNKNOWN' }),
    ];
    expect(judgeContainerHealth(checked, tasks, revision)).toEqual({ passed: true });
  });

  it('fails for good on UNHEALTHY, naming the container and the task', () => {
    const verdict = judgeContainerHealth(
      checked,
      [task('a1', { 'control-center': 'HEALTHY', 'mcp-github': 'UNHEALTHY' })],
      revision,
    );
    expect(verdict).toEqual({
      passed: false,
      reason: `mcp-github is UNHEALTHY in task a1 (ECS container health checks of ${revision})`,
      retryable: false,
    });
  });

  it('may heal while a container is UNKNOWN (its start period) or missing from the answer', () => {
    const verdict = judgeContainerHealth(checked, [task('a1', { 'control-center': 'UNKNOWN' })], revision);
    expect(verdict).toEqual({
      passed: false,
      reason:
        'control-center is UNKNOWN in task a1; mcp-github is UNKNOWN in task a1 ' +
        `(ECS container health checks of ${revision})`,
      retryable: true,
    });
  });

  it('may heal when no task of the revision is RUNNING yet', () => {
    const verdict = judgeContainerHealth(
      checked,
      [task('a1', { 'control-center': 'HEALTHY', 'mcp-github': 'HEALTHY' }, 'PENDING')],
      revision,
    );
    expect(verdict).toMatchObject({
      passed: false,
      retryable: true,
      reason: expect.stringContaining('no task of'),
    });
  });
});
