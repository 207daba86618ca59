import {
  ecsTagValue,
  judgeDeploymentInProgress,
  nextRevision,
  parseEcrImageUri,
  readOnlyTaskDefinitionFields,
  revisionTags,
  secretReferences,
  tagsForNextRevision,
  type DeploymentSnapshot,
} from '../../../lambdas/domain/task-definition';
import {
  executionId,
  newDigest,
  primaryImage,
  registry,
  runningTaskDefinition,
  taskDefinitionArn,
} from './fixtures';

const tags = revisionTags({
  executionId,
  deploymentKey: `staging#${newDigest}`,
  previousTaskDefinitionArn: taskDefinitionArn(41),
});
/** The next revision's tags when the running one carries none of its own. */
const ownOnly = { running: [], own: tags };

describe('nextRevision', () => {
  it('changes only the deployed image, pinned by digest in the registry of the current image', () => {
    const running = runningTaskDefinition();
    const plan = nextRevision(running, [primaryImage], ownOnly);
    if (!plan.ok) throw new Error(plan.problems.join('; '));
    const containers = plan.input.containerDefinitions!;
    expect(containers[0]).toEqual({
      ...running.containerDefinitions![0],
      image: `${registry}/afu9/control-center@${newDigest}`,
    });
    expect(containers.slice(1)).toEqual(running.containerDefinitions!.slice(1));
  });

  it('strips the read-only fields and keeps everything else, requiresCompatibilities included', () => {
    const running = runningTaskDefinition();
    const plan = nextRevision(running, [primaryImage], ownOnly);
    if (!plan.ok) throw new Error(plan.problems.join('; '));
    for (const field of readOnlyTaskDefinitionFields) expect(plan.input).not.toHaveProperty(field);
    expect(plan.input).toMatchObject({
      family: 'afu9-control-center',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
      networkMode: 'awsvpc',
      executionRoleArn: running.executionRoleArn,
      taskRoleArn: running.taskRoleArn,
      tags,
    });
  });

  it('refuses an unknown container, an unpinned image and a non-ECR current image', () => {
    const running = runningTaskDefinition();
    const dockerHub = {
      ...running,
      containerDefinitions: [{ ...running.containerDefinitions![0]!, image: 'node:20' }],
    };
    expect(nextRevision(running, [{ ...primaryImage, container: 'web' }], ownOnly)).toMatchObject({
      ok: false,
      problems: [expect.stringContaining('no container named "web"')],
    });
    expect(nextRevision(running, [{ ...primaryImage, digest: undefined }], ownOnly)).toMatchObject({
      ok: false,
      problems: [expect.stringContaining('not pinned by a sha256 digest')],
    });
    expect(nextRevision(dockerHub, [primaryImage], ownOnly)).toMatchObject({
      ok: false,
      problems: [expect.stringContaining('not an ECR image URI')],
    });
  });
});

describe('revision tags', () => {
  it('tags the execution, the deployment key and the previous revision in values ECS accepts', () => {
    expect(tags).toEqual([
      { key: 'afu9:execution-id', value: executionId },
      { key: 'afu9:deployment-key', value: `staging_${newDigest}` },
      { key: 'afu9:previous-task-definition', value: taskDefinitionArn(41) },
    ]);
    expect(ecsTagValue('a'.repeat(300))).toHaveLength(256);
  });
});

describe('tagsForNextRevision', () => {
  it("carries the running revision's tags over, without reserved aws: tags, its own tags replacing any of the same key", () => {
    // Act
    const next = tagsForNextRevision(
      [
        { key: 'owner', value: 'platform-team' },
        { key: 'aws:cloudformation:stack-name', value: 'Afu9EcsStack' },
        { key: 'AWS:Something', value: 'reserved in any case' },
        { key: 'afu9:execution-id', value: 'the execution that registered the running revision' },
      ],
      tags,
    );

    // Assess
    expect(next).toEqual({ ok: true, tags: [{ key: 'owner', value: 'platform-team' }, ...tags] });
  });

  it("accepts exactly ECS's 50 tags and refuses one more, naming how many to remove", () => {
    // Prepare
    const userTags = (count: number) =>
      Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: 'v' }));
    const reserved = Array.from({ length: 10 }, (_, i) => ({ key: `aws:k${i}`, value: 'v' }));

    // Act
    const atLimit = tagsForNextRevision([...userTags(47), ...reserved], tags);
    const overLimit = tagsForNextRevision(userTags(49), tags);

    // Assess
    expect(atLimit).toMatchObject({ ok: true, tags: expect.arrayContaining(tags) });
    expect(atLimit.ok && atLimit.tags).toHaveLength(50);
    expect(overLimit).toEqual({
      ok: false,
      problem: expect.stringContaining("over ECS's limit of 50: remove at least 2 tag(s)"),
    });
  });

  it('refuses the whole revision plan when the tags do not fit', () => {
    // Act
    const plan = nextRevision(runningTaskDefinition(), [primaryImage], {
      running: Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: 'v' })),
      own: tags,
    });

    // Assess
    expect(plan).toMatchObject({
      ok: false,
      problems: [expect.stringContaining('carries 50 tags of its own')],
    });
  });
});

describe('parseEcrImageUri', () => {
  it('reads registry, repository, tag and digest', () => {
    expect(parseEcrImageUri(`${registry}/afu9/mcp-github:stage-3f9c2ab`)).toEqual({
      registryHost: registry,
      registryId: '111122223333',
      region: 'eu-central-1',
      repository: 'afu9/mcp-github',
      tag: 'stage-3f9c2ab',
    });
    expect(parseEcrImageUri(`${registry}/afu9/control-center@${newDigest}`)).toMatchObject({
      digest: newDigest,
    });
    expect(parseEcrImageUri('public.ecr.aws/nginx/nginx:latest')).toBeUndefined();
  });
});

describe('secretReferences', () => {
  it('lists every container secret and log-driver secret option', () => {
    const running = runningTaskDefinition();
    const withLogSecret = {
      ...running,
      containerDefinitions: [
        ...running.containerDefinitions!,
        {
          name: 'log-router',
          logConfiguration: {
            logDriver: 'awsfirelens' as const,
            secretOptions: [{ name: 'API', valueFrom: 'arn:aws:ssm:eu-central-1:1:parameter/x' }],
          },
        },
      ],
    };
    const references = secretReferences(withLogSecret);
    expect(references).toHaveLength(8);
    expect(references.at(-1)).toEqual({
      container: 'log-router (log configuration)',
      valueFrom: 'arn:aws:ssm:eu-central-1:1:parameter/x',
    });
  });
});

describe('judgeDeploymentInProgress', () => {
  const primary = (overrides: Partial<DeploymentSnapshot> = {}): DeploymentSnapshot => ({
    id: 'ecs-svc/2',
    status: 'PRIMARY',
    taskDefinition: taskDefinitionArn(42),
    rolloutState: 'COMPLETED',
    createdAt: '2026-11-27T08:50:00.000Z',
    ...overrides,
  });

  it('is not in progress on one COMPLETED deployment, nor on one FAILED without rollback', () => {
    expect(judgeDeploymentInProgress([primary()])).toEqual({ inProgress: false });
    expect(judgeDeploymentInProgress([primary({ rolloutState: 'FAILED' })])).toEqual({ inProgress: false });
  });

  it('is in progress while the PRIMARY rolls out or an older deployment is still ACTIVE', () => {
    expect(judgeDeploymentInProgress([primary({ rolloutState: 'IN_PROGRESS' })])).toMatchObject({
      inProgress: true,
      deployment: { id: 'ecs-svc/2' },
    });
    const draining = judgeDeploymentInProgress([
      primary(),
      { id: 'ecs-svc/1', status: 'ACTIVE', taskDefinition: taskDefinitionArn(41) },
    ]);
    expect(draining).toMatchObject({
      inProgress: true,
      deployment: { id: 'ecs-svc/2' },
      why: expect.stringContaining('2 deployments'),
    });
  });
});
