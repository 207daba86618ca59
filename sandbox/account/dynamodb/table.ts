/**
 * Simulated DynamoDB behind the DocumentClient: tables of plain items keyed by their partition and
 * sort key, with Get/Put/Update/Delete/Query/Scan, condition expressions and ReturnValues, failing
 * as DynamoDB does (ConditionalCheckFailedException, ValidationException, ResourceNotFoundException).
 */
import {
  ConditionalCheckFailedException,
  DynamoDBServiceException,
  ResourceNotFoundException,
} from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { route, simulatedClient, type SimulatedClient } from '../dispatch';
import type { FaultInjector } from '../faults';
import { awsError, awsErrorByName } from '../sdk-errors';
import {
  applyUpdate,
  conditionHolds,
  ExpressionError,
  pickTopLevel,
  type ExpressionContext,
  type Item,
} from './expressions';

export interface KeySchema {
  readonly partitionKey: string;
  readonly sortKey?: string;
}

export interface TableDefinition extends KeySchema {
  readonly name: string;
  /** Global secondary indexes by name. */
  readonly indexes?: Readonly<Record<string, KeySchema>>;
}

interface ConditionalInput {
  readonly ConditionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: Record<string, unknown>;
}

export class SimulatedDynamoDb {
  private readonly tables = new Map<
    string,
    { readonly definition: TableDefinition; readonly items: Map<string, Item> }
  >();
  readonly client: SimulatedClient;

  constructor(faults: FaultInjector, definitions: readonly TableDefinition[]) {
    for (const definition of definitions) this.tables.set(definition.name, { definition, items: new Map() });
    this.client = simulatedClient('dynamodb', 'DynamoDB', DynamoDBServiceException, faults, [
      route(GetCommand, (input) => {
        const item = this.table(input.TableName).items.get(this.keyOf(input.TableName, input.Key));
        return item ? { Item: structuredClone(item) } : {};
      }),
      route(PutCommand, (input) => this.put(input.TableName, input.Item ?? {}, input, input.ReturnValues)),
      route(UpdateCommand, (input) =>
        this.update(
          input.TableName,
          input.Key ?? {},
          input.UpdateExpression ?? '',
          input,
          input.ReturnValues,
        ),
      ),
      route(DeleteCommand, (input) =>
        this.delete(input.TableName, input.Key ?? {}, input, input.ReturnValues),
      ),
      route(QueryCommand, (input) => this.query(input)),
      route(ScanCommand, (input) => {
        const items = [...this.table(input.TableName).items.values()];
        const context = contextOf(input);
        const matched = input.FilterExpression
          ? items.filter((item) => this.check(() => conditionHolds(input.FilterExpression!, item, context)))
          : items;
        return {
          Items: matched.map((item) => structuredClone(item)),
          Count: matched.length,
          ScannedCount: items.length,
        };
      }),
    ]);
  }

  /** Every item of a table, for reports and assertions. */
  items(tableName: string): Item[] {
    return [...this.table(tableName).items.values()].map((item) => structuredClone(item));
  }

  private table(name: string | undefined) {
    const table = name === undefined ? undefined : this.tables.get(name);
    if (!table) throw awsError(ResourceNotFoundException, 'Requested resource not found');
    return table;
  }

  private keyOf(tableName: string | undefined, key: Record<string, unknown> | undefined): string {
    const { definition } = this.table(tableName);
    const names = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
    const provided = Object.keys(key ?? {});
    const valid =
      provided.length === names.length &&
      names.every((name) => typeof key?.[name] === 'string' || typeof key?.[name] === 'number');
    if (!valid) throw this.validation('The provided key element does not match the schema');
    return JSON.stringify(names.map((name) => key![name]));
  }

  private keyFromItem(tableName: string | undefined, item: Item): string {
    const { definition } = this.table(tableName);
    const names = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
    return this.keyOf(tableName, Object.fromEntries(names.map((name) => [name, item[name]])));
  }

  private validation(message: string) {
    return awsErrorByName(DynamoDBServiceException, 'ValidationException', message, 'client', 400);
  }

  private check(evaluate: () => boolean): boolean {
    try {
      return evaluate();
    } catch (error) {
      if (error instanceof ExpressionError) throw this.validation(error.message);
      throw error;
    }
  }

  private requireCondition(input: ConditionalInput, existing: Item | undefined): void {
    if (!input.ConditionExpression) return;
    const expression = input.ConditionExpression;
    if (!this.check(() => conditionHolds(expression, existing, contextOf(input)))) {
      throw awsError(ConditionalCheckFailedException, 'The conditional request failed');
    }
  }

  private put(
    tableName: string | undefined,
    item: Item,
    input: ConditionalInput,
    returnValues: string | undefined,
  ) {
    const { items } = this.table(tableName);
    const key = this.keyFromItem(tableName, item);
    const existing = items.get(key);
    this.requireCondition(input, existing);
    items.set(key, structuredClone(item));
    return returnValues === 'ALL_OLD' && existing ? { Attributes: existing } : {};
  }

  private update(
    tableName: string | undefined,
    keyValues: Record<string, unknown>,
    expression: string,
    input: ConditionalInput,
    returnValues: string | undefined,
  ) {
    const { items } = this.table(tableName);
    const key = this.keyOf(tableName, keyValues);
    const existing = items.get(key);
    this.requireCondition(input, existing);
    let result: ReturnType<typeof applyUpdate>;
    try {
      result = applyUpdate(expression, { ...(existing ?? {}), ...keyValues }, contextOf(input));
    } catch (error) {
      if (error instanceof ExpressionError) throw this.validation(error.message);
      throw error;
    }
    items.set(key, result.item);
    const fresh = structuredClone(result.item);
    switch (returnValues) {
      case 'ALL_NEW':
        return { Attributes: fresh };
      case 'ALL_OLD':
        return existing ? { Attributes: structuredClone(existing) } : {};
      case 'UPDATED_NEW':
        return { Attributes: pickTopLevel(fresh, result.updatedPaths) };
      case 'UPDATED_OLD':
        return existing ? { Attributes: pickTopLevel(structuredClone(existing), result.updatedPaths) } : {};
      default:
        return {};
    }
  }

  private delete(
    tableName: string | undefined,
    keyValues: Record<string, unknown>,
    input: ConditionalInput,
    returnValues: string | undefined,
  ) {
    const { items } = this.table(tableName);
    const key = this.keyOf(tableName, keyValues);
    const existing = items.get(key);
    this.requireCondition(input, existing);
    items.delete(key);
    return returnValues === 'ALL_OLD' && existing ? { Attributes: existing } : {};
  }

  private query(input: QueryCommand['input']) {
    const table = this.table(input.TableName);
    const schema = input.IndexName ? table.definition.indexes?.[input.IndexName] : table.definition;
    if (!schema) {
      throw this.validation(`The table does not have the specified index: ${input.IndexName}`);
    }
    if (!input.KeyConditionExpression)
      throw this.validation(
        'Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.',
      );
    const context = contextOf(input);
    const keyCondition = input.KeyConditionExpression;
    const sortKey = schema.sortKey;
    let matched = [...table.items.values()]
      .filter((item) => item[schema.partitionKey] !== undefined && (!sortKey || item[sortKey] !== undefined))
      .filter((item) => this.check(() => conditionHolds(keyCondition, item, context)));
    if (sortKey) {
      matched.sort((a, b) => compareKeys(a[sortKey], b[sortKey]));
      if (input.ScanIndexForward === false) matched.reverse();
    }
    if (input.Limit !== undefined) matched = matched.slice(0, input.Limit);
    const scannedCount = matched.length;
    if (input.FilterExpression) {
      const filter = input.FilterExpression;
      matched = matched.filter((item) => this.check(() => conditionHolds(filter, item, context)));
    }
    return {
      Items: matched.map((item) => structuredClone(item)),
      Count: matched.length,
      ScannedCount: scannedCount,
    };
  }
}

function contextOf(input: ConditionalInput): ExpressionContext {
  return { names: input.ExpressionAttributeNames, values: input.ExpressionAttributeValues };
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const left = String(a);
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}
