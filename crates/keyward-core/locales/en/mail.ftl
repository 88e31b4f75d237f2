## Emails (crates/keyward-core/templates/mail): subjects and lines, shared
## by the plain-text and the HTML part where they say the same. Arguments
## shown in bold in the HTML part are plain in the text part.

mail-hello = Hello { $name },
mail-hello-all = Hello,
mail-footer-html = This email was sent automatically by keyward. Please do not reply to it.
mail-footer-html-school = This email was sent automatically by keyward for { $school }. Please do not reply to it.
mail-footer-text = This email was sent automatically. Please do not reply to it.
mail-copy-address = Or copy this address into your browser: { $link }
mail-ignore = If you did not ask, you can ignore this email.
mail-someone-asked = someone (we hope you) asked to reset the password of the keyward account { $username }.
mail-nothing-to-do = If this was you, there is nothing more to do.
mail-not-me-button = This wasn't me

mail-test-subject = keyward can send email
mail-test-body = this is a test message from keyward. If you can read it, keyward can send email.
mail-test-open = Open keyward

mail-reset-subject = Reset your keyward password
mail-reset-by-admin = your administrator { $admin } asked keyward to send you this email, so that you can choose a new password for the keyward account { $username }.
mail-reset-button = Reset Password
mail-reset-link-works = The link works for { $ttl }, once.
mail-reset-open-link = To choose a new password, open this link (it works for { $ttl }, once):
mail-reset-code-html = Or type this code on the page you saw after asking (it works for { $ttl }):
mail-reset-code-text = If following the link is awkward on this device, type this code on the page you saw after asking (it works for { $ttl }):
mail-reset-ignore = If you did not ask, you can ignore this email: your password stays as it is.
mail-reset-by-admin-stopped = If the link has stopped working, ask your administrator again, or use Forgot password? on the sign-in page. Your current password keeps working until you choose a new one.

mail-contact-admin-subject = About resetting your keyward password
mail-contact-admin-body = This account cannot be reset by email yet, because it has never been signed in to. Please contact your system administrator (or your teacher) to reset your password.
mail-contact-admin-body-school = This account cannot be reset by email yet, because it has never been signed in to. Please contact your system administrator at { $school } (or your teacher) to reset your password.

mail-sso-subject = Sign in to keyward with { $provider }
mail-sso-no-password = This account has no keyward password: you sign in with { $provider }.
mail-sso-open-link = To sign in, open this link and use your { $provider } account:
mail-sso-cannot = If you cannot sign in with { $provider }, please contact your system administrator (or your teacher).
mail-sso-cannot-school = If you cannot sign in with { $provider }, please contact your system administrator at { $school } (or your teacher).

mail-password-changed-subject = Your keyward password was changed
mail-password-changed-body = the password of your keyward account { $username } was changed on { $when }. Two-step sign-in, if you use it, is unchanged.
mail-password-changed-act-html = If this wasn't you, act at once: this signs your account out everywhere and tells your school's administrators.
mail-password-changed-act-text = If this wasn't you, open this link at once. It signs your account out everywhere and tells your school's administrators:

mail-email-changed-subject = Your keyward email address was changed
mail-email-changed-body = the email address of your keyward account { $username } was changed on { $when }. keyward now writes to { $address } and no longer to this address: password reset links go there too.
mail-email-changed-act-html = If this wasn't you, someone else knows your password. Act at once: this signs your account out everywhere and tells your school's administrators, who can help you get your account back.
mail-email-changed-act-text = If this wasn't you, someone else knows your password. Open this link at once: it signs your account out everywhere and tells your school's administrators, who can help you get your account back.

mail-not-me-alert-subject = Security alert: { $username } reported a change they did not make
mail-not-me-alert-body = { $name } ({ $username }) reported on { $when } that a recent change to their keyward account (its password or its email address) was not made by them.
mail-not-me-alert-todo = keyward has signed the account out everywhere and stopped any open reset link. Please get in touch with them, check the account's recent activity in the audit log, and help them choose a new password. If their email address was changed, a reset link would now go to that new address, not to them.

mail-mfa-reset-subject = Two-step verification was removed from your keyward account
mail-mfa-reset-your-administrator = your administrator
mail-mfa-reset-body = your administrator { $admin } removed two-step verification from your keyward account { $username } on { $when }: its authenticator app, recovery codes and passkeys no longer work, and you were signed out everywhere.
mail-mfa-reset-again = You now sign in with your password alone. Please turn two-step verification on again in { $place } as soon as you can.
mail-mfa-reset-place = Account Settings > Two-step verification
mail-mfa-reset-not-asked = If you did not ask for this, tell your school's administrators at once.
