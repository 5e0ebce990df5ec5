import type { CallEngine } from '../calls/call-engine.js';
import type { CallAction } from '../calls/command-router.js';
import type { IdSource } from '../util/ids.js';
import { resolveGatherParams, type GatherRequest } from './gather.js';

const ok = { result: 'ok' };

/** gather and gather_stop. */
export function gatherActions(engine: CallEngine, ids: IdSource): Record<string, CallAction> {
  return {
    gather: {
      precondition: 'answered',
      run: ({ leg, body }) => {
        engine.startGather(leg.callControlId, resolveGatherParams(body as GatherRequest, ids.uuid));
        return { ...ok };
      },
    },
    gather_stop: {
      precondition: 'answered',
      run: ({ leg }) => {
        // Stopping when nothing runs is harmless, as with Telnyx: acknowledged, no event.
        engine.stopGather(leg.callControlId);
        return { ...ok };
      },
    },
  };
}
