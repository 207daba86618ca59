import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';
import * as cloudFormationSdk from '@aws-sdk/client-cloudformation';
import * as dynamoDbSdk from '@aws-sdk/client-dynamodb';
import * as ecrSdk from '@aws-sdk/client-ecr';
import * as ecsSdk from '@aws-sdk/client-ecs';
import * as s3Sdk from '@aws-sdk/client-s3';
import * as secretsManagerSdk from '@aws-sdk/client-secrets-manager';
import * as sfnSdk from '@aws-sdk/client-sfn';
import * as snsSdk from '@aws-sdk/client-sns';
import * as ssmSdk from '@aws-sdk/client-ssm';
import * as documentClientSdk from '@aws-sdk/lib-dynamodb';
import { DeleteServiceCommand, ECSClient, UpdateServiceCommand } from '@aws-sdk/client-ecs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import {
  SUPPORTED_OPERATIONS,
  UnsupportedCommand,
  accessDeniedError,
  authorizationRequestsFor,
  identifyCommand,
  resourceKindOf,
  type AccessDeniedError,
} from '../../../sandbox/iam/sdk-authorization';
import type { AuthorizationRequest } from '../../../sandbox/iam/evaluate';
import {
  ACCOUNT,
  CLUSTER_ARN,
  COMMAND_CASES,
  DATABASE_SECRET_ARN,
  REGION,
  SECRET_KEY_ARN,
  SERVICE_ARN,
  TOPIC_ARN,
  lookups,
} from './command-cases';

const root = join(__dirname, '..', '..', '..');
const SESSION = `arn:aws:sts::${ACCOUNT}:assumed-role/Afu9DeployOrchestrator-HandlersUpdateServiceRole/afu9-update-service`;

describe('authorizationRequestsFor', () => {
  it.each(COMMAND_CASES.map((c) => [c.name, c]))('%s', (_name, commandCase) => {
    expect(authorizationRequestsFor(commandCase.command, lookups)).toEqual(commandCase.expected);
  });

  it('recognises a command by its operation schema alone, as a minified bundle carries it', () => {
    // A bundle's own SDK copy: another class, another constructor name, the same schema.
    const bundled = {
      schema: [9, 'com.amazonaws.ecs', 'UpdateService', 0, () => ({}), () => ({})],
      input: { cluster: 'afu9-cluster', service: 'afu9-control-center' },
    };
    expect(authorizationRequestsFor(bundled, lookups)).toEqual([
      expect.objectContaining({ action: 'ecs:UpdateService', resource: SERVICE_ARN }),
    ]);
  });

  it('sends no check for a task token Step Functions cannot decode (it answers InvalidToken)', () => {
    expect(
      authorizationRequestsFor(new SendTaskSuccessCommand({ taskToken: 'garbage', output: '{}' }), lookups),
    ).toEqual([]);
  });

  it('throws for an operation it does not know, naming it', () => {
    expect(() =>
      authorizationRequestsFor(new DeleteServiceCommand({ cluster: 'afu9-cluster', service: 'x' }), lookups),
    ).toThrow(/does not know what AWS authorizes for com\.amazonaws\.ecs DeleteService/);
  });

  it('throws for something that is not an SDK v3 command', () => {
    expect(() => authorizationRequestsFor({ input: {} }, lookups)).toThrow(/no AWS SDK v3 operation schema/);
    expect(() => authorizationRequestsFor(undefined, lookups)).toThrow(UnsupportedCommand);
  });

  it('throws for input fields whose condition keys it does not model', () => {
    const command = new UpdateServiceCommand({
      cluster: 'afu9-cluster',
      service: 'afu9-control-center',
      enableExecuteCommand: true,
    });
    expect(() => authorizationRequestsFor(command, lookups)).toThrow(
      /UpdateService with enableExecuteCommand/,
    );
  });

  it('throws when the resource cannot be told', () => {
    expect(() =>
      authorizationRequestsFor(new UpdateServiceCommand({ service: undefined as never }), lookups),
    ).toThrow(/UpdateService without service/);
  });

  it('defaults the cluster to ECS "default" cluster, as ECS does', () => {
    const [check] = authorizationRequestsFor(new UpdateServiceCommand({ service: 'web' }), lookups);
    expect(check).toMatchObject({
      resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:service/default/web`,
      context: { 'ecs:cluster': `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/default` },
    });
  });

  it('marks KMS checks for the key-policy rule', () => {
    const checks = authorizationRequestsFor(
      new GetSecretValueCommand({ SecretId: 'afu9/database' }),
      lookups,
    );
    expect(checks.map(resourceKindOf)).toEqual(['default', 'kms-key']);
  });
});

function typeScriptFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((name) => {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) return typeScriptFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** Every SDK package the function code imports commands from. */
const SDK_PACKAGES: Readonly<Record<string, Record<string, unknown>>> = {
  '@aws-sdk/client-ecs': ecsSdk,
  '@aws-sdk/client-ecr': ecrSdk,
  '@aws-sdk/client-secrets-manager': secretsManagerSdk,
  '@aws-sdk/client-sns': snsSdk,
  '@aws-sdk/client-ssm': ssmSdk,
  '@aws-sdk/client-s3': s3Sdk,
  '@aws-sdk/client-sfn': sfnSdk,
  '@aws-sdk/client-dynamodb': dynamoDbSdk,
  '@aws-sdk/lib-dynamodb': documentClientSdk,
  '@aws-sdk/client-cloudformation': cloudFormationSdk,
};

/** Commands in lambdas/aws that only the CLI sends, to a real account with a person's credentials. */
const cliOnly: Readonly<Record<string, string>> = {
  DescribeStacksCommand: 'the CLI finds the state machine through the orchestrator stack outputs',
};

describe('command map coverage', () => {
  it('knows what AWS authorizes for every SDK command the Lambdas send', () => {
    // Prepare: every `new XCommand(` in the function code, with the package that exports it.
    const sent = new Map<string, string>();
    for (const file of typeScriptFiles(join(root, 'lambdas'))) {
      for (const match of readFileSync(file, 'utf-8').matchAll(/new\s+([A-Z][A-Za-z0-9]*Command)\s*\(/g)) {
        sent.set(match[1]!, relative(root, file));
      }
    }
    const modules = Object.values(SDK_PACKAGES);

    // Act
    const unknown = [...sent.entries()].flatMap(([name, file]) => {
      if (name in cliOnly) return [];
      const Command = modules.map((m) => m[name]).find((c) => typeof c === 'function') as
        (new (input: object) => unknown) | undefined;
      if (!Command) return [`${name} (${file}): not exported by ${Object.keys(SDK_PACKAGES).join(', ')}`];
      const { namespace, operation } = identifyCommand(new Command({}));
      const prefix = namespace === 'com.amazonaws.sfn' ? 'states' : namespace.replace('com.amazonaws.', '');
      return SUPPORTED_OPERATIONS.includes(`${prefix}:${operation}`) ? [] : [`${name} (${file})`];
    });

    // Assess
    expect(sent.size).toBeGreaterThan(10);
    expect(unknown).toEqual([]);
  });

  it('has a case in the command-map tests for every operation it supports', () => {
    const covered = new Set(
      COMMAND_CASES.map((c) => {
        const { namespace, operation } = identifyCommand(c.command);
        const prefix = namespace === 'com.amazonaws.sfn' ? 'states' : namespace.replace('com.amazonaws.', '');
        return `${prefix}:${operation}`;
      }),
    );
    const untested = SUPPORTED_OPERATIONS.filter((operation) => !covered.has(operation));
    // Supported for completeness, not sent by the Lambdas today; each has a builder shared with a tested one.
    expect(untested.sort()).toEqual(
      [
        'ecr:BatchGetImage',
        'ecr:ListImages',
        'ecs:DeregisterTaskDefinition',
        'ecs:ListTagsForResource',
        'ecs:TagResource',
        'ecs:UntagResource',
        'dynamodb:Scan',
        's3:HeadObject',
        'states:SendTaskFailure',
        'states:SendTaskHeartbeat',
      ].sort(),
    );
  });
});

describe('accessDeniedError', () => {
  const updateService: AuthorizationRequest = {
    action: 'ecs:UpdateService',
    resource: SERVICE_ARN,
    context: { 'ecs:cluster': CLUSTER_ARN },
  };

  it('words an ECS denial as AWS does', () => {
    expect(
      accessDeniedError(
        'com.amazonaws.ecs',
        SESSION,
        updateService,
        'no identity-based policy allows the ecs:UpdateService action',
      ),
    ).toEqual({
      name: 'AccessDeniedException',
      code: 'AccessDeniedException',
      httpStatusCode: 400,
      message:
        `User: ${SESSION} is not authorized to perform: ecs:UpdateService on resource: ${SERVICE_ARN} ` +
        'because no identity-based policy allows the ecs:UpdateService action',
      denied: {
        action: 'ecs:UpdateService',
        resource: SERVICE_ARN,
        reason: 'no identity-based policy allows the ecs:UpdateService action',
      },
    });
  });

  it('says "with an explicit deny" for an explicit deny', () => {
    const error = accessDeniedError(
      'com.amazonaws.ecs',
      SESSION,
      updateService,
      'an explicit deny in an identity-based policy',
    );
    expect(error.message).toMatch(/on resource: \S+ with an explicit deny in an identity-based policy$/);
  });

  it('reports SNS denials as AuthorizationError (403), with the SNS: prefix SNS writes', () => {
    const error = accessDeniedError(
      'com.amazonaws.sns',
      SESSION,
      { action: 'sns:Publish', resource: TOPIC_ARN, context: {} },
      'no identity-based policy allows the sns:Publish action',
    );
    expect(error).toMatchObject({
      name: 'AuthorizationErrorException',
      code: 'AuthorizationError',
      httpStatusCode: 403,
    });
    expect(error.message).toContain(`not authorized to perform: SNS:Publish on resource: ${TOPIC_ARN}`);
  });

  it('reports a KMS denial behind GetSecretValue as Secrets Manager does, keeping the KMS check for the report', () => {
    const decrypt: AuthorizationRequest = { action: 'kms:Decrypt', resource: SECRET_KEY_ARN, context: {} };
    const error = accessDeniedError(
      'com.amazonaws.secretsmanager',
      SESSION,
      decrypt,
      'no identity-based policy allows the kms:Decrypt action',
    );
    expect(error).toMatchObject({
      name: 'AccessDeniedException',
      message: 'Access to KMS is not allowed',
      httpStatusCode: 400,
      denied: { action: 'kms:Decrypt', resource: SECRET_KEY_ARN },
    });
  });

  it('names a secret as the request gave it, as Secrets Manager does, though it authorized the full ARN', () => {
    const [describe] = authorizationRequestsFor(
      new GetSecretValueCommand({ SecretId: 'afu9/github' }),
      lookups,
    );
    const error = accessDeniedError(
      'com.amazonaws.secretsmanager',
      SESSION,
      describe!,
      'no identity-based policy allows the secretsmanager:GetSecretValue action',
    );
    expect(error.message).toContain('secretsmanager:GetSecretValue on resource: afu9/github because');
    expect(error.denied.resource).toMatch(/:secret:afu9\/github-Ab12Cd$/);
  });

  it('reports S3 denials as AccessDenied (403)', () => {
    const error = accessDeniedError(
      'com.amazonaws.s3',
      SESSION,
      { action: 's3:GetObject', resource: 'arn:aws:s3:::afu9-diffs/diffs/x.txt', context: {} },
      'no identity-based policy allows the s3:GetObject action',
    );
    expect(error).toMatchObject({ name: 'AccessDenied', httpStatusCode: 403 });
    expect(error.message).toContain('on resource: "arn:aws:s3:::afu9-diffs/diffs/x.txt" because');
  });

  it('throws for a service whose AccessDenied it does not know', () => {
    expect(() => accessDeniedError('com.amazonaws.lambda', SESSION, updateService, 'x')).toThrow(
      UnsupportedCommand,
    );
  });

  /** The SDK, given AWS's wire response for the error, raises an error of the same name and status. */
  describe('as the real SDK deserializes it from the wire', () => {
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
    const answering = (status: number, contentType: string, body: string) => ({
      handle: async () => ({
        response: {
          statusCode: status,
          headers: { 'content-type': contentType },
          body: Readable.from([Buffer.from(body)]),
        },
      }),
    });
    const json = (error: AccessDeniedError) =>
      answering(
        error.httpStatusCode,
        'application/x-amz-json-1.1',
        JSON.stringify({ __type: error.code, message: error.message }),
      );
    const xml = (error: AccessDeniedError, query: boolean) =>
      answering(
        error.httpStatusCode,
        'text/xml',
        query
          ? `<ErrorResponse><Error><Type>Sender</Type><Code>${error.code}</Code><Message>${error.message}</Message></Error><RequestId>r</RequestId></ErrorResponse>`
          : `<Error><Code>${error.code}</Code><Message>${error.message.replace(/"/g, '&quot;')}</Message><RequestId>r</RequestId></Error>`,
      );
    const caught = async (send: () => Promise<unknown>) => {
      try {
        await send();
      } catch (error) {
        return error as { name: string; message: string; $metadata: { httpStatusCode: number } };
      }
      throw new Error('the call did not fail');
    };
    const denial = (namespace: string, request: AuthorizationRequest) =>
      accessDeniedError(
        namespace,
        SESSION,
        request,
        `no identity-based policy allows the ${request.action} action`,
      );

    it.each([
      [
        'ECS',
        denial('com.amazonaws.ecs', updateService),
        (e: AccessDeniedError) =>
          new ECSClient({ region: REGION, credentials, requestHandler: json(e) }).send(
            new UpdateServiceCommand({ cluster: 'afu9-cluster', service: 'afu9-control-center' }),
          ),
      ],
      [
        'Secrets Manager',
        denial('com.amazonaws.secretsmanager', {
          action: 'kms:Decrypt',
          resource: SECRET_KEY_ARN,
          context: {},
        }),
        (e: AccessDeniedError) =>
          new SecretsManagerClient({ region: REGION, credentials, requestHandler: json(e) }).send(
            new GetSecretValueCommand({ SecretId: DATABASE_SECRET_ARN }),
          ),
      ],
      [
        'DynamoDB',
        denial('com.amazonaws.dynamodb', {
          action: 'dynamodb:GetItem',
          resource: 'arn:aws:dynamodb:x',
          context: {},
        }),
        (e: AccessDeniedError) =>
          new DynamoDBClient({ region: REGION, credentials, requestHandler: json(e) }).send(
            new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } }),
          ),
      ],
      [
        'SNS',
        denial('com.amazonaws.sns', { action: 'sns:Publish', resource: TOPIC_ARN, context: {} }),
        (e: AccessDeniedError) =>
          new SNSClient({ region: REGION, credentials, requestHandler: xml(e, true) }).send(
            new PublishCommand({ TopicArn: TOPIC_ARN, Message: 'm' }),
          ),
      ],
      [
        'S3',
        denial('com.amazonaws.s3', { action: 's3:GetObject', resource: 'arn:aws:s3:::b/k', context: {} }),
        (e: AccessDeniedError) =>
          new S3Client({ region: REGION, credentials, requestHandler: xml(e, false) }).send(
            new GetObjectCommand({ Bucket: 'b', Key: 'k' }),
          ),
      ],
    ])('%s', async (_service, error, send) => {
      const raised = await caught(() => send(error));
      expect(raised.name).toBe(error.name);
      expect(raised.message).toBe(error.message);
      expect(raised.$metadata.httpStatusCode).toBe(error.httpStatusCode);
    });
  });
});
