import {
  decide,
  describeFinding,
  FINDINGS_CAP,
  judgeDiffText,
  toDiffGateResult,
  type GatePolicy,
  type SkipRequest,
} from '../../../lambdas/domain/cdk-diff';
import { buildLargeDiff } from '../../../bench/diff-gate';
import { readFixture } from './fixture-support';

const workflowSkip = (reason?: string): SkipRequest => ({
  source: 'skipDiffGate',
  reason,
  reasonRequired: true,
});

describe('judgeDiffText', () => {
  it('is BLOCKED when any change is blocking, and says which and why', () => {
    const judgement = judgeDiffText(readFixture('multi-stack-blocked'));

    expect(judgement.verdict).toBe('BLOCKED');
    expect(judgement.stacks).toEqual(['Afu9DatabaseStack', 'Afu9EcsStack']);
    expect(judgement.message).toContain(
      'AWS::RDS::DBInstance Afu9DatabaseStack/Postgres (Postgres9DC8BB04) destroy',
    );
    expect(judgement.safe.map((f) => f.rule)).toEqual(['task-definition-revision']);
  });

  it('produces findings with exactly the contract fields', () => {
    const [finding] = judgeDiffText(readFixture('ecs-service-replace')).blocking;

    expect(finding).toEqual({
      stack: 'Afu9EcsStack',
      resourceType: 'AWS::ECS::Service',
      logicalId: 'ServiceD69D759B',
      path: 'Service/Service',
      change: 'replace',
      rule: 'ecs-service-removed',
      reason: expect.stringContaining('stops every running task'),
    });
  });

  it('is ERROR with the reason for an incomplete diff, and lists no findings', () => {
    const judgement = judgeDiffText(readFixture('error-truncated'));

    expect(judgement).toMatchObject({ verdict: 'ERROR', blocking: [], warnings: [], safe: [] });
    expect(judgement.message).toMatch(/^ERROR: The diff is incomplete: it stops in stack Afu9NetworkStack/);
  });
});

describe('decide', () => {
  it('stops on BLOCKED and on ERROR when nothing is skipped', () => {
    expect(decide(judgeDiffText(readFixture('ecs-service-replace')))).toMatchObject({
      proceed: false,
      skipped: false,
    });
    expect(decide(judgeDiffText(''))).toMatchObject({ proceed: false, skipped: false });
    expect(decide(judgeDiffText(readFixture('iam-changes')))).toMatchObject({
      proceed: true,
      skipped: false,
    });
  });

  it('lets BLOCKED through a skip with a reason, loudly naming every skipped finding', () => {
    // Act
    const decision = decide(judgeDiffText(readFixture('ecs-cluster-replace')), workflowSkip('INC-42 hotfix'));

    // Assess
    expect(decision).toMatchObject({ proceed: true, skipped: true });
    expect(decision.judgement.verdict).toBe('BLOCKED');
    expect(decision.judgement.blocking).toHaveLength(2);
    expect(decision.notice).toContain('DIFF GATE SKIPPED (skipDiffGate), reason: INC-42 hotfix');
    expect(decision.notice).toContain('AWS::ECS::Cluster Afu9EcsStack/Cluster (ClusterEB0386A7) replace');
    expect(decision.notice).toContain(
      'AWS::ECS::Service Afu9EcsStack/Service/Service (ServiceD69D759B) replace',
    );
  });

  it('refuses a workflow skip without a reason', () => {
    const decision = decide(judgeDiffText(readFixture('ecs-cluster-replace')), workflowSkip('  '));

    expect(decision).toMatchObject({ proceed: false, skipped: false });
    expect(decision.notice).toMatch(/needs a reason/);
  });

  it('never skips an ERROR', () => {
    const decision = decide(judgeDiffText(readFixture('error-synth-failure')), workflowSkip('urgent'));

    expect(decision).toMatchObject({ proceed: false, skipped: false });
    expect(decision.notice).toMatch(/never an unreadable one \(ERROR\)/);
  });

  it('does not mark PASS or WARN as skipped', () => {
    expect(decide(judgeDiffText(readFixture('ecs-new-image')), workflowSkip('x'))).toMatchObject({
      proceed: true,
      skipped: false,
    });
  });
});

describe('decide under an approval policy', () => {
  const policies = {
    stop: { environment: 'production', approval: { warn: 'stop', blocked: 'stop' } },
    proceed: { environment: 'staging', approval: { warn: 'proceed', blocked: 'stop' } },
  } as const satisfies Record<string, GatePolicy>;
  const reviewWarnings = policies.stop;
  const warningsProceed = policies.proceed;
  const diffs = {
    PASS: 'ecs-new-image',
    WARN: 'multi-stack-deployed',
    BLOCKED: 'ecs-service-replace',
    ERROR: 'error-synth-failure',
  } as const;

  it.each([
    ['PASS', 'proceed', true],
    ['WARN', 'proceed', true],
    ['BLOCKED', 'proceed', false],
    ['ERROR', 'proceed', false],
    ['PASS', 'stop', true],
    ['WARN', 'stop', false],
    ['BLOCKED', 'stop', false],
    ['ERROR', 'stop', false],
  ] as const)('decides a %s diff under warn: "%s" → proceed %s', (verdict, warn, proceed) => {
    const decision = decide(judgeDiffText(readFixture(diffs[verdict])), undefined, policies[warn]);

    expect(decision.judgement.verdict).toBe(verdict);
    expect(decision).toMatchObject({ proceed, skipped: false });
  });

  it('stops a WARN where warnings need a review, saying so and how to go ahead today', () => {
    const decision = decide(judgeDiffText(readFixture(diffs.WARN)), undefined, reviewWarnings);

    expect(decision.notice).toBe(
      'The approval policy of environment production (approval.warn: "stop") requires a person\'s review for ' +
        'warnings, so nothing was changed. Review the warnings listed; to deploy them, start the deployment again ' +
        'with skipDiffGate: true and a reason (afu9-deploy start --skip-diff-gate --reason "..."); the reason is ' +
        'recorded in the notification.',
    );
    // The reason it stopped leads: a notification clips the message, never its start.
    expect(toDiffGateResult(decision).message).toMatch(
      /^The approval policy of environment production .*\nWARN: 3 changes in 3 stacks/s,
    );
  });

  it('lets a stopped WARN through a skip with a reason, loudly naming every warning', () => {
    const decision = decide(
      judgeDiffText(readFixture(diffs.WARN)),
      workflowSkip('CHG-7: IAM change reviewed by jane.doe'),
      reviewWarnings,
    );

    expect(decision).toMatchObject({ proceed: true, skipped: true });
    expect(decision.notice).toContain(
      'DIFF GATE SKIPPED (skipDiffGate), reason: CHG-7: IAM change reviewed by jane.doe',
    );
    expect(decision.notice).toContain(
      `will be deployed WITHOUT the review the approval policy of environment production requires:`,
    );
    for (const warning of decision.judgement.warnings) {
      expect(decision.notice).toContain(`  - ${describeFinding(warning)}: ${warning.reason}`);
    }
    expect(toDiffGateResult(decision, workflowSkip('CHG-7: IAM change reviewed by jane.doe'))).toMatchObject({
      verdict: 'WARN',
      proceed: true,
      skipped: true,
      skipReason: 'CHG-7: IAM change reviewed by jane.doe',
    });
  });

  it('refuses to skip a stopped WARN without a reason, and still says what the policy asks', () => {
    const decision = decide(judgeDiffText(readFixture(diffs.WARN)), workflowSkip(''), reviewWarnings);

    expect(decision).toMatchObject({ proceed: false, skipped: false });
    expect(decision.notice).toMatch(/requires a person's review for warnings/);
    expect(decision.notice).toMatch(/skipDiffGate was ignored: a skip needs a reason/);
  });

  it('never lets a skip turn an ERROR into anything else, whatever the policy', () => {
    const decision = decide(judgeDiffText(readFixture(diffs.ERROR)), workflowSkip('urgent'), reviewWarnings);

    expect(decision).toMatchObject({ proceed: false, skipped: false });
  });

  it('does not mark a WARN skipped where warnings proceed anyway', () => {
    const decision = decide(judgeDiffText(readFixture(diffs.WARN)), workflowSkip('x'), warningsProceed);

    expect(decision).toEqual({ judgement: decision.judgement, proceed: true, skipped: false });
  });
});

describe('toDiffGateResult', () => {
  it('caps the finding lists and keeps full counts for a diff of several MB', () => {
    // Prepare
    const { text, resources } = buildLargeDiff(3 * 1024 * 1024);
    const judgement = judgeDiffText(text);

    // Act
    const result = toDiffGateResult(decide(judgement));

    // Assess
    expect(result.counts.blocking + result.counts.warnings + result.counts.safe).toBe(resources);
    expect(result.blocking).toHaveLength(FINDINGS_CAP);
    expect(result.warnings).toHaveLength(FINDINGS_CAP);
    expect(result).not.toHaveProperty('safe');
    expect(JSON.stringify(result).length).toBeLessThan(64 * 1024);
  });
});
