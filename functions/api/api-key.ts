/**
 * Where the API's key comes from: in Lambda, the Secrets Manager secret that serverless.yml
 * creates (MAILBRIDGE_API_KEY_SECRET), read once per cold start, so the key is never a
 * plain variable of the function; elsewhere (local mode, tests) MAILBRIDGE_API_KEY.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager'
import type { Config } from '../../shared/config.ts'
import { ConfigError } from '../../shared/errors.ts'

/**
 * The key of `config`: the secret's string when a secret is named, else the variable's
 * value (undefined when neither is set). The client takes its endpoint from the SDK's own
 * variables (AWS_ENDPOINT_URL_SECRETS_MANAGER), and is closed once the key is read.
 */
export async function loadApiKey(config: Pick<Config, 'api' | 'aws'>): Promise<string | undefined> {
  const secretId = config.api.keySecret
  if (secretId === undefined) return config.api.key
  const client = new SecretsManagerClient({ region: config.aws.region })
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: secretId }))
    // The stack generates a plain string; an operator's `put-secret-value` must keep it so.
    if (!SecretString) {
      throw new ConfigError(`MAILBRIDGE_API_KEY_SECRET: secret ${secretId} has no string value`)
    }
    return SecretString
  } finally {
    client.destroy()
  }
}
