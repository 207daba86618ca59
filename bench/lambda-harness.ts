/**
 * Runs in a fresh Node process (bundled by bench/lambdas.ts, so no loader hooks touch the bundle
 * under test): opens a simulated account, prepares the world the sample event expects, then times
 * `require(<Lambda bundle>)`, `create<Name>Handler(deps)` and one request. Prints one
 * `BENCH_RESULT <json>` line on stdout.
 *
 * The bundle carries its own copy of the AWS SDK, while the simulated account answers the
 * harness's command classes; `sendThroughAccount` rebuilds each command from its operation name
 * (kept in the command's schema, which minification does not touch) with the same input.
 */
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import * as cloudformation from '@aws-sdk/client-cloudformation';
import * as ecs from '@aws-sdk/client-ecs';
import * as ecr from '@aws-sdk/client-ecr';
import * as s3 from '@aws-sdk/client-s3';
import * as secretsManager from '@aws-sdk/client-secrets-manager';
import * as sfn from '@aws-sdk/client-sfn';
import * as sns from '@aws-sdk/client-sns';
import * as ssm from '@aws-sdk/client-ssm';
import * as dynamodb from '@aws-sdk/lib-dynamodb';
import { loadDeployConfig } from '../infra/deploy-config-file';
import { recordPendingApproval } from '../lambdas/aws/approvals';
import type { AwsClients } from '../lambdas/aws/clients';
import { pendingApproval } from '../lambdas/domain/approval';
import { deploymentRecordKeyOf, LedgerKeys } from '../lambdas/domain/ledger';
import type { DeploymentRequest } from '../lambdas/domain/workflow-state';
import type { HandlerDeps } from '../lambdas/handlers/runtime';
import type { BusEvent } from '../sandbox/account/simulated-account';
import { readStackAssembly } from '../sandbox/assembly/cloud-assembly';
import { CapturingLogger } from '../sandbox/run/capturing-logger';
import { openSandboxAccount, type SandboxAccount } from '../sandbox/run/account-port';
import { sandboxEnvironments } from '../sandbox/run/handlers';

/** What bench/lambdas.ts hands the harness (as a JSON file). */
export interface HarnessJob {
  readonly name: string;
  readonly bundlePath: string;
  readonly factoryName: string;
  /** The handler's event as a sandbox run of the real workflow passed it. */
  readonly event: unknown;
  /** The start input of that run: which images exist in ECR. */
  readonly startInput: { readonly environment: string; readonly imageTag: string };
  /** The `cdk diff` text the diff job wrote (analyze-diff reads it from S3). */
  readonly diffText: string;
  /** The stack the sample runs rehearsed under: its resources are created in the harness's account. */
  readonly templatePath: string;
  /** The deployment configuration file the stack was synthesized from: the account holds its environments. */
  readonly configPath: string;
}

export interface HarnessResult {
  readonly initMs: number;
  readonly ok: boolean;
  readonly summary: string;
}

type CommandNamespace = Readonly<Record<string, unknown>>;
type CommandClass = new (input: unknown) => unknown;

const namespaces: Readonly<Record<keyof AwsClients, CommandNamespace>> = {
  ecs,
  ecr,
  s3,
  secretsManager,
  sfn,
  sns,
  dynamodb,
  ssm,
  cloudformation,
};

function operationName(schema: unknown): string | undefined {
  if (Array.isArray(schema) && typeof schema[2] === 'string') return schema[2];
  const name = (schema as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** `GetItem` → `GetCommand`, `TransactWriteItems` → `TransactWriteCommand` (lib-dynamodb's names). */
function commandClassName(
  client: keyof AwsClients,
  command: { schema?: unknown; clientCommand?: { schema?: unknown } },
): string {
  if (client === 'dynamodb') {
    const operation = operationName(command.clientCommand?.schema);
    if (operation) return `${operation.replace(/Items?$/, '')}Command`;
  }
  const operation = operationName(command.schema);
  if (!operation) {
    throw new Error(
      `The bundle sent a ${client} command without an operation schema; the AWS SDK's command layout changed. ` +
        'Update sendThroughAccount in bench/lambda-harness.ts.',
    );
  }
  return `${operation}Command`;
}

function sendThroughAccount(clients: AwsClients): AwsClients {
  const adapted = {} as Record<keyof AwsClients, { send: (command: never) => Promise<unknown> }>;
  for (const client of Object.keys(clients) as (keyof AwsClients)[]) {
    adapted[client] = {
      send: (command: never) => {
        const bundled = command as {
          input?: unknown;
          schema?: unknown;
          clientCommand?: { schema?: unknown };
        };
        const className = commandClassName(client, bundled);
        const Local = namespaces[client][className] as CommandClass | undefined;
        if (!Local) throw new Error(`The harness has no ${client} command ${className}.`);
        return (clients[client] as { send: (command: unknown) => Promise<unknown> }).send(
          new Local(bundled.input),
        );
      },
    };
  }
  return adapted as unknown as AwsClients;
}

/** Advances virtual time until `done` holds (ECS rolls out on the account's clock). */
function advanceUntil(sandbox: SandboxAccount, done: () => boolean, what: string): void {
  const { clock } = sandbox.account;
  while (!done()) {
    const next = clock.nextDueAt();
    if (next === undefined) throw new Error(`The simulated account went idle before ${what}.`);
    clock.advanceTo(next);
  }
}

function deployNewRevision(
  sandbox: SandboxAccount,
  imageTag: string,
): {
  taskDefinitionArn: string;
  deploymentId: string;
  previous: string;
} {
  const previous = sandbox.account.ecs.primaryTaskDefinition('staging');
  const deployed = sandbox.account.ecs.deployImage({ environment: 'staging', imageTag });
  return { ...deployed, previous };
}

type Json = Record<string, unknown>;

/** Makes the account look as it did when the workflow sent this event, and patches the ids that differ. */
async function prepare(sandbox: SandboxAccount, job: HarnessJob): Promise<unknown> {
  const event = structuredClone(job.event) as Json;
  sandbox.provideRequestedImages(job.startInput);
  switch (job.name) {
    case 'update-service': {
      // The deployment record ResolveRequest wrote: UpdateService records its revision on it.
      const key = deploymentRecordKeyOf(event.request as DeploymentRequest, String(event.executionId));
      if (!key) throw new Error('The update-service sample request carries no startedAt.');
      await sandbox.account.clients.dynamodb.send(
        new dynamodb.PutCommand({
          TableName: sandbox.resources.tableName,
          Item: { ...LedgerKeys.deployment(key.environment, key.startedAt, key.deploymentId), ...key },
        }),
      );
      return event;
    }
    case 'analyze-diff':
      sandbox.account.s3.putObject(String(event.bucket), String(event.key), job.diffText);
      return event;
    case 'register-wait':
    case 'request-approval':
      return { ...event, taskToken: sandbox.issueTaskToken() };
    // Both decide (or expire) the approval RequestApproval recorded: it must be pending here.
    case 'expire-approval':
      await pendingApprovalFor(sandbox, String(event.executionId));
      return event;
    case 'decide-approval': {
      const body = JSON.parse(String(event.body)) as { executionArn: string };
      await pendingApprovalFor(sandbox, body.executionArn);
      return event;
    }
    case 'poll-stabilization': {
      const deployed = deployNewRevision(sandbox, job.startInput.imageTag);
      const target = event.target as Json;
      return {
        ...event,
        target: {
          ...target,
          deploymentId: deployed.deploymentId,
          taskDefinitionArn: deployed.taskDefinitionArn,
          previousTaskDefinitionArn: deployed.previous,
        },
      };
    }
    case 'smoke-test': {
      deployNewRevision(sandbox, job.startInput.imageTag);
      advanceUntil(
        sandbox,
        () => sandbox.account.ecs.servingRevision('staging')?.version === job.startInput.imageTag,
        'the new revision served traffic',
      );
      return event;
    }
    // Notify publishes the images of the revision the state names as live: it must exist here.
    case 'notify':
    case 'rollback': {
      const deployed = deployNewRevision(sandbox, job.startInput.imageTag);
      const state = event.state as Json;
      return {
        ...event,
        state: {
          ...state,
          update: {
            ...(state.update as Json),
            deploymentId: deployed.deploymentId,
            taskDefinitionArn: deployed.taskDefinitionArn,
            previousTaskDefinitionArn: deployed.previous,
          },
        },
      };
    }
    case 'deployment-event': {
      const deployed = deployNewRevision(sandbox, job.startInput.imageTag);
      const completed = (): BusEvent | undefined =>
        sandbox.account.bus.history.find(
          (candidate) =>
            candidate.detail.eventName === 'SERVICE_DEPLOYMENT_COMPLETED' &&
            candidate.detail.deploymentId === deployed.deploymentId,
        );
      advanceUntil(sandbox, () => completed() !== undefined, 'the deployment completed');
      return completed();
    }
    case 'watch-stack': {
      const environment = sandbox.account.environments[job.startInput.environment]!;
      const stackName = environment.infrastructure?.stacks[0]?.name;
      if (!stackName) throw new Error(`${environment.name} configures no infrastructure stack to watch.`);
      return {
        phase: 'baseline',
        executionId: 'bench',
        stackName,
        request: {
          environment: environment.name,
          clusterName: environment.clusterName,
          serviceName: environment.serviceName,
        },
      };
    }
    default:
      return event;
  }
}

/** A pending approval of the image release for `executionArn`, with a token the account issued. */
async function pendingApprovalFor(sandbox: SandboxAccount, executionArn: string): Promise<void> {
  const record = pendingApproval({
    executionArn,
    environment: 'staging',
    subject: { kind: 'image-release' },
    findings: {
      verdict: 'BLOCKED',
      stacks: [],
      counts: { blocking: 0, warnings: 0, safe: 0 },
      blocking: [],
      warnings: [],
      message: 'BLOCKED: the sample approval of the bench',
    },
    expiresAfterSeconds: 86_400,
    now: sandbox.account.clock.now(),
  });
  await recordPendingApproval(
    sendThroughAccount(sandbox.account.clients),
    { tableName: sandbox.resources.tableName, retentionDays: 1 },
    record,
    sandbox.issueTaskToken(),
  );
}

async function main(): Promise<void> {
  const jobFile = process.argv[2];
  if (!jobFile) throw new Error('Usage: node lambda-harness.js <job.json>');
  const job = JSON.parse(readFileSync(jobFile, 'utf8')) as HarnessJob;
  const sandbox = await openSandboxAccount(
    { diffFixture: 'ecs-new-image.txt' },
    {
      assembly: readStackAssembly(job.templatePath),
      environments: loadDeployConfig(job.configPath).environments,
    },
  );
  try {
    const { account } = sandbox;
    const event = await prepare(sandbox, job);
    const logLines: string[] = [];
    const deps: HandlerDeps = {
      clients: sendThroughAccount(account.clients),
      environments: sandboxEnvironments(account),
      settings: {
        topicArn: sandbox.resources.topicArn,
        tableName: sandbox.resources.tableName,
        region: account.region,
      },
      logger: new CapturingLogger(logLines, { serviceName: job.name }),
      now: () => account.clock.now(),
      sleep: account.clock.sleep,
      fetch: globalThis.fetch,
    };

    const started = performance.now();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- loading the bundle IS the measurement
    const bundle = require(job.bundlePath) as Record<string, unknown>;
    const factory = bundle[job.factoryName] as (deps: HandlerDeps) => (event: unknown) => Promise<unknown>;
    let ok = true;
    let output: unknown;
    try {
      output = await factory(deps)(event);
    } catch (error) {
      ok = false;
      output = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    }
    const initMs = performance.now() - started;

    const summary = JSON.stringify(output ?? null).slice(0, 200);
    const result: HarnessResult = { initMs, ok, summary };
    process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
  } finally {
    await sandbox.account.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
