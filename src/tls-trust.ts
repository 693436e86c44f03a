/**
 * Node's error codes for a certificate that failed verification (chain, dates,
 * host name). Such a failure will not pass on a retry, so both the Auth0 client
 * and the Papertrail sink fail at once on them, saying why.
 */
const CERTIFICATE_FAILURE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

export function isCertificateFailure(code: string | undefined): boolean {
  return code !== undefined && CERTIFICATE_FAILURE_CODES.has(code);
}
