/**
 * Simulated Secrets Manager: the AFU-9 secrets with their JSON values and deletion dates. A scenario
 * can make a secret missing, pending deletion, lacking a key, unparsable or a runbook placeholder;
 * the ECS simulation resolves task secrets through the same store, so a broken secret also breaks
 * the next task start, as in AWS.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  InvalidRequestException,
  ResourceNotFoundException,
  SecretsManagerServiceException,
} from '@aws-sdk/client-secrets-manager';
import { route, simulatedClient, type SimulatedClient } from './dispatch';
import type { FaultInjector } from './faults';
import { secretArnSuffix } from './ids';
import { awsError } from './sdk-errors';
import type { VirtualClock } from './virtual-clock';

/** The state a scenario gives a secret. */
export type SecretCondition =
  | { readonly state: 'valid' }
  /** The secret does not exist. */
  | { readonly state: 'missing' }
  /** Deleted with a recovery window: DescribeSecret shows DeletedDate, GetSecretValue is refused. */
  | { readonly state: 'pending-deletion' }
  /** The JSON value lacks this key. */
  | { readonly state: 'lacking-key'; readonly key: string }
  /** This key still holds the runbook's placeholder text. */
  | { readonly state: 'placeholder'; readonly key: string; readonly placeholder?: string }
  /** The value is not JSON. */
  | { readonly state: 'not-json' };

/** Text a fresh AFU-9 secret holds until someone fills it in (the runbook's template). */
const runbookPlaceholder = 'REPLACE_ME';

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  secretString: string;
  readonly createdDate: Date;
  lastChangedDate: Date;
  deletedDate?: Date;
  readonly versionId: string;
}

/** Outcome of ECS fetching one `valueFrom` for a task. */
export type SecretFetchOutcome = { readonly ok: true } | { readonly ok: false; readonly reason: string };

export class SimulatedSecretsManager {
  private readonly secrets = new Map<string, StoredSecret>();
  readonly client: SimulatedClient;

  constructor(
    private readonly account: { readonly accountId: string; readonly region: string },
    private readonly clock: VirtualClock,
    faults: FaultInjector,
  ) {
    this.client = simulatedClient(
      'secretsManager',
      'Secrets Manager',
      SecretsManagerServiceException,
      faults,
      [
        route(DescribeSecretCommand, (input) => this.describeSecret(input.SecretId)),
        route(GetSecretValueCommand, (input) => this.getSecretValue(input.SecretId)),
      ],
    );
  }

  arnOf(name: string): string {
    return `arn:aws:secretsmanager:${this.account.region}:${this.account.accountId}:secret:${name}-${secretArnSuffix(name)}`;
  }

  /** Creates (or replaces) a secret with a JSON value, then applies the scenario's condition. */
  seed(name: string, value: Record<string, string>, condition: SecretCondition = { state: 'valid' }): void {
    const now = this.clock.now();
    const secret: StoredSecret = {
      name,
      arn: this.arnOf(name),
      secretString: JSON.stringify(value),
      createdDate: new Date(now.getTime() - 90 * 24 * 3600 * 1000),
      lastChangedDate: new Date(now.getTime() - 30 * 24 * 3600 * 1000),
      versionId: `${secretArnSuffix(`${name}#version`).toLowerCase()}-0000-4000-8000-000000000001`,
    };
    this.secrets.set(name, secret);
    this.setCondition(name, condition);
  }

  /** Changes a secret's state at any virtual moment (e.g. deleted while a deployment runs). */
  setCondition(name: string, condition: SecretCondition): void {
    const secret = this.secrets.get(name);
    if (!secret) throw new Error(`The sandbox has no secret ${name} to change; seed it first.`);
    const value = this.parse(secret) ?? {};
    const now = this.clock.now();
    switch (condition.state) {
      case 'valid':
        delete secret.deletedDate;
        return;
      case 'missing':
        this.secrets.delete(name);
        return;
      case 'pending-deletion':
        secret.deletedDate = now;
        return;
      case 'lacking-key':
        delete value[condition.key];
        break;
      case 'placeholder':
        value[condition.key] = condition.placeholder ?? runbookPlaceholder;
        break;
      case 'not-json':
        secret.secretString = 'token=not-a-json-document';
        secret.lastChangedDate = now;
        return;
    }
    secret.secretString = JSON.stringify(value);
    secret.lastChangedDate = now;
  }

  /** How ECS fares fetching this `valueFrom` (`<secret ARN>[:json-key:version-stage:version-id]`). */
  fetchForTask(valueFrom: string): SecretFetchOutcome {
    const prefix =
      'ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secret from asm: service call has been retried 1 time(s):';
    const [, afterSecret = ''] = valueFrom.split(':secret:');
    const [nameWithSuffix = '', jsonKey = ''] = afterSecret.split(':');
    const secretArn = valueFrom.slice(0, valueFrom.indexOf(':secret:') + ':secret:'.length) + nameWithSuffix;
    const secret = this.find(secretArn);
    const fetchFailed = (error: string) =>
      `${prefix} failed to fetch secret ${secretArn} from secrets manager: ${error}`;
    if (!secret) return { ok: false, reason: fetchFailed(`ResourceNotFoundException: ${notFoundMessage}`) };
    if (secret.deletedDate)
      return { ok: false, reason: fetchFailed(`InvalidRequestException: ${markedForDeletionMessage}`) };
    if (jsonKey) {
      const value = this.parse(secret);
      if (!value || !(jsonKey in value)) {
        return {
          ok: false,
          reason: `${prefix} retrieved secret from Secrets Manager did not contain json key ${jsonKey}`,
        };
      }
    }
    return { ok: true };
  }

  private parse(secret: StoredSecret): Record<string, string> | undefined {
    try {
      const value: unknown = JSON.parse(secret.secretString);
      return typeof value === 'object' && value !== null ? (value as Record<string, string>) : undefined;
    } catch {
      return undefined;
    }
  }

  /** The full ARN of the secret a SecretId names, or undefined when there is no such secret. */
  arnFor(secretId: string): string | undefined {
    return this.find(secretId)?.arn;
  }

  /** SecretId may be the name, the full ARN, or the ARN without its six-character suffix. */
  private find(secretId: string | undefined): StoredSecret | undefined {
    if (!secretId) return undefined;
    for (const secret of this.secrets.values()) {
      if (secret.name === secretId || secret.arn === secretId) return secret;
      if (secret.arn.slice(0, -7) === secretId) return secret;
    }
    return undefined;
  }

  private require(secretId: string | undefined): StoredSecret {
    const secret = this.find(secretId);
    if (!secret) throw awsError(ResourceNotFoundException, notFoundMessage);
    return secret;
  }

  private describeSecret(secretId: string | undefined) {
    const secret = this.require(secretId);
    return {
      ARN: secret.arn,
      Name: secret.name,
      LastChangedDate: new Date(secret.lastChangedDate),
      CreatedDate: new Date(secret.createdDate),
      ...(secret.deletedDate ? { DeletedDate: new Date(secret.deletedDate) } : {}),
      VersionIdsToStages: secret.deletedDate ? undefined : { [secret.versionId]: ['AWSCURRENT'] },
    };
  }

  private getSecretValue(secretId: string | undefined) {
    const secret = this.require(secretId);
    if (secret.deletedDate) throw awsError(InvalidRequestException, markedForDeletionMessage);
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: secret.versionId,
      SecretString: secret.secretString,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: new Date(secret.lastChangedDate),
    };
  }
}

const notFoundMessage = "Secrets Manager can't find the specified secret.";
const markedForDeletionMessage =
  "You can't perform this operation on the secret because it was marked for deletion.";
