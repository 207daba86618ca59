/**
 * Each function's own clients: the simulated account's, behind its role. Before a call reaches the
 * account it is authorized as the function's session (`assumed-role/<role>/<function>`) against the
 * role's policies from the template; a denied call fails as the SDK raises AccessDenied in AWS, and
 * the account never sees it.
 */
import { CloudFormationServiceException } from '@aws-sdk/client-cloudformation';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { ECRServiceException } from '@aws-sdk/client-ecr';
import { ECSServiceException } from '@aws-sdk/client-ecs';
import { S3ServiceException } from '@aws-sdk/client-s3';
import { SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { SFNServiceException } from '@aws-sdk/client-sfn';
import { SNSServiceException } from '@aws-sdk/client-sns';
import { SSMServiceException } from '@aws-sdk/client-ssm';
import type { AwsClients } from '../../lambdas/aws/clients';
import type { DeployedFunction } from '../assembly/cloud-assembly';
import { awsErrorByName, type ServiceExceptionBase } from '../account/sdk-errors';

/** One authorization request a call made, and what the evaluator decided. */
export interface AuthorizationRecord {
  /** Who asked: a function's handler name (`update-service`), or the service delivering (`EventBridge rule <name>`). */
  readonly caller: string;
  readonly action: string;
  readonly resource: string;
  readonly decision: 'allowed' | 'explicit-deny' | 'implicit-deny';
}

/** The error a denied call raises: what `accessDeniedError` of sandbox/iam says AWS answers. */
export interface AccessDenial {
  readonly name: string;
  readonly message: string;
  readonly httpStatusCode: number;
}

export interface CallVerdict {
  /** Every request the call needed, in order (a call may need several, e.g. UpdateService + PassRole). */
  readonly records: readonly AuthorizationRecord[];
  /** Set when a request was denied: the call fails with this. */
  readonly denial?: AccessDenial;
}

/** Decides one SDK call of one function; the seam between the clients and the policy evaluator. */
export type Authorizer = (fn: DeployedFunction, client: keyof AwsClients, command: unknown) => CallVerdict;

const exceptionBases: Readonly<Record<keyof AwsClients, ServiceExceptionBase>> = {
  ecs: ECSServiceException,
  ecr: ECRServiceException,
  secretsManager: SecretsManagerServiceException,
  sns: SNSServiceException,
  s3: S3ServiceException,
  sfn: SFNServiceException,
  ssm: SSMServiceException,
  dynamodb: DynamoDBServiceException,
  cloudformation: CloudFormationServiceException,
};

type Send = (command: unknown) => Promise<unknown>;

export function functionClients(
  fn: DeployedFunction,
  accountClients: AwsClients,
  authorize: Authorizer,
  record: (records: readonly AuthorizationRecord[]) => void,
): AwsClients {
  const clients = {} as Record<keyof AwsClients, { send: Send }>;
  for (const client of Object.keys(exceptionBases) as (keyof AwsClients)[]) {
    const send = (accountClients[client] as unknown as { send: Send }).send;
    clients[client] = {
      send: async (command) => {
        const verdict = authorize(fn, client, command);
        record(verdict.records);
        if (verdict.denial) {
          const { name, message, httpStatusCode } = verdict.denial;
          throw awsErrorByName(exceptionBases[client], name, message, 'client', httpStatusCode);
        }
        return send(command);
      },
    };
  }
  return clients as unknown as AwsClients;
}
