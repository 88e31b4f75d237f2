## Forgot password?: the request, "check your email" with the code, the
## reset page, a link that no longer works, "this wasn't me".

recovery-request-title = Forgot password
recovery-request-heading = Forgot password?
recovery-request-intro-both = Enter your registered email address and your username. Both are needed.
recovery-request-intro-email = Enter the email address of your account.
recovery-request-intro-username = Enter your username. If your account has an email address, we'll send you a link and a code to choose a new password.
recovery-email = Email address
recovery-username = Username
recovery-next = Next
recovery-send-reset-link = Send Reset Link
recovery-back-to-sign-in = Back to sign in

recovery-sent-title = Check your email
recovery-sent-status = If an account matches what you entered and has an email address, we have sent it a message with a link to choose a new password. The link works for { $ttl }.
recovery-sent-code-intro = Can't use the link? The same email has an 8-digit code. Type it here, on this device:
recovery-sent-code = Code from the email
recovery-sent-continue = Continue
recovery-sent-no-email = No email after a few minutes? Check your spam or junk folder. If your account has no email address, or you have never signed in, ask your teacher or your school's administrator to help you.
recovery-sent-send-another = Send another email

recovery-reset-title = Choose a new password
recovery-reset-for-account = For the account { $username }.
recovery-new-password = New password
recovery-confirm-password = Confirm new password
recovery-reset-password = Reset Password

recovery-sso-title = You sign in with { $provider }
recovery-sso-status = Your account has no keyward password to reset: you sign in with your { $provider } account.
recovery-sso-if-cannot = If you can't sign in with { $provider }, ask your school's administrator (or your teacher).


not-me-title = Secure your account
not-me-done-heading = Your account is secured
not-me-done-status = We have signed your account out everywhere and told your school's administrators. Choose a new password now so that only you can sign in.
not-me-done-email-changed = If your email address was changed, a reset link would go to the new address: ask your administrators for help instead.
not-me-heading = Wasn't you?
not-me-intro = If you did not make this change to your account, someone else may know your password. We can sign your account out on every device and tell your school's administrators.
not-me-button = Sign out everywhere and tell my administrators

link-problem-unknown = This link doesn't work
link-problem-expired = This link has expired
link-problem-used = This link has been used
link-problem-no-longer = This link no longer works
link-problem-request-new = Request a new link
link-problem-security-heading = This security link no longer works
link-problem-security-used = This link has already been used: your account was signed out everywhere and your administrators were told.
link-problem-security-expired = This link has expired.
link-problem-security-unknown = This link is not one of ours. Check that you copied all of it.
link-problem-security-advice = If you think someone else knows your password, choose a new one now and tell your school's administrator.
link-problem-choose-new-password = Choose a new password
