/**
 * Every failure a handler reports, one class per kind. The error's `name` is the contract with the
 * state machine: the Lambda runtime reports `error.name` as the error type, and
 * `statemachine/deployment.asl.json` routes `Retry` and `Catch` on exactly these names, so renaming
 * one is a breaking change to the workflow.
 *
 * A BLOCKED diff is not an error: AnalyzeDiff returns it as a verdict (`proceed: false` with its
 * findings in `$.diffGate`), and the state machine's JudgeDiffGate Choice routes it.
 *
 * Each class states its name as a string literal. A bundler that minifies renames classes (the
 * shipped bundle once threw `Ii` instead of `DeploymentRejected`), so the name must never be read
 * from the class identifier (`new.target.name`, `constructor.name`).
 */

/** Stable machine-readable codes, one per failure kind. */
export const ErrorCode = {
  /** The request or event cannot become a deployment (guardrail, validation). Nothing was changed. */
  DeploymentRejected: 'DEPLOYMENT_REJECTED',
  /** The diff could not be read or judged (fail closed). Nothing was changed. */
  DiffUnreadable: 'DIFF_UNREADABLE',
  /** A secret the task needs is missing, pending deletion, unparsable or lacks a key. */
  SecretsInvalid: 'SECRETS_INVALID',
  /** An image to deploy does not exist in ECR. */
  ImageNotFound: 'IMAGE_NOT_FOUND',
  /**
   * The orchestrator's own role may not make a check the deployment needs (AccessDenied on a
   * secret, its KMS key, an image or the service): a missing grant, not a broken secret or image.
   * Nothing was changed.
   */
  OrchestratorPermissionMissing: 'ORCHESTRATOR_PERMISSION_MISSING',
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
  /**
   * What CloudFormation says of an infrastructure release's stack cannot be learned (the stack does
   * not exist, or the watch may not read it): the release stops, since nothing may be claimed.
   */
  StackUnobservable: 'STACK_UNOBSERVABLE',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The names the state machine routes on: one per error class, equal to its key in ErrorCode. */
export type DeploymentErrorName = keyof typeof ErrorCode;

/** Base of every project error: a stable `code`, a routable literal `name`, and the `cause` kept. */
export abstract class DeploymentError extends Error {
  abstract readonly code: ErrorCode;
  abstract override readonly name: DeploymentErrorName;
}

export class DeploymentRejected extends DeploymentError {
  override readonly name = 'DeploymentRejected';
  readonly code = ErrorCode.DeploymentRejected;
}
export class DiffUnreadable extends DeploymentError {
  override readonly name = 'DiffUnreadable';
  readonly code = ErrorCode.DiffUnreadable;
}
export class SecretsInvalid extends DeploymentError {
  override readonly name = 'SecretsInvalid';
  readonly code = ErrorCode.SecretsInvalid;
}
export class ImageNotFound extends DeploymentError {
  override readonly name = 'ImageNotFound';
  readonly code = ErrorCode.ImageNotFound;
}
export class OrchestratorPermissionMissing extends DeploymentError {
  override readonly name = 'OrchestratorPermissionMissing';
  readonly code = ErrorCode.OrchestratorPermissionMissing;
}
export class DeploymentInProgress extends DeploymentError {
  override readonly name = 'DeploymentInProgress';
  readonly code = ErrorCode.DeploymentInProgress;
}
export class UpdateFailed extends DeploymentError {
  override readonly name = 'UpdateFailed';
  readonly code = ErrorCode.UpdateFailed;
}
export class RolloutFailed extends DeploymentError {
  override readonly name = 'RolloutFailed';
  readonly code = ErrorCode.RolloutFailed;
}
export class SmokeTestFailed extends DeploymentError {
  override readonly name = 'SmokeTestFailed';
  readonly code = ErrorCode.SmokeTestFailed;
}
export class RollbackFailed extends DeploymentError {
  override readonly name = 'RollbackFailed';
  readonly code = ErrorCode.RollbackFailed;
}
export class NotificationFailed extends DeploymentError {
  override readonly name = 'NotificationFailed';
  readonly code = ErrorCode.NotificationFailed;
}
export class TransientAwsError extends DeploymentError {
  override readonly name = 'TransientAwsError';
  readonly code = ErrorCode.TransientAwsError;
}

export class StackUnobservable extends DeploymentError {
  override readonly name = 'StackUnobservable';
  readonly code = ErrorCode.StackUnobservable;
}

/** A class whose instances are named `Name`: the key of each class below must be its literal name. */
type ErrorClassNamed<Name extends DeploymentErrorName> = new (
  message: string,
  options?: ErrorOptions,
) => DeploymentError & { readonly name: Name };

/** Every error class by name: the set the ASL may list in `ErrorEquals`. */
export const deploymentErrorClasses = {
  DeploymentRejected,
  DiffUnreadable,
  SecretsInvalid,
  ImageNotFound,
  OrchestratorPermissionMissing,
  DeploymentInProgress,
  UpdateFailed,
  RolloutFailed,
  SmokeTestFailed,
  RollbackFailed,
  NotificationFailed,
  TransientAwsError,
  StackUnobservable,
} as const satisfies { readonly [Name in DeploymentErrorName]: ErrorClassNamed<Name> };
