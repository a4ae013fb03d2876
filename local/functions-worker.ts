/** The worker thread of startFunctionsThread (functions.ts): the pollers on clients of its own. */
import { createS3Client, createSqsClient } from '../shared/aws-clients.ts'
import { type FunctionsWorkerData, startFunctions } from './functions.ts'
import { runInThread } from './threads.ts'

await runInThread(async (data: FunctionsWorkerData) => {
  const s3 = createS3Client(data.config.aws)
  const sqs = createSqsClient(data.config.aws)
  const functions = await startFunctions({ ...data, s3, sqs })
  return {
    ready: true,
    async stop() {
      await functions.stop()
      s3.destroy()
      sqs.destroy()
    },
  }
})
