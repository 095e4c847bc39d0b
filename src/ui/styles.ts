import { css } from 'lit';

/**
 * Styles shared by the components (each has its own shadow root). Colours and sizes come from the
 * `--ls-*` custom properties set on :root in index.html, which inherit through shadow roots.
 */
export const baseStyles = css`
  :host {
    display: block;
    box-sizing: border-box;
    color: var(--ls-text);
    font: inherit;
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  [hidden] {
    display: none !important;
  }
  h2 {
    margin: 0 0 var(--ls-gap-s);
    font-size: 0.8rem;
    font-weight: 600;
    letter-spacing: 0.06em;
    text-transform: uppercase;
    color: var(--ls-muted);
  }
  label,
  .label {
    display: block;
    font-size: 0.8rem;
    font-weight: 500;
    color: var(--ls-muted);
    margin-bottom: 4px;
  }
  input,
  textarea,
  select {
    font: inherit;
    color: inherit;
    width: 100%;
    min-width: 0;
    padding: 7px 10px;
    border: 1px solid var(--ls-border-strong);
    border-radius: var(--ls-radius-s);
    background: var(--ls-surface);
    transition: border-color 0.15s, box-shadow 0.15s;
  }
  input:focus,
  textarea:focus,
  select:focus {
    outline: none;
    border-color: var(--ls-accent);
    box-shadow: 0 0 0 3px var(--ls-accent-ring);
  }
  input:disabled,
  textarea:disabled {
    background: var(--ls-bg);
    color: var(--ls-muted);
  }
  input[aria-invalid='true'] {
    border-color: var(--ls-danger);
  }
  button {
    font: inherit;
    font-weight: 500;
    display: inline-flex;
    align-items: center;
    justify-content: center;
    gap: 6px;
    padding: 8px 16px;
    border-radius: var(--ls-radius-s);
    border: 1px solid var(--ls-border-strong);
    background: var(--ls-surface);
    color: var(--ls-text);
    cursor: pointer;
    white-space: nowrap;
    transition: background 0.15s, border-color 0.15s, opacity 0.15s;
  }
  button:hover:not(:disabled) {
    background: var(--ls-bg);
  }
  button:focus-visible {
    outline: none;
    box-shadow: 0 0 0 3px var(--ls-accent-ring);
  }
  button.primary {
    background: var(--ls-accent);
    border-color: var(--ls-accent);
    color: #fff;
  }
  button.primary:hover:not(:disabled) {
    background: var(--ls-accent-strong);
    border-color: var(--ls-accent-strong);
  }
  button:disabled {
    opacity: 0.5;
    cursor: not-allowed;
  }
  .mono {
    font-family: var(--ls-mono);
  }
  .muted {
    color: var(--ls-muted);
  }
  .hint {
    font-size: 0.78rem;
    color: var(--ls-muted);
    margin-top: 4px;
  }
  .field-error {
    font-size: 0.78rem;
    color: var(--ls-danger);
    margin-top: 4px;
  }
`;
