/**
 * What CloudFormation says about one stack: its status, the time it last started an operation, its
 * outputs, and, when an update failed, the first resource that failed and why (the stack's own
 * status reason only says that a rollback was requested). Read-only.
 */
import {
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  type DescribeStackEventsCommandOutput,
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
 * Pages read back through a stack's events: a rollback of a large stack writes hundreds of events,
 * 100 per page, newest first. 20 pages reach well past any one operation and stay within a second or
 * two of API time.
 */
const MAX_EVENT_PAGES = 20;

/**
 * CloudFormation cancels the operations still running when one fails; their events are failures too
 * ("Resource update cancelled"), but they name a victim, not the cause.
 */
function isCancellation(reason: string | undefined): boolean {
  return /\b(update|creation|deletion) cancelled\b/i.test(reason ?? '');
}

type StackEvent = NonNullable<DescribeStackEventsCommandOutput['StackEvents']>[number];

function describeFailure(event: StackEvent): string {
  return `${event.LogicalResourceId} ${event.ResourceStatus}: ${event.ResourceStatusReason ?? 'no reason given'}`;
}

/**
 * The first resource whose operation failed since `since` (oldest first), as `<logical id>
 * <status>: <reason>`: what made CloudFormation roll back. Reads the events back page by page until
 * they are older than `since`; a failure that only reports a cancellation is named only when no
 * other failure is found. Undefined when the events since `since` name none.
 */
export async function firstFailedResource(
  clients: CloudFormationClients,
  stackName: string,
  since: string,
): Promise<string | undefined> {
  const failures: StackEvent[] = [];
  try {
    let nextToken: string | undefined;
    for (let page = 0; page < MAX_EVENT_PAGES; page++) {
      const response = await clients.cloudformation.send(
        new DescribeStackEventsCommand({ StackName: stackName, NextToken: nextToken }),
      );
      const events = (response.StackEvents ?? []).filter((event) => event.Timestamp !== undefined);
      const recent = events.filter((event) => new Date(event.Timestamp!).toISOString() >= since);
      failures.push(
        ...recent.filter(
          (event) =>
            (event.ResourceStatus ?? '').endsWith('_FAILED') && event.LogicalResourceId !== stackName,
        ),
      );
      nextToken = response.NextToken;
      // Newest first: once a page reaches back before `since`, the operation's events are all read.
      if (!nextToken || recent.length < events.length) break;
    }
  } catch (error) {
    throw unobservable(error, 'DescribeStackEvents', stackName);
  }
  // `failures` is newest first; the cause is the oldest failure that is not a cancellation.
  const cause =
    failures.filter((event) => !isCancellation(event.ResourceStatusReason)).at(-1) ?? failures.at(-1);
  return cause ? describeFailure(cause) : undefined;
}
