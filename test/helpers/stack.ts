/**
 * The stack as `npm run package` makes it, made in a temp dir (the checkout's dist/ and
 * .serverless/ are left alone): the bundles, then `osls package`, offline, with no AWS
 * account and no credentials. Plus readers of the CloudFormation template it writes.
 */
import { copyFile, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runOk } from '../../shared/commands.ts'

const REPO = fileURLToPath(new URL('../..', import.meta.url))
const OSLS = join(REPO, 'node_modules/osls/bin/serverless.js')
// esbuild takes seconds and osls about ten; a few minutes is a stuck run (ms).
const PACKAGE_TIMEOUT_MS = 180_000

/** A CloudFormation resource, as the template holds it. */
export interface Resource {
  Type: string
  Properties: Record<string, unknown>
  Condition?: string
  DependsOn?: string | string[]
}

export interface Template {
  Resources: Record<string, Resource>
  Outputs: Record<string, { Value: unknown }>
  Conditions?: Record<string, unknown>
}

export interface PackagedStack {
  template: Template
  /** The zip of each function, by function name. */
  zips: Map<string, string>
}

/**
 * Builds and packages the stack in `dir`. No AWS variable reaches osls, so that the test
 * proves packaging needs none.
 */
export async function packageStack(dir: string, options: string[] = []): Promise<PackagedStack> {
  await copyFile(join(REPO, 'serverless.yml'), join(dir, 'serverless.yml'))
  await runOk('npm', ['run', '--silent', 'build', '--', '--outdir', join(dir, 'dist')], {
    cwd: REPO,
    timeoutMs: PACKAGE_TIMEOUT_MS,
  })
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith('AWS_')),
  )
  await runOk(process.execPath, [OSLS, 'package', ...options], {
    cwd: dir,
    env,
    timeoutMs: PACKAGE_TIMEOUT_MS,
  })
  const out = join(dir, '.serverless')
  const template = JSON.parse(
    await readFile(join(out, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as Template
  const zips = new Map<string, string>()
  for (const file of await readdir(out)) {
    if (file.endsWith('.zip')) zips.set(file.slice(0, -'.zip'.length), join(out, file))
  }
  return { template, zips }
}

/** The resources of one type, by logical id. */
export function resourcesOf(template: Template, type: string): [string, Resource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type)
}

/**
 * A reference as a short string: `{ Ref: X }` → `X`, `{ Fn::GetAtt: [X, A] }` → `X.A`,
 * `{ Fn::Sub: "${X.Arn}/k/*" }` → `X.Arn/k/*`; a literal string stays itself.
 */
export function refName(value: unknown): string {
  if (typeof value === 'string') return value
  const object = value as Record<string, unknown>
  if (typeof object.Ref === 'string') return object.Ref
  const getAtt = object['Fn::GetAtt']
  if (Array.isArray(getAtt)) return getAtt.join('.')
  const sub = object['Fn::Sub']
  if (typeof sub === 'string') return sub.replace(/\$\{([^}]+)\}/g, '$1')
  return JSON.stringify(value)
}

/** One statement of an IAM policy, with its actions and resources as lists. */
export interface Statement {
  Effect: string
  actions: string[]
  resources: string[]
  Condition?: Record<string, Record<string, unknown>>
}

/** Every statement of a policy document (Role inline policies, ManagedPolicy). */
export function statementsOf(document: unknown): Statement[] {
  const { Statement } = document as { Statement: Record<string, unknown>[] }
  return Statement.map((statement) => ({
    Effect: statement.Effect as string,
    actions: [statement.Action].flat().map(refName),
    resources: [statement.Resource].flat().map(refName),
    Condition: statement.Condition as Statement['Condition'],
  }))
}

/** IAM's wildcards (`*` any run of characters, `?` one) as a pattern over the whole value. */
function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&')
  return new RegExp(`^${escaped.replace(/\*/g, '.*').replace(/\?/g, '.')}$`)
}

/**
 * Whether Allow statements let a call through, as IAM decides for the subset the roles use:
 * an action named exactly, a resource matched with wildcards once `resolve` has turned the
 * template's reference (`MailBucket.Arn/messages/*`) into the call's form (`bucket/messages/*`),
 * and a `ForAllValues:StringLike` condition on `dynamodb:LeadingKeys`, which a call with no
 * partition key does not pass. Any other condition is not understood, and allows nothing.
 */
export function allowsCall(
  statements: Statement[],
  call: { action: string; resource: string; leadingKeys?: string[] },
  resolve: (reference: string) => string,
): boolean {
  return statements.some((statement) => {
    if (statement.Effect !== 'Allow' || !statement.actions.includes(call.action)) return false
    if (!statement.resources.some((resource) => wildcard(resolve(resource)).test(call.resource)))
      return false
    const { 'ForAllValues:StringLike': like, ...others } = statement.Condition ?? {}
    if (Object.keys(others).length > 0) return false
    const { 'dynamodb:LeadingKeys': leading, ...rest } = like ?? {}
    if (Object.keys(rest).length > 0) return false
    if (leading === undefined) return true
    // IAM would let a call with no partition key through a ForAllValues condition; here it
    // means the recorder did not understand the call, which must not pass unchecked.
    if (!call.leadingKeys?.length) return false
    const patterns = (leading as string[]).map(wildcard)
    return call.leadingKeys.every((key) => patterns.some((p) => p.test(key)))
  })
}
