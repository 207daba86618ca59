/**
 * The diff gate's rules, held as data so the table in docs/diff-gate.md is rendered from them (a test
 * keeps the two equal). How a resource change finds its rule (`judge.ts`):
 * 1. every rule naming the resource type and the change kind matches; the most severe one wins
 *    (ties: the first in this list);
 * 2. only when no such rule exists, the `*` rules apply: a destroy or replacement of a type no rule
 *    knows is a warning, never silently safe; an addition is safe (IAM additions are named above);
 *    an in-place change of a type no rule names is safe (stateful types are named above).
 * `orphan` (removed from the stack, kept in AWS) counts as `destroy`; `import` counts as `add`.
 */
import type { ChangeKind } from './model';

export type Severity = 'blocking' | 'warning' | 'safe';

export interface DiffRule {
  /** Stable id: printed in findings, used by people to talk about a rule. */
  readonly id: string;
  /** CloudFormation resource types, or `['*']` for the fallback rules. */
  readonly resourceTypes: readonly string[];
  readonly changes: readonly ChangeKind[];
  readonly severity: Severity;
  /** Why, in one sentence a person reads next to the finding. */
  readonly reason: string;
}

const removed: readonly ChangeKind[] = ['replace', 'may-replace', 'destroy'];
const anyChange: readonly ChangeKind[] = ['add', 'modify', 'replace', 'may-replace', 'destroy'];

/** Types that hold data or identity: replacing or deleting them loses it; changing them needs a look. */
const statefulTypes = [
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::S3::Bucket',
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::EFS::FileSystem',
  'AWS::SecretsManager::Secret',
  'AWS::KMS::Key',
  'AWS::Logs::LogGroup',
  'AWS::ECR::Repository',
] as const;

export const diffRules: readonly DiffRule[] = [
  {
    id: 'ecs-service-removed',
    resourceTypes: ['AWS::ECS::Service'],
    changes: removed,
    severity: 'blocking',
    reason:
      'Replacing or deleting the ECS service stops every running task: AFU-9 is down until a new service is up.',
  },
  {
    id: 'ecs-cluster-removed',
    resourceTypes: ['AWS::ECS::Cluster'],
    changes: removed,
    severity: 'blocking',
    reason: 'Replacing or deleting the cluster replaces the service on it: every task stops.',
  },
  {
    id: 'load-balancer-removed',
    resourceTypes: ['AWS::ElasticLoadBalancingV2::LoadBalancer', 'AWS::ElasticLoadBalancing::LoadBalancer'],
    changes: removed,
    severity: 'blocking',
    reason: 'A new load balancer has a new DNS name: traffic stops until DNS and clients follow.',
  },
  {
    id: 'listener-removed',
    resourceTypes: ['AWS::ElasticLoadBalancingV2::Listener', 'AWS::ElasticLoadBalancingV2::ListenerRule'],
    changes: removed,
    severity: 'blocking',
    reason: 'While a listener or its rule is replaced or gone, requests to AFU-9 are refused.',
  },
  {
    id: 'target-group-removed',
    resourceTypes: ['AWS::ElasticLoadBalancingV2::TargetGroup'],
    changes: removed,
    severity: 'blocking',
    reason:
      'A replaced target group starts empty: the load balancer has no healthy target until tasks register.',
  },
  {
    id: 'hosted-zone-removed',
    resourceTypes: ['AWS::Route53::HostedZone'],
    changes: removed,
    severity: 'blocking',
    reason:
      'A new hosted zone has new name servers: the domain stops resolving until the delegation is changed.',
  },
  {
    id: 'dns-record-removed',
    resourceTypes: ['AWS::Route53::RecordSet', 'AWS::Route53::RecordSetGroup'],
    changes: removed,
    severity: 'blocking',
    reason:
      'Deleting or replacing a DNS record makes the name unresolvable for a while (and cached as missing).',
  },
  {
    id: 'certificate-removed',
    resourceTypes: ['AWS::CertificateManager::Certificate'],
    changes: removed,
    severity: 'blocking',
    reason: 'A replaced certificate must be validated again; listeners using the old one break HTTPS.',
  },
  {
    id: 'security-group-removed',
    resourceTypes: ['AWS::EC2::SecurityGroup'],
    changes: removed,
    severity: 'blocking',
    reason: 'Deleting or replacing a security group cuts the network paths of everything attached to it.',
  },
  {
    id: 'network-removed',
    resourceTypes: ['AWS::EC2::VPC', 'AWS::EC2::Subnet'],
    changes: removed,
    severity: 'blocking',
    reason: 'Replacing the VPC or a subnet moves or deletes everything placed in it.',
  },
  {
    id: 'database-removed',
    resourceTypes: ['AWS::RDS::DBInstance', 'AWS::RDS::DBCluster'],
    changes: removed,
    severity: 'blocking',
    reason:
      'Replacing or deleting the database creates an empty one (data lost unless restored from a snapshot).',
  },
  {
    id: 'secret-removed',
    resourceTypes: ['AWS::SecretsManager::Secret'],
    changes: removed,
    severity: 'blocking',
    reason: 'A deleted or replaced secret loses its value; tasks that read it fail to start.',
  },
  {
    id: 'kms-key-removed',
    resourceTypes: ['AWS::KMS::Key'],
    changes: removed,
    severity: 'blocking',
    reason: 'Data encrypted with a deleted or replaced key can no longer be decrypted.',
  },
  {
    id: 'data-store-removed',
    resourceTypes: [
      'AWS::S3::Bucket',
      'AWS::DynamoDB::Table',
      'AWS::DynamoDB::GlobalTable',
      'AWS::EFS::FileSystem',
      'AWS::Logs::LogGroup',
      'AWS::ECR::Repository',
    ],
    changes: removed,
    severity: 'blocking',
    reason:
      'Replacing or deleting a bucket, table, file system, log group or image repository loses its data.',
  },
  {
    id: 'iam-changed',
    resourceTypes: [
      'AWS::IAM::Role',
      'AWS::IAM::Policy',
      'AWS::IAM::ManagedPolicy',
      'AWS::IAM::RolePolicy',
      'AWS::IAM::InstanceProfile',
      'AWS::IAM::User',
      'AWS::IAM::Group',
    ],
    changes: anyChange,
    severity: 'warning',
    reason: 'Permissions change: check the IAM table above the resources for what is granted or taken away.',
  },
  {
    id: 'security-group-rules-changed',
    resourceTypes: ['AWS::EC2::SecurityGroupIngress', 'AWS::EC2::SecurityGroupEgress'],
    changes: anyChange,
    severity: 'warning',
    reason: 'Network access changes: check the security group table for who can reach what.',
  },
  {
    id: 'security-group-changed',
    resourceTypes: ['AWS::EC2::SecurityGroup'],
    changes: ['modify'],
    severity: 'warning',
    reason: 'Inline rules of a security group change: check the security group table for who can reach what.',
  },
  {
    id: 'routing-changed',
    resourceTypes: [
      'AWS::ElasticLoadBalancingV2::Listener',
      'AWS::ElasticLoadBalancingV2::ListenerRule',
      'AWS::Route53::RecordSet',
      'AWS::Route53::RecordSetGroup',
    ],
    changes: ['modify'],
    severity: 'warning',
    reason: 'How requests reach AFU-9 changes in place (ports, rules, DNS targets): check it is intended.',
  },
  {
    id: 'stateful-changed',
    resourceTypes: statefulTypes,
    changes: ['modify'],
    severity: 'warning',
    reason: 'An in-place change to a resource holding data may restart it or change who can read it.',
  },
  {
    id: 'task-definition-revision',
    resourceTypes: ['AWS::ECS::TaskDefinition'],
    changes: ['add', 'modify', 'replace', 'may-replace'],
    severity: 'safe',
    reason: 'A new image or setting makes a new task definition revision: the normal deployment.',
  },
  {
    id: 'service-updated',
    resourceTypes: ['AWS::ECS::Service'],
    changes: ['modify'],
    severity: 'safe',
    reason: 'An in-place service update is a rolling deployment guarded by the circuit breaker.',
  },
  {
    id: 'cdk-metadata',
    resourceTypes: ['AWS::CDK::Metadata'],
    changes: anyChange,
    severity: 'safe',
    reason: "CDK's version-reporting metadata: no effect on running resources.",
  },
  {
    id: 'unlisted-removal',
    resourceTypes: ['*'],
    changes: removed,
    severity: 'warning',
    reason: 'A resource no rule knows is replaced or deleted: check nothing depends on it or its data.',
  },
  {
    id: 'resource-added',
    resourceTypes: ['*'],
    changes: ['add'],
    severity: 'safe',
    reason: 'A new resource: nothing running changes.',
  },
  {
    id: 'unlisted-update',
    resourceTypes: ['*'],
    changes: ['modify'],
    severity: 'safe',
    reason: 'An in-place change to a stateless resource no rule names.',
  },
];

const severityRank: Record<Severity, number> = { blocking: 3, warning: 2, safe: 1 };

function strongest(rules: readonly DiffRule[]): DiffRule | undefined {
  let best: DiffRule | undefined;
  for (const rule of rules)
    if (!best || severityRank[rule.severity] > severityRank[best.severity]) best = rule;
  return best;
}

/** Rules indexed by type and change once, so judging is two map lookups per resource. */
const byTypeAndChange = new Map<string, Map<ChangeKind, DiffRule>>();
const fallbackByChange = new Map<ChangeKind, DiffRule>();
for (const change of anyChange) {
  const fallback = strongest(
    diffRules.filter((r) => r.resourceTypes.includes('*') && r.changes.includes(change)),
  );
  if (!fallback) throw new Error(`The diff rules have no fallback for '${change}': add a '*' rule for it.`);
  fallbackByChange.set(change, fallback);
}
for (const type of new Set(diffRules.flatMap((r) => r.resourceTypes).filter((t) => t !== '*'))) {
  const byChange = new Map<ChangeKind, DiffRule>();
  for (const change of anyChange) {
    const rule = strongest(
      diffRules.filter((r) => r.resourceTypes.includes(type) && r.changes.includes(change)),
    );
    if (rule) byChange.set(change, rule);
  }
  byTypeAndChange.set(type, byChange);
}

/** The rule that judges a change of this type: a named rule if any, else the fallback. */
export function ruleFor(resourceType: string, change: ChangeKind): DiffRule {
  return byTypeAndChange.get(resourceType)?.get(change) ?? (fallbackByChange.get(change) as DiffRule);
}

const severityLabel: Record<Severity, string> = { blocking: 'BLOCKING', warning: 'WARNING', safe: 'SAFE' };

/**
 * The rules as a Markdown table, padded the way Prettier pads tables so docs/diff-gate.md (which
 * holds this exact text) stays Prettier-clean.
 */
export function renderRulesTable(rules: readonly DiffRule[] = diffRules): string {
  const rows = [
    ['rule', 'severity', 'changes', 'resource types', 'why'],
    ...rules.map((r) => [
      `\`${r.id}\``,
      severityLabel[r.severity],
      r.changes.join(', '),
      r.resourceTypes.map((t) => (t === '*' ? 'any other type' : `\`${t}\``)).join(', '),
      r.reason.replace(/\|/g, '\\|'),
    ]),
  ];
  const widths = rows[0].map((_, column) => Math.max(3, ...rows.map((row) => row[column].length)));
  const render = (row: readonly string[]) =>
    `| ${row.map((cell, i) => cell.padEnd(widths[i])).join(' | ')} |`;
  return [
    render(rows[0]),
    `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`,
    ...rows.slice(1).map(render),
  ].join('\n');
}
