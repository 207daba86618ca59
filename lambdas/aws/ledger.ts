/**
 * The deployment ledger in the orchestrator's DynamoDB table (see `lambdas/domain/ledger.ts` for the
 * items). Every write that decides something (an image claim, the service lock) is conditional, so
 * two executions racing each other cannot both win.
 */
import { DescribeExecutionCommand } from '@aws-sdk/client-sfn';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import {
  decideLock,
  DEFAULT_LEDGER_RETENTION_DAYS,
  ledgerExpiry,
  LedgerKeys,
  type DeploymentRecord,
  type LiveRecord,
  type LockHolder,
  type RegisteredRevision,
} from '../domain/ledger';
import type { AwsClients } from './clients';

type LedgerClients = Pick<AwsClients, 'dynamodb'>;

export interface LedgerTable {
  readonly tableName: string;
  readonly retentionDays: number;
}

/** What a read needs: the table, not the retention its writers apply. */
type TableName = Pick<LedgerTable, 'tableName'>;

/** The ledger table from a handler's settings: the retention falls back to DEFAULT_LEDGER_RETENTION_DAYS. */
export function ledgerTable(settings: { tableName: string; ledgerRetentionDays?: number }): LedgerTable {
  return {
    tableName: settings.tableName,
    retentionDays: settings.ledgerRetentionDays ?? DEFAULT_LEDGER_RETENTION_DAYS,
  };
}

/** The item attributes that are storage, not record: keys and expiry. */
function withoutStorageFields(item: Record<string, unknown>): Record<string, unknown> {
  const { pk: _pk, sk: _sk, expiresAt: _expiresAt, ...rest } = item;
  return rest;
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string }).name === 'ConditionalCheckFailedException';
}

/** Who claimed an image for a deployment, and when. */
export interface ImageClaimHolder {
  readonly executionId: string;
  readonly deploymentId: string;
  readonly claimedAt: string;
  /** Sort key of the deployment record, to answer "what happened to push X". */
  readonly recordSk: string;
}

export interface ImageClaim extends ImageClaimHolder {
  /** The claim a redeploy took over: given back if the redeploy is refused before it deploys. */
  readonly takenOverFrom?: ImageClaimHolder;
  /** Executions whose trigger for this image was ignored as a duplicate (sorted by ARN). */
  readonly duplicates?: readonly string[];
  readonly lastDuplicateAt?: string;
}

function toImageClaim(item: Record<string, unknown>): ImageClaim {
  const { duplicates, ...rest } = withoutStorageFields(item);
  // The duplicates are a DynamoDB string set, which the DocumentClient reads as a Set.
  const listed = duplicates instanceof Set ? [...(duplicates as Set<string>)].sort() : undefined;
  return { ...(rest as unknown as ImageClaimHolder), ...(listed && { duplicates: listed }) };
}

function holderOf(claim: ImageClaim): ImageClaimHolder {
  const { executionId, deploymentId, claimedAt, recordSk } = claim;
  return { executionId, deploymentId, claimedAt, recordSk };
}

/** `claim` is the claim in force: this execution's, possibly from an earlier attempt of the same step. */
export type ClaimResult =
  | { readonly claimed: true; readonly claim: ImageClaim }
  | { readonly claimed: false; readonly by: ImageClaim };

async function readClaim(
  clients: LedgerClients,
  table: TableName,
  key: ReturnType<typeof LedgerKeys.imageClaim>,
): Promise<ImageClaim | undefined> {
  const result = await clients.dynamodb.send(
    new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
  );
  return result.Item ? toImageClaim(result.Item) : undefined;
}

/**
 * Claims an image for one deployment. The first execution wins; a duplicate trigger for the same image
 * learns which execution has it. `redeploy` takes the claim over on purpose, remembering whose it was.
 * A retry of the same execution finds its own claim and keeps it (its time is the record's key).
 */
export async function claimImage(
  clients: LedgerClients,
  table: LedgerTable,
  input: { environment: string; imageKey: string; claim: ImageClaimHolder; redeploy: boolean; now: Date },
): Promise<ClaimResult> {
  const key = LedgerKeys.imageClaim(input.environment, input.imageKey);
  const me = input.claim.executionId;
  const existing = input.redeploy ? await readClaim(clients, table, key) : undefined;
  if (existing?.executionId === me) return { claimed: true, claim: existing };
  const claim: ImageClaim = { ...input.claim, ...(existing && { takenOverFrom: holderOf(existing) }) };
  try {
    await clients.dynamodb.send(
      new PutCommand({
        TableName: table.tableName,
        Item: { ...key, ...claim, expiresAt: ledgerExpiry(input.now, table.retentionDays) },
        // A redeploy replaces exactly the claim it read; anything else only claims a free image.
        ...(existing
          ? {
              ConditionExpression: 'executionId = :previous',
              ExpressionAttributeValues: { ':previous': existing.executionId },
            }
          : { ConditionExpression: 'attribute_not_exists(pk)' }),
      }),
    );
    return { claimed: true, claim };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const winner = await readClaim(clients, table, key);
    if (!winner) throw error;
    return winner.executionId === me ? { claimed: true, claim: winner } : { claimed: false, by: winner };
  }
}

/** Notes on an image's claim that a trigger for it was ignored as a duplicate (idempotent per execution). */
export async function recordDuplicate(
  clients: LedgerClients,
  table: LedgerTable,
  input: { environment: string; imageKey: string; executionId: string; at: string },
): Promise<void> {
  try {
    await clients.dynamodb.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: LedgerKeys.imageClaim(input.environment, input.imageKey),
        UpdateExpression: 'ADD #duplicates :execution SET #lastDuplicateAt = :at',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#duplicates': 'duplicates', '#lastDuplicateAt': 'lastDuplicateAt' },
        ExpressionAttributeValues: { ':execution': new Set([input.executionId]), ':at': input.at },
      }),
    );
  } catch (error) {
    // The claim is gone (given back or expired): there is nothing to note the duplicate on.
    if (!isConditionFailure(error)) throw error;
  }
}

/**
 * Gives an image back (the request was refused before it deployed anything): to the claim a redeploy
 * took over, or free. Only this execution's claim is touched.
 */
export async function releaseImageClaim(
  clients: LedgerClients,
  table: LedgerTable,
  input: { environment: string; imageKey: string; executionId: string; now: Date },
): Promise<void> {
  const key = LedgerKeys.imageClaim(input.environment, input.imageKey);
  const current = await readClaim(clients, table, key);
  if (current?.executionId !== input.executionId) return;
  const mine = {
    ConditionExpression: 'executionId = :me',
    ExpressionAttributeValues: { ':me': input.executionId },
  };
  try {
    if (current.takenOverFrom) {
      await clients.dynamodb.send(
        new PutCommand({
          TableName: table.tableName,
          Item: { ...key, ...current.takenOverFrom, expiresAt: ledgerExpiry(input.now, table.retentionDays) },
          ...mine,
        }),
      );
    } else {
      await clients.dynamodb.send(new DeleteCommand({ TableName: table.tableName, Key: key, ...mine }));
    }
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
}

export async function findImageClaim(
  clients: LedgerClients,
  table: TableName,
  input: { environment: string; imageKey: string },
): Promise<ImageClaim | undefined> {
  return readClaim(clients, table, LedgerKeys.imageClaim(input.environment, input.imageKey));
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

/** `since`: when this execution took the lock (on a retry of the same step, the first attempt's time). */
function lockHolderOf(item: Record<string, unknown>): LockHolder {
  return { executionId: String(item.executionId), acquiredAt: String(item.acquiredAt) };
}

export type LockResult =
  | { readonly acquired: true; readonly since: string; readonly tookOverFrom?: LockHolder }
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
  const holder = existing.Item ? lockHolderOf(existing.Item) : undefined;
  const running =
    holder && holder.executionId !== input.executionId
      ? await isExecutionRunning(clients, holder.executionId)
      : undefined;
  const decision = decideLock(input.executionId, holder, running);
  if (decision.action === 'refuse') return { acquired: false, holder: decision.holder };
  if (decision.action === 'already-held') return { acquired: true, since: holder!.acquiredAt };
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
      ? { acquired: true, since: me.acquiredAt, tookOverFrom: decision.from }
      : { acquired: true, since: me.acquiredAt };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    // Someone else took it between our read and our write: they hold it now.
    const winner = await clients.dynamodb.send(
      new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
    );
    if (!winner.Item) throw error;
    return { acquired: false, holder: lockHolderOf(winner.Item) };
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
  table: TableName,
  environment: string,
): Promise<LiveRecord | undefined> {
  const result = await clients.dynamodb.send(
    new GetCommand({ TableName: table.tableName, Key: LedgerKeys.live(environment), ConsistentRead: true }),
  );
  return result.Item ? (withoutStorageFields(result.Item) as unknown as LiveRecord) : undefined;
}

/** The newest deployment records of an environment, newest first. */
export async function recentDeployments(
  clients: LedgerClients,
  table: TableName,
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
  return (result.Items ?? []).map((item) => withoutStorageFields(item) as unknown as DeploymentRecord);
}

/** One deployment record by its sort key (an image claim's `recordSk`). */
export async function getDeploymentRecord(
  clients: LedgerClients,
  table: TableName,
  input: { environment: string; sk: string },
): Promise<DeploymentRecord | undefined> {
  const result = await clients.dynamodb.send(
    new GetCommand({
      TableName: table.tableName,
      Key: LedgerKeys.deploymentBySk(input.environment, input.sk),
    }),
  );
  return result.Item ? (withoutStorageFields(result.Item) as unknown as DeploymentRecord) : undefined;
}

/**
 * Marks a deployment record finished (outcome, reasons, states reached, task definitions). Returns
 * false when there is no such record to finish (it is never created here). Writing the same end again
 * (a retried Notify step) changes nothing but `finishedAt`.
 */
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
): Promise<boolean> {
  const entries = Object.entries(input.fields).filter(([, value]) => value !== undefined);
  try {
    await clients.dynamodb.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: LedgerKeys.deployment(input.environment, input.startedAt, input.deploymentId),
        UpdateExpression: 'SET ' + entries.map((_, i) => `#f${i} = :v${i}`).join(', '),
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: Object.fromEntries(entries.map(([name], i) => [`#f${i}`, name])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, value], i) => [`:v${i}`, value])),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** The key of an execution's deployment record: its environment, its start, its execution name. */
export interface DeploymentRecordKey {
  readonly environment: string;
  readonly startedAt: string;
  readonly deploymentId: string;
}

/** What an execution's deployment record says about its registered revision. */
export interface RegistrationRecord {
  /** False when the table has no record for the execution at all. */
  readonly exists: boolean;
  /** Absent until the execution has recorded the revision it registered. */
  readonly revision?: RegisteredRevision;
}

/** Reads the execution's record consistently: a retry must see what its earlier attempt wrote. */
export async function getRegistrationRecord(
  clients: LedgerClients,
  table: TableName,
  record: DeploymentRecordKey,
): Promise<RegistrationRecord> {
  const result = await clients.dynamodb.send(
    new GetCommand({
      TableName: table.tableName,
      Key: LedgerKeys.deployment(record.environment, record.startedAt, record.deploymentId),
      ConsistentRead: true,
      ProjectionExpression: 'pk, registeredRevision',
    }),
  );
  if (!result.Item) return { exists: false };
  const revision = result.Item.registeredRevision as RegisteredRevision | undefined;
  return revision ? { exists: true, revision } : { exists: true };
}

export type RegisteredRevisionWrite =
  | { readonly recorded: true; readonly revision: RegisteredRevision }
  | { readonly recorded: false; readonly reason: 'no-record' };

/**
 * Records the revision an execution registered, once: the first write wins, and a later one (an
 * attempt racing an earlier attempt still running) gets the revision already recorded back, so
 * every attempt sends ECS the same revision. Returns `no-record` when the execution has no
 * deployment record to write on.
 */
export async function recordRegisteredRevision(
  clients: LedgerClients,
  table: TableName,
  record: DeploymentRecordKey,
  revision: RegisteredRevision,
): Promise<RegisteredRevisionWrite> {
  try {
    await clients.dynamodb.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: LedgerKeys.deployment(record.environment, record.startedAt, record.deploymentId),
        UpdateExpression: 'SET registeredRevision = :revision',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(registeredRevision)',
        ExpressionAttributeValues: { ':revision': revision },
      }),
    );
    return { recorded: true, revision };
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
    const current = await getRegistrationRecord(clients, table, record);
    return current.revision
      ? { recorded: true, revision: current.revision }
      : { recorded: false, reason: 'no-record' };
  }
}
