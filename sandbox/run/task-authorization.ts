/**
 * A Task state's call as IAM judges it: made with the state machine's role, and failing the state
 * as Step Functions reports a refused call.
 */
import type { DeployedStack } from '../assembly/cloud-assembly';
import type { PolicySource } from '../iam/authorize';
import type { AuthorizationCheck, Caller } from '../iam/evaluate';
import type { TaskCall } from './execution';
import type { AuthorizationRecord } from './function-clients';
import { judgeDelivery } from './service-deliveries';
import { namedError, uuidFrom } from './service-values';

/** What authorizing a Task state's calls needs from the simulation. */
export interface TaskAuthorizationContext {
  readonly stack: DeployedStack;
  readonly policies: PolicySource;
  /** Where each judged call is recorded, in order. */
  readonly authorizations: AuthorizationRecord[];
  readonly note: (text: string) => void;
}

/** Judges one Task state's calls; the signature of {@link authorizeTask} with its context bound. */
export type TaskAuthorizer = (
  call: TaskCall,
  requests: readonly AuthorizationCheck['request'][],
  error: string,
  service: string,
  statusCode: number,
) => void;

/** The request Step Functions' role makes to invoke a function (unqualified: `$LATEST`). */
export function lambdaInvoke(functionArn: string): AuthorizationCheck['request'][] {
  return [{ action: 'lambda:InvokeFunction', resource: functionArn, context: {} }];
}

/**
 * A Task state's call, authorized as Step Functions makes it: with the state machine's role (its
 * identity policies and the resource's policy). A refused call fails the state as Step Functions
 * reports it, `<Service>.<Exception>` with the service's AccessDenied text as the cause.
 */
export function authorizeTask(
  context: TaskAuthorizationContext,
  call: TaskCall,
  requests: readonly AuthorizationCheck['request'][],
  error: string,
  service: string,
  statusCode: number,
): void {
  const { stack, authorizations } = context;
  const role = stack.stateMachineRole;
  const sessionArn = `arn:aws:sts::${stack.accountId}:assumed-role/${role.roleName}/${uuidFrom(call.execution.arn).replace(/-/g, '')}`;
  const caller: Caller = {
    kind: 'role',
    roleArn: role.roleArn,
    sessionArn,
    accountId: stack.accountId,
  };
  const verdict = judgeDelivery(
    `state machine ${stack.stateMachineArn.split(':').pop()!}`,
    requests.map((request) => ({ caller, request })),
    context.policies,
  );
  authorizations.push(...verdict.records);
  if (verdict.allowed) return;
  const refused = verdict.records[verdict.records.length - 1]!;
  const requestId = uuidFrom(`${call.execution.arn}#${call.stateName}#${authorizations.length}`);
  context.note(
    `${call.stateName} of ${call.execution.name}: the state machine role may not call ${refused.action} (AccessDenied)`,
  );
  throw namedError(
    error,
    `User: ${sessionArn} is not authorized to perform: ${refused.action} on resource: ${refused.resource} ` +
      `${verdict.iamReason.startsWith('an explicit deny') ? 'with' : 'because'} ${verdict.iamReason} ` +
      `(Service: ${service}; Status Code: ${statusCode}; Error Code: AccessDeniedException; Request ID: ${requestId}; Proxy: null)`,
  );
}
