/**
 * The one timing model of the sandbox: how long each step of an ECS Fargate rollout takes in
 * virtual time. The simulated account, the table in docs/rehearsal.md and the bench all read these
 * values, so the orchestrator and the polling loop it is compared with meet the same world.
 *
 * Values marked "runbook" are AFU-9's own settings; "AWS default" values are what a resource gets
 * when its stack does not set them (the runbook names none); "typical" values are what Fargate
 * shows in practice for an image of AFU-9's size, since AWS publishes no figure for them.
 */
export interface TimingModel {
  /** Fargate capacity and ENI attachment before the task reaches PENDING. */
  readonly provisioningSeconds: number;
  /** Pulling the container images from ECR in the same region. */
  readonly imagePullSeconds: number;
  /** Fetching the task's secrets from Secrets Manager (task execution role). */
  readonly secretFetchSeconds: number;
  /** From the images being ready to the containers RUNNING. */
  readonly containerStartSeconds: number;
  /** How long a crashing build runs before its essential container exits. */
  readonly crashAfterStartSeconds: number;
  /** Container health check start period: failures inside it do not count. */
  readonly healthCheckStartPeriodSeconds: number;
  /** Seconds between two health checks (container and target group). */
  readonly healthCheckIntervalSeconds: number;
  /** Consecutive failed checks after the start period before the task counts as unhealthy. */
  readonly healthCheckRetries: number;
  /** Consecutive passed target-group checks before a new target takes traffic. */
  readonly healthyThresholdCount: number;
  /** Seconds an old target keeps draining connections before ECS stops its task. */
  readonly deregistrationDelaySeconds: number;
  /** From an AWS service emitting an event to EventBridge delivering it to a rule's target. */
  readonly eventDeliverySeconds: number;
  /** From a deployment starting, or a task failing, to the service scheduler launching a task. */
  readonly schedulerLaunchSeconds: number;
}

export const afu9TimingModel: TimingModel = {
  /** typical: Fargate provisioning with awsvpc networking. */
  provisioningSeconds: 20,
  /** typical: four images of a few hundred MB from same-region ECR. */
  imagePullSeconds: 25,
  /** typical: one Secrets Manager call per referenced secret, done in parallel. */
  secretFetchSeconds: 2,
  /** typical: Node.js containers starting their process. */
  containerStartSeconds: 5,
  /** typical: an app failing on a missing setting exits within seconds of starting. */
  crashAfterStartSeconds: 5,
  /** runbook: AFU-9 task definition health check startPeriod 120 s. */
  healthCheckStartPeriodSeconds: 120,
  /** runbook: AFU-9 health check interval 30 s (also the ALB's default interval). */
  healthCheckIntervalSeconds: 30,
  /** runbook: AFU-9 health check retries 5. */
  healthCheckRetries: 5,
  /** AWS default: ALB target group HealthyThresholdCount 5. */
  healthyThresholdCount: 5,
  /** AWS default: ALB target group deregistration_delay.timeout_seconds 300. */
  deregistrationDelaySeconds: 300,
  /** typical: EventBridge delivers AWS service events within a few seconds (best effort). */
  eventDeliverySeconds: 3,
  /** typical: the ECS service scheduler acts on a change or a stopped task within seconds. */
  schedulerLaunchSeconds: 10,
};

/** Seconds from a task launch until a healthy revision's task takes traffic. */
export function secondsUntilHealthy(timing: TimingModel): number {
  return (
    timing.provisioningSeconds +
    timing.imagePullSeconds +
    timing.secretFetchSeconds +
    timing.containerStartSeconds +
    timing.healthyThresholdCount * timing.healthCheckIntervalSeconds
  );
}

/** Seconds from a task's containers starting until a failing health check stops it. */
export function secondsUntilUnhealthy(timing: TimingModel): number {
  return timing.healthCheckStartPeriodSeconds + timing.healthCheckRetries * timing.healthCheckIntervalSeconds;
}
