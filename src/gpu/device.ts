import { LayerstreamError } from '../errors.ts';

/**
 * Requests a GPUDevice with the adapter's largest buffer limits (weights are bound in pieces up to
 * maxStorageBufferBindingSize). Works without `shader-f16`: every kernel has a float32 path.
 * Throws LayerstreamError('webgpu_unavailable') when there is no WebGPU or no adapter.
 */
export async function requestGPUDevice(gpu: GPU | undefined = globalThis.navigator?.gpu): Promise<GPUDevice> {
  if (!gpu) throw new LayerstreamError('webgpu_unavailable', 'WebGPU is not available in this browser (navigator.gpu is missing)');
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new LayerstreamError('webgpu_unavailable', 'WebGPU is available but no GPU adapter was found');
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    // timestamp-query, when the adapter has it, times each layer's compute passes (profileLayers)
    requiredFeatures: adapter.features.has('timestamp-query') ? ['timestamp-query'] : [],
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxStorageBuffersPerShaderStage: Math.min(l.maxStorageBuffersPerShaderStage, 10),
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    },
  });
  device.addEventListener('uncapturederror', (e) => console.error('WebGPU error:', (e as GPUUncapturedErrorEvent).error.message));
  return device;
}

/**
 * Counts the GPU buffers `device` creates from now on (returns a reader). The engine allocates
 * everything at load; this is how tests check that no buffer is created per token.
 */
export function countBufferCreation(device: GPUDevice): () => number {
  let n = 0;
  const create = device.createBuffer.bind(device);
  device.createBuffer = (d: GPUBufferDescriptor) => {
    n++;
    return create(d);
  };
  return () => n;
}

/** SwiftShader and other CPU fallbacks: pick kernels without workgroup barriers. */
export function isCpuAdapter(device: GPUDevice): boolean {
  const info = (device as GPUDevice & { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return !!info && (info.architecture === 'swiftshader' || info.vendor === 'google' && /swiftshader/i.test(info.description) || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true);
}
