/** Bundles in the Cache API (downloaded models), with their sizes; delete one. */
import { create } from 'zustand';
import { deleteCachedBundle, listCachedBundles, type CachedBundle } from '../../core/bundle';

interface ModelCacheState {
  bundles: CachedBundle[];
  status: 'idle' | 'loading' | 'ready';
  error: string | null;
  refresh: () => Promise<void>;
  remove: (baseUrl: string) => Promise<void>;
}

export const useModelCache = create<ModelCacheState>((set, get) => ({
  bundles: [],
  status: 'idle',
  error: null,
  refresh: async () => {
    set({ status: 'loading' });
    try {
      set({ bundles: await listCachedBundles(), status: 'ready', error: null });
    } catch (e) {
      set({ status: 'ready', error: `Could not read the model cache: ${e instanceof Error ? e.message : String(e)}` });
    }
  },
  remove: async (baseUrl) => {
    try {
      await deleteCachedBundle(baseUrl);
    } catch (e) {
      set({ error: `Could not delete the cached model: ${e instanceof Error ? e.message : String(e)}` });
    }
    await get().refresh();
  },
}));
