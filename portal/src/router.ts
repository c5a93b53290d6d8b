import { useEffect, useState } from 'react';

/** The portal's page from `#/approvals/{id}`: its segments, such as `['approvals', id]`. */
export function parseRoute(hash: string): string[] {
  const path = hash.replace(/^#\/?/, '').split('?')[0] ?? '';
  return path
    .split('/')
    .filter(Boolean)
    .map((segment) => decodeURIComponent(segment));
}

/**
 * The current route. A link opened as `/approvals/{id}` (without the `#`) is moved to
 * `#/approvals/{id}` once, so that both spellings open the same page.
 */
export function useRoute(): string[] {
  const [hash, setHash] = useState(() => {
    if (window.location.pathname !== '/' && !window.location.hash) {
      window.history.replaceState(null, '', `/#${window.location.pathname}`);
    }
    return window.location.hash;
  });

  useEffect(() => {
    const onChange = () => setHash(window.location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);

  return parseRoute(hash);
}

export function navigate(path: string): void {
  window.location.hash = `#${path}`;
}
