/**
 * The diff gate's input: a CodeBuild project that runs `cdk diff` for the target stack of the AFU-9
 * infrastructure repository and writes everything it printed to the artifacts bucket, where the
 * AnalyzeDiff function reads it.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeCodeBuildDefaults, acknowledgeWildcardResource } from './nag';

/** Where the AFU-9 infrastructure repository's source zip lives. */
export interface InfraSourceLocation {
  readonly bucketName: string;
  /** Key of a zip of the repository root (the folder holding `cdk.json` and `package-lock.json`). */
  readonly objectKey: string;
}

/** Key prefix of the diff texts; the lifecycle rule and every permission are scoped to it. */
export const DIFF_KEY_PREFIX = 'diffs/';
/**
 * CodeBuild's limits. Together they stay within the RunCdkDiff task's TimeoutSeconds (1800 s in the
 * ASL) with a margin, so a build that never starts or never ends is ended by CodeBuild, with its own
 * status, before Step Functions gives up on it. 5 minutes is CodeBuild's shortest queued timeout.
 */
export const DIFF_BUILD_QUEUED_TIMEOUT = Duration.minutes(5);
export const DIFF_BUILD_TIMEOUT = Duration.minutes(20);

/** Default key of the infrastructure source zip when it lives in the artifacts bucket. */
export const DEFAULT_INFRA_SOURCE_KEY = 'source/afu9-infra.zip';

export interface DiffBuildProps {
  /**
   * The AFU-9 infrastructure source the build runs `cdk diff` in.
   *
   * @default - `source/afu9-infra.zip` in the artifacts bucket; the AFU-9 pipeline uploads it
   */
  readonly infraSource?: InfraSourceLocation;
  /** ARNs of the CloudFormation stacks the build may read (`cdk diff` compares against them). */
  readonly targetStackArns: readonly string[];
  /** The CDK bootstrap qualifier of the account the target stacks live in. */
  readonly bootstrapQualifier: string;
  /** How long diff texts are kept. */
  readonly diffRetention: Duration;
  readonly logRetention: logs.RetentionDays;
}

/**
 * The context the diff build gives the infrastructure app, so `cdk diff` shows the change CDK would
 * make with the images being released (the app reads them instead of the SSM image parameters).
 */
export const DiffContextKeys = {
  /** The primary image's tag (the deployment's version), as before. */
  imageTag: 'imageTag',
  /** JSON: container → `<repository>@sha256:<hex>` of every image of the release pinned by digest. */
  images: 'images',
} as const;

/**
 * The release's images (RELEASE_IMAGES, the request's image list as the state machine sends it) as
 * the `images` context: only images pinned by digest (one the orchestrator could not pin is refused
 * by VerifySecrets later, and the app falls back to the live image parameter for it). Single-quote
 * free, as it runs inside `node -e '...'`.
 */
const RELEASE_IMAGES_TO_CONTEXT =
  'const pinned = {}; ' +
  'for (const image of JSON.parse(process.env.RELEASE_IMAGES)) ' +
  'if (image.digest) pinned[image.container] = image.repository + "@" + image.digest; ' +
  'process.stdout.write(JSON.stringify(pinned));';

/**
 * Runs the diff, keeps its exit code, and uploads the text whatever happened: a failed synth prints
 * an error instead of a diff, and the gate judges that text as ERROR (never PASS). The build itself
 * fails only when the text cannot be stored, so the workflow never judges a stale object.
 *
 * What the infrastructure repository brings runs with the build's role, so it runs as little as
 * possible: no install scripts of any dependency (`--ignore-scripts`, and NPM_CONFIG_IGNORE_SCRIPTS
 * for anything npm starts later), only the CDK CLI pinned in its lock file (`npx --no-install` never
 * fetches one from the registry), and no change set (`--no-change-set`: the role cannot assume the
 * deploy role a change set needs, and the "falling back to template diff" message would otherwise
 * enter the judged text). `--no-notices` keeps the CLI's news out of it too. `--exclusively`: without
 * it `cdk diff <stack>` also diffs the stacks it depends on (network, database...), and their pending
 * changes would block or warn an image release that does not deploy them.
 */
function diffBuildSpec(): codebuild.BuildSpec {
  return codebuild.BuildSpec.fromObject({
    version: '0.2',
    env: {
      shell: 'bash',
      'exported-variables': ['CDK_DIFF_EXIT_CODE'],
    },
    phases: {
      install: {
        'runtime-versions': { nodejs: '20' },
        commands: ['npm ci --ignore-scripts --no-audit --no-fund'],
      },
      build: {
        commands: [
          [
            ': "${STACK_NAME:?STACK_NAME is set by the state machine}"',
            ': "${IMAGE_TAG:?IMAGE_TAG is set by the state machine}"',
            ': "${RELEASE_IMAGES:?RELEASE_IMAGES is set by the state machine}"',
            ': "${DIFF_OBJECT_KEY:?DIFF_OBJECT_KEY is set by the state machine}"',
            `IMAGES_CONTEXT=$(node -e '${RELEASE_IMAGES_TO_CONTEXT}') || { echo "RELEASE_IMAGES is not the image list the state machine sends: $RELEASE_IMAGES"; exit 1; }`,
            `npx --no-install cdk diff "$STACK_NAME" -c ${DiffContextKeys.imageTag}="$IMAGE_TAG" -c ${DiffContextKeys.images}="$IMAGES_CONTEXT" --exclusively --no-change-set --no-notices 2>&1 | tee cdk-diff.txt`,
            'CDK_DIFF_EXIT_CODE=${PIPESTATUS[0]}',
            'echo "cdk diff exited with $CDK_DIFF_EXIT_CODE"',
            'aws s3 cp cdk-diff.txt "s3://$DIFF_BUCKET/$DIFF_OBJECT_KEY" --content-type "text/plain; charset=utf-8" --metadata "cdk-diff-exit-code=$CDK_DIFF_EXIT_CODE"',
          ].join('\n'),
        ],
      },
    },
  });
}

export class DiffBuild extends Construct {
  /** Holds the diff texts (and, by default, the infrastructure source zip). */
  readonly bucket: s3.Bucket;
  /**
   * Encrypts the build's output. The build's own key: the code the build runs may use it, and it is
   * no use for anything else (in particular not for the notification topic).
   */
  readonly key: kms.Key;
  readonly accessLogsBucket: s3.Bucket;
  readonly project: codebuild.Project;
  /** Where the infrastructure source zip is (the infrastructure release's builds run in it too). */
  readonly sourceBucket: s3.IBucket;
  readonly sourceKey: string;

  constructor(scope: Construct, id: string, props: DiffBuildProps) {
    super(scope, id);
    const stack = Stack.of(this);

    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      // Server access log delivery only writes to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [
        { id: 'expire-diffs', prefix: DIFF_KEY_PREFIX, expiration: props.diffRetention },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const sourceBucket = props.infraSource
      ? s3.Bucket.fromBucketName(this, 'InfraSourceBucket', props.infraSource.bucketName)
      : this.bucket;
    const sourceKey = props.infraSource?.objectKey ?? DEFAULT_INFRA_SOURCE_KEY;
    this.sourceBucket = sourceBucket;
    this.sourceKey = sourceKey;

    this.key = new kms.Key(this, 'Key', {
      description: 'AFU-9 deployment orchestrator: encrypts the diff build output',
      enableKeyRotation: true,
      pendingWindow: Duration.days(30),
    });

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.project = new codebuild.Project(this, 'Project', {
      description: 'Runs `cdk diff` for an AFU-9 stack and stores the text for the deployment diff gate',
      source: codebuild.Source.s3({ bucket: sourceBucket, path: sourceKey }),
      buildSpec: diffBuildSpec(),
      environment: {
        buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: codebuild.ComputeType.SMALL,
        privileged: false,
      },
      environmentVariables: {
        DIFF_BUCKET: { value: this.bucket.bucketName },
        CI: { value: 'true' },
        NPM_CONFIG_IGNORE_SCRIPTS: { value: 'true' },
      },
      encryptionKey: this.key,
      logging: { cloudWatch: { logGroup } },
      timeout: DIFF_BUILD_TIMEOUT,
      queuedTimeout: DIFF_BUILD_QUEUED_TIMEOUT,
    });

    this.project.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'StoreDiffText',
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${DIFF_KEY_PREFIX}*`)],
      }),
    );
    this.project.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadTargetStacks',
        actions: [
          'cloudformation:DescribeStacks',
          'cloudformation:GetTemplate',
          'cloudformation:GetTemplateSummary',
        ],
        resources: [...props.targetStackArns],
      }),
    );
    // `cdk diff` reads the deployed template and resolves lookups through the bootstrap lookup role,
    // which is read-only by design; the build never gets the deploy or file-publishing roles.
    this.project.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'AssumeCdkLookupRole',
        actions: ['sts:AssumeRole'],
        resources: [
          stack.formatArn({
            service: 'iam',
            region: '',
            resource: 'role',
            resourceName: `cdk-${props.bootstrapQualifier}-lookup-role-${stack.account}-${stack.region}`,
          }),
        ],
      }),
    );
    this.acknowledgeProjectWildcards(props.targetStackArns);
    this.project.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ReadCdkBootstrapVersion',
        actions: ['ssm:GetParameter'],
        resources: [
          stack.formatArn({
            service: 'ssm',
            resource: 'parameter',
            resourceName: `cdk-bootstrap/${props.bootstrapQualifier}/version`,
          }),
        ],
      }),
    );
  }

  /** Lets a function read the diff texts, and nothing else in the bucket. */
  grantReadDiffs(grantee: iam.IGrantable): void {
    const diffs = this.bucket.arnForObjects(`${DIFF_KEY_PREFIX}*`);
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [diffs] });
    if (Construct.isConstruct(grantee.grantPrincipal)) {
      acknowledgeWildcardResource(
        grantee.grantPrincipal,
        diffs,
        'Diff texts are named per execution (diffs/<execution name>.txt); read access covers that prefix only.',
      );
    }
  }

  private acknowledgeProjectWildcards(targetStackArns: readonly string[]): void {
    const role = this.project.role!;
    acknowledgeWildcardResource(
      role,
      this.bucket.arnForObjects(`${DIFF_KEY_PREFIX}*`),
      'The build writes one diff text per execution under diffs/; it cannot write anywhere else in the bucket.',
    );
    for (const arn of targetStackArns) {
      acknowledgeWildcardResource(
        role,
        arn,
        'A CloudFormation stack ARN ends in an id assigned at creation; the stack name is fixed, and the actions are read-only.',
      );
    }
    acknowledgeCodeBuildDefaults(this.project);
  }
}
