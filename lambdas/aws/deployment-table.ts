/**
 * The orchestrator's DynamoDB table. Today it holds one item per watched ECS deployment, which meets
 * two writers: the workflow's wait (it stores its task token) and the deployment's events (its
 * state-change event, and each stopped task it started). Each writer updates the one item atomically
 * and reads back the whole of it, so whichever arrives second sees both halves and completes the
 * wait: an event that arrives before the token is stored is never lost.
 *
 * Every wake-up records the signals it delivered to its execution: the deployment's outcome, or one
 * stopped task. A signal wakes one execution once: a duplicate event, or a re-registered wait meeting
 * a signal it was already woken for, does not wake it again, while a NEW signal wakes the re-registered
 * wait. Stops and wake-ups are attributes of their own (`stop#<task ARN>`,
 * `woken#<execution id>#<signal>`): one SET records each whether or not the item exists yet, a
 * duplicate overwrites the same attribute, and a new execution starts with nothing woken.
 *
 * Key schema: `pk` (string) + `sk` (string); `expiresAt` (epoch seconds) is the TTL attribute.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from './clients';

/** What a deployment's state-change event told us. */
export interface RecordedDeploymentEvent {
  readonly eventName: string;
  readonly reason?: string;
  readonly time: string;
}

/** A task of the deployment that stopped, as its `ECS Task State Change` event told us. */
export interface RecordedTaskStop {
  readonly taskArn: string;
  readonly reason: string;
  readonly time: string;
}

export interface WaitRecord {
  readonly deploymentId: string;
  /** The execution watching this deployment, once it has started waiting. */
  readonly executionId?: string;
  readonly taskToken?: string;
  /** Set when the deployment's COMPLETED or FAILED event has arrived. */
  readonly event?: RecordedDeploymentEvent;
  /** Every stopped task of the deployment reported so far, oldest first. */
  readonly taskStops: readonly RecordedTaskStop[];
  /** Set once the current token was completed, so a second writer does not complete it twice. */
  readonly tokenCompletedAt?: string;
  /** The signals (see `WakeSignal`) that have already woken `executionId`. */
  readonly wokenBy: readonly string[];
}

/** The signals one wake-up delivers to one execution; never empty. */
export interface DeliveredSignals {
  readonly executionId: string;
  readonly signals: readonly string[];
}

/** Names of what can wake a wait; each wakes one execution at most once. */
export const WakeSignal = {
  deploymentEnded: (eventName: string): string => `deployment:${eventName}`,
  taskStopped: (taskArn: string): string => `task:${taskArn}`,
} as const;

/** Wait items outlive any rollout by far; they only need to cover duplicate late events. */
const WAIT_RECORD_TTL_SECONDS = 7 * 24 * 3600;

const TASK_STOP_PREFIX = 'stop#';
const WOKEN_PREFIX = 'woken#';

function wokenAttribute(executionId: string, signal: string): string {
  return `${WOKEN_PREFIX}${executionId}#${signal}`;
}

export function waitRecordKey(deploymentId: string): { pk: string; sk: string } {
  return { pk: `WAIT#${deploymentId}`, sk: 'WAIT' };
}

function expiresAt(now: Date): number {
  return Math.floor(now.getTime() / 1000) + WAIT_RECORD_TTL_SECONDS;
}

function toWaitRecord(item: Record<string, unknown> | undefined): WaitRecord | undefined {
  if (!item) return undefined;
  const executionId = item.executionId as string | undefined;
  const wokenPrefix = executionId ? wokenAttribute(executionId, '') : undefined;
  const names = Object.keys(item);
  const taskStops = names
    .filter((name) => name.startsWith(TASK_STOP_PREFIX))
    .map((name) => item[name] as RecordedTaskStop)
    .sort((a, b) => a.time.localeCompare(b.time));
  return {
    deploymentId: String(item.deploymentId),
    executionId,
    taskToken: item.taskToken as string | undefined,
    event: item.event as RecordedDeploymentEvent | undefined,
    taskStops,
    tokenCompletedAt: item.tokenCompletedAt as string | undefined,
    wokenBy: wokenPrefix
      ? names.filter((name) => name.startsWith(wokenPrefix)).map((name) => name.slice(wokenPrefix.length))
      : [],
  };
}

export async function getWaitRecord(
  clients: Pick<AwsClients, 'dynamodb'>,
  tableName: string,
  deploymentId: string,
): Promise<WaitRecord | undefined> {
  const result = await clients.dynamodb.send(
    new GetCommand({ TableName: tableName, Key: waitRecordKey(deploymentId), ConsistentRead: true }),
  );
  return toWaitRecord(result.Item);
}

/** Stores the workflow's task token; returns the whole record as it now stands. */
export async function storeWaitToken(
  clients: Pick<AwsClients, 'dynamodb'>,
  tableName: string,
  input: { deploymentId: string; executionId: string; taskToken: string; now: Date },
): Promise<WaitRecord> {
  const result = await clients.dynamodb.send(
    new UpdateCommand({
      TableName: tableName,
      Key: waitRecordKey(input.deploymentId),
      UpdateExpression:
        'SET deploymentId = :d, executionId = :e, taskToken = :t, expiresAt = :x REMOVE tokenCompletedAt',
      ExpressionAttributeValues: {
        ':d': input.deploymentId,
        ':e': input.executionId,
        ':t': input.taskToken,
        ':x': expiresAt(input.now),
      },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return toWaitRecord(result.Attributes)!;
}

/** Stores a deployment's state-change event; returns the whole record as it now stands. */
export async function storeDeploymentEvent(
  clients: Pick<AwsClients, 'dynamodb'>,
  tableName: string,
  input: { deploymentId: string; event: RecordedDeploymentEvent; now: Date },
): Promise<WaitRecord> {
  const result = await clients.dynamodb.send(
    new UpdateCommand({
      TableName: tableName,
      Key: waitRecordKey(input.deploymentId),
      UpdateExpression: 'SET deploymentId = :d, #event = :v, expiresAt = :x',
      ExpressionAttributeNames: { '#event': 'event' },
      ExpressionAttributeValues: { ':d': input.deploymentId, ':v': input.event, ':x': expiresAt(input.now) },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return toWaitRecord(result.Attributes)!;
}

/** Stores one stopped task of the deployment; returns the whole record as it now stands. */
export async function storeTaskStop(
  clients: Pick<AwsClients, 'dynamodb'>,
  tableName: string,
  input: { deploymentId: string; stop: RecordedTaskStop; now: Date },
): Promise<WaitRecord> {
  const result = await clients.dynamodb.send(
    new UpdateCommand({
      TableName: tableName,
      Key: waitRecordKey(input.deploymentId),
      UpdateExpression: 'SET deploymentId = :d, #stop = :v, expiresAt = :x',
      ExpressionAttributeNames: { '#stop': `${TASK_STOP_PREFIX}${input.stop.taskArn}` },
      ExpressionAttributeValues: { ':d': input.deploymentId, ':v': input.stop, ':x': expiresAt(input.now) },
      ReturnValues: 'ALL_NEW',
    }),
  );
  return toWaitRecord(result.Attributes)!;
}

/** Placeholders for the woken attributes of `woken`, as ExpressionAttributeNames. */
function wokenNames(woken: DeliveredSignals | undefined): Record<string, string> {
  return Object.fromEntries(
    (woken?.signals ?? []).map((signal, index) => [`#w${index}`, wokenAttribute(woken!.executionId, signal)]),
  );
}

/**
 * Marks the token as used, only if it is still the same token and unused and none of the signals in
 * `woken` woke that execution before; records them as woken. Returns false when someone else completed
 * the token first (a duplicate event, or the register step racing the event) or a signal is not new.
 */
export async function claimTokenCompletion(
  clients: Pick<AwsClients, 'dynamodb'>,
  tableName: string,
  input: { deploymentId: string; taskToken: string; woken?: DeliveredSignals; now: Date },
): Promise<boolean> {
  const names = wokenNames(input.woken);
  const placeholders = Object.keys(names);
  try {
    await clients.dynamodb.send(
      new UpdateCommand({
        TableName: tableName,
        Key: waitRecordKey(input.deploymentId),
        UpdateExpression: [
          'SET tokenCompletedAt = :now',
          ...placeholders.map((name) => `${name} = :now`),
        ].join(', '),
        ConditionExpression: [
          'taskToken = :t',
          'attribute_not_exists(tokenCompletedAt)',
          ...placeholders.map((name) => `attribute_not_exists(${name})`),
        ].join(' AND '),
        ...(placeholders.length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: { ':t': input.taskToken, ':now': input.now.toISOString() },
      }),
    );
    return true;
  } catch (error) {
    if ((error as { name?: string }).name === 'ConditionalCheckFailedException') return false;
    throw error;
  }
}

/**
 * Undoes a claim whose wake-up did not reach the workflow (Step Functions refused or failed), so a
 * retried event or the next wait can still deliver its signals. Only the claim made at `claimedAt` for
 * that token is undone.
 */
export async function releaseTokenClaim(
  clients: Pick<AwsClients, 'dynamodb'>,
  tableName: string,
  input: { deploymentId: string; taskToken: string; woken?: DeliveredSignals; claimedAt: Date },
): Promise<void> {
  const names = wokenNames(input.woken);
  await clients.dynamodb.send(
    new UpdateCommand({
      TableName: tableName,
      Key: waitRecordKey(input.deploymentId),
      UpdateExpression: `REMOVE ${['tokenCompletedAt', ...Object.keys(names)].join(', ')}`,
      ConditionExpression: 'taskToken = :t AND tokenCompletedAt = :claimed',
      ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: { ':t': input.taskToken, ':claimed': input.claimedAt.toISOString() },
    }),
  );
}
