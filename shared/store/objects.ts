/** Small helpers over the S3 client: bytes and JSON in and out, "not found" as undefined. */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'

// Bodies up to this size go in one PutObject; bigger ones as a multipart upload of parts
// this size. A single PUT may be 5 GB on AWS, but S3-compatible servers refuse far less
// (the embedded emulator 11 MiB), and a part must be at least 5 MiB.
export const PART_BYTES = 8 * 1024 * 1024

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string }).name
  return name === 'NoSuchKey' || name === 'NotFound'
}

export class S3Objects {
  constructor(
    readonly s3: S3Client,
    readonly bucket: string,
  ) {}

  async getBytes(key: string): Promise<Uint8Array | undefined> {
    try {
      const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))
      return Body ? await Body.transformToByteArray() : new Uint8Array()
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  async getJson<T>(key: string): Promise<T | undefined> {
    const bytes = await this.getBytes(key)
    return bytes === undefined ? undefined : (JSON.parse(Buffer.from(bytes).toString('utf8')) as T)
  }

  async putBytes(key: string, body: Uint8Array, contentType: string): Promise<void> {
    const params = { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }
    if (body.byteLength <= PART_BYTES) {
      await this.s3.send(new PutObjectCommand(params))
      return
    }
    // One part in flight at a time, so memory stays near the body's own size; a failed
    // upload is aborted (lib-storage's default), leaving no parts behind. Imported here,
    // for the few bodies this big: the Lambda bundles load it then, not at cold start.
    const { Upload } = await import('@aws-sdk/lib-storage')
    await new Upload({ client: this.s3, params, partSize: PART_BYTES, queueSize: 1 }).done()
  }

  async putJson(key: string, value: unknown): Promise<void> {
    await this.putBytes(key, Buffer.from(JSON.stringify(value)), 'application/json')
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }))
  }

  /** One page of a listing; `startAfter` continues after a key of an earlier page. */
  async listPage(options: {
    prefix: string
    delimiter?: string
    maxKeys?: number
    startAfter?: string
    continuationToken?: string
  }): Promise<ListObjectsV2CommandOutput> {
    return this.s3.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: options.prefix,
        Delimiter: options.delimiter,
        MaxKeys: options.maxKeys,
        StartAfter: options.startAfter,
        ContinuationToken: options.continuationToken,
      }),
    )
  }

  /** Every key under a prefix (or every common prefix, with a delimiter), all pages. */
  async *listAll(prefix: string, delimiter?: string): AsyncGenerator<string> {
    let continuationToken: string | undefined
    do {
      const page = await this.listPage({ prefix, delimiter, continuationToken })
      const keys = delimiter
        ? (page.CommonPrefixes ?? []).map((entry) => entry.Prefix)
        : (page.Contents ?? []).map((entry) => entry.Key)
      for (const key of keys) if (key) yield key
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (continuationToken)
  }
}
