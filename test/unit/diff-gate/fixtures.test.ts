/**
 * Every real `cdk diff` fixture, judged: its verdict and its key findings. The fixtures come from
 * `npm run fixtures:diff` (test/fixtures/cdk-diff/app); a new fixture without an entry here fails.
 */
import { diffRules, judgeDiffText, type DiffJudgement } from '../../../lambdas/domain/cdk-diff';
import type { DiffVerdict, Finding } from '../../../lambdas/domain/workflow-state';
import { fixtureNames, readFixture } from './fixture-support';

interface Expected {
  readonly verdict: DiffVerdict;
  /** `rule: Type LogicalId change`, in output order; exact unless `partial`. */
  readonly blocking?: readonly string[];
  readonly warnings?: readonly string[];
  readonly safe?: readonly string[];
  /** Only check that these findings are among the ones of their list. */
  readonly partial?: boolean;
  readonly message?: RegExp;
}

const newImage: Expected = {
  verdict: 'PASS',
  safe: ['task-definition-revision: AWS::ECS::TaskDefinition TaskDef54694570 replace'],
};
const serviceReplace: Expected = {
  verdict: 'BLOCKED',
  blocking: ['ecs-service-removed: AWS::ECS::Service ServiceD69D759B replace'],
};
const iamChanges: Expected = {
  verdict: 'WARN',
  warnings: [
    'iam-changed: AWS::IAM::Role ReadOnlyRoleA3AD4127 add',
    'iam-changed: AWS::IAM::Policy DeployRoleDefaultPolicyDC930F96 modify',
  ],
};
const officeRules = [
  'security-group-rules-changed: AWS::EC2::SecurityGroupEgress AlbSecurityGrouptoAfu9NetworkStackServiceSecurityGroup1EC22CD73443BEA35DC9 add',
  'security-group-rules-changed: AWS::EC2::SecurityGroupIngress ServiceSecurityGroupfromAfu9NetworkStackAlbSecurityGroupD1479A093443F54F0DB3 add',
  'security-group-changed: AWS::EC2::SecurityGroup AlbSecurityGroup86A59E99 modify',
];

const expectations: Record<string, Expected> = {
  'ecs-new-image': newImage,
  'ecs-new-image-crlf': newImage,
  'ecs-new-image-with-warnings': newImage,
  'ecs-service-replace': serviceReplace,
  'ecs-service-replace-colour': serviceReplace,
  'ecs-cluster-replace': {
    verdict: 'BLOCKED',
    blocking: [
      'ecs-cluster-removed: AWS::ECS::Cluster ClusterEB0386A7 replace',
      'ecs-service-removed: AWS::ECS::Service ServiceD69D759B replace',
    ],
  },
  'ecs-service-scale': {
    verdict: 'PASS',
    safe: [
      'service-updated: AWS::ECS::Service ServiceD69D759B modify',
      'unlisted-update: AWS::SNS::Topic Alerts91F83244 modify',
    ],
  },
  'network-new-parameter': {
    verdict: 'PASS',
    safe: ['resource-added: AWS::SSM::Parameter VpcIdParameter44761537 add'],
  },
  'database-new-parameter': {
    verdict: 'PASS',
    safe: ['resource-added: AWS::SSM::Parameter EndpointParameter617F6D67 add'],
  },
  'ecs-safe-additions': {
    verdict: 'PASS',
    safe: [
      'resource-added: AWS::SQS::Queue DeadLettersBBF8BAAB add',
      'resource-added: AWS::SQS::Queue JobsDF1CC2D4 add',
    ],
  },
  'unknown-type-destroy': {
    verdict: 'WARN',
    warnings: ['unlisted-removal: AWS::SNS::Topic Alerts91F83244 destroy'],
  },
  'no-differences': { verdict: 'PASS', blocking: [], warnings: [], safe: [], message: /no resource changes/ },
  'network-security-group-destroy': {
    verdict: 'BLOCKED',
    blocking: ['security-group-removed: AWS::EC2::SecurityGroup LegacyBastionSecurityGroup2A2852FD destroy'],
  },
  'network-security-group-rules': { verdict: 'WARN', warnings: officeRules },
  'network-load-balancer-replace': {
    verdict: 'BLOCKED',
    blocking: [
      'load-balancer-removed: AWS::ElasticLoadBalancingV2::LoadBalancer Alb16C2F182 replace',
      'listener-removed: AWS::ElasticLoadBalancingV2::Listener AlbHttp7966E42E replace',
      'target-group-removed: AWS::ElasticLoadBalancingV2::TargetGroup ControlCenterTargets98FD4D08 replace',
    ],
    partial: true,
  },
  'network-listener-port': {
    verdict: 'WARN',
    warnings: ['routing-changed: AWS::ElasticLoadBalancingV2::Listener AlbHttp7966E42E modify'],
  },
  'network-vpc-replace': {
    verdict: 'BLOCKED',
    blocking: ['network-removed: AWS::EC2::VPC Vpc8378EB38 replace'],
    partial: true,
  },
  'database-may-replace': {
    verdict: 'BLOCKED',
    blocking: ['database-removed: AWS::RDS::DBInstance Postgres9DC8BB04 may-replace'],
  },
  'database-backup-retention': {
    verdict: 'BLOCKED',
    blocking: ['database-removed: AWS::RDS::DBInstance Postgres9DC8BB04 may-replace'],
  },
  'database-destroy': {
    verdict: 'BLOCKED',
    blocking: [
      'security-group-removed: AWS::EC2::SecurityGroup PostgresSecurityGroup670916BF destroy',
      'secret-removed: AWS::SecretsManager::Secret Afu9DatabaseStackPostgresSecret50492EFB3fdaad7efa858a3daf9490cf0a702aeb destroy',
      'database-removed: AWS::RDS::DBInstance Postgres9DC8BB04 destroy',
    ],
    warnings: [
      'unlisted-removal: AWS::RDS::DBSubnetGroup PostgresSubnetGroup9F8A4D6E destroy',
      'unlisted-removal: AWS::SecretsManager::SecretTargetAttachment PostgresSecretAttachment75CD6F6F destroy',
    ],
  },
  'data-stores-modify': {
    verdict: 'WARN',
    warnings: [
      'stateful-changed: AWS::S3::Bucket ReportsBucket4E7C5994 modify',
      'stateful-changed: AWS::Logs::LogGroup AccessLogs8B620ECA modify',
    ],
  },
  'data-stores-destroy': {
    verdict: 'BLOCKED',
    blocking: [
      'kms-key-removed: AWS::KMS::Key DataKey17AFBB84 destroy',
      'bucket-removed: AWS::S3::Bucket ArtifactsBucket2AAC5544 destroy',
      'table-removed: AWS::DynamoDB::Table Sessions8896A56D destroy',
      'secret-removed: AWS::SecretsManager::Secret GithubSecretDC384340 destroy',
      'file-system-removed: AWS::EFS::FileSystem Workspace destroy',
      'log-group-removed: AWS::Logs::LogGroup AuditLogsB945E340 destroy',
    ],
  },
  'stores-replace': {
    verdict: 'BLOCKED',
    blocking: [
      'queue-removed: AWS::SQS::Queue JobsQueue replace',
      'stream-removed: AWS::Kinesis::Stream Events replace',
      'cache-removed: AWS::ElastiCache::ServerlessCache Sessions replace',
    ],
    // CDK prints a change of the user pool's sign-in attributes as in place: CloudFormation refuses
    // that update (Cognito cannot change them) rather than replacing the pool, so it is a warning.
    warnings: ['stateful-changed: AWS::Cognito::UserPool Users modify'],
  },
  'stores-queue-modify': {
    verdict: 'WARN',
    warnings: ['stateful-changed: AWS::SQS::Queue JobsQueue modify'],
  },
  'stores-destroy': {
    verdict: 'BLOCKED',
    blocking: [
      'queue-removed: AWS::SQS::Queue JobsQueue destroy',
      'user-pool-removed: AWS::Cognito::UserPool Users destroy',
      'identity-pool-removed: AWS::Cognito::IdentityPool Identities destroy',
      'stream-removed: AWS::Kinesis::Stream Events destroy',
      'stream-removed: AWS::KinesisFirehose::DeliveryStream AuditDelivery destroy',
      'kafka-removed: AWS::MSK::ServerlessCluster Kafka destroy',
      'message-broker-removed: AWS::AmazonMQ::Broker Broker destroy',
      'event-archive-removed: AWS::Events::Archive EventArchive destroy',
      'cache-removed: AWS::ElastiCache::ServerlessCache Sessions destroy',
      'search-domain-removed: AWS::OpenSearchService::Domain Search destroy',
      'database-removed: AWS::DocDB::DBCluster Documents destroy',
      'cluster-instance-removed: AWS::DocDB::DBInstance DocumentsInstance destroy',
      'warehouse-removed: AWS::RedshiftServerless::Namespace Analytics destroy',
      'backup-vault-removed: AWS::Backup::BackupVault Backups destroy',
      'image-repository-removed: AWS::ECR::Repository ControlCenterImages destroy',
      'source-repository-removed: AWS::CodeCommit::Repository Runbooks destroy',
    ],
    // An app client holds no data: CDK recreates it from the template.
    warnings: ['unlisted-removal: AWS::Cognito::UserPoolClient UsersClient destroy'],
  },
  'dns-record-certificate-replace': {
    verdict: 'BLOCKED',
    blocking: [
      'dns-record-removed: AWS::Route53::RecordSet ControlCenterRecord855B7F34 replace',
      'certificate-removed: AWS::CertificateManager::Certificate Certificate4E7ABB08 replace',
    ],
  },
  'dns-zone-destroy': {
    verdict: 'BLOCKED',
    blocking: [
      'hosted-zone-removed: AWS::Route53::HostedZone ZoneA5DE4B68 destroy',
      'dns-record-removed: AWS::Route53::RecordSet ControlCenterRecord855B7F34 destroy',
      'certificate-removed: AWS::CertificateManager::Certificate Certificate4E7ABB08 destroy',
    ],
  },
  'iam-changes': iamChanges,
  'iam-changes-crlf-colour': iamChanges,
  'multi-stack-deployed': {
    verdict: 'WARN',
    warnings: officeRules,
    safe: newImage.safe,
    message: /3 stacks \(Afu9NetworkStack, Afu9EcsStack, Afu9IamStack\)/,
  },
  'multi-stack-blocked': {
    verdict: 'BLOCKED',
    blocking: [
      'security-group-removed: AWS::EC2::SecurityGroup PostgresSecurityGroup670916BF destroy',
      'secret-removed: AWS::SecretsManager::Secret Afu9DatabaseStackPostgresSecret50492EFB3fdaad7efa858a3daf9490cf0a702aeb destroy',
      'database-removed: AWS::RDS::DBInstance Postgres9DC8BB04 destroy',
    ],
    safe: newImage.safe,
  },
  'error-truncated': { verdict: 'ERROR', message: /incomplete: it stops in stack Afu9NetworkStack/ },
  'error-synth-failure': {
    verdict: 'ERROR',
    message: /No `cdk diff` output found.*image tag '' is not valid/,
  },
  'error-no-credentials': {
    verdict: 'ERROR',
    message: /No `cdk diff` output found.*Unable to resolve AWS account/,
  },
  'error-not-a-diff': { verdict: 'ERROR', message: /No `cdk diff` output found.*Resources:/ },
  'error-empty': { verdict: 'ERROR', message: /The diff text is empty/ },
};

function keys(findings: readonly Finding[]): string[] {
  return findings.map((f) => `${f.rule}: ${f.resourceType} ${f.logicalId} ${f.change}`);
}

function assessList(actual: readonly Finding[], expected: readonly string[] | undefined, partial: boolean) {
  if (expected === undefined) return;
  if (partial) expect(keys(actual)).toEqual(expect.arrayContaining([...expected]));
  else expect(keys(actual)).toEqual(expected);
}

describe('real cdk diff fixtures', () => {
  const judged = new Map<string, DiffJudgement>();
  const judge = (name: string) => {
    let judgement = judged.get(name);
    if (!judgement) {
      judgement = judgeDiffText(readFixture(name));
      judged.set(name, judgement);
    }
    return judgement;
  };

  it('each have an expectation, and each expectation has a fixture', () => {
    expect(fixtureNames()).toEqual(Object.keys(expectations).sort());
  });

  it.each(Object.entries(expectations))('%s is judged as the rules say', (name, expected) => {
    // Act
    const judgement = judge(name);

    // Assess
    expect(judgement.verdict).toBe(expected.verdict);
    assessList(judgement.blocking, expected.blocking, expected.partial ?? false);
    assessList(judgement.warnings, expected.warnings, expected.partial ?? false);
    assessList(judgement.safe, expected.safe, expected.partial ?? false);
    if (expected.message) expect(judgement.message).toMatch(expected.message);
    if (expected.verdict === 'ERROR')
      expect([...judgement.blocking, ...judgement.warnings, ...judgement.safe]).toEqual([]);
  });

  it('exercise every rule except CDK metadata (which --no-version-reporting leaves out)', () => {
    const exercised = new Set(
      Object.keys(expectations).flatMap((name) => {
        const j = judge(name);
        return [...j.blocking, ...j.warnings, ...j.safe].map((f) => f.rule);
      }),
    );

    const unexercised = diffRules.map((r) => r.id).filter((id) => !exercised.has(id));

    expect(unexercised).toEqual(['cdk-metadata']);
  });
});
