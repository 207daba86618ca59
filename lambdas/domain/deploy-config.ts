/**
 * The deployment configuration (`deploy.config.json`) as one zod schema: every environment the
 * orchestrator deploys to, with its cluster, service, task family, containers and repositories, tag
 * guardrails, secrets, smoke checks and rollout timing. The stack, the functions, the CLI and the
 * sandbox all take their environment facts from a configuration this module accepted; the JSON
 * Schema editors use (`deploy.config.schema.json`) and docs/configuration.md are generated from it.
 * Pure: parsing text, never reading a file.
 */
import { z } from 'zod';
import { DEFAULT_IMAGE_PARAMETER_PREFIX, imageParameterPrefixProblem } from './image-parameters';
import { BodyExpectation } from './smoke';
import { stackGraphProblems } from './stack-graph';

/** Environment names are data: lower case, digits and dashes, starting with a letter. */
export const ENVIRONMENT_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;

/** ECS cluster, service and task family names: letters, digits, `-` and `_`, up to 255. */
const ECS_NAME = /^[A-Za-z0-9_-]{1,255}$/;
/** ECR repository names: lower-case path components separated by `/`. */
const REPOSITORY_NAME = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
/** Secrets Manager names (not ARNs). */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
/** CloudFormation stack names. */
const STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
/** Characters an image tag may hold (a prefix is the start of a tag). */
const TAG_PREFIX = /^[A-Za-z0-9_.-]+$/;
/** Printable ASCII (SNS accepts nothing else in a subject), without a space at either end. */
const DISPLAY_NAME = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

const httpsUrl = z
  .string()
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.protocol === 'https:' && !url.username && !url.password && !url.search && !url.hash;
      } catch {
        return false;
      }
    },
    { message: 'expected an https URL (without credentials, query or fragment)' },
  )
  .describe('https URL the smoke checks are made below, e.g. `https://stage.example.com`.');

const containerSchema = z
  .strictObject({
    name: z
      .string()
      .regex(ECS_NAME, 'expected an ECS name: letters, digits, - and _, at most 255')
      .describe('Container name in the task definition.'),
    repository: z
      .string()
      .regex(
        REPOSITORY_NAME,
        'expected an ECR repository name such as shop/api: lower-case letters and digits, separated by . _ - or /',
      )
      .describe('ECR repository its image comes from (name, not URI), e.g. `shop/api`.'),
    port: z.int().min(1).max(65535).optional().describe('Container port, when it listens on one.'),
    primary: z
      .boolean()
      .default(false)
      .describe("The container whose image tag is the deployment's version; exactly one per environment."),
  })
  .describe('A container of the task definition.');

const secretSchema = z
  .strictObject({
    name: z
      .string()
      .regex(SECRET_NAME, 'expected a Secrets Manager name (not an ARN): letters, digits and /_+=.@-')
      .describe('Secrets Manager name (not ARN), e.g. `shop/db`.'),
    requiredKeys: z
      .array(z.string().min(1))
      .default([])
      .describe('JSON keys that must be present, non-empty and not a runbook placeholder.'),
    optionalKeys: z
      .array(z.string().min(1))
      .default([])
      .describe('JSON keys that may be absent; when present they must not be placeholders.'),
  })
  .describe('A secret the service reads; VerifySecrets checks it before the service is touched.');

const smokeCheckSchema = z
  .strictObject({
    name: z.string().min(1).describe('Name shown in results and notifications.'),
    path: z.string().startsWith('/').describe('Path below the base URL, e.g. `/api/health`.'),
    expectStatus: z.int().min(100).max(599).describe('HTTP status the answer must have.'),
    expectBody: z
      .enum(Object.values(BodyExpectation) as [BodyExpectation, ...BodyExpectation[]])
      .optional()
      .describe(
        'What the JSON body must say: `health-ok` (`status: "ok"` or `ok: true`), `ready` (`ready: true`), ' +
          '`service-identity` (`service` is one of expectedServiceNames), `version` (`version` is the deployed one).',
      ),
  })
  .describe('One request of the smoke test.');

const smokeSchema = z
  .strictObject({
    baseUrl: httpsUrl,
    expectedServiceNames: z
      .array(z.string().min(1))
      .min(1)
      .describe('Service names the health document may report (old and new builds may differ).'),
    requestTimeoutMs: z.int().min(1).describe('Per-request timeout in milliseconds.'),
    warmUpSeconds: z
      .int()
      .min(0)
      .describe('How long failing checks are retried while the new tasks warm up.'),
    checks: z.array(smokeCheckSchema).min(1).describe('The requests made, in order; every one must pass.'),
    versionReportedBy: z
      .string()
      .regex(ECS_NAME, 'expected an ECS name: letters, digits, - and _, at most 255')
      .optional()
      .describe(
        'The container whose version the `version` check reads (one of `containers[].name`; the primary one when ' +
          "absent). A deployment that does not change this container skips the version check: another container's " +
          'tag says nothing about what the endpoint reports.',
      ),
  })
  .describe('The smoke test run after the rollout is complete.');

const rolloutSchema = z
  .strictObject({
    timeoutSeconds: z
      .int()
      .min(60)
      .describe('The whole rollout (update → steady state) must finish within this.'),
    safetyNetPollSeconds: z
      .int()
      .min(10)
      .describe('Safety-net look at the service when no deployment event arrives (events may be lost).'),
    failFastStopReasons: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Stopped-task reasons (substring match) that will not heal by retrying: one such stop fails the rollout at once.',
      ),
    failFastOnEssentialExit: z
      .boolean()
      .default(false)
      .describe('Whether an essential container exiting non-zero fails the rollout at once as well.'),
  })
  .describe('How long a rollout may take and what ends it early.');

/** How the pushes of one tag become one release (docs/releases.md). */
const releaseSchema = z
  .strictObject({
    settleSeconds: z
      .int()
      .min(0)
      .max(600)
      .default(120)
      .describe(
        "How long the first push of a tag waits for the same tag in the environment's other repositories (CI " +
          'pushes the images of one commit one after another). It ends early once every configured repository ' +
          'has the tag; containers whose repository has no such tag by then keep their running image.',
      ),
    pollSeconds: z
      .int()
      .min(1)
      .max(300)
      .default(5)
      .describe('How often the release looks up the tag in every repository while it settles.'),
    lockWaitSeconds: z
      .int()
      .min(0)
      .max(3600)
      .default(2400)
      .describe(
        'How long a release started by a push waits for the service while another execution deploys it (a ' +
          'follow-up release of the same tag, say), instead of failing. Longer than a rollout with its smoke test ' +
          'and rollback; when it runs out the release fails and its notification says how to deploy it by hand.',
      ),
    lockPollSeconds: z
      .int()
      .min(5)
      .max(600)
      .default(30)
      .describe('How often a waiting release asks again for the service.'),
  })
  .default({ settleSeconds: 120, pollSeconds: 5, lockWaitSeconds: 2400, lockPollSeconds: 30 })
  .describe('How the pushes of one tag to the configured repositories become one release.');

/** The values `approval.warn` / `approval.blocked` had before held diffs paused for an approval. */
const RETIRED_STOP =
  '"stop" is no longer a value: a held diff now pauses the deployment for a recorded approval ' +
  '(`afu9-deploy approve|deny <execution> --reason "..."`) instead of ending it. Write "approve" ' +
  '(see docs/approvals.md)';

/** Seconds a paused deployment waits for a decision by default: one day. */
export const DEFAULT_APPROVAL_EXPIRY_SECONDS = 86_400;

/**
 * What a diff verdict does to a deployment in an environment: go on, or pause on a task token
 * until a person approves or denies it with their IAM identity (docs/approvals.md).
 */
const approvalSchema = z
  .strictObject({
    warn: z
      .enum(['proceed', 'approve'], {
        // Other wrong values keep the file's usual "expected one of ..." message.
        error: (issue) => (issue.input === 'stop' ? RETIRED_STOP : undefined),
      })
      .default('proceed')
      .describe(
        'A WARN diff (changes a person should review): `proceed` deploys it; `approve` pauses the deployment ' +
          'before any change until a person approves it (`afu9-deploy approve`) or denies it, or it expires.',
      ),
    blocked: z
      .enum(['approve'], {
        error: (issue) => (issue.input === 'stop' ? RETIRED_STOP : undefined),
      })
      .default('approve')
      .describe(
        'A BLOCKED diff always pauses the deployment for a recorded approval; unapproved, nothing is changed.',
      ),
    expiresAfterSeconds: z
      .number()
      .int()
      .min(60)
      .max(604_800)
      .default(DEFAULT_APPROVAL_EXPIRY_SECONDS)
      .describe(
        'How long a paused deployment waits for a decision (60 s to 7 days); unanswered, it expires as ' +
          'denied and nothing is changed.',
      ),
  })
  .default({ warn: 'proceed', blocked: 'approve', expiresAfterSeconds: DEFAULT_APPROVAL_EXPIRY_SECONDS })
  .describe('The approval policy: which diff verdicts need a person before this environment is changed.');

const infrastructureStackSchema = z
  .strictObject({
    name: z
      .string()
      .regex(STACK_NAME, 'expected a CloudFormation stack name: a letter, then letters, digits and -')
      .describe('The CDK stack (its CloudFormation name), e.g. `ShopNetworkStack`.'),
    dependsOn: z
      .array(z.string().min(1))
      .default([])
      .describe(
        'Stacks of this list that must be deployed before this one; a requested stack whose requested dependency ' +
          'failed or was not attempted is not attempted.',
      ),
    optional: z
      .boolean()
      .default(false)
      .describe(
        'An optional stack (e.g. DNS) is left out of `"stacks": "all"`; it is deployed only when named.',
      ),
  })
  .describe('One infrastructure stack an infrastructure release may deploy.');

const infrastructureSchema = z
  .strictObject({
    stacks: z
      .array(infrastructureStackSchema)
      .min(1)
      .describe(
        'The stacks and their dependency graph; a release deploys the requested ones in dependency order.',
      ),
  })
  .superRefine((infrastructure, context) => {
    for (const problem of stackGraphProblems(infrastructure.stacks)) {
      context.addIssue({ code: 'custom', path: ['stacks'], message: problem });
    }
  })
  .describe('The infrastructure stacks of the environment, deployed by infrastructure releases.');

const environmentSchema = z
  .strictObject({
    region: z
      .string()
      .regex(REGION, 'expected an AWS region such as eu-central-1')
      .describe('AWS region of the cluster; every environment shares one.'),
    clusterName: z
      .string()
      .regex(ECS_NAME, 'expected an ECS name: letters, digits, - and _, at most 255')
      .describe('ECS cluster name.'),
    serviceName: z
      .string()
      .regex(ECS_NAME, 'expected an ECS name: letters, digits, - and _, at most 255')
      .describe('ECS service name.'),
    taskFamily: z
      .string()
      .regex(ECS_NAME, 'expected an ECS name: letters, digits, - and _, at most 255')
      .describe('Task definition family each new revision is registered in (one per environment).'),
    stackName: z
      .string()
      .regex(STACK_NAME, 'expected a CloudFormation stack name: a letter, then letters, digits and -')
      .describe('The CDK stack whose `cdk diff` the diff gate judges.'),
    imageParameterPrefix: z
      .string()
      .default(DEFAULT_IMAGE_PARAMETER_PREFIX)
      .superRefine((prefix, context) => {
        const problem = imageParameterPrefixProblem(prefix);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      })
      .describe(
        'SSM path under which each verified image is published, one String parameter per container: ' +
          '`<prefix>/<environment>/<container>/image` = `<repository>@sha256:<hex>`. The ECS stack reads them, ' +
          'so a `cdk deploy` keeps the images the orchestrator verified.',
      ),
    imageTagPrefix: z
      .string()
      .min(1)
      .regex(TAG_PREFIX, 'expected the start of an image tag: letters, digits, _ . and -')
      .describe(
        'Image tags deployed here must start with this, e.g. `stage-`; the push rule starts deployments only for these.',
      ),
    forbiddenImageTagPrefixes: z
      .array(
        z.string().min(1).regex(TAG_PREFIX, 'expected the start of an image tag: letters, digits, _ . and -'),
      )
      .default([])
      .describe('Image tags with these prefixes are refused, e.g. `prod-` for staging.'),
    requiresAllowFlag: z
      .boolean()
      .default(false)
      .describe('When true, a request must carry `allowProduction: true` (`--allow-production`).'),
    containers: z.array(containerSchema).min(1).describe('The containers of the task definition.'),
    secrets: z.array(secretSchema).default([]).describe('The secrets the task definition reads.'),
    smoke: smokeSchema,
    rollout: rolloutSchema,
    approval: approvalSchema,
    infrastructure: infrastructureSchema.optional(),
    release: releaseSchema,
  })
  .superRefine((environment, context) => {
    const primaries = environment.containers.filter((container) => container.primary).length;
    if (primaries !== 1) {
      context.addIssue({
        code: 'custom',
        path: ['containers'],
        message: `expected exactly one container with "primary": true, received ${primaries}`,
      });
    }
    const names = environment.containers.map((container) => container.name);
    const repeated = names.find((name, index) => names.indexOf(name) !== index);
    if (repeated) {
      context.addIssue({
        code: 'custom',
        path: ['containers'],
        message: `expected unique container names, received "${repeated}" twice`,
      });
    }
    const reporter = environment.smoke.versionReportedBy;
    if (reporter !== undefined && !names.includes(reporter)) {
      context.addIssue({
        code: 'custom',
        path: ['smoke', 'versionReportedBy'],
        message: `expected the name of one of the containers (${names.map((name) => `"${name}"`).join(', ')}), received "${reporter}"`,
      });
    }
  })
  .describe('One environment: where it runs, what it runs and how a deployment there is judged.');

export const deployConfigSchema = z
  .strictObject({
    $schema: z.string().optional().describe('The JSON Schema editors validate this file with.'),
    displayName: z
      .string()
      .max(40)
      .regex(
        DISPLAY_NAME,
        'expected printable ASCII (SNS subjects allow nothing else), no space at either end',
      )
      .optional()
      .describe(
        'The name people know the deployed application by, opening each notification subject: ' +
          '`[<displayName> <environment>] Deployed ...`. Default: the ECR repository of the first ' +
          "environment's primary container, e.g. `shop/api`.",
      ),
    environments: z
      .record(
        z
          .string()
          .regex(ENVIRONMENT_NAME_PATTERN, 'expected an environment name: lower case, digits and dashes'),
        environmentSchema,
      )
      .describe(
        'Environment name (lower case, digits, dashes, e.g. `staging`) → its settings. The name is what ' +
          '`--env` and a request\'s `"environment"` say.',
      ),
  })
  .superRefine((config, context) => {
    const names = Object.keys(config.environments);
    if (names.length === 0) {
      context.addIssue({
        code: 'custom',
        path: ['environments'],
        message: 'expected at least one environment, received none',
      });
    }
    const regions = [...new Set(Object.values(config.environments).map((environment) => environment.region))];
    if (regions.length > 1) {
      context.addIssue({
        code: 'custom',
        path: ['environments'],
        message: `expected one region for every environment (EventBridge rules see only their own), received ${regions.join(', ')}`,
      });
    }
  })
  .describe('Where and how the deployment orchestrator deploys: one entry per environment.');

type ParsedEnvironment = z.output<typeof environmentSchema>;

export type ContainerConfig = Readonly<z.output<typeof containerSchema>>;
export type SecretConfig = Readonly<z.output<typeof secretSchema>>;
export type SmokeConfig = Readonly<z.output<typeof smokeSchema>>;
export type RolloutConfig = Readonly<z.output<typeof rolloutSchema>>;
export type ReleaseConfig = Readonly<z.output<typeof releaseSchema>>;
export type ApprovalPolicy = Readonly<z.output<typeof approvalSchema>>;
export type InfrastructureStackConfig = Readonly<z.output<typeof infrastructureStackSchema>>;

/**
 * An environment as the orchestrator uses it: its settings, its name (the key it has in the file)
 * and the application's display name (the file's `displayName`, the same for every environment).
 */
export type EnvironmentConfig = Readonly<ParsedEnvironment> & {
  readonly name: string;
  readonly displayName: string;
};

/** Environment name → its settings. */
export type Environments = Readonly<Record<string, EnvironmentConfig>>;

/** A validated configuration. */
export interface DeployConfig {
  /** `displayName`, or its default. */
  readonly displayName: string;
  readonly environments: Environments;
}

/** The default display name: the repository of the first environment's primary container. */
function defaultDisplayName(environments: Readonly<Record<string, ParsedEnvironment>>): string {
  const [first] = Object.values(environments);
  const primary = first?.containers.find((container) => container.primary) ?? first?.containers[0];
  // The schema accepts no configuration without an environment and a container; the fallback is unreachable.
  return primary?.repository ?? 'deployment';
}

/** The configuration was not accepted; the message lists every problem with its path. */
export class ConfigurationError extends Error {
  override readonly name = 'ConfigurationError';
  constructor(
    message: string,
    /** One line per problem: `<path>: <what is expected>, received <what is there>`. */
    readonly problems: readonly string[],
  ) {
    super(message);
  }
}

function describeReceived(input: unknown): string {
  if (input === undefined) return 'nothing';
  const text = JSON.stringify(input);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function pathOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(top level)' : path.map(String).join('.');
}

function problemOf(issue: z.core.$ZodIssue): string {
  const where = pathOf(issue.path);
  switch (issue.code) {
    case 'invalid_type':
      return `${where}: expected ${issue.expected}, received ${issue.input === undefined ? 'nothing (it is required)' : describeReceived(issue.input)}`;
    case 'unrecognized_keys':
      return `${where}: unknown ${issue.keys.length === 1 ? 'key' : 'keys'} ${issue.keys.map((key) => `"${key}"`).join(', ')}; remove or rename ${issue.keys.length === 1 ? 'it' : 'them'}`;
    case 'invalid_format':
      return `${where}: ${issue.message.startsWith('expected') ? issue.message : `expected a ${issue.format}`}, received ${describeReceived(issue.input)}`;
    case 'too_small':
      return `${where}: expected ${issue.origin === 'array' ? `at least ${String(issue.minimum)} item(s)` : `at least ${String(issue.minimum)}`}, received ${describeReceived(issue.input)}`;
    case 'too_big':
      return `${where}: expected at most ${String(issue.maximum)}, received ${describeReceived(issue.input)}`;
    case 'invalid_key':
      return `${where}: expected an environment name matching ${ENVIRONMENT_NAME_PATTERN.source} (lower case, digits, dashes), received ${describeReceived(issue.input)}`;
    case 'invalid_value':
      // A retired value says what replaced it rather than only what is allowed now.
      if (issue.message === RETIRED_STOP) return `${where}: ${RETIRED_STOP}`;
      return `${where}: expected one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}, received ${describeReceived(issue.input)}`;
    case 'custom':
      return issue.message.includes('received')
        ? `${where}: ${issue.message}`
        : `${where}: ${issue.message}, received ${describeReceived(issue.input)}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/**
 * A configuration from its parsed JSON, or a ConfigurationError naming every problem. `source` says
 * where it came from (a file path) so the message points at the file to fix.
 */
export function parseDeployConfig(raw: unknown, source: string): DeployConfig {
  const result = deployConfigSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.map(problemOf);
    throw new ConfigurationError(
      `The deployment configuration ${source} is not valid:\n${problems.map((problem) => `  ${problem}`).join('\n')}\n` +
        'Fix these and run the command again (docs/configuration.md describes every field).',
      problems,
    );
  }
  const displayName = result.data.displayName ?? defaultDisplayName(result.data.environments);
  const environments = Object.fromEntries(
    Object.entries(result.data.environments).map(([name, settings]) => [
      name,
      { ...settings, name, displayName },
    ]),
  );
  return { displayName, environments };
}

/** A configuration from the text of a file (JSON), or a ConfigurationError. */
export function parseDeployConfigText(text: string, source: string): DeployConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(
      `The deployment configuration ${source} is not JSON (${(error as Error).message}). Fix its syntax.`,
      [`(top level): expected JSON, received text that does not parse`],
    );
  }
  return parseDeployConfig(raw, source);
}

/** The configuration as the file holds it (environments keyed by name, without a `name` field). */
export function deployConfigDocument(config: DeployConfig): {
  readonly displayName: string;
  readonly environments: Record<string, unknown>;
} {
  return {
    displayName: config.displayName,
    environments: Object.fromEntries(
      Object.entries(config.environments).map(
        ([name, { name: _name, displayName: _shared, ...settings }]) => [name, settings],
      ),
    ),
  };
}

/** The JSON Schema of the file, for editors (`deploy.config.schema.json` is this, committed). */
export function deployConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(deployConfigSchema, { io: 'input', target: 'draft-2020-12' }) as Record<
    string,
    unknown
  >;
}
