## The teachers' pages: breadcrumbs, the learner lists, a class and its
## code, the whole-class reset, a learner's password, User accounts and
## access codes, login cards, Import learners. Names, usernames, codes and
## passwords are data, never part of a message.

## Breadcrumbs and the links back (pages::trail).
# The crumb of a school's single sign-on page.
teacher-trail-single-sign-on = Single sign-on
# "Back to Class 4B": the page one up, by its name.
teacher-back-to = Back to { $page }
teacher-back-to-home = Back to home

## Words of several teachers' pages.
teacher-reset-password = Reset password
teacher-show-access-codes = Show access codes
teacher-user-accounts-title = User accounts
teacher-class-reset-title = Reset password for the whole class
teacher-student-database-title = Student database
teacher-class-database-title = Class database
teacher-reset = Reset
teacher-cancel = Cancel
teacher-download-csv = Download CSV
teacher-print-cards = Print cards
teacher-print-cards-help = Printing this page gives one login card per learner to cut out, with the address to sign in at.
# A learner's name where the list has none (nor a username).
teacher-no-name = (no name)
teacher-no-class = No class
teacher-signs-in-with = Signs in with { $provider }
# After a button's words, for screen readers: "Reset password for Amy Smith".
teacher-for-name = for { $name }

## The columns of the learner tables (headers, and the labels of a cell
## when a narrow screen stacks the table).
teacher-column-learner = Learner
teacher-column-username = Username
teacher-column-status = Status
teacher-column-actions = Actions
teacher-column-classes = Classes
teacher-column-class = Class
teacher-column-password = Password
teacher-column-new-password = New password
teacher-column-password-status = Password status
teacher-column-access-code = Access code
teacher-column-parent-access-code = Parent access code
teacher-column-row = Row
teacher-column-first-name = First name
teacher-column-last-name = Last name
teacher-column-column = Column
teacher-column-problem = Problem

## A learner's password state (User accounts, a learner's password).
teacher-username-not-chosen = not chosen yet
teacher-password-state-retrievable = Can be shown
teacher-password-state-private = Private: chosen by the learner
teacher-password-state-not-kept = Not kept
teacher-password-state-pending = Not set up yet
teacher-password-state-sso = Signs in with single sign-on
teacher-password-state-retrievable-explained = You can show this learner their password.
teacher-password-state-private-explained = The learner has chosen a private password. Only they know it; you can give them a new one.
teacher-password-state-not-kept-explained = Your school keeps no copies of learner passwords, so it can't be shown. You can give them a new one.
teacher-password-state-pending-explained = The learner hasn't set up their account yet: give them their access code.
teacher-password-state-sso-explained = The learner signs in with their school account (single sign-on) and has no keyward password to show or reset.

## Class database (/classes).
teacher-class-database-intro = Your classes, each with its class code and learners. Reset one learner's password here, or the whole class's at once.
teacher-class-database-empty = You have no classes yet. Your school's lead teacher can add you to a class.
teacher-class-database-code = Class code:
teacher-class-database-code-off = switched off
teacher-learner-count = { $count ->
    [one] 1 learner
   *[other] { $count } learners
}
# For screen readers, after "User accounts": "of Class 4B".
teacher-class-database-accounts-of = of { $class }
teacher-class-database-no-learners = No learners yet. They join with the class code.
teacher-learners-of = Learners of { $class }

## A class's page (/classes/{id}) and its class code.
teacher-class-intro = The class code to show on the board, and the learners of { $class }.
teacher-class-code-heading = Class code
# $url is where learners type the code; $join the button on their home page.
teacher-class-code-how = New learners go to { $url } and type this code to make their account in { $class }. Learners who already have an account type it under { $join } on their home page.
teacher-class-code-join-button = Join another class
teacher-class-code-switched-off = Switched off.
teacher-class-code-switched-off-explained = Nobody can join { $class } with this code until you switch it on again.
teacher-class-code-none = This class has no class code yet.
teacher-class-code-regenerate = Regenerate code
teacher-class-code-switch-off = Switch off
teacher-class-code-switch-on = Switch on
teacher-class-code-new-code-help = A new code works at once and the old one stops working. Learners already in the class stay in it.
teacher-class-learners-heading = Learners ({ $count })
teacher-class-no-learners = No learners in { $class } yet. They join with the class code above.
teacher-class-code-notice-regenerated = This class has a new code. The old code no longer works.
teacher-class-code-notice-switched-off = The class code is switched off. Nobody can join with it.
teacher-class-code-notice-switched-on = The class code is switched on. Learners can join with it.
teacher-class-code-choose-action = Choose Regenerate code, Switch off or Switch on.

## Regenerate code and Switch off ask first.
teacher-class-code-regenerate-heading = Give { $class } a new class code?
teacher-class-code-switch-off-heading = Switch off the class code of { $class }?
teacher-class-code-regenerate-explained = { $class } gets a new code at once. The code { $code } stops working: learners who have not joined yet need the new one.
teacher-class-code-regenerate-explained-no-code = { $class } gets a new code at once. The old code stops working: learners who have not joined yet need the new one.
teacher-class-code-switch-off-explained = Nobody can join { $class } with its code { $code } until you switch it on again.
teacher-class-code-switch-off-explained-no-code = Nobody can join { $class } with its code until you switch it on again.
teacher-class-code-learners-stay = Learners already in the class stay in it.
teacher-class-code-keep = Keep this code
teacher-class-code-keep-on = Keep it on

## Student database (/school/students).
teacher-student-database-intro = Every learner of { $school }, with their classes. Reset a learner's password here, or show the access code of one who has not set up their account.
teacher-student-database-intro-your-school = Every learner of your school, with their classes. Reset a learner's password here, or show the access code of one who has not set up their account.
teacher-student-database-empty = No learners yet. Add them one by one in Users, or import a class list.
teacher-student-database-all = All learners ({ $count })
teacher-student-database-caption = Every learner of the school

## Reset password for the whole class: the form.
teacher-class-reset-heading = Reset password for { $class }
teacher-class-reset-intro = A new password for every learner of { $class } at once: the same one for all, or one each.
teacher-class-reset-pending = { $count ->
    [one] 1 learner hasn't set up their account yet: they keep their access code and are left alone.
   *[other] { $count } learners haven't set up their account yet: they keep their access code and are left alone.
}
teacher-class-reset-sso = { $count ->
    [one] 1 learner signs in with their school account (single sign-on) and has no keyward password: they are left alone.
   *[other] { $count } learners sign in with their school account (single sign-on) and have no keyward password: they are left alone.
}
teacher-class-reset-new-passwords = New passwords
teacher-class-reset-same = The same password for every learner
teacher-class-reset-same-password = Password for every learner (optional)
teacher-class-reset-show-same-password = Show password for every learner
teacher-class-reset-same-password-help = Leave it blank to have one generated. It is used only with “The same password for every learner”.
teacher-class-reset-rules-title = A password you choose needs:
teacher-class-reset-hint-username = Not the username of a learner in the class
teacher-class-reset-individual = A new password for each learner
teacher-class-reset-confirm = { $count ->
    [one] 1 learner gets a new password when you press Reset.
   *[other] { $count } learners get a new password when you press Reset.
}
teacher-class-reset-confirm-signed-out = Their old password stops working at once and they are signed out.
teacher-class-reset-choose-mode = Choose how to reset: the same password for every learner, or a new password for each learner.
teacher-class-reset-contains-username = It contains the username of a learner in this class.

## Reset password for the whole class: the new passwords.
teacher-class-reset-result-title = New passwords
teacher-class-reset-result-heading = New passwords for { $class }
teacher-class-reset-result-count = { $count ->
    [one] 1 learner has a new password.
   *[other] { $count } learners have a new password.
}
teacher-class-reset-result-same = They all share the same password.
teacher-class-reset-result-individual = Each learner has their own password.
teacher-class-reset-result-signed-out = Their old passwords no longer work, and they have been signed out.
# $reset and $codes are the buttons' words.
teacher-class-reset-result-kept = You can show each learner's password again later, with { $reset } on the learner or { $codes } for the class.
teacher-class-reset-result-note-now = Note these passwords now.
teacher-class-reset-result-not-kept = Your school keeps no copies of learner passwords, so they can't be shown again once you leave this page.
teacher-class-reset-result-pending-heading = Not reset: no account yet
teacher-class-reset-result-pending = { $count ->
    [one] This learner hasn't set up their account yet, so there is no password to reset. Give them their access code instead.
   *[other] These learners haven't set up their account yet, so there is no password to reset. Give them their access code instead.
}
teacher-class-reset-result-sso-heading = Signs in with single sign-on
teacher-class-reset-result-sso = { $count ->
    [one] This learner signs in with their school account and has no keyward password, so nothing was changed for them.
   *[other] These learners sign in with their school account and have no keyward password, so nothing was changed for them.
}
teacher-class-reset-result-sso-learner = { $name }: signs in with { $provider }

## A learner's Reset password (/learners/{id}/password).
teacher-learner-password-title = Reset password for { $name }
teacher-learner-password-who = { $name }, username { $username }
teacher-learner-password-is-now = { $name }'s password is now:
teacher-learner-password-tell = Tell { $name } their username and this password. They can sign in with it now.
teacher-learner-password-note-now = Note it down now:
teacher-learner-password-not-kept = your school keeps no copy, so it can't be shown again.
teacher-print-card = Print card
teacher-learner-password-print-help = Printing this page gives { $name }'s login card, with the address to sign in at.
teacher-learner-password-sso = { $name } signs in with their { $provider } account (single sign-on) and has no keyward password, so there is nothing to show or reset here. If they can't sign in, their school's { $provider } administrator can help.
teacher-learner-password-now-heading = Their password now
teacher-learner-password-is = { $name }'s password is:
teacher-learner-password-show = Show password
teacher-learner-password-new-above = It is the new password above.
teacher-learner-password-give-heading = Give a new password
teacher-learner-password-new-for = New password for { $name }
# $button is the Reset button's words.
teacher-learner-password-nothing-yet = Nothing has changed yet. Press { $button } to give { $name } this password.
teacher-learner-password-generate-another = Generate another
teacher-learner-password-generate = Generate new password
teacher-learner-password-choose-heading = Or choose a password
teacher-learner-password-chosen = Password for { $name }
teacher-learner-password-rules-title = { $name }'s password needs:
teacher-learner-password-hint-username = Not their username
teacher-learner-password-set = Set this password
teacher-learner-password-missing = Type a password, or press Generate new password.

## User accounts and Show access codes (/classes/{id}/accounts, /school/accounts).
teacher-access-codes-title = Access codes
teacher-user-accounts-intro-class = The learners, their usernames and whether their passwords can be shown: { $class }, { $school }.
teacher-user-accounts-intro-school = The learners, their usernames and whether their passwords can be shown: { $school }.
teacher-access-codes-intro-class = Usernames, passwords and access codes to hand out: { $class }, { $school }.
teacher-access-codes-intro-school = Usernames, passwords and access codes to hand out: { $school }.
teacher-access-codes-recorded = Access codes are shown to you now. Each time they are shown or downloaded, it is recorded.
teacher-access-codes-hand-out = Give each learner their username and password, or their access code if they haven't set up their account yet. Parents use the parent access code to link to their child.
teacher-access-codes-hide = Hide access codes
teacher-user-accounts-empty = No learners yet.
teacher-user-accounts-caption = Learner accounts of { $scope }
teacher-access-codes-caption = Usernames, passwords and access codes of { $scope }
teacher-none = none
teacher-access-codes-withheld = Not shown: this learner holds rights you don't.
teacher-user-accounts-legend = Why a password may be blank
teacher-access-codes-expire = An access code works once and only for 30 days. If a learner waiting to set up their account has none, give them a fresh one from their page.

## Login cards, printed: what a learner reads.
teacher-login-cards = Login cards
teacher-login-card-where = Sign in at { $address }
# $button is the words of the sign-in page's button.
teacher-login-card-how = Choose { $button } and type your access code:
teacher-login-card-username = Username
teacher-login-card-password = Password
teacher-login-card-ask-for-code = Ask your teacher for a new access code.
teacher-login-card-own-password = Password: the one you chose.
teacher-login-card-ask-for-password = Ask your teacher for your password.

## Import learners (/schools/{id}/roster).
teacher-roster-title = Import learners
teacher-roster-intro = Make accounts for a whole list of learners of { $school } from one CSV file, each with an access code to hand out.
teacher-roster-imported = { $count ->
    [one] Imported 1 learner into { $school }.
   *[other] Imported { $count } learners into { $school }.
}
teacher-roster-new-classes = { $count ->
    [one] New class: { $classes }.
   *[other] New classes: { $classes }.
}
# $access, $button, $parent and $codes are shown in bold: the two codes,
# the sign-in page's button and the staff's button.
teacher-roster-codes-once = Each learner uses their { $access } with { $button } to choose a username and password; parents use the { $parent }. The codes are shown all together only here, once: print this page or copy them now. Staff can show a learner's codes again later with { $codes }.
teacher-roster-access-code = access code
teacher-roster-parent-access-code = parent access code
teacher-roster-print = Print
teacher-roster-created-caption = Learners created, in the order of the file
teacher-roster-chosen-later = chosen later
teacher-roster-import-another = Import another file
teacher-roster-refused = { $count ->
    [one] The roster was not imported: fix the problem below and upload it again. Nothing was changed.
   *[other] The roster was not imported: fix the { $count } problems below and upload it again. Nothing was changed.
}
teacher-roster-no-file = Choose the roster file to upload.
teacher-roster-problems-caption = Problems in the file
teacher-roster-whole-file = whole file
teacher-roster-more-problems = … and { $count } more. Fix these and upload the file again to see the rest.
teacher-roster-file = Roster file (CSV)
# $learners is already written with its thousands separator.
teacher-roster-file-help = A CSV file saved as UTF-8, at most { $megabytes } MB and { $learners } learners. Every learner is imported, or none: a file with a problem is refused whole.
teacher-roster-the-file = The file
teacher-roster-file-rows = The first row names the columns, in any order; each further row is one learner.
# $save_as is the spreadsheet's menu item; $format the file type to pick
# (both shown in bold).
teacher-roster-file-save-as = In a spreadsheet, use { $save_as } → { $format }.
teacher-roster-save-as = Save as
# The file type as spreadsheets name it in their Save as list.
teacher-roster-csv-utf-8 = CSV UTF-8
teacher-roster-column-first-last-name = Required.
teacher-roster-column-class = Required. A class the school does not have yet is created, with a class code.
teacher-roster-column-username = Optional. Kept for the learner, who may keep it when they use their access code; it must be free.
teacher-roster-column-email = Optional.
# $equals, $plus, $minus and $at are the characters themselves.
teacher-roster-no-formulas = No cell may start with { $equals }, { $plus }, { $minus } or { $at }: spreadsheets run such cells as formulas.
teacher-roster-example-intro = An example:
# A roster file as the page shows it: the first line is the columns'
# names, which stay as they are; the learners and classes may be the
# language's own.
teacher-roster-example =
    first_name,last_name,class,username,email
    Ada,Lovelace,Class 6,ada.lovelace,
    Alan,Turing,Class 6,,
    Grace,Hopper,Class 7,,grace.family@example.org
teacher-roster-too-large = The file is larger than { $megabytes } MB. Split the roster into several files.
teacher-roster-upload-incomplete = The upload was incomplete. Go back, reload the page and try again.
teacher-roster-not-a-file-upload = This form must be sent by a browser as a file upload.
