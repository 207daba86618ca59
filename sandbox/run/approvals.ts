/**
 * A person deciding a paused deployment in the rehearsal (`simulate --approve|--deny "<reason>"`):
 * after reading the "approval needed" notification for APPROVER_DELAY_SECONDS of virtual time, they
 * run `afu9-deploy approve|deny`, i.e. a SigV4-signed POST to decide-approval's function URL. The
 * rehearsal delivers it as Lambda does for AuthType AWS_IAM: the caller's identity policies must
 * allow lambda:InvokeFunctionUrl (lambda:FunctionUrlAuthType = AWS_IAM) and lambda:InvokeFunction
 * through the URL (lambda:InvokedViaFunctionUrl), else Lambda answers 403 and the function never
 * runs; allowed, the function gets payload format 2.0 with the verified caller in
 * `requestContext.authorizer.iam`. The person is SANDBOX_APPROVER, with the stack's approvers
 * policy attached unless a test takes it away.
 */
import { readApprovals } from '../../lambdas/aws/approvals';
import type { ApprovalRecord } from '../../lambdas/domain/approval';
import type { DecisionResponse } from '../../lambdas/handlers/decide-approval';
import { APPROVERS_POLICY_OUTPUT_KEY } from '../../infra/approval-endpoint';
import type { SimulatedAccount } from '../account/simulated-account';
import type { DeployedStack } from '../assembly/cloud-assembly';
import type { AuthorizationCheck, Caller } from '../iam/evaluate';
import type { AuthorizationRecord } from './function-clients';
import type { FunctionHandlers } from './function-handlers';
import { judgeDelivery } from './service-deliveries';
import { uuidFrom } from './service-values';

/** How long the person takes to read the notification and decide, in virtual seconds. */
export const APPROVER_DELAY_SECONDS = 300;

/** The documented sandbox identity: a role people assume to approve, and the person's session. */
export const SANDBOX_APPROVER = { roleName: 'deployment-approver', sessionName: 'jane.doe' } as const;

/** What `--approve` / `--deny` asks of the person. */
export interface ApproverOptions {
  readonly decision: 'approve' | 'deny';
  readonly reason: string;
  /** Whether the person's role has the stack's approvers policy. @default true */
  readonly withApproversPolicy?: boolean;
  /** Virtual seconds between the approval request and this decision. @default APPROVER_DELAY_SECONDS */
  readonly delaySeconds?: number;
}

/** One decision as the person sent it and what came back. */
export interface ApprovalAttempt {
  readonly executionArn: string;
  readonly decision: 'approve' | 'deny';
  readonly reason: string;
  readonly approverArn: string;
  readonly atMs: number;
  /** The function URL's HTTP status: 403 from Lambda itself when IAM refused the caller. */
  readonly statusCode: number;
  readonly response: DecisionResponse | { readonly Message: string };
  /** The function URL request the function got (payload format 2.0); absent when Lambda refused the caller. */
  readonly request?: unknown;
}

export interface ApproverContext {
  readonly stack: DeployedStack;
  readonly account: Pick<SimulatedAccount, 'clock' | 'accountId'>;
  readonly functions: FunctionHandlers;
  readonly authorizations: AuthorizationRecord[];
  readonly note: (text: string) => void;
}

function approverCaller(accountId: string): Caller {
  return {
    kind: 'role',
    roleArn: `arn:aws:iam::${accountId}:role/${SANDBOX_APPROVER.roleName}`,
    sessionArn: `arn:aws:sts::${accountId}:assumed-role/${SANDBOX_APPROVER.roleName}/${SANDBOX_APPROVER.sessionName}`,
    accountId,
  };
}

/** The decide-approval function and its URL, as the template defines them. */
function decideEndpoint(stack: DeployedStack) {
  const fn = stack.functions.find((candidate) => candidate.handlerName === 'decide-approval');
  const url = fn && stack.functionUrls.find((candidate) => candidate.functionArn === fn.functionArn);
  if (!fn || !url) {
    throw new Error(
      'The stack has no decide-approval function with a function URL, so nobody could approve a paused deployment. ' +
        'Synthesize the stack from the current sources (infra/approval-endpoint.ts).',
    );
  }
  return { fn, url };
}

/**
 * Sends one decision as the person would: IAM first (Lambda's 403 when refused), then the function
 * with the verified caller. The function's own calls run under its role, as always.
 */
export async function decideAsApprover(
  context: ApproverContext,
  executionArn: string,
  options: ApproverOptions,
): Promise<ApprovalAttempt> {
  const { stack, account } = context;
  const { fn, url } = decideEndpoint(stack);
  const caller = approverCaller(account.accountId);
  if (caller.kind !== 'role') throw new Error('The sandbox approver is a role session.');
  const approvers = stack.outputManagedPolicies.get(APPROVERS_POLICY_OUTPUT_KEY);
  const identityPolicies = options.withApproversPolicy === false || !approvers ? [] : [approvers.document];
  const checks: AuthorizationCheck[] = [
    {
      caller,
      request: {
        action: 'lambda:InvokeFunctionUrl',
        resource: fn.functionArn,
        context: { 'lambda:FunctionUrlAuthType': url.authType },
      },
    },
    {
      caller,
      request: {
        action: 'lambda:InvokeFunction',
        resource: fn.functionArn,
        context: { 'lambda:InvokedViaFunctionUrl': true },
      },
    },
  ];
  const verdict = judgeDelivery(`approver ${caller.sessionArn}`, checks, {
    identityPolicies: (roleArn) => (roleArn === caller.roleArn ? identityPolicies : []),
    resourcePolicy: (resourceArn) => stack.resourcePolicies.get(resourceArn),
  });
  context.authorizations.push(...verdict.records);
  const atMs = account.clock.nowMillis();
  const attempt = {
    executionArn,
    decision: options.decision,
    reason: options.reason,
    approverArn: caller.sessionArn,
    atMs,
  };
  if (!verdict.allowed || url.authType !== 'AWS_IAM') {
    context.note(
      `${caller.sessionArn} may not call the approval URL (${verdict.reason || `AuthType ${url.authType}`}): 403 Forbidden`,
    );
    return { ...attempt, statusCode: 403, response: { Message: 'Forbidden' } };
  }
  const requestId = uuidFrom(`${executionArn}#${atMs}#${options.decision}`);
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/',
    rawQueryString: '',
    headers: {
      'content-type': 'application/json',
      host: `${fn.functionName}.lambda-url.${stack.region}.on.aws`,
    },
    requestContext: {
      accountId: account.accountId,
      apiId: fn.functionName,
      authorizer: {
        iam: {
          accessKey: 'ASIA0SANDBOX0APPROVER',
          accountId: account.accountId,
          callerId: `AROA0SANDBOX0APPROVER:${SANDBOX_APPROVER.sessionName}`,
          cognitoIdentity: null,
          principalOrgId: null,
          userArn: caller.sessionArn,
          userId: `AROA0SANDBOX0APPROVER:${SANDBOX_APPROVER.sessionName}`,
        },
      },
      http: {
        method: 'POST',
        path: '/',
        protocol: 'HTTP/1.1',
        sourceIp: '203.0.113.10',
        userAgent: 'afu9-deploy',
      },
      requestId,
      routeKey: '$default',
      stage: '$default',
      timeEpoch: atMs,
    },
    body: JSON.stringify({ executionArn, decision: options.decision, reason: options.reason }),
    isBase64Encoded: false,
  };
  const result = (await context.functions.handlerNamed('decide-approval')(event)) as {
    statusCode: number;
    body: string;
  };
  const response = JSON.parse(result.body) as DecisionResponse;
  context.note(`${options.decision} by ${caller.sessionArn}: HTTP ${result.statusCode} ${response.message}`);
  return { ...attempt, statusCode: result.statusCode, response, request: event };
}

/** The approvals the ledger holds for an execution (what the audit sees), without their tokens. */
export function ledgerApprovals(
  account: Pick<SimulatedAccount, 'clients'>,
  tableName: string,
  executionArn: string,
): Promise<ApprovalRecord[]> {
  return readApprovals(account.clients, { tableName }, executionArn);
}
