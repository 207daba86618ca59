/**
 * One call or delivery judged check by check, in AWS's order: the first check that is not allowed
 * refuses the whole call, and says which check and why.
 */
import { evaluate, resourceKindOf, type AuthorizationCheck, type Decision } from './evaluate';
import type { PolicyDocument } from './policy';

/** Where the policies of the simulated account come from (usually `policiesFromTemplate`). */
export interface PolicySource {
  /** The identity-based policies of a role, by role ARN. */
  identityPolicies(roleArn: string): readonly PolicyDocument[];
  /**
   * The resource-based policy of what a check acts on: a topic, queue, bucket object, function, key
   * (a key always has one) or role (its trust policy, for `sts:AssumeRole`); undefined when none.
   */
  resourcePolicy(resourceArn: string): PolicyDocument | undefined;
}

export type Authorization =
  | { readonly allowed: true }
  | {
      readonly allowed: false;
      readonly check: AuthorizationCheck;
      readonly decision: Exclude<Decision, 'allowed'>;
      readonly reason: string;
    };

export function authorizeAll(checks: readonly AuthorizationCheck[], policies: PolicySource): Authorization {
  for (const check of checks) {
    const { caller, request } = check;
    const resourcePolicy = request.resource === '*' ? undefined : policies.resourcePolicy(request.resource);
    const result = evaluate({
      caller,
      request,
      identityPolicies: caller.kind === 'role' ? policies.identityPolicies(caller.roleArn) : [],
      ...(resourcePolicy ? { resourcePolicy } : {}),
      resourceKind: resourceKindOf(request),
    });
    if (result.decision !== 'allowed') {
      return { allowed: false, check, decision: result.decision, reason: result.reason };
    }
  }
  return { allowed: true };
}
