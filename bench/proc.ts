/** Process-tree memory from /proc, for the benches that measure a browser (media.ts, browser-7b.ts). */
import { readdirSync, readFileSync } from 'node:fs';

export /** RSS (bytes) of a process and all its descendants, from /proc. */
function treeRss(rootPid: number): number {
  const parent = new Map<number, number>();
  const rss = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parent.set(Number(d), ppid);
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${d}/status`, 'utf8'));
      rss.set(Number(d), m ? Number(m[1]) * 1024 : 0);
    } catch {
      /* process ended */
    }
  }
  let total = 0;
  for (const [pid, r] of rss) {
    let p: number | undefined = pid;
    while (p && p !== rootPid && p !== 1) p = parent.get(p);
    if (p === rootPid) total += r;
  }
  return total;
}

/** The oldest process whose command line contains `fragment` (a browser's root process, found by its unique profile folder). */
export function oldestPidWith(fragment: string): number | null {
  let best: number | null = null;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(fragment) && (best === null || Number(d) < best)) best = Number(d);
    } catch {
      /* process ended */
    }
  }
  return best;
}
