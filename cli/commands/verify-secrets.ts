/**
 * `afu9-deploy verify-secrets --env <name>`: before a deploy, checks against the real account every
 * secret and secret key the running service and the environment config need (and, with an image,
 * that the image exists in ECR), printed as a tree of OK / NG / SKIP. It reads values only to judge
 * them and never prints one. The same checks run in the workflow's VerifySecrets state.
 */
import { verifyDeployment } from '../../lambdas/aws/deployment-verification';
import type { ImageRef, VerificationCheck } from '../../lambdas/domain/workflow-state';
import {
  awsFlags,
  awsFlagsUsage,
  configFlag,
  configFlagUsage,
  configFlags,
  environmentFlag,
  parseFlags,
} from '../args';
import { awsTargetFrom, realAwsDeps, type CliAwsDeps } from '../aws-context';
import { exitOnAwsFailure } from '../aws-failure';
import type { Paint } from '../colour';
import { paintFor, UsageError, USAGE_ERROR_EXIT, type CliCommand } from '../command';

const usage = `Usage: afu9-deploy verify-secrets --env <environment> [--image-tag <tag> | --image-digest <sha256:...>] [--json] [--profile <p>] [--region <r>]

Checks, with your AWS credentials and without printing any value, that every secret the running task
definition references and every secret the environment config names exists, is not scheduled for deletion,
parses, and holds every required key with a real (non-placeholder) value. With an image, also checks that
the primary container's image exists in ECR.

  OK    checked and fine
  NG    checked and wrong: the line says what to fix
  SKIP  could not be checked here (e.g. an SSM parameter): not the same as NG
  DENIED  your credentials may not make the check: a missing grant, not a verdict (still exit 1)

Options:
${configFlagUsage}
${awsFlagsUsage}

Exit codes: 0 no NG or DENIED, 1 at least one NG or DENIED, 2 usage error, 3 AWS unreachable or
credentials missing, expired or denied.`;

const GROUPS: readonly { title: string; kinds: readonly VerificationCheck['kind'][] }[] = [
  { title: 'secrets', kinds: ['secret', 'secret-key'] },
  { title: 'images', kinds: ['image'] },
];

function paintStatus(status: VerificationCheck['status'], colours: Paint): string {
  const padded = status.padEnd(4);
  if (status === 'OK') return colours.green(padded);
  // DENIED refuses the deployment as NG does; only SKIP is a note.
  return status === 'SKIP' ? colours.yellow(padded) : colours.red(padded);
}

/** The OK / NG / SKIP / DENIED tree `verify-secrets` prints; also the verification part of `start --dry-run`. */
export function renderVerificationTree(
  heading: string,
  checks: readonly VerificationCheck[],
  colours: Paint,
): string {
  const lines = [heading];
  for (const group of GROUPS) {
    const members = checks.filter((check) => group.kinds.includes(check.kind));
    if (members.length === 0) continue;
    lines.push(`  ${group.title}`);
    for (const check of members) {
      lines.push(
        `    ${paintStatus(check.status, colours)}  ${check.subject}${check.detail ? `: ${check.detail}` : ''}`,
      );
    }
  }
  const count = (status: VerificationCheck['status']) =>
    checks.filter((check) => check.status === status).length;
  lines.push(`${count('OK')} OK, ${count('NG')} NG, ${count('SKIP')} SKIP, ${count('DENIED')} DENIED`);
  return lines.join('\n') + '\n';
}

function parse(argv: readonly string[]) {
  const { values } = parseFlags(argv, {
    env: { type: 'string' },
    'image-tag': { type: 'string' },
    'image-digest': { type: 'string' },
    json: { type: 'boolean' },
    ...configFlags,
    ...awsFlags,
  });
  const environment = environmentFlag(values.env, configFlag(values.config));
  if (values['image-tag'] && values['image-digest']) {
    throw new UsageError(
      'Give either --image-tag or --image-digest, not both: they could name different images.',
    );
  }
  // Without --region, the region the environment lives in: where its secrets and images are.
  return { ...values, environment, region: values.region ?? environment.region };
}

export function createVerifySecretsCommand(deps: CliAwsDeps): CliCommand {
  return {
    name: 'verify-secrets',
    summary:
      'check every secret, secret key (and image) a deploy needs, in the real account; prints no value',
    usage,
    readsConfiguration: () => true,
    async run(argv, io) {
      let options: ReturnType<typeof parse>;
      try {
        options = parse(argv);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.stderr(`afu9-deploy verify-secrets: ${error.message}\n\n${usage}\n`);
        return USAGE_ERROR_EXIT;
      }
      const { environment } = options;
      const primary = environment.containers.find((container) => container.primary)!;
      const images: ImageRef[] =
        options['image-tag'] || options['image-digest']
          ? [
              {
                container: primary.name,
                repository: primary.repository,
                ...(options['image-tag'] && { tag: options['image-tag'] }),
                ...(options['image-digest'] && { digest: options['image-digest'] }),
              },
            ]
          : [];
      const target = awsTargetFrom(options, io.env);
      return exitOnAwsFailure(io, { command: 'verify-secrets', json: options.json }, target, async () => {
        const outcome = await verifyDeployment(deps.clients(target), {
          target: environment,
          environment,
          images,
        });
        if (options.json) {
          io.stdout(JSON.stringify({ environment: environment.name, checks: outcome.checks }) + '\n');
        } else {
          io.stdout(
            renderVerificationTree(
              `verify-secrets ${environment.name} (service ${environment.serviceName} in ${environment.clusterName})`,
              outcome.checks,
              paintFor(io, 'stdout'),
            ),
          );
        }
        return outcome.secretProblems + outcome.imageProblems + outcome.permissionProblems > 0 ? 1 : 0;
      });
    },
  };
}

export const verifySecretsCommand = createVerifySecretsCommand(realAwsDeps);
