// Loaded by test/harness.html in headless Chromium: exposes the engine's modules to Playwright's
// page.evaluate, so browser tests call the real code (no bundling differences from the app).
import * as api from '../src/index.ts';
import { Kernels } from '../src/gpu/kernels.ts';
import { requestGPUDevice } from '../src/gpu/device.ts';
import { readGGUF } from '../src/gguf/gguf.ts';
import { openByteSource } from '../src/storage/byte-source.ts';
import { chatPromptTokens } from '../src/chat/openai.ts';
import { EngineCore } from '../src/engine/engine.ts';
import { Staging } from '../src/engine/staging.ts';
import { AdvisorClient } from '../src/advisor/client.ts';
import { advise, planVariant } from '../src/advisor/advise.ts';

const w = window as unknown as Record<string, unknown>;
w.ls = { ...api, Kernels, requestGPUDevice, readGGUF, openByteSource, chatPromptTokens, EngineCore, Staging, AdvisorClient, advise, planVariant };
w.harnessReady = true;
