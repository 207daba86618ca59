/**
 * Approvals in a rehearsal: the real definition and handler bundles, under the synthesized template's
 * IAM. A held diff (BLOCKED anywhere; WARN in production, whose policy says `approval.warn: "approve"`)
 * pauses the deployment on a task token; a person decides through the IAM-authenticated approval URL
 * as the sandbox approver, or nobody does and the approval expires at the configured time (virtual
 * clock). The ledger keeps who decided what and why; the final notification names it.
 */
import type { StartDeploymentInput } from '../../../lambdas/domain/workflow-state';
import { SANDBOX_APPROVER, type ApproverOptions } from '../../../sandbox/run/approvals';
import { runSimulation, type SimulationRun } from '../../../sandbox/runner';
import { findScenario, type Scenario } from '../../../sandbox/scenarios';
import { currentTemplate, withoutGrant, writeVariant } from '../../support/template-variants';

/** A new image with security group changes beside it: WARN (3 warnings, 1 safe change). */
const warnDiff = 'multi-stack-deployed.txt';
const ONE_DAY = 86_400;

const approverArn = `arn:aws:sts::123456789012:assumed-role/${SANDBOX_APPROVER.roleName}/${SANDBOX_APPROVER.sessionName}`;

const deployProduction: StartDeploymentInput = {
  environment: 'production',
  imageTag: 'prod-9d1e0f4',
  allowProduction: true,
  requestedBy: 'jane.doe',
};

function warnIn(input: StartDeploymentInput): Scenario {
  return {
    name: `${input.environment}-warn`,
    summary: `a ${input.environment} deployment whose cdk diff has warnings`,
    world: { diffFixture: warnDiff },
    trigger: { kind: 'start', input },
    expected: { status: 'FAILED', outcome: 'blocked', serviceEndsOn: 'previous-revision' },
  };
}

const diffBlocked = findScenario('diff-blocked')!;

function statesOf(run: SimulationRun): string[] {
  return run.executions[0]!.states.map((state) => state.name);
}

function approve(reason: string, extra: Partial<ApproverOptions> = {}): ApproverOptions {
  return { decision: 'approve', reason, ...extra };
}

function deny(reason: string, extra: Partial<ApproverOptions> = {}): ApproverOptions {
  return { decision: 'deny', reason, ...extra };
}

describe('approvals, rehearsed', () => {
  it('pauses a BLOCKED diff, tells people the findings and the commands, and deploys once a person approves it', async () => {
    // Act
    const run = await runSimulation({
      scenario: diffBlocked,
      approvers: [approve('CHG-7: service replacement reviewed with the team')],
    });

    // Assess
    const { document: doc } = run;
    expect({ status: doc.status, outcome: doc.outcome }).toEqual({
      status: 'SUCCEEDED',
      outcome: 'deployed',
    });
    expect(statesOf(run)).toEqual(
      expect.arrayContaining(['RequestApproval', 'ApproveOrDeny', 'VerifySecrets', 'UpdateService']),
    );
    const [asked, final] = doc.notifications;
    expect(asked?.subject).toBe('[AFU-9 staging] APPROVAL NEEDED: BLOCKED diff of the image release');
    expect(asked?.message).toContain(
      'BLOCKING AWS::ECS::Service Afu9EcsStack/Service/Service (ServiceD69D759B) replace',
    );
    expect(asked?.message).toContain(`afu9-deploy approve ${run.executions[0]!.name} --reason`);
    expect(asked?.message).not.toMatch(/AQB4AAAA/); // the task token never leaves the ledger
    expect(final?.message).toContain(`Approved by ${approverArn}`);
    expect(final?.message).toContain('reason: CHG-7: service replacement reviewed with the team');
    expect(doc.approvals).toEqual([
      expect.objectContaining({
        execution: run.executions[0]!.name,
        subject: { kind: 'image-release' },
        verdict: 'BLOCKED',
        status: 'approved',
        reason: 'CHG-7: service replacement reviewed with the team',
        approver: {
          arn: approverArn,
          accountId: '123456789012',
          userId: expect.stringContaining(':jane.doe'),
        },
      }),
    ]);
    expect(run.approvalAttempts.map((attempt) => attempt.statusCode)).toEqual([200]);
    // The approval URL was reached as AWS authorizes it: the person's identity policy allowed both calls.
    expect(run.authorizations.filter((record) => record.caller === `approver ${approverArn}`)).toEqual([
      expect.objectContaining({ action: 'lambda:InvokeFunctionUrl', decision: 'allowed' }),
      expect.objectContaining({ action: 'lambda:InvokeFunction', decision: 'allowed' }),
    ]);
    expect(doc.accessDenied).toEqual([]);
  });

  it('deploys nothing after a denial, and the notification names who denied it and why', async () => {
    const run = await runSimulation({
      scenario: diffBlocked,
      approvers: [deny('not during the release freeze')],
    });

    const { document: doc } = run;
    expect({ status: doc.status, outcome: doc.outcome }).toEqual({ status: 'FAILED', outcome: 'blocked' });
    expect(statesOf(run)).not.toContain('VerifySecrets');
    expect(doc.taskDefinitionAfter).toBe(doc.taskDefinitionBefore);
    const final = doc.notifications.at(-1)!;
    expect(final.message).toContain('was DENIED at its approval');
    expect(final.message).toContain(`Denied by ${approverArn}`);
    expect(final.message).toContain('reason: not during the release freeze');
    expect(doc.approvals).toEqual([
      expect.objectContaining({ status: 'denied', reason: 'not during the release freeze' }),
    ]);
  });

  it('expires an unanswered approval at the configured time: recorded as expired, nothing deployed, people told', async () => {
    const run = await runSimulation({ scenario: diffBlocked });

    const { document: doc } = run;
    expect({ status: doc.status, outcome: doc.outcome }).toEqual({ status: 'FAILED', outcome: 'blocked' });
    expect(statesOf(run)).toEqual(
      expect.arrayContaining(['RequestApproval', 'ExpireApproval', 'NotifyBlocked']),
    );
    expect(doc.virtualSeconds).toBeGreaterThanOrEqual(ONE_DAY);
    expect(doc.taskDefinitionAfter).toBe(doc.taskDefinitionBefore);
    expect(doc.approvals).toEqual([expect.objectContaining({ status: 'expired' })]);
    expect(doc.approvals[0]).not.toHaveProperty('approver');
    expect(doc.notifications.at(-1)!.message).toContain('EXPIRED unanswered');
  });

  it('records a decision once: a second person learns who decided first, and the first decision stands', async () => {
    const run = await runSimulation({
      scenario: diffBlocked,
      approvers: [approve('CHG-7 reviewed'), deny('too late, I object', { delaySeconds: 600 })],
    });

    expect(run.document.outcome).toBe('deployed');
    const [first, second] = run.approvalAttempts;
    expect(first?.statusCode).toBe(200);
    expect(second?.statusCode).toBe(409);
    expect(second?.response).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining(`already decided: approved by ${approverArn}`),
    });
    expect(run.document.approvals).toEqual([
      expect.objectContaining({ status: 'approved', reason: 'CHG-7 reviewed' }),
    ]);
  });

  it('refuses a decision after the approval expired, and the ledger keeps it expired', async () => {
    const run = await runSimulation({
      scenario: diffBlocked,
      approvers: [approve('back from holiday', { delaySeconds: ONE_DAY + 3600 })],
    });

    expect(run.document.outcome).toBe('blocked');
    expect(run.approvalAttempts).toEqual([
      expect.objectContaining({
        statusCode: 409,
        response: expect.objectContaining({
          outcome: 'refused',
          message: expect.stringContaining('expired'),
        }),
      }),
    ]);
    expect(run.document.approvals).toEqual([expect.objectContaining({ status: 'expired' })]);
    expect(run.document.taskDefinitionAfter).toBe(run.document.taskDefinitionBefore);
  });

  it("refuses a caller whose identity policy lacks the approvers policy: Lambda's 403, the function never runs", async () => {
    const run = await runSimulation({
      scenario: diffBlocked,
      approvers: [approve('I am sure', { withApproversPolicy: false })],
    });

    expect(run.approvalAttempts).toEqual([
      expect.objectContaining({ statusCode: 403, response: { Message: 'Forbidden' } }),
    ]);
    expect(run.authorizations.filter((record) => record.caller === `approver ${approverArn}`)).toEqual([
      expect.objectContaining({ action: 'lambda:InvokeFunctionUrl', decision: 'implicit-deny' }),
    ]);
    expect(run.document.outcome).toBe('blocked');
    expect(run.document.approvals).toEqual([expect.objectContaining({ status: 'expired' })]);
  });

  it('cannot resume the workflow when decide-approval may not call SendTaskSuccess: the decision is withdrawn (503) and the approval later expires', async () => {
    // Prepare
    const { path, template } = await currentTemplate();
    expect(withoutGrant(template, 'decide-approval', 'states:SendTaskSuccess')).toBeGreaterThan(0);

    // Act
    const run = await runSimulation({
      scenario: diffBlocked,
      templatePath: writeVariant(path, template),
      approvers: [approve('CHG-7 reviewed')],
    });

    // Assess
    expect(run.approvalAttempts).toEqual([
      expect.objectContaining({
        statusCode: 503,
        response: expect.objectContaining({
          outcome: 'unavailable',
          message: expect.stringContaining('AccessDenied'),
        }),
      }),
    ]);
    expect(run.document.accessDenied).toEqual([
      expect.objectContaining({ caller: 'decide-approval', action: 'states:SendTaskSuccess' }),
    ]);
    expect(run.document.outcome).toBe('blocked');
    expect(run.document.approvals).toEqual([expect.objectContaining({ status: 'expired' })]);
  });

  it('pauses a production WARN for an approval (its policy says warn: "approve") and deploys it once approved', async () => {
    const run = await runSimulation({
      scenario: warnIn(deployProduction),
      approvers: [approve('CHG-9: security group rules reviewed')],
    });

    expect(run.document.outcome).toBe('deployed');
    expect(run.document.approvals).toEqual([
      expect.objectContaining({ verdict: 'WARN', status: 'approved' }),
    ]);
    expect(run.document.notifications[0]?.subject).toBe(
      '[AFU-9 production] APPROVAL NEEDED: WARN diff of the image release',
    );
  });

  it('lets a staging WARN proceed without asking anyone (its policy says warn: "proceed")', async () => {
    const run = await runSimulation({
      scenario: warnIn({ environment: 'staging', imageTag: 'stage-9d1e0f4', requestedBy: 'jane.doe' }),
    });

    expect(run.document.outcome).toBe('deployed');
    expect(statesOf(run)).not.toContain('RequestApproval');
    expect(run.document.approvals).toEqual([]);
  });

  it('refuses skipDiffGate in a start input, saying that a recorded approval replaced it', async () => {
    const run = await runSimulation({
      scenario: warnIn({ ...deployProduction, skipDiffGate: true, reason: 'CHG-7' }),
    });

    expect(run.document.outcome).toBe('rejected');
    expect(run.document.notifications[0]?.message).toContain('skipDiffGate is no longer accepted');
  });
});
