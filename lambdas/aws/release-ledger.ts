/**
 * The release records in the orchestrator's table (see `lambdas/domain/release.ts`). Every write is
 * conditional on what the writer read, so two pushes of one tag racing each other cannot both open
 * its release, and a push that joins while the release seals is never lost: the seal is refused and
 * made again with a fresh look.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ledgerExpiry } from '../domain/ledger';
import { ReleaseKeys, type ReleaseImage, type ReleaseRecord } from '../domain/release';
import type { AwsClients } from './clients';
import type { LedgerTable } from './ledger';

type LedgerClients = Pick<AwsClients, 'dynamodb'>;

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string }).name === 'ConditionalCheckFailedException';
}

function toRelease(item: Record<string, unknown>): ReleaseRecord {
  const { pk: _pk, sk: _sk, expiresAt: _expiresAt, joinedBy, ...rest } = item;
  // joinedBy is a DynamoDB string set, which the DocumentClient reads as a Set.
  const listed = joinedBy instanceof Set ? [...(joinedBy as Set<string>)].sort() : undefined;
  return { ...(rest as unknown as ReleaseRecord), ...(listed && { joinedBy: listed }) };
}

export async function getRelease(
  clients: LedgerClients,
  table: Pick<LedgerTable, 'tableName'>,
  input: { environment: string; tag: string },
): Promise<ReleaseRecord | undefined> {
  const result = await clients.dynamodb.send(
    new GetCommand({
      TableName: table.tableName,
      Key: ReleaseKeys.release(input.environment, input.tag),
      ConsistentRead: true,
    }),
  );
  return result.Item ? toRelease(result.Item) : undefined;
}

/**
 * Writes a release this execution opens: a new one (no record of the tag yet), or one taken over
 * from `previous` (exactly the record the decision read). False when another push got there first.
 */
export async function putOpenedRelease(
  clients: LedgerClients,
  table: LedgerTable,
  release: ReleaseRecord,
  previous: ReleaseRecord | undefined,
  now: Date,
): Promise<boolean> {
  try {
    await clients.dynamodb.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...ReleaseKeys.release(release.environment, release.tag),
          ...release,
          expiresAt: ledgerExpiry(now, table.retentionDays),
        },
        ...(previous
          ? {
              ConditionExpression: 'executionId = :previous AND #state = :state',
              ExpressionAttributeNames: { '#state': 'state' },
              ExpressionAttributeValues: { ':previous': previous.executionId, ':state': previous.state },
            }
          : { ConditionExpression: 'attribute_not_exists(pk)' }),
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/** Notes a push that joins the release while it assembles. False when it sealed (or changed hands) meanwhile. */
export async function joinRelease(
  clients: LedgerClients,
  table: Pick<LedgerTable, 'tableName'>,
  release: ReleaseRecord,
  executionId: string,
): Promise<boolean> {
  try {
    await clients.dynamodb.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: ReleaseKeys.release(release.environment, release.tag),
        UpdateExpression: 'ADD joins :one, joinedBy :me',
        ConditionExpression: 'executionId = :opener AND #state = :assembling',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':one': 1,
          ':me': new Set([executionId]),
          ':opener': release.executionId,
          ':assembling': 'assembling',
        },
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Seals the release with its images, only if no push joined since `release` was read (a join may
 * have come after this execution's look at its repository). False when one did: look again.
 */
export async function sealRelease(
  clients: LedgerClients,
  table: Pick<LedgerTable, 'tableName'>,
  release: ReleaseRecord,
  images: readonly ReleaseImage[],
  now: Date,
): Promise<ReleaseRecord | undefined> {
  const sealedAt = now.toISOString();
  try {
    await clients.dynamodb.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: ReleaseKeys.release(release.environment, release.tag),
        UpdateExpression: 'SET #state = :sealed, images = :images, sealedAt = :at',
        ConditionExpression: 'executionId = :me AND #state = :assembling AND joins = :seen',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: {
          ':sealed': 'sealed',
          ':images': images,
          ':at': sealedAt,
          ':me': release.executionId,
          ':assembling': 'assembling',
          ':seen': release.joins,
        },
      }),
    );
    return { ...release, state: 'sealed', images, sealedAt };
  } catch (error) {
    if (isConditionFailure(error)) return undefined;
    throw error;
  }
}
