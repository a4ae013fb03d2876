/**
 * How to start a worker thread whose code sits beside its caller: in a bundle the worker
 * is the `.mjs` built beside it; from source it is the `.ts` file, which the worker can
 * load only once tsx is registered in it (a worker does not always get the main thread's
 * loader hooks).
 */
export function workerScript(
  callerUrl: string,
  name: string,
): { script: string | URL; eval: boolean } {
  if (!callerUrl.endsWith('.ts'))
    return { script: new URL(`./${name}.mjs`, callerUrl), eval: false }
  const tsx = import.meta.resolve('tsx/esm/api')
  const worker = new URL(`./${name}.ts`, callerUrl).href
  return {
    script: `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(worker)}) })`,
    eval: true,
  }
}
