/**
 * CloudFormation's intrinsic functions over a synthesized template, resolved for one simulated
 * account: every resource gets a deterministic physical name (the one CloudFormation would generate,
 * `<stack>-<logicalId>-<suffix>`, with a suffix derived from the logical id instead of a random one),
 * so the functions' settings, the simulated resources and the role policies all name the same things.
 */
import { createHash } from 'node:crypto';

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface Template {
  readonly Resources: Readonly<Record<string, TemplateResource>>;
  readonly Parameters?: Readonly<Record<string, { readonly Default?: unknown }>>;
  readonly Outputs?: Readonly<Record<string, { readonly Value?: unknown }>>;
}

export interface Placement {
  readonly stackName: string;
  readonly accountId: string;
  readonly region: string;
}

/** Thrown for a template the sandbox cannot resolve; names the construct to look at. */
export class TemplateResolutionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateResolutionError';
  }
}

function suffixOf(logicalId: string): string {
  return createHash('sha256').update(logicalId).digest('hex').slice(0, 12).toUpperCase();
}

/** What CloudFormation generates for a resource without an explicit name (length-limited by the service). */
function generatedName(stackName: string, logicalId: string, maxLength: number): string {
  const suffix = suffixOf(logicalId);
  const room = maxLength - stackName.length - suffix.length - 2;
  return `${stackName}-${logicalId.slice(0, Math.max(1, room))}-${suffix}`;
}

/** Names given by the template win; otherwise the generated one, within the service's limit. */
const explicitNameProperty: Readonly<
  Record<string, { readonly property: string; readonly maxLength: number }>
> = {
  'AWS::SNS::Topic': { property: 'TopicName', maxLength: 256 },
  'AWS::DynamoDB::Table': { property: 'TableName', maxLength: 255 },
  'AWS::S3::Bucket': { property: 'BucketName', maxLength: 63 },
  'AWS::IAM::Role': { property: 'RoleName', maxLength: 64 },
  'AWS::Lambda::Function': { property: 'FunctionName', maxLength: 64 },
  'AWS::SQS::Queue': { property: 'QueueName', maxLength: 80 },
  'AWS::Logs::LogGroup': { property: 'LogGroupName', maxLength: 512 },
  'AWS::StepFunctions::StateMachine': { property: 'StateMachineName', maxLength: 80 },
  'AWS::CodeBuild::Project': { property: 'Name', maxLength: 150 },
  'AWS::Events::Rule': { property: 'Name', maxLength: 64 },
  'AWS::CloudWatch::Alarm': { property: 'AlarmName', maxLength: 255 },
};

export class TemplateResolver {
  constructor(
    readonly template: Template,
    readonly placement: Placement,
  ) {}

  private resource(logicalId: string): TemplateResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) {
      throw new TemplateResolutionError(`The template refers to ${logicalId}, which it does not define.`);
    }
    return resource;
  }

  /** The resource's name in the account (a bucket's is lower case, as S3 requires). */
  physicalName(logicalId: string): string {
    const { Type, Properties } = this.resource(logicalId);
    const naming = explicitNameProperty[Type];
    const explicit = naming ? Properties?.[naming.property] : undefined;
    if (explicit !== undefined) return String(this.resolve(explicit));
    const name = generatedName(this.placement.stackName, logicalId, naming?.maxLength ?? 128);
    return Type === 'AWS::S3::Bucket' ? name.toLowerCase() : name;
  }

  arnOf(logicalId: string): string {
    const { accountId, region } = this.placement;
    const { Type } = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    switch (Type) {
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${region}:${accountId}:${name}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${accountId}:role/${name}`;
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${region}:${accountId}:function:${name}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${region}:${accountId}:${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${region}:${accountId}:stateMachine:${name}`;
      case 'AWS::CodeBuild::Project':
        return `arn:aws:codebuild:${region}:${accountId}:project/${name}`;
      case 'AWS::Events::Rule':
        return `arn:aws:events:${region}:${accountId}:rule/${name}`;
      case 'AWS::CloudWatch::Alarm':
        return `arn:aws:cloudwatch:${region}:${accountId}:alarm:${name}`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${region}:${accountId}:key/${this.keyId(logicalId)}`;
      default:
        throw new TemplateResolutionError(
          `The sandbox cannot give ${logicalId} (${Type}) an ARN. Add its ARN format to sandbox/assembly/intrinsics.ts.`,
        );
    }
  }

  private keyId(logicalId: string): string {
    const hex = createHash('sha256').update(`${this.placement.stackName}/${logicalId}`).digest('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
  }

  /** `Ref` of a resource: what CloudFormation documents for its type. */
  private ref(logicalId: string): string {
    const { Type } = this.resource(logicalId);
    switch (Type) {
      case 'AWS::SNS::Topic':
      case 'AWS::StepFunctions::StateMachine':
        return this.arnOf(logicalId);
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.placement.region}.amazonaws.com/${this.placement.accountId}/${this.physicalName(logicalId)}`;
      case 'AWS::KMS::Key':
        return this.keyId(logicalId);
      default:
        return this.physicalName(logicalId);
    }
  }

  private pseudo(name: string): string {
    const { accountId, region, stackName } = this.placement;
    const values: Record<string, string> = {
      'AWS::AccountId': accountId,
      'AWS::Region': region,
      'AWS::Partition': 'aws',
      'AWS::URLSuffix': 'amazonaws.com',
      'AWS::StackName': stackName,
      'AWS::StackId': `arn:aws:cloudformation:${region}:${accountId}:stack/${stackName}/${this.keyId('AWS::StackId')}`,
    };
    const value = values[name];
    if (value !== undefined) return value;
    const parameter = this.template.Parameters?.[name];
    if (parameter?.Default !== undefined) return String(parameter.Default);
    throw new TemplateResolutionError(`The template refers to ${name}, which the sandbox cannot resolve.`);
  }

  private getAtt(logicalId: string, attribute: string): string {
    if (attribute === 'Arn') return this.arnOf(logicalId);
    if (attribute === 'QueueName' || attribute === 'Name' || attribute === 'TopicName') {
      return this.physicalName(logicalId);
    }
    if (attribute === 'QueueUrl') return this.ref(logicalId);
    throw new TemplateResolutionError(
      `The sandbox cannot resolve Fn::GetAtt ${logicalId}.${attribute}. Add it to sandbox/assembly/intrinsics.ts.`,
    );
  }

  /** The value with every intrinsic function replaced by what CloudFormation would put there. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item));
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value);
    const [key, argument] = entries[0] ?? [];
    if (entries.length === 1 && key !== undefined && (key === 'Ref' || key.startsWith('Fn::'))) {
      return this.intrinsic(key, argument);
    }
    return Object.fromEntries(entries.map(([name, item]) => [name, this.resolve(item)]));
  }

  private intrinsic(name: string, argument: unknown): unknown {
    switch (name) {
      case 'Ref': {
        const target = String(argument);
        return target in this.template.Resources ? this.ref(target) : this.pseudo(target);
      }
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(argument)
          ? (argument as string[])
          : String(argument).split('.');
        return this.getAtt(String(logicalId), String(attribute));
      }
      case 'Fn::Join': {
        const [separator, items] = argument as [string, unknown[]];
        return (this.resolve(items) as unknown[]).map(String).join(separator);
      }
      case 'Fn::Select': {
        const [index, items] = argument as [unknown, unknown];
        return (this.resolve(items) as unknown[])[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [separator, text] = argument as [string, unknown];
        return String(this.resolve(text)).split(separator);
      }
      case 'Fn::Sub':
        return this.sub(argument);
      default:
        throw new TemplateResolutionError(
          `The sandbox does not resolve ${name}. Add it to sandbox/assembly/intrinsics.ts.`,
        );
    }
  }

  private sub(argument: unknown): string {
    const [text, variables] = Array.isArray(argument)
      ? (argument as [string, Record<string, unknown>])
      : [String(argument), {}];
    return text.replace(/\$\{([^}!][^}]*)\}/g, (_match, expression: string) => {
      if (expression in variables) return String(this.resolve(variables[expression]));
      const [logicalId, attribute] = expression.split('.');
      if (attribute !== undefined) return this.getAtt(String(logicalId), attribute);
      return String(this.intrinsic('Ref', expression));
    });
  }
}
