/**
 * The infrastructure stacks as a graph (lambdas/domain/stack-graph.ts): a configured graph is checked
 * (each mistake named with what was received), a request becomes the order a release deploys in, and
 * a stopped release says what became of each stack.
 */
import {
  releaseOrder,
  stackFates,
  stackGraphProblems,
  type StackNode,
} from '../../../lambdas/domain/stack-graph';

const node = (name: string, dependsOn: string[] = [], optional = false): StackNode => ({
  name,
  dependsOn,
  optional,
});

/** The runbook's graph: DNS (optional) → Network → Database → ECS → Alarms; IAM independent. */
const runbook: StackNode[] = [
  node('Dns', [], true),
  node('Network', ['Dns']),
  node('Database', ['Network']),
  node('Ecs', ['Database']),
  node('Alarms', ['Ecs']),
  node('Iam'),
];

describe('stackGraphProblems', () => {
  it("accepts the runbook's graph", () => {
    expect(stackGraphProblems(runbook)).toEqual([]);
  });

  it('names a stack listed twice, a dependency on an unlisted stack and a stack depending on itself', () => {
    // Act
    const problems = stackGraphProblems([node('A'), node('A'), node('B', ['Nope']), node('C', ['C'])]);

    // Assess
    expect(problems).toEqual([
      'expected each stack once, received "A" more than once',
      'expected "B" to depend only on listed stacks ("A", "A", "B", "C"), received "Nope"',
      'expected a stack not to depend on itself, received "C" in its own dependsOn',
    ]);
  });

  it('names a cycle as the path that closes it', () => {
    expect(stackGraphProblems([node('A', ['C']), node('B', ['A']), node('C', ['B'])])).toEqual([
      'expected no dependency cycle, received "A" → "C" → "B" → "A"',
    ]);
  });
});

describe('releaseOrder', () => {
  it('GIVEN "all" THEN every stack that is not optional, dependencies first, ties in the configured order', () => {
    expect(releaseOrder(runbook, 'all')).toEqual(['Network', 'Database', 'Ecs', 'Alarms', 'Iam']);
  });

  it('GIVEN stacks named out of order THEN they are deployed in dependency order', () => {
    expect(releaseOrder(runbook, ['Ecs', 'Iam', 'Network'])).toEqual(['Network', 'Ecs', 'Iam']);
  });

  it('GIVEN an optional stack named THEN it is deployed before the stacks that depend on it', () => {
    expect(releaseOrder(runbook, ['Network', 'Dns'])).toEqual(['Dns', 'Network']);
  });

  it('orders through stacks that are not requested (Alarms after Network, though Database and Ecs are left out)', () => {
    const graph = [node('Alarms', ['Ecs']), node('Ecs', ['Network']), node('Network')];
    expect(releaseOrder(graph, ['Alarms', 'Network'])).toEqual(['Network', 'Alarms']);
  });
});

describe('stackFates', () => {
  it('GIVEN a release that stopped at its second stack THEN the first deployed, the second failed, the rest were not attempted', () => {
    expect(stackFates(['A', 'B', 'C', 'D'], 1, 'failed')).toEqual([
      { name: 'A', fate: 'deployed' },
      { name: 'B', fate: 'failed' },
      { name: 'C', fate: 'not-attempted' },
      { name: 'D', fate: 'not-attempted' },
    ]);
  });

  it('GIVEN a release whose first stack was not approved THEN nothing was deployed', () => {
    expect(stackFates(['A', 'B'], 0, 'not-approved').map((entry) => entry.fate)).toEqual([
      'not-approved',
      'not-attempted',
    ]);
  });

  it('GIVEN a release that did not stop THEN every stack deployed', () => {
    expect(stackFates(['A', 'B'], 2, 'failed').map((entry) => entry.fate)).toEqual(['deployed', 'deployed']);
  });
});
