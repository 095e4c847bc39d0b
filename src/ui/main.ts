/** Entry point of the web UI (loaded by index.html): defines <ls-app> and the components it uses. */
import './app.ts';
import { registerServiceWorker } from './pwa.ts';
registerServiceWorker();
