/**
 * The one place AWS SDK clients are created. Handlers never construct clients: they receive an
 * `AwsClients` from their factory, so the same handler code runs against real AWS, against
 * `aws-sdk-client-mock` in unit tests, and against the sandbox's simulated account (whose objects
 * implement the same `send` surface).
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SNSClient } from '@aws-sdk/client-sns';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Only `send` is used, so a simulated account can stand in for a real client. */
export type SendOnly<T extends { send: unknown }> = Pick<T, 'send'>;

export interface AwsClients {
  readonly ecs: SendOnly<ECSClient>;
  readonly ecr: SendOnly<ECRClient>;
  readonly secretsManager: SendOnly<SecretsManagerClient>;
  readonly sns: SendOnly<SNSClient>;
  readonly s3: SendOnly<S3Client>;
  readonly sfn: SendOnly<SFNClient>;
  readonly ssm: SendOnly<SSMClient>;
  readonly dynamodb: SendOnly<DynamoDBDocumentClient>;
  /** The watch of an infrastructure release reads its stacks. */
  readonly cloudformation: SendOnly<CloudFormationClient>;
}

export interface AwsClientOptions {
  readonly region?: string;
  /**
   * Attempts per call, including the first. The SDK's standard retry backs off (with jitter) on throttling and
   * 5xx before a handler ever sees an error.
   */
  readonly maxAttempts?: number;
  /** A named profile of the shared AWS config files (the CLI's `--profile`); the default chain otherwise. */
  readonly profile?: string;
}

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const config = {
    region: options.region ?? process.env.AWS_REGION ?? 'eu-central-1',
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: 'standard' as const,
    ...(options.profile !== undefined && { profile: options.profile }),
  };
  return {
    ecs: new ECSClient(config),
    ecr: new ECRClient(config),
    secretsManager: new SecretsManagerClient(config),
    sns: new SNSClient(config),
    s3: new S3Client(config),
    sfn: new SFNClient(config),
    ssm: new SSMClient(config),
    dynamodb: DynamoDBDocumentClient.from(new DynamoDBClient(config), {
      marshallOptions: { removeUndefinedValues: true },
    }),
    cloudformation: new CloudFormationClient(config),
  };
}

/** The CLI also reads the orchestrator stack's outputs to find the state machine. */
export function createCloudFormationClient(options: AwsClientOptions = {}): SendOnly<CloudFormationClient> {
  return new CloudFormationClient({
    region: options.region ?? process.env.AWS_REGION ?? 'eu-central-1',
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: 'standard',
    ...(options.profile !== undefined && { profile: options.profile }),
  });
}
