/**
 * An infrastructure release's start input (`"action": "infrastructure"`) → a validated request: the
 * environment's configured stacks the input names (or `all`), in dependency order. Refusals say what
 * to send instead. Pure.
 */
import type { EnvironmentConfig } from './environments';
import { DeploymentRejected } from './errors';
import {
  checkProductionAllowed,
  requestedByOrTrigger,
  serviceTarget,
  type ResolveContext,
} from './request-validation';
import { releaseOrder, unknownStacks } from './stack-graph';
import { Trigger, type DeploymentRequest, type StartDeploymentInput } from './workflow-state';

/** What a request of another action is told when it names stacks. */
export const STACKS_ONLY_FOR_INFRASTRUCTURE =
  '"stacks" names the stacks of an infrastructure release; send it with "action": "infrastructure", or remove it ' +
  'to deploy an image.';

/** The version an infrastructure release records: it deploys stacks, not an image. */
export const INFRASTRUCTURE_VERSION = 'infrastructure';

function reject(message: string): never {
  throw new DeploymentRejected(message);
}

function configuredStacks(environment: EnvironmentConfig) {
  const stacks = environment.infrastructure?.stacks;
  if (!stacks) {
    reject(
      `${environment.name} configures no infrastructure stacks, so it has none to release. Add ` +
        `"infrastructure": {"stacks": [{"name": "...", "dependsOn": [...]}]} to ${environment.name} in the ` +
        'deployment configuration and redeploy the orchestrator.',
    );
  }
  return stacks;
}

function requestedStacks(input: StartDeploymentInput, known: readonly string[]): readonly string[] | 'all' {
  const example = `e.g. "stacks": ["${known[0]}"] or "stacks": "all"`;
  const { stacks } = input;
  if (stacks === undefined) {
    reject(
      `An infrastructure release needs "stacks": the stacks to deploy (${known.join(', ')}), ${example}.`,
    );
  }
  if (stacks === 'all') return stacks;
  if (stacks.length === 0) {
    reject(`"stacks" is empty; name at least one of ${known.join(', ')}, ${example}.`);
  }
  const repeated = stacks.filter((name, index) => stacks.indexOf(name) !== index);
  if (repeated.length > 0) {
    reject(`"stacks" names ${[...new Set(repeated)].join(', ')} more than once; name each stack once.`);
  }
  return stacks;
}

export function infrastructureRequest(
  environment: EnvironmentConfig,
  input: StartDeploymentInput,
  context: ResolveContext,
): DeploymentRequest {
  const configured = configuredStacks(environment);
  const known = configured.map((stack) => stack.name);
  const imageFields = (['imageTag', 'imageDigest', 'images', 'redeploy'] as const).filter(
    (field) => input[field] !== undefined,
  );
  if (imageFields.length > 0) {
    reject(
      `An infrastructure release deploys stacks, not images: remove ${imageFields.join(', ')}, or send "action": ` +
        '"deploy" to deploy an image.',
    );
  }
  if (input.skipDiffGate !== undefined) {
    reject(
      'An infrastructure release gates every stack and skips none: remove skipDiffGate. A stack whose diff needs a ' +
        'person pauses the release until someone approves it (afu9-deploy approve <execution> --reason "...") or ' +
        'denies it; the approver and the reason are recorded.',
    );
  }
  checkProductionAllowed(environment, input);
  const requested = requestedStacks(input, known);
  if (requested !== 'all') {
    const unknown = unknownStacks(configured, requested);
    if (unknown.length > 0) {
      reject(
        `${environment.name} configures no stack ${unknown.map((name) => `"${name}"`).join(', ')}. Its stacks: ` +
          `${known.join(', ')}.`,
      );
    }
  }
  const stacks = releaseOrder(configured, requested);
  return {
    kind: 'infrastructure',
    ...serviceTarget(environment),
    images: [],
    version: INFRASTRUCTURE_VERSION,
    skipDiffGate: false,
    requestedBy: requestedByOrTrigger(input.requestedBy, Trigger.manual),
    trigger: Trigger.manual,
    deploymentKey: `${environment.name}#infrastructure#${context.executionName}`,
    redeploy: false,
    safetyNetPollSeconds: environment.rollout.safetyNetPollSeconds,
    stacks,
  };
}
