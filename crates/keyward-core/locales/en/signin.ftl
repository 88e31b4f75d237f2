## Signing in: the first screen, the username step, the password step, the
## second step, the Sign in with … buttons and single sign-on's problems.

signin-start-title = Welcome
signin-start-heading = Welcome to keyward
signin-start-intro = Sign in with your username and password. If you were given an access code, use it first to set up your account.
signin-sign-in = Sign in
signin-use-a-code = Use a code
signin-with-passkey = Sign in with a passkey
signin-passkey-needs-js = Signing in with a passkey needs JavaScript, which is off or blocked in this browser.
signin-forgot-password = Forgot password?
signin-notice-password-reset = Your password has been changed. Sign in with your new password.
signin-notice-activated = Your account is ready. Sign in with the username and password you chose.
signin-notice-joined = You are in the class and your account is ready. Sign in with the username and password you chose.
signin-notice-step-expired = Your sign-in took too long or was already finished. Sign in again.

signin-username-title = Sign in
signin-username-intro = Type the username your school gave you or the one you chose.
signin-username = Username
signin-next = Next

signin-password-title = Enter your password
signin-signing-in-as = Signing in as { $username }
signin-not-you = Not you?
signin-password = Password
signin-password-missing = Enter your password.
# After a refusal that asks to wait: the core's message, then this.
signin-try-again-in = { $message } You can try again in { $seconds ->
    [one] 1 second
   *[other] { $seconds } seconds
}.

signin-verify-title = Two-step verification
signin-verify-recovery-intro = Enter one of the recovery codes you saved when you turned on two-step verification. Each code works once.
signin-verify-app-intro = Open your authenticator app and enter the 6-digit code it shows for keyward.
signin-verify-recovery-code = Recovery code
signin-verify-app-code = 6-digit code
signin-verify = Verify
signin-verify-use-app = Use your authenticator app
signin-verify-use-recovery = Use a recovery code
signin-verify-passkey-or = Or use one of your passkeys instead of a code.
signin-verify-passkey-only = Use one of your passkeys: your device asks for its screen lock, or for your security key.
signin-verify-passkey-needs-js = Using a passkey needs JavaScript, which is off or blocked in this browser.
signin-verify-passkey-switch-on = Switch it on (or use another browser) to finish signing in.
signin-verify-use-passkey = Use a passkey
signin-verify-cancel = Cancel and start again

sso-or-sign-in-with = Or sign in with your school's account:
sso-sign-in-with-school = Sign in with your school's account
sso-problem-try-again = Try again
sso-problem-use-password = Sign in with your keyward username and password
sso-problem-back-to-start = Back to the start page
sso-problem-nobody-signed-in = Nobody was signed in. Error { $status } · code { $code }
sso-heading-provider-unavailable = Your school's sign-in service did not answer
sso-heading-provider-error = Your school's sign-in service did not sign you in
sso-heading-token-invalid = The sign-in could not be checked
sso-heading-unknown-person = No keyward account to sign in to
sso-heading-role-not-allowed = Not for your role
sso-heading-provider-not-found = No such sign-in service
sso-heading-too-many = Too many sign-ins at once
sso-heading-other = This sign-in could not be finished
sso-sign-in-with = Sign in with { $provider }
sso-sign-in-with-at-school = Sign in with { $provider } ({ $school })
