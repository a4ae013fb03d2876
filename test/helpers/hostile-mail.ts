/** Hostile message shapes, for the limit tests and the parse bench. */

/** A multipart/mixed of `parts` small text attachments. */
export function manyParts(parts: number): Buffer {
  const body = Array.from(
    { length: parts },
    (_, i) =>
      `--p\r\nContent-Type: text/plain; name="p${i}.txt"\r\nContent-Disposition: attachment\r\n\r\npart ${i}\r\n`,
  ).join('')
  return Buffer.from(
    `Subject: ${parts} parts\r\nContent-Type: multipart/mixed; boundary=p\r\n\r\n--p\r\nContent-Type: text/plain\r\n\r\nfirst text\r\n${body}--p--\r\n`,
  )
}

/** Multiparts nested `levels` deep, with text at the top and at the bottom. */
export function deepNesting(levels: number): Buffer {
  let head = 'Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n'
  head += '--b0\r\nContent-Type: text/plain\r\n\r\ntop text\r\n'
  let tail = '--b0--\r\n'
  for (let i = 1; i < levels; i++) {
    head += `--b${i - 1}\r\nContent-Type: multipart/mixed; boundary=b${i}\r\n\r\n`
    tail = `--b${i}--\r\n${tail}`
  }
  return Buffer.from(`${head}--b${levels - 1}\r\nContent-Type: text/plain\r\n\r\nbottom\r\n${tail}`)
}

/** A message of about `bytes` bytes: a text body and base64 attachments of 5 MB each. */
export function bigMessage(bytes: number): Buffer {
  const chunk = Buffer.alloc(5 * 1024 * 1024, 0x5a)
    .toString('base64')
    .replace(/.{76}/g, '$&\r\n')
  const parts: string[] = ['--m\r\nContent-Type: text/plain\r\n\r\nhello\r\n']
  let size = 0
  while (size < bytes) {
    const encoded = size + chunk.length > bytes ? chunk.slice(0, bytes - size) : chunk
    parts.push(
      `--m\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${encoded}\r\n`,
    )
    size += encoded.length
  }
  return Buffer.from(
    `Subject: big\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n${parts.join('')}--m--\r\n`,
  )
}
