/**
 * The two CodeBuild projects of an infrastructure release, both running in the infrastructure
 * source the diff build uses:
 *
 * - the synth+diff build (read-only, like the diff build): `cdk synth` of one stack to a cloud
 *   assembly, `cdk diff --app` on exactly that assembly, the diff text and the zipped assembly
 *   uploaded under keys of this execution and stack;
 * - the deploy build: downloads that same assembly and runs `cdk deploy --app <assembly> <stack>
 *   --require-approval never`. Its role may only assume the CDK bootstrap deploy role and the
 *   file and image publishing roles; CloudFormation runs the change with the bootstrap's
 *   cfn-exec role, as every `cdk deploy` does.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DIFF_KEY_PREFIX } from './diff-build';
import { acknowledgeCodeBuildDefaults, acknowledgeWildcardResource } from './nag';

/** Key prefix of the zipped cloud assemblies; the lifecycle rule and every permission are scoped to it. */
export const ASSEMBLY_KEY_PREFIX = 'assemblies/';

/**
 * CodeBuild's limits. The synth+diff build stays within its Task's TimeoutSeconds (1800 s), the
 * deploy build within its Task's (4200 s), each with five minutes to spare, so CodeBuild ends a build
 * with its own status first: a stack update of a database can take most of an hour.
 */
const SYNTH_DIFF_TIMEOUT = Duration.minutes(20);
const DEPLOY_TIMEOUT = Duration.minutes(60);
const QUEUED_TIMEOUT = Duration.minutes(5);

export interface InfrastructureBuildsProps {
  /** The infrastructure source zip (the diff build's). */
  readonly sourceBucket: s3.IBucket;
  readonly sourceKey: string;
  /** Where diff texts and assemblies go (the diff build's artifacts bucket). */
  readonly artifactsBucket: s3.Bucket;
  /** Encrypts the builds' output (the diff build's key). */
  readonly encryptionKey: kms.IKey;
  /** ARNs of the configured infrastructure stacks (`cdk diff` reads them). */
  readonly stackArns: readonly string[];
  /** The CDK bootstrap qualifier of the account. */
  readonly bootstrapQualifier: string;
  /** How long zipped assemblies are kept. */
  readonly assemblyRetention: Duration;
  readonly logRetention: logs.RetentionDays;
}

/** The hardened install step both builds share (see the diff build: nothing of the repository runs at install). */
const INSTALL = {
  'runtime-versions': { nodejs: '20' },
  commands: ['npm ci --ignore-scripts --no-audit --no-fund'],
};

/**
 * Synthesizes the one stack, diffs that assembly, and uploads the text whatever happened (a failed
 * synth uploads its error, which the gate judges ERROR). The assembly is uploaded only when synth
 * succeeded; the build fails only when an upload fails.
 */
function synthDiffSpec(): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject({
    version: '0.2',
    env: { shell: 'bash', 'exported-variables': ['CDK_DIFF_EXIT_CODE'] },
    phases: {
      install: INSTALL,
      build: {
        commands: [
          [
            ': "${STACK_NAME:?STACK_NAME is set by the state machine}"',
            ': "${DIFF_OBJECT_KEY:?DIFF_OBJECT_KEY is set by the state machine}"',
            ': "${ASSEMBLY_OBJECT_KEY:?ASSEMBLY_OBJECT_KEY is set by the state machine}"',
            'npx --no-install cdk synth "$STACK_NAME" --exclusively --output release.out --quiet --no-notices > synth.txt 2>&1',
            'SYNTH_EXIT_CODE=$?',
            'if [ "$SYNTH_EXIT_CODE" -eq 0 ]; then',
            '  npx --no-install cdk diff --app release.out "$STACK_NAME" --exclusively --no-change-set --no-notices 2>&1 | tee cdk-diff.txt',
            '  CDK_DIFF_EXIT_CODE=${PIPESTATUS[0]}',
            'else',
            '  cp synth.txt cdk-diff.txt; CDK_DIFF_EXIT_CODE=$SYNTH_EXIT_CODE',
            'fi',
            'echo "cdk synth exited with $SYNTH_EXIT_CODE, cdk diff with $CDK_DIFF_EXIT_CODE"',
            'aws s3 cp cdk-diff.txt "s3://$ARTIFACTS_BUCKET/$DIFF_OBJECT_KEY" --content-type "text/plain; charset=utf-8" --metadata "cdk-diff-exit-code=$CDK_DIFF_EXIT_CODE"',
            'if [ "$SYNTH_EXIT_CODE" -eq 0 ]; then (cd release.out && zip -qr ../assembly.zip .) && aws s3 cp assembly.zip "s3://$ARTIFACTS_BUCKET/$ASSEMBLY_OBJECT_KEY"; fi',
          ].join('\n'),
        ],
      },
    },
  });
}

/** Deploys exactly the assembly the gate judged; the CDK CLI pinned in the source's lock file does it. */
function deploySpec(): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject({
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      install: INSTALL,
      build: {
        commands: [
          [
            ': "${STACK_NAME:?STACK_NAME is set by the state machine}"',
            ': "${ASSEMBLY_OBJECT_KEY:?ASSEMBLY_OBJECT_KEY is set by the state machine}"',
            'aws s3 cp "s3://$ARTIFACTS_BUCKET/$ASSEMBLY_OBJECT_KEY" assembly.zip',
            'mkdir release.out && unzip -q assembly.zip -d release.out',
            'npx --no-install cdk deploy --app release.out "$STACK_NAME" --exclusively --require-approval never --progress events --no-notices',
          ].join('\n'),
        ],
      },
    },
  });
}

export class InfrastructureBuilds extends Construct {
  readonly synthDiffProject: codebuild.Project;
  readonly deployProject: codebuild.Project;

  constructor(scope: Construct, id: string, props: InfrastructureBuildsProps) {
    super(scope, id);
    if (props.assemblyRetention.toDays() < 1) {
      throw new Error(
        `assemblyRetention must be at least one day. Received: ${props.assemblyRetention.toHumanString()}.`,
      );
    }
    props.artifactsBucket.addLifecycleRule({
      id: 'expire-assemblies',
      prefix: ASSEMBLY_KEY_PREFIX,
      expiration: props.assemblyRetention,
    });
    const stack = Stack.of(this);
    const bootstrapRole = (kind: string) =>
      stack.formatArn({
        service: 'iam',
        region: '',
        resource: 'role',
        resourceName: `cdk-${props.bootstrapQualifier}-${kind}-role-${stack.account}-${stack.region}`,
      });
    const bootstrapVersion = new iam.PolicyStatement({
      sid: 'ReadCdkBootstrapVersion',
      actions: ['ssm:GetParameter'],
      resources: [
        stack.formatArn({
          service: 'ssm',
          resource: 'parameter',
          resourceName: `cdk-bootstrap/${props.bootstrapQualifier}/version`,
        }),
      ],
    });
    const diffs = props.artifactsBucket.arnForObjects(`${DIFF_KEY_PREFIX}*`);
    const assemblies = props.artifactsBucket.arnForObjects(`${ASSEMBLY_KEY_PREFIX}*`);

    this.synthDiffProject = this.project('SynthDiff', props, {
      description: 'Synthesizes one AFU-9 stack to a cloud assembly and runs `cdk diff` on it (read-only)',
      buildSpec: synthDiffSpec(),
      timeout: SYNTH_DIFF_TIMEOUT,
    });
    this.synthDiffProject.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StoreDiffAndAssembly',
        actions: ['s3:PutObject'],
        resources: [diffs, assemblies],
      }),
    );
    // A configuration without infrastructure stacks gives the build nothing to read (its releases are refused).
    if (props.stackArns.length > 0)
      this.synthDiffProject.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'ReadTargetStacks',
          actions: [
            'cloudformation:DescribeStacks',
            'cloudformation:GetTemplate',
            'cloudformation:GetTemplateSummary',
          ],
          resources: [...props.stackArns],
        }),
      );
    // Synth lookups and the diff's template reads go through the read-only lookup role, never the deploy role.
    this.synthDiffProject.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkLookupRole',
        actions: ['sts:AssumeRole'],
        resources: [bootstrapRole('lookup')],
      }),
    );
    this.synthDiffProject.addToRolePolicy(bootstrapVersion);

    this.deployProject = this.project('Deploy', props, {
      description:
        'Deploys one gated AFU-9 cloud assembly with `cdk deploy --app` (CDK bootstrap deploy role)',
      buildSpec: deploySpec(),
      timeout: DEPLOY_TIMEOUT,
    });
    this.deployProject.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ReadAssembly', actions: ['s3:GetObject'], resources: [assemblies] }),
    );
    this.deployProject.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkDeployRoles',
        actions: ['sts:AssumeRole'],
        resources: ['deploy', 'file-publishing', 'image-publishing'].map(bootstrapRole),
      }),
    );
    this.deployProject.addToRolePolicy(bootstrapVersion);

    this.acknowledge(this.synthDiffProject, [
      [
        diffs,
        'The build writes one diff text per execution and stack under diffs/; nowhere else in the bucket.',
      ],
      [assemblies, 'The build writes one zipped assembly per execution and stack under assemblies/.'],
      ...props.stackArns.map(
        (arn) =>
          [
            arn,
            'A CloudFormation stack ARN ends in an id assigned at creation; the stack name is fixed, and the actions are read-only.',
          ] as const,
      ),
    ]);
    this.acknowledge(this.deployProject, [
      [
        assemblies,
        'The build reads the zipped assemblies under assemblies/ (named per execution and stack) only.',
      ],
    ]);
  }

  private project(
    id: string,
    props: InfrastructureBuildsProps,
    options: { description: string; buildSpec: codebuild.BuildSpec; timeout: Duration },
  ): codebuild.Project {
    const logGroup = new logs.LogGroup(this, `${id}Logs`, {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    return new codebuild.Project(this, id, {
      ...options,
      source: codebuild.Source.s3({ bucket: props.sourceBucket, path: props.sourceKey }),
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: codebuild.ComputeType.SMALL,
        privileged: false,
      },
      environmentVariables: {
        ARTIFACTS_BUCKET: { value: props.artifactsBucket.bucketName },
        CI: { value: 'true' },
        NPM_CONFIG_IGNORE_SCRIPTS: { value: 'true' },
      },
      encryptionKey: props.encryptionKey,
      logging: { cloudWatch: { logGroup } },
      queuedTimeout: QUEUED_TIMEOUT,
    });
  }

  /** The project's own wildcards, plus what CodeBuild's default grants contain (as for the diff build). */
  private acknowledge(project: codebuild.Project, resources: readonly (readonly [string, string])[]): void {
    const role = project.role!;
    for (const [resource, reason] of resources) acknowledgeWildcardResource(role, resource, reason);
    acknowledgeCodeBuildDefaults(project);
  }
}
