export { chromiumPath, webgpuArgs } from '../../scripts/browser.mjs';

/** Where the static model server (test/support/model-server.mjs) serves ../shared. */
export const SHARED_URL = 'http://127.0.0.1:5174/shared';

/** Where the model server serves files that tests write into <project>/.test-models. */
export const GENERATED_URL = 'http://127.0.0.1:5174/generated';
export const GENERATED_DIR = new URL('../../.test-models/', import.meta.url);
