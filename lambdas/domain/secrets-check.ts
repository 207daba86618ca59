/**
 * Judges the secrets a deployment's tasks will need, in the ecspresso `verify` style: each secret
 * and each key is OK, NG (the new tasks would fail to start or run with a broken value), SKIP
 * (could not be checked here) or DENIED (the orchestrator's own role may not read it: a missing
 * grant, not a verdict on the secret, and still a refusal). Values come in to be judged and never
 * go out: no check, detail or message contains one.
 */
import type { SecretConfig } from './environments';
import type { VerificationCheck } from './workflow-state';

/** A runbook placeholder a secret value must not still be. */
export interface PlaceholderPattern {
  /** How the pattern is named in a check: the placeholder's shape, never the value. */
  readonly label: string;
  readonly pattern: RegExp;
}

/**
 * Placeholders copied from the AFU-9 runbook and from `.env.example` habits. Matched against the
 * trimmed value; a real credential does not look like any of these.
 */
const runbookPlaceholders: readonly PlaceholderPattern[] = [
  { label: '`ghp_your_…` (GitHub token placeholder)', pattern: /^ghp_your_/i },
  { label: '`sk-your-…` (API key placeholder)', pattern: /^sk-(ant-)?your[-_]/i },
  { label: '`CHANGE_ME`', pattern: /change[-_ ]?me/i },
  { label: '`REPLACE_ME`', pattern: /replace[-_ ]?me/i },
  { label: '`your-…-here`', pattern: /^your[-_ ].*[-_ ]here$/i },
  {
    label: '`your-…`',
    pattern: /^your[-_ ](token|key|api[-_ ]?key|secret|password|owner|repo|host|username|user)\b/i,
  },
  { label: '`<…>`', pattern: /^<[^<>]*>$/ },
  { label: '`${…}`', pattern: /^\$\{[^}]*\}$/ },
  { label: '`xxx…`', pattern: /^(x{3,}[-_.]?)+$/i },
  { label: '`TODO` / `TBD` / `FIXME`', pattern: /^(todo|tbd|fixme)\b/i },
  { label: '`placeholder` / `example` / `dummy`', pattern: /^(placeholder|example|dummy)$/i },
  { label: 'a value ending in `...`', pattern: /^[\w-]*(\.\.\.|…)$/ },
];

/** The label of the placeholder a value still is, or undefined when it looks real. */
export function matchRunbookPlaceholder(
  value: string,
  placeholders: readonly PlaceholderPattern[] = runbookPlaceholders,
): string | undefined {
  const trimmed = value.trim();
  return placeholders.find((placeholder) => placeholder.pattern.test(trimmed))?.label;
}

/** One `secrets[].valueFrom` (or `logConfiguration.secretOptions[].valueFrom`) of a container. */
export type SecretReference =
  | {
      readonly kind: 'secrets-manager';
      /** The secret's ARN (complete or partial) without the key / stage / version suffix. */
      readonly secretId: string;
      /** The name part of the ARN as written (a complete ARN carries AWS's 6-character suffix). */
      readonly nameInArn: string;
      readonly jsonKey?: string;
      readonly versionStage?: string;
      readonly versionId?: string;
    }
  | { readonly kind: 'ssm-parameter'; readonly parameter: string };

const secretsManagerArn =
  /^(arn:aws[\w-]*:secretsmanager:[^:]*:[^:]*:secret:([^:]+))(?::([^:]*)(?::([^:]*)(?::([^:]*))?)?)?$/;

/**
 * Reads a task definition's `valueFrom`. ECS documents two forms: a Secrets Manager ARN
 * (`arn:aws:secretsmanager:region:account:secret:name[-AbCdEf][:json-key:version-stage:version-id]`)
 * and a Parameter Store ARN or, in the same Region, a bare parameter name.
 */
export function parseSecretReference(valueFrom: string): SecretReference {
  const match = secretsManagerArn.exec(valueFrom);
  if (!match) return { kind: 'ssm-parameter', parameter: valueFrom };
  const [, secretId, nameInArn, jsonKey, versionStage, versionId] = match;
  return {
    kind: 'secrets-manager',
    secretId: secretId!,
    nameInArn: nameInArn!,
    ...(jsonKey ? { jsonKey } : {}),
    ...(versionStage ? { versionStage } : {}),
    ...(versionId ? { versionId } : {}),
  };
}

/** Whether an ARN's name part names this secret (a complete ARN appends `-` and 6 characters). */
function arnNameMatches(nameInArn: string, secretName: string): boolean {
  if (nameInArn === secretName) return true;
  const suffix = nameInArn.slice(secretName.length + 1);
  return nameInArn.startsWith(`${secretName}-`) && /^[A-Za-z0-9]{6}$/.test(suffix);
}

/**
 * Where the orchestrator knows a secret from, which decides who grants its role access: the stack
 * grants it on configured secrets and on RDS-managed ones (`rds!…`); a secret only the task
 * definition names is outside the configuration and granted nothing.
 */
export const SecretOrigin = {
  /** Named in the environment config (`secrets`); the stack grants reading it. */
  configured: 'configured',
  /** Named by RDS (`rds!db-…`, `rds!cluster-…`) and referenced by the task; the stack grants `rds!*`. */
  rdsManaged: 'rds-managed',
  /** Referenced only by the task definition; the stack grants nothing on it. */
  outsideConfig: 'outside-config',
} as const;
export type SecretOrigin = (typeof SecretOrigin)[keyof typeof SecretOrigin];

/** RDS names the secrets it manages for a database `rds!db-<id>` / `rds!cluster-<id>`. */
const RDS_MANAGED_PREFIX = 'rds!';

/** Everything one secret must satisfy, merged from the task definition and the environment config. */
export interface SecretRequirement {
  /** What DescribeSecret / GetSecretValue are called with (name or ARN). */
  readonly secretId: string;
  /** How checks name it: the configured name when there is one, else the ARN's name part. */
  readonly displayName: string;
  readonly requiredKeys: readonly string[];
  readonly optionalKeys: readonly string[];
  /** Some container receives the whole value (a reference without a JSON key). */
  readonly wholeValueUsed: boolean;
  readonly versionStage?: string;
  readonly versionId?: string;
  /** Where the requirement comes from, for the person reading the check. */
  readonly referencedBy: readonly string[];
  readonly origin: SecretOrigin;
}

export interface ReferencedSecret {
  /** The container (or its log configuration) that references it. */
  readonly container: string;
  readonly valueFrom: string;
}

export interface CollectedRequirements {
  readonly requirements: readonly SecretRequirement[];
  /** References this Lambda does not check (Parameter Store), reported as SKIP. */
  readonly skipped: readonly VerificationCheck[];
}

function union(a: readonly string[], b: readonly string[]): string[] {
  return [...new Set([...a, ...b])];
}

/**
 * Every secret the new tasks need: those the running task definition references (a JSON key in the
 * reference makes that key required, since ECS fails the task start without it) and those the
 * environment config names, merged per secret.
 */
export function collectSecretRequirements(
  references: readonly ReferencedSecret[],
  configured: readonly SecretConfig[],
): CollectedRequirements {
  const requirements = new Map<string, SecretRequirement>();
  const skipped: VerificationCheck[] = [];
  for (const secret of configured) {
    requirements.set(secret.name, {
      secretId: secret.name,
      displayName: secret.name,
      requiredKeys: [...secret.requiredKeys],
      optionalKeys: secret.optionalKeys.filter((key) => !secret.requiredKeys.includes(key)),
      wholeValueUsed: false,
      referencedBy: ['environment config'],
      origin: SecretOrigin.configured,
    });
  }
  for (const reference of references) {
    const parsed = parseSecretReference(reference.valueFrom);
    if (parsed.kind === 'ssm-parameter') {
      skipped.push({
        kind: 'secret',
        subject: parsed.parameter,
        status: 'SKIP',
        detail:
          `container ${reference.container} reads a Systems Manager parameter; this check covers ` +
          'Secrets Manager only. Confirm the parameter exists with `aws ssm get-parameter --name <name>`.',
      });
      continue;
    }
    const configuredName = configured.find((secret) => arnNameMatches(parsed.nameInArn, secret.name))?.name;
    const key = configuredName ?? parsed.secretId;
    const existing = requirements.get(key);
    const jsonKeys = parsed.jsonKey ? [parsed.jsonKey] : [];
    const requiredKeys = union(existing?.requiredKeys ?? [], jsonKeys);
    requirements.set(key, {
      // The task definition's ARN is what ECS will fetch, so prefer it over the configured name.
      secretId: parsed.secretId,
      displayName: configuredName ?? parsed.nameInArn,
      requiredKeys,
      optionalKeys: (existing?.optionalKeys ?? []).filter((k) => !requiredKeys.includes(k)),
      wholeValueUsed: (existing?.wholeValueUsed ?? false) || !parsed.jsonKey,
      ...((parsed.versionStage ?? existing?.versionStage)
        ? { versionStage: parsed.versionStage ?? existing?.versionStage }
        : {}),
      ...((parsed.versionId ?? existing?.versionId)
        ? { versionId: parsed.versionId ?? existing?.versionId }
        : {}),
      referencedBy: union(existing?.referencedBy ?? [], [`container ${reference.container}`]),
      origin: configuredName
        ? SecretOrigin.configured
        : parsed.nameInArn.startsWith(RDS_MANAGED_PREFIX)
          ? SecretOrigin.rdsManaged
          : SecretOrigin.outsideConfig,
    });
  }
  return { requirements: [...requirements.values()], skipped };
}

/** What Secrets Manager said about one secret. The value is only ever judged, never repeated. */
export type SecretObservation =
  | { readonly state: 'missing' }
  | { readonly state: 'no-current-value' }
  | { readonly state: 'scheduled-for-deletion'; readonly deletedDate: Date }
  | {
      readonly state: 'unreadable';
      /** Which call failed and the AWS error name, e.g. `GetSecretValue: DecryptionFailure`. */
      readonly failure: string;
    }
  | {
      /** The caller's own permissions refused the read: says nothing about the secret. */
      readonly state: 'access-denied';
      /** The IAM action that was refused: `secretsmanager:GetSecretValue`, `kms:Decrypt`, ... */
      readonly action: string;
      /** Which call failed and the AWS error name, e.g. `GetSecretValue: AccessDeniedException`. */
      readonly failure: string;
    }
  | { readonly state: 'readable'; readonly secretString?: string };

type JsonObject = Record<string, unknown>;

function parseJsonObject(text: string): JsonObject | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as JsonObject)
      : undefined;
  } catch {
    return undefined;
  }
}

function isEmptyValue(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'string' && value.trim() === '');
}

const putValueHint = (secret: string) =>
  `set it with \`aws secretsmanager put-secret-value --secret-id ${secret} --secret-string file://${secret.replace(/\W+/g, '-')}.json\``;

function judgeKey(secret: string, key: string, value: unknown, required: boolean): VerificationCheck {
  const subject = `${secret} › ${key}`;
  if (value === undefined) {
    return required
      ? {
          kind: 'secret-key',
          subject,
          status: 'NG',
          detail: `required key "${key}" is missing: add it, ${putValueHint(secret)}`,
        }
      : { kind: 'secret-key', subject, status: 'OK', detail: 'optional, not set' };
  }
  if (isEmptyValue(value)) {
    return required
      ? {
          kind: 'secret-key',
          subject,
          status: 'NG',
          detail: `required key "${key}" is empty: fill it, ${putValueHint(secret)}`,
        }
      : { kind: 'secret-key', subject, status: 'OK', detail: 'optional, empty' };
  }
  const placeholder = typeof value === 'string' ? matchRunbookPlaceholder(value) : undefined;
  if (placeholder) {
    return {
      kind: 'secret-key',
      subject,
      status: 'NG',
      detail: `key "${key}" still holds a runbook placeholder shaped like ${placeholder}: put the real value in, ${putValueHint(secret)}`,
    };
  }
  return { kind: 'secret-key', subject, status: 'OK', detail: required ? 'present' : 'optional, present' };
}

/** What to grant so the orchestrator's role may make the refused call, by who is meant to grant it. */
function grantAdvice(requirement: SecretRequirement, action: string): string {
  const secret = requirement.displayName;
  if (action === 'kms:Decrypt') {
    return (
      `grant the orchestrator's verify-secrets role kms:Decrypt on the KMS key that encrypts ${secret}, through ` +
      'Secrets Manager only (condition kms:ViaService = secretsmanager.<region>.amazonaws.com). The orchestrator ' +
      "stack grants that in IAM; a customer-managed key's key policy must allow it as well: add a statement for " +
      "the role, or let the key policy delegate to IAM (the account's root principal)"
    );
  }
  switch (requirement.origin) {
    case SecretOrigin.outsideConfig:
      return (
        `${secret} is not in the environment config, so the orchestrator stack grants nothing on it: add it (its ` +
        "name and keys) to this environment's `secrets` in the deployment configuration (deploy.config.json) and deploy the " +
        'orchestrator stack, or remove the reference from the task definition'
      );
    case SecretOrigin.rdsManaged:
    case SecretOrigin.configured:
      return (
        `the orchestrator stack grants ${action} on ${requirement.origin === SecretOrigin.rdsManaged ? 'RDS-managed secrets (secret:rds!*)' : 'every configured secret'}: ` +
        'deploy the current orchestrator stack; if it is deployed, find what denies it (an SCP, a permissions ' +
        "boundary, or the secret's resource policy)"
      );
  }
}

/** How a secret only the task definition names is marked, so it is never mistaken for a configured one. */
function outsideConfigNote(requirement: SecretRequirement): string | undefined {
  const by = requirement.referencedBy.join(', ');
  switch (requirement.origin) {
    case SecretOrigin.configured:
      return undefined;
    case SecretOrigin.rdsManaged:
      return `RDS-managed secret outside the environment config (referenced by ${by})`;
    case SecretOrigin.outsideConfig:
      return `outside the environment config (referenced only by ${by})`;
  }
}

/**
 * The checks for one secret: the secret itself, then each key it must or may have. A secret the
 * orchestrator's own role may not read is DENIED, naming the refused action and what to grant;
 * one that cannot be read for another reason is NG with "could not read". Both refuse the
 * deployment (fail closed), worded apart from "does not exist". A secret outside the environment
 * config says so in its first check.
 */
export function judgeSecret(
  requirement: SecretRequirement,
  observation: SecretObservation,
): VerificationCheck[] {
  const checks = judgeObservation(requirement, observation);
  const note = outsideConfigNote(requirement);
  if (!note) return checks;
  // The first check is always the secret's own; its keys follow.
  return checks.map((check, index) =>
    index === 0 ? { ...check, detail: check.detail ? `${note}: ${check.detail}` : note } : check,
  );
}

function judgeObservation(
  requirement: SecretRequirement,
  observation: SecretObservation,
): VerificationCheck[] {
  const secret = requirement.displayName;
  const ng = (detail: string): VerificationCheck[] => [
    { kind: 'secret', subject: secret, status: 'NG', detail },
  ];
  switch (observation.state) {
    case 'missing':
      return ng(
        `does not exist (needed by ${requirement.referencedBy.join(', ')}): create it with ` +
          `\`aws secretsmanager create-secret --name ${secret}\`` +
          (requirement.requiredKeys.length
            ? ` holding the keys ${requirement.requiredKeys.join(', ')}`
            : '') +
          ', or correct the reference in the task definition',
      );
    case 'no-current-value':
      return ng(`exists but has no current value (no AWSCURRENT version): ${putValueHint(secret)}`);
    case 'scheduled-for-deletion':
      return ng(
        `is scheduled for deletion on ${observation.deletedDate.toISOString()} and new tasks cannot read it: ` +
          `restore it with \`aws secretsmanager restore-secret --secret-id ${secret}\``,
      );
    case 'unreadable':
      return ng(
        `could not read it (${observation.failure}); this is not proof it is missing: check its KMS key is enabled ` +
          `and the secret decrypts (\`aws secretsmanager describe-secret --secret-id ${secret}\`), then retry`,
      );
    case 'access-denied':
      return [
        {
          kind: 'secret',
          subject: secret,
          status: 'DENIED',
          detail:
            `the orchestrator's own role may not call ${observation.action} on it (${observation.failure}), so it ` +
            `was not checked; this says nothing about the secret itself. To fix: ${grantAdvice(requirement, observation.action)}`,
        },
      ];
    case 'readable':
      return judgeReadableSecret(requirement, observation.secretString);
  }
}

function judgeReadableSecret(
  requirement: SecretRequirement,
  secretString: string | undefined,
): VerificationCheck[] {
  const secret = requirement.displayName;
  const keys = [...requirement.requiredKeys, ...requirement.optionalKeys];
  if (secretString === undefined) {
    return [
      {
        kind: 'secret',
        subject: secret,
        status: 'NG',
        detail: `holds binary data, but ECS injects only string secrets: store it as a string, ${putValueHint(secret)}`,
      },
    ];
  }
  if (keys.length === 0) {
    if (isEmptyValue(secretString)) {
      return [{ kind: 'secret', subject: secret, status: 'NG', detail: `is empty: ${putValueHint(secret)}` }];
    }
    const placeholder = matchRunbookPlaceholder(secretString);
    if (placeholder) {
      return [
        {
          kind: 'secret',
          subject: secret,
          status: 'NG',
          detail: `still holds a runbook placeholder shaped like ${placeholder}: ${putValueHint(secret)}`,
        },
      ];
    }
    return [{ kind: 'secret', subject: secret, status: 'OK', detail: 'exists and is set' }];
  }
  const document = parseJsonObject(secretString);
  if (!document) {
    return [
      {
        kind: 'secret',
        subject: secret,
        status: 'NG',
        detail: `is not a JSON object, so its keys (${keys.join(', ')}) cannot be read: store it as JSON, ${putValueHint(secret)}`,
      },
    ];
  }
  return [
    { kind: 'secret', subject: secret, status: 'OK', detail: 'exists and parses as a JSON object' },
    ...requirement.requiredKeys.map((key) => judgeKey(secret, key, document[key], true)),
    ...requirement.optionalKeys.map((key) => judgeKey(secret, key, document[key], false)),
  ];
}

/** One line per problem (NG, and DENIED marked as such), for the message a person reads in the notification. */
export function describeProblems(checks: readonly VerificationCheck[]): string[] {
  return checks
    .filter((check) => check.status === 'NG' || check.status === 'DENIED')
    .map(
      (check) =>
        `${check.status === 'DENIED' ? 'DENIED ' : ''}${check.kind} ${check.subject}: ${check.detail ?? 'failed'}`,
    );
}
