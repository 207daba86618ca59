/**
 * The workflow's definition loaded into aws-local-stepfunctions: validated once per process, and
 * stripped of the Task timeouts the sandbox applies itself in virtual time.
 */
import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

/**
 * Definitions already validated in this process. asl-validator compiles its schemas on every call
 * (about a second); the same definition need not be checked twice.
 */
const validatedDefinitions = new Set<string>();

export function stateMachineFor(definition: StateMachineDefinition): StateMachine {
  const text = JSON.stringify(definition);
  const validated = validatedDefinitions.has(text);
  const stateMachine = new StateMachine(definition, {
    validationOptions: validated ? { noValidate: true } : { checkArn: true, checkPaths: true },
  });
  validatedDefinitions.add(text);
  return stateMachine;
}

/**
 * The definition as the library runs it: the runner applies every Task timeout itself, in virtual
 * time (the library's timers are wall-clock). `TimeoutSecondsPath` is also evaluated by the library
 * against the effective input (after Parameters) instead of the state input as Step Functions does,
 * which would fail the real definition; the runner reads it from the state input.
 */
export function withoutLibraryTimeouts(definition: StateMachineDefinition): StateMachineDefinition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => {
      if (state.Type !== 'Task' || !('TimeoutSecondsPath' in state)) return [name, state];
      const { TimeoutSecondsPath: _appliedByRunner, ...rest } = state;
      return [name, rest];
    }),
  );
  return { ...definition, States: states as StateMachineDefinition['States'] };
}
