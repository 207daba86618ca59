import {
  decide,
  FINDINGS_CAP,
  judgeDiffText,
  toDiffGateResult,
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
