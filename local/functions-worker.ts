/** The worker thread of startFunctionsThread (functions.ts): the pollers on clients of its own. */
import { compose, destroyClients } from '../shared/compose.ts'
import type { Config } from '../shared/config.ts'
import { startFunctions } from './functions.ts'
import { runInThread } from './threads.ts'

await runInThread(async (config: Config) => {
  const root = compose(config)
  const functions = await startFunctions(root)
  return {
    ready: true,
    async stop() {
      await functions.stop()
      destroyClients(root.clients)
    },
  }
})
