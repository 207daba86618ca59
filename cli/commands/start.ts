/**
 * `afu9-deploy start`: starts a deployment on the real orchestrator with a deterministic execution
 * name, then (with --follow) shows its progress until it ends. The exit code says the outcome.
 */
import { parseArgs } from 'node:util';
import { ExecutionAlreadyStarted, startExecution } from '../../lambdas/aws/step-functions';
import { executionNameFor } from '../../lambdas/domain/execution-name';
import type { StartDeploymentInput } from '../../lambdas/domain/workflow-state';
import { realAwsDeps, regionFrom, resolveStateMachineArn, type CliAwsDeps } from '../aws-context';
import { UsageError, USAGE_ERROR_EXIT, type CliCommand, type CliIo } from '../command';
import { exitCodeFor, followExecution } from '../execution-progress';

const usage = `Usage: afu9-deploy start --env <environment> (--image-tag <tag> | --image-digest <sha256:...>) [options]

Starts a deployment through the orchestrator's state machine in your AWS account.

Options:
  --env <name>              staging | production (required)
  --image-tag <tag>         tag of the control-center image, e.g. stage-3f9c2ab
  --image-digest <digest>   digest of the control-center image (sha256:...); exclusive with --image-tag
  --image <container=ref>   another container's image by tag or digest (repeatable)
  --skip-diff-gate          let a BLOCKED diff through; needs --reason
  --reason <text>           why the diff gate is skipped (goes into the notification)
  --allow-production        required for --env production
  --redeploy                deploy an image again that was already deployed
  --requested-by <who>      defaults to $USER
  --follow                  show progress until the deployment ends; exit 0 deployed, 1 otherwise
  --json                    print {"executionArn","name"} (and "status" with --follow) as JSON on stdout
  --state-machine-arn <arn> defaults to $AFU9_STATE_MACHINE_ARN, then the Afu9DeployOrchestrator stack output
  --region <region>         defaults to $AWS_REGION, then eu-central-1

Exit codes: 0 started (or deployed, with --follow), 1 the deployment failed, 2 usage error.`;

const FOLLOW_POLL_MS = 5000;

function parseImages(values: readonly string[] | undefined): Record<string, string> | undefined {
  if (!values?.length) return undefined;
  const images: Record<string, string> = {};
  for (const value of values) {
    const [container, ref] = value.split(/=(.*)/s, 2);
    if (!container || !ref)
      throw new UsageError(`--image takes <container>=<tag or digest>. Received: ${value}`);
    images[container] = ref;
  }
  return images;
}

function buildStartInput(argv: readonly string[], env: NodeJS.ProcessEnv) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      env: { type: 'string' },
      'image-tag': { type: 'string' },
      'image-digest': { type: 'string' },
      image: { type: 'string', multiple: true },
      'skip-diff-gate': { type: 'boolean' },
      reason: { type: 'string' },
      'allow-production': { type: 'boolean' },
      redeploy: { type: 'boolean' },
      'requested-by': { type: 'string' },
      follow: { type: 'boolean' },
      json: { type: 'boolean' },
      'state-machine-arn': { type: 'string' },
      region: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (!values.env) throw new UsageError('--env is required (staging or production).');
  if (values['image-tag'] && values['image-digest']) {
    throw new UsageError(
      'Give either --image-tag or --image-digest, not both: they could name different images.',
    );
  }
  if (!values['image-tag'] && !values['image-digest']) {
    throw new UsageError('Name the image to deploy with --image-tag <tag> or --image-digest <sha256:...>.');
  }
  if (values['skip-diff-gate'] && !values.reason?.trim()) {
    throw new UsageError('--skip-diff-gate needs --reason "<why>": the reason goes into the notification.');
  }
  const input: StartDeploymentInput = {
    environment: values.env,
    ...(values['image-tag'] && { imageTag: values['image-tag'] }),
    ...(values['image-digest'] && { imageDigest: values['image-digest'] }),
    ...(parseImages(values.image) && { images: parseImages(values.image) }),
    ...(values['skip-diff-gate'] && { skipDiffGate: true, reason: values.reason }),
    ...(values['allow-production'] && { allowProduction: true }),
    ...(values.redeploy && { redeploy: true }),
    requestedBy: values['requested-by'] ?? env.USER ?? 'afu9-deploy',
  };
  return { input, values };
}

/** Starts `input` and, when asked, follows it; shared by `start` and `rollback`. */
export async function startAndMaybeFollow(
  deps: CliAwsDeps,
  io: CliIo,
  input: StartDeploymentInput,
  options: { follow?: boolean; json?: boolean; region?: string; stateMachineArn?: string },
): Promise<number> {
  const region = regionFrom(options.region, io.env);
  const stateMachineArn = await resolveStateMachineArn(deps, region, options.stateMachineArn, io.env);
  const clients = deps.clients(region);
  const name = executionNameFor(input, deps.now());
  let executionArn: string;
  try {
    ({ executionArn } = await startExecution(clients, { stateMachineArn, name, input }));
    io.stderr(`Started ${name}\n  ${executionArn}\n`);
  } catch (error) {
    if (!(error instanceof ExecutionAlreadyStarted)) throw error;
    io.stderr(
      `An execution named ${name} already exists: this request was started before.\n` +
        `  ${error.executionArn}\n` +
        'Follow it with `afu9-deploy status ' +
        name +
        '`, or deploy the same image again on purpose with --redeploy.\n',
    );
    return 1;
  }
  if (!options.follow) {
    if (options.json) io.stdout(JSON.stringify({ executionArn, name }) + '\n');
    return 0;
  }
  const finished = await followExecution(clients, executionArn, {
    pollMs: FOLLOW_POLL_MS,
    sleep: deps.sleep,
    print: (line) => io.stderr(line + '\n'),
  });
  io.stderr(
    `Execution ${finished.status}${finished.error ? `: ${finished.error} ${finished.cause ?? ''}` : ''}\n`,
  );
  if (options.json) io.stdout(JSON.stringify({ executionArn, name, status: finished.status }) + '\n');
  return exitCodeFor(finished.status);
}

export function createStartCommand(deps: CliAwsDeps): CliCommand {
  return {
    name: 'start',
    summary: 'start a deployment on the real orchestrator (AWS), optionally following it',
    usage,
    async run(argv, io) {
      let parsed: ReturnType<typeof buildStartInput>;
      try {
        parsed = buildStartInput(argv, io.env);
      } catch (error) {
        io.stderr(`afu9-deploy start: ${(error as Error).message}\n\n${usage}\n`);
        return USAGE_ERROR_EXIT;
      }
      const { input, values } = parsed;
      return startAndMaybeFollow(deps, io, input, {
        follow: values.follow,
        json: values.json,
        region: values.region,
        stateMachineArn: values['state-machine-arn'],
      });
    },
  };
}

export const startCommand = createStartCommand(realAwsDeps);
