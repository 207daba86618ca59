/**
 * The smoke test as data: which pages of the live service to ask, what each answer must say, which
 * failures may heal while new tasks warm up, and where a redirect may lead. Pure; the handler does
 * the HTTP and the waiting.
 */

/** What a check requires of a JSON body, beyond the HTTP status. */
export const BodyExpectation = {
  /** `status: "ok"` (runbook builds) or `ok: true` (newer builds). */
  healthOk: 'health-ok',
  /** `ready: true`. */
  ready: 'ready',
  /** `service` is one of the environment's expected service names. */
  serviceIdentity: 'service-identity',
  /** `version` matches the deployed version (see `versionsMatch`). */
  version: 'version',
} as const;
export type BodyExpectation = (typeof BodyExpectation)[keyof typeof BodyExpectation];

export interface SmokeCheck {
  readonly name: string;
  /** Path below the environment's base URL. */
  readonly path: string;
  readonly expectStatus: number;
  readonly expectBody?: BodyExpectation;
}

export interface SmokeExpectations {
  readonly expectedServiceNames: readonly string[];
  /** What was deployed: the request's version (the primary image tag). */
  readonly deployedVersion: string;
  /** Environment tag prefixes stripped before comparing versions (`stage-`, `prod-`). */
  readonly versionTagPrefixes: readonly string[];
}

/** The part of an HTTP answer a check looks at; the body is already cut to a bounded size. */
export interface SmokeResponse {
  readonly status: number;
  readonly contentType?: string;
  readonly body: string;
  /** True when the body was longer than what was read. */
  readonly truncated: boolean;
}

export type CheckVerdict =
  | { readonly passed: true }
  | {
      readonly passed: false;
      readonly reason: string;
      /** Whether asking again during the warm-up window may give a different answer. */
      readonly retryable: boolean;
    };

/** Longest reported value quoted in a reason: enough to recognise it, never a whole body. */
const QUOTE_LIMIT = 64;

export function judgeSmokeResponse(
  check: SmokeCheck,
  response: SmokeResponse,
  expectations: SmokeExpectations,
): CheckVerdict {
  if (response.status !== check.expectStatus) {
    const notReady = check.expectBody === BodyExpectation.ready && response.status === 503;
    return {
      passed: false,
      reason: notReady
        ? 'the service answers 503: not ready yet'
        : `expected HTTP ${check.expectStatus}, got ${response.status}`,
      // 5xx and 429 come from tasks still starting or a load balancer without healthy targets yet.
      retryable: response.status >= 500 || response.status === 429,
    };
  }
  if (!check.expectBody) return { passed: true };
  if (response.truncated) {
    return { passed: false, reason: 'the body is larger than a status document should be', retryable: false };
  }
  let body: unknown;
  try {
    body = JSON.parse(response.body);
  } catch {
    return {
      passed: false,
      reason: `the body is not JSON (content type ${response.contentType ?? 'not given'}, ${response.body.length} characters)`,
      // A maintenance page may stand in while the new tasks register.
      retryable: true,
    };
  }
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  return judgeBody(check.expectBody, fields, expectations);
}

function judgeBody(
  expectation: BodyExpectation,
  body: Record<string, unknown>,
  expectations: SmokeExpectations,
): CheckVerdict {
  switch (expectation) {
    case BodyExpectation.healthOk:
      return body.status === 'ok' || body.ok === true
        ? { passed: true }
        : {
            passed: false,
            reason: `health says status ${quote(body.status)}, ok ${quote(body.ok)}; expected status "ok" or ok true`,
            retryable: true,
          };
    case BodyExpectation.ready:
      return body.ready === true
        ? { passed: true }
        : {
            passed: false,
            reason: `readiness says ready ${quote(body.ready)}; expected true`,
            retryable: true,
          };
    case BodyExpectation.serviceIdentity:
      return typeof body.service === 'string' && expectations.expectedServiceNames.includes(body.service)
        ? { passed: true }
        : {
            passed: false,
            reason:
              `the service calls itself ${quote(body.service)}, expected one of ` +
              `${expectations.expectedServiceNames.map((name) => JSON.stringify(name)).join(', ')}: ` +
              'the base URL reaches another service',
            retryable: false,
          };
    case BodyExpectation.version:
      return judgeVersion(body.version, expectations);
  }
}

function judgeVersion(reported: unknown, expectations: SmokeExpectations): CheckVerdict {
  const deployed = expectations.deployedVersion;
  if (deployed.startsWith('sha256:')) {
    return {
      passed: false,
      reason:
        'the deployment names only an image digest, which the service cannot report; deploy with an image ' +
        'tag so the running version can be checked',
      retryable: false,
    };
  }
  if (typeof reported !== 'string' || reported.trim() === '') {
    return { passed: false, reason: `health reports no version (${quote(reported)})`, retryable: true };
  }
  return versionsMatch(deployed, reported, expectations.versionTagPrefixes)
    ? { passed: true }
    : {
        passed: false,
        // Tasks of the old revision may still be draining behind the load balancer.
        reason: `health reports version ${quote(reported)}, deployed ${JSON.stringify(deployed)}`,
        retryable: true,
      };
}

const GIT_SHA = /^[0-9a-f]{7,40}$/;

/**
 * Whether the version a service reports is the one deployed. Both sides are normalised: trimmed,
 * lower-cased, one environment tag prefix removed (`stage-3f9c2ab` → `3f9c2ab`), then a leading `v`
 * before a digit removed (`v0.2.6` → `0.2.6`). They match when equal, or when both are git commit
 * ids (7–40 hex digits) and the shorter is a prefix of the longer (`3f9c2ab` matches `3f9c2ab41e…`).
 */
export function versionsMatch(deployed: string, reported: string, tagPrefixes: readonly string[]): boolean {
  const a = normaliseVersion(deployed, tagPrefixes);
  const b = normaliseVersion(reported, tagPrefixes);
  if (a === '' || b === '') return false;
  if (a === b) return true;
  if (GIT_SHA.test(a) && GIT_SHA.test(b)) {
    return a.length <= b.length ? b.startsWith(a) : a.startsWith(b);
  }
  return false;
}

function normaliseVersion(version: string, tagPrefixes: readonly string[]): string {
  let value = version.trim().toLowerCase();
  const prefix = tagPrefixes.find((p) => p !== '' && value.startsWith(p.toLowerCase()));
  if (prefix) value = value.slice(prefix.length);
  return /^v\d/.test(value) ? value.slice(1) : value;
}

function quote(value: unknown): string {
  if (value === undefined) return 'missing';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > QUOTE_LIMIT ? `${text.slice(0, QUOTE_LIMIT - 1)}…` : text;
}

/**
 * The environment's smoke base URL, or why it cannot be used. Only http(s), and no credentials in
 * the URL (they would end up in results and logs).
 */
export function parseSmokeBaseUrl(raw: string): { readonly url: URL } | { readonly problem: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: `the smoke base URL ${JSON.stringify(raw)} is not a URL` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { problem: `the smoke base URL must be http or https, not ${url.protocol.replace(':', '')}` };
  }
  if (url.username || url.password) {
    return { problem: 'the smoke base URL must not carry credentials' };
  }
  if (url.search || url.hash) {
    return { problem: 'the smoke base URL must not carry a query or fragment' };
  }
  return { url };
}

/** A check's URL: its path below the base URL's own path (`https://h/app` + `/api/health`). */
export function checkUrl(base: URL, path: string): URL {
  const basePath = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
  return new URL(basePath + path.replace(/^\/+/, ''), base.origin);
}

export const MAX_REDIRECTS = 5;

/**
 * Where a redirect may lead: the base URL's host only, either the same origin or an upgrade to https
 * on its default port. Anything else would send the smoke test to a URL nobody configured.
 */
export function redirectTarget(
  base: URL,
  current: URL,
  location: string,
): { readonly url: URL } | { readonly refused: string } {
  let next: URL;
  try {
    next = new URL(location, current);
  } catch {
    return { refused: `redirected to ${JSON.stringify(location.slice(0, QUOTE_LIMIT))}, which is not a URL` };
  }
  const sameOrigin = next.origin === base.origin;
  const httpsUpgrade =
    base.protocol === 'http:' &&
    next.protocol === 'https:' &&
    next.hostname === base.hostname &&
    next.port === '';
  if (!sameOrigin && !httpsUpgrade) {
    return {
      refused: `redirected to ${next.origin}; the smoke test only calls ${base.origin} (the environment's base URL)`,
    };
  }
  return { url: next };
}

/** Backoff between attempts while the service warms up: 1 s, 2 s, 4 s, 8 s, then every 15 s. */
export function retryDelayMs(attempt: number): number {
  return Math.min(1000 * 2 ** Math.max(0, attempt - 1), 15_000);
}

/** Whether the version check applies to a deployment, and against which version. */
export type VersionCheckScope =
  | { readonly applies: true; readonly deployedVersion: string }
  | { readonly applies: false; readonly reason: string };

/**
 * The version check compares what the endpoint reports with the image deployed to the container
 * that reports it (`reporter`). A deployment that leaves that container alone (a sidecar's image
 * alone) has no version the endpoint could report, so the check is skipped and says why; another
 * container's tag is never compared with it.
 */
export function versionCheckScope(
  deployed: readonly { readonly container: string; readonly tag?: string; readonly digest?: string }[],
  reporter: string,
  checkPath: string,
): VersionCheckScope {
  const image = deployed.find((candidate) => candidate.container === reporter);
  const version = image?.tag ?? image?.digest;
  if (version !== undefined) return { applies: true, deployedVersion: version };
  const names = deployed.map((candidate) => candidate.container);
  return {
    applies: false,
    reason: `${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} deployed; ${checkPath} reports ${reporter}'s version`,
  };
}

/** One running task as DescribeTasks shows its containers' health. */
export interface TaskHealthObservation {
  readonly taskArn: string;
  readonly lastStatus: string;
  readonly containers: readonly {
    readonly name: string;
    /** `HEALTHY`, `UNHEALTHY` or `UNKNOWN`; ECS reports `UNKNOWN` for a container without a health check. */
    readonly healthStatus?: string;
  }[];
}

/**
 * The containers' own health, as ECS judges it from the health checks in the task definition:
 * every container of the new revision that defines one must be HEALTHY in every running task of
 * that revision. `UNKNOWN` (still in its start period) and no running task yet may heal during the
 * warm-up; `UNHEALTHY` means ECS's retries are spent, so it does not. Sidecars listen on the task's
 * network, not behind the load balancer, so this is the check they can be judged by.
 */
export function judgeContainerHealth(
  healthChecked: readonly string[],
  tasks: readonly TaskHealthObservation[],
  taskDefinitionArn: string,
): CheckVerdict {
  const running = tasks.filter((task) => task.lastStatus === 'RUNNING');
  if (running.length === 0) {
    return {
      passed: false,
      reason: `no task of ${taskDefinitionArn} is RUNNING, so its containers' health cannot be read`,
      retryable: true,
    };
  }
  const problems: string[] = [];
  let healable = true;
  for (const task of running) {
    for (const name of healthChecked) {
      const status = task.containers.find((container) => container.name === name)?.healthStatus ?? 'UNKNOWN';
      if (status === 'HEALTHY') continue;
      if (status === 'UNHEALTHY') healable = false;
      problems.push(`${name} is ${status} in task ${taskIdOf(task.taskArn)}`);
    }
  }
  if (problems.length === 0) return { passed: true };
  return {
    passed: false,
    reason: `${problems.join('; ')} (ECS container health checks of ${taskDefinitionArn})`,
    retryable: healable,
  };
}

function taskIdOf(taskArn: string): string {
  return taskArn.slice(taskArn.lastIndexOf('/') + 1);
}
