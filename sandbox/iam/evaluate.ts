/**
 * A focused IAM policy evaluator for one account: identity policies of the calling role, the
 * resource's own policy, and the KMS key-policy rule, with AWS's order of precedence (an explicit
 * Deny anywhere wins, then an Allow where one counts, else an implicit deny). What it cannot judge
 * faithfully (an unknown condition operator, NotPrincipal, a resource in another account) raises
 * UnsupportedPolicy: the sandbox never allows a call by guessing.
 */
import { conditionsHold, validateCondition } from './conditions';
import { arnParts, contextLookup, matchesPattern, type ContextLookup, type ContextValue } from './patterns';
import {
  UnsupportedPolicy,
  asList,
  statementsOf,
  type PolicyDocument,
  type PolicyPrincipal,
  type PolicyStatement,
} from './policy';

export type Decision = 'allowed' | 'explicit-deny' | 'implicit-deny';

export interface AuthorizationRequest {
  /** `service:Action`, e.g. `ecs:UpdateService`. */
  readonly action: string;
  /** The resource ARN, or `*` for an action without resource-level permissions. */
  readonly resource: string;
  /** Condition keys as AWS sends them (`ecs:cluster`, `iam:PassedToService`, `aws:SourceArn`, ...). */
  readonly context: Readonly<Record<string, ContextValue>>;
}

export type Caller =
  | {
      readonly kind: 'role';
      /** `arn:aws:iam::123456789012:role/name` */
      readonly roleArn: string;
      /** `arn:aws:sts::123456789012:assumed-role/name/session` */
      readonly sessionArn: string;
      readonly accountId: string;
    }
  | {
      readonly kind: 'service';
      /** `cloudwatch.amazonaws.com` */
      readonly service: string;
    };

export interface EvaluationInput {
  readonly caller: Caller;
  readonly request: AuthorizationRequest;
  /** The calling role's policies (ignored for a service principal, which has none). */
  readonly identityPolicies: readonly PolicyDocument[];
  /** The policy of the resource acted on (topic, queue, function, bucket, key), when it has one. */
  readonly resourcePolicy?: PolicyDocument;
  /** `kms-key`: identity policies count only where the key policy allows the account. @default 'default' */
  readonly resourceKind?: 'default' | 'kms-key';
}

export interface EvaluationResult {
  readonly decision: Decision;
  /**
   * Why, worded as AWS ends an AccessDenied message: `no identity-based policy allows the
   * ecs:UpdateService action`, `an explicit deny in a resource-based policy`.
   */
  readonly reason: string;
}

const POLICY_VERSION_WITH_VARIABLES = '2012-10-17';

/** How a resource policy's Principal names the caller: not at all, through its account, or itself. */
type PrincipalMatch = 'none' | 'account' | 'direct';

function partitionOf(arn: string): string {
  return arnParts(arn)?.[1] ?? 'aws';
}

function principalMatch(principal: PolicyPrincipal, caller: Caller): PrincipalMatch {
  if (principal === '*') return 'direct';
  let best: PrincipalMatch = 'none';
  for (const [kind, values] of Object.entries(principal)) {
    for (const value of asList(values)) {
      const match = principalValueMatch(kind, value, caller);
      if (match === 'direct') return 'direct';
      if (match === 'account') best = 'account';
    }
  }
  return best;
}

function principalValueMatch(kind: string, value: string, caller: Caller): PrincipalMatch {
  switch (kind) {
    case 'AWS':
      if (value === '*') return 'direct';
      if (caller.kind !== 'role') return 'none';
      if (value === caller.roleArn || value === caller.sessionArn) return 'direct';
      if (
        value === caller.accountId ||
        value === `arn:${partitionOf(caller.roleArn)}:iam::${caller.accountId}:root`
      ) {
        return 'account';
      }
      return 'none';
    case 'Service':
      return caller.kind === 'service' && value === caller.service ? 'direct' : 'none';
    case 'Federated':
    case 'CanonicalUser':
      return 'none';
    default:
      throw new UnsupportedPolicy(
        `A resource policy names a principal of kind "${kind}", which IAM does not know.`,
      );
  }
}

function validateStatement(statement: PolicyStatement, where: 'identity' | 'resource'): void {
  const label = `A statement${statement.Sid ? ` (Sid ${statement.Sid})` : ''} of a${where === 'identity' ? 'n identity' : ' resource'}-based policy`;
  if (statement.Effect !== 'Allow' && statement.Effect !== 'Deny') {
    throw new UnsupportedPolicy(
      `${label} has Effect ${JSON.stringify(statement.Effect)}; only Allow and Deny exist.`,
    );
  }
  if ((statement.Action === undefined) === (statement.NotAction === undefined)) {
    throw new UnsupportedPolicy(`${label} must have exactly one of Action and NotAction.`);
  }
  if ((statement.Resource === undefined) === (statement.NotResource === undefined)) {
    throw new UnsupportedPolicy(`${label} must have exactly one of Resource and NotResource.`);
  }
  if (statement.NotPrincipal !== undefined) {
    throw new UnsupportedPolicy(`${label} uses NotPrincipal, which the sandbox's evaluator does not judge.`);
  }
  if (where === 'identity' && statement.Principal !== undefined) {
    throw new UnsupportedPolicy(`${label} has a Principal; IAM rejects that in an identity-based policy.`);
  }
  if (where === 'resource' && statement.Principal === undefined) {
    throw new UnsupportedPolicy(`${label} has no Principal; a resource-based policy must name one.`);
  }
  validateCondition(statement.Condition);
}

function actionMatches(statement: PolicyStatement, action: string): boolean {
  const matches = (pattern: string) =>
    matchesPattern(action, pattern, { wildcards: true, ignoreCase: true, variables: undefined });
  return statement.Action !== undefined
    ? asList(statement.Action).some(matches)
    : !asList(statement.NotAction).some(matches);
}

function resourceMatches(
  statement: PolicyStatement,
  resource: string,
  variables: ContextLookup | undefined,
): boolean {
  const matches = (pattern: string) =>
    matchesPattern(resource, pattern, { wildcards: true, ignoreCase: false, variables });
  return statement.Resource !== undefined
    ? asList(statement.Resource).some(matches)
    : !asList(statement.NotResource).some(matches);
}

interface Verdict {
  readonly denied: boolean;
  /** The strongest principal match among the matching Allow statements. */
  readonly allowed: PrincipalMatch;
}

function judge(
  documents: readonly PolicyDocument[],
  where: 'identity' | 'resource',
  caller: Caller,
  request: AuthorizationRequest,
  lookup: ContextLookup,
): Verdict {
  let denied = false;
  let allowed: PrincipalMatch = 'none';
  for (const document of documents) {
    const variablesEnabled = document.Version === POLICY_VERSION_WITH_VARIABLES;
    const variables = variablesEnabled ? lookup : undefined;
    for (const statement of statementsOf(document)) validateStatement(statement, where);
    for (const statement of statementsOf(document)) {
      const principal: PrincipalMatch =
        where === 'identity' ? 'direct' : principalMatch(statement.Principal!, caller);
      if (principal === 'none') continue;
      if (!actionMatches(statement, request.action)) continue;
      if (!resourceMatches(statement, request.resource, variables)) continue;
      if (!conditionsHold(statement.Condition, lookup, variablesEnabled)) continue;
      if (statement.Effect === 'Deny') denied = true;
      else if (principal === 'direct' || allowed === 'none') allowed = principal;
    }
  }
  return { denied, allowed };
}

/** The global keys AWS derives from the caller; they override anything the request claims. */
function callerContext(caller: Caller): Record<string, ContextValue> {
  if (caller.kind === 'service') {
    return { 'aws:PrincipalServiceName': caller.service, 'aws:PrincipalIsAWSService': true };
  }
  return {
    'aws:PrincipalArn': caller.roleArn,
    'aws:PrincipalAccount': caller.accountId,
    'aws:PrincipalType': 'AssumedRole',
    'aws:PrincipalIsAWSService': false,
  };
}

function assertSameAccount(caller: Caller, resource: string): void {
  if (caller.kind !== 'role') return;
  const account = arnParts(resource)?.[4];
  if (account && account !== caller.accountId) {
    throw new UnsupportedPolicy(
      `The request acts on ${resource}, in account ${account}, from account ${caller.accountId}; the sandbox ` +
        'evaluates same-account requests only (cross-account access also needs the other account to allow it).',
    );
  }
}

export function evaluate(input: EvaluationInput): EvaluationResult {
  const { caller, request } = input;
  const kind = input.resourceKind ?? 'default';
  assertSameAccount(caller, request.resource);
  if (kind === 'kms-key' && !input.resourcePolicy) {
    throw new UnsupportedPolicy(`A KMS key always has a key policy; none was given for ${request.resource}.`);
  }
  const lookup = contextLookup({ ...request.context, ...callerContext(caller) });
  const identity: Verdict =
    caller.kind === 'role'
      ? judge(input.identityPolicies, 'identity', caller, request, lookup)
      : { denied: false, allowed: 'none' };
  const resource: Verdict = input.resourcePolicy
    ? judge([input.resourcePolicy], 'resource', caller, request, lookup)
    : { denied: false, allowed: 'none' };

  if (identity.denied)
    return { decision: 'explicit-deny', reason: 'an explicit deny in an identity-based policy' };
  if (resource.denied)
    return { decision: 'explicit-deny', reason: 'an explicit deny in a resource-based policy' };

  const noIdentityAllow = `no identity-based policy allows the ${request.action} action`;
  const noResourceAllow = `no resource-based policy allows the ${request.action} action`;
  if (caller.kind === 'service') {
    return resource.allowed === 'direct'
      ? { decision: 'allowed', reason: 'allowed by the resource-based policy' }
      : { decision: 'implicit-deny', reason: noResourceAllow };
  }
  if (kind === 'kms-key') {
    // The key policy decides; naming the account delegates to the account's identity policies.
    if (resource.allowed === 'direct') return { decision: 'allowed', reason: 'allowed by the key policy' };
    if (resource.allowed === 'none') return { decision: 'implicit-deny', reason: noResourceAllow };
    return identity.allowed === 'direct'
      ? { decision: 'allowed', reason: 'allowed by an identity-based policy the key policy enables' }
      : { decision: 'implicit-deny', reason: noIdentityAllow };
  }
  if (identity.allowed === 'direct')
    return { decision: 'allowed', reason: 'allowed by an identity-based policy' };
  // A resource policy naming only the account defers to identity policies; naming the role allows on its own.
  if (resource.allowed === 'direct')
    return { decision: 'allowed', reason: 'allowed by the resource-based policy' };
  return { decision: 'implicit-deny', reason: noIdentityAllow };
}
