/** Bundles in the Cache API (downloaded models), with their sizes, and the lite preset's files as one model; delete one. */
import { create } from 'zustand';
import { deleteCachedBundle, listCachedBundles, type CachedBundle } from '../../core/bundle';
import { deleteCachedHubPreset, listCachedHubPreset, type CachedHubPreset } from '../../core/bundle/hub-cache';
import { LITE_PINS, PRESETS } from '../lib/presets';

/** The lite preset's cached files, named as the preset list names it. */
export type CachedPreset = CachedHubPreset & { name: string };

interface ModelCacheState {
  bundles: CachedBundle[];
  /** The lite preset (files from huggingface.co at the pinned commits), when any are cached. */
  preset: CachedPreset | null;
  status: 'idle' | 'loading' | 'ready';
  error: string | null;
  refresh: () => Promise<void>;
  remove: (baseUrl: string) => Promise<void>;
  removePreset: () => Promise<void>;
}

const presetName = () => PRESETS.find((p) => p.source === 'hub')?.label ?? 'lite preset';

export const useModelCache = create<ModelCacheState>((set, get) => ({
  bundles: [],
  preset: null,
  status: 'idle',
  error: null,
  refresh: async () => {
    set({ status: 'loading' });
    try {
      const [bundles, preset] = await Promise.all([listCachedBundles(), listCachedHubPreset(LITE_PINS)]);
      set({ bundles, preset: preset && { ...preset, name: presetName() }, status: 'ready', error: null });
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
  removePreset: async () => {
    try {
      await deleteCachedHubPreset(LITE_PINS);
    } catch (e) {
      set({ error: `Could not delete the cached preset: ${e instanceof Error ? e.message : String(e)}` });
    }
    await get().refresh();
  },
}));
