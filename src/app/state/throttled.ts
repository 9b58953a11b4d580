/**
 * The live run, re-rendered at most every THROTTLE_MS: the engine store changes with every
 * token (tens per second), and rendering the run panel for each one kept the main thread
 * busy for long stretches. The text still streams, in slices of a few tokens.
 */
import { useEffect, useState } from 'react';
import { useEngine } from './engine';

export const THROTTLE_MS = 80;

type Run = ReturnType<typeof useEngine.getState>['run'];

export function useThrottledRun(): Run {
  const [run, setRun] = useState<Run>(() => useEngine.getState().run);
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | null = null;
    let last = 0;
    const flush = () => {
      timer = null;
      last = performance.now();
      setRun(useEngine.getState().run);
    };
    const unsubscribe = useEngine.subscribe((state, prev) => {
      if (state.run === prev.run || timer !== null) return;
      // A new or ended run shows at once; a token waits for the next slot.
      const urgent = state.run?.id !== prev.run?.id || state.run?.status !== prev.run?.status;
      timer = setTimeout(flush, urgent ? 0 : Math.max(0, THROTTLE_MS - (performance.now() - last)));
    });
    flush();
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
    };
  }, []);
  return run;
}
