/**
 * One Lambda function per handler file, each with its own role (no AWS managed policy: it may only
 * write to its own log group, plus what the stack grants it on purpose) and its own log group.
 */
import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SettingVariables } from '../lambdas/handlers/runtime';
import type { DeployConfig } from '../lambdas/domain/deploy-config';
import { bundlingWithConfig } from './handler-bundling';
import { acknowledgeWildcardResource } from './nag';

/** The handler files under `lambdas/handlers/`, one function each. */
export const HandlerName = {
  resolveRequest: 'resolve-request',
  analyzeDiff: 'analyze-diff',
  verifySecrets: 'verify-secrets',
  updateService: 'update-service',
  registerWait: 'register-wait',
  pollStabilization: 'poll-stabilization',
  smokeTest: 'smoke-test',
  rollback: 'rollback',
  notify: 'notify',
  /** RequestApproval: records a held diff's pending approval with its task token, tells people. */
  requestApproval: 'request-approval',
  /** ExpireApproval: records an approval nobody decided in time as expired. */
  expireApproval: 'expire-approval',
  /** BaselineStack and WatchStack of an infrastructure release. */
  watchStack: 'watch-stack',
  /** Not a state: the EventBridge target that wakes a waiting execution. */
  deploymentEvent: 'deployment-event',
  /** Not a state: behind the IAM-authenticated function URL, records a person's approve/deny. */
  decideApproval: 'decide-approval',
} as const;
export type HandlerName = (typeof HandlerName)[keyof typeof HandlerName];

const repositoryRoot = path.join(__dirname, '..');

export function handlerEntry(name: HandlerName): string {
  return path.join(repositoryRoot, 'lambdas', 'handlers', `${name}.ts`);
}

interface FunctionSizing {
  readonly timeout: Duration;
  readonly memorySize: number;
}

export interface HandlerFunctionsProps {
  /** Published to by `notify` (`TOPIC_ARN`). */
  readonly topicArn: string;
  /** Wait records and the deployment ledger (`DEPLOYMENT_TABLE`). */
  readonly tableName: string;
  /**
   * How long the smoke test may keep retrying while new tasks warm up, in seconds: the longest
   * `smoke.warmUpSeconds` of any environment. The function's timeout is this plus a margin.
   */
  readonly smokeWarmUpSeconds: number;
  /** The deployment configuration bundled into every function. */
  readonly config: DeployConfig;
  readonly logRetention: logs.RetentionDays;
  /** Days the ledger keeps a deployment record (`LEDGER_RETENTION_DAYS`). */
  readonly ledgerRetentionDays: number;
}

/**
 * Sizes per function. Most handlers make a handful of AWS calls with the SDK's own retries, so 30 s
 * covers throttling back-off several times over; the ones that page through ECS or read a large
 * diff get more.
 */
function sizingFor(name: HandlerName, smokeWarmUpSeconds: number): FunctionSizing {
  switch (name) {
    case HandlerName.analyzeDiff:
      // Parses the whole `cdk diff` text of the target app; memory buys CPU on Lambda.
      return { timeout: Duration.seconds(60), memorySize: 1024 };
    case HandlerName.smokeTest:
      // Retries while the new tasks warm up, then one last round of requests.
      return { timeout: Duration.seconds(smokeWarmUpSeconds + 60), memorySize: 256 };
    case HandlerName.updateService:
    case HandlerName.rollback:
    case HandlerName.pollStabilization:
    case HandlerName.verifySecrets:
      return { timeout: Duration.seconds(60), memorySize: 512 };
    case HandlerName.watchStack:
      // Looks at the stack every 15 s for up to 45 s while CloudFormation works, then returns.
      return { timeout: Duration.seconds(60), memorySize: 256 };
    default:
      return { timeout: Duration.seconds(30), memorySize: 256 };
  }
}

export class HandlerFunctions extends Construct {
  private readonly functions = new Map<HandlerName, NodejsFunction>();

  constructor(scope: Construct, id: string, props: HandlerFunctionsProps) {
    super(scope, id);
    for (const name of Object.values(HandlerName)) {
      this.functions.set(name, this.createFunction(name, props));
    }
  }

  get(name: HandlerName): NodejsFunction {
    const fn = this.functions.get(name);
    if (!fn) {
      throw new Error(
        `No function for handler "${name}". Known handlers: ${[...this.functions.keys()].join(', ')}.`,
      );
    }
    return fn;
  }

  all(): NodejsFunction[] {
    return [...this.functions.values()];
  }

  private createFunction(name: HandlerName, props: HandlerFunctionsProps): NodejsFunction {
    const id = toPascalCase(name);
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `AFU-9 orchestrator ${name} function`,
    });
    logGroup.grantWrite(role);
    acknowledgeWildcardResource(
      role,
      '*',
      'Active X-Ray tracing: xray:PutTraceSegments and xray:PutTelemetryRecords have no resource-level permissions.',
    );

    const { timeout, memorySize } = sizingFor(name, props.smokeWarmUpSeconds);
    return new NodejsFunction(this, id, {
      entry: handlerEntry(name),
      handler: 'handler',
      projectRoot: repositoryRoot,
      depsLockFilePath: path.join(repositoryRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      timeout,
      memorySize,
      role,
      logGroup,
      tracing: lambda.Tracing.ACTIVE,
      environment: {
        [SettingVariables.topicArn]: props.topicArn,
        [SettingVariables.tableName]: props.tableName,
        [SettingVariables.ledgerRetentionDays]: String(props.ledgerRetentionDays),
        POWERTOOLS_SERVICE_NAME: name,
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: bundlingWithConfig(props.config),
    });
  }
}

function toPascalCase(kebab: string): string {
  return kebab
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
