/**
 * The deployment ledger in the orchestrator's DynamoDB table (see `lambdas/domain/ledger.ts` for the
 * items). Every write that decides something (an image claim, the service lock) is conditional, so
 * two executions racing each other cannot both win.
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  decideLock,
  ledgerExpiry,
  LedgerKeys,
  type DeploymentRecord,
  type LiveRecord,
  type LockHolder,
} from '../domain/ledger';
import type { AwsClients } from './clients';

type LedgerClients = Pick<AwsClients, 'dynamodb'>;

export interface LedgerTable {
  readonly tableName: string;
  readonly retentionDays: number;
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string }).name === 'ConditionalCheckFailedException';
}

export interface ImageClaim {
  readonly executionId: string;
  readonly deploymentId: string;
  readonly claimedAt: string;
  /** Sort key of the deployment record, to answer "what happened to push X". */
  readonly recordSk: string;
}

export type ClaimResult = { readonly claimed: true } | { readonly claimed: false; readonly by: ImageClaim };

/**
 * Claims an image for one deployment. The first execution wins; a duplicate trigger for the same image
 * learns which execution has it. `redeploy` takes the claim over on purpose.
 */
export async function claimImage(
  clients: LedgerClients,
  table: LedgerTable,
  input: { environment: string; imageKey: string; claim: ImageClaim; redeploy: boolean; now: Date },
): Promise<ClaimResult> {
  const key = LedgerKeys.imageClaim(input.environment, input.imageKey);
  try {
    await clients.dynamodb.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { ...key, ...input.claim, expiresAt: ledgerExpiry(input.now, table.retentionDays) },
        // The same execution may retry its own claim (a Lambda retry after a timeout).
        ...(!input.redeploy && {
          ConditionExpression: 'attribute_not_exists(pk) OR executionId = :me',
          ExpressionAttributeValues: { ':me': input.claim.executionId },
        }),
      }),
    );
    return { claimed: true };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const existing = await clients.dynamodb.send(
      new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
    );
    return { claimed: false, by: existing.Item as ImageClaim };
  }
}

/** Gives an image back (the request was refused before it deployed anything). */
export async function releaseImageClaim(
  clients: LedgerClients,
  table: LedgerTable,
  input: { environment: string; imageKey: string; executionId: string },
): Promise<void> {
  try {
    await clients.dynamodb.send(
      new DeleteCommand({
        TableName: table.tableName,
        Key: LedgerKeys.imageClaim(input.environment, input.imageKey),
        ConditionExpression: 'executionId = :me',
        ExpressionAttributeValues: { ':me': input.executionId },
      }),
    );
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

export async function findImageClaim(
  clients: LedgerClients,
  table: LedgerTable,
  input: { environment: string; imageKey: string },
): Promise<ImageClaim | undefined> {
  const result = await clients.dynamodb.send(
    new GetCommand({
      TableName: table.tableName,
      Key: LedgerKeys.imageClaim(input.environment, input.imageKey),
    }),
  );
  return result.Item as ImageClaim | undefined;
}

/** Whether an execution is still running; one that no longer exists is not. */
export async function isExecutionRunning(
  clients: Pick<AwsClients, 'sfn'>,
  executionArn: string,
): Promise<boolean> {
  try {
    const execution = await clients.sfn.send(new DescribeExecutionCommand({ executionArn }));
    return execution.status === 'RUNNING';
  } catch (error) {
    if ((error as { name?: string }).name === 'ExecutionDoesNotExist') return false;
    throw error;
  }
}

export type LockResult =
  | { readonly acquired: true; readonly tookOverFrom?: LockHolder }
  | { readonly acquired: false; readonly holder: LockHolder };

/**
 * Takes the environment's service for one execution. A lock whose holder has stopped running (it
 * crashed, timed out or was aborted without releasing) is taken over; a running holder never is.
 */
export async function acquireServiceLock(
  clients: Pick<AwsClients, 'dynamodb' | 'sfn'>,
  table: LedgerTable,
  input: { environment: string; executionId: string; now: Date },
): Promise<LockResult> {
  const key = LedgerKeys.lock(input.environment);
  const me: LockHolder = { executionId: input.executionId, acquiredAt: input.now.toISOString() };
  const existing = await clients.dynamodb.send(
    new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
  );
  const holder = existing.Item as LockHolder | undefined;
  const running =
    holder && holder.executionId !== input.executionId
      ? await isExecutionRunning(clients, holder.executionId)
      : undefined;
  const decision = decideLock(input.executionId, holder, running);
  if (decision.action === 'refuse') return { acquired: false, holder: decision.holder };
  if (decision.action === 'already-held') return { acquired: true };
  try {
    await clients.dynamodb.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { ...key, ...me },
        ...(decision.action === 'acquire'
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : {
              ConditionExpression: 'executionId = :previous',
              ExpressionAttributeValues: { ':previous': decision.from.executionId },
            }),
      }),
    );
    return decision.action === 'take-over'
      ? { acquired: true, tookOverFrom: decision.from }
      : { acquired: true };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // Someone else took it between our read and our write: they hold it now.
    const winner = await clients.dynamodb.send(
      new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
    );
    return { acquired: false, holder: winner.Item as LockHolder };
  }
}

/** Releases the lock if this execution still holds it; returns whether it did. */
export async function releaseServiceLock(
  clients: LedgerClients,
  table: LedgerTable,
  input: { environment: string; executionId: string },
): Promise<boolean> {
  try {
    await clients.dynamodb.send(
      new DeleteCommand({
        TableName: table.tableName,
        Key: LedgerKeys.lock(input.environment),
        ConditionExpression: 'executionId = :me',
        ExpressionAttributeValues: { ':me': input.executionId },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

export async function putDeploymentRecord(
  clients: LedgerClients,
  table: LedgerTable,
  record: DeploymentRecord,
  now: Date,
): Promise<void> {
  await clients.dynamodb.send(
    new PutCommand({
      TableName: table.tableName,
      Item: {
        ...LedgerKeys.deployment(record.environment, record.startedAt, record.deploymentId),
        ...record,
        expiresAt: ledgerExpiry(now, table.retentionDays),
      },
    }),
  );
}

export async function setLive(clients: LedgerClients, table: LedgerTable, live: LiveRecord): Promise<void> {
  // The live pointer never expires: it is the answer to "what is running" for as long as it is true.
  await clients.dynamodb.send(
    new PutCommand({ TableName: table.tableName, Item: { ...LedgerKeys.live(live.environment), ...live } }),
  );
}

export async function getLive(
  clients: LedgerClients,
  table: LedgerTable,
  environment: string,
): Promise<LiveRecord | undefined> {
  const result = await clients.dynamodb.send(
    new GetCommand({ TableName: table.tableName, Key: LedgerKeys.live(environment), ConsistentRead: true }),
  );
  return result.Item as LiveRecord | undefined;
}

/** The newest deployment records of an environment, newest first. */
export async function recentDeployments(
  clients: LedgerClients,
  table: LedgerTable,
  environment: string,
  limit = 20,
): Promise<DeploymentRecord[]> {
  const result = await clients.dynamodb.send(
    new QueryCommand({
      TableName: table.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': `ENV#${environment}`, ':prefix': LedgerKeys.deploymentPrefix },
      ScanIndexForward: false,
      Limit: limit,
    }),
  );
  return (result.Items ?? []) as DeploymentRecord[];
}

/** Marks a deployment record finished (outcome, reasons, states reached, task definitions). */
export async function finishDeploymentRecord(
  clients: LedgerClients,
  table: LedgerTable,
  input: {
    environment: string;
    startedAt: string;
    deploymentId: string;
    fields: Pick<DeploymentRecord, 'outcome' | 'reasons' | 'statesReached' | 'finishedAt'> &
      Partial<Pick<DeploymentRecord, 'taskDefinitionBefore' | 'taskDefinitionAfter' | 'ecsDeploymentId'>>;
  },
): Promise<void> {
  const entries = Object.entries(input.fields).filter(([, value]) => value !== undefined);
  await clients.dynamodb.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: LedgerKeys.deployment(input.environment, input.startedAt, input.deploymentId),
      UpdateExpression: 'SET ' + entries.map((_, i) => `#f${i} = :v${i}`).join(', '),
      ExpressionAttributeNames: Object.fromEntries(entries.map(([name], i) => [`#f${i}`, name])),
      ExpressionAttributeValues: Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value])),
    }),
  );
}
