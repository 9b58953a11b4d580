import { describe, expect, it } from 'vitest';
import { describeBackend, probeWebGpu, wasmThreadCount, type GpuAdapterFacts } from './capabilities';

const swiftshader: GpuAdapterFacts = {
  vendor: 'google',
  architecture: 'swiftshader',
  device: '',
  description: '',
  isFallback: true,
  shaderF16: false,
  maxBufferSize: 2 ** 30,
};

function fakeAdapter(features: string[], info: Partial<GPUAdapterInfo> & { isFallbackAdapter?: boolean }) {
  return {
    features: new Set(features),
    limits: { maxBufferSize: 1024 },
    info,
  } as unknown as GPUAdapter;
}

describe('capabilities', () => {
  it('describes a software adapter without shader-f16', () => {
    expect(describeBackend({ webgpu: swiftshader })).toBe('WebGPU · google swiftshader (software fallback) · no shader-f16');
  });

  it('describes the absence of WebGPU as WASM only', () => {
    expect(describeBackend({ webgpu: null })).toBe('WASM only');
  });

  it('reads adapter facts, shader-f16 included', async () => {
    const gpu = { requestAdapter: async () => fakeAdapter(['shader-f16'], { vendor: 'nvidia', architecture: 'hopper' }) };
    const { facts, reason } = await probeWebGpu(gpu);
    expect(reason).toBeNull();
    expect(facts).toMatchObject({ vendor: 'nvidia', architecture: 'hopper', shaderF16: true, isFallback: false, maxBufferSize: 1024 });
  });

  it('explains a missing adapter and a missing API', async () => {
    expect((await probeWebGpu(undefined)).reason).toMatch(/no WebGPU/);
    expect((await probeWebGpu({ requestAdapter: async () => null })).reason).toMatch(/no adapter/);
    const throwing = { requestAdapter: async () => { throw new Error('boom'); } };
    expect((await probeWebGpu(throwing)).reason).toMatch(/failed: boom/);
  });

  it('uses threads only when cross-origin isolated, at most 4', () => {
    expect(wasmThreadCount(false, 16)).toBe(1);
    expect(wasmThreadCount(true, 2)).toBe(2);
    expect(wasmThreadCount(true, 16)).toBe(4);
  });
});
