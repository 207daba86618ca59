/**
 * `afu9-deploy history --env <env> [--image <digest|tag>]`: answers from the deployment ledger what is
 * live (the last verified revision), what the recent deployments did, and what happened to one image.
 */
import {
  findImageClaim,
  getDeploymentRecord,
  getLive,
  recentDeployments,
  type ImageClaim,
} from '../../lambdas/aws/ledger';
import type { AwsClients } from '../../lambdas/aws/clients';
import { deploymentIdOf, type DeploymentRecord, type LiveRecord } from '../../lambdas/domain/ledger';
import {
  awsFlags,
  awsFlagsUsage,
  configFlag,
  configFlagUsage,
  configFlags,
  environmentFlag,
  parseFlags,
} from '../args';
import { awsTargetFrom, realAwsDeps, resolveTableName, type CliAwsDeps } from '../aws-context';
import { exitOnAwsFailure } from '../aws-failure';
import { UsageError, USAGE_ERROR_EXIT, type CliCommand, type CliIo } from '../command';

const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
/** How far back `--image` looks for an image the ledger holds no claim for (e.g. a tag of a push claimed by digest). */
const IMAGE_SEARCH_DEPTH = 100;

const usage = `Usage: afu9-deploy history --env <environment> [--image <digest|tag>] [--limit <n>] [--json] [--table <name>] [--profile <p>] [--region <r>]

Answers from the orchestrator's deployment ledger:
  what is live        the revision the last verified deployment or completed rollback left (the last good one)
  what happened       the newest deployments: outcome, version, trigger, task definitions, reasons
  --image <ref>       what happened to one image: which execution claimed it, when, its outcome, and the
                      duplicate triggers that were ignored

Options:
  --env <name>        an environment of the configuration (required)
  --image <ref>       an image digest (sha256:...) or tag (e.g. stage-3f9c2ab)
  --limit <n>         how many deployments to list, 1-${MAX_LIMIT} (default ${DEFAULT_LIMIT})
  --json              print one JSON document on stdout
  --table <name>      defaults to $AFU9_DEPLOYMENT_TABLE, then the Afu9DeployOrchestrator stack output TableName
${configFlagUsage}
${awsFlagsUsage}

Exit codes: 0 answered, 1 the ledger knows nothing of --image (or the table does not exist), 2 usage error,
3 AWS unreachable or credentials missing, expired or denied.`;

interface HistoryOptions {
  readonly environment: string;
  readonly image?: string;
  readonly limit: number;
  readonly json: boolean;
  readonly table?: string;
  readonly region?: string;
  readonly profile?: string;
}

function parseOptions(argv: readonly string[]): HistoryOptions {
  const { values } = parseFlags(argv, {
    env: { type: 'string' },
    image: { type: 'string' },
    limit: { type: 'string' },
    json: { type: 'boolean' },
    table: { type: 'string' },
    ...configFlags,
    ...awsFlags,
  });
  const { name: environment, region } = environmentFlag(values.env, configFlag(values.config));
  const limit = values.limit === undefined ? DEFAULT_LIMIT : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new UsageError(`--limit takes a whole number from 1 to ${MAX_LIMIT}. Received: ${values.limit}`);
  }
  if (values.image !== undefined && !values.image.trim()) {
    throw new UsageError('--image takes a digest (sha256:...) or a tag.');
  }
  return {
    environment,
    ...(values.image !== undefined && { image: values.image.trim() }),
    limit,
    json: values.json === true,
    ...(values.table !== undefined && { table: values.table }),
    // Without --region, the region the environment (and so the orchestrator's table) lives in.
    region: values.region ?? region,
    ...(values.profile !== undefined && { profile: values.profile }),
  };
}

/** `arn:...:task-definition/shop-api:42` → `shop-api:42`. */
function revisionName(arn: string | undefined): string {
  if (!arn) return '?';
  const at = arn.indexOf('task-definition/');
  return at >= 0 ? arn.slice(at + 'task-definition/'.length) : arn;
}

function shortRef(ref: string): string {
  return ref.startsWith('sha256:') ? ref.slice(0, 'sha256:'.length + 12) : ref;
}

function liveLines(environment: string, live: LiveRecord | undefined): string[] {
  if (!live) {
    return [
      `Live: unknown. No deployment or rollback of ${environment} has been verified since the ledger began.`,
    ];
  }
  return [
    `Live (last good): ${revisionName(live.taskDefinitionArn)}` +
      (live.version ? `  version ${shortRef(live.version)}` : '') +
      `  since ${live.since}  (${live.provedBy ?? 'verified'} by ${live.deploymentId})`,
  ];
}

const COLUMN_WIDTHS = [24, 20, 19, 28, 50] as const;

function row(cells: readonly string[]): string {
  return `  ${cells.map((cell, i) => cell.padEnd(COLUMN_WIDTHS[i] ?? 0)).join('  ')}`.trimEnd();
}

const HEADER = row(['STARTED', 'OUTCOME', 'VERSION', 'TRIGGER', 'TASK DEFINITION', 'DEPLOYMENT']);

function recordLines(record: DeploymentRecord): string[] {
  const change =
    record.taskDefinitionBefore || record.taskDefinitionAfter
      ? `${revisionName(record.taskDefinitionBefore)} -> ${revisionName(record.taskDefinitionAfter)}`
      : '';
  const line = row([
    record.startedAt,
    record.outcome ?? 'in-progress',
    shortRef(record.version),
    `${record.trigger} by ${record.requestedBy}`,
    change,
    record.deploymentId,
  ]);
  const failed = record.outcome !== 'succeeded' && record.outcome !== 'in-progress';
  return [
    `  ${line.trimEnd()}`,
    ...(failed ? record.reasons.slice(0, 2).map((reason) => `      ${reason}`) : []),
  ];
}

function claimLines(image: string, claim: ImageClaim): string[] {
  const lines = [`Image ${image}: claimed by ${claim.deploymentId} at ${claim.claimedAt}`];
  if (claim.takenOverFrom) {
    lines.push(
      `  a redeploy on purpose; before, ${claim.takenOverFrom.deploymentId} had it since ${claim.takenOverFrom.claimedAt}`,
    );
  }
  if (claim.duplicates?.length) {
    const names = claim.duplicates.map(deploymentIdOf).join(', ');
    lines.push(
      `  ${claim.duplicates.length} duplicate trigger(s) ignored (${names}), the last at ${claim.lastDuplicateAt ?? '?'}`,
    );
  }
  return lines;
}

function matchesImage(record: DeploymentRecord, image: string): boolean {
  return record.images.some((ref) => ref.digest === image || ref.tag === image);
}

/** The claim of an image (by the exact key it was claimed with) and every record that deployed it. */
async function imageHistory(
  clients: AwsClients,
  table: { tableName: string },
  environment: string,
  image: string,
): Promise<{ claim?: ImageClaim; deployments: DeploymentRecord[] }> {
  const claim = await findImageClaim(clients, table, { environment, imageKey: image });
  const claimed = claim
    ? await getDeploymentRecord(clients, table, { environment, sk: claim.recordSk })
    : undefined;
  const recent = (await recentDeployments(clients, table, environment, IMAGE_SEARCH_DEPTH)).filter((record) =>
    matchesImage(record, image),
  );
  const deployments = [
    ...(claimed ? [claimed] : []),
    ...recent.filter((record) => record.deploymentId !== claimed?.deploymentId),
  ];
  return { ...(claim && { claim }), deployments };
}

async function run(deps: CliAwsDeps, io: CliIo, options: HistoryOptions): Promise<number> {
  const target = awsTargetFrom(options, io.env);
  const tableName = await resolveTableName(deps, target, options.table, io.env);
  const table = { tableName };
  const { environment, image } = options;
  const clients = deps.clients(target);

  if (image !== undefined) {
    const { claim, deployments } = await imageHistory(clients, table, environment, image);
    if (options.json) {
      io.stdout(
        JSON.stringify({ environment, table: tableName, image, claim: claim ?? null, deployments }) + '\n',
      );
    } else if (claim || deployments.length > 0) {
      const lines = [
        ...(claim
          ? claimLines(image, claim)
          : [`Image ${image}: no claim (it was never deployed by that reference)`]),
        ...(deployments.length
          ? ['Deployments of it, newest first:', ...deployments.flatMap(recordLines)]
          : []),
      ];
      io.stdout(lines.join('\n') + '\n');
    }
    if (!claim && deployments.length === 0) {
      io.stderr(
        `The ledger of ${environment} (table ${tableName}) knows no deployment of ${image}: no claim, and none of the ` +
          `newest ${IMAGE_SEARCH_DEPTH} deployments used it. Check the digest or tag (\`aws ecr describe-images\`), ` +
          'and whether its push was refused while another deployment ran (the notification says so).\n',
      );
      return 1;
    }
    return 0;
  }

  const [live, deployments] = await Promise.all([
    getLive(clients, table, environment),
    recentDeployments(clients, table, environment, options.limit),
  ]);
  if (options.json) {
    io.stdout(JSON.stringify({ environment, table: tableName, live: live ?? null, deployments }) + '\n');
    return 0;
  }
  const newest = deployments[0];
  const unsettled =
    newest?.outcome === 'in-progress' || newest?.outcome === 'rollback-failed'
      ? [
          `  Note: the newest deployment ${newest.deploymentId} is ${newest.outcome}; the service ` +
            `may not run the live revision right now (\`afu9-deploy status ${newest.deploymentId}\`).`,
        ]
      : [];
  io.stdout(
    [
      `Deployment ledger of ${environment} (table ${tableName})`,
      ...liveLines(environment, live),
      ...unsettled,
      ...(deployments.length
        ? ['Deployments, newest first:', HEADER, ...deployments.flatMap(recordLines)]
        : ['No deployments recorded.']),
    ].join('\n') + '\n',
  );
  return 0;
}

export function createHistoryCommand(deps: CliAwsDeps): CliCommand {
  return {
    name: 'history',
    summary: 'what is live, the last good revision, and what happened to a deployment or image',
    usage,
    readsConfiguration: () => true,
    async run(argv, io) {
      let options: HistoryOptions;
      try {
        options = parseOptions(argv);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.stderr(`afu9-deploy history: ${error.message}\n\n${usage}\n`);
        return USAGE_ERROR_EXIT;
      }
      const target = awsTargetFrom(options, io.env);
      return exitOnAwsFailure(io, { command: 'history', json: options.json }, target, async () => {
        try {
          return await run(deps, io, options);
        } catch (error) {
          if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
          io.stderr(
            `afu9-deploy history: the deployment table was not found (${(error as Error).message}). ` +
              'Pass --table <name> and --region <region>, or set AFU9_DEPLOYMENT_TABLE.\n',
          );
          return 1;
        }
      });
    },
  };
}

export const historyCommand = createHistoryCommand(realAwsDeps);
