## The administrators' pages: the users list, a person's page and the
## actions on it, the school's hub and settings, the audit log and the
## development inbox. Single sign-on's settings are in sso-admin.ftl.

## Words several of these pages share.
admin-none = none
admin-never = Never
admin-on = On
admin-off = Off
admin-cancel = Cancel
admin-save = Save
admin-clear-filters = Clear filters
admin-every-school = Every school
# Back to a person's page.
admin-back-to = Back to { $name }
# A person whose name could not be read.
admin-this-person = this person
# A person's facts, and the columns of the users list.
admin-field-name = Name
admin-field-username = Username
admin-field-email = Email
admin-field-role = Role
admin-field-school = School
admin-field-class = Class
admin-field-status = Status
admin-field-mfa = Two-step verification
admin-field-sso = Single sign-on
admin-field-last-sign-in = Last sign-in
# An account's status.
admin-status-pending = Waiting for the access code
admin-status-active = Active
admin-status-disabled = Disabled
# The username of someone who has not used their access code yet.
admin-username-not-chosen = not chosen yet
# Roles named for many people: "Learners must use it."
admin-roles-platform-admin = Platform admins
admin-roles-lead-teacher = Lead teachers
admin-roles-teacher = Teachers
admin-roles-learner = Learners
admin-roles-parent = Parents

## The users list (users_list.html).
admin-users-title = Users
admin-users-intro-school = Everyone at your school: find a person to see their account, help them back in or disable it.
admin-users-intro-all = Everyone in every school: find a person to see their account, help them back in or disable it.
admin-users-add = Add a person
admin-users-find-people = Find people
admin-users-search-label = Search by name, username or email
admin-users-any-role = Any role
admin-users-any-class = Any class
admin-users-any-status = Any status
admin-users-mfa-either = On or off
admin-users-search = Search
# $count picks the plural; $shown is the number as written (10,000).
admin-users-found = { $count ->
    [one] 1 person
   *[other] { $shown } people
} found
admin-users-showing = Showing { $first } to { $last }
admin-users-page-of = Page { $page } of { $pages }
admin-users-past-end = This page is past the end of the list.
admin-users-first-page = Go to the first page
admin-users-no-match = No one matches these filters.
admin-users-no-match-hint = Check the spelling, or search for part of a name, a username or an email address.
admin-users-nobody = No one is here yet.
admin-users-caption = People, by last name
# The badge of someone who signs in with single sign-on.
admin-users-sso-badge = SSO
admin-users-paging = Pages of the list
admin-users-previous = Previous page
admin-users-next = Next page

## Add a person (users_new.html).
admin-new-title = Add a person
# $button: the sign-in page's "Use a code", in bold.
admin-new-intro = They get an access code to choose their own username and password with { $button }.
admin-new-first-name = First name
admin-new-last-name = Last name
admin-new-classes = Classes (learners join them, teachers teach them)
admin-new-email = Email address (optional)
admin-new-email-hint = Staff need one to get password reset links by email.
admin-new-add = Add

## A person's page (users_show.html, user_admin_actions.html).
admin-person-intro = Their account at a glance, and what you can do for them.
admin-person-custom-role = (custom role)
admin-person-classes = Classes
admin-person-teaches = Teaches
admin-person-enrolled = Enrolled
admin-person-created = Created
# $state: On or Off.
admin-person-authenticator = Authenticator app: { $state }
admin-person-passkeys = Passkeys: { $count }
admin-person-sso-only = They sign in only with single sign-on: they have no keyward password.
admin-person-sso-caption = Providers { $name } signs in with
admin-person-provider = Provider
admin-person-linked = Linked
admin-person-last-used = Last used
admin-person-actions = Actions
admin-person-unlink = Unlink
admin-person-show-codes = Show access codes
# Followed by the code. $button: "Use a code", in bold.
admin-person-access-code = Access code (for { $button }, valid 30 days):
admin-person-parent-code = Parent access code:
admin-person-reset-password = Reset password
admin-person-reset-password-hint = Show their password, or give them a new one to sign in with.
admin-person-reissue = Issue a new access code
admin-person-reissue-hint = If they lost theirs. You confirm first: the old code stops working.
admin-person-disable = Disable account
admin-person-disable-hint = Signs them out everywhere and stops their sign-in, reset links and codes. You confirm first, and you can enable it again.
admin-person-enable = Enable account
admin-person-enable-hint = They can sign in again with their password. Someone who never chose one needs a new access code.
admin-person-notice-added = Added. Give them the access code: with it they choose their own username and password.
admin-person-notice-reissued = A new access code was issued; the old one no longer works.
admin-person-notice-disabled = The account is disabled. They were signed out everywhere, and their reset links and codes no longer work.
admin-person-notice-enabled = The account is enabled again.
admin-person-notice-unlinked = Unlinked. They can no longer sign in with that provider, and they were signed out everywhere.
admin-person-notice-no-way-in = Unlinked. They have no keyward password and no other way to sign in now: give them a temporary password (or, for a learner, Reset password) below.
admin-action-reset-password = Reset Password
admin-action-reset-password-hint = Emails them a link to choose a new password. Nothing changes until they use it.
admin-action-temporary = Set a temporary password
admin-action-temporary-hint = For someone without email: you give them a password, and they choose their own right after signing in with it.
admin-action-reset-mfa = Reset two-step verification
admin-action-reset-mfa-hint = For someone who lost their phone and their recovery codes: they sign in with their password alone until they turn it on again.

## Issue a new access code: its confirm page (user_admin_confirm.html).
admin-reissue-question = Issue a new access code for { $name }?
admin-reissue-stops = The code they have now stops working at once.
admin-reissue-where = The new one is on their page, under Show access codes: give it to them.

## The administrator actions' confirm pages, outcomes and refusals
## (user_admin_confirm.html, user_admin_done.html, user_admin_refused.html).
# $email: the masked address, or admin-reset-link-their-email; $ttl: "1 hour".
admin-reset-link-question = Send a password reset link to { $email }? It works for { $ttl }.
admin-reset-link-their-email = their email address
admin-reset-link-gets-email = { $name } gets an email with a link to choose a new password.
admin-reset-link-nothing-changes = Nothing changes until they use it: their password keeps working, and they stay signed in.
admin-reset-link-sent = A password reset link is on its way to { $email }. It works for { $ttl }.
admin-temporary-question = Give { $name } a new temporary password?
admin-temporary-stops = { $name }'s current password stops working now, and { $name } is signed out on every device.
admin-temporary-works-for = The new one works for { $ttl }, and they must choose their own right after signing in with it.
admin-temporary-seen-once = You see it once, on the next page: give it to them in person or by phone.
admin-temporary-is = Their temporary password is:
admin-temporary-done = Their temporary password works for { $ttl }. Give it to them in person or by phone; it is shown only now. After signing in with it they must choose their own.
admin-mfa-question = Remove { $name }'s two-step verification?
admin-mfa-stops = Their authenticator app, recovery codes and passkeys stop working now.
admin-mfa-signed-out = { $name } is signed out everywhere now, and we email them about it.
admin-mfa-password-alone = They sign in with their password alone until they turn it on again.
admin-mfa-done = Two-step verification was removed. They were signed out everywhere and we emailed them; they now sign in with their password alone.
admin-refused-what-you-can-do = What you can do
admin-refused-enable-mfa = Set up an authenticator app or a passkey in your Account Settings, then come back to { $name }'s page.
admin-refused-turn-on-mfa = Turn on two-step verification
# $button: the sign-in page's "Use a code", in bold.
admin-refused-access-code = Give them a new access code: with it they choose their own password at { $button }.
admin-refused-temporary = A temporary password works without email: you give it to them, and they choose their own right after signing in with it.
admin-refused-temporary-sso = A temporary password works without email, and even while { $provider } is unavailable: you give it to them, and they choose their own right after signing in with it.
# $section: "Single sign-on", in bold.
admin-refused-unlink-where = Unlinking is under { $section } on their page.

## Disable account (user_disable.html).
admin-disable-title = Disable the account of { $name }
admin-disable-heading = Disable the account of { $name }?
admin-disable-at-once = When you disable it, at once:
admin-disable-sessions = { $name }'s sessions end now: they are signed out on every device.
admin-disable-no-sign-in = They cannot sign in: the sign-in page tells them the username and password don't match.
admin-disable-links = Their password reset links, and any access code or parent access code not yet used, stop working.
admin-disable-kept = Their account, classes and details are kept. You can enable it again at any time.
admin-disable-keep = Keep it active

## Unlink a person's single sign-on provider (user_sso_unlink.html).
admin-unlink-provider = Unlink { $provider }
admin-unlink-title = Unlink { $provider } from { $name }
admin-unlink-heading = Unlink { $provider } from { $name }?
admin-unlink-no-longer = { $name } can no longer sign in with their { $provider } account.
admin-unlink-sessions = { $name }'s sessions end now: they are signed out on every device.
admin-unlink-again = If they sign in with { $provider } again later, they may be linked again.
admin-unlink-no-way-in = { $name } will have no way to sign in.
# $button: "Reset password", in bold.
admin-unlink-no-way-in-help = They have no keyward password, and { $provider } is the only way they sign in. After unlinking, give them a temporary password (or, for a learner, { $button }) on their page.
admin-unlink-keep = Keep it linked

## School settings (school_settings.html, school_setting_confirm.html).
admin-school-settings-title = School settings
admin-school-intro = How your school's people sign in: learner passwords, passkeys for learners, and who must use two-step verification.
admin-school-intro-lead-changes = Your lead teacher can change them.
admin-school-passwords-heading = Learner passwords
admin-school-passwords-about = When a teacher sets or generates a learner's password, keyward can keep a sealed (encrypted) copy, so teachers can show the learner their password again and print class lists. A password a learner chooses themselves is never kept, and neither are staff passwords.
admin-school-passwords-keep = Keep copies of learner passwords that staff set, so they can be shown again
admin-school-passwords-note = Switching this off destroys every copy kept so far: you confirm first.
admin-school-passwords-kept = Your school keeps copies of learner passwords.
admin-school-passwords-not-kept = Your school does not keep copies of learner passwords.
admin-school-passkeys-heading = Passkeys for learners
admin-school-passkeys-about = A passkey signs a person in with their device's screen lock instead of a password. Staff can always add passkeys. Learners often share devices, so their passkeys are off unless the school switches them on.
admin-school-passkeys-let = Let learners add and use passkeys
admin-school-passkeys-note = Switching this off removes every passkey learners have added: you confirm first.
admin-school-passkeys-save = Save passkeys setting
admin-school-passkeys-on = Learners at your school can use passkeys.
admin-school-passkeys-off = Learners at your school cannot use passkeys.
admin-school-mfa-heading = Two-step verification
admin-school-mfa-about = People who must use two-step verification are asked to set up an authenticator app or a passkey right after they sign in, and can do nothing else until they have.
admin-school-mfa-require = Require two-step verification for
# $roles: one role, named for many ("Learners").
admin-school-mfa-must = { $roles } must use it.
admin-school-mfa-nobody = Nobody has to use it; everyone may turn it on in Account Settings.
admin-school-notice-passwords-kept = Saved. From now on, passwords staff give learners can be shown again.
admin-school-notice-passwords-destroyed = Saved. keyward keeps no copies of learner passwords, and the copies it had are destroyed.
admin-school-notice-passkeys-on = Saved. Learners at your school can now add passkeys in Account Settings.
admin-school-notice-passkeys-off = Saved. Learners cannot use passkeys, and the passkeys they had are removed.
admin-school-notice-mfa = Saved. People in the roles you ticked are asked to turn on two-step verification when they next sign in.
# The breadcrumb of a confirm page.
admin-school-confirm = Confirm
admin-school-passwords-off-title = Stop keeping learner passwords?
admin-school-passwords-off-destroyed = Every copy kept so far is destroyed now: teachers can no longer show learners their passwords, and class lists are printed without them.
admin-school-passwords-off-keep-working = Learners' passwords keep working; only the copies go.
admin-school-passwords-off-again = If you switch it on again, only passwords staff set from then on are kept.
admin-school-passwords-off-button = Stop keeping copies
admin-school-passwords-off-cancel = Keep them
admin-school-passkeys-off-title = Switch off passkeys for learners?
admin-school-passkeys-off-removed = Every passkey learners have added is removed now.
admin-school-passkeys-off-password = Learners sign in with their password again; staff keep their passkeys.
admin-school-passkeys-off-again = If you switch it on again, learners add their passkeys again.
admin-school-passkeys-off-button = Switch off passkeys
admin-school-passkeys-off-cancel = Keep passkeys on

## Subscription management, the school's hub (subscription.html).
admin-hub-title = Subscription management
admin-hub-intro = { $school }'s hub: its people, classes, settings, single sign-on and exports, in one place.
admin-hub-people = People
admin-hub-users = Users
admin-hub-users-about = Everyone at the school: find a person, help them back in, or disable an account.
admin-hub-add = Add a person
admin-hub-add-about = A learner, teacher or parent, with an access code to set up their account.
admin-hub-import = Import learners
admin-hub-import-about = Many learners at once, from a spreadsheet saved as CSV.
admin-hub-students = Student database
admin-hub-students-about = Every learner of the school, with their classes: reset a password from here.
admin-hub-classes = Classes
admin-hub-class-database = Class database
admin-hub-class-database-about = Classes, their class codes and learners; reset a whole class.
admin-hub-sign-in = Passwords and sign-in
admin-hub-settings = School settings
admin-hub-settings-about = Whether teachers can show learners their passwords, passkeys for learners, and who must use two-step verification.
admin-hub-sso = Single sign-on
admin-hub-sso-about = Sign in with Google Workspace, Microsoft Entra or another OpenID Connect provider.
admin-hub-exports = Exports and records
admin-hub-accounts = User accounts
# $show and $download: the buttons of that page, in bold.
admin-hub-accounts-about = Every learner's username, password and access codes: { $show }, { $download }.
admin-hub-accounts-show = Show access codes
admin-hub-accounts-download = Download CSV
admin-hub-audit = Audit log
admin-hub-audit-about = Who did what, to whom and when; download it as CSV.

## The audit log (audit_log.html).
admin-audit-title = Audit log
admin-audit-intro-school = Who did what, to whom, from which address and when at your school: every sign-in, reset, change and export. Newest first.
admin-audit-intro-all = Who did what, to whom, from which address and when: every sign-in, reset, change and export. Newest first.
admin-audit-filter-label = Filter the audit log
admin-audit-person = Person
admin-audit-person-hint = A username or user id; rows where they acted or were acted on.
admin-audit-action = Action
# $example and $prefix: action names, shown as code.
admin-audit-action-hint = For example { $example }, or { $prefix } for every two-step action.
admin-audit-outcome = Outcome
# The three outcomes, shown as code.
admin-audit-outcome-hint = For example { $success }, { $failure } or { $denied }.
admin-audit-from = From
admin-audit-to = To
admin-audit-dates-hint = Dates are whole days in UTC (YYYY-MM-DD); both days are included.
admin-audit-filter = Filter
admin-audit-download = Download CSV
admin-audit-no-match = No entries match these filters.
admin-audit-no-match-hint = Try a wider range of dates, or fewer filters.
admin-audit-caption = Audit log entries
admin-audit-time = Time
admin-audit-actor = Actor
admin-audit-target = Target
admin-audit-address = Address
admin-audit-detail = Detail
# $token: the token's id, shown as code.
admin-audit-via-token = through API token { $token }
admin-audit-paging = Pages of the audit log
admin-audit-newer = Newer
admin-audit-older = Older

## The development inbox (dev_mail_list.html, dev_mail_message.html).
admin-mail-title = Captured mail
admin-mail-intro = The development inbox: email keyward wrote to its data folder instead of sending it, so you can follow a reset link without a mail server. Newest first.
admin-mail-none = No mail yet.
# Around a link named signin-forgot-password: "Ask for a password reset
# with Forgot password?, then reload this page."
admin-mail-none-ask = Ask for a password reset with
admin-mail-none-reload = , then reload this page.
admin-mail-caption = Captured messages, newest first
admin-mail-subject = Subject
admin-mail-to = To
admin-mail-from = From
admin-mail-sent = Sent
admin-mail-no-subject = (no subject)
admin-mail-one-message = One message
admin-mail-plain-text = Message (plain text)
admin-mail-all = All captured mail
