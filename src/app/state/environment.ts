import { create } from 'zustand';
import { probeCapabilities, type Capabilities } from '../../core/runtime/capabilities';

/** What this browser offers for compute, probed once at start. */
interface EnvironmentState {
  capabilities: Capabilities | null;
  probing: boolean;
  probe: () => Promise<void>;
}

export const useEnvironment = create<EnvironmentState>((set, get) => ({
  capabilities: null,
  probing: false,
  probe: async () => {
    if (get().probing || get().capabilities) return;
    set({ probing: true });
    const capabilities = await probeCapabilities();
    set({ capabilities, probing: false });
  },
}));
