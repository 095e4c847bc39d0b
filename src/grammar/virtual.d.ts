/** The text of @mlc-ai/web-xgrammar/lib/index.js (vite.config.ts, xgrammarSource). */
declare module 'virtual:xgrammar-source' {
  const source: string;
  export default source;
}
