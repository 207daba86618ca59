import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { diffRules, renderRulesTable, ruleFor } from '../../../lambdas/domain/cdk-diff';
import type { ChangeKind } from '../../../lambdas/domain/workflow-state';

describe('diff rules', () => {
  it('are shown in docs/diff-gate.md exactly as the rule data renders them', () => {
    // Prepare
    const page = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'diff-gate.md'), 'utf8');
    const match = /<!-- diff-gate-rules:[^>]*-->\n\n([\s\S]*?)\n\n<!-- \/diff-gate-rules -->/.exec(page);

    // Assess
    expect(match?.[1]).toBe(renderRulesTable());
  });

  it('have unique ids and a reason for each', () => {
    const ids = diffRules.map((r) => r.id);

    expect(new Set(ids).size).toBe(ids.length);
    for (const rule of diffRules) expect(rule.reason.length).toBeGreaterThan(20);
  });

  it.each<[string, ChangeKind, string, string]>([
    ['AWS::ECS::Service', 'replace', 'ecs-service-removed', 'blocking'],
    ['AWS::ECS::Service', 'modify', 'service-updated', 'safe'],
    ['AWS::ECS::TaskDefinition', 'replace', 'task-definition-revision', 'safe'],
    ['AWS::RDS::DBInstance', 'may-replace', 'database-removed', 'blocking'],
    ['AWS::RDS::DBInstance', 'modify', 'stateful-changed', 'warning'],
    ['AWS::EC2::SecurityGroup', 'destroy', 'security-group-removed', 'blocking'],
    ['AWS::EC2::SecurityGroup', 'modify', 'security-group-changed', 'warning'],
    ['AWS::EC2::SecurityGroup', 'add', 'resource-added', 'safe'],
    ['AWS::IAM::Role', 'add', 'iam-changed', 'warning'],
    ['AWS::IAM::Policy', 'destroy', 'iam-changed', 'warning'],
    ['AWS::SQS::Queue', 'add', 'resource-added', 'safe'],
    ['AWS::SQS::Queue', 'modify', 'stateful-changed', 'warning'],
    ['AWS::SQS::Queue', 'replace', 'queue-removed', 'blocking'],
    ['AWS::SNS::Topic', 'modify', 'unlisted-update', 'safe'],
    ['AWS::SNS::Topic', 'destroy', 'unlisted-removal', 'warning'],
    ['Custom::Anything', 'replace', 'unlisted-removal', 'warning'],
    ['AWS::Lambda::Function', 'may-replace', 'unlisted-removal', 'warning'],
    ['AWS::CDK::Metadata', 'destroy', 'cdk-metadata', 'safe'],
  ])('judge %s %s by %s (%s)', (type, change, id, severity) => {
    expect(ruleFor(type, change)).toMatchObject({ id, severity });
  });

  it('never judge a destroy or replacement of any type as safe, except task definition revisions and CDK metadata', () => {
    // Prepare
    const named = diffRules.flatMap((r) => r.resourceTypes).filter((t) => t !== '*');
    const types = [...new Set(named), 'AWS::Made::Up'];
    const removals: ChangeKind[] = ['replace', 'may-replace', 'destroy'];

    // Act
    const safeRemovals = types.flatMap((t) =>
      removals.filter((c) => ruleFor(t, c).severity === 'safe').map((c) => `${t} ${c}`),
    );

    // Assess
    expect(safeRemovals.sort()).toEqual([
      'AWS::CDK::Metadata destroy',
      'AWS::CDK::Metadata may-replace',
      'AWS::CDK::Metadata replace',
      'AWS::ECS::TaskDefinition may-replace',
      'AWS::ECS::TaskDefinition replace',
    ]);
  });
});
