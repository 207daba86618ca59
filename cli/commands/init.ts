/**
 * `afu9-deploy init`: writes a starter deployment configuration, from flags or by reading an
 * existing ECS service and its task definition (as `ecspresso init` does): its cluster, family,
 * containers and the ECR repositories of their images, and the Secrets Manager secrets the
 * containers read, with the JSON keys named in `valueFrom`. What a service does not say (the smoke
 * test's base URL) comes from flags. The file is validated before it is written, and an existing
 * file is never overwritten without --force.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import {
  DescribeServicesCommand,
  DescribeTaskDefinitionCommand,
  type ContainerDefinition,
} from '@aws-sdk/client-ecs';
import { DEFAULT_CONFIG_FILE, schemaFilePath } from '../../infra/deploy-config-file';
import {
  ConfigurationError,
  ENVIRONMENT_NAME_PATTERN,
  deployConfigDocument,
  parseDeployConfig,
  type DeployConfig,
} from '../../lambdas/domain/deploy-config';
import { awsFlags, awsFlagsUsage, configFlags, parseFlags } from '../args';
import { awsTargetFrom, realAwsDeps, regionFrom, type CliAwsDeps } from '../aws-context';
import { exitOnAwsFailure } from '../aws-failure';
import { ExitCode, UsageError, USAGE_ERROR_EXIT, type CliCommand, type CliIo } from '../command';

const usage = `Usage: afu9-deploy init --base-url <https://...> (--from-service <cluster>/<service> | --cluster <name> --service <name> --container <name> --repository <repo>) [options]

Writes a starter deployment configuration (docs/configuration.md) for one environment. With
--from-service it reads the ECS service and its task definition (DescribeServices,
DescribeTaskDefinition): cluster, service, task family, every container whose image is in ECR with
its repository and port, and every Secrets Manager secret the containers read, with the JSON keys
their valueFrom names (\`...:secret:shop/db-AbCdEf:password::\` → shop/db, key password). The file is
validated before it is written; review it, then \`afu9-deploy simulate --config <file>\`.

Options:
  --base-url <url>          https URL of the service the smoke test checks (required)
  --env <name>              the environment's name (default: staging)
  --output <path>           where to write (default: ./${DEFAULT_CONFIG_FILE}); --config <path> says the same
  --force                   overwrite the file when it exists
  --from-service <c>/<s>    read cluster <c>, service <s> from your AWS account
  --cluster <name>          ECS cluster (without --from-service)
  --service <name>          ECS service (without --from-service)
  --task-family <name>      task definition family (default: the service's, else the service name)
  --container <name>        the container to deploy (without --from-service; the primary one with it)
  --repository <repo>       its ECR repository, e.g. shop/api (without --from-service)
  --port <n>                its port (without --from-service)
  --secret <name[:k1,k2]>   a Secrets Manager secret it reads, with its required JSON keys (repeatable)
  --stack <name>            the CDK stack the diff gate diffs (default: the service's
                            aws:cloudformation:stack-name tag; required when it has none)
  --tag-prefix <prefix>     image tags deployed here start with this (default: <env>-; execution names
                            then say the environment once: staging-3f9c2ab)
  --health-path <path>      a JSON health document; adds three checks of it to the one of /: it must
                            answer 200 with {"status": "ok"} (or "ok": true), "service": the service
                            name (smoke.expectedServiceNames) and "version": the deployed image tag
                            (with or without the tag prefix)
  --ready-path <path>       a JSON readiness document; adds a check that it answers 200 with
                            {"ready": true} (503 while the revision is not ready). The smoke-fail
                            rehearsal needs one
  --allow-flag              deployments here need --allow-production (a production environment)
${awsFlagsUsage}

Exit codes: 0 written, 1 the file exists (use --force) or the service cannot be read, 2 usage error,
3 AWS unreachable or credentials missing, expired or denied.`;

/** Cold start, image pull and health checks: a rollout of a healthy service ends well inside this. */
const STARTER_ROLLOUT = {
  timeoutSeconds: 1800,
  safetyNetPollSeconds: 300,
  failFastStopReasons: ['CannotPullContainerError', 'ResourceInitializationError'],
  failFastOnEssentialExit: true,
} as const;

/** `123456789012.dkr.ecr.eu-central-1.amazonaws.com/shop/api:1.2` → `shop/api`. */
const ECR_IMAGE = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(?:\.cn)?\/([^:@]+)(?:[:@].*)?$/;

/** `arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 chars>[:<json key>:<stage>:<version>]`. */
const SECRET_ARN = /^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:(.+)$/;

interface StarterContainer {
  readonly name: string;
  readonly repository: string;
  readonly port?: number;
  readonly primary: boolean;
}

interface StarterFacts {
  readonly environment: string;
  readonly region: string;
  readonly clusterName: string;
  readonly serviceName: string;
  readonly taskFamily: string;
  readonly stackName: string;
  readonly containers: readonly StarterContainer[];
  readonly secrets: ReadonlyMap<string, ReadonlySet<string>>;
}

/** The repository of an ECR image, or undefined for an image from elsewhere (a public sidecar). */
export function repositoryOfImage(image: string): string | undefined {
  return ECR_IMAGE.exec(image)?.[1];
}

/**
 * The secret name and JSON key a container's `valueFrom` names, or undefined for anything that is
 * not a Secrets Manager ARN (an SSM parameter, or a bare name ECS could resolve either way).
 */
export function secretOfValueFrom(
  valueFrom: string,
): { readonly name: string; readonly key?: string } | undefined {
  const rest = SECRET_ARN.exec(valueFrom)?.[1];
  if (!rest) return undefined;
  const [nameWithSuffix = '', key] = rest.split(':');
  // A full ARN ends the name with the 6 random characters Secrets Manager adds.
  const name = nameWithSuffix.replace(/-[A-Za-z0-9]{6}$/, '');
  return key ? { name, key } : { name };
}

function addSecret(secrets: Map<string, Set<string>>, name: string, keys: readonly string[]): void {
  const known = secrets.get(name) ?? new Set<string>();
  for (const key of keys) known.add(key);
  secrets.set(name, known);
}

function parseSecretFlag(value: string): { readonly name: string; readonly keys: readonly string[] } {
  const [name = '', keys = ''] = value.split(':');
  if (!name) throw new UsageError(`--secret takes <name> or <name>:<key>,<key>. Received: ${value}`);
  return { name, keys: keys.split(',').filter((key) => key !== '') };
}

function parseInitFlags(argv: readonly string[]) {
  const { values } = parseFlags(argv, {
    'base-url': { type: 'string' },
    env: { type: 'string' },
    output: { type: 'string' },
    ...configFlags,
    force: { type: 'boolean' },
    'from-service': { type: 'string' },
    cluster: { type: 'string' },
    service: { type: 'string' },
    'task-family': { type: 'string' },
    container: { type: 'string' },
    repository: { type: 'string' },
    port: { type: 'string' },
    secret: { type: 'string', multiple: true },
    stack: { type: 'string' },
    'tag-prefix': { type: 'string' },
    'health-path': { type: 'string' },
    'ready-path': { type: 'string' },
    'allow-flag': { type: 'boolean' },
    ...awsFlags,
  });
  if (!values['base-url']) {
    throw new UsageError('--base-url <https://...> is required: the smoke test checks the service there.');
  }
  const environment = values.env ?? 'staging';
  if (!ENVIRONMENT_NAME_PATTERN.test(environment)) {
    throw new UsageError(
      `--env takes lower case, digits and dashes, starting with a letter. Received: ${environment}`,
    );
  }
  const fromService = values['from-service'];
  if (fromService !== undefined) {
    const clash = (['cluster', 'service', 'repository', 'port'] as const).filter(
      (flag) => values[flag] !== undefined,
    );
    if (clash.length > 0) {
      throw new UsageError(
        `--from-service reads ${clash.map((flag) => `--${flag}`).join(', ')} from the service; leave ${clash.length === 1 ? 'it' : 'them'} out.`,
      );
    }
    if (!/^[^/\s]+\/[^/\s]+$/.test(fromService)) {
      throw new UsageError(`--from-service takes <cluster>/<service>. Received: ${fromService}`);
    }
  } else {
    const missing = (['cluster', 'service', 'container', 'repository'] as const).filter(
      (flag) => !values[flag],
    );
    if (missing.length > 0) {
      throw new UsageError(
        `Give ${missing.map((flag) => `--${flag}`).join(', ')}, or read the service with --from-service <cluster>/<service>.`,
      );
    }
  }
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) {
    throw new UsageError(`--port takes a whole number from 1 to 65535. Received: ${values.port}`);
  }
  // --config is the file every other command reads, so here it is the file to write.
  if (values.config !== undefined && values.output !== undefined && values.config !== values.output) {
    throw new UsageError('--config and --output both name the file to write; give one of them.');
  }
  const output = values.output ?? values.config;
  return {
    ...values,
    ...(output !== undefined && { output }),
    environment,
    port,
    secrets: (values.secret ?? []).map(parseSecretFlag),
  };
}

type InitFlags = ReturnType<typeof parseInitFlags>;

function factsFromFlags(flags: InitFlags, io: CliIo): StarterFacts {
  const serviceName = flags.service!;
  const secrets = new Map<string, Set<string>>();
  for (const secret of flags.secrets) addSecret(secrets, secret.name, secret.keys);
  if (!flags.stack) {
    throw new UsageError(
      '--stack <name> is required without --from-service: the diff gate diffs that CDK stack.',
    );
  }
  return {
    environment: flags.environment,
    region: regionFrom(flags.region, io.env),
    clusterName: flags.cluster!,
    serviceName,
    taskFamily: flags['task-family'] ?? serviceName,
    stackName: flags.stack,
    containers: [
      {
        name: flags.container!,
        repository: flags.repository!,
        ...(flags.port !== undefined ? { port: flags.port } : {}),
        primary: true,
      },
    ],
    secrets,
  };
}

function containersOf(
  definitions: readonly ContainerDefinition[],
  primaryName: string | undefined,
  notes: string[],
): StarterContainer[] {
  const fromEcr = definitions.flatMap((definition) => {
    const repository = repositoryOfImage(definition.image ?? '');
    if (!definition.name || !repository) {
      notes.push(
        `container ${definition.name ?? '(unnamed)'} left out: its image ${definition.image ?? '(none)'} is not in ECR`,
      );
      return [];
    }
    const port = definition.portMappings?.[0]?.containerPort;
    return [{ definition, name: definition.name, repository, ...(port !== undefined ? { port } : {}) }];
  });
  const primary =
    (primaryName ? fromEcr.find((container) => container.name === primaryName) : undefined) ??
    fromEcr.find((container) => container.definition.essential !== false) ??
    fromEcr[0];
  if (primaryName && primary?.name !== primaryName) {
    throw new UsageError(
      `The task definition has no container ${primaryName} with an ECR image; it has: ${fromEcr.map((c) => c.name).join(', ') || 'none'}.`,
    );
  }
  return fromEcr.map(({ definition: _definition, ...container }) => ({
    ...container,
    primary: container.name === primary?.name,
  }));
}

async function factsFromService(
  deps: CliAwsDeps,
  flags: InitFlags,
  io: CliIo,
  notes: string[],
): Promise<StarterFacts | undefined> {
  const [cluster = '', service = ''] = flags['from-service']!.split('/');
  const clients = deps.clients(awsTargetFrom(flags, io.env));
  const described = await clients.ecs.send(
    new DescribeServicesCommand({ cluster, services: [service], include: ['TAGS'] }),
  );
  const found = described.services?.find((candidate) => candidate.status !== 'INACTIVE');
  if (!found?.taskDefinition || !found.serviceArn) {
    const failure = described.failures?.[0];
    io.stderr(
      `afu9-deploy init: there is no active service ${service} in cluster ${cluster}` +
        `${failure?.reason ? ` (${failure.reason})` : ''}. Check the names and the --region.\n`,
    );
    return undefined;
  }
  const { taskDefinition } = await clients.ecs.send(
    new DescribeTaskDefinitionCommand({ taskDefinition: found.taskDefinition }),
  );
  const definitions = taskDefinition?.containerDefinitions ?? [];
  const secrets = new Map<string, Set<string>>();
  for (const definition of definitions) {
    for (const reference of definition.secrets ?? []) {
      const secret = secretOfValueFrom(reference.valueFrom ?? '');
      if (secret) addSecret(secrets, secret.name, secret.key ? [secret.key] : []);
      else
        notes.push(`secret ${reference.name} left out: ${reference.valueFrom} is not a Secrets Manager ARN`);
    }
  }
  for (const secret of flags.secrets) addSecret(secrets, secret.name, secret.keys);
  const stackName =
    flags.stack ?? found.tags?.find((tag) => tag.key === 'aws:cloudformation:stack-name')?.value;
  if (!stackName) {
    throw new UsageError(
      `The service ${service} carries no aws:cloudformation:stack-name tag; name the CDK stack the diff gate diffs with --stack <name>.`,
    );
  }
  return {
    environment: flags.environment,
    // The service ARN says where it runs: arn:aws:ecs:<region>:<account>:service/<cluster>/<service>.
    region: found.serviceArn.split(':')[3] ?? regionFrom(flags.region, io.env),
    clusterName: found.clusterArn?.split('/').pop() ?? cluster,
    serviceName: found.serviceName ?? service,
    taskFamily: flags['task-family'] ?? taskDefinition?.family ?? service,
    stackName,
    containers: containersOf(definitions, flags.container, notes),
    secrets,
  };
}

/** What the flags say about the starter configuration beyond the service's facts. */
interface StarterOptions {
  readonly baseUrl: string;
  readonly tagPrefix?: string;
  readonly healthPath?: string;
  readonly readyPath?: string;
  readonly allowFlag?: boolean;
}

/** The starter configuration for the facts, validated. */
export function starterConfig(facts: StarterFacts, options: StarterOptions): DeployConfig {
  const checks = [
    { name: 'root-page', path: '/', expectStatus: 200 },
    ...(options.healthPath
      ? [
          { name: 'health', path: options.healthPath, expectStatus: 200, expectBody: 'health-ok' },
          {
            name: 'service-identity',
            path: options.healthPath,
            expectStatus: 200,
            expectBody: 'service-identity',
          },
          { name: 'version', path: options.healthPath, expectStatus: 200, expectBody: 'version' },
        ]
      : []),
    ...(options.readyPath
      ? [{ name: 'readiness', path: options.readyPath, expectStatus: 200, expectBody: 'ready' }]
      : []),
  ];
  return parseDeployConfig(
    {
      environments: {
        [facts.environment]: {
          region: facts.region,
          clusterName: facts.clusterName,
          serviceName: facts.serviceName,
          taskFamily: facts.taskFamily,
          stackName: facts.stackName,
          imageTagPrefix: options.tagPrefix ?? `${facts.environment}-`,
          forbiddenImageTagPrefixes: [],
          requiresAllowFlag: options.allowFlag ?? false,
          containers: facts.containers,
          secrets: [...facts.secrets].map(([name, keys]) => ({
            name,
            requiredKeys: [...keys],
            optionalKeys: [],
          })),
          smoke: {
            baseUrl: options.baseUrl,
            expectedServiceNames: [facts.serviceName],
            requestTimeoutMs: 5000,
            warmUpSeconds: 120,
            checks,
          },
          rollout: STARTER_ROLLOUT,
        },
      },
    },
    'init would write',
  );
}

/** What the written smoke checks ask of the service, and what they leave out. */
function smokeNotes(serviceName: string, options: StarterOptions): string[] {
  const notes: string[] = [];
  if (options.healthPath) {
    notes.push(
      `${options.healthPath} must answer 200 with JSON like {"status": "ok", "service": "${serviceName}", ` +
        '"version": "<the deployed image tag>"} (smoke.checks[].expectBody in docs/configuration.md).',
    );
  }
  notes.push(
    options.readyPath
      ? `${options.readyPath} must answer 200 with {"ready": true} once the revision is ready (503 before).`
      : 'no readiness check: give --ready-path <path> if the service has a readiness document ({"ready": true}); ' +
          'the smoke-fail rehearsal needs one.',
  );
  return notes;
}

function write(io: CliIo, flags: InitFlags, config: DeployConfig, notes: readonly string[]): number {
  const output = resolve(flags.output ?? DEFAULT_CONFIG_FILE);
  if (existsSync(output) && !flags.force) {
    io.stderr(
      `afu9-deploy init: ${output} exists; nothing was written. Pass --force to overwrite it, or --output <path>.\n`,
    );
    return ExitCode.failed;
  }
  // Editors resolve a relative `$schema` from the folder of the file, so the path is computed from
  // where the file is written. The schema has no public URL (the package is private) and a copy
  // beside the file would go stale when the schema changes, so a file written outside this clone
  // points back into it, and the note below says so.
  const schema = relative(dirname(output), schemaFilePath);
  const document = {
    $schema: schema.startsWith('.') ? schema : `./${schema}`,
    ...deployConfigDocument(config),
  };
  writeFileSync(output, JSON.stringify(document, null, 2) + '\n');
  const schemaNote = schema.startsWith('..')
    ? [
        `"$schema" is ${document.$schema}, the schema in this clone (${schemaFilePath}), as seen from the ` +
          'file: editors validate with it while the two stay where they are; after moving either, fix the path.',
      ]
    : [];
  for (const note of [...notes, ...schemaNote]) io.stderr(`note: ${note}\n`);
  io.stderr(
    `Wrote ${output}. Review it (docs/configuration.md), then rehearse: afu9-deploy simulate --config ${relative(process.cwd(), output) || output}\n`,
  );
  return ExitCode.ok;
}

export function createInitCommand(deps: CliAwsDeps): CliCommand {
  return {
    name: 'init',
    summary: 'write a starter deploy.config.json, from flags or from an existing ECS service',
    usage,
    async run(argv, io) {
      const fail = (error: unknown): number => {
        if (error instanceof ConfigurationError || error instanceof UsageError) {
          io.stderr(`afu9-deploy init: ${error.message}\n`);
          return USAGE_ERROR_EXIT;
        }
        throw error;
      };
      let flags: InitFlags;
      try {
        flags = parseInitFlags(argv);
      } catch (error) {
        if (!(error instanceof UsageError)) throw error;
        io.stderr(`afu9-deploy init: ${error.message}\n\n${usage}\n`);
        return USAGE_ERROR_EXIT;
      }
      const options: StarterOptions = {
        baseUrl: flags['base-url']!,
        ...(flags['tag-prefix'] !== undefined ? { tagPrefix: flags['tag-prefix'] } : {}),
        ...(flags['health-path'] !== undefined ? { healthPath: flags['health-path'] } : {}),
        ...(flags['ready-path'] !== undefined ? { readyPath: flags['ready-path'] } : {}),
        allowFlag: flags['allow-flag'] === true,
      };
      const notes: string[] = [];
      if (flags['from-service'] === undefined) {
        try {
          const facts = factsFromFlags(flags, io);
          notes.push(...smokeNotes(facts.serviceName, options));
          return write(io, flags, starterConfig(facts, options), notes);
        } catch (error) {
          return fail(error);
        }
      }
      const target = awsTargetFrom(flags, io.env);
      return exitOnAwsFailure(io, { command: 'init' }, target, async () => {
        try {
          const facts = await factsFromService(deps, flags, io, notes);
          if (!facts) return ExitCode.failed;
          notes.push(...smokeNotes(facts.serviceName, options));
          return write(io, flags, starterConfig(facts, options), notes);
        } catch (error) {
          return fail(error);
        }
      });
    },
  };
}

export const initCommand = createInitCommand(realAwsDeps);
