## Use a code (access codes, parent access codes) and Join a class.

activate-code-title = Use a code
activate-code-intro = Type the access code you were given. Capital and small letters matter.
activate-code = Access code
activate-next = Next
activate-have-class-code = Have a class code? Join a class
activate-back-to-sign-in = Back to sign in

activate-account-title = Set up your account
activate-parent-heading = Make your parent account
activate-hello = Hello { $name }!
activate-parent-links = This code links your account to { $name }.
activate-choose = Choose the username and password you will sign in with.
activate-your-first-name = Your first name
activate-your-last-name = Your last name
activate-username = Username
activate-username-help = 3 to 64 letters, digits, dots, underscores or hyphens.
activate-email = Email address
activate-password = Password
activate-confirm-password = Confirm password
activate-create = Create my account

join-title = Join a class
join-intro = Type the class code your teacher showed you, then choose the username and password you will sign in with.
join-class-code = Class code
join-class-code-help = Capital or small letters both work, and spaces don't matter.
join-first-name = First name
join-last-name = Last name
join-username = Username
join-button = Join class
join-have-access-code = Have an access code? Use a code
