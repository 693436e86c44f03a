/**
 * FAULTS_PROFILE=ci (default) keeps the suite within about ten minutes on a
 * 2-core CI machine; FAULTS_PROFILE=full adds the slow figures (the
 * 1,000,000-event memory drain).
 */
export type FaultsProfile = 'ci' | 'full';

export function faultsProfile(): FaultsProfile {
  const raw = process.env['FAULTS_PROFILE'] ?? '';
  if (raw === '' || raw === 'ci') return 'ci';
  if (raw === 'full') return 'full';
  // A typo must not silently run the short profile while claiming the long one.
  throw new Error(`FAULTS_PROFILE="${raw}" is not a profile: use "ci" (default) or "full".`);
}
