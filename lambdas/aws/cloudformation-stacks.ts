/**
 * What CloudFormation says about one stack: its status, the time it last started an operation, its
 * outputs, and, when an update failed, the first resource that failed and why (the stack's own
 * status reason only says that a rollback was requested). Read-only.
 */
import {
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import {
  AwsErrorKind,
  classifyAwsError,
  describeAwsError,
  transientOrOriginal,
} from '../domain/aws-error-kind';
import { StackUnobservable } from '../domain/errors';
import type { StackObservation } from '../domain/stack-release';
import type { AwsClients } from './clients';

type CloudFormationClients = Pick<AwsClients, 'cloudformation'>;

/** Outputs kept in the state: a stack's outputs are few, but the payload limit is for everything. */
const MAX_OUTPUTS = 20;

/** CloudFormation answers DescribeStacks for a stack that does not exist with this ValidationError. */
function isMissingStack(error: unknown): boolean {
  const { name, message } = error as { name?: string; message?: string };
  return name === 'ValidationError' && /does not exist/.test(message ?? '');
}

function unobservable(error: unknown, call: string, stackName: string): unknown {
  const failure = transientOrOriginal(error, `CloudFormation ${call} (${stackName})`);
  if (failure !== error) return failure;
  const hint =
    classifyAwsError(error) === AwsErrorKind.accessDenied
      ? `grant the watch-stack function cloudformation:${call} on ${stackName}`
      : 'read the error, fix its cause, then start the release again';
  return new StackUnobservable(
    `CloudFormation ${call} for ${stackName} failed (${describeAwsError(error)}); what became of the stack is ` +
      `unknown, so the release stops. ${hint[0]!.toUpperCase()}${hint.slice(1)}.`,
    { cause: error },
  );
}

function toObservation(stack: Stack): StackObservation {
  const changedAt = stack.LastUpdatedTime ?? stack.CreationTime;
  return {
    exists: true,
    stackStatus: stack.StackStatus ?? 'UNKNOWN',
    ...(stack.StackStatusReason ? { statusReason: stack.StackStatusReason } : {}),
    changedAt: changedAt ? new Date(changedAt).toISOString() : '',
    outputs: (stack.Outputs ?? [])
      .slice(0, MAX_OUTPUTS)
      .map((output) => ({ key: output.OutputKey ?? '', value: output.OutputValue ?? '' })),
  };
}

export async function observeStack(
  clients: CloudFormationClients,
  stackName: string,
): Promise<StackObservation> {
  try {
    const response = await clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = response.Stacks?.[0];
    return stack ? toObservation(stack) : { exists: false };
  } catch (error) {
    if (isMissingStack(error)) return { exists: false };
    throw unobservable(error, 'DescribeStacks', stackName);
  }
}

/**
 * The first resource whose operation failed since `since` (oldest first), as `<logical id>
 * <status>: <reason>`: what made CloudFormation roll back. Undefined when the recent events name none.
 */
export async function firstFailedResource(
  clients: CloudFormationClients,
  stackName: string,
  since: string,
): Promise<string | undefined> {
  try {
    const response = await clients.cloudformation.send(
      new DescribeStackEventsCommand({ StackName: stackName }),
    );
    const failed = (response.StackEvents ?? [])
      .filter(
        (event) =>
          event.Timestamp !== undefined &&
          new Date(event.Timestamp).toISOString() >= since &&
          (event.ResourceStatus ?? '').endsWith('_FAILED') &&
          event.LogicalResourceId !== stackName,
      )
      .at(-1);
    if (!failed) return undefined;
    return `${failed.LogicalResourceId} ${failed.ResourceStatus}: ${failed.ResourceStatusReason ?? 'no reason given'}`;
  } catch (error) {
    throw unobservable(error, 'DescribeStackEvents', stackName);
  }
}
