/**
 * SQS-triggered handlers: each record is processed on its own, and the ones that failed
 * are reported as `batchItemFailures` (Powertools' partial batch response), so SQS retries
 * only those. Never throws for the whole batch, even when every record failed.
 */
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch'
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda'
import type { Logger } from './logger.ts'

export type SqsBatchHandler = (event: SQSEvent) => Promise<SQSBatchResponse>

export function sqsBatchHandler(
  processRecord: (record: SQSRecord) => Promise<void>,
  logger: Logger,
): SqsBatchHandler {
  return async (event) => {
    const processor = new BatchProcessor(EventType.SQS)
    const handleRecord = async (record: SQSRecord) => {
      try {
        await processRecord(record)
      } catch (error) {
        logger.error(
          {
            err: error,
            sqsMessageId: record.messageId,
            receiveCount: record.attributes.ApproximateReceiveCount,
          },
          'record failed, left for retry',
        )
        throw error
      }
    }
    return processPartialResponse(event, handleRecord, processor, {
      throwOnFullBatchFailure: false,
      processInParallel: true,
    })
  }
}
