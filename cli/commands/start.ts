/**
 * `afu9-deploy start`: judges the request by the ResolveRequest rules, then starts a deployment on
 * the real orchestrator with a deterministic execution name and (with --follow) shows its progress
 * until it ends; or, with --dry-run, checks everything the orchestrator would check and changes
 * nothing. The exit code says the outcome.
 */
import { ExecutionAlreadyStarted, startExecution } from '../../lambdas/aws/step-functions';
import type { StartDeploymentInput } from '../../lambdas/domain/workflow-state';
import {
  awsFlags,
  awsFlagsUsage,
  configFlag,
  configFlagUsage,
  configFlags,
  environmentFlag,
  parseFlags,
} from '../args';
import {
  awsTargetFrom,
  realAwsDeps,
  resolveStateMachineArn,
  type AwsTarget,
  type CliAwsDeps,
} from '../aws-context';
import { exitOnAwsFailure } from '../aws-failure';
import { ExitCode, paintFor, UsageError, USAGE_ERROR_EXIT, type CliCommand, type CliIo } from '../command';
import { dryRun, refusedDryRun } from '../dry-run';
import { exitCodeFor, followExecution } from '../execution-progress';
import { checkRequest } from '../request-check';

const usage = `Usage: afu9-deploy start --env <environment> (--image-tag <tag> | --image-digest <sha256:...>) [options]
       afu9-deploy start --env <environment> --infrastructure --stacks <stack,stack,...|all> [options]

Starts a deployment through the orchestrator's state machine in your AWS account. The request is first
judged by the orchestrator's own rules (environment, tag prefix, production flag, ...), before any AWS call.

Options:
  --env <name>              staging | production (required)
  --image-tag <tag>         tag of the primary container's image, e.g. stage-3f9c2ab
  --image-digest <digest>   digest of the primary container's image (sha256:...); exclusive with --image-tag
  --image <container=ref>   another container's image by tag or digest (repeatable)
  --infrastructure          an infrastructure release: deploy the environment's configured stacks, each
                            gated, in dependency order (docs/infrastructure-releases.md); takes no image
  --stacks <names|all>      with --infrastructure: comma-separated stack names, or all (every stack that is
                            not optional)
  --allow-production        required for --env production
  --redeploy                deploy an image again that was already deployed
  --requested-by <who>      defaults to $USER
  --follow                  show progress until the deployment ends; exit 0 deployed, 1 otherwise
  --dry-run                 change nothing: resolve the request, find the state machine, verify every
                            secret, key and image (as verify-secrets), judge --diff-file; ends with
                            DRY RUN OK or DRY RUN REFUSED and the reasons
  --diff-file <path>        with --dry-run: a saved \`cdk diff\` output for the diff gate to judge
  --json                    print {"executionArn","name"} (and "status" with --follow) as JSON on stdout;
                            with --dry-run, the dry run's document (docs/json-outputs.md)
  --state-machine-arn <arn> defaults to $AFU9_STATE_MACHINE_ARN, then the Afu9DeployOrchestrator stack output
${configFlagUsage}
${awsFlagsUsage}

Exit codes: 0 started (deployed, with --follow; DRY RUN OK, with --dry-run), 1 refused by the request rules,
started before, failed (with --follow) or DRY RUN REFUSED, 2 usage error, 3 AWS unreachable or credentials
missing, expired or denied.`;

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

function parseStartFlags(argv: readonly string[], env: NodeJS.ProcessEnv) {
  const { values } = parseFlags(argv, {
    env: { type: 'string' },
    'image-tag': { type: 'string' },
    'image-digest': { type: 'string' },
    image: { type: 'string', multiple: true },
    infrastructure: { type: 'boolean' },
    stacks: { type: 'string' },
    'skip-diff-gate': { type: 'boolean' },
    reason: { type: 'string' },
    'allow-production': { type: 'boolean' },
    redeploy: { type: 'boolean' },
    'requested-by': { type: 'string' },
    follow: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    'diff-file': { type: 'string' },
    json: { type: 'boolean' },
    'state-machine-arn': { type: 'string' },
    ...configFlags,
    ...awsFlags,
  });
  const config = configFlag(values.config);
  const { name: environment, region } = environmentFlag(values.env, config);
  if (values.infrastructure) return infrastructureInput(values, environment, region, config, env);
  if (values.stacks !== undefined) {
    throw new UsageError('--stacks names the stacks of an infrastructure release: add --infrastructure.');
  }
  if (values['image-tag'] && values['image-digest']) {
    throw new UsageError(
      'Give either --image-tag or --image-digest, not both: they could name different images.',
    );
  }
  if (!values['image-tag'] && !values['image-digest']) {
    throw new UsageError('Name the image to deploy with --image-tag <tag> or --image-digest <sha256:...>.');
  }
  if (values['skip-diff-gate'] || values.reason !== undefined) {
    // Kept as flags only to say what replaced them: a recorded approval names the person.
    throw new UsageError(
      '--skip-diff-gate and --reason are gone: a held diff now pauses the deployment for a recorded approval. ' +
        'Start without them; when the diff gate holds the deployment, run afu9-deploy approve <execution> --reason "..." ' +
        '(docs/approvals.md).',
    );
  }
  if (values['diff-file'] !== undefined && !values['dry-run']) {
    throw new UsageError(
      '--diff-file is judged by --dry-run only (a real start runs cdk diff in the orchestrator). Add --dry-run.',
    );
  }
  if (values['dry-run'] && values.follow) {
    throw new UsageError('--dry-run starts nothing, so there is nothing to --follow. Give one of them.');
  }
  const images = parseImages(values.image);
  const input: StartDeploymentInput = {
    environment,
    ...(values['image-tag'] && { imageTag: values['image-tag'] }),
    ...(values['image-digest'] && { imageDigest: values['image-digest'] }),
    ...(images && { images }),
    ...(values['allow-production'] && { allowProduction: true }),
    ...(values.redeploy && { redeploy: true }),
    requestedBy: values['requested-by'] ?? env.USER ?? 'afu9-deploy',
  };
  // Without --region, the region the environment (and so the orchestrator) lives in.
  return { input, values: { ...values, region: values.region ?? region }, config };
}

type StartFlags = ReturnType<typeof parseFlags>['values'] & {
  readonly stacks?: string;
  readonly 'requested-by'?: string;
  readonly 'allow-production'?: boolean;
};

/** `--infrastructure --stacks a,b|all`: conflicting image flags are refused before anything else. */
function infrastructureInput<V extends StartFlags>(
  values: V,
  environment: string,
  region: string,
  config: ReturnType<typeof configFlag>,
  env: NodeJS.ProcessEnv,
) {
  const imageFlags = ['image-tag', 'image-digest', 'image', 'skip-diff-gate', 'redeploy', 'diff-file'].filter(
    (flag) => values[flag as keyof V] !== undefined,
  );
  if (imageFlags.length > 0) {
    throw new UsageError(
      `An infrastructure release deploys stacks, not images: remove ${imageFlags.map((flag) => `--${flag}`).join(', ')}.`,
    );
  }
  const stacks = values.stacks?.trim();
  if (!stacks) {
    throw new UsageError('--infrastructure needs --stacks <stack,stack,...> or --stacks all.');
  }
  const input: StartDeploymentInput = {
    environment,
    action: 'infrastructure',
    stacks: stacks === 'all' ? 'all' : stacks.split(',').map((name) => name.trim()),
    ...(values['allow-production'] && { allowProduction: true }),
    requestedBy: values['requested-by'] ?? env.USER ?? 'afu9-deploy',
  };
  return { input, values: { ...values, region: values.region ?? region }, config };
}

/** What an infrastructure release's dry run can say without AWS: the request accepted and its order. */
function infrastructureDryRun(io: CliIo, stacks: readonly string[], json: boolean): number {
  if (json) io.stdout(JSON.stringify({ outcome: 'DRY RUN OK', stacks }) + '\n');
  io.stderr(
    `Stacks, in the order the release deploys them (each synthesized, diffed and gated first):\n` +
      stacks.map((name, index) => `  ${index + 1}. ${name}\n`).join('') +
      "DRY RUN OK: the request is accepted. Each stack's diff is judged by the orchestrator when it runs.\n",
  );
  return ExitCode.ok;
}

export interface StartOptions {
  readonly follow?: boolean;
  readonly json?: boolean;
  readonly target: AwsTarget;
  readonly stateMachineArn?: string;
}

/** Starts `input` and, when asked, follows it; shared by `start` and `rollback`. */
export async function startAndMaybeFollow(
  deps: CliAwsDeps,
  io: CliIo,
  input: StartDeploymentInput,
  name: string,
  options: StartOptions,
): Promise<number> {
  const stateMachineArn = await resolveStateMachineArn(deps, options.target, options.stateMachineArn, io.env);
  const clients = deps.clients(options.target);
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
    return ExitCode.failed;
  }
  if (!options.follow) {
    if (options.json) io.stdout(JSON.stringify({ executionArn, name }) + '\n');
    return ExitCode.ok;
  }
  const finished = await followExecution(clients, executionArn, {
    pollMs: FOLLOW_POLL_MS,
    sleep: deps.sleep,
    print: (line) => io.stderr(line + '\n'),
  });
  const colours = paintFor(io, 'stderr');
  const colour = finished.status === 'SUCCEEDED' ? colours.green : colours.red;
  io.stderr(
    `Execution ${colour(finished.status ?? 'UNKNOWN')}` +
      `${finished.error ? `: ${finished.error} ${finished.cause ?? ''}` : ''}\n`,
  );
  if (options.json) io.stdout(JSON.stringify({ executionArn, name, status: finished.status }) + '\n');
  return exitCodeFor(finished.status);
}

/** A request the ResolveRequest rules refuse: said before any AWS call, exit 1 as the orchestrator would end. */
export function reportRefusal(io: CliIo, command: string, reason: string, json: boolean): number {
  if (json) io.stdout(JSON.stringify({ outcome: 'REFUSED', reason }) + '\n');
  io.stderr(`afu9-deploy ${command}: refused, nothing was started: ${reason}\n`);
  return ExitCode.failed;
}

export function createStartCommand(deps: CliAwsDeps): CliCommand {
  return {
    name: 'start',
    summary:
      'start a deployment on the real orchestrator (AWS), optionally following it; --dry-run checks only',
    usage,
    readsConfiguration: () => true,
    async run(argv, io) {
      let parsed: ReturnType<typeof parseStartFlags>;
      try {
        parsed = parseStartFlags(argv, io.env);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.stderr(`afu9-deploy start: ${error.message}\n\n${usage}\n`);
        return USAGE_ERROR_EXIT;
      }
      const { input, values, config } = parsed;
      const check = checkRequest(input, config.environments, deps.now());
      if (check.status === 'refused') {
        if (values['dry-run']) {
          const { executionName, reason } = check;
          return refusedDryRun(io, { input, executionName, reason, json: values.json === true });
        }
        return reportRefusal(io, 'start', check.reason, values.json === true);
      }
      if (values['dry-run'] && check.request.kind === 'infrastructure') {
        return infrastructureDryRun(io, check.request.stacks ?? [], values.json === true);
      }
      const target = awsTargetFrom(values, io.env);
      return exitOnAwsFailure(io, { command: 'start', json: values.json }, target, async () => {
        if (!values['dry-run']) {
          return startAndMaybeFollow(deps, io, input, check.executionName, {
            follow: values.follow,
            json: values.json,
            target,
            stateMachineArn: values['state-machine-arn'],
          });
        }
        try {
          return await dryRun(deps, io, {
            request: check.request,
            environments: config.environments,
            executionName: check.executionName,
            target,
            json: values.json === true,
            ...(values['diff-file'] !== undefined && { diffFile: values['diff-file'] }),
            ...(values['state-machine-arn'] !== undefined && {
              stateMachineArn: values['state-machine-arn'],
            }),
          });
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
          io.stderr(`afu9-deploy start: ${error.message}\n`);
          return USAGE_ERROR_EXIT;
        }
      });
    },
  };
}

export const startCommand = createStartCommand(realAwsDeps);
