import assert from 'node:assert/strict'
import { test } from 'node:test'
import { toSqsRecord } from '../../local/sqs-poller.ts'

const ARN = 'arn:aws:sqs:us-east-1:000000000000:q'

test("local mode's records carry SQS's receive count as Lambda's do", () => {
  const record = toSqsRecord(
    {
      MessageId: 'm',
      ReceiptHandle: 'r',
      Body: '{}',
      Attributes: { ApproximateReceiveCount: '2' },
    },
    ARN,
    'us-east-1',
  )
  assert.equal(record.attributes.ApproximateReceiveCount, '2')
  assert.deepEqual([record.messageId, record.receiptHandle, record.body], ['m', 'r', '{}'])
})

test('a receive count the server did not send is not invented: deliver takes "1" for a first receive', () => {
  const record = toSqsRecord({ MessageId: 'm', ReceiptHandle: 'r', Body: '{}' }, ARN, 'us-east-1')
  assert.equal(record.attributes.ApproximateReceiveCount, '')
})
