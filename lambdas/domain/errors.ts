/**
 * Every failure a handler reports, one class per kind. The class `name` is the contract with the
 * state machine: `statemachine/deployment.asl.json` routes `Retry` and `Catch` on exactly these
 * names, so renaming one is a breaking change to the workflow.
 */

/** Stable machine-readable codes, one per failure kind. */
export const ErrorCode = {
  /** The request or event cannot become a deployment (guardrail, validation). Nothing was changed. */
  DeploymentRejected: 'DEPLOYMENT_REJECTED',
  /** The diff gate judged the infrastructure change BLOCKED. Nothing was changed. */
  DiffBlocked: 'DIFF_BLOCKED',
  /** The diff could not be read or judged (fail closed). Nothing was changed. */
  DiffUnreadable: 'DIFF_UNREADABLE',
  /** A secret the task needs is missing, pending deletion, unparsable or lacks a key. */
  SecretsInvalid: 'SECRETS_INVALID',
  /** An image to deploy does not exist in ECR. */
  ImageNotFound: 'IMAGE_NOT_FOUND',
  /** Another deployment of the service is still in progress. */
  DeploymentInProgress: 'DEPLOYMENT_IN_PROGRESS',
  /** Registering the task definition or updating the service failed. */
  UpdateFailed: 'UPDATE_FAILED',
  /** The new ECS deployment failed, was rolled back by ECS, replaced, or timed out. */
  RolloutFailed: 'ROLLOUT_FAILED',
  /** The live service did not pass its smoke checks. */
  SmokeTestFailed: 'SMOKE_TEST_FAILED',
  /** Returning the service to the last good revision failed or was refused. */
  RollbackFailed: 'ROLLBACK_FAILED',
  /** Publishing the outcome notification failed. */
  NotificationFailed: 'NOTIFICATION_FAILED',
  /** An AWS call failed in a way that may heal on retry (throttling, 5xx, timeouts). */
  TransientAwsError: 'TRANSIENT_AWS_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base of every project error: a stable `code`, a routable `name`, and the `cause` kept. */
export abstract class DeploymentError extends Error {
  abstract readonly code: ErrorCode;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class DeploymentRejected extends DeploymentError {
  readonly code = ErrorCode.DeploymentRejected;
}
export class DiffBlocked extends DeploymentError {
  readonly code = ErrorCode.DiffBlocked;
}
export class DiffUnreadable extends DeploymentError {
  readonly code = ErrorCode.DiffUnreadable;
}
export class SecretsInvalid extends DeploymentError {
  readonly code = ErrorCode.SecretsInvalid;
}
export class ImageNotFound extends DeploymentError {
  readonly code = ErrorCode.ImageNotFound;
}
export class DeploymentInProgress extends DeploymentError {
  readonly code = ErrorCode.DeploymentInProgress;
}
export class UpdateFailed extends DeploymentError {
  readonly code = ErrorCode.UpdateFailed;
}
export class RolloutFailed extends DeploymentError {
  readonly code = ErrorCode.RolloutFailed;
}
export class SmokeTestFailed extends DeploymentError {
  readonly code = ErrorCode.SmokeTestFailed;
}
export class RollbackFailed extends DeploymentError {
  readonly code = ErrorCode.RollbackFailed;
}
export class NotificationFailed extends DeploymentError {
  readonly code = ErrorCode.NotificationFailed;
}
export class TransientAwsError extends DeploymentError {
  readonly code = ErrorCode.TransientAwsError;
}

/** Every error class by name: the set the ASL may list in `ErrorEquals`. */
export const deploymentErrorClasses = {
  DeploymentRejected,
  DiffBlocked,
  DiffUnreadable,
  SecretsInvalid,
  ImageNotFound,
  DeploymentInProgress,
  UpdateFailed,
  RolloutFailed,
  SmokeTestFailed,
  RollbackFailed,
  NotificationFailed,
  TransientAwsError,
} as const;
export type DeploymentErrorName = keyof typeof deploymentErrorClasses;
