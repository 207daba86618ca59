/**
 * Notify of an infrastructure release names who approved or denied each held stack: the state keeps
 * only the current stack's decision, so the handler reads the execution's approvals from the ledger.
 */
import 'aws-sdk-client-mock-jest';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { NotificationFailed } from '../../../lambdas/domain/errors';
import { Outcome } from '../../../lambdas/domain/workflow-state';
import { createNotifyHandler } from '../../../lambdas/handlers/notify';
import { testDeps } from '../../support/deps';
import { blockedDiffGate, executionArn, requestFrom } from './states';

const sns = mockClient(SNSClient);
const dynamodb = mockClient(DynamoDBDocumentClient);
const metadata = { httpStatusCode: 400, requestId: 'c4d1e2f3-0000-4000-8000-000000000002' };

const approverArn = 'arn:aws:sts::123456789012:assumed-role/deployment-approver/jane.doe';
const approver = { arn: approverArn, accountId: '123456789012', userId: 'AROA0EXAMPLE0APPROVER:jane.doe' };
const findings = {
  verdict: 'BLOCKED',
  stacks: ['Afu9EcsStack'],
  counts: { blocking: 1, warnings: 0, safe: 0 },
  blocking: [],
  warnings: [],
  message: 'BLOCKED',
};

/** An approval item as request-approval and decide-approval leave it in the ledger table. */
function approvalItem(stackName: string, status: string, reason: string, decidedAt: string) {
  return {
    pk: `APPROVAL#${executionArn}`,
    sk: `SUBJECT#stack#${stackName}`,
    executionArn,
    environment: 'staging',
    subject: { kind: 'stack', stackName },
    findings,
    requestedAt: '2026-11-27T09:00:00.000Z',
    approvalExpiresAt: '2026-11-28T09:00:00.000Z',
    status,
    approver,
    reason,
    decidedAt,
    taskToken: 'AQB4AAAAKgAAAAMAAAAAAAAAAQ',
    expiresAt: 1858000000,
  };
}

const request = {
  kind: 'infrastructure',
  environment: 'staging',
  clusterName: 'afu9-cluster',
  serviceName: 'afu9-control-center-staging',
  requestedBy: 'jane.doe',
  trigger: 'manual',
  stacks: ['Afu9DatabaseStack', 'Afu9EcsStack'],
};

/** Where the release stands when the ECS stack's approval was denied. */
const deniedState = {
  request,
  release: { index: 1, count: 2 },
  stack: { name: 'Afu9EcsStack' },
  stackGate: { verdict: 'BLOCKED', proceed: false, message: 'BLOCKED', blocking: [], warnings: [] },
  stackApproval: {
    decision: 'denied',
    reason: 'not during the freeze',
    approver,
    decidedAt: '2026-11-27T09:30:00.000Z',
  },
};

beforeEach(() => {
  sns.on(PublishCommand).resolves({ MessageId: '5a7c2e10-3b4d-4f6a-8c9e-0d1f2a3b4c5d' });
  dynamodb.onAnyCommand().resolves({});
});

afterEach(() => {
  sns.reset();
  dynamodb.reset();
});

function notify(outcome: Outcome, state: unknown) {
  return createNotifyHandler(testDeps())({ executionId: executionArn, outcome, state });
}

function published(): string {
  return sns.commandCalls(PublishCommand)[0]!.args[0].input.Message ?? '';
}

describe('notify, the approvals of an infrastructure release', () => {
  it('names the approver and reason of every held stack, read from the execution partition of the ledger', async () => {
    // Prepare
    dynamodb.on(QueryCommand).resolves({
      Items: [
        approvalItem('Afu9DatabaseStack', 'approved', 'CHG-12 reviewed', '2026-11-27T09:10:00.000Z'),
        approvalItem('Afu9EcsStack', 'denied', 'not during the freeze', '2026-11-27T09:30:00.000Z'),
      ],
    });

    // Act
    await notify(Outcome.blocked, deniedState);

    // Assess
    expect(dynamodb).toHaveReceivedCommandWith(QueryCommand, {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `APPROVAL#${executionArn}` },
    });
    const message = published();
    expect(message).toContain(
      `  Afu9DatabaseStack: deployed; Approved by ${approverArn} at 2026-11-27T09:10:00.000Z, reason: CHG-12 reviewed`,
    );
    expect(message).toContain(
      `  Afu9EcsStack: NOT APPROVED (not deployed); Denied by ${approverArn} at 2026-11-27T09:30:00.000Z, reason: not during the freeze`,
    );
    expect(message).not.toContain('AQB4AAAA');
  });

  it("publishes with the current stack's decision when the ledger refuses, then fails with NotificationFailed", async () => {
    // Prepare
    const refused = Object.assign(new Error('User is not authorized to perform: dynamodb:Query'), {
      name: 'AccessDeniedException',
      $metadata: metadata,
    });
    dynamodb.on(QueryCommand).rejects(refused);

    // Act
    const attempt = notify(Outcome.blocked, deniedState);

    // Assess
    await expect(attempt).rejects.toThrow(NotificationFailed);
    await expect(attempt).rejects.toThrow(/approvals were not read .*dynamodb:Query/);
    expect(sns).toHaveReceivedCommandTimes(PublishCommand, 1);
    const message = published();
    expect(message).toContain(`Afu9EcsStack: NOT APPROVED (not deployed); Denied by ${approverArn}`);
    expect(message).toContain('Approvals:         not read from the ledger');
  });

  it('does not read approvals for an image release (its state carries its one decision)', async () => {
    // Act
    await notify(Outcome.blocked, { request: requestFrom('ecr-push.json'), diffGate: blockedDiffGate });

    // Assess
    expect(dynamodb).not.toHaveReceivedCommand(QueryCommand);
  });
});
