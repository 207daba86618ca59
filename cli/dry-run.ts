/**
 * `afu9-deploy start --dry-run`: everything the orchestrator would check before it changes the
 * service, done here and read-only. The request is resolved by the ResolveRequest rules (done by the
 * caller), the state machine is found, every secret, secret key and image is verified as
 * `verify-secrets` does, and a saved `cdk diff` (`--diff-file`) is judged by the diff gate. It ends
 * with `DRY RUN OK` or `DRY RUN REFUSED` and every reason; a request the rules refuse ends there,
 * `DRY RUN REFUSED` with the rules' reason.
 */
import { readFile } from 'node:fs/promises';
import { verifyDeployment } from '../lambdas/aws/deployment-verification';
import { decide, judgeDiffText, type GateDecision } from '../lambdas/domain/cdk-diff';
import { environmentOfRequest } from '../lambdas/domain/environment-lookup';
import type { EnvironmentConfig, Environments } from '../lambdas/domain/environments';
import type {
  DeploymentRequest,
  StartDeploymentInput,
  VerificationCheck,
} from '../lambdas/domain/workflow-state';
import { resolveStateMachineArn, type AwsTarget, type CliAwsDeps } from './aws-context';
import { ExitCode, paintFor, UsageError, type CliIo } from './command';
import { renderVerificationTree } from './commands/verify-secrets';

export interface DryRunRequest {
  readonly request: DeploymentRequest;
  /** The configured environments the request was resolved against. */
  readonly environments: Environments;
  readonly executionName: string;
  readonly target: AwsTarget;
  readonly diffFile?: string;
  readonly stateMachineArn?: string;
  readonly json: boolean;
}

/** Reads the saved diff before anything else, so a wrong path fails fast as a usage error. */
async function readDiff(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const message = (error as { message?: unknown } | null)?.message;
    throw new UsageError(
      `Cannot read --diff-file ${file}: ${typeof message === 'string' ? message : String(error)}. ` +
        'Save the diff with `npx cdk diff <Stack> > diff.txt 2>&1` and pass that file.',
    );
  }
}

/** The gate as AnalyzeDiff decides it: with the skip asked for and the environment's approval policy. */
function gateFor(request: DeploymentRequest, diffText: string, environment: EnvironmentConfig): GateDecision {
  const skip = request.skipDiffGate
    ? { source: '--skip-diff-gate', reason: request.skipReason, reasonRequired: true }
    : undefined;
  return decide(judgeDiffText(diffText), skip, {
    environment: environment.name,
    approval: environment.approval,
  });
}

function refusalReasons(checks: readonly VerificationCheck[], gate: GateDecision | undefined): string[] {
  const reasons = checks
    .filter((check) => check.status === 'NG')
    .map((check) => `${check.subject}: ${check.detail ?? 'NG'}`);
  if (gate && !gate.proceed) {
    const notice = gate.notice ? ` ${gate.notice}` : '';
    reasons.push(`diff gate ${gate.judgement.verdict}: ${gate.judgement.message}${notice}`);
  }
  return reasons;
}

function gateLine(gate: GateDecision | undefined): string {
  if (!gate) {
    return 'diff gate: not judged here (give --diff-file <saved cdk diff>); the orchestrator runs cdk diff itself';
  }
  const { judgement } = gate;
  const counts = `${judgement.blocking.length} blocking, ${judgement.warnings.length} warnings, ${judgement.safe.length} safe`;
  return `diff gate: ${judgement.verdict}${gate.skipped ? ' (skipped with --skip-diff-gate)' : ''} (${counts})`;
}

/** What a refused dry run knows: the request as given and why the ResolveRequest rules refuse it. */
export interface RefusedDryRun {
  readonly input: StartDeploymentInput;
  readonly executionName: string;
  readonly reason: string;
  readonly json: boolean;
}

/**
 * A dry run whose request the ResolveRequest rules refuse: `DRY RUN REFUSED` with the rules' reason,
 * in the same document as any other dry run. Nothing else is checked (and AWS is not called): the
 * orchestrator would end the request there, before it looks at secrets, images or the diff.
 */
export function refusedDryRun(io: CliIo, refused: RefusedDryRun): number {
  const reasons = [`request: ${refused.reason}`];
  if (refused.json) {
    io.stdout(
      JSON.stringify({
        dryRun: true,
        outcome: 'REFUSED',
        executionName: refused.executionName,
        stateMachineArn: null,
        request: null,
        checks: [],
        diffGate: null,
        reasons,
      }) + '\n',
    );
    return ExitCode.failed;
  }
  const { input } = refused;
  const image = input.imageTag ?? input.imageDigest ?? 'no image';
  const colours = paintFor(io, 'stdout');
  const lines = [
    `Dry run: deploy ${image} to ${input.environment}; nothing is changed`,
    'request: refused by the ResolveRequest rules; nothing else was checked and AWS was not called',
    '',
    colours.red('DRY RUN REFUSED: the orchestrator would stop this deployment:'),
    ...reasons.map((reason) => `  - ${reason}`),
  ];
  io.stdout(lines.join('\n') + '\n');
  return ExitCode.failed;
}

export async function dryRun(deps: CliAwsDeps, io: CliIo, options: DryRunRequest): Promise<number> {
  const { request } = options;
  const diffText = options.diffFile === undefined ? undefined : await readDiff(options.diffFile);
  const environment = environmentOfRequest(options.environments, request.environment);
  const stateMachineArn = await resolveStateMachineArn(deps, options.target, options.stateMachineArn, io.env);
  const verification = await verifyDeployment(deps.clients(options.target), {
    target: environment,
    environment,
    images: request.images,
  });
  const gate = diffText === undefined ? undefined : gateFor(request, diffText, environment);
  const reasons = refusalReasons(verification.checks, gate);
  const outcome = reasons.length === 0 ? 'OK' : 'REFUSED';

  if (options.json) {
    io.stdout(
      JSON.stringify({
        dryRun: true,
        outcome,
        executionName: options.executionName,
        stateMachineArn,
        request,
        checks: verification.checks,
        diffGate: gate
          ? { verdict: gate.judgement.verdict, skipped: gate.skipped, message: gate.judgement.message }
          : null,
        reasons,
      }) + '\n',
    );
  } else {
    const colours = paintFor(io, 'stdout');
    const lines = [
      `Dry run: ${request.kind} ${request.version} to ${request.serviceName} in ${request.clusterName} ` +
        `(${request.environment}); nothing is changed`,
      `request: accepted by the ResolveRequest rules; execution name ${options.executionName}`,
      `state machine: ${stateMachineArn}`,
      renderVerificationTree('verification', verification.checks, colours).trimEnd(),
      gateLine(gate),
      '',
      outcome === 'OK'
        ? colours.green(
            `DRY RUN OK: \`afu9-deploy start\` without --dry-run would start ${options.executionName}.`,
          )
        : colours.red(`DRY RUN REFUSED: the orchestrator would stop this deployment:`),
      ...reasons.map((reason) => `  - ${reason}`),
    ];
    io.stdout(lines.join('\n') + '\n');
  }
  return outcome === 'OK' ? ExitCode.ok : ExitCode.failed;
}
