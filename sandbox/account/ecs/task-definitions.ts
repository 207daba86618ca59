/**
 * Task definition families and revisions as ECS keeps them: registering adds the next revision
 * (ACTIVE), deregistering marks one INACTIVE (running services keep it), and a revision is named by
 * `family`, `family:revision` or its ARN. Tags live with the revision.
 */
import {
  ClientException,
  type ContainerDefinition,
  type RegisterTaskDefinitionCommandInput,
  type Tag,
  type TaskDefinition,
} from '@aws-sdk/client-ecs';
import { awsError } from '../sdk-errors';

export interface StoredRevision {
  readonly arn: string;
  readonly family: string;
  readonly revision: number;
  status: 'ACTIVE' | 'INACTIVE';
  readonly definition: TaskDefinition;
  tags: Tag[];
}

export class TaskDefinitionRegistry {
  private readonly revisions: StoredRevision[] = [];
  private readonly nextRevision = new Map<string, number>();

  constructor(
    private readonly account: { readonly accountId: string; readonly region: string },
    private readonly firstRevision: number,
  ) {}

  arnFor(family: string, revision: number): string {
    return `arn:aws:ecs:${this.account.region}:${this.account.accountId}:task-definition/${family}:${revision}`;
  }

  register(input: RegisterTaskDefinitionCommandInput, registeredAt: Date): StoredRevision {
    const family = input.family ?? '';
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) {
      throw awsError(
        ClientException,
        'Family contains invalid characters: up to 255 letters, numbers, hyphens and underscores are allowed.',
      );
    }
    const containers: ContainerDefinition[] = input.containerDefinitions ?? [];
    if (containers.length === 0)
      throw awsError(ClientException, 'TaskDefinition must contain at least one container definition.');
    for (const container of containers) {
      if (!container.name) throw awsError(ClientException, 'Container.name should not be null or empty.');
      if (!container.image) throw awsError(ClientException, 'Container.image should not be null or empty.');
    }
    if (input.requiresCompatibilities?.includes('FARGATE') && (!input.cpu || !input.memory)) {
      throw awsError(ClientException, "Fargate requires that 'cpu' be defined at the task level.");
    }
    const revision = this.nextRevision.get(family) ?? this.firstRevision;
    this.nextRevision.set(family, revision + 1);
    const { tags, ...definitionInput } = input;
    const arn = this.arnFor(family, revision);
    const stored: StoredRevision = {
      arn,
      family,
      revision,
      status: 'ACTIVE',
      tags: structuredClone(tags ?? []),
      definition: {
        ...structuredClone(definitionInput),
        containerDefinitions: containers.map((c) => ({ essential: true, ...structuredClone(c) })),
        taskDefinitionArn: arn,
        family,
        revision,
        status: 'ACTIVE',
        volumes: structuredClone(input.volumes ?? []),
        placementConstraints: structuredClone(input.placementConstraints ?? []),
        compatibilities: ['EC2', 'FARGATE'],
        requiresAttributes: [{ name: 'com.amazonaws.ecs.capability.docker-remote-api.1.18' }],
        registeredAt,
        registeredBy: `arn:aws:sts::${this.account.accountId}:assumed-role/afu9-deploy-orchestrator/update-service`,
      },
    };
    this.revisions.push(stored);
    return stored;
  }

  deregister(reference: string | undefined, at: Date): StoredRevision {
    const stored = this.require(reference);
    stored.status = 'INACTIVE';
    Object.assign(stored.definition, { status: 'INACTIVE', deregisteredAt: at });
    return stored;
  }

  /** `family` (latest ACTIVE), `family:revision`, or the ARN. */
  find(reference: string | undefined): StoredRevision | undefined {
    if (!reference) return undefined;
    const name = reference.includes(':task-definition/')
      ? reference.split(':task-definition/')[1]!
      : reference;
    const [family, revisionText] = name.split(':');
    if (revisionText === undefined) {
      return this.revisions.filter((r) => r.family === family && r.status === 'ACTIVE').at(-1);
    }
    return this.revisions.find((r) => r.family === family && r.revision === Number(revisionText));
  }

  require(reference: string | undefined): StoredRevision {
    const stored = this.find(reference);
    if (!stored) throw awsError(ClientException, 'Unable to describe task definition.');
    return stored;
  }

  /** The newest revision number of the family, whatever its status; undefined when never registered. */
  latestRevision(family: string): number | undefined {
    const next = this.nextRevision.get(family);
    return next === undefined ? undefined : next - 1;
  }

  findByArn(arn: string): StoredRevision | undefined {
    return this.revisions.find((r) => r.arn === arn);
  }

  list(filter: { familyPrefix?: string; status?: string; sort?: string }): string[] {
    const status = filter.status ?? 'ACTIVE';
    const matching = this.revisions
      .filter((r) => (filter.familyPrefix ? r.family === filter.familyPrefix : true))
      .filter((r) => status === 'ALL' || r.status === status)
      .sort((a, b) => a.family.localeCompare(b.family) || a.revision - b.revision);
    if (filter.sort === 'DESC') matching.reverse();
    return matching.map((r) => r.arn);
  }
}
