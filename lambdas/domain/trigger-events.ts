/**
 * The three shapes that can start an execution, as schemas: the start-execution input a person
 * sends, and the two raw EventBridge events the orchestrator's rules deliver. Everything that comes
 * from outside is parsed here once; nothing downstream reads an unparsed field.
 *
 * Event shapes follow the AWS documentation ("Amazon ECR events and EventBridge", "Amazon ECS
 * service deployment state change events"); the envelope is Powertools' EventBridge schema.
 */
import { EventBridgeSchema } from '@aws-lambda-powertools/parser/schemas/eventbridge';
import { z } from 'zod';
import { DeploymentRejected } from './errors';
import type { StartDeploymentInput } from './workflow-state';

/** `ECR Image Action` (source `aws.ecr`): one per push or delete, best effort, possibly twice. */
export const EcrImageActionEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.ecr'),
  'detail-type': z.literal('ECR Image Action'),
  detail: z.object({
    result: z.string(),
    'action-type': z.string(),
    'repository-name': z.string(),
    // Both are optional here so that a push or delete we do not act on is ignored, not refused.
    'image-digest': z.string().optional(),
    'image-tag': z.string().optional(),
  }),
});
export type EcrImageActionEvent = z.infer<typeof EcrImageActionEventSchema>;

/** `ECS Deployment State Change` (source `aws.ecs`); `resources[0]` is the service ARN. */
export const EcsDeploymentStateChangeEventSchema = EventBridgeSchema.extend({
  source: z.literal('aws.ecs'),
  'detail-type': z.literal('ECS Deployment State Change'),
  resources: z.array(z.string()).min(1),
  detail: z.object({
    eventType: z.string(),
    eventName: z.string(),
    deploymentId: z.string(),
    updatedAt: z.string().optional(),
    reason: z.string().optional(),
  }),
});
export type EcsDeploymentStateChangeEvent = z.infer<typeof EcsDeploymentStateChangeEventSchema>;

/** The ECS deployment event names (`detail.eventName`). */
export const EcsDeploymentEventName = {
  inProgress: 'SERVICE_DEPLOYMENT_IN_PROGRESS',
  completed: 'SERVICE_DEPLOYMENT_COMPLETED',
  /** Sent only for services with the deployment circuit breaker turned on. */
  failed: 'SERVICE_DEPLOYMENT_FAILED',
} as const;

const startInputShape = {
  environment: z.string(),
  action: z.enum(['deploy', 'rollback', 'infrastructure']).optional(),
  imageTag: z.string().optional(),
  imageDigest: z.string().optional(),
  images: z.record(z.string(), z.string()).optional(),
  skipDiffGate: z.boolean().optional(),
  reason: z.string().optional(),
  allowProduction: z.boolean().optional(),
  requestedBy: z.string().optional(),
  redeploy: z.boolean().optional(),
  stacks: z.union([z.literal('all'), z.array(z.string())]).optional(),
};

/**
 * Strict: a misspelt field (`allowProd`, `skipDiffgate`) is refused instead of silently dropped,
 * because a dropped guardrail flag would change what the deployment does.
 */
export const StartDeploymentInputSchema = z.strictObject(startInputShape);

// Compile-time check that the schema and the contract type describe the same input.
const schemaMatchesContract: z.ZodType<StartDeploymentInput> = StartDeploymentInputSchema;
void schemaMatchesContract;

const startInputFields: readonly string[] = Object.keys(startInputShape);

/** What an execution was started with, once recognised and parsed. */
export type TriggerInput =
  | { readonly kind: 'start'; readonly input: StartDeploymentInput }
  | { readonly kind: 'ecr-image-action'; readonly event: EcrImageActionEvent }
  | { readonly kind: 'ecs-deployment-state-change'; readonly event: EcsDeploymentStateChangeEvent }
  /** An EventBridge event of another kind: not for the orchestrator. */
  | { readonly kind: 'other-event'; readonly source: string; readonly detailType: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One line per problem, each naming the field, so the rejection says exactly what to fix. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const at = issue.path.length > 0 ? issue.path.join('.') : 'input';
      if (issue.code === 'unrecognized_keys') {
        return `${at}: unknown field(s) ${issue.keys.map((key) => `"${key}"`).join(', ')} (known fields: ${startInputFields.join(', ')})`;
      }
      return `${at}: ${issue.message}`;
    })
    .join('; ');
}

function parseEvent<T>(schema: z.ZodType<T>, input: unknown, what: string): T {
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    throw new DeploymentRejected(
      `The ${what} event does not have the shape AWS documents (${describeIssues(parsed.error)}). ` +
        'Send the event exactly as EventBridge delivers it (see the samples in events/).',
      { cause: parsed.error },
    );
  }
  return parsed.data;
}

/**
 * Recognises and parses an execution input. An object with `source` and `detail-type` is an
 * EventBridge event; anything else must be a start-execution input. Throws DeploymentRejected when
 * the input is neither.
 */
export function parseTriggerInput(input: unknown): TriggerInput {
  if (!isRecord(input)) {
    throw new DeploymentRejected(
      `The execution input must be a JSON object, received ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}. ` +
        'Start a deployment with e.g. {"environment": "staging", "imageTag": "stage-3f9c2ab"} (see events/start-staging.json).',
    );
  }
  if (typeof input.source === 'string' && typeof input['detail-type'] === 'string') {
    const source = input.source;
    const detailType = input['detail-type'];
    if (source === 'aws.ecr' && detailType === 'ECR Image Action') {
      return {
        kind: 'ecr-image-action',
        event: parseEvent(EcrImageActionEventSchema, input, 'ECR Image Action'),
      };
    }
    if (source === 'aws.ecs' && detailType === 'ECS Deployment State Change') {
      return {
        kind: 'ecs-deployment-state-change',
        event: parseEvent(EcsDeploymentStateChangeEventSchema, input, 'ECS Deployment State Change'),
      };
    }
    return { kind: 'other-event', source, detailType };
  }
  const parsed = StartDeploymentInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new DeploymentRejected(
      `The start input is not valid: ${describeIssues(parsed.error)}. ` +
        'Fix these fields and start again (see events/start-staging.json for a complete example).',
      { cause: parsed.error },
    );
  }
  return { kind: 'start', input: parsed.data };
}
