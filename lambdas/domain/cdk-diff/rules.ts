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
  /** Shown in the docs table instead of `resourceTypes` when the list only repeats other rules'. */
  readonly typesInDocs?: string;
  readonly changes: readonly ChangeKind[];
  readonly severity: Severity;
  /** Why, in one sentence a person reads next to the finding. */
  readonly reason: string;
}

const removed: readonly ChangeKind[] = ['replace', 'may-replace', 'destroy'];
const anyChange: readonly ChangeKind[] = ['add', 'modify', 'replace', 'may-replace', 'destroy'];

/**
 * Types that hold data or in-flight messages, by family: replacing or deleting one loses what it
 * holds, so each family is a blocking rule with its own reason, and an in-place change of any of them
 * is a warning (`stateful-changed`). Judged by type alone, whatever the stack: a type here blocks
 * even if AFU-9 has none today. Every name is a real CloudFormation type (a test checks them against
 * aws-cdk-lib's). Deliberately not here, so a removal is the fallback warning: SNS topics and
 * EventBridge buses (they deliver on publish and keep nothing), SSM parameters (CloudFormation can
 * only create ones whose value is in the template, so a new one gets the same value).
 */
const dataFamilies = [
  {
    id: 'queue-removed',
    resourceTypes: ['AWS::SQS::Queue'],
    reason:
      'Replacing or deleting a queue deletes every message waiting in it; producers still using the old URL fail.',
  },
  {
    id: 'stream-removed',
    resourceTypes: [
      'AWS::Kinesis::Stream',
      'AWS::KinesisFirehose::DeliveryStream',
      'AWS::KinesisVideo::Stream',
    ],
    reason:
      'Replacing or deleting a stream drops the records it retains or buffers: consumers lose what they had not read yet.',
  },
  {
    id: 'kafka-removed',
    resourceTypes: ['AWS::MSK::Cluster', 'AWS::MSK::ServerlessCluster', 'AWS::MSK::Topic'],
    reason:
      'Replacing or deleting a Kafka cluster or topic deletes its partitions: every retained message and consumer offset is lost.',
  },
  {
    id: 'message-broker-removed',
    resourceTypes: ['AWS::AmazonMQ::Broker'],
    reason:
      'Replacing or deleting a message broker deletes its queues with every message in them; clients lose their endpoint.',
  },
  {
    id: 'event-archive-removed',
    resourceTypes: ['AWS::Events::Archive'],
    reason:
      'Replacing or deleting an event archive deletes the archived events: they can no longer be replayed.',
  },
  {
    id: 'cache-removed',
    resourceTypes: [
      'AWS::ElastiCache::CacheCluster',
      'AWS::ElastiCache::ReplicationGroup',
      'AWS::ElastiCache::GlobalReplicationGroup',
      'AWS::ElastiCache::ServerlessCache',
      'AWS::DAX::Cluster',
    ],
    reason:
      'A replaced or deleted cache starts empty: sessions, locks and jobs kept in it are gone, and the store behind it takes the full load.',
  },
  {
    id: 'search-domain-removed',
    resourceTypes: [
      'AWS::OpenSearchService::Domain',
      'AWS::Elasticsearch::Domain',
      'AWS::OpenSearchServerless::Collection',
    ],
    reason:
      'Replacing or deleting a search domain or collection deletes every index: documents must be reindexed from their source.',
  },
  {
    id: 'user-pool-removed',
    resourceTypes: ['AWS::Cognito::UserPool'],
    reason:
      'Replacing or deleting a user pool deletes every user account; passwords cannot be exported, so everyone must sign up again.',
  },
  {
    id: 'identity-pool-removed',
    resourceTypes: ['AWS::Cognito::IdentityPool'],
    reason:
      'Replacing or deleting an identity pool gives every user a new identity id: data stored under the old ids is orphaned.',
  },
  {
    id: 'file-system-removed',
    resourceTypes: [
      'AWS::EFS::FileSystem',
      'AWS::FSx::FileSystem',
      'AWS::FSx::Volume',
      'AWS::FSx::FileCache',
      'AWS::EC2::Volume',
      'AWS::Lightsail::Disk',
    ],
    reason: 'Replacing or deleting a file system or volume deletes every file on it.',
  },
  {
    id: 'bucket-removed',
    resourceTypes: [
      'AWS::S3::Bucket',
      'AWS::S3Express::DirectoryBucket',
      'AWS::S3Tables::TableBucket',
      'AWS::S3Tables::Table',
      'AWS::Lightsail::Bucket',
    ],
    reason:
      'Replacing or deleting a bucket loses its objects (or, if the bucket is not empty, fails the deployment half-way).',
  },
  {
    id: 'table-removed',
    resourceTypes: [
      'AWS::DynamoDB::Table',
      'AWS::DynamoDB::GlobalTable',
      'AWS::Cassandra::Keyspace',
      'AWS::Cassandra::Table',
      'AWS::Timestream::Database',
      'AWS::Timestream::Table',
    ],
    reason:
      'Replacing or deleting a table or keyspace deletes every item in it; only a backup brings them back, into a new table.',
  },
  {
    id: 'database-removed',
    resourceTypes: [
      'AWS::RDS::DBInstance',
      'AWS::RDS::DBCluster',
      'AWS::RDS::GlobalCluster',
      'AWS::RDS::DBShardGroup',
      'AWS::DocDB::DBCluster',
      'AWS::DocDB::GlobalCluster',
      'AWS::DocDBElastic::Cluster',
      'AWS::Neptune::DBCluster',
      'AWS::Neptune::GlobalCluster',
      'AWS::NeptuneGraph::Graph',
      'AWS::MemoryDB::Cluster',
      'AWS::MemoryDB::MultiRegionCluster',
      'AWS::DSQL::Cluster',
      'AWS::QLDB::Ledger',
      'AWS::Timestream::InfluxDBInstance',
      'AWS::Timestream::InfluxDBCluster',
      'AWS::Lightsail::Database',
    ],
    reason:
      'Replacing or deleting a database (any engine) creates an empty one: data is lost unless restored from a snapshot.',
  },
  {
    id: 'cluster-instance-removed',
    resourceTypes: ['AWS::DocDB::DBInstance', 'AWS::Neptune::DBInstance'],
    reason:
      "Replacing a cluster's instance drops its connections; if it is the only one, the database is unreachable until the new one is up.",
  },
  {
    id: 'warehouse-removed',
    resourceTypes: ['AWS::Redshift::Cluster', 'AWS::RedshiftServerless::Namespace'],
    reason:
      'Replacing or deleting a data warehouse or namespace deletes its databases: data is lost unless restored from a snapshot.',
  },
  {
    id: 'backup-vault-removed',
    resourceTypes: ['AWS::Backup::BackupVault', 'AWS::Backup::LogicallyAirGappedBackupVault'],
    reason:
      'A backup vault holds the recovery points every restore depends on; a new vault starts with none.',
  },
  {
    id: 'secret-removed',
    resourceTypes: ['AWS::SecretsManager::Secret'],
    reason: 'A deleted or replaced secret loses its value; tasks that read it fail to start.',
  },
  {
    id: 'kms-key-removed',
    resourceTypes: ['AWS::KMS::Key', 'AWS::KMS::ReplicaKey'],
    reason:
      'Data encrypted with a replaced or deleted key can no longer be decrypted once its scheduled deletion runs.',
  },
  {
    id: 'log-group-removed',
    resourceTypes: ['AWS::Logs::LogGroup', 'AWS::Logs::LogStream', 'AWS::CloudTrail::EventDataStore'],
    reason:
      'Replacing or deleting a log group, stream or event data store deletes the logs and audit events in it.',
  },
  {
    id: 'image-repository-removed',
    resourceTypes: ['AWS::ECR::Repository', 'AWS::ECR::PublicRepository'],
    reason:
      'Replacing or deleting an image repository deletes its images: running tasks cannot restart and rollbacks have nothing to return to.',
  },
  {
    id: 'source-repository-removed',
    resourceTypes: ['AWS::CodeCommit::Repository'],
    reason: 'Replacing or deleting a Git repository deletes its history, branches and pull requests.',
  },
] as const;

const statefulTypes = dataFamilies.flatMap((family) => family.resourceTypes);

export const diffRules: readonly DiffRule[] = [
  {
    id: 'ecs-service-removed',
    resourceTypes: ['AWS::ECS::Service'],
    changes: removed,
    severity: 'blocking',
    reason:
      'Replacing or deleting the ECS service stops every running task: the service is down until a new one is up.',
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
    reason: 'While a listener or its rule is replaced or gone, requests to the service are refused.',
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
  ...dataFamilies.map((family) => ({ ...family, changes: removed, severity: 'blocking' as const })),
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
    reason:
      'How requests reach the service changes in place (ports, rules, DNS targets): check it is intended.',
  },
  {
    id: 'stateful-changed',
    resourceTypes: statefulTypes,
    typesInDocs: 'every type of the data rules above, from `queue-removed` to `source-repository-removed`',
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
      r.typesInDocs ?? r.resourceTypes.map((t) => (t === '*' ? 'any other type' : `\`${t}\``)).join(', '),
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
