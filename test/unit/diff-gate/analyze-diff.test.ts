import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
// The SDK's own stream mixin: in this SDK version it lives in @smithy/core (util-stream moved there).
import { sdkStreamMixin } from '@smithy/core/serde';
import { mockClient } from 'aws-sdk-client-mock';
import { Readable } from 'node:stream';
import { buildLargeDiff } from '../../../bench/diff-gate';
import { DiffUnreadable, TransientAwsError } from '../../../lambdas/domain/errors';
import { createAnalyzeDiffHandler, type AnalyzeDiffEvent } from '../../../lambdas/handlers/analyze-diff';
import { testDeps } from '../../support/deps';
import { readFixture } from './fixture-support';

const s3 = mockClient(S3Client);

const location = {
  executionId: 'arn:aws:states:eu-central-1:123456789012:execution:afu9-deploy:stage-9d1e0f4-1',
  environment: 'staging',
  bucket: 'afu9-diffs',
  key: 'diffs/stage-9d1e0f4-1.txt',
};

function objectBody(text: string) {
  return { Body: sdkStreamMixin(Readable.from([Buffer.from(text)])), ContentLength: Buffer.byteLength(text) };
}

function s3Error(name: string, httpStatusCode: number, fault: 'client' | 'server') {
  return new S3ServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode },
    message: `${name} from S3`,
  });
}

describe('analyze-diff handler', () => {
  afterEach(() => s3.reset());

  async function analyze(event: Partial<AnalyzeDiffEvent> = {}) {
    const deps = testDeps();
    const result = await createAnalyzeDiffHandler(deps)({ ...location, ...event });
    return { result, deps };
  }

  it('reads the diff object and proceeds on a PASS', async () => {
    // Prepare
    s3.on(GetObjectCommand, { Bucket: 'afu9-diffs', Key: 'diffs/stage-9d1e0f4-1.txt' }).resolves(
      objectBody(readFixture('ecs-new-image')),
    );

    // Act
    const { result, deps } = await analyze();

    // Assess
    expect(result).toEqual({
      verdict: 'PASS',
      proceed: true,
      approvalRequired: false,
      skipped: false,
      stacks: ['Afu9EcsStack'],
      counts: { blocking: 0, warnings: 0, safe: 1 },
      blocking: [],
      warnings: [],
      message: 'PASS: 1 safe change in 1 stack (Afu9EcsStack).',
    });
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 1);
    expect(
      deps.logLines.some((l) => l.includes(location.executionId) && l.includes('Diff gate passed')),
    ).toBe(true);
  });

  it('proceeds on a staging WARN with the warnings listed: staging lets warnings proceed', async () => {
    s3.on(GetObjectCommand).resolves(objectBody(readFixture('multi-stack-deployed')));

    const { result } = await analyze();

    expect(result).toMatchObject({ verdict: 'WARN', proceed: true, approvalRequired: false });
    expect(result.warnings.map((f) => f.rule)).toContain('security-group-rules-changed');
  });

  it("holds a production WARN for an approval: production's policy asks a person to approve warnings", async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves(objectBody(readFixture('multi-stack-deployed')));

    // Act
    const { result, deps } = await analyze({ environment: 'production' });

    // Assess
    expect(result).toMatchObject({
      verdict: 'WARN',
      proceed: false,
      approvalRequired: true,
      approvalExpiresAfterSeconds: 86400,
    });
    expect(result.counts.warnings).toBe(3);
    expect(result.message).toContain(
      'The approval policy of environment production (approval.warn: "approve") holds warnings for a person',
    );
    expect(result.message).toContain('afu9-deploy approve <execution> --reason');
    expect(deps.logLines.some((l) => l.includes('Diff gate holds the deployment for an approval'))).toBe(
      true,
    );
  });

  it.each([
    ['no environment', {}],
    ['an environment the configuration does not have', { environment: 'qa' }],
  ])('stops with an ERROR when the event names %s: no policy, no proceeding', async (_, environment) => {
    s3.on(GetObjectCommand).resolves(objectBody(readFixture('ecs-new-image')));

    const result = await createAnalyzeDiffHandler(testDeps())({
      executionId: location.executionId,
      bucket: location.bucket,
      key: location.key,
      ...environment,
    });

    expect(result).toMatchObject({ verdict: 'ERROR', proceed: false, skipped: false });
    expect(result.message).toContain('AnalyzeDiff got no configured environment');
    expect(result.message).toContain('"environment.$": "$.request.environment"');
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  it('stops on BLOCKED and names the blocking findings', async () => {
    s3.on(GetObjectCommand).resolves(objectBody(readFixture('multi-stack-blocked')));

    const { result, deps } = await analyze();

    expect(result).toMatchObject({ verdict: 'BLOCKED', proceed: false, approvalRequired: true });
    expect(result.blocking.map((f) => `${f.resourceType} ${f.change}`)).toEqual([
      'AWS::EC2::SecurityGroup destroy',
      'AWS::SecretsManager::Secret destroy',
      'AWS::RDS::DBInstance destroy',
    ]);
    expect(deps.logLines.some((l) => l.includes('Diff gate holds the deployment for an approval'))).toBe(
      true,
    );
  });

  it.each([
    'error-truncated',
    'error-synth-failure',
    'error-no-credentials',
    'error-not-a-diff',
    'error-empty',
  ])('stops on the ERROR of %s, never asking for an approval', async (fixture) => {
    s3.on(GetObjectCommand).resolves(objectBody(readFixture(fixture)));

    const { result } = await analyze({ environment: 'production' });

    expect(result).toMatchObject({ verdict: 'ERROR', proceed: false, approvalRequired: false });
    expect(result.message).toMatch(/^ERROR: /);
  });

  it('is ERROR when the build recorded a cdk diff exit code other than 0 or 1', async () => {
    // The build stores the exit code as object metadata next to whatever cdk printed.
    s3.on(GetObjectCommand).resolves({
      ...objectBody(readFixture('ecs-new-image')),
      Metadata: { 'cdk-diff-exit-code': '2' },
    });

    const { result } = await analyze();

    expect(result).toMatchObject({ verdict: 'ERROR', proceed: false, approvalRequired: false });
    expect(result.message).toContain('cdk diff exited with code 2 in the RunCdkDiff build');
  });

  it('judges the text when the build recorded exit code 1 (cdk diff --fail on differences)', async () => {
    s3.on(GetObjectCommand).resolves({
      ...objectBody(readFixture('ecs-service-replace')),
      Metadata: { 'cdk-diff-exit-code': '1' },
    });

    const { result } = await analyze();

    expect(result).toMatchObject({ verdict: 'BLOCKED', proceed: false, counts: { blocking: 1 } });
  });

  it('judges small inline text without reading S3', async () => {
    const { result } = await analyze({ bucket: undefined, key: undefined, text: readFixture('iam-changes') });

    expect(result).toMatchObject({ verdict: 'WARN', proceed: true });
    expect(s3).toHaveReceivedCommandTimes(GetObjectCommand, 0);
  });

  it('returns ERROR when neither a location nor text is given', async () => {
    const { result } = await analyze({ bucket: undefined, key: undefined });

    expect(result).toMatchObject({ verdict: 'ERROR', proceed: false });
    expect(result.message).toContain('Check the AnalyzeDiff Parameters');
  });

  it('keeps the result compact for a diff of several MB', async () => {
    const { text, resources } = buildLargeDiff(4 * 1024 * 1024);
    s3.on(GetObjectCommand).resolves(objectBody(text));

    const { result } = await analyze();

    expect(result.counts.blocking + result.counts.warnings + result.counts.safe).toBe(resources);
    expect(result.blocking.length).toBeLessThanOrEqual(25);
    expect(result.warnings.length).toBeLessThanOrEqual(25);
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThan(64 * 1024);
  });

  describe('when S3 cannot deliver the object', () => {
    it('returns ERROR saying where the diff should have come from when the object is missing', async () => {
      s3.on(GetObjectCommand).rejects(
        new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } }),
      );

      const { result } = await analyze();

      expect(result).toMatchObject({ verdict: 'ERROR', proceed: false, stacks: [] });
      expect(result.message).toContain('s3://afu9-diffs/diffs/stage-9d1e0f4-1.txt does not exist');
      expect(result.message).toContain('RunCdkDiff CodeBuild build');
    });

    it('returns ERROR naming the permission to check when access is denied', async () => {
      s3.on(GetObjectCommand).rejects(s3Error('AccessDenied', 403, 'client'));

      const { result } = await analyze();

      expect(result).toMatchObject({ verdict: 'ERROR', proceed: false });
      expect(result.message).toContain('s3:GetObject');
    });

    it.each([
      ['SlowDown', 503],
      ['InternalError', 500],
    ])('throws TransientAwsError on %s so the workflow retries', async (name, status) => {
      s3.on(GetObjectCommand).rejects(s3Error(name, status, 'server'));

      const failure = analyze();

      await expect(failure).rejects.toBeInstanceOf(TransientAwsError);
      await expect(failure).rejects.toMatchObject({
        name: 'TransientAwsError',
        cause: expect.objectContaining({ name }),
      });
    });

    it('throws DiffUnreadable, keeping the cause, on any other S3 refusal', async () => {
      s3.on(GetObjectCommand).rejects(s3Error('InvalidObjectState', 403, 'client'));

      const failure = analyze();

      await expect(failure).rejects.toBeInstanceOf(DiffUnreadable);
      await expect(failure).rejects.toMatchObject({
        cause: expect.objectContaining({ name: 'InvalidObjectState' }),
      });
    });
  });
});
