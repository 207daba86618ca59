/**
 * Every SDK call a function makes, authorized as AWS authorizes it: the requests the call needs
 * (sandbox/iam's map: action, resource ARN, condition keys), each evaluated for the function's
 * session (`arn:aws:sts::<account>:assumed-role/<role>/<function>`) against its role's policies and
 * the resource's own policy from the template. The first denied request fails the call with the
 * AccessDenied the SDK raises for that service.
 */
import { evaluate, type Caller } from '../iam/evaluate';
import {
  accessDeniedError,
  authorizationRequestsFor,
  identifyCommand,
  resourceKindOf,
  type AccountLookups,
} from '../iam/sdk-authorization';
import type { SimulatedAccount } from '../account/simulated-account';
import type { DeployedFunction, DeployedStack } from '../assembly/cloud-assembly';
import type { AuthorizationRecord, Authorizer } from './function-clients';

/** The resource policy that governs a resource: its own, or its bucket's for an S3 object. */
function resourcePolicyFor(stack: DeployedStack, resource: string) {
  const own = stack.resourcePolicies.get(resource);
  if (own || !resource.startsWith('arn:aws:s3:::')) return own;
  return stack.resourcePolicies.get(resource.split('/')[0]!);
}

function accountLookups(stack: DeployedStack, account: SimulatedAccount): AccountLookups {
  return {
    accountId: account.accountId,
    region: account.region,
    secretArn: (secretId) => account.secretsManager.arnFor(secretId),
    // The sandbox's secrets use the AWS managed key (aws/secretsmanager).
    secretKmsKeyArn: () => undefined,
    topicKmsKeyArn: (topicArn) => stack.encryptionKeys.get(topicArn),
    bucketKmsKeyArn: (bucket) => stack.encryptionKeys.get(bucket),
    latestTaskDefinitionRevision: (family) => account.ecs.latestTaskDefinitionRevision(family),
    latestActiveTaskDefinitionArn: (family) => account.ecs.latestActiveTaskDefinitionArn(family),
    // Every token the sandbox issues belongs to a waitForTaskToken state of the stack's workflow.
    stackArn: (nameOrArn) => account.cloudformation.stackArn(nameOrArn),
    taskTokenIssuer: (token) => (account.sfn.issued(token) ? stack.stateMachineArn : undefined),
  };
}

/** The session a function's calls are signed with: its role, assumed by Lambda under the function's name. */
export function sessionArnOf(fn: DeployedFunction, accountId: string): string {
  return `arn:aws:sts::${accountId}:assumed-role/${fn.roleName}/${fn.functionName}`;
}

export function roleAuthorizer(stack: DeployedStack, account: SimulatedAccount): Authorizer {
  const lookups = accountLookups(stack, account);
  return (fn, _client, command) => {
    const { namespace } = identifyCommand(command);
    const caller: Caller = {
      kind: 'role',
      roleArn: fn.roleArn,
      sessionArn: sessionArnOf(fn, account.accountId),
      accountId: account.accountId,
    };
    const records: AuthorizationRecord[] = [];
    for (const request of authorizationRequestsFor(command, lookups)) {
      const resourcePolicy = resourcePolicyFor(stack, request.resource);
      const { decision, reason } = evaluate({
        caller,
        request,
        identityPolicies: fn.policies,
        ...(resourcePolicy ? { resourcePolicy } : {}),
        resourceKind: resourceKindOf(request),
      });
      records.push({ caller: fn.handlerName, action: request.action, resource: request.resource, decision });
      if (decision !== 'allowed') {
        const { name, message, httpStatusCode } = accessDeniedError(
          namespace,
          caller.sessionArn,
          request,
          reason,
        );
        return { records, denial: { name, message, httpStatusCode } };
      }
    }
    return { records };
  };
}
