/**
 * Event mixes for the simulated tenant. The default is the generator's plain
 * mix (~1 KB events). The realistic mix is the one the integration tests use
 * to find framing bugs, at the proportion seen in real tenants: 2 % of events
 * carry hostile text (CR, LF, NUL, lone surrogates, U+2028, forged syslog
 * headers, in values and keys), and one in 2,500 a field of 150,000+
 * characters that Papertrail's 100,000-byte limit forces the exporter to cut.
 */
import type { GenerateOptions } from '../../test/support/events';

export const REALISTIC_MIX: GenerateOptions = { hostileEvery: 50, hugeEvery: 2_500 };
