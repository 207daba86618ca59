/**
 * The gate knows what holds data: replacing or deleting any resource type that holds data or
 * in-flight messages blocks, each family under its own rule and reason, whether or not AFU-9 has
 * such a resource today; changing one in place is a warning.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { diffRules, judgeDiff, type ResourceChange } from '../../../lambdas/domain/cdk-diff';
import type { ChangeKind } from '../../../lambdas/domain/workflow-state';

/** Every resource type CloudFormation has, as aws-cdk-lib's generated L1 classes name them. */
function cloudFormationTypes(): Set<string> {
  const root = dirname(require.resolve('aws-cdk-lib/package.json'));
  const types = new Set<string>();
  for (const module of readdirSync(root).filter((name) => name.startsWith('aws-'))) {
    const lib = join(root, module, 'lib');
    const files = readdirSync(lib).filter((name) => name.endsWith('.generated.js'));
    for (const file of files) {
      const source = readFileSync(join(lib, file), 'utf8');
      for (const match of source.matchAll(/CFN_RESOURCE_TYPE_NAME\s*=\s*"([^"]+)"/g)) types.add(match[1]);
    }
  }
  return types;
}

function judgeOne(resourceType: string, change: ChangeKind) {
  const resource: ResourceChange = {
    resourceType,
    path: 'Store/Resource',
    logicalId: 'Store1A2B3C4D',
    change,
    impact: change === 'may-replace' ? 'may be replaced' : change === 'modify' ? '' : change,
    properties: [],
  };
  return judgeDiff({
    ok: true,
    stacks: [
      {
        name: 'Afu9DataStack',
        noDifferences: false,
        resources: [resource],
        sections: new Set(['Resources']),
      },
    ],
  });
}

/** One family per line: its rule, the types the issue names for it, and what its reason must say. */
const families: readonly [rule: string, types: readonly string[], reason: RegExp][] = [
  ['queue-removed', ['AWS::SQS::Queue'], /every message waiting/],
  [
    'stream-removed',
    ['AWS::Kinesis::Stream', 'AWS::KinesisFirehose::DeliveryStream', 'AWS::KinesisVideo::Stream'],
    /records it retains or buffers/,
  ],
  [
    'kafka-removed',
    ['AWS::MSK::Cluster', 'AWS::MSK::ServerlessCluster', 'AWS::MSK::Topic'],
    /consumer offset/,
  ],
  ['message-broker-removed', ['AWS::AmazonMQ::Broker'], /queues with every message/],
  ['event-archive-removed', ['AWS::Events::Archive'], /can no longer be replayed/],
  [
    'cache-removed',
    [
      'AWS::ElastiCache::CacheCluster',
      'AWS::ElastiCache::ReplicationGroup',
      'AWS::ElastiCache::GlobalReplicationGroup',
      'AWS::ElastiCache::ServerlessCache',
      'AWS::DAX::Cluster',
    ],
    /starts empty/,
  ],
  [
    'search-domain-removed',
    ['AWS::OpenSearchService::Domain', 'AWS::Elasticsearch::Domain', 'AWS::OpenSearchServerless::Collection'],
    /reindexed/,
  ],
  ['user-pool-removed', ['AWS::Cognito::UserPool'], /every user account/],
  ['identity-pool-removed', ['AWS::Cognito::IdentityPool'], /new identity id/],
  [
    'file-system-removed',
    ['AWS::EFS::FileSystem', 'AWS::FSx::FileSystem', 'AWS::FSx::Volume', 'AWS::EC2::Volume'],
    /every file/,
  ],
  [
    'bucket-removed',
    ['AWS::S3::Bucket', 'AWS::S3Express::DirectoryBucket', 'AWS::S3Tables::TableBucket'],
    /objects/,
  ],
  [
    'table-removed',
    [
      'AWS::DynamoDB::Table',
      'AWS::DynamoDB::GlobalTable',
      'AWS::Cassandra::Keyspace',
      'AWS::Cassandra::Table',
      'AWS::Timestream::Database',
      'AWS::Timestream::Table',
    ],
    /every item/,
  ],
  [
    'database-removed',
    [
      'AWS::RDS::DBInstance',
      'AWS::RDS::DBCluster',
      'AWS::RDS::GlobalCluster',
      'AWS::DocDB::DBCluster',
      'AWS::DocDBElastic::Cluster',
      'AWS::Neptune::DBCluster',
      'AWS::NeptuneGraph::Graph',
      'AWS::MemoryDB::Cluster',
      'AWS::DSQL::Cluster',
      'AWS::QLDB::Ledger',
      'AWS::Timestream::InfluxDBInstance',
    ],
    /any engine.*snapshot/,
  ],
  ['cluster-instance-removed', ['AWS::DocDB::DBInstance', 'AWS::Neptune::DBInstance'], /unreachable/],
  ['warehouse-removed', ['AWS::Redshift::Cluster', 'AWS::RedshiftServerless::Namespace'], /snapshot/],
  [
    'backup-vault-removed',
    ['AWS::Backup::BackupVault', 'AWS::Backup::LogicallyAirGappedBackupVault'],
    /recovery points/,
  ],
  ['secret-removed', ['AWS::SecretsManager::Secret'], /loses its value/],
  ['kms-key-removed', ['AWS::KMS::Key', 'AWS::KMS::ReplicaKey'], /can no longer be decrypted/],
  [
    'log-group-removed',
    ['AWS::Logs::LogGroup', 'AWS::Logs::LogStream', 'AWS::CloudTrail::EventDataStore'],
    /logs/,
  ],
  ['image-repository-removed', ['AWS::ECR::Repository', 'AWS::ECR::PublicRepository'], /images/],
  ['source-repository-removed', ['AWS::CodeCommit::Repository'], /history/],
];

describe('rules for resources that hold data', () => {
  it('name only real CloudFormation resource types', () => {
    // Prepare
    const known = cloudFormationTypes();
    // CDK's version-reporting resource is added by the CDK app itself, not an L1 class.
    const named = diffRules
      .flatMap((r) => r.resourceTypes)
      .filter((t) => t !== '*' && t !== 'AWS::CDK::Metadata');

    // Act
    const unknown = named.filter((t) => !known.has(t));

    // Assess
    expect(known.size).toBeGreaterThan(1000);
    expect(unknown).toEqual([]);
  });

  it.each(families)(
    '%s: replacing or deleting a %p is BLOCKED with the family reason',
    (rule, types, reason) => {
      for (const type of types) {
        for (const change of ['replace', 'may-replace', 'destroy'] as const) {
          // Act
          const judgement = judgeOne(type, change);

          // Assess
          expect(judgement.verdict).toBe('BLOCKED');
          expect(judgement.blocking).toEqual([
            expect.objectContaining({
              resourceType: type,
              change,
              rule,
              reason: expect.stringMatching(reason),
            }),
          ]);
        }
      }
    },
  );

  it.each(families)('%s: changing a %p in place is a warning to look at, not a block', (_rule, types) => {
    for (const type of types) {
      const judgement = judgeOne(type, 'modify');

      expect(judgement.verdict).toBe('WARN');
      expect(judgement.warnings.map((f) => f.rule)).toEqual(['stateful-changed']);
    }
  });

  it('list every type of a blocking data family as stateful, and no family twice', () => {
    // Prepare
    const familyRules = diffRules.filter((r) => families.some(([id]) => id === r.id));
    const stateful = diffRules.find((r) => r.id === 'stateful-changed');

    // Assess
    expect(familyRules.map((r) => r.id).sort()).toEqual(families.map(([id]) => id).sort());
    for (const rule of familyRules) {
      expect(rule).toMatchObject({ severity: 'blocking', changes: ['replace', 'may-replace', 'destroy'] });
      expect(stateful?.resourceTypes).toEqual(expect.arrayContaining([...rule.resourceTypes]));
    }
    expect(stateful?.resourceTypes.length).toBe(familyRules.flatMap((r) => r.resourceTypes).length);
    // The docs table names them as the rules from the first family to the last: they must be adjacent.
    const ids = diffRules.map((r) => r.id);
    expect(
      ids.slice(ids.indexOf('queue-removed'), ids.indexOf('source-repository-removed') + 1).sort(),
    ).toEqual(families.map(([id]) => id).sort());
  });

  it.each([
    ['AWS::SNS::Topic', 'a topic delivers on publish and keeps no messages'],
    ['AWS::Events::EventBus', 'a bus routes events and keeps none (archives do)'],
    ['AWS::SSM::Parameter', "CloudFormation creates parameters from the template's value"],
  ])('leave a %s removal to the fallback warning: %s', (type) => {
    const judgement = judgeOne(type, 'destroy');

    expect(judgement.verdict).toBe('WARN');
    expect(judgement.warnings.map((f) => f.rule)).toEqual(['unlisted-removal']);
  });
});
