/** Every run, kept in IndexedDB; the compare selection. */
import { create } from 'zustand';
import { KeyValueDb, StorageFullError } from '../lib/idb';
import { migrateRecord, type RunRecord } from '../lib/run-record';

const STORE = 'runs';
export const HISTORY_DB = new KeyValueDb('salmonn-captioner', 1, [STORE]);

export const MAX_COMPARE = 4;

interface HistoryState {
  runs: RunRecord[];
  status: 'loading' | 'ready' | 'unavailable';
  /** A storage problem to show (storage full, IndexedDB missing). */
  error: string | null;
  /** Run ids chosen for compare, in the order chosen. */
  selected: string[];
  comparing: boolean;
  init: () => Promise<void>;
  add: (run: RunRecord) => Promise<void>;
  remove: (id: string) => Promise<void>;
  clear: () => Promise<void>;
  toggleSelected: (id: string) => void;
  setComparing: (on: boolean) => void;
  dismissError: () => void;
}

const newestFirst = (a: RunRecord, b: RunRecord) => b.createdAt - a.createdAt;
const message = (e: unknown) => (e instanceof StorageFullError ? e.message : `The history could not be saved: ${e instanceof Error ? e.message : String(e)}`);

let initStarted = false;

export const useHistory = create<HistoryState>((set, get) => ({
  runs: [],
  status: 'loading',
  error: null,
  selected: [],
  comparing: false,
  init: async () => {
    if (initStarted) return;
    initStarted = true;
    try {
      // Records of older layouts are brought up to the current one (never dropped).
      const runs = (await HISTORY_DB.getAll<RunRecord>(STORE)).map(migrateRecord);
      // Runs added before the database answered stay in front.
      set((s) => ({ runs: [...s.runs, ...runs.filter((r) => !s.runs.some((x) => x.id === r.id))].sort(newestFirst), status: 'ready' }));
    } catch (e) {
      set({ status: 'unavailable', error: `The history is unavailable: ${e instanceof Error ? e.message : String(e)}` });
    }
  },
  add: async (run) => {
    set((s) => ({ runs: [run, ...s.runs.filter((r) => r.id !== run.id)].sort(newestFirst) }));
    try {
      await HISTORY_DB.put(STORE, run);
    } catch (e) {
      set({ error: message(e) });
    }
  },
  remove: async (id) => {
    set((s) => ({ runs: s.runs.filter((r) => r.id !== id), selected: s.selected.filter((x) => x !== id) }));
    if (get().selected.length < 2) set({ comparing: false });
    try {
      await HISTORY_DB.delete(STORE, id);
    } catch (e) {
      set({ error: message(e) });
    }
  },
  clear: async () => {
    set({ runs: [], selected: [], comparing: false });
    try {
      await HISTORY_DB.clear(STORE);
    } catch (e) {
      set({ error: message(e) });
    }
  },
  toggleSelected: (id) =>
    set((s) => {
      if (s.selected.includes(id)) {
        const selected = s.selected.filter((x) => x !== id);
        return { selected, comparing: s.comparing && selected.length >= 2 };
      }
      if (s.selected.length >= MAX_COMPARE) return {};
      return { selected: [...s.selected, id] };
    }),
  setComparing: (on) => set({ comparing: on && get().selected.length >= 2 }),
  dismissError: () => set({ error: null }),
}));
