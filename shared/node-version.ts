/**
 * Node 22 is the floor: Lambda runs nodejs22.x, Node 20 is past its end of life, and the
 * embedded emulator needs node:sqlite (22.5). npm's scripts and bin/mailbridge run the
 * node@22 that npm installs with the project; this catches a program started another way.
 */
export const NODE_FLOOR = { major: 22, minor: 5 }

/** A message saying why this Node is too old, or undefined when it is new enough. */
export function nodeTooOld(version = process.versions.node): string | undefined {
  const [major = 0, minor = 0] = version.split('.').map(Number)
  const { major: floorMajor, minor: floorMinor } = NODE_FLOOR
  if (major > floorMajor || (major === floorMajor && minor >= floorMinor)) return undefined
  return `Node ${version} is too old: mailbridge needs ${floorMajor}.${floorMinor} or newer (npm ci installs it as node_modules/.bin/node; npm scripts and bin/mailbridge use that one)`
}
