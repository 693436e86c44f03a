/**
 * Auth0 log event type codes, with the level each one is filtered at.
 *
 * Sources: the documented codes (Auth0 docs, "Log event type codes", 165 codes)
 * and 20 more seen in Auth0's log schema, in the original extension's table
 * or in older docs. test/fixtures/auth0-log-type-codes.json lists them all
 * with the original extension's levels; the tests hold this table to it. Descriptions here are our own wording.
 *
 * Levels: 0 debug, 1 info, 2 warning, 3 error, 4 critical. LOG_LEVEL=n exports
 * every code whose level is >= n.
 *
 * How a level is chosen:
 *
 *   A. A code the original extension knew (auth0-log-extension-tools 1.3.10,
 *      98 codes) keeps the original's level unchanged, even where we might
 *      have chosen differently (`fui` is 2, `pwd_leak` is 3). Users who migrate
 *      with a LOG_LEVEL setting must keep getting the same events.
 *
 *   B. Every other code gets a level from the first of these rules that
 *      fits. Where a rule says "as the original did", the level follows from
 *      a code the original already had, so old and new codes of the same
 *      kind do not disagree:
 *      4 critical: Attack Protection blocked a user or an IP address
 *                  (`limit_sul`), like the original's `limit_wc`/`limit_mu`.
 *                  No other new code is critical. The original kept 4 for
 *                  blocks and tenant-wide rate limits, and so do we.
 *      3 error:    an operation failed, was refused or was abandoned: failed
 *                  exchanges, logins, logouts, hooks, executions (`f…`,
 *                  `*_failed`, `*_failure`, `*_error`); a user declining a
 *                  confirmation (`fdecc`), as the original did for
 *                  `gd_auth_rejected`; a breached password seen on signup or
 *                  reset, as the original did for `pwd_leak` on login.
 *      2 warning:  Auth0 flags something that needs attention but nothing has
 *                  failed yet: explicit warnings (`wn`, `wum`, like `w`),
 *                  approaching a rate limit (`api_limit_warning`), running on
 *                  the limited peak capacity allowance (`appi`), platform
 *                  notices (`acul_sdk_notice`, like `depnote`), and a limit
 *                  reached by one user rather than by an attacker or the whole
 *                  tenant (`limit_phone`, `too_many_records`), as the original
 *                  did for `gd_otp_rate_limit_exceed`.
 *      1 info:     everything else: successes, starts and completions, state
 *                  changes, summaries and assessments (`pla`, `acls_summary`,
 *                  `mgmt_api_read`, `kms_key_state_changed`). Management API
 *                  reads and key changes stay at 1 because the original put
 *                  every Management API write (`sapi`) at 1.
 *      0 debug:    unused, as in the original. Every code here is an event in
 *                  the tenant that someone may want in Papertrail, and a
 *                  level-0 code would silently vanish for anyone who chose
 *                  LOG_LEVEL=1 (info).
 *
 * Codes missing from this table are not dropped; the filter stage decides
 * what happens to them.
 */

export type LogLevel = 0 | 1 | 2 | 3 | 4;

export const LOG_LEVEL_NAMES: Readonly<Record<LogLevel, 'debug' | 'info' | 'warning' | 'error' | 'critical'>> =
  Object.freeze({ 0: 'debug', 1: 'info', 2: 'warning', 3: 'error', 4: 'critical' });

export interface LogTypeInfo {
  code: string;
  name: string;
  description: string;
  level: LogLevel;
  /** The folder of the code's page in Auth0's Tenant Log Catalog, which is also its Log Streams filter category. */
  category?: string;
}

type Row = readonly [code: string, level: LogLevel, name: string, description: string, category?: string];

// Rule A: the original extension's 98 codes, at the original's level.
const FROM_ORIGINAL: readonly Row[] = [
  ['admin_update_launch', 1, 'Auth0 Update Launched', 'An Auth0 platform update was launched (Private Cloud only; legacy code).'],
  ['api_limit', 4, 'Rate Limit on the Authentication or Management APIs', 'Requests to the Authentication or Management API reached the rate limit for the current period.', 'system-notification'],
  ['cls', 1, 'Code/Link Sent', 'A passwordless login code or link was sent.', 'other'],
  ['coff', 3, 'Connector Offline', 'An AD/LDAP connector went offline (legacy code).'],
  ['con', 1, 'Connector Online', 'An AD/LDAP connector came online (legacy code).'],
  ['cs', 1, 'Code Sent', 'A passwordless login code was sent.', 'user-notification'],
  ['depnote', 2, 'Deprecation Notice', 'The tenant used a feature that Auth0 has deprecated.', 'system-notification'],
  ['du', 3, 'Deleted User', 'A user was deleted (legacy code, superseded by sdu).'],
  ['f', 3, 'Failed Login', 'A login attempt failed.', 'auth-login-fail'],
  ['fapi', 3, 'Failed API Operation', 'A Management API operation failed.'],
  ['fc', 3, 'Failed by Connector', 'A login failed in the connector of an enterprise connection.'],
  ['fce', 3, 'Failed Change Email', "A user's email address could not be changed.", 'user-fail'],
  ['fco', 3, 'Failed by CORS', "A request came from an origin missing from the application's Allowed Origins.", 'other'],
  ['fcoa', 3, 'Failed cross-origin authentication', 'A cross-origin authentication attempt failed.', 'auth-login-fail'],
  ['fcp', 3, 'Failed Change Password', "A user's password could not be changed.", 'user-fail'],
  ['fcph', 3, 'Failed Post Change Password Hook', 'The Post Change Password hook failed.', 'user-fail'],
  ['fcpn', 3, 'Failed Change Phone Number', "A user's phone number could not be changed.", 'user-fail'],
  ['fcpr', 3, 'Failed Change Password Request', 'A password change request could not be processed.', 'user-fail'],
  ['fcpro', 4, 'Failed Connector Provisioning', 'An AD/LDAP connector could not be provisioned.', 'system-notification'],
  ['fcu', 3, 'Failed Change Username', "A user's username could not be changed.", 'user-fail'],
  ['fd', 3, 'Failed Delegation', 'A delegation token could not be issued.', 'user-fail'],
  ['fdu', 3, 'Failed User Deletion', 'A user could not be deleted.', 'user-fail'],
  ['feacft', 3, 'Failed Exchange', 'An authorization code could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  ['feccft', 3, 'Failed Exchange', 'A client credentials grant did not yield an access token.', 'auth-token-exchange-fail'],
  ['fens', 3, 'Failed Exchange', 'A native social login could not be exchanged for tokens.', 'auth-login-fail'],
  ['feoobft', 3, 'Failed Exchange', 'A password and out-of-band challenge could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  ['feotpft', 3, 'Failed Exchange', 'A password and one-time password challenge could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  ['fepft', 3, 'Failed Exchange', 'A password could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  ['fercft', 3, 'Failed Exchange', 'A password and MFA recovery code could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  ['ferrt', 3, 'Failed Exchange', 'A rotating refresh token could not be exchanged, for example because its reuse was detected.', 'auth-token-exchange-fail'],
  ['fertft', 3, 'Failed Exchange', 'A refresh token could not be exchanged for an access token, for example because it was revoked or had expired.', 'auth-token-exchange-fail'],
  ['flo', 3, 'Failed Logout', 'A logout failed.', 'auth-logout-fail'],
  ['fn', 3, 'Failed Sending Notification', 'A notification could not be sent.', 'user-fail'],
  ['fp', 3, 'Failed Login (Incorrect Password)', 'A login failed because the password was wrong.', 'auth-login-fail'],
  ['fs', 3, 'Failed Signup', 'A signup attempt failed.', 'auth-signup-fail'],
  ['fsa', 3, 'Failed Silent Auth', 'A silent authentication attempt failed.', 'auth-silent-auth-fail'],
  ['fu', 3, 'Failed Login (Invalid Email/Username)', 'A login failed because the email address or username was invalid or unknown.', 'auth-login-fail'],
  ['fui', 2, 'Failed users import', 'A bulk user import failed.', 'system-notification'],
  ['fv', 3, 'Failed Verification Email', 'A verification email could not be sent.', 'user-fail'],
  ['fvr', 3, 'Failed Verification Email Request', 'A request to send a verification email could not be processed.', 'user-fail'],
  ['gd_auth_failed', 3, 'MFA Auth failed', 'A multi-factor challenge failed, through a wrong code or a system error.', 'other'],
  ['gd_auth_rejected', 3, 'MFA Auth rejected', 'A user declined a multi-factor push notification.', 'other'],
  ['gd_auth_succeed', 1, 'MFA Auth success', 'A multi-factor challenge succeeded.', 'other'],
  ['gd_enrollment_complete', 1, 'MFA enrollment complete', 'A user enrolled their first multi-factor authenticator.', 'user-notification'],
  ['gd_module_switch', 1, 'Module switch', 'The Guardian MFA module was switched (legacy code).'],
  ['gd_otp_rate_limit_exceed', 2, 'Too many MFA failures', 'A user made more than 10 MFA requests to their device within an hour; a successful login does not reset the count.', 'other'],
  ['gd_recovery_failed', 3, 'Recovery failed', 'A wrong MFA recovery code was entered.', 'other'],
  ['gd_recovery_rate_limit_exceed', 2, 'Multi-factor recovery code has failed too many times', 'A user entered a wrong MFA recovery code too many times.'],
  ['gd_recovery_succeed', 1, 'MFA recovery success', 'A user authenticated with an MFA recovery code.', 'other'],
  ['gd_send_pn', 1, 'Push notification sent', 'An MFA push notification was sent.', 'other'],
  ['gd_send_pn_failure', 3, 'Error Sending MFA Push Notification', 'An MFA push notification could not be sent.', 'other'],
  ['gd_send_sms', 1, 'MFA SMS Sent', 'An MFA text message was sent.', 'other'],
  ['gd_send_sms_failure', 3, 'Error Sending MFA SMS', 'An MFA text message could not be sent.', 'other'],
  ['gd_send_voice', 1, 'MFA voice call success', 'An MFA voice call was made.', 'other'],
  ['gd_send_voice_failure', 3, 'MFA voice call failed', 'An MFA voice call could not be made.', 'other'],
  ['gd_start_auth', 1, 'Second factor started', 'A second-factor authentication began.', 'other'],
  ['gd_start_enroll', 1, 'MFA Enroll started', 'A multi-factor enrollment began.', 'user-notification'],
  ['gd_start_enroll_failed', 3, 'MFA Enrollment Failed', 'A multi-factor enrollment could not be started.', 'other'],
  ['gd_tenant_update', 1, 'Guardian tenant update', "The tenant's Guardian MFA settings were updated.", 'other'],
  ['gd_unenroll', 1, 'Unenroll device account', 'A device was removed as a second factor.', 'user-notification'],
  ['gd_update_device_account', 1, 'Update device account', 'A device used as a second factor was updated.', 'user-notification'],
  ['gd_user_delete', 1, 'User delete', "A user's Guardian MFA data was deleted (legacy code)."],
  ['limit_delegation', 4, 'Too Many Calls to /delegation', 'Calls to the /delegation endpoint exceeded its rate limit.', 'system-notification'],
  ['limit_mu', 4, 'Blocked IP Address', 'An IP address was blocked after too many failed logins without a success, or too many signups.', 'system-notification'],
  ['limit_ui', 4, 'Too Many Calls to /userinfo', 'Calls to the /userinfo endpoint exceeded its rate limit (legacy code).'],
  ['limit_wc', 4, 'Blocked Account', 'An IP address was blocked after too many failed logins to a single account.', 'system-notification'],
  ['pwd_leak', 3, 'Breached password', 'A login was attempted with a password known from a data breach; logged at most once an hour per IP address.', 'other'],
  ['s', 1, 'Success Login', 'A user logged in.', 'auth-login-success'],
  ['sapi', 1, 'Success API Operation', 'A Management API write succeeded.', 'management-success'],
  ['sce', 1, 'Success Change Email', "A user's email address was changed.", 'user-success'],
  ['scoa', 1, 'Success cross-origin authentication', 'A cross-origin authentication succeeded.', 'auth-login-success'],
  ['scp', 1, 'Success Change Password', "A user's password was changed.", 'user-success'],
  ['scph', 1, 'Success Post Change Password Hook', 'The Post Change Password hook ran successfully (legacy code).'],
  ['scpn', 1, 'Success Change Phone Number', "A user's phone number was changed.", 'user-success'],
  ['scpr', 1, 'Success Change Password Request', 'A password change request was accepted.', 'user-success'],
  ['scu', 1, 'Success Change Username', "A user's username was changed.", 'user-success'],
  ['sd', 1, 'Success Delegation', 'A delegation token was issued.', 'user-success'],
  ['sdu', 1, 'Success User Deletion', 'A user was deleted.', 'user-success'],
  ['seacft', 1, 'Success Exchange', 'An authorization code was exchanged for an access token.', 'auth-token-exchange-success'],
  ['seccft', 1, 'Success Exchange', 'A client credentials grant yielded an access token.', 'auth-token-exchange-success'],
  ['sens', 1, 'Success Exchange', 'A native social login was exchanged for tokens.', 'auth-login-success'],
  ['seoobft', 1, 'Success Exchange', 'A password and out-of-band challenge were exchanged for an access token.', 'auth-token-exchange-success'],
  ['seotpft', 1, 'Success Exchange', 'A password and one-time password challenge were exchanged for an access token.', 'auth-token-exchange-success'],
  ['sepft', 1, 'Success Exchange', 'A password was exchanged for an access token.', 'auth-token-exchange-success'],
  ['sercft', 1, 'Success Exchange', 'A password and MFA recovery code were exchanged for an access token.', 'auth-token-exchange-success'],
  ['sertft', 1, 'Success Exchange', 'A refresh token was exchanged for an access token.', 'auth-token-exchange-success'],
  ['slo', 1, 'Success Logout', 'A user logged out.', 'auth-logout-success'],
  ['ss', 1, 'Success Signup', 'A user signed up.', 'auth-signup-success'],
  ['ssa', 1, 'Success Silent Auth', 'A silent authentication succeeded.', 'auth-silent-auth-success'],
  ['sui', 1, 'Successfully imported users', 'A bulk user import completed.', 'user-success'],
  ['sv', 1, 'Success Verification Email', 'A user followed an email verification link.', 'user-success'],
  ['svr', 1, 'Success Verification Email Request', 'A verification email was queued for sending.', 'user-success'],
  ['sys_os_update_end', 1, 'Auth0 OS Update Ended', 'An operating system update of the Auth0 platform finished (Private Cloud only; legacy code).'],
  ['sys_os_update_start', 1, 'Auth0 OS Update Started', 'An operating system update of the Auth0 platform began (Private Cloud only; legacy code).'],
  ['sys_update_end', 1, 'Auth0 Update Ended', 'An Auth0 platform update finished (Private Cloud only; legacy code).'],
  ['sys_update_start', 1, 'Auth0 Update Started', 'An Auth0 platform update began (Private Cloud only; legacy code).'],
  ['ublkdu', 1, 'User login block released', 'A login block that anomaly detection had put on a user was lifted.', 'user-notification'],
  ['w', 2, 'Warning During Login', 'Auth0 raised a warning during a login.', 'auth-login-notification'],
];

// Rule B, 4 critical: Attack Protection blocks.
const NEW_CRITICAL: readonly Row[] = [
  ['limit_sul', 4, 'Blocked Account', 'A user was temporarily blocked from logging in after reaching the maximum number of logins per period from one IP address.', 'other'],
];

// Rule B, 3 error: failed, refused or abandoned operations, and breached passwords.
const NEW_ERROR: readonly Row[] = [
  ['actions_execution_failed', 3, 'Actions Execution Failed', 'An Action failed while running.', 'actions'],
  ['ciba_exchange_failed', 3, 'Failed CIBA Exchange', 'A CIBA auth_req_id could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  ['ciba_start_failed', 3, 'Failed CIBA Start', 'A Client-Initiated Backchannel Authentication flow could not be started.', 'other'],
  ['connected_accounts_connection_failed', 3, 'Failed Connected Account Connection', 'A user could not connect a third-party account.', 'user-fail'],
  ['connected_accounts_delete_failed', 3, 'Failed Connected Account Delete', 'A user could not remove a connected third-party account.', 'user-fail'],
  ['custom_domain_verification_failed', 3, 'Custom Domain Verification Failed', 'A custom domain could not be verified.', 'system-notification'],
  ['directory_sync_failed', 3, 'Inbound Directory Sync Failed', 'An inbound directory synchronization failed.', 'system-notification'],
  ['failed_on_behalf_of_token_exchange', 3, 'Failed Exchange', 'An On-Behalf-Of token exchange failed.', 'auth-token-exchange-fail'],
  ['fdeac', 3, 'Failed Device Activation', 'A device could not be activated in the device authorization flow.', 'other'],
  ['fdeaz', 3, 'Failed Device Authorization Request', 'A device authorization request failed.', 'user-fail'],
  ['fdecc', 3, 'User Canceled Device Confirmation', 'A user did not confirm the device in the device authorization flow.', 'user-fail'],
  ['fdeleacft', 3, 'Failed Delegated Authorization Code Exchange', 'A delegated authorization code could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  ['fdelsa', 3, 'Failed Delegated Silent Authentication', 'A delegated silent authentication failed.', 'auth-silent-auth-fail'],
  ['fecte', 3, 'Failed Exchange', 'A Custom Token Exchange failed.', 'auth-token-exchange-fail'],
  ['fede', 3, 'Failed Exchange', 'A device code could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  ['federated_logout_failed', 3, 'Failed Federated Logout', 'Logging out of the upstream identity provider failed.', 'auth-logout-fail'],
  ['fepotpft', 3, 'Failed Exchange', 'A passwordless one-time password could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  // Auth0's catalog files this failure under the success category; the category is carried over as Auth0 publishes it.
  ['feta', 3, 'Failed Exchange', 'A token exchange at Token Vault failed.', 'auth-token-exchange-success'],
  ['fi', 3, 'Failed invite accept', 'A user invitation could not be accepted, for example because a different email address was used or provisioning failed.', 'other'],
  ['flows_execution_failed', 3, 'Flows Execution Failed', 'A Flow failed while running.', 'other'],
  ['forms_submission_failed', 3, 'Forms Submission Failed', 'A Form submission failed.', 'other'],
  ['fpar', 3, 'Failed Pushed Authorization Request', 'A pushed authorization request failed.', 'other'],
  ['fpurh', 3, 'Failed Post User Registration Hook', 'The Post User Registration hook failed.', 'other'],
  ['fscim', 3, 'Failed SCIM Operation', 'A SCIM provisioning operation failed.', 'scim-event'],
  ['gd_auth_fail_email_verification', 3, 'Email Verification Failed', 'An email verification in the Guardian MFA flow failed.'],
  ['gd_send_email_verification_failure', 3, 'Email Verification Failed', 'A verification email in the Guardian MFA flow could not be sent.'],
  ['gd_webauthn_challenge_failed', 3, 'WebAuthn browser error', 'A user could not verify a WebAuthn factor.', 'other'],
  ['gd_webauthn_enrollment_failed', 3, 'WebAuthn browser error', 'Enrolling a WebAuthn factor failed in the browser.', 'other'],
  ['idjag_exchange_failed', 3, 'Failed Exchange', 'An Identity Assertion Authorization Grant JWT could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  ['jwt_bearer_exchange_failed', 3, 'Failed Exchange', 'A JWT bearer assertion could not be exchanged for an access token.', 'auth-token-exchange-fail'],
  ['kms_key_management_failure', 3, 'Failed KMS API Operation', 'A KMS key management operation failed.', 'other'],
  ['my_account_authentication_method_failed', 3, 'Failed authentication method operation in My Account API', 'An authentication method operation in the My Account API failed.', 'user-fail'],
  ['oidc_backchannel_logout_failed', 3, 'Failed OIDC Back-Channel Logout request', 'An OIDC Back-Channel Logout request failed.', 'auth-logout-fail'],
  ['passkey_challenge_failed', 3, 'Passkey Challenge Failed', 'A native passkey challenge failed.', 'other'],
  ['reset_pwd_leak', 3, 'Breached Password on Reset', 'A password reset was attempted with a password known from a data breach.', 'other'],
  ['rich_consents_access_error', 3, 'Rich Consents Access Error', 'A Rich Consent record could not be fetched.', 'other'],
  ['signup_pwd_leak', 3, 'Breached Password on Signup', 'A signup was attempted with a password known from a data breach.', 'other'],
  ['ss_sso_failure', 3, 'Failed SS-SSO Operation', 'A Self-Service SSO operation failed.', 'user-fail'],
  ['universal_logout_failed', 3, 'Failed Universal Logout request', 'A Universal Logout request failed.', 'auth-logout-fail'],
];

// Rule B, 2 warning: needs attention, nothing has failed yet.
const NEW_WARNING: readonly Row[] = [
  ['acul_sdk_notice', 2, 'ACUL SDK Notice', 'A notice from the Advanced Customizations for Universal Login (ACUL) SDK.', 'system-notification'],
  ['api_limit_warning', 2, 'Rate Limit Warning on the Authentication or Management APIs', 'Requests to the Authentication or Management API are close to the rate limit for the current period.', 'system-notification'],
  ['appi', 2, 'Notice for API Peak Performance initiated', 'The purchased API Peak Performance allowance (at most 48 hours a month) started raising the Authentication API rate limits.', 'system-notification'],
  ['limit_phone', 2, 'Phone Message Limit Reached', 'A user reached the maximum number of SMS messages or voice calls for a period and is temporarily stopped from getting more.', 'system-notification'],
  ['too_many_records', 2, 'Max Amount of Authenticators', 'A user reached the maximum number of authenticators.'],
  ['wn', 2, 'Warning Sending Notification', 'Auth0 raised a warning while sending a notification.', 'other'],
  ['wum', 2, 'Warning User Management', 'Auth0 raised a warning during a user management operation.', 'other'],
];

// Rule B, 1 info: successes, progress, state changes, summaries.
const NEW_INFO: readonly Row[] = [
  ['acls_summary', 1, 'Network ACLs Summary', "A periodic summary of requests that matched the tenant's network ACLs.", 'other'],
  ['ciba_exchange_succeeded', 1, 'Successful CIBA Exchange', 'A CIBA auth_req_id was exchanged for an access token.', 'auth-token-exchange-success'],
  ['ciba_start_succeeded', 1, 'Successful CIBA Start', 'A Client-Initiated Backchannel Authentication flow was started.', 'other'],
  ['connected_accounts_connection_succeeded', 1, 'Successful Connected Account Connection', 'A user connected a third-party account.', 'user-success'],
  ['connected_accounts_delete_succeeded', 1, 'Successful Connected Account Delete', 'A user removed a connected third-party account.', 'user-success'],
  ['directory_sync_completed', 1, 'Inbound Directory Sync Completed', 'An inbound directory synchronization finished.', 'system-notification'],
  ['directory_sync_started', 1, 'Inbound Directory Sync Started', 'An inbound directory synchronization began.', 'system-notification'],
  ['flows_execution_completed', 1, 'Flows Execution Completed', 'A Flow finished running.', 'other'],
  ['forms_submission_succeeded', 1, 'Forms Submission Succeeded', 'A Form was submitted.', 'other'],
  ['gd_auth_email_verification', 1, 'Email Verification Confirmed', 'An email verification in the Guardian MFA flow succeeded.', 'other'],
  ['gd_send_email', 1, 'MFA Email Sent', 'An MFA email was sent.', 'other'],
  ['gd_send_email_verification', 1, 'Email Verification Sent', 'A verification email in the Guardian MFA flow was sent.', 'other'],
  ['idjag_exchange_succeeded', 1, 'Success Exchange', 'An Identity Assertion Authorization Grant JWT was exchanged for an access token.', 'auth-token-exchange-success'],
  ['kms_key_management_success', 1, 'Success KMS API Operation', 'A KMS key management operation succeeded.', 'other'],
  ['kms_key_state_changed', 1, 'KMS Key State Change', 'The state of a KMS key changed.', 'other'],
  ['mfar', 1, 'MFA Required', 'A user was asked for multi-factor authentication in the Resource Owner Password flow; with Adaptive MFA the event carries the risk assessment.', 'other'],
  ['mgmt_api_read', 1, 'Management API read Operation', 'A Management API GET that returns secrets succeeded.', 'management-success'],
  ['my_account_authentication_method_succeeded', 1, 'Successful authentication method operation in My Account API', 'An authentication method operation in the My Account API succeeded.', 'user-success'],
  ['oidc_backchannel_logout_succeeded', 1, 'Successful OIDC Back-Channel Logout request', 'An OIDC Back-Channel Logout request succeeded.', 'auth-logout-success'],
  ['organization_member_added', 1, 'Organization Member Added', 'A member was added to an organization.', 'other'],
  ['passkey_challenge_started', 1, 'Passkey Challenge Started', 'A native passkey challenge began.', 'other'],
  ['pla', 1, 'Pre-login assessment', 'Logged before a login to show how bot detection would judge it, without bot detection being enforced.', 'other'],
  ['resource_cleanup', 1, 'Success Resource Cleanup', 'Resources beyond their configured limits were removed.', 'other'],
  ['scv', 1, 'Success Credential Validation', 'Credentials were validated.', 'auth-login-notification'],
  ['sdel', 1, 'Successful Delegated Login', 'A delegated login succeeded.', 'auth-login-success'],
  ['sdeleacft', 1, 'Successful Delegated Authorization Code Exchange', 'A delegated authorization code was exchanged for an access token.', 'auth-token-exchange-success'],
  ['sdelsa', 1, 'Successful Delegated Silent Authentication', 'A delegated silent authentication succeeded.', 'auth-silent-auth-success'],
  ['secte', 1, 'Success Exchange', 'A Custom Token Exchange succeeded.', 'auth-token-exchange-success'],
  ['sede', 1, 'Success Exchange', 'A device code was exchanged for an access token.', 'auth-token-exchange-success'],
  ['sepkoobft', 1, 'Success Exchange', 'A passkey and out-of-band challenge were exchanged for an access token.', 'auth-token-exchange-success'],
  ['sepkotpft', 1, 'Success Exchange', 'A passkey and one-time password challenge were exchanged for an access token.', 'auth-token-exchange-success'],
  ['sepkrcft', 1, 'Success Exchange', 'A passkey and MFA recovery code were exchanged for an access token.', 'auth-token-exchange-success'],
  ['seta', 1, 'Success Exchange', 'A token exchange at Token Vault succeeded.', 'auth-token-exchange-success'],
  ['si', 1, 'Successfully accepted a user invite', 'A user accepted an invitation.', 'other'],
  ['srrt', 1, 'Successfully revoked a refresh token', 'A refresh token was revoked.', 'user-success'],
  ['ss_sso_info', 1, 'Information from an SS-SSO Operation', 'A Self-Service SSO test connection flow started or finished.', 'user-notification'],
  ['ss_sso_success', 1, 'Success SS-SSO Operation', 'A Self-Service SSO operation succeeded.', 'user-success'],
  ['sscim', 1, 'Successful SCIM Operation', 'A SCIM provisioning operation succeeded.', 'scim-event'],
  ['success_on_behalf_of_token_exchange', 1, 'Success Exchange', 'An On-Behalf-Of token exchange succeeded.', 'auth-token-exchange-success'],
  ['universal_logout_succeeded', 1, 'Successful Universal Logout request', 'A Universal Logout request succeeded.', 'auth-logout-success'],
];

function toInfo([code, level, name, description, category]: Row): LogTypeInfo {
  const info: LogTypeInfo = category === undefined ? { code, name, description, level } : { code, name, description, level, category };
  return Object.freeze(info);
}

function buildTable(groups: readonly (readonly Row[])[]): Record<string, LogTypeInfo> {
  // A null prototype keeps inherited names such as "constructor" or "__proto__" from resolving to anything.
  const table = Object.create(null) as Record<string, LogTypeInfo>;
  for (const row of groups.flat()) {
    const info = toInfo(row);
    // Two rows for one code would silently let the later level win; refuse to load instead.
    if (Object.hasOwn(table, info.code)) throw new Error(`log-types: duplicate code ${info.code}`);
    table[info.code] = info;
  }
  return Object.freeze(table);
}

export const LOG_TYPES: Readonly<Record<string, LogTypeInfo>> = buildTable([
  FROM_ORIGINAL,
  NEW_CRITICAL,
  NEW_ERROR,
  NEW_WARNING,
  NEW_INFO,
]);

// Sorted by UTF-16 code units rather than locale so the order is the same on every machine.
const SORTED: readonly LogTypeInfo[] = Object.freeze(
  Object.values(LOG_TYPES).sort((a, b) => (a.code < b.code ? -1 : a.code > b.code ? 1 : 0)),
);

/** The entry for a type code, or undefined when the code is not in the table. */
export function lookupLogType(code: string): LogTypeInfo | undefined {
  // Log events come from JSON, so a non-string `type` can reach here despite the signature.
  if (typeof code !== 'string' || !Object.hasOwn(LOG_TYPES, code)) return undefined;
  return LOG_TYPES[code];
}

export function allLogTypes(): readonly LogTypeInfo[] {
  return SORTED;
}
