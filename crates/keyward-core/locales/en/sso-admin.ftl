## A school's single sign-on settings (sso_providers.html): the connected
## providers, the redirect URI with help for Google Workspace and Microsoft
## Entra, and Add provider.

ssoadmin-title = Single sign-on
ssoadmin-intro = Let { $school }'s people sign in with the school's Google Workspace, Microsoft Entra or other OpenID Connect account: connect a provider, or remove one.
ssoadmin-turn-on-mfa = Turn on two-step verification
# $button: "Sign in with …", in bold.
ssoadmin-about = Once a provider is connected, your people can use { $button } on the sign-in page instead of a keyward password. keyward still keeps their accounts, classes and codes.
ssoadmin-sign-in-with-button = Sign in with …
ssoadmin-notice-added = Provider connected. Its Sign in with … button is on the sign-in page now.
ssoadmin-notice-removed = Provider removed. Nobody signs in with it any more.
ssoadmin-connected = Connected providers
ssoadmin-none = No provider is connected yet.
# $form: "Add provider", in bold.
ssoadmin-none-hint = Copy the redirect URI below into your provider, then fill in { $form }.
ssoadmin-name = Name
ssoadmin-issuer = Issuer
ssoadmin-client-id = Client ID
ssoadmin-who-may-use = Who may use it
ssoadmin-jit = Accounts made just in time
ssoadmin-finds-by = Finds people by
ssoadmin-mfa = Two-step verification
ssoadmin-action = Action
ssoadmin-jit-none = None
ssoadmin-scopes-of = Scopes: { $scopes }
ssoadmin-trusts-mfa = Trusts the provider's two-step verification
ssoadmin-own-mfa = keyward asks for its own
ssoadmin-remove = Remove
# How the page names the claim people are found by.
ssoadmin-claim-email = Verified email address
ssoadmin-claim-preferred-username = Preferred username, the same as their keyward username
ssoadmin-claim-subject = Subject (sub), the same as their keyward username

ssoadmin-redirect-uri = Redirect URI
ssoadmin-redirect-uri-about = Every provider needs to know where to send people back. Copy this address into the provider's settings exactly as it is:
ssoadmin-google = Google Workspace
# The bold arguments are the names of the console's menus and choices.
ssoadmin-google-step-1 = In the Google Cloud console, open { $credentials }, choose { $create }, application type { $web }. Set the OAuth consent screen to { $internal }, so only your school's accounts can use it.
ssoadmin-google-credentials = APIs & Services → Credentials
ssoadmin-google-create = Create credentials → OAuth client ID
ssoadmin-google-web = Web application
ssoadmin-google-internal = Internal
ssoadmin-google-step-2 = Under { $uris }, add the redirect URI above.
ssoadmin-google-uris = Authorized redirect URIs
# $issuer and $scopes shown as code.
ssoadmin-google-step-3 = Copy the client ID and client secret into the form below. The issuer is { $issuer }; the scopes { $scopes }; find people by their verified email address.
ssoadmin-entra = Microsoft Entra
ssoadmin-entra-step-1 = In the Microsoft Entra admin center, open { $registrations }. Under { $uri }, choose the platform { $web } and paste the redirect URI above.
ssoadmin-entra-registrations = App registrations → New registration
ssoadmin-entra-web = Web
ssoadmin-entra-step-2 = In { $secrets }, add a { $new } and copy its { $value } (not its ID).
ssoadmin-entra-secrets = Certificates & secrets
ssoadmin-entra-new-secret = New client secret
ssoadmin-entra-value = Value
# $client_id in bold; $issuer and $scopes shown as code.
ssoadmin-entra-step-3 = The client ID is the { $client_id }; the issuer is { $issuer }; the scopes { $scopes }. Entra does not always say that an email address is verified: if your keyward usernames are the Microsoft sign-in names, find people by preferred username instead.
ssoadmin-entra-client-id = Application (client) ID
ssoadmin-entra-issuer = https://login.microsoftonline.com/<Directory (tenant) ID>/v2.0

ssoadmin-add = Add provider
ssoadmin-not-added = The provider was not added: see the field marked below.
ssoadmin-name-hint = The button says “Sign in with” and this name, for example Google.
ssoadmin-issuer-hint = The provider's https address, for example https://accounts.google.com.
ssoadmin-client-secret = Client secret
ssoadmin-client-secret-hint = keyward keeps it sealed and never shows it again.
ssoadmin-client-secret-hint-again = keyward keeps it sealed and never shows it again, so type it again.
ssoadmin-scopes = Scopes
ssoadmin-scopes-hint = Separated by spaces; openid is always asked for.
ssoadmin-claim-legend = Find people who are not linked yet by
ssoadmin-roles-legend = Who may sign in with it
ssoadmin-jit-legend = Make an account just in time for someone unknown who is a
ssoadmin-jit-hint = Leave all unticked to let only people who already have an account sign in. A new account gets the first ticked role.
ssoadmin-trust-mfa = Trust the provider's two-step verification (keyward does not ask again when the provider says it checked a second factor)

## Removing a provider (sso_provider_remove.html).
ssoadmin-remove-title = Remove a provider · Single sign-on
ssoadmin-remove-crumb = Remove { $provider }
ssoadmin-remove-heading = Remove “{ $provider }”?
# $button: "Sign in with <provider>", in bold.
ssoadmin-remove-nobody = Nobody can use { $button } from now on, and sign-ins through it that are under way stop.
# $claim: how people are found, in lower case ("verified email address").
ssoadmin-remove-links = The links between its accounts and keyward's are forgotten. If you connect it again later, people are found again by their { $claim }.
ssoadmin-remove-sso-only = People who sign in only with { $provider }
# After ssoadmin-remove-sso-only, in bold; a link to Users follows.
ssoadmin-remove-sso-only-help = — they have no keyward password — cannot sign in after this until they have one: give each a new access code or a temporary password from
ssoadmin-remove-users = Users
ssoadmin-remove-password-keep = People who also have a keyward password keep using it.
ssoadmin-remove-button = Remove provider
ssoadmin-remove-keep = Keep it

## Sign in with your school's account: every school's providers (sso_choices.html).
ssoadmin-choices-none = No school signs in with its own account yet. Sign in with your username and password instead.
ssoadmin-choices-intro = Find your school, then choose the account it gave you.
ssoadmin-choices-with-username = Sign in with a username
