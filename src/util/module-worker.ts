import { Worker } from 'node:worker_threads';

// Loads the worker's module (workerData.entry), first registering tsx when running from source:
// tsx's loader does not reach worker threads on Node 20.
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.loader) (await import(workerData.loader)).register();
  await import(workerData.entry);
})();
`;

/**
 * Starts a worker thread running `name` (a module beside `caller`, given without extension): its
 * `.js` build, or its `.ts` source under tsx. `data` reaches the worker as workerData.
 */
export function startModuleWorker(caller: string, name: string, data: Record<string, unknown> = {}): Worker {
  const fromSource = caller.endsWith('.ts');
  const entry = new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, caller).href;
  let loader: string | null = null;
  if (fromSource) {
    try {
      loader = import.meta.resolve('tsx/esm/api');
    } catch {
      // Some other way of running TypeScript (Node's own type stripping) may handle it.
    }
  }
  return new Worker(BOOTSTRAP, { eval: true, workerData: { ...data, entry, loader }, execArgv: [] });
}
