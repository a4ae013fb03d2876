/** Lambda wiring for deliver: the root once per cold start, then the batch handler. */
import { compose } from '../../shared/compose.ts'
import { loadConfig } from '../../shared/config.ts'
import { createDeliverHandler, deliverDeps } from './deliver.ts'

export const handler = createDeliverHandler(deliverDeps(compose(loadConfig())))
