/**
 * decide-approval behind its function URL: the approver is the IAM caller AWS put in the request,
 * never the body; a request without one, or malformed, is refused before the ledger is read.
 * (The decision paths themselves, once, expired, resumed, run in the rehearsal:
 * test/sandbox/rehearsal/approval-policy.test.ts.)
 */
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import {
  createDecideApprovalHandler,
  type FunctionUrlRequest,
} from '../../../lambdas/handlers/decide-approval';
import { testDeps } from '../../support/deps';

const dynamodb = mockClient(DynamoDBDocumentClient);
const sfn = mockClient(SFNClient);

const EXECUTION_ARN =
  'arn:aws:states:eu-central-1:123456789012:execution:Afu9Deployment:staging-stage-9d1e0f4';
const iam = {
  accessKey: 'ASIAEXAMPLE',
  accountId: '123456789012',
  callerId: 'AROAEXAMPLE:jane.doe',
  cognitoIdentity: null,
  principalOrgId: null,
  userArn: 'arn:aws:sts::123456789012:assumed-role/deployment-approver/jane.doe',
  userId: 'AROAEXAMPLE:jane.doe',
};

function request(body: unknown, authorizer: unknown = { iam }): FunctionUrlRequest {
  return {
    body: typeof body === 'string' ? body : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method: 'POST' }, authorizer } as FunctionUrlRequest['requestContext'],
  };
}

const pendingItem = {
  pk: `APPROVAL#${EXECUTION_ARN}`,
  sk: 'SUBJECT#image-release',
  executionArn: EXECUTION_ARN,
  environment: 'staging',
  subject: { kind: 'image-release' },
  findings: {
    verdict: 'BLOCKED',
    stacks: [],
    counts: { blocking: 1, warnings: 0, safe: 0 },
    blocking: [],
    warnings: [],
    message: 'BLOCKED',
  },
  requestedAt: '2026-11-27T08:00:00.000Z',
  approvalExpiresAt: '2026-11-28T08:00:00.000Z',
  status: 'pending',
  taskToken: 'AQB4AAAAKgAAAAMAAAAAAAAAAexample',
  expiresAt: 1_800_000_000,
};

beforeEach(() => {
  dynamodb.reset();
  sfn.reset();
});

describe('decide-approval', () => {
  it('records the verified IAM caller as the approver, conditionally, and hands the decision (never the token) back', async () => {
    // Prepare
    dynamodb.on(QueryCommand).resolves({ Items: [pendingItem] });
    dynamodb.on(UpdateCommand).resolves({});
    sfn.on(SendTaskSuccessCommand).resolves({});

    // Act
    const response = await createDecideApprovalHandler(testDeps())(
      request({ executionArn: EXECUTION_ARN, decision: 'approve', reason: 'CHG-7' }),
    );

    // Assess
    expect(response.statusCode).toBe(200);
    const [success] = sfn.commandCalls(SendTaskSuccessCommand);
    expect(success?.args[0].input.taskToken).toBe(pendingItem.taskToken);
    expect(JSON.parse(success!.args[0].input.output!)).toEqual({
      decision: 'approved',
      reason: 'CHG-7',
      approver: { arn: iam.userArn, accountId: iam.accountId, userId: iam.userId },
      decidedAt: '2026-11-27T09:00:00.000Z',
    });
    const [update] = dynamodb.commandCalls(UpdateCommand);
    expect(update?.args[0].input.ConditionExpression).toBe('#status = :pending');
    expect(response.body).not.toContain(pendingItem.taskToken);
  });

  it('refuses a body that names an approver of its own (only the verified caller counts)', async () => {
    const response = await createDecideApprovalHandler(testDeps())(
      request({ executionArn: EXECUTION_ARN, decision: 'approve', reason: 'x', approver: 'the boss' }),
    );

    expect(response.statusCode).toBe(400);
    expect(dynamodb.calls()).toHaveLength(0);
  });

  it('refuses a request that carries no IAM identity (a URL not using AuthType AWS_IAM): nobody could be recorded', async () => {
    const deps = testDeps();

    const response = await createDecideApprovalHandler(deps)(
      request({ executionArn: EXECUTION_ARN, decision: 'approve', reason: 'x' }, {}),
    );

    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body).message).toContain('no IAM identity verified by AWS');
    expect(dynamodb.calls()).toHaveLength(0);
  });

  it.each([
    ['not JSON', '{"executionArn":'],
    ['an unknown decision', { executionArn: EXECUTION_ARN, decision: 'maybe', reason: 'x' }],
    ['a blank reason', { executionArn: EXECUTION_ARN, decision: 'deny', reason: '   ' }],
    ['no execution ARN', { executionArn: 'staging-stage-9d1e0f4', decision: 'deny', reason: 'x' }],
  ])('answers 400 for %s, naming what is expected', async (_what, body) => {
    const response = await createDecideApprovalHandler(testDeps())(request(body));

    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body).message).toContain(
      'Expected {"executionArn", "decision": "approve"|"deny", "reason"}',
    );
  });

  it('answers 404 when the execution never asked for an approval', async () => {
    dynamodb.on(QueryCommand).resolves({ Items: [] });

    const response = await createDecideApprovalHandler(testDeps())(
      request({ executionArn: EXECUTION_ARN, decision: 'deny', reason: 'x' }),
    );

    expect(response.statusCode).toBe(404);
    expect(sfn.calls()).toHaveLength(0);
  });
});
