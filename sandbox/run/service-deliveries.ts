/**
 * The policies of a deployed stack as the IAM evaluator reads them for service deliveries, and the
 * message shapes those deliveries carry: Lambda's invocation record for an on-failure destination,
 * EventBridge's attributes on an event it parks in a dead-letter queue.
 */
import type { AuthorizationCheck } from '../iam/evaluate';
import { authorizeAll, type PolicySource } from '../iam/authorize';
import type { DeployedStack } from '../assembly/cloud-assembly';
import type { AuthorizationRecord } from './function-clients';

/** Role policies of the stack's functions, state machine and rule targets; resource policies by ARN. */
export function stackPolicySource(stack: DeployedStack): PolicySource {
  const roles = new Map<string, DeployedStack['functions'][number]['policies']>();
  for (const fn of stack.functions) roles.set(fn.roleArn, fn.policies);
  roles.set(stack.stateMachineRole.roleArn, stack.stateMachineRole.policies);
  for (const rule of stack.rules) {
    for (const target of rule.targets) if (target.role) roles.set(target.role.roleArn, target.role.policies);
  }
  return {
    identityPolicies: (roleArn) => roles.get(roleArn) ?? [],
    resourcePolicy: (resourceArn) => stack.resourcePolicies.get(resourceArn),
  };
}

export interface ServiceVerdict {
  readonly allowed: boolean;
  /** One record per check judged (the refused one last). */
  readonly records: readonly AuthorizationRecord[];
  /** Why not, naming the refused action and resource, then IAM's words. */
  readonly reason: string;
  /** IAM's words alone (`no identity-based policy allows the ... action`, `an explicit deny in ...`). */
  readonly iamReason: string;
}

/** Judges a delivery's checks in order, recording each under `caller` (e.g. `CloudWatch alarm <name>`). */
export function judgeDelivery(
  caller: string,
  checks: readonly AuthorizationCheck[],
  policies: PolicySource,
): ServiceVerdict {
  const verdict = authorizeAll(checks, policies);
  if (verdict.allowed) {
    return {
      allowed: true,
      reason: '',
      iamReason: '',
      records: checks.map(({ request }) => ({
        caller,
        action: request.action,
        resource: request.resource,
        decision: 'allowed' as const,
      })),
    };
  }
  const refusedAt = checks.indexOf(verdict.check);
  return {
    allowed: false,
    reason: `${verdict.check.request.action} on ${verdict.check.request.resource}: ${verdict.reason}`,
    iamReason: verdict.reason,
    records: [
      ...checks.slice(0, refusedAt).map(({ request }) => ({
        caller,
        action: request.action,
        resource: request.resource,
        decision: 'allowed' as const,
      })),
      {
        caller,
        action: verdict.check.request.action,
        resource: verdict.check.request.resource,
        decision: verdict.decision,
      },
    ],
  };
}

/** Why Lambda gave up on an asynchronous event. */
export type GiveUpCondition = 'RetriesExhausted' | 'EventAgeExceeded';

/**
 * The invocation record Lambda sends to an on-failure destination (AWS Lambda developer guide,
 * "Capturing records of Lambda asynchronous invocations"): the request, Lambda's response and the
 * function's error as the Node.js runtime reports it.
 */
export function invocationRecord(input: {
  readonly at: Date;
  readonly requestId: string;
  readonly functionArn: string;
  readonly condition: GiveUpCondition;
  readonly approximateInvokeCount: number;
  readonly requestPayload: unknown;
  readonly error: unknown;
}): string {
  const error = input.error instanceof Error ? input.error : new Error(String(input.error));
  return JSON.stringify({
    version: '1.0',
    timestamp: input.at.toISOString(),
    requestContext: {
      requestId: input.requestId,
      functionArn: `${input.functionArn}:$LATEST`,
      condition: input.condition,
      approximateInvokeCount: input.approximateInvokeCount,
    },
    requestPayload: input.requestPayload,
    responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
    responsePayload: {
      errorType: error.name,
      errorMessage: error.message,
      trace: (error.stack ?? '').split('\n'),
    },
  });
}

/**
 * The message attributes EventBridge puts on an event it sends to a target's dead-letter queue: the
 * rule, the target, and why delivery failed (a permission error is not retried).
 */
export function deadLetterAttributes(input: {
  readonly ruleArn: string;
  readonly targetArn: string;
  readonly errorMessage: string;
}): Record<string, string> {
  return {
    RULE_ARN: input.ruleArn,
    TARGET_ARN: input.targetArn,
    ERROR_CODE: 'NO_PERMISSIONS',
    ERROR_MESSAGE: input.errorMessage,
    EXHAUSTED_RETRY_CONDITION: 'MaximumRetryAttempts',
    RETRY_ATTEMPTS: '0',
  };
}
