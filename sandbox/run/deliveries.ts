/**
 * EventBridge as the template configures it: each rule's event pattern decides what it matches, and
 * each delivery to a target is authorized as AWS authorizes it: a state machine target through the
 * role the target names (`states:StartExecution`), a function target through the function's resource
 * policy, its Lambda permissions (`lambda:InvokeFunction` by `events.amazonaws.com` from the rule).
 */
import type { BusEvent } from '../account/simulated-account';
import type { DeployedRule, DeployedStack, RuleTarget } from '../assembly/cloud-assembly';
import { evaluate, type AuthorizationRequest, type Caller } from '../iam/evaluate';
import type { AuthorizationRecord } from './function-clients';

/** A pattern the sandbox cannot match faithfully; raised rather than matching too much or too little. */
export class UnsupportedEventPattern extends Error {
  override readonly name = 'UnsupportedEventPattern';
}

/** One value of a pattern's array against one value of the event: a literal, or a `prefix` filter. */
function valueMatches(expected: unknown, candidate: unknown, path: string): boolean {
  if (typeof expected !== 'object' || expected === null) return candidate === expected;
  const filter = expected as Record<string, unknown>;
  if (Object.keys(filter).length === 1 && typeof filter.prefix === 'string') {
    return typeof candidate === 'string' && candidate.startsWith(filter.prefix);
  }
  throw new UnsupportedEventPattern(
    `The event pattern uses a content filter at ${path} (${JSON.stringify(expected)}), which the sandbox does not ` +
      'match. Add it to sandbox/run/deliveries.ts.',
  );
}

function fieldMatches(pattern: unknown, value: unknown, path: string): boolean {
  if (Array.isArray(pattern)) {
    const candidates = Array.isArray(value) ? (value as unknown[]) : [value];
    return pattern.some((expected) =>
      candidates.some((candidate) => valueMatches(expected, candidate, path)),
    );
  }
  if (typeof pattern === 'object' && pattern !== null) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    return Object.entries(pattern).every(([key, nested]) =>
      fieldMatches(nested, (value as Record<string, unknown>)[key], `${path}.${key}`),
    );
  }
  throw new UnsupportedEventPattern(
    `The event pattern has a bare value at ${path}; EventBridge expects an array there.`,
  );
}

/** Whether the rule's event pattern matches the event (literal values and `prefix` filters in arrays, nested objects). */
export function patternMatches(rule: DeployedRule, event: BusEvent): boolean {
  return fieldMatches(rule.eventPattern, event, rule.name);
}

export interface DeliveryVerdict {
  readonly record: AuthorizationRecord;
  readonly allowed: boolean;
  /** Why not, in IAM's words. */
  readonly reason: string;
}

/** Whether EventBridge may deliver to the target: the target role's grant, or the function's permission. */
export function authorizeDelivery(
  stack: DeployedStack,
  rule: DeployedRule,
  target: RuleTarget,
): DeliveryVerdict {
  const { accountId } = stack;
  const toStateMachine = target.arn === stack.stateMachineArn;
  if (toStateMachine && !target.role) {
    throw new Error(
      `Rule ${rule.logicalId} targets the state machine without a RoleArn; EventBridge cannot start executions without one.`,
    );
  }
  // A state machine is started with the target's role; a function is invoked by EventBridge itself.
  const caller: Caller =
    toStateMachine && target.role
      ? {
          kind: 'role',
          roleArn: target.role.roleArn,
          sessionArn: `arn:aws:sts::${accountId}:assumed-role/${target.role.roleName}/${rule.name}`,
          accountId,
        }
      : { kind: 'service', service: 'events.amazonaws.com' };
  const request: AuthorizationRequest = toStateMachine
    ? { action: 'states:StartExecution', resource: target.arn, context: {} }
    : {
        action: 'lambda:InvokeFunction',
        resource: target.arn,
        context: { 'aws:SourceArn': rule.arn, 'aws:SourceAccount': accountId },
      };
  const resourcePolicy = stack.resourcePolicies.get(target.arn);
  const { decision, reason } = evaluate({
    caller,
    request,
    identityPolicies: toStateMachine ? (target.role?.policies ?? []) : [],
    ...(resourcePolicy ? { resourcePolicy } : {}),
  });
  return {
    record: {
      caller: `EventBridge rule ${rule.name}`,
      action: request.action,
      resource: request.resource,
      decision,
    },
    allowed: decision === 'allowed',
    reason,
  };
}
