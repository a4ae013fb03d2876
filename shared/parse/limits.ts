/**
 * Limits on what parsing one message may cost, each bounding one attack. Past a limit the
 * parse stops, keeps what it read until then and says why in `parseError`; the raw
 * message is stored whole either way.
 */

export interface ParseLimits {
  /** Multipart levels; deeper parts are not parsed. */
  maxNestingDepth: number
  /** Header bytes across every part of the message. */
  maxHeaderBytes: number
  /** MIME parts across the message, nested messages included. */
  maxParts: number
  /** Body bytes fed to the decoders, nested messages counted again each time they are read. */
  maxDecodedBytes: number
  /** Levels of message/rfc822 parsed inline; deeper ones stay attachments. */
  maxMessageNesting: number
}

export const DEFAULT_PARSE_LIMITS: ParseLimits = {
  // Real mail nests a few levels (mixed > related > alternative, a forward or two);
  // each level costs a parser node, and a 300-level message took postal-mime's default
  // of 256 within reach. 64 keeps every message of the corpus whole.
  maxNestingDepth: 64,
  // RFC 5322 sets no total; 2 MiB (postal-mime's default) is far beyond any real header
  // block and bounds the header lines kept in memory and in the parsed JSON.
  maxHeaderBytes: 2 * 1024 * 1024,
  // Each part costs a node and an entry in the parsed JSON; a message of 2,000 parts still
  // parses whole (about 0.3 s here, see BENCHMARKS.md); 10,000 bounds the JSON and the time.
  maxParts: 10_000,
  // The edge takes messages up to its SIZE limit (50 MB by default); a nested message is
  // decoded again when it is parsed inline, so a message may cost a few times its size.
  // 4 × 64 MiB bounds that memory whatever the nesting.
  maxDecodedBytes: 256 * 1024 * 1024,
  // Each inline level re-parses the nested message; forwards of forwards rarely go past 3.
  maxMessageNesting: 5,
}
