## The frame of every page (base.html, macros.html) and the shared pieces
## of forms. English is complete and the fallback of every language.

language-own-name = English
frame-skip-to-content = Skip to content
frame-menu = Menu
frame-home = Home
frame-account-settings = Account Settings
frame-sign-out = Sign out
# What a screen reader calls the menu, and the breadcrumbs of a deep page.
frame-main-menu = Main
frame-breadcrumb = Breadcrumb

## The menu's links by role (pages::menu_links), and the role under the name.
menu-users = Users
menu-class-database = Class database
menu-subscription-management = Subscription management
menu-your-children = Your children
menu-audit-log = Audit log
role-platform-admin = Platform admin
role-lead-teacher = Lead teacher
role-teacher = Teacher
role-learner = Learner
role-parent = Parent

## Forms: the problems above a form, a password field's Show button, the
## live list of a new password's rules (assets/app.js reads the data-* texts).
form-problems = Please fix these:
password-show = Show
# The button's accessible name: "Show new password".
password-show-named = Show { $field }
password-rules-title = Your new password needs:
password-rule-met = (done)
password-rule-not-met = (not yet)
password-strength-weak = Strength: weak
password-strength-fair = Strength: fair
password-strength-good = Strength: good
password-strength-strong = Strength: strong
password-hint-min = { $count ->
    [one] At least 1 character
   *[other] At least { $count } characters
}
password-hint-lower = A lowercase letter
password-hint-upper = An uppercase letter
password-hint-digit = A number
password-hint-nospecial = Only letters and numbers, no special characters
password-hint-username = Not your username
password-hint-common = Not a common password
# A password that breaks a rule (policy::Violation::message), under its field.
password-violation-too-short = Use at least { $min } characters.
password-violation-too-long = Use at most { $max } characters.
password-violation-missing-lowercase = Include a lowercase letter.
password-violation-missing-uppercase = Include an uppercase letter.
password-violation-missing-digit = Include a number.
password-violation-special-character = Use only letters and numbers (no special characters).
password-violation-common-password = This password is too common. Choose one that is harder to guess.
password-violation-contains-username = Don't use your username in your password.
password-violation-mismatch = The two passwords don't match.
password-violation-same-as-temporary = Choose a new password of your own, not the temporary one.

## Durations, as pages and emails say them.
duration-minutes = { $minutes ->
    [one] 1 minute
   *[other] { $minutes } minutes
}
duration-hours = { $hours ->
    [one] 1 hour
   *[other] { $hours } hours
}
# "2 hours 30 minutes": both already said by the two above.
duration-hours-minutes = { $hours } { $minutes }

## Error pages (middleware::render_errors): a heading in words for people.
error-heading-401 = Please sign in
error-heading-403 = This page is not open to you
error-heading-404 = We can't find that page
error-heading-400 = Something in that request was not right
error-heading-409 = That has changed in the meantime
error-heading-410 = That is no longer available
error-heading-429 = Please wait a moment
error-heading-503 = keyward is busy or being looked after
error-heading-500 = Something went wrong on our side
error-heading-other = That did not work
error-go-home = Go to your home page
error-go-sign-in = Go to sign in
error-for-support = If you ask someone for help, give them this:
error-for-support-status = error { $status }
error-for-support-request = request
