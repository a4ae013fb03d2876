/** The worker thread of startEmulatorThread (emulator.ts): fauxqs, reporting its endpoint. */
import { type EmulatorOptions, startEmulator } from './emulator.ts'
import { runInThread } from './threads.ts'

await runInThread(async (options: EmulatorOptions) => {
  const emulator = await startEmulator(options)
  return { ready: emulator.endpoint, stop: emulator.stop }
})
