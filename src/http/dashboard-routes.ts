/**
 * GET / for a browser: the dashboard page, and GET /dashboard.js, /dashboard.css
 * and /favicon.svg.
 * Anything else asking for GET / (no text/html in Accept, or JSON preferred)
 * falls through to health-routes' JSON answer.
 *
 * The page is static: it reads /health and /runs from the browser with the
 * same access rules as any caller, so it reveals nothing those do not. Its
 * URLs are relative, because under webtask it lives below a path prefix
 * (/api/run/<container>/<name>/). The Content-Security-Policy allows nothing
 * but this origin, and no inline script or style, so text from events or
 * errors cannot run even if it reached the page as markup.
 */
import { Router, type Request, type Response } from 'express';
import { dashboardAssets } from '../dashboard/assets';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  // The controls change state: no other site may frame them (clickjacking).
  "frame-ancestors 'none'",
].join('; ');

function wantsHtml(req: Request): boolean {
  return /\btext\/html\b/i.test(req.get('accept') ?? '') && req.accepts(['json', 'html']) === 'html';
}

function secureHeaders(res: Response): void {
  res.set({
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    // Small files; always revalidated (express adds an ETag), so a new version shows at once.
    'cache-control': 'no-cache',
  });
}

/**
 * The path the browser asked for, before webtask stripped its prefix. A page
 * at /api/run/c/name (no slash) would resolve ./health to /api/run/c/health,
 * so such a request is sent to the same path with a slash.
 */
function missingSlash(req: Request): string | undefined {
  const path = (req.originalUrl || req.url).split('?')[0] ?? '/';
  if (path.endsWith('/')) return undefined;
  return `${path.slice(path.lastIndexOf('/') + 1)}/`;
}

export function dashboardRoutes(): Router {
  const router = Router();

  router.get('/', (req, res, next) => {
    res.vary('Accept');
    if (!wantsHtml(req)) {
      next();
      return;
    }
    const slash = missingSlash(req);
    if (slash !== undefined) {
      res.redirect(302, slash);
      return;
    }
    secureHeaders(res);
    res.type('html').send(dashboardAssets().html);
  });

  router.get('/dashboard.js', (_req, res) => {
    secureHeaders(res);
    res.type('text/javascript').send(dashboardAssets().js);
  });
  router.get('/dashboard.css', (_req, res) => {
    secureHeaders(res);
    res.type('text/css').send(dashboardAssets().css);
  });
  router.get('/favicon.svg', (_req, res) => {
    secureHeaders(res);
    res.type('image/svg+xml').send(dashboardAssets().icon);
  });
  return router;
}
