/** One request to a bench's module worker: its log lines to the console, its `done` message as the result, its error (or a crash) as a rejection; the worker goes either way. */
type Message<D> = { type: 'log'; text: string } | { type: 'error'; message: string } | D;

export function runBenchWorker<D extends { type: 'done' }, R>(worker: Worker, request: unknown, result: (done: D) => R): Promise<R> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<Message<D>>) => {
      const m = e.data;
      if (m.type === 'log') return void console.log(m.text);
      worker.terminate();
      if (m.type === 'error') reject(new Error(m.message));
      else resolve(result(m));
    };
    worker.onerror = (e) => {
      worker.terminate();
      reject(new Error(e.message || 'the bench worker crashed'));
    };
    worker.postMessage(request);
  });
}
