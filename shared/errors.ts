/** Base class of every error mailbridge raises on purpose; anything else is a bug. */
export class MailbridgeError extends Error {
  override name = 'MailbridgeError'
}

/** A setting is missing or malformed. Raised once, at start, naming the setting. */
export class ConfigError extends MailbridgeError {
  override name = 'ConfigError'
}

/** A queue message or stored object does not have the shape this version expects. */
export class MalformedRecordError extends MailbridgeError {
  override name = 'MalformedRecordError'
}

/** A listing cursor that this store did not hand out. */
export class InvalidCursorError extends MailbridgeError {
  override name = 'InvalidCursorError'
}
