import type { CallAction } from '../calls/command-router.js';

/**
 * client_state_update: the router already stores body.client_state before running any action,
 * so there is nothing left to do but acknowledge.
 */
export function clientStateActions(): Record<string, CallAction> {
  return {
    client_state_update: { precondition: 'any', run: () => ({ result: 'ok' }) },
  };
}
