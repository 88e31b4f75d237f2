## Account Settings (/account) and its pages: Password, Email, Two-step
## verification, Sessions, Passkeys, API tokens. (Language is in
## language.ftl; the page's name is frame-account-settings.)

account-intro = Your password, email address and the ways you sign in.
# A single sign-on person's notice, around a link to their provider's sign-in:
# "You sign in with <Google>. keyward keeps no password …".
account-sso-sign-in-with = You sign in with
account-sso-looked-after = keyward keeps no password for you, so your password, email address, two-step verification and passkeys (which ask for a password) are looked after by { $provider } and your school.
# What a screen reader calls the list of sections.
account-sections = Account Settings sections
account-password = Password
account-password-about = Change the password you sign in with.
account-email = Email
account-email-about = Where password reset links go.
account-mfa = Two-step verification
account-mfa-on-about = On: signing in asks for a code from your app.
account-mfa-off-about = Off: signing in asks only for your password.
account-sessions = Sessions
account-sessions-about = Where you are signed in; sign out the others.
account-passkeys = Passkeys
account-passkeys-about = Sign in with your device's screen lock.
account-tokens = API tokens
account-tokens-about = Let a script or tool use keyward as you.
account-about-you = About you
account-name = Name
account-username = Username
account-role = Role
# No email address, no last use.
account-none = none
account-never = never
account-unknown = unknown

## Shared by the forms.
account-current-password = Current password
account-continue = Continue
account-done = Done
account-remove = Remove
account-keep-it = Keep it
account-actions = Actions
account-action = Action

## Password.
account-password-intro = Type your current password, then your new one twice.
account-password-must-change = Welcome! Your administrator gave you a temporary password. Please choose your own password now: type the temporary one as your current password, then your new password twice. Everything else opens as soon as you have.
account-password-sso = You sign in with { $provider }, which keeps your password. keyward has no password of yours to change: to change it, go to { $provider }, or ask your school.
account-new-password = New password
account-confirm-password = Confirm new password
account-update-password = Update Password
account-password-updated = Your password has been updated. Your other devices have been signed out.

## Email.
account-email-intro = The address keyward sends your password reset links to.
account-current-email = Current email address
account-email-help = To change it, type the new address and your current password; we will tell your previous address.
account-new-email = New email address
account-update-email = Update Email
account-email-updated = Your email address has been updated. We have told your previous address.
account-email-added = Your email address has been added.

## Two-step verification.
account-mfa-intro = A code from an app on your phone, asked after your password, so the password alone is not enough.
account-mfa-required = Your account must use two-step verification. Set up an authenticator app (or add a passkey) before you go on.
# In bold, followed by account-mfa-on-now.
account-mfa-on = On.
account-mfa-on-now = After your password, signing in asks for a code from your authenticator app.
account-mfa-codes-left = Recovery codes left
account-mfa-codes-left-of = { $left } of { $total }
account-mfa-few-codes = You have few recovery codes left. Get new ones before you run out.
account-mfa-new-codes = Get new recovery codes
account-mfa-new-codes-about = You will see ten new codes once. Your old recovery codes stop working. Enter your password and a code from your app (or one of your recovery codes).
account-mfa-code-or-recovery = Code from your app or a recovery code
account-mfa-turn-off = Turn off two-step verification
account-mfa-turn-off-about = Signing in would ask only for your password again. You will be asked for your password and a code first.
# In bold, followed by account-mfa-off-now.
account-mfa-off = Off.
account-mfa-off-now = Signing in asks only for your password.
account-mfa-set-up = Set up an authenticator app
account-mfa-set-up-about = With an authenticator app on your phone, signing in also asks for a 6-digit code that the app shows, so your password alone is not enough to sign in as you.
account-mfa-pending = You started a set-up that was not finished. Start again to get a new QR code.
account-mfa-turned-on = Two-step verification is on. Signing in now asks for a code from your app.
account-mfa-turned-off = Two-step verification is off. Signing in asks only for your password again.
account-mfa-new-codes-made = Here are your new recovery codes. The old ones no longer work.

## Recovery codes, shown once.
account-mfa-recovery-codes = Recovery codes
account-mfa-your-codes = Your recovery codes
account-mfa-codes-intro = If you lose your phone, sign in with one of these codes instead of a code from the app. Each code works once.
# In bold, followed by account-mfa-keep-safe-how.
account-mfa-keep-safe = Keep these codes safe now.
account-mfa-keep-safe-how = Save them in a password manager or print them and keep them somewhere only you can reach. keyward shows them only this once.
account-mfa-download = Download recovery codes

## Turning two-step verification off.
account-mfa-turn-off-crumb = Turn off
account-mfa-turn-off-question = Turn off two-step verification?
account-mfa-turn-off-intro = Your password alone would sign you in again.
account-mfa-turn-off-confirm = Two-step verification is on now. If you turn it off, signing in asks only for your password, and your { $count ->
    [one] 1 recovery code stops working.
   *[other] { $count } recovery codes stop working.
}
account-mfa-keep-on = Keep it on

## Setting up an authenticator app.
account-mfa-set-up-crumb = Set up
account-mfa-set-up-intro = Add keyward to the app on your phone, then type the code it shows.
account-mfa-scan = Open your authenticator app and add an account by scanning this QR code.
account-mfa-qr = QR code to scan with your authenticator app
account-mfa-type-key = Or type this key
account-mfa-key-kind = Time-based, 6 digits, a new code every 30 seconds.
# Followed by a link, account-mfa-open-in-app.
account-mfa-on-this-device = On this device?
account-mfa-open-in-app = Open it in your authenticator app
account-mfa-check-code = Enter the code the app shows, to check that it works.
# Followed by a link back to the start, account-mfa-start-again.
account-mfa-enter-now = Enter the code your authenticator app shows for keyward now. If you didn't add keyward to your app,
account-mfa-start-again = start again
account-mfa-code = Enter the 6-digit code from the app
account-mfa-turn-on = Turn on

## Sessions.
account-sessions-intro = The browsers and devices signed in to your account. If you don't recognise one, sign it out and change your password.
account-sessions-caption = Your active sessions
account-session-device = Device
account-session-address = Address
account-session-signed-in = Signed in
account-session-last-seen = Last seen
account-session-this-device = This device
account-session-sign-out = Sign out
account-sessions-sign-out-others = Sign out other sessions
account-sessions-this-device-only = You are signed in on this device only.
account-session-signed-out = That session has been signed out.
account-sessions-others-ended = { $count ->
    [0] There were no other sessions to sign out.
    [one] 1 other session has been signed out.
   *[other] { $count } other sessions have been signed out.
}
account-sessions-confirm-heading = Sign out { $count ->
    [one] 1 other session
   *[other] { $count } other sessions
}?
account-sessions-confirm-intro = This device stays signed in. The others will have to sign in again.
# $device in bold.
account-sessions-confirm-row = { $device }, { $address }, last seen { $ago }
account-sessions-keep-them = Keep them
# How long ago a session was last seen.
account-ago-just-now = just now
account-ago-minutes = { $count ->
    [one] 1 minute ago
   *[other] { $count } minutes ago
}
account-ago-hours = { $count ->
    [one] 1 hour ago
   *[other] { $count } hours ago
}
account-ago-days = { $count ->
    [one] 1 day ago
   *[other] { $count } days ago
}

## Passkeys.
account-passkeys-intro = Sign in with your fingerprint, face or device PIN instead of typing.
# $button is the first screen's button (signin-with-passkey), in bold.
account-passkeys-explained = A passkey lets you sign in with your device's screen lock (fingerprint, face or PIN) or a security key: on its own from the first screen with { $button }, or as the second step after your password. You can add one for each device you use.
account-your-passkeys = Your passkeys
account-no-passkeys = You have no passkeys yet.
account-passkey-name = Name
account-passkey-added = Added
account-last-used = Last used
account-passkey-remove-named = Remove { $name }
account-add-passkey = Add a passkey
account-passkeys-need-js = Adding a passkey needs JavaScript, which is off or blocked in this browser. Switch it on (or use another browser) to add one. Signing in with your password works without it.
account-passkey-name-label = Name of the passkey
account-passkey-name-hint = So you can tell your passkeys apart, for example "School laptop".
account-passkey-added-notice = Your passkey has been added. You can use it the next time you sign in.
account-passkey-removed-notice = The passkey has been removed.
account-passkey-remove-title = Remove a passkey
account-passkey-remove-heading = Remove the passkey "{ $name }"
account-passkey-remove-intro = Once removed, it no longer signs you in.
account-passkey-added-on = Added { $added }.
account-passkey-added-used = Added { $added }, last used { $used }.
account-passkey-remove-device = The device may still list it until you delete it there too.

## API tokens.
account-tokens-intro = Keys that let a script or your school's tools use keyward as you.
account-token-new = Your new token
# $header is shown as code, as it is.
account-token-new-hint = Copy it now and keep it somewhere safe: keyward keeps only a fingerprint of it and cannot show it again. Send it as { $header }.
account-tokens-explained = A token uses the keyward API with only the permissions you choose. Anyone holding it can do what it allows, so give it as little as it needs and revoke it when it is no longer used.
account-your-tokens = Your tokens
account-no-tokens = You have no tokens.
account-tokens-caption = Your API tokens
account-token-name = Name
account-token-id = Id
account-token-permissions = Permissions
account-token-scope = Scope
account-token-created = Created
account-token-expires = Expires
account-token-status = Status
account-token-owner = Owner
account-token-revoke = Revoke
account-tokens-managed = Tokens of people you manage
account-tokens-managed-caption = API tokens of people you manage
account-token-create = Create a token
account-tokens-nothing-to-give = Your account holds no permissions a token could use.
account-token-name-hint = So you can tell your tokens apart, for example "Timetable sync".
account-token-school = School
account-token-every-school = Every school
account-token-days = Expires after (days)
account-token-create-button = Create token
account-token-ready = Your token is ready. Copy it now: it will not be shown again.
# A token's scope: everything its owner may reach, or their school.
account-token-whole-scope = Your whole scope
account-token-your-school = Your school
account-token-status-active = active
account-token-status-expired = expired
account-token-status-revoked = revoked
account-token-revoke-title = Revoke a token
account-token-revoke-heading = Revoke “{ $name }”?
account-token-revoke-intro = Scripts and tools using it stop working at once.
# $id is shown as code.
account-token-revoke-about = This token is { $owner }'s (id { $id }; { $permissions }). Revoking cannot be undone; you can create a new token instead.
account-token-revoke-button = Revoke token

# A session's device on Sessions (browser and system are names: Chrome, Linux).
account-device-browser-on-system = { $browser } on { $system }
account-device-on-system = A browser on { $system }
account-device-unknown = Unknown device
