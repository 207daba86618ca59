/**
 * An in-memory stand-in for the orchestrator table behind `mockClient(DynamoDBDocumentClient)`.
 * It evaluates the update and condition expressions the wait record uses (SET, REMOVE, `a = :v`,
 * `attribute_not_exists(a)`, joined by AND) atomically per call, as DynamoDB does, so races between
 * the register step and the event handler play out for real.
 */
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';

type Item = Record<string, unknown>;
type Names = Record<string, string> | undefined;
type Values = Record<string, unknown> | undefined;

function mockDocumentClient() {
  return mockClient(DynamoDBDocumentClient);
}
type DocumentStub = ReturnType<typeof mockDocumentClient>;

function keyOf(key: Record<string, unknown> | undefined): string {
  return `${String(key?.pk)}|${String(key?.sk)}`;
}

function attribute(token: string, names: Names): string {
  return token.startsWith('#') ? names![token]! : token;
}

function conditionHolds(expression: string, item: Item | undefined, names: Names, values: Values): boolean {
  return expression.split(/\s+AND\s+/).every((clause) => {
    const notExists = /^attribute_not_exists\((\S+)\)$/.exec(clause.trim());
    if (notExists) return item?.[attribute(notExists[1]!, names)] === undefined;
    const equals = /^(\S+)\s*=\s*(:\w+)$/.exec(clause.trim());
    if (equals) return item !== undefined && item[attribute(equals[1]!, names)] === values![equals[2]!];
    throw new Error(`wait-table fake: unsupported condition clause ${clause}`);
  });
}

function applyUpdate(expression: string, item: Item, names: Names, values: Values): void {
  const sections = expression.split(/\s*(?=\b(?:SET|REMOVE)\b)/).filter(Boolean);
  for (const section of sections) {
    const [action, ...rest] = section.trim().split(/\s+/);
    const body = rest.join(' ');
    for (const part of body.split(',').map((p) => p.trim())) {
      if (action === 'SET') {
        const [path, value] = part.split('=').map((p) => p.trim());
        item[attribute(path!, names)] = values![value!];
      } else if (action === 'REMOVE') {
        delete item[attribute(part, names)];
      }
    }
  }
}

/** Mocks the document client (every instance) and backs it with the in-memory table. */
export function fakeWaitTable(ddb: DocumentStub = mockDocumentClient()) {
  const items = new Map<string, Item>();
  const failures: Error[] = [];
  ddb.on(GetCommand).callsFake(async (input: GetCommand['input']) => {
    const item = items.get(keyOf(input.Key));
    return { Item: item ? structuredClone(item) : undefined };
  });
  ddb.on(UpdateCommand).callsFake(async (input: UpdateCommand['input']) => {
    const failure = failures.shift();
    if (failure) throw failure;
    const key = keyOf(input.Key);
    const existing = items.get(key);
    const names = input.ExpressionAttributeNames;
    const values = input.ExpressionAttributeValues;
    if (input.ConditionExpression && !conditionHolds(input.ConditionExpression, existing, names, values)) {
      throw Object.assign(new Error('The conditional request failed'), {
        name: 'ConditionalCheckFailedException',
        $metadata: { httpStatusCode: 400 },
      });
    }
    const item: Item = { ...(existing ?? {}), ...input.Key };
    applyUpdate(input.UpdateExpression!, item, names, values);
    items.set(key, item);
    return input.ReturnValues === 'ALL_NEW' ? { Attributes: structuredClone(item) } : {};
  });
  return {
    ddb,
    items,
    /** The next update fails with `error` (throttling, 5xx), as DynamoDB would after the SDK's retries. */
    failNextUpdate: (error: Error) => failures.push(error),
  };
}
