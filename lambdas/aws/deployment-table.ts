/**
 * The orchestrator's DynamoDB table. Today it holds one item per watched ECS deployment, which meets
 * two writers: the workflow's wait (it stores its task token) and the deployment's state-change event
 * (it stores what happened). Each writer updates the one item atomically and reads back the whole of
 * it, so whichever arrives second sees both halves and completes the wait: an event that arrives
 * before the token is stored is never lost.
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

export interface WaitRecord {
  readonly deploymentId: string;
  /** The execution watching this deployment, once it has started waiting. */
  readonly executionId?: string;
  readonly taskToken?: string;
  /** Set when the deployment's COMPLETED or FAILED event has arrived. */
  readonly event?: RecordedDeploymentEvent;
  /** Set once the wait was completed, so a duplicate event does not complete it twice. */
  readonly tokenCompletedAt?: string;
}

/** Wait items outlive any rollout by far; they only need to cover duplicate late events. */
const WAIT_RECORD_TTL_SECONDS = 7 * 24 * 3600;

export function waitRecordKey(deploymentId: string): { pk: string; sk: string } {
  return { pk: `WAIT#${deploymentId}`, sk: 'WAIT' };
}

function expiresAt(now: Date): number {
  return Math.floor(now.getTime() / 1000) + WAIT_RECORD_TTL_SECONDS;
}

function toWaitRecord(item: Record<string, unknown> | undefined): WaitRecord | undefined {
  if (!item) return undefined;
  return {
    deploymentId: String(item.deploymentId),
    executionId: item.executionId as string | undefined,
    taskToken: item.taskToken as string | undefined,
    event: item.event as RecordedDeploymentEvent | undefined,
    tokenCompletedAt: item.tokenCompletedAt as string | undefined,
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

/**
 * Marks the token as used, only if it is still the same token and unused. Returns false when
 * someone else completed it first (a duplicate event, or the register step racing the event).
 */
export async function claimTokenCompletion(
  clients: Pick<AwsClients, 'dynamodb'>,
  tableName: string,
  input: { deploymentId: string; taskToken: string; now: Date },
): Promise<boolean> {
  try {
    await clients.dynamodb.send(
      new UpdateCommand({
        TableName: tableName,
        Key: waitRecordKey(input.deploymentId),
        UpdateExpression: 'SET tokenCompletedAt = :now',
        ConditionExpression: 'taskToken = :t AND attribute_not_exists(tokenCompletedAt)',
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
 * retried event or the next wait can still complete it. Only the claim made at `claimedAt` for that
 * token is undone.
 */
export async function releaseTokenClaim(
  clients: Pick<AwsClients, 'dynamodb'>,
  tableName: string,
  input: { deploymentId: string; taskToken: string; claimedAt: Date },
): Promise<void> {
  await clients.dynamodb.send(
    new UpdateCommand({
      TableName: tableName,
      Key: waitRecordKey(input.deploymentId),
      UpdateExpression: 'REMOVE tokenCompletedAt',
      ConditionExpression: 'taskToken = :t AND tokenCompletedAt = :claimed',
      ExpressionAttributeValues: { ':t': input.taskToken, ':claimed': input.claimedAt.toISOString() },
    }),
  );
}
