/**
 * The dashboard page's files (HTML, stylesheet, script, icon), served by
 * src/http/dashboard-routes.ts. `npm run build` compiles them into one JSON
 * document (build/dashboard.mjs); the extension bundle inlines that document
 * (build/bundle.mjs defines DASHBOARD_ASSETS) so the extension stays one file,
 * and the CLI reads it from beside this module in dist/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DashboardAssets {
  html: string;
  css: string;
  js: string;
  /** The tab's icon, SVG. */
  icon: string;
}

/** The file build/dashboard.mjs writes next to the compiled form of this module. */
export const ASSETS_FILE = 'dashboard-assets.json';

// Replaced by the assets themselves in the extension bundle; an undeclared global anywhere else.
declare const DASHBOARD_ASSETS: DashboardAssets;

let cached: DashboardAssets | undefined;

function inlined(): DashboardAssets | undefined {
  try {
    return DASHBOARD_ASSETS;
  } catch {
    return undefined; // ReferenceError: not the bundle
  }
}

function fromFile(): DashboardAssets {
  try {
    return JSON.parse(readFileSync(join(__dirname, ASSETS_FILE), 'utf8')) as DashboardAssets;
  } catch (error) {
    throw new Error(`The dashboard page is not built (${(error as Error).message}): run npm run build.`, { cause: error });
  }
}

/** Throws when the page was not built (running from src/ without `npm run build`). */
export function dashboardAssets(): DashboardAssets {
  cached ??= inlined() ?? fromFile();
  return cached;
}
