/** `afu9-deploy deny <execution> --reason "..."`: see approve.ts, which serves both decisions. */
import { realApprovalClientDeps } from '../approval-client';
import { realAwsDeps } from '../aws-context';
import { createDecisionCommand } from './approve';

export const denyCommand = createDecisionCommand('deny', {
  ...realAwsDeps,
  approvals: realApprovalClientDeps,
});
