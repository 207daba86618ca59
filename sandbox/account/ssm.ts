/**
 * Simulated SSM Parameter Store: String and StringList parameters as PutParameter and GetParameter
 * keep them. A new parameter needs a Type; an existing one is replaced only with Overwrite (each write a
 * new Version), never changes type, and never takes Tags on an overwrite; names follow SSM's rules
 * (allowed characters, at most 15 levels, `aws`/`ssm` reserved); Standard values hold 4 KB.
 */
import {
  GetParameterCommand,
  HierarchyLevelLimitExceededException,
  HierarchyTypeMismatchException,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
  SSMServiceException,
  UnsupportedParameterType,
  ValidationException,
  type GetParameterCommandInput,
  type PutParameterCommandInput,
} from '@aws-sdk/client-ssm';
import { route, simulatedClient, type SimulatedClient } from './dispatch';
import type { FaultInjector } from './faults';
import { awsError } from './sdk-errors';
import type { VirtualClock } from './virtual-clock';

const NAME = /^\/?[A-Za-z0-9_.\-/]+$/;
const MAX_LEVELS = 15;
const MAX_STANDARD_VALUE = 4096;

export interface StoredParameter {
  readonly name: string;
  readonly type: 'String' | 'StringList';
  readonly value: string;
  readonly version: number;
  readonly lastModified: Date;
}

export class SimulatedSsm {
  readonly client: SimulatedClient;
  private readonly parameters = new Map<string, StoredParameter>();

  constructor(
    private readonly account: { readonly accountId: string; readonly region: string },
    private readonly clock: VirtualClock,
    faults: FaultInjector,
  ) {
    this.client = simulatedClient('ssm', 'SSM', SSMServiceException, faults, [
      route(PutParameterCommand, (input) => this.put(input)),
      route(GetParameterCommand, (input) => this.get(input)),
    ]);
  }

  /** Every parameter, by name. */
  all(): readonly StoredParameter[] {
    return [...this.parameters.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  private arnOf(name: string): string {
    return `arn:aws:ssm:${this.account.region}:${this.account.accountId}:parameter/${name.replace(/^\//, '')}`;
  }

  private checkName(name: string | undefined): string {
    if (!name || !NAME.test(name) || name.length > 2048 || name.endsWith('/')) {
      throw awsError(
        ValidationException,
        'Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.',
      );
    }
    if (/^\/?(aws|ssm)/i.test(name)) {
      throw awsError(ValidationException, `No access to reserved parameter name: ${name}.`);
    }
    if (name.split('/').filter(Boolean).length > MAX_LEVELS) {
      throw awsError(
        HierarchyLevelLimitExceededException,
        `A hierarchy can have a maximum of ${MAX_LEVELS} levels. Parameter name: ${name}`,
      );
    }
    return name;
  }

  private put(input: PutParameterCommandInput) {
    const name = this.checkName(input.Name);
    if (input.Value === undefined || input.Value === '') {
      throw awsError(
        ValidationException,
        "1 validation error detected: Value at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1",
      );
    }
    if (input.Tier !== undefined && input.Tier !== 'Standard') {
      throw awsError(
        UnsupportedParameterType,
        `The sandbox keeps Standard parameters only; received Tier ${input.Tier}.`,
      );
    }
    if (input.Value.length > MAX_STANDARD_VALUE) {
      throw awsError(
        ValidationException,
        `Standard tier parameters support a maximum parameter value of ${MAX_STANDARD_VALUE} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier.`,
      );
    }
    if (input.Type === 'SecureString') {
      throw awsError(UnsupportedParameterType, 'The sandbox does not model SecureString parameters (KMS).');
    }
    const existing = this.parameters.get(name);
    if (existing && !input.Overwrite) {
      throw awsError(
        ParameterAlreadyExists,
        'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.',
      );
    }
    if (existing && input.Tags && input.Tags.length > 0) {
      throw awsError(
        ValidationException,
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
      );
    }
    const type = input.Type ?? existing?.type;
    if (!type)
      throw awsError(ValidationException, 'A parameter type is required when you create a parameter.');
    if (existing && type !== existing.type) {
      throw awsError(
        HierarchyTypeMismatchException,
        "The parameter type can't be changed. To change the parameter type, delete the parameter and create it again.",
      );
    }
    const stored: StoredParameter = {
      name,
      type,
      value: input.Value,
      version: (existing?.version ?? 0) + 1,
      lastModified: this.clock.now(),
    };
    this.parameters.set(name, stored);
    return { Version: stored.version, Tier: 'Standard' };
  }

  private get(input: GetParameterCommandInput) {
    const requested = input.Name ?? '';
    // A name, `name:<version>`, or the parameter's ARN (whose path drops the leading slash).
    const arnPrefix = `arn:aws:ssm:${this.account.region}:${this.account.accountId}:parameter/`;
    const path = requested.startsWith(arnPrefix) ? requested.slice(arnPrefix.length) : requested;
    const [withoutSelector = '', selector] = path.split(':');
    const name =
      requested.startsWith(arnPrefix) && withoutSelector.includes('/')
        ? `/${withoutSelector}`
        : withoutSelector;
    const stored = this.parameters.get(name);
    if (!stored || (selector !== undefined && selector !== String(stored.version))) {
      throw awsError(ParameterNotFound, `Parameter ${requested} not found.`);
    }
    return {
      Parameter: {
        Name: stored.name,
        Type: stored.type,
        Value: stored.value,
        Version: stored.version,
        LastModifiedDate: stored.lastModified,
        ARN: this.arnOf(stored.name),
        DataType: 'text',
      },
    };
  }
}
