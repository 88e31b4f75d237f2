## How each permission is named on pages (authz::Permission::message_id):
## the token form's checkboxes. Seed 001's words where it has them.

permission-users-view = View Users
permission-users-reset-password = Reset Passwords
permission-users-reset-mfa = Reset two-step sign-in
permission-users-manage = Manage users
permission-classes-manage = Manage classes
permission-learners-view = View learners
permission-learners-reset-password = Reset learner passwords
permission-credentials-export-class = Download a class's credentials
permission-credentials-export-school = Download the school's credentials
permission-audit-view = View the audit log
permission-roles-manage = Manage roles
permission-schools-manage = Manage schools
