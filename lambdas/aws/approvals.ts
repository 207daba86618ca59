/**
 * Approvals in the ledger table (see `lambdas/domain/approval.ts`), the "approval needed" message
 * and the resumption of the paused workflow. The task token is stored beside the record and read
 * only by the function that resumes the workflow; it is never returned to a person, logged or
 * published. Every decision is a conditional write: recorded once, by the first caller.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ApprovalKeys, decisionOf, type ApprovalRecord, type ApprovalSubject } from '../domain/approval';
import { ledgerExpiry } from '../domain/ledger';
import type { AwsClients } from './clients';
import type { LedgerTable } from './ledger';

type TableName = Pick<LedgerTable, 'tableName'>;

/** The stored attribute for the approval's deadline (`expiresAt` is the table's TTL attribute). */
const DEADLINE = 'approvalExpiresAt';

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string }).name === 'ConditionalCheckFailedException';
}

function toRecord(item: Record<string, unknown>): ApprovalRecord {
  const { pk: _pk, sk: _sk, expiresAt: _ttl, taskToken: _token, [DEADLINE]: deadline, ...rest } = item;
  return { ...(rest as Omit<ApprovalRecord, 'expiresAt'>), expiresAt: String(deadline) };
}

/** A stored approval with the token that resumes its workflow (for decide-approval only). */
export interface StoredApproval {
  readonly record: ApprovalRecord;
  readonly taskToken: string;
}

/**
 * Stores the pending approval with its task token. A retried RequestApproval (same token) finds its
 * own record and keeps it; any other record for the same execution and subject is refused.
 */
export async function recordPendingApproval(
  clients: Pick<AwsClients, 'dynamodb'>,
  table: LedgerTable,
  record: ApprovalRecord,
  taskToken: string,
): Promise<'recorded' | 'already-recorded'> {
  const { expiresAt, ...rest } = record;
  try {
    await clients.dynamodb.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...ApprovalKeys.approval(record.executionArn, record.subject),
          ...rest,
          [DEADLINE]: expiresAt,
          taskToken,
          expiresAt: ledgerExpiry(new Date(record.requestedAt), table.retentionDays),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return 'recorded';
  } catch (error) {
    if (!isConditionFailure(error)) throw error;
  }
  const existing = await readStoredApproval(clients, table, record.executionArn, record.subject);
  if (existing?.taskToken === taskToken) return 'already-recorded';
  throw new Error(
    `Execution ${record.executionArn} already has an approval for ${record.subject.kind === 'stack' ? `stack ${record.subject.stackName}` : 'its image release'} ` +
      'with another task token: a subject is approved once per execution. Start a new execution to ask again.',
  );
}

async function readStoredApproval(
  clients: Pick<AwsClients, 'dynamodb'>,
  table: TableName,
  executionArn: string,
  subject: ApprovalSubject,
): Promise<StoredApproval | undefined> {
  const result = await clients.dynamodb.send(
    new GetCommand({
      TableName: table.tableName,
      Key: ApprovalKeys.approval(executionArn, subject),
      ConsistentRead: true,
    }),
  );
  if (!result.Item) return undefined;
  return { record: toRecord(result.Item), taskToken: String(result.Item.taskToken) };
}

async function queryApprovals(
  clients: Pick<AwsClients, 'dynamodb'>,
  table: TableName,
  executionArn: string,
): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await clients.dynamodb.send(
      new QueryCommand({
        TableName: table.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': ApprovalKeys.execution(executionArn).pk },
        ConsistentRead: true,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    startKey = page.LastEvaluatedKey;
  } while (startKey);
  return items;
}

/** One approval of an execution, without its token; undefined when it was never requested. */
export async function readApproval(
  clients: Pick<AwsClients, 'dynamodb'>,
  table: TableName,
  executionArn: string,
  subject: ApprovalSubject,
): Promise<ApprovalRecord | undefined> {
  return (await readStoredApproval(clients, table, executionArn, subject))?.record;
}

/** Every approval of an execution, oldest first, without their tokens (what people may see). */
export async function readApprovals(
  clients: Pick<AwsClients, 'dynamodb'>,
  table: TableName,
  executionArn: string,
): Promise<ApprovalRecord[]> {
  const records = (await queryApprovals(clients, table, executionArn)).map(toRecord);
  return records.sort((a, b) => a.requestedAt.localeCompare(b.requestedAt));
}

/**
 * The approval a decision is about: the pending one, else the latest (so a late caller learns what
 * became of it); undefined when the execution never asked for one.
 */
export async function readDecidableApproval(
  clients: Pick<AwsClients, 'dynamodb'>,
  table: TableName,
  executionArn: string,
): Promise<StoredApproval | undefined> {
  const stored = (await queryApprovals(clients, table, executionArn))
    .map((item) => ({ record: toRecord(item), taskToken: String(item.taskToken) }))
    .sort((a, b) => a.record.requestedAt.localeCompare(b.record.requestedAt));
  return stored.find((entry) => entry.record.status === 'pending') ?? stored.at(-1);
}

/**
 * Writes a decision (approved, denied or expired) over the pending record, only if it is still
 * pending: false when someone else decided first (or it expired).
 */
export async function recordDecision(
  clients: Pick<AwsClients, 'dynamodb'>,
  table: TableName,
  decided: ApprovalRecord,
): Promise<boolean> {
  const names: Record<string, string> = {
    '#status': 'status',
    '#reason': 'reason',
    '#decidedAt': 'decidedAt',
  };
  const values: Record<string, unknown> = {
    ':pending': 'pending',
    ':status': decided.status,
    ':reason': decided.reason ?? '',
    ':decidedAt': decided.decidedAt,
  };
  let update = 'SET #status = :status, #reason = :reason, #decidedAt = :decidedAt';
  if (decided.approver) {
    names['#approver'] = 'approver';
    values[':approver'] = decided.approver;
    update += ', #approver = :approver';
  }
  try {
    await clients.dynamodb.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: ApprovalKeys.approval(decided.executionArn, decided.subject),
        UpdateExpression: update,
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
    return true;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    throw error;
  }
}

/**
 * Gives a decision back (pending again) when the workflow could not be told about it for a reason
 * that may pass, so the person can decide again; only the decision this caller wrote.
 */
export async function withdrawDecision(
  clients: Pick<AwsClients, 'dynamodb'>,
  table: TableName,
  decided: ApprovalRecord,
): Promise<void> {
  await clients.dynamodb.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: ApprovalKeys.approval(decided.executionArn, decided.subject),
      UpdateExpression: 'SET #status = :pending REMOVE #approver, #reason, #decidedAt',
      ConditionExpression: '#status = :status AND #decidedAt = :decidedAt',
      ExpressionAttributeNames: {
        '#status': 'status',
        '#approver': 'approver',
        '#reason': 'reason',
        '#decidedAt': 'decidedAt',
      },
      ExpressionAttributeValues: {
        ':pending': 'pending',
        ':status': decided.status,
        ':decidedAt': decided.decidedAt,
      },
    }),
  );
}

/** Step Functions' answers meaning the paused state no longer waits: timed out, ended, or unknown. */
const WAIT_OVER = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export type Resumption = { readonly resumed: true } | { readonly resumed: false; readonly why: string };

/** Hands the decision to the paused state (SendTaskSuccess); `resumed: false` when it no longer waits. */
export async function resumeWorkflow(
  clients: Pick<AwsClients, 'sfn'>,
  taskToken: string,
  decided: ApprovalRecord,
): Promise<Resumption> {
  try {
    await clients.sfn.send(
      new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(decisionOf(decided)) }),
    );
    return { resumed: true };
  } catch (error) {
    const name = (error as { name?: string }).name ?? 'Error';
    if (WAIT_OVER.has(name)) return { resumed: false, why: `${name}: ${(error as Error).message}` };
    throw error;
  }
}

/**
 * Publishes the "approval needed" notification to the orchestrator's topic, with the attributes the
 * outcome notifications carry (`outcome` = `approval-needed`), so a subscription can filter on them.
 */
export async function publishApprovalNeeded(
  clients: Pick<AwsClients, 'sns'>,
  topicArn: string,
  notice: { readonly subject: string; readonly message: string; readonly environment: string },
): Promise<void> {
  await clients.sns.send(
    new PublishCommand({
      TopicArn: topicArn,
      Subject: notice.subject,
      Message: notice.message,
      MessageAttributes: {
        outcome: { DataType: 'String', StringValue: 'approval-needed' },
        environment: { DataType: 'String', StringValue: notice.environment },
      },
    }),
  );
}
