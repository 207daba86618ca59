import {
  decide,
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
    approve: {
      environment: 'production',
      approval: { warn: 'approve', blocked: 'approve', expiresAfterSeconds: 7200 },
    },
    proceed: {
      environment: 'staging',
      approval: { warn: 'proceed', blocked: 'approve', expiresAfterSeconds: 86400 },
    },
  } as const satisfies Record<string, GatePolicy>;
  const diffs = {
    PASS: 'ecs-new-image',
    WARN: 'multi-stack-deployed',
    BLOCKED: 'ecs-service-replace',
    ERROR: 'error-synth-failure',
  } as const;

  it.each([
    ['PASS', 'proceed', true, false],
    ['WARN', 'proceed', true, false],
    ['BLOCKED', 'proceed', false, true],
    ['ERROR', 'proceed', false, false],
    ['PASS', 'approve', true, false],
    ['WARN', 'approve', false, true],
    ['BLOCKED', 'approve', false, true],
    ['ERROR', 'approve', false, false],
  ] as const)(
    'decides a %s diff under warn: "%s" → proceed %s, waits for an approval %s',
    (verdict, warn, proceed, approvalRequired) => {
      const decision = decide(judgeDiffText(readFixture(diffs[verdict])), undefined, policies[warn]);

      expect(decision.judgement.verdict).toBe(verdict);
      expect(decision).toMatchObject({ proceed, approvalRequired, skipped: false });
    },
  );

  it('holds a WARN for a person where the policy says so, saying how to decide and when it expires', () => {
    const decision = decide(judgeDiffText(readFixture(diffs.WARN)), undefined, policies.approve);

    expect(decision.notice).toBe(
      'The approval policy of environment production (approval.warn: "approve") holds warnings for a person: the ' +
        'workflow pauses the deployment before any change until someone decides. Review the findings, then run ' +
        '`afu9-deploy approve <execution> --reason "..."` or `afu9-deploy deny <execution> --reason "..."`; your ' +
        'IAM identity and reason are recorded. Unanswered, it expires as denied after 2 h.',
    );
    // The reason it waits leads: a notification clips the message, never its start.
    const result = toDiffGateResult(decision, undefined, 7200);
    expect(result.message).toMatch(
      /^The approval policy of environment production .*\nWARN: 3 changes in 3 stacks/s,
    );
    expect(result).toMatchObject({
      verdict: 'WARN',
      proceed: false,
      approvalRequired: true,
      approvalExpiresAfterSeconds: 7200,
    });
  });

  it('holds a BLOCKED diff for a person, after the findings, in every environment', () => {
    const decision = decide(judgeDiffText(readFixture(diffs.BLOCKED)), undefined, policies.proceed);
    const result = toDiffGateResult(decision, undefined, 86400);

    expect(result.message).toMatch(
      /^BLOCKED: 1 change in 1 stack .*\nA BLOCKED diff needs a person: the workflow pauses the deployment/s,
    );
    expect(result.message).toContain('Unanswered, it expires as denied after 24 h.');
    expect(result.approvalExpiresAfterSeconds).toBe(86400);
  });

  it('never asks a person to approve an unreadable diff (ERROR stops), and carries no expiry then', () => {
    const decision = decide(judgeDiffText(readFixture(diffs.ERROR)), undefined, policies.approve);
    const result = toDiffGateResult(decision, undefined, 7200);

    expect(result).toMatchObject({ proceed: false, approvalRequired: false });
    expect(result).not.toHaveProperty('approvalExpiresAfterSeconds');
  });

  it('lets the laptop skip (diff-gate --env with SKIP_DIFF_GATE) through a held WARN, naming the approval it skips', () => {
    const decision = decide(judgeDiffText(readFixture(diffs.WARN)), workflowSkip('CHG-7'), policies.approve);

    expect(decision).toMatchObject({ proceed: true, approvalRequired: false, skipped: true });
    expect(decision.notice).toContain(
      '3 warnings will be deployed WITHOUT the approval the policy of environment production asks for:',
    );
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
